//! Resource usage (metrics.k8s.io): the CPU and MEM columns, their sorts, a cluster without
//! metrics-server, failed and stale readings.

use super::*;
use crate::tui::model;

fn not_served() -> Msg {
    Msg::Usage {
        reading: crate::fleet::usage::UsageReading::NotServed,
        at: now(),
    }
}

/// The pods table of the Job fleet (the second row of the fleets table).
fn batch_pods(w: u16, h: u16) -> Model {
    let mut m = fixture::fleet(w, h);
    send(&mut m, [key('j'), code(KeyCode::Enter)]);
    assert!(matches!(m.screen(), Screen::Fleet(_)), "{:?}", m.screen());
    m
}

fn row_usage(m: &Model, pod: &str) -> model::RowUsage {
    let i = m
        .pod_rows
        .iter()
        .position(|p| p == pod)
        .unwrap_or_else(|| panic!("{pod} is not a row: {:?}", m.pod_rows));
    m.pod_usage[i]
}

#[test]
fn usage_screens() {
    // Wide enough for the fleets' CPU column.
    let m = fixture::fleet(140, 30);
    snap("fleets_usage", &m);
    for (w, h) in [(80, 24), (120, 40)] {
        let mut m = fixture::fleet(w, h);
        send(&mut m, [not_served()]);
        snap("fleets_usage_not_served", &m);
        let mut detail = batch_pods(w, h);
        send(&mut detail, [not_served()]);
        snap("fleet_detail_usage_not_served", &detail);
        let mut stale = batch_pods(w, h);
        send(&mut stale, [key('m'), Msg::Tick(at(25))]);
        snap("fleet_detail_usage_stale_by_memory", &stale);
    }
}

#[test]
fn pods_sort_by_cpu_and_by_memory_most_first_unsampled_last() {
    let mut m = batch_pods(120, 40);
    send(&mut m, [key('c')]);
    assert_eq!(m.pod_sort, model::PodSort::Cpu);
    assert_eq!(
        m.pod_rows,
        [
            "ai-agent-batch-1-fghjk", // 480m
            "ai-agent-batch-4-lmnpq", // 35m
            // Not sampled: by name.
            "ai-agent-batch-0-b6789",
            "ai-agent-batch-5-rstvw",
            "ai-agent-batch-6-xz245",
        ]
    );
    assert_eq!(m.pod_usage.len(), m.pod_rows.len());
    assert_eq!(m.pod_usage[0].cpu_millicores, Some(480.0));
    // The limit (500m), not the request (250m).
    assert_eq!(m.pod_usage[0].cpu_against, Some(500.0));
    assert_eq!(m.pod_usage[2].cpu_millicores, None);
    send(&mut m, [key('c')]);
    assert!(m.pod_sort_desc, "c again reverses");
    assert_eq!(
        m.pod_rows.last().map(String::as_str),
        Some("ai-agent-batch-1-fghjk")
    );
    send(&mut m, [key('m')]);
    assert_eq!(m.pod_sort, model::PodSort::Memory);
    assert!(!m.pod_sort_desc);
    assert_eq!(
        m.pod_rows[..2],
        ["ai-agent-batch-4-lmnpq", "ai-agent-batch-1-fghjk"],
        "470Mi before 200Mi"
    );
    assert_eq!(m.pod_usage[0].memory_bytes, Some(470 << 20));
    assert_eq!(m.pod_usage[0].memory_against, Some(512 << 20));
    // A new reading re-sorts on arrival.
    let mut pods = match fixture::usage_reading(now()) {
        Msg::Usage {
            reading: crate::fleet::usage::UsageReading::Served(p),
            ..
        } => p,
        other => panic!("{other:?}"),
    };
    if let Some(p) = pods.get_mut("agents/ai-agent-batch-1-fghjk") {
        p.memory_bytes = 500 << 20;
    }
    send(
        &mut m,
        [Msg::Usage {
            reading: crate::fleet::usage::UsageReading::Served(pods),
            at: now(),
        }],
    );
    assert_eq!(m.pod_rows[0], "ai-agent-batch-1-fghjk");
}

