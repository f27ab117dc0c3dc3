//! Seed throughput against a local RabbitMQ, beside two references measured in the same run:
//!
//! - `fleetctl seed`: the library path the command takes (task JSON, ids, confirms, window).
//! - `bare confirmed`: a minimal lapin loop publishing a fixed body with publisher confirms and
//!   a large in-flight window: the practical ceiling for durable, confirmed publishing here.
//! - `bare unconfirmed`: the same loop without confirms: the broker's raw intake.
//!
//! Rounds interleave the three so that drift on a shared machine hits them alike; each queue is
//! purged between runs. Medians and the ratio to the bare confirmed publisher are printed.
//!
//! `cargo bench --bench seed_throughput` (needs RabbitMQ on 127.0.0.1:5672, or
//! `FLEETCTL_AMQP_URL`); `SEED_BENCH_COUNT` and `SEED_BENCH_ROUNDS` change the size.

use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueuePurgeOptions};
use lapin::{BasicProperties, Channel};

use fleetctl::queue::amqp::{Broker, SeedPlan, seed};
use fleetctl::queue::task::Template;
use fleetctl::queue::topology::Topology;

const QUEUE: &str = "fleetctl-bench-seed";
const WINDOW: usize = 4096;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn bare(channel: &Channel, count: u64, confirms: bool) -> f64 {
    // The same bytes fleetctl publishes (body and properties), built once.
    let task = Template::new("demo", 5, 1000).task(uuid::Uuid::new_v4(), 1, jiff::Timestamp::now());
    let body = serde_json::to_vec(&task).unwrap();
    let props = BasicProperties::default()
        .with_message_id(task.id.to_string().into())
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_timestamp(task.created_at.as_second() as u64)
        .with_type(task.kind.as_str().into());
    let started = Instant::now();
    let mut in_flight: FuturesUnordered<lapin::PublisherConfirm> = FuturesUnordered::new();
    for _ in 0..count {
        if in_flight.len() >= WINDOW {
            in_flight.next().await.unwrap().unwrap();
        }
        let c = channel
            .basic_publish(
                "".into(),
                QUEUE.into(),
                BasicPublishOptions::default(),
                &body,
                props.clone(),
            )
            .await
            .unwrap();
        if confirms {
            in_flight.push(c);
        }
    }
    while let Some(r) = in_flight.next().await {
        r.unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let count = env_or("SEED_BENCH_COUNT", 100_000);
    let rounds = env_or("SEED_BENCH_ROUNDS", 5) as usize;
    let url = std::env::var("FLEETCTL_AMQP_URL")
        .unwrap_or_else(|_| fleetctl::cli::DEFAULT_AMQP_URL.to_string());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let broker = match Broker::connect(&url, "fleetctl-bench").await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("seed_throughput: skipped: {e}");
                return;
            }
        };
        let topo = Topology::new(QUEUE).unwrap();
        let confirmed = broker.channel().await.unwrap();
        broker.declare(&confirmed, &topo).await.unwrap();
        confirmed
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let unconfirmed = broker.channel().await.unwrap();
        let plan = SeedPlan {
            topology: topo,
            templates: vec![Template::new("demo", 5, 1000)],
            count,
            window: WINDOW,
        };
        let purge = || async {
            let ch = broker.channel().await.unwrap();
            ch.queue_purge(QUEUE.into(), QueuePurgeOptions::default())
                .await
                .unwrap();
        };
        let (mut s, mut c, mut u, mut ratio) = (vec![], vec![], vec![], vec![]);
        for round in 0..rounds {
            purge().await;
            let r = seed(&broker, &plan, |_| {}, std::future::pending()).await.unwrap();
            assert!(r.ok(), "{r:?}");
            purge().await;
            let bc = bare(&confirmed, count, true).await;
            purge().await;
            let bu = bare(&unconfirmed, count, false).await;
            println!(
                "round {round}: seed {:.0}/s  bare confirmed {bc:.0}/s  bare unconfirmed {bu:.0}/s",
                r.msgs_per_sec
            );
            ratio.push(r.msgs_per_sec / bc);
            s.push(r.msgs_per_sec);
            c.push(bc);
            u.push(bu);
        }
        purge().await;
        println!(
            "median of {rounds} x {count} msgs: seed {:.0} msgs/s, bare confirmed {:.0} msgs/s, bare unconfirmed {:.0} msgs/s, seed/bare-confirmed {:.2}",
            median(&mut s),
            median(&mut c),
            median(&mut u),
            median(&mut ratio)
        );
        let ch = broker.channel().await.unwrap();
        let _ = ch
            .queue_delete(QUEUE.into(), Default::default())
            .await;
        let _ = ch
            .queue_delete(format!("{QUEUE}.dlq").as_str().into(), Default::default())
            .await;
    });
}
