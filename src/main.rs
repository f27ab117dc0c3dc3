//! The `fleetctl` binary: install the TLS provider, parse flags, run the command, map the
//! outcome to an exit code (0 ok, 1 failure, 2 bad usage).

use std::process::ExitCode;

fn main() -> ExitCode {
    // kube, reqwest and lapin all speak rustls; pin the process-wide provider to ring before any
    // client is built, or rustls cannot pick one and the first TLS handshake panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    fleetctl::commands::main()
}
