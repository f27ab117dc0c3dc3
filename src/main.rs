//! The `fleetctl` binary: install the TLS provider, parse flags, run the command, map the
//! outcome to an exit code (0 ok, 1 failure, 2 bad usage).

use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: the sim's request path allocates and frees
/// small JSON values from both runtime threads, where glibc's malloc spent ~18% of the sim's CPU
/// while 10,000 pods were created.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // kube, reqwest and lapin all speak rustls; pin the process-wide provider to ring before any
    // client is built, or rustls cannot pick one and the first TLS handshake panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    fleetctl::commands::main()
}
