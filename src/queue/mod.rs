//! The task queue: what a task message is ([`task`]), how the queue and its dead-letter queue
//! are declared ([`topology`]), the RabbitMQ client ([`amqp`]) that seeds and measures it,
//! queue-depth readings for `status` and the console ([`depth`]), the management HTTP API
//! reader ([`mgmt`]): ready and unacked messages, consumers and rates, and moving dead letters
//! back to their queue ([`redrive`]).

pub mod amqp;
pub mod depth;
pub mod error;
pub mod mgmt;
pub mod redrive;
pub mod task;
pub mod topology;

pub use error::QueueError;
