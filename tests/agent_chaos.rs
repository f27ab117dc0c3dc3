//! Chaos: many tasks through several real `fleetctl agent` processes while agents are SIGKILLed
//! at random and replaced. Afterwards every task has exactly one result (a success), the queue
//! and its DLQ are empty, and no checkpoint is left on the volume.
//!
//! Size: `FLEETCTL_CHAOS_TASKS` tasks (default 10,000, the figure; about a minute or
//! two on a 2-core machine, most of it seeding). CI may set a smaller count, e.g. `FLEETCTL_CHAOS_TASKS=2000`, to
//! keep the run short; the kills still happen (at least three, the first after a second).
//! `FLEETCTL_CHAOS_AGENTS` agents run at once (default 4).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::agent::*;
use common::*;

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}='{v}' is not a number; set it to e.g. 2000")),
        Err(_) => default,
    }
}

#[test]
fn every_task_has_exactly_one_result_while_agents_are_killed_at_random() {
    if !require_broker("every_task_has_exactly_one_result_while_agents_are_killed_at_random") {
        return;
    }
    let n = env_num("FLEETCTL_CHAOS_TASKS", 10_000);
    let agents_at_once = env_num("FLEETCTL_CHAOS_AGENTS", 4).max(1) as usize;
    let q = QueueGuard::new("chaos");
    let dir = TempDir::new("chaos");
    seed(&q.0, n as u32, 2, 10, None);

    let flags = [
        "--prefetch",
        "8",
        "--idle-exit",
        "0",
        "--retry-base",
        "50ms",
    ];
    let mut started = 0usize;
    let start = |started: &mut usize| {
        *started += 1;
        Agent::start(&q.0, &dir, &format!("chaos-{started}"), &flags)
    };
    let mut agents: Vec<Agent> = (0..agents_at_once).map(|_| start(&mut started)).collect();
    let mut kills = 0u32;
    let deadline = Instant::now() + Duration::from_secs(600 + n / 10);
    // Kill a random agent every 0.1-0.7 s and start another in its place, until no task is
    // waiting (and at least three agents have died).
    loop {
        std::thread::sleep(Duration::from_millis(100 + fastrand::u64(..600)));
        let left = depth(&q.0).ready;
        if left == 0 && kills >= 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} tasks still queued after {kills} kills"
        );
        let victim = fastrand::usize(..agents.len());
        let mut a = agents.swap_remove(victim);
        a.signal("KILL");
        a.wait_exit(PATIENCE);
        kills += 1;
        agents.push(start(&mut started));
    }
    // The tasks in flight on the survivors finish; then nothing is queued or unacked.
    wait_total(&q.0, 0, PATIENCE);
    eprintln!("{n} tasks, {kills} agents killed, {started} started");
    // The survivors are idle. Stop them as a drain would.
    for a in &agents {
        a.signal("TERM");
    }
    for a in &mut agents {
        a.wait_exit(PATIENCE);
    }

    let results = json_files(&dir, "results");
    let mut ids = BTreeSet::new();
    for path in &results {
        let r = read_json(path).unwrap_or_else(|| panic!("{} does not parse", path.display()));
        assert_eq!(r["status"], "success", "{r}");
        let id = r["task_id"].as_str().unwrap().to_string();
        assert_eq!(path.file_stem().and_then(|s| s.to_str()), Some(id.as_str()));
        ids.insert(id);
    }
    assert_eq!(ids.len() as u64, n, "one result per task");
    assert_eq!(total_messages(&q.0), 0, "the queue is empty");
    assert_eq!(total_messages(&q.dlq()), 0, "the DLQ is empty");
    let left = json_files(&dir, "tasks");
    assert!(
        left.is_empty(),
        "{} checkpoints left behind, e.g. {:?}",
        left.len(),
        left.first()
    );
}
