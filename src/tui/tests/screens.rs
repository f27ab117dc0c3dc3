//! Snapshots of every screen at 80x24 and 120x40, and what drawing must hold at any size:
//! only visible rows, no colour when asked, the selection kept in view on resize.

use super::*;
use crate::tui::msg;

#[test]
fn screens_at_both_sizes() {
    for (w, h) in [(80, 24), (120, 40)] {
        snap("listing", &{
            let mut m = fixture::empty(w, h);
            m.refresh();
            m
        });
        snap("empty", &{
            let mut m = fixture::empty(w, h);
            fixture::listed(&mut m);
            m.refresh();
            m
        });
        let m = fixture::fleet(w, h);
        snap("fleets", &m);
        // The Job fleet is the second row (ScaledJob first, by kind).
        let mut detail = m.clone();
        send(&mut detail, [key('j'), code(KeyCode::Enter)]);
        assert!(
            matches!(detail.screen(), Screen::Fleet(_)),
            "{:?}",
            detail.screen()
        );
        snap("fleet_detail", &detail);
        // The OOMKilled pod, sorted by restarts.
        let mut pod = detail.clone();
        send(&mut pod, [key('o'), code(KeyCode::Enter)]);
        assert_eq!(pod.screen(), &Screen::Pod("ai-agent-batch-4-lmnpq".into()));
        send(
            &mut pod,
            [Msg::LogLines {
                pod: "ai-agent-batch-4-lmnpq".into(),
                lines: vec![
                    msg::LogLine { text: r#"{"timestamp":"2026-12-01T11:59:58.123Z","level":"INFO","message":"task_started","task_id":"0b3f6a1c-aaaa","agent_index":"4","steps":5}"#.into() },
                    msg::LogLine { text: "a plain line".into() },
                ],
            }],
        );
        snap("pod_detail", &pod);
        let mut logs = pod.clone();
        send(&mut logs, [key('l')]);
        snap("logs", &logs);
        let mut events = m.clone();
        send(&mut events, [key('E')]);
        snap("events", &events);
        send(&mut events, [key('w')]);
        snap("events_warnings", &events);
        let mut help = m.clone();
        send(&mut help, [key('?')]);
        snap("help", &help);
        // Errors: API and broker down, the management API refusing, a kind refused.
        let mut down = m.clone();
        send(
            &mut down,
            [
                Msg::Link {
                    kind: LinkKind::Api,
                    up: Err("connection refused".into()),
                    at: at(-3),
                },
                Msg::Queues(QueueReport {
                    at: at(-2),
                    errors: [(
                        "agent-tasks".to_string(),
                        "cannot connect to amqp://guest:***@127.0.0.1:5672/%2f: connection refused"
                            .to_string(),
                    )]
                    .into(),
                    ..Default::default()
                }),
                Msg::Mgmt {
                    at: at(-2),
                    queues: Err(
                        "management API at http://127.0.0.1:15672: connection refused".into(),
                    ),
                },
                Msg::Deltas {
                    deltas: vec![crate::fleet::delta::FleetDelta::KindUnavailable {
                        kind: crate::fleet::objects::ObjectKind::Event,
                        reason: "forbidden: cannot list/watch events".into(),
                    }],
                    at: at(-1),
                },
            ],
        );
        snap("fleets_degraded", &down);
        send(&mut down, [key('i')]);
        snap("health", &down);
        // Dialogs.
        let mut d = m.clone();
        send(&mut d, [key('s')]);
        snap("dialog_seed", &d);
        let mut d = m.clone();
        let cmds = send(&mut d, [key('p')]);
        let id = match cmds.as_slice() {
            [Cmd::Plan { id, .. }] => *id,
            other => panic!("{other:?}"),
        };
        snap("dialog_planning", &d);
        send(
            &mut d,
            [Msg::Planned {
                id,
                result: Ok(Proposal {
                    lines: vec!["On Enter: scaledjob/ai-agent paused: set autoscaling.keda.sh/paused=\"true\" (was absent); running Jobs finish, no new Jobs start".into()],
                    warning: None,
                    changes: true,
                }),
            }],
        );
        snap("dialog_confirm_pause", &d);
        let mut d = m.clone();
        send(&mut d, [key('j'), code(KeyCode::Enter), key('e')]);
        snap("dialog_evict", &d);
        // The action log after a success and a refusal.
        let mut a = m.clone();
        let run = |a: &mut Model, k: char, result: Result<String, String>| {
            let cmds = send(a, [key(k)]);
            let Some(Cmd::Plan { id, .. }) = cmds.first() else {
                panic!("{cmds:?}")
            };
            let id = *id;
            send(
                a,
                [
                    Msg::Planned {
                        id,
                        result: Ok(Proposal {
                            lines: vec![],
                            warning: None,
                            changes: true,
                        }),
                    },
                    code(KeyCode::Enter),
                ],
            );
            send(a, [Msg::Done { id, result }]);
        };
        run(&mut a, 'p', Ok("scaledjob/ai-agent paused".into()));
        run(
            &mut a,
            'r',
            Err("cannot patch scaledjob/ai-agent: forbidden (403 Forbidden)".into()),
        );
        send(&mut a, [key('L')]);
        snap("action_log", &a);
    }
}

#[test]
fn ten_thousand_pods_draw_only_what_fits() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut m = fixture::large(w, h, 10_000);
        assert_eq!(m.snapshot.fleets.len(), 1);
        snap("fleets_10k", &m);
        send(&mut m, [code(KeyCode::Enter), code(KeyCode::End)]);
        assert_eq!(m.pod_rows.len(), 10_000);
        assert_eq!(m.pods_cursor.selected, 9_999);
        snap("fleet_detail_10k_end", &m);
    }
}

#[test]
fn no_color_draws_no_colour() {
    let mut m = fixture::fleet(120, 40);
    m.color = false;
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| view(&m, f)).unwrap();
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
    m.color = true;
    t.draw(|f| view(&m, f)).unwrap();
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset)
    );
}

#[test]
fn resize_keeps_the_selection_visible() {
    let mut m = fixture::large(120, 40, 500);
    send(&mut m, [code(KeyCode::Enter), code(KeyCode::End)]);
    send(
        &mut m,
        [Msg::Resize {
            width: 80,
            height: 24,
        }],
    );
    let page = m.page();
    assert!(
        m.pods_cursor.selected >= m.pods_cursor.offset
            && m.pods_cursor.selected < m.pods_cursor.offset + page
    );
    assert!(render(&m).contains("ai-agent-batch-"));
}
