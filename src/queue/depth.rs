//! Queue-depth readings for `status` and the console: which queues a fleet model names, and a
//! reader that asks RabbitMQ for their depth (passive declare: ready messages and consumers,
//! SPEC-k8s.md §6) over one connection it keeps between readings.
//!
//! A broker that cannot be reached, a missing queue or a refused permission is reported per
//! queue in [`QueueReport::errors`], never as a failure of the whole reading.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::amqp::Broker;
use super::error::QueueError;
use crate::fleet::delta::FleetDelta;
use crate::fleet::objects::QueueStats;

/// The connection name a reader uses unless told otherwise.
const DEFAULT_CONNECTION_NAME: &str = "fleetctl";

/// One reading of a set of queues.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueReport {
    /// When the reading ended.
    pub at: Timestamp,
    /// The depth of every queue that could be read.
    pub stats: BTreeMap<String, QueueStats>,
    /// Why each other queue could not be read: one line, password masked.
    pub errors: BTreeMap<String, String>,
}

impl QueueReport {
    fn empty() -> Self {
        QueueReport {
            at: Timestamp::now(),
            stats: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }

    /// One [`FleetDelta::Queue`] per queue read, for the model.
    pub fn deltas(&self) -> Vec<FleetDelta> {
        self.stats
            .iter()
            .map(|(queue, stats)| FleetDelta::Queue {
                queue: queue.clone(),
                stats: stats.clone(),
            })
            .collect()
    }
}

/// Reads queue depths, connecting on first use. A connection-level failure drops the connection
/// so that the next reading connects again; a missing queue or a refused permission closes only
/// the channel it was asked on, so the connection is kept.
pub struct QueueReader {
    url: String,
    name: String,
    enabled: bool,
    broker: Option<Broker>,
}

impl QueueReader {
    /// A reader of the broker at `url`; a disabled reader reads nothing and reports nothing.
    pub fn new(url: &str, enabled: bool) -> Self {
        QueueReader {
            url: url.to_string(),
            name: DEFAULT_CONNECTION_NAME.to_string(),
            enabled,
            broker: None,
        }
    }

    /// Names the connection `name` in the broker's management views.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether a connection is open (kept from an earlier reading).
    pub fn connected(&self) -> bool {
        self.broker.is_some()
    }

    /// The depth of each of `queues`. Never fails as a whole: what could not be read is in
    /// [`QueueReport::errors`].
    pub async fn read(&mut self, queues: &[String]) -> QueueReport {
        let mut report = QueueReport::empty();
        if !self.enabled || queues.is_empty() {
            return report;
        }
        if self.broker.is_none() {
            match Broker::connect(&self.url, &self.name).await {
                Ok(b) => self.broker = Some(b),
                Err(e) => {
                    let why = e.to_string();
                    for n in queues {
                        report.errors.insert(n.clone(), why.clone());
                    }
                    report.at = Timestamp::now();
                    return report;
                }
            }
        }
        let Some(broker) = &self.broker else {
            return report;
        };
        let mut lost = false;
        for name in queues {
            match broker.depth(name).await {
                Ok(d) => {
                    report.stats.insert(
                        name.clone(),
                        QueueStats {
                            ready: u64::from(d.ready),
                            consumers: u64::from(d.consumers),
                            at: Timestamp::now(),
                        },
                    );
                }
                Err(e) => {
                    lost |= connection_lost(&e);
                    report.errors.insert(name.clone(), e.to_string());
                }
            }
        }
        if lost && let Some(b) = self.broker.take() {
            b.close().await;
        }
        report.at = Timestamp::now();
        report
    }

    /// Closes the connection, if one is open.
    pub async fn close(mut self) {
        if let Some(b) = self.broker.take() {
            b.close().await;
        }
    }
}

/// Whether `e` leaves the connection unusable: everything but a missing queue or a refused
/// permission, which close only their channel.
fn connection_lost(e: &QueueError) -> bool {
    !matches!(
        e,
        QueueError::QueueNotFound { .. } | QueueError::Forbidden { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::model::Model;
    use crate::fleet::objects::{JobSummary, Labels, Object};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn job(name: &str, queue: Option<&str>) -> FleetDelta {
        let labels = Labels::from([("app".into(), "ai-agent".into())]);
        FleetDelta::Upsert(Object::Job(JobSummary {
            name: name.into(),
            namespace: "agents".into(),
            labels,
            queue: queue.map(String::from),
            ..Default::default()
        }))
    }

    #[test]
    fn fleet_queues_are_sorted_and_unique() {
        let mut m = Model::new("agents");
        for (name, q) in [
            ("a", Some("q2")),
            ("b", Some("q1")),
            ("c", Some("q2")),
            ("d", None),
        ] {
            m.apply(job(name, q), t(0));
        }
        assert_eq!(m.fleet_queues(), vec!["q1".to_string(), "q2".to_string()]);
    }

    #[test]
    fn a_report_gives_one_delta_per_queue_read() {
        let stats = |ready| QueueStats {
            ready,
            consumers: 1,
            at: t(1),
        };
        let report = QueueReport {
            at: t(2),
            stats: BTreeMap::from([("a".into(), stats(3)), ("b".into(), stats(0))]),
            errors: BTreeMap::from([("c".into(), "gone".into())]),
        };
        let d = report.deltas();
        assert_eq!(d.len(), 2);
        assert!(
            matches!(&d[0], FleetDelta::Queue { queue, stats } if queue == "a" && stats.ready == 3)
        );
        let mut m = Model::new("agents");
        m.apply(job("x", Some("a")), t(0));
        for delta in d {
            m.apply(delta, report.at);
        }
        let f = m.fleets().next().unwrap();
        assert_eq!(f.queue_stats.as_ref().map(|s| s.ready), Some(3));
    }

    #[tokio::test]
    async fn a_disabled_reader_reads_nothing() {
        let mut r = QueueReader::new("amqp://guest:secret@127.0.0.1:1/%2f", false);
        let report = r.read(&["q".into()]).await;
        assert!(report.stats.is_empty() && report.errors.is_empty());
        assert!(!r.connected());
    }

    #[tokio::test]
    async fn an_unreachable_broker_is_an_error_per_queue_with_the_password_masked() {
        // Nothing listens on port 1.
        let mut r = QueueReader::new("amqp://guest:secret@127.0.0.1:1/%2f", true);
        let report = r.read(&["q1".into(), "q2".into()]).await;
        assert!(report.stats.is_empty());
        assert_eq!(report.errors.len(), 2, "{report:?}");
        for e in report.errors.values() {
            assert!(e.contains("cannot reach RabbitMQ"), "{e}");
            assert!(!e.contains("secret"), "{e}");
        }
        assert!(!r.connected());
        // Nothing to read: no connection attempt, no error.
        assert!(r.read(&[]).await.errors.is_empty());
    }

    #[test]
    fn only_connection_errors_drop_the_connection() {
        let url = "amqp://guest:***@h/%2f".to_string();
        assert!(!connection_lost(&QueueError::QueueNotFound {
            url: url.clone(),
            queue: "q".into()
        }));
        assert!(!connection_lost(&QueueError::Forbidden {
            url: url.clone(),
            what: "x".into(),
            detail: "y".into()
        }));
        assert!(connection_lost(&QueueError::Broker {
            url,
            what: "x".into(),
            reason: "closed".into()
        }));
    }
}
