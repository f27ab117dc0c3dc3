//! `local.json`: what a running stack is and where (written once it is ready, 0600 since the
//! AMQP URL holds a password), read by `--local` commands that find the stack running. When
//! the stack stops it becomes `last-run.json`, from which the next start takes its addresses,
//! so that kubeconfigs, Secrets and open consoles keep pointing at the right ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BrokerKind;

const CURRENT: &str = "local.json";
const LAST: &str = "last-run.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The process that started the stack.
    pub pid: u32,
    /// The local cluster's API, `https://127.0.0.1:PORT`.
    pub server: String,
    pub kubeconfig: PathBuf,
    /// The broker's AMQP URL, with its credentials.
    pub amqp_url: String,
    /// The embedded broker's management API, when it serves one.
    pub mgmt_url: Option<String>,
    pub broker: BrokerKind,
}

impl Recorded {
    /// The address the cluster listened on.
    pub fn listen(&self) -> SocketAddr {
        self.server
            .trim_start_matches("https://")
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The embedded broker's AMQP address (None for RabbitMQ).
    pub fn amqp_addr(&self) -> Option<SocketAddr> {
        if self.broker != BrokerKind::Embedded {
            return None;
        }
        let url = url::Url::parse(&self.amqp_url).ok()?;
        format!("{}:{}", url.host_str()?, url.port()?).parse().ok()
    }
}

/// Writes `local.json` (atomically, 0600).
pub fn record(dir: &Path, r: &Recorded) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?;
    crate::fsutil::write_atomic(&dir.join(CURRENT), &bytes)
}

/// The running stack's record, when there is one.
pub fn read(dir: &Path) -> Option<Recorded> {
    let bytes = std::fs::read(dir.join(CURRENT)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The record of the last run (stopped or killed), for its addresses.
pub fn last_run(dir: &Path) -> Option<Recorded> {
    read(dir).or_else(|| {
        let bytes = std::fs::read(dir.join(LAST)).ok()?;
        serde_json::from_slice(&bytes).ok()
    })
}

/// The stack stopped: its record becomes the last run's.
pub fn forget(dir: &Path) {
    let _ = std::fs::rename(dir.join(CURRENT), dir.join(LAST));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_becomes_the_last_run_when_forgotten() {
        let dir = std::env::temp_dir().join(format!("fleetctl-state-{}", uuid::Uuid::new_v4()));
        let r = Recorded {
            pid: 7,
            server: "https://127.0.0.1:40123".into(),
            kubeconfig: dir.join("kubeconfig"),
            amqp_url: "amqp://guest:guest@127.0.0.1:5673/%2f".into(),
            mgmt_url: Some("http://127.0.0.1:15673".into()),
            broker: BrokerKind::Embedded,
        };
        record(&dir, &r).unwrap();
        assert_eq!(read(&dir), Some(r.clone()));
        assert_eq!(r.listen().port(), 40123);
        assert_eq!(r.amqp_addr().map(|a| a.port()), Some(5673));
        forget(&dir);
        assert_eq!(read(&dir), None);
        assert_eq!(last_run(&dir), Some(r));
        let _ = std::fs::remove_dir_all(dir);
    }
}
