//! What the I/O tasks send: polling driven by ticks, links going down and up, bursts of
//! deltas, the first lists, and log lines.

use super::*;
use crate::tui::model;
use crate::tui::msg;

#[test]
fn polling_is_driven_by_ticks_and_never_doubles_up() {
    let mut m = fixture::empty(80, 24);
    assert!(
        send(&mut m, [Msg::Tick(now())]).is_empty(),
        "no fleet: nothing to read"
    );
    let mut m = fixture::fleet(80, 24);
    m.polls = Default::default();
    let cmds = send(&mut m, [Msg::Tick(at(1))]);
    assert!(
        cmds.contains(&Cmd::ReadQueues(vec!["agent-tasks".into()])),
        "{cmds:?}"
    );
    assert!(cmds.contains(&Cmd::ReadMgmt(vec![
        "agent-tasks".into(),
        "agent-tasks.dlq".into()
    ])));
    let targets = cmds.iter().find_map(|c| match c {
        Cmd::Scrape(t) => Some(t.len()),
        _ => None,
    });
    assert_eq!(
        targets,
        Some(3),
        "the three running pods with a metrics port"
    );
    // In flight: nothing again until answered.
    assert!(send(&mut m, [Msg::Tick(at(10))]).is_empty());
    send(
        &mut m,
        [Msg::Queues(QueueReport {
            at: at(10),
            ..Default::default()
        })],
    );
    let cmds = send(&mut m, [Msg::Tick(at(11))]);
    assert_eq!(cmds, vec![Cmd::ReadQueues(vec!["agent-tasks".into()])]);
}

#[test]
fn links_go_down_with_their_reason_and_come_back() {
    let mut m = fixture::fleet(80, 24);
    send(
        &mut m,
        [Msg::Link {
            kind: LinkKind::Api,
            up: Err("connection refused".into()),
            at: at(1),
        }],
    );
    send(
        &mut m,
        [Msg::Link {
            kind: LinkKind::Api,
            up: Err("timed out".into()),
            at: at(5),
        }],
    );
    assert_eq!(
        m.links[&LinkKind::Api],
        Link::Down {
            reason: "timed out".into(),
            since: at(1)
        }
    );
    assert!(render(&m).contains("api ✗ down (i)"));
    send(
        &mut m,
        [Msg::Link {
            kind: LinkKind::Api,
            up: Ok(()),
            at: at(9),
        }],
    );
    assert_eq!(m.links[&LinkKind::Api], Link::Up);
    // A broker that answers for no queue is down; one that answers for some is up.
    send(
        &mut m,
        [Msg::Queues(QueueReport {
            at: at(10),
            errors: [("q".to_string(), "refused".to_string())].into(),
            ..Default::default()
        })],
    );
    assert!(matches!(m.links[&LinkKind::Broker], Link::Down { .. }));
    assert!(render(&m).contains("?"), "unknown depth is ?, never 0");
}

#[test]
fn a_burst_of_deltas_is_folded_once_and_old_log_lines_drop_off() {
    let mut m = fixture::large(120, 40, 2_000);
    send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(m.pod_rows.len(), 2_000);
    let gone: Vec<_> = m.pod_rows.iter().take(500).cloned().collect();
    let deltas = gone
        .iter()
        .map(|n| crate::fleet::delta::FleetDelta::Delete {
            kind: crate::fleet::objects::ObjectKind::Pod,
            namespace: "agents".into(),
            name: n.clone(),
        })
        .collect();
    update(&mut m, Msg::Deltas { deltas, at: at(2) });
    assert!(m.stale);
    m.refresh();
    assert_eq!(m.pod_rows.len(), 1_500);
    let pod = m.pod_rows[0].clone();
    send(&mut m, [code(KeyCode::Enter)]);
    let lines = (0..model::LOG_LINES + 10)
        .map(|i| msg::LogLine {
            text: format!("line {i}"),
        })
        .collect();
    send(&mut m, [Msg::LogLines { pod, lines }]);
    let t = m.logs.as_ref().unwrap();
    assert_eq!(t.lines.len(), model::LOG_LINES);
    assert_eq!(t.dropped, 10);
}

#[test]
fn the_first_lists_are_awaited_before_saying_there_are_no_fleets() {
    let mut m = fixture::empty(80, 24);
    m.refresh();
    assert!(render(&m).contains("Listing fleets"));
    let kinds = crate::fleet::objects::ObjectKind::ALL;
    let (last, first) = kinds.split_last().unwrap();
    let deltas = first
        .iter()
        .map(|k| crate::fleet::delta::FleetDelta::Resync {
            kind: *k,
            objects: vec![],
        })
        .collect();
    send(&mut m, [Msg::Deltas { deltas, at: at(1) }]);
    assert_eq!(m.listed_at, None);
    assert!(render(&m).contains("Listing fleets"));
    // A refused kind counts as listed: the rest of the picture is complete.
    send(
        &mut m,
        [Msg::Deltas {
            deltas: vec![crate::fleet::delta::FleetDelta::KindUnavailable {
                kind: *last,
                reason: "forbidden".into(),
            }],
            at: at(2),
        }],
    );
    assert_eq!(m.listed_at, Some(at(2)));
    assert!(render(&m).contains("No fleets labelled app=ai-agent"));
}

#[test]
fn json_log_lines_become_columns() {
    use model::ShownLine;
    let l = ShownLine::parse(&msg::LogLine {
        text: r#"{"timestamp":"2026-12-01T11:59:58.123Z","level":"INFO","message":"task_completed","task_id":"t-1","tokens":130}"#.into(),
    });
    assert_eq!(
        l,
        ShownLine::Fields {
            time: "11:59:58".into(),
            level: "INFO".into(),
            event: "task_completed".into(),
            task_id: "t-1".into(),
            rest: "tokens=130".into()
        }
    );
    assert_eq!(
        ShownLine::parse(&msg::LogLine {
            text: "not json {".into()
        }),
        ShownLine::Plain("not json {".into())
    );
}