#[test]
fn without_metrics_server_the_header_says_so_once_and_memory_is_the_agents_rss() {
    let mut m = batch_pods(120, 40);
    send(&mut m, [not_served()]);
    assert_eq!(m.usage_header, model::UsageHeader::NotServed);
    let u = row_usage(&m, "ai-agent-batch-1-fghjk");
    assert_eq!(u.cpu_millicores, None, "no CPU without the API");
    // The second scrape round said 200 MiB of agent_resident_memory_bytes.
    assert_eq!(u.memory_bytes, Some(200 << 20));
    assert_eq!(row_usage(&m, "ai-agent-batch-5-rstvw").memory_bytes, None);
    let screen = render(&m);
    assert_eq!(
        screen
            .matches("usage: metrics.k8s.io not served (no metrics-server)")
            .count(),
        1,
        "{screen}"
    );
    assert!(screen.contains("200Mi  39%"), "{screen}");
    assert!(
        m.snapshot
            .usage_degraded
            .as_deref()
            .is_some_and(|d| d.contains("metrics-server"))
    );
    assert!(m.snapshot.fleets.iter().all(|f| f.usage.is_none()));
    // The pod's detail says the same.
    let mut pod = m.clone();
    let i = pod
        .pod_rows
        .iter()
        .position(|p| p == "ai-agent-batch-1-fghjk")
        .unwrap();
    pod.pods_cursor.selected = i;
    send(&mut pod, [code(KeyCode::Enter)]);
    assert_eq!(pod.screen(), &Screen::Pod("ai-agent-batch-1-fghjk".into()));
    assert_eq!(pod.open_pod_usage, Some(u));
    assert!(render(&pod).contains("CPU - · MEM 200Mi  39%"));
    // Narrow: a short form, still once.
    send(
        &mut m,
        [Msg::Resize {
            width: 80,
            height: 24,
        }],
    );
    assert_eq!(render(&m).matches("no metrics-server").count(), 1);
    // The API comes back (metrics-server installed): numbers from it again.
    send(&mut m, [fixture::usage_reading(now())]);
    assert_eq!(
        row_usage(&m, "ai-agent-batch-1-fghjk").cpu_millicores,
        Some(480.0)
    );
    assert!(!render(&m).contains("no metrics-server"));
    // After a switch to another namespace, a reading of the old one still in flight is dropped.
    send(&mut m, [key(':')]);
    for c in "ns other".chars() {
        send(&mut m, [key(c)]);
    }
    send(
        &mut m,
        [code(KeyCode::Enter), fixture::usage_reading(now())],
    );
    assert_eq!(m.info.namespace, "other");
    assert_eq!(m.usage, model::UsageState::default());
}

#[test]
fn a_failed_read_keeps_the_last_numbers_which_then_go_stale_with_their_age() {
    let mut m = batch_pods(120, 40);
    // Read at -10 s.
    assert_eq!(m.usage_header, model::UsageHeader::Fresh { pods: 3 });
    send(
        &mut m,
        [Msg::Usage {
            reading: crate::fleet::usage::UsageReading::Failed("connection reset".into()),
            at: at(5),
        }],
    );
    assert_eq!(m.usage.error.as_deref(), Some("connection reset"));
    assert_eq!(m.usage_header, model::UsageHeader::Fresh { pods: 3 });
    assert_eq!(
        row_usage(&m, "ai-agent-batch-1-fghjk").cpu_millicores,
        Some(480.0)
    );
    // Twenty seconds: 30 s old, not yet stale; one more and it is.
    send(&mut m, [Msg::Tick(at(20))]);
    assert_eq!(m.usage_header, model::UsageHeader::Fresh { pods: 3 });
    send(&mut m, [Msg::Tick(at(21))]);
    assert_eq!(
        m.usage_header,
        model::UsageHeader::Stale {
            age: std::time::Duration::from_secs(31)
        }
    );
    assert!(render(&m).contains("usage stale: read 31s ago"));
    assert!(
        crate::tui::view::health_lines(&m)
            .iter()
            .any(|l| l.contains("connection reset"))
    );
    // Failures before any answer: said as such.
    let mut fresh = fixture::empty(120, 40);
    send(
        &mut fresh,
        [Msg::Usage {
            reading: crate::fleet::usage::UsageReading::Failed("forbidden".into()),
            at: now(),
        }],
    );
    assert_eq!(
        fresh.usage_header,
        model::UsageHeader::Failed("forbidden".into())
    );
    assert!(render(&fresh).contains("usage ✗ forbidden"));
}

#[test]
fn the_console_and_status_print_the_same_usage_for_a_fleet() {
    use crate::fleet::usage::{fleet_cpu_cell, fleet_memory_cell};
    for served in [true, false] {
        let mut m = fixture::fleet(170, 30);
        if !served {
            send(&mut m, [not_served()]);
        }
        let screen = render(&m);
        let status = crate::commands::status::table(&m.snapshot);
        for f in &m.snapshot.fleets {
            let cpu = fleet_cpu_cell(f.usage.as_ref());
            let mem = fleet_memory_cell(
                f.usage.as_ref(),
                f.metrics
                    .as_ref()
                    .and_then(|x| x.worst_memory_headroom.as_ref()),
            );
            assert_eq!(mem != "-" && cpu != "-", served, "{cpu} {mem}");
            let console_row = screen
                .lines()
                .find(|l| l.contains(&format!("│{} ", f.display())))
                .unwrap_or_else(|| panic!("no row for {}: {screen}", f.display()));
            let status_row = status
                .lines()
                .find(|l| l.starts_with(&format!("{} ", f.display())))
                .unwrap_or_else(|| panic!("no row for {}: {status}", f.display()));
            for cell in [&cpu, &mem] {
                assert!(
                    console_row.contains(&format!(" {cell} ")),
                    "{cell:?} in {console_row}"
                );
                assert!(
                    status_row.contains(&format!(" {cell} "))
                        || status_row.contains(&format!(" {cell}")),
                    "{cell:?} in {status_row}"
                );
            }
        }
    }
}
