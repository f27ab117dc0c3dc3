//! The CPU an in-process agent uses: thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) spent inside
//! polls of the agent's tasks, added to one counter per agent. The sim's in-process runtime
//! runs an agent under [`metered`]; the tasks the agent spawns to work deliveries run under
//! [`inherit`] and count towards the same agent. Outside the sim (a `fleetctl agent`
//! process) no counter is set and both are plain pass-throughs.
//!
//! Thread CPU time is the CPU the agent's own code used on a runtime thread; wall time per poll
//! would also count time the thread was preempted. Not counted: blocking-pool work (file
//! writes), the agent's metrics server and state writer, and the shared broker connection's
//! I/O thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

tokio::task_local! {
    static COUNTER: Arc<AtomicU64>;
}

/// A future whose polls add the polling thread's CPU time to a counter.
pub struct Metered<F> {
    inner: Pin<Box<F>>,
    cpu: Arc<AtomicU64>,
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let t0 = thread_cpu_ns();
        let r = self.inner.as_mut().poll(cx);
        let spent = thread_cpu_ns().saturating_sub(t0);
        self.cpu.fetch_add(spent, Ordering::Relaxed);
        r
    }
}

/// Runs `fut` with its CPU time added to `cpu`, and `cpu` as the counter of what it spawns
/// under [`inherit`].
pub fn metered<F: Future>(cpu: Arc<AtomicU64>, fut: F) -> Metered<impl Future<Output = F::Output>> {
    Metered {
        inner: Box::pin(COUNTER.scope(cpu.clone(), fut)),
        cpu,
    }
}

/// `fut`, to be spawned by the task running now: metered to the same counter when there is
/// one.
pub fn inherit<F: Future>(
    fut: F,
) -> futures::future::Either<Metered<impl Future<Output = F::Output>>, F> {
    match COUNTER.try_with(Arc::clone) {
        Ok(cpu) => futures::future::Either::Left(metered(cpu, fut)),
        Err(_) => futures::future::Either::Right(fut),
    }
}

/// CPU time of the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burn(ms: u64) {
        let t0 = thread_cpu_ns();
        let mut x = 0u64;
        while thread_cpu_ns() - t0 < ms * 1_000_000 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    #[tokio::test]
    async fn spawned_work_counts_towards_the_agent() {
        let cpu = Arc::new(AtomicU64::new(0));
        metered(cpu.clone(), async {
            burn(20);
            tokio::spawn(inherit(async { burn(30) })).await.unwrap();
        })
        .await;
        let ns = cpu.load(Ordering::Relaxed);
        assert!(ns >= 50_000_000, "{ns}");
        // Outside a metered agent nothing is counted.
        tokio::spawn(inherit(async { burn(1) })).await.unwrap();
        assert!(cpu.load(Ordering::Relaxed) < 200_000_000);
    }
}
