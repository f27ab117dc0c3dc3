//! `fleetctl agent`: the reference agent worker that the bundled manifests run.
//!
//! - [`worker`]: the consume loop (prefetch, breaker, reconnects, signals).
//! - `task`: one delivery run to its outcome (resume, steps, result, retry, dead letter).
//! - [`executor`]: what a task step is (`sim` or an OpenAI-compatible `http` endpoint).
//! - [`checkpoint`]: per-task checkpoints and results on the shared volume, written atomically.
//! - [`telemetry`]: Prometheus metrics and the `/metrics`, `/healthz`, `/readyz` server;
//!   [`accept`]: its accept loop, which backs off when descriptors run out.
//! - [`launch`]: an agent from its flags and environment (the command, and the sim's in-process
//!   runtime).
//! - [`output`]: where its log lines go (stdout, or an in-process agent's container log).
//! - [`cpu`]: the CPU time an in-process agent's tasks use (the sim's resource metrics).
//!
//! Results are recorded as files (`results/<task_id>.json` in the checkpoint directory) rather
//! than on a results queue: the checkpoint volume is already shared and durable, a file write
//! needs no second broker round trip before the ack, and the same directory is where a
//! redelivered task is recognised as done.

pub mod accept;
pub mod checkpoint;
pub mod cpu;
pub mod executor;
pub mod launch;
pub mod output;
mod task;
pub mod telemetry;
pub mod worker;
