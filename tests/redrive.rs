//! `fleetctl redrive` and `queue::redrive` against the real broker: dead letters go back to
//! their queue with body, properties and headers kept, the attempt counter dropped and the
//! redrive counted; `--max` bounds the move; a missing queue moves nothing.

mod common;

use common::*;
use fleetctl::queue::amqp::{Broker, publish_durably};
use fleetctl::queue::redrive::redrive;
use fleetctl::queue::topology::{
    ATTEMPTS_HEADER, REASON_HEADER, REDRIVEN_HEADER, Topology, attempts, header_count,
    with_attempts, with_reason,
};
use lapin::BasicProperties;
use lapin::options::ConfirmSelectOptions;
use lapin::types::{AMQPValue, ShortString};

fn rt() -> tokio::runtime::Runtime {
    install_crypto();
    tokio::runtime::Runtime::new().unwrap()
}

/// Declares `<queue>` and its DLQ and puts `n` dead letters in the DLQ, as the agent leaves them:
/// a reason, an attempt counter, a header of the task's own.
async fn dead_letters(topo: &Topology, n: usize) {
    let broker = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
    let ch = broker.channel().await.unwrap();
    broker.declare(&ch, topo).await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for i in 0..n {
        let mut props = BasicProperties::default()
            .with_message_id(format!("task-{i}").into())
            .with_content_type("application/json".into());
        props = with_reason(with_attempts(props, 3), "step 2 failed");
        let mut headers = props.headers().clone().unwrap_or_default();
        headers.insert(
            ShortString::from("x-trace"),
            AMQPValue::LongString(format!("trace-{i}").into()),
        );
        props = props.with_headers(headers);
        let body = format!("{{\"n\":{i}}}");
        publish_durably(&ch, &topo.dlq, body.as_bytes(), props)
            .await
            .unwrap();
    }
    broker.close().await;
}

/// Takes every message off `queue` (auto-ack): body and properties, in order.
async fn take_all(queue: &str) -> Vec<(String, BasicProperties)> {
    common::agent::take_all(queue)
        .await
        .into_iter()
        .map(|(body, props)| (String::from_utf8_lossy(&body).into_owned(), props))
        .collect()
}

async fn ready(queue: &str) -> u32 {
    let broker = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
    let d = broker.depth(queue).await.unwrap();
    broker.close().await;
    d.ready
}

fn header_str(p: &BasicProperties, key: &str) -> Option<String> {
    match p.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        other => Some(format!("{other:?}")),
    }
}

fn cleanup(topo: &Topology) {
    delete_queue(&topo.queue);
    delete_queue(&topo.dlq);
}

#[test]
fn redrive_moves_every_dead_letter_back_with_fresh_retries() {
    if !require_broker("redrive_moves_every_dead_letter_back_with_fresh_retries") {
        return;
    }
    let topo = Topology::new(&unique_queue("redrive")).unwrap();
    let rt = rt();
    rt.block_on(dead_letters(&topo, 5));
    assert_eq!(rt.block_on(ready(&topo.dlq)), 5);

    let r = run(fleetctl().args([
        "redrive",
        "--amqp-url",
        &amqp_url(),
        "--queue",
        &topo.queue,
        "-o",
        "json",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(report["moved"], 5, "{report}");
    assert_eq!(report["left"], 0, "{report}");
    assert_eq!(report["from"], topo.dlq.as_str());
    assert_eq!(report["to"], topo.queue.as_str());
    assert!(
        !r.all().contains(":guest@"),
        "the password is masked: {}",
        r.all()
    );

    assert_eq!(rt.block_on(ready(&topo.dlq)), 0, "the DLQ is empty");
    let moved = rt.block_on(take_all(&topo.queue));
    assert_eq!(moved.len(), 5);
    for (i, (body, p)) in moved.iter().enumerate() {
        assert_eq!(
            body,
            &format!("{{\"n\":{i}}}"),
            "bodies unchanged, in order"
        );
        assert_eq!(
            p.message_id().as_ref().map(|s| s.to_string()),
            Some(format!("task-{i}"))
        );
        assert_eq!(
            p.content_type().as_ref().map(|s| s.to_string()).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            header_str(p, "x-trace").as_deref(),
            Some(format!("trace-{i}").as_str())
        );
        assert_eq!(
            header_str(p, REASON_HEADER).as_deref(),
            Some("step 2 failed")
        );
        assert!(header_str(p, ATTEMPTS_HEADER).is_none(), "{p:?}");
        assert_eq!(attempts(p), 0);
        assert_eq!(header_count(p, REDRIVEN_HEADER), 1);
    }
    cleanup(&topo);
}

#[test]
fn max_bounds_the_move_and_text_output_says_what_is_left() {
    if !require_broker("max_bounds_the_move_and_text_output_says_what_is_left") {
        return;
    }
    let topo = Topology::new(&unique_queue("redrive-max")).unwrap();
    let rt = rt();
    rt.block_on(dead_letters(&topo, 5));

    let r = run(fleetctl().args([
        "redrive",
        "--amqp-url",
        &amqp_url(),
        "-q",
        &topo.queue,
        "--max",
        "2",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains(&format!("moved 2 from '{}' to '{}'", topo.dlq, topo.queue)),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("3 left in '{}'", topo.dlq)),
        "{}",
        r.stdout
    );
    assert_eq!(rt.block_on(ready(&topo.queue)), 2);
    assert_eq!(rt.block_on(ready(&topo.dlq)), 3);

    // The first two went, in order; a second redrive moves the rest.
    let report = rt.block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let r = redrive(&b, &topo.dlq, &topo.queue, None).await.unwrap();
        b.close().await;
        r
    });
    assert_eq!((report.moved, report.left), (3, 0));
    let bodies: Vec<String> = rt
        .block_on(take_all(&topo.queue))
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(
        bodies,
        (0..5).map(|i| format!("{{\"n\":{i}}}")).collect::<Vec<_>>()
    );
    cleanup(&topo);
}

#[test]
fn a_missing_queue_moves_nothing_and_names_the_queue() {
    if !require_broker("a_missing_queue_moves_nothing_and_names_the_queue") {
        return;
    }
    let topo = Topology::new(&unique_queue("redrive-missing")).unwrap();
    let rt = rt();
    rt.block_on(dead_letters(&topo, 2));
    delete_queue(&topo.queue);

    let r = run(fleetctl().args(["redrive", "--amqp-url", &amqp_url(), "--queue", &topo.queue]));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains(&format!("queue '{}' does not exist", topo.queue)),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert_eq!(rt.block_on(ready(&topo.dlq)), 2, "nothing left the DLQ");

    // A queue without a DLQ.
    let lonely = unique_queue("redrive-nodlq");
    let e = rt.block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let e = redrive(&b, &format!("{lonely}.dlq"), &topo.dlq, None)
            .await
            .unwrap_err();
        b.close().await;
        e
    });
    assert!(e.to_string().contains(&format!("'{lonely}.dlq'")), "{e}");
    assert!(e.to_string().contains("does not exist"), "{e}");
    delete_queue(&topo.dlq);
}
