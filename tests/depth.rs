//! `queue::depth::QueueReader` against the real broker: depths of existing queues, a missing
//! queue reported on its own while the connection stays open.

mod common;

use common::*;
use fleetctl::fleet::delta::FleetDelta;
use fleetctl::queue::depth::QueueReader;

#[tokio::test(flavor = "multi_thread")]
async fn reads_depths_and_keeps_the_connection_past_a_missing_queue() {
    if !require_broker("reads_depths_and_keeps_the_connection_past_a_missing_queue") {
        return;
    }
    install_crypto();
    let q = unique_queue("depth");
    seed(&q, 4, 1, 1, None);
    let dlq = format!("{q}.dlq");
    let missing = unique_queue("depth-missing");

    let mut reader = QueueReader::new(&amqp_url(), true).named("fleetctl-test");
    let names = vec![q.clone(), dlq.clone(), missing.clone()];
    let report = reader.read(&names).await;
    assert_eq!(report.stats[&q].ready, 4, "{report:?}");
    assert_eq!(report.stats[&q].consumers, 0);
    assert_eq!(report.stats[&dlq].ready, 0);
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(
        report.errors[&missing].contains("does not exist"),
        "{report:?}"
    );
    assert!(reader.connected(), "a missing queue keeps the connection");
    let deltas = report.deltas();
    assert_eq!(deltas.len(), 2);
    assert!(
        deltas
            .iter()
            .all(|d| matches!(d, FleetDelta::Queue { queue, .. } if *queue == q || *queue == dlq))
    );

    // The same connection serves the next reading.
    let again = reader.read(std::slice::from_ref(&q)).await;
    assert_eq!(again.stats[&q].ready, 4);
    assert!(again.errors.is_empty());
    reader.close().await;
    delete_queue(&q);
    delete_queue(&dlq);
}
