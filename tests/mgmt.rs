//! `queue::mgmt` against RabbitMQ's real management API: ready, unacked and consumers of a queue
//! with messages held by a consumer; a refused login and a closed port, without the password in
//! the message.
//!
//! The management API samples every 5 s by default, so readings are polled until they settle.

mod common;

use std::time::Duration;

use common::*;
use fleetctl::queue::amqp::{Broker, publish_durably};
use fleetctl::queue::mgmt::{MgmtClient, MgmtError};
use fleetctl::queue::topology::Topology;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;

#[tokio::test(flavor = "multi_thread")]
async fn reads_ready_unacked_and_consumers_of_a_real_queue() {
    if !require_mgmt("reads_ready_unacked_and_consumers_of_a_real_queue") {
        return;
    }
    install_crypto();
    let url = amqp_url();
    let topo = Topology::new(&unique_queue("mgmt")).unwrap();
    let broker = Broker::connect(&url, "fleetctl-test").await.unwrap();
    let ch = broker.channel().await.unwrap();
    broker.declare(&ch, &topo).await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for i in 0..10 {
        let body = format!("task {i}");
        publish_durably(&ch, &topo.queue, body.as_bytes(), Default::default())
            .await
            .unwrap();
    }

    // A consumer holds 3 deliveries unacked (prefetch 3).
    let consumer_ch = broker.channel().await.unwrap();
    consumer_ch
        .basic_qos(3, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = consumer_ch
        .basic_consume(
            topo.queue.as_str().into(),
            "mgmt-test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let d = tokio::time::timeout(Duration::from_secs(10), consumer.next())
            .await
            .expect("a delivery within 10 s")
            .expect("the consumer is open")
            .unwrap();
        held.push(d);
    }

    let mgmt = MgmtClient::new(None, &url).unwrap();
    assert_eq!(mgmt.base_url(), "http://127.0.0.1:15672");
    // RabbitMQ's statistics reach the management API in samples: the publish rate can be in
    // one before the deliver rate is, so both are waited for (30 s at most).
    let q = settle(&mgmt, &topo.queue, |q| {
        q.ready == 7
            && q.unacked == 3
            && q.consumers == 1
            && q.publish_rate.is_some()
            && q.deliver_rate.is_some()
    })
    .await;
    assert_eq!(q.messages(), 10);
    assert!(q.deliver_rate.is_some(), "{q:?}");

    // The queue and its DLQ at once, as the console asks; nothing was ever published to the DLQ.
    let both = mgmt.queues(&[topo.queue.clone(), topo.dlq.clone()]).await;
    assert_eq!(both.len(), 2);
    let dlq = both[&topo.dlq].as_ref().unwrap();
    assert_eq!((dlq.ready, dlq.unacked, dlq.consumers), (0, 0, 0));
    assert_eq!((dlq.publish_rate, dlq.deliver_rate), (None, None));
    assert_eq!(both[&topo.queue].as_ref().unwrap().ready, 7);

    let missing = unique_queue("mgmt-missing");
    let e = mgmt.queue(&missing).await.unwrap_err();
    assert!(matches!(e, MgmtError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains(&missing), "{e}");

    drop(held);
    broker.close().await;
    delete_queue(&topo.queue);
    delete_queue(&topo.dlq);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_unauthorised_and_not_shown() {
    if !require_mgmt("a_wrong_password_is_unauthorised_and_not_shown") {
        return;
    }
    ensure_test_user();
    let wrong = "Wrong-pw-4a7Qz";
    let url = format!("amqp://{TEST_USER}:{wrong}@127.0.0.1:5672/%2f");
    let mgmt = MgmtClient::new(None, &url).unwrap();
    let e = mgmt.queue("agent-tasks").await.unwrap_err();
    assert!(matches!(e, MgmtError::Unauthorized { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(TEST_USER), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!format!("{e:?}").contains(wrong), "{e:?}");
    assert!(!text.contains('\n'), "{text}");

    // The same through an explicit API URL carrying the wrong password.
    let api = format!("http://{TEST_USER}:{wrong}@127.0.0.1:15672");
    let mgmt = MgmtClient::new(Some(&api), &amqp_url()).unwrap();
    let e = mgmt.queue("agent-tasks").await.unwrap_err();
    assert!(matches!(e, MgmtError::Unauthorized { .. }), "{e}");
    assert!(!e.to_string().contains(wrong), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unused_port_is_unreachable() {
    // No broker needed: the port is one nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let api = format!("http://127.0.0.1:{port}");
    let mgmt = MgmtClient::new(Some(&api), "amqp://guest:Pw-unused-77@127.0.0.1:5672/%2f").unwrap();
    let e = mgmt.queue("agent-tasks").await.unwrap_err();
    assert!(matches!(e, MgmtError::Unreachable { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&api), "{text}");
    assert!(text.contains("rabbitmq_management"), "{text}");
    assert!(!text.contains("Pw-unused-77"), "{text}");
}
