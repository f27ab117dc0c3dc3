//! The task queue: what a task message is ([`task`]), how the queue and its dead-letter queue
//! are declared ([`topology`]), and the RabbitMQ client ([`amqp`]) that seeds and measures it.

pub mod amqp;
pub mod error;
pub mod task;
pub mod topology;

pub use error::QueueError;
