//! `fleetctl broker` out of file descriptors: failed accepts back off (10 ms doubling to 1 s)
//! with a rate-limited warning instead of spinning, and the broker serves again once
//! descriptors are free. A pool of broker connections dials one broker without holding up
//! the users of another, and counts its users right.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

/// CPU time (user + system) of a process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn running_out_of_descriptors_backs_off_and_recovers() {
    let bin = env!("CARGO_BIN_EXE_fleetctl");
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -n 64 && exec {bin} broker --listen 127.0.0.1:0 --no-http"),
        ])
        .env("RUST_LOG", "fleetctl=warn")
        .env_remove("FLEETCTL_AMQP_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("amqp="))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    // More sockets than the broker may hold: it runs out, and the rest wait in the backlog.
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    assert!(
        held.len() >= 64,
        "only {} connections were made",
        held.len()
    );
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(child.id()) - before;
    // Spinning on EMFILE would burn a whole core (300 ticks in 3 s); backing off costs a few.
    assert!(
        used < 100,
        "the broker used {used} ticks of CPU while out of descriptors"
    );

    drop(held);
    let url = format!("amqp://guest:guest@{addr}/%2f");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let depth = rt.block_on(async {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match fleetctl::queue::amqp::Broker::connect(&url, "fleetctl-test").await {
                Ok(b) => {
                    let ch = b.channel().await.unwrap();
                    let topo = fleetctl::queue::topology::Topology::new("limits").unwrap();
                    b.declare(&ch, &topo).await.unwrap();
                    let d = b.depth("limits").await.unwrap();
                    b.close().await;
                    break d;
                }
                Err(e) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "never served again: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    });
    assert_eq!(depth.ready, 0);
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let warnings = err.matches("accept_failed").count();
    assert!(
        (1..=2).contains(&warnings),
        "one warning per 10 s, not one per failure: {warnings} in {err}"
    );
}

/// The sim's in-process agents share a `BrokerPool`: while a connect to a broker that never
/// answers hangs (up to the 10 s connect timeout), users of a broker that answers get their
/// connections, spread at most `per_connection` to a connection, and every lease comes back.
#[test]
fn a_hanging_connect_holds_up_no_other_broker_and_leases_are_counted() {
    if !common::require_broker("a_hanging_connect_holds_up_no_other_broker_and_leases_are_counted")
    {
        return;
    }
    use fleetctl::queue::amqp::BrokerPool;
    use std::sync::Arc;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        common::install_crypto();
        // Accepts, holds the connection, never says a word.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_url = format!("amqp://guest:guest@{}/%2f", silent.local_addr().unwrap());
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let pool = Arc::new(BrokerPool::with_capacity("limits-test", 4));
        let hanging = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get(&silent_url).await.is_err() }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let url = common::amqp_url();
        let users = futures::future::join_all((0..10).map(|_| {
            let (pool, url) = (pool.clone(), url.clone());
            async move { pool.get(&url).await }
        }));
        let users: Vec<_> = tokio::time::timeout(Duration::from_secs(5), users)
            .await
            .expect("users of a broker that answers waited for a connect to another one")
            .into_iter()
            .map(|r| r.expect("a pooled connection"))
            .collect();
        let mut conns = pool.connections().await;
        conns.sort();
        assert_eq!(conns, [2, 4, 4], "10 users, at most 4 to a connection");
        drop(users);
        assert_eq!(pool.connections().await.iter().sum::<usize>(), 0);
        assert!(
            hanging.await.unwrap(),
            "a broker that never answers is an error"
        );
        pool.close_all().await;
        holder.abort();
    });
}
