//! The `fleetctl` binary: install the TLS provider, parse flags, run the command, map the
//! outcome to an exit code (0 ok, 1 failure, 2 bad usage).

use std::process::ExitCode;

/// jemalloc rather than the C library's allocator. The sim's request path allocates and frees
/// small JSON values from both runtime threads: glibc's malloc and free were ~20% of its CPU
/// while 10,000 pods started, and a Job of 10,000 agents reaches all Running in ~0.7x the time
/// (BENCHMARKS.md). An idle sim's RSS stays flat with it, as it did not with mimalloc. Tests
/// and benchmarks that run the sim inside their own process keep the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // kube, reqwest and lapin all speak rustls; pin the process-wide provider to ring before any
    // client is built, or rustls cannot pick one and the first TLS handshake panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    fleetctl::commands::main()
}
