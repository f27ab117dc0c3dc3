//! The console without a terminal or a network: `update` tables (message in, state and commands
//! out) and insta snapshots of every screen at 80x24 and 120x40, time injected.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::cmd::{Action, Cmd};
use super::fixture::{self, at, now};
use super::model::{Dialog, Link, Model, Prompt, Screen};
use super::msg::{LinkKind, Msg, Proposal};
use super::update::update;
use super::view::view;
use crate::cluster::actions::FleetRef;
use crate::fleet::objects::{FleetId, FleetKind};
use crate::queue::depth::QueueReport;

fn render(m: &Model) -> String {
    let mut t = Terminal::new(TestBackend::new(m.width, m.height)).expect("a test terminal");
    t.draw(|f| view(m, f)).expect("draws");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Sends the messages and refreshes, as the loop does before drawing.
fn send(m: &mut Model, msgs: impl IntoIterator<Item = Msg>) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    for msg in msgs {
        cmds.extend(update(m, msg));
        m.refresh();
    }
    cmds
}

/// Presses `k`, which asks for a plan, and answers the plan with `lines`; the action's id.
fn planned(m: &mut Model, k: char, lines: Vec<String>, changes: bool) -> u64 {
    let cmds = send(m, [key(k)]);
    let Some(Cmd::Plan { id, .. }) = cmds.first().cloned() else {
        panic!("{k} asked for no plan: {cmds:?}")
    };
    let result = Ok(Proposal {
        lines,
        warning: None,
        changes,
    });
    send(m, [Msg::Planned { id, result }]);
    id
}

fn sj() -> FleetRef {
    FleetRef {
        kind: FleetKind::ScaledJob,
        name: "ai-agent".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Screens

fn snap(name: &str, m: &Model) {
    insta::assert_snapshot!(format!("{name}_{}x{}", m.width, m.height), render(m));
}

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
                    super::msg::LogLine { text: r#"{"timestamp":"2026-12-01T11:59:58.123Z","level":"INFO","message":"task_started","task_id":"0b3f6a1c-aaaa","agent_index":"4","steps":5}"#.into() },
                    super::msg::LogLine { text: "a plain line".into() },
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

// ---------------------------------------------------------------------------------------------
// update: message in, state and commands out

#[test]
fn keys_move_open_and_go_back() {
    let mut m = fixture::fleet(120, 40);
    assert_eq!(m.fleets_cursor.selected, 0);
    send(&mut m, [key('j')]);
    assert_eq!(m.fleets_cursor.selected, 1);
    send(&mut m, [key('j')]);
    assert_eq!(m.fleets_cursor.selected, 1, "stops at the last row");
    send(&mut m, [key('g')]);
    assert_eq!(m.fleets_cursor.selected, 0);
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert!(cmds.is_empty());
    assert_eq!(
        m.screen(),
        &Screen::Fleet(FleetId::new(FleetKind::ScaledJob, "ai-agent"))
    );
    assert_eq!(m.pod_rows, vec!["ai-agent-7xkq2-0-abcde".to_string()]);
    // A pod's screen follows its log; leaving it stops following.
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(
        cmds,
        vec![Cmd::TailLogs {
            pod: "ai-agent-7xkq2-0-abcde".into()
        }]
    );
    let cmds = send(&mut m, [key('l')]);
    assert!(
        cmds.is_empty(),
        "the log screen keeps the same tail: {cmds:?}"
    );
    assert_eq!(m.screen(), &Screen::Logs("ai-agent-7xkq2-0-abcde".into()));
    let cmds = send(&mut m, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    assert_eq!(cmds, vec![Cmd::StopLogs]);
    assert!(m.logs.is_none());
    send(&mut m, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    assert_eq!(m.screen(), &Screen::Fleets, "Esc at home stays home");
    let cmds = send(&mut m, [key('q')]);
    assert_eq!(cmds, vec![Cmd::Quit]);
    assert!(m.quit);
}

#[test]
fn ctrl_c_quits_even_inside_a_dialog() {
    let mut m = fixture::fleet(80, 24);
    send(&mut m, [key('s')]);
    assert!(m.dialog.is_some());
    let cmds = send(
        &mut m,
        [Msg::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        ))],
    );
    assert_eq!(cmds, vec![Cmd::Quit]);
}

#[test]
fn pause_plans_then_confirms_then_reports() {
    let mut m = fixture::fleet(120, 40);
    let cmds = send(&mut m, [key('p')]);
    let id = match cmds.as_slice() {
        [
            Cmd::Plan {
                id,
                action: Action::Pause(f),
            },
        ] if *f == sj() => *id,
        other => panic!("{other:?}"),
    };
    // Keys other than Esc/Enter do nothing while planning.
    assert!(send(&mut m, [key('p')]).is_empty());
    send(
        &mut m,
        [Msg::Planned {
            id,
            result: Ok(Proposal {
                lines: vec!["On Enter: paused".into()],
                warning: Some("careful".into()),
                changes: true,
            }),
        }],
    );
    assert!(matches!(&m.dialog, Some(Dialog::Confirm { warning: Some(w), .. }) if w == "careful"));
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(
        cmds,
        vec![Cmd::Run {
            id,
            action: Action::Pause(sj())
        }]
    );
    assert!(m.dialog.is_none());
    assert_eq!(m.actions.back().map(|a| a.result.is_none()), Some(true));
    send(
        &mut m,
        [Msg::Done {
            id,
            result: Ok("scaledjob/ai-agent paused".into()),
        }],
    );
    let s = m.status.as_ref().unwrap();
    assert!(!s.error && s.text.contains("paused"), "{s:?}");
    assert_eq!(
        m.actions.back().unwrap().result,
        Some(Ok("scaledjob/ai-agent paused".into()))
    );
}

#[test]
fn a_plan_with_nothing_to_do_only_informs() {
    let mut m = fixture::fleet(80, 24);
    planned(&mut m, 'r', vec!["not paused".into()], false);
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert!(cmds.is_empty());
    assert!(m.dialog.is_none());
    assert!(m.actions.is_empty());
}

#[test]
fn every_error_reaches_the_status_line_and_the_action_log() {
    let errors = [
        "cannot patch scaledjob/ai-agent: scaledjobs.keda.sh \"ai-agent\" is forbidden (403 Forbidden)",
        "scaledjob/ai-agent is gone from agents",
        "cannot patch scaledjob/ai-agent: Operation cannot be fulfilled (409 Conflict)",
        "cannot patch scaledjob/ai-agent: ScaledJob.keda.sh \"ai-agent\" is invalid (422 Invalid)",
        "eviction of pod x refused: Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget agent-pdb needs 1 healthy pods and has 1 currently)",
        "drain of ai-agent timed out after 10m: 2 pods left",
        "cannot connect to amqp://guest:***@127.0.0.1:5672/%2f: connection refused",
    ];
    for e in errors {
        let mut m = fixture::fleet(80, 24);
        let cmds = send(&mut m, [key('d')]);
        let Some(Cmd::Plan { id, .. }) = cmds.first().cloned() else {
            panic!()
        };
        send(
            &mut m,
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
        send(
            &mut m,
            [Msg::Done {
                id,
                result: Err(e.into()),
            }],
        );
        let s = m.status.as_ref().unwrap();
        assert!(s.error && s.text.contains(e), "{s:?}");
        assert_eq!(m.actions.back().unwrap().result, Some(Err(e.into())));
        assert!(!m.actions.back().unwrap().cancellable);
    }
    // A plan that fails shows its reason and runs nothing.
    let mut m = fixture::fleet(80, 24);
    let cmds = send(&mut m, [key('a')]);
    let Some(Cmd::Plan {
        id,
        action: Action::Apply,
    }) = cmds.first().cloned()
    else {
        panic!("{cmds:?}")
    };
    send(
        &mut m,
        [Msg::Planned {
            id,
            result: Err("cannot reach the Kubernetes API: timed out".into()),
        }],
    );
    assert!(
        matches!(&m.dialog, Some(Dialog::Error { message, .. }) if message.contains("timed out"))
    );
    assert!(send(&mut m, [code(KeyCode::Enter)]).is_empty());
    assert!(m.dialog.is_none());
}

#[test]
fn drain_toggles_evict_and_can_be_cancelled() {
    let mut m = fixture::fleet(120, 40);
    let id = planned(&mut m, 'd', vec!["On Enter: paused".into()], true);
    send(&mut m, [key(' ')]);
    match &m.dialog {
        Some(Dialog::Confirm {
            action: Action::Drain { evict: true, .. },
            lines,
            ..
        }) => {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(super::update::EVICT_LINE))
            );
        }
        other => panic!("{other:?}"),
    }
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(
        cmds,
        vec![Cmd::Run {
            id,
            action: Action::Drain {
                fleet: sj(),
                evict: true
            }
        }]
    );
    send(
        &mut m,
        [Msg::Progress {
            id,
            line: "3 pods left, 1 refusals".into(),
        }],
    );
    assert!(m.status.as_ref().unwrap().text.contains("3 pods left"));
    assert_eq!(send(&mut m, [key('x')]), vec![Cmd::Cancel { id }]);
    send(
        &mut m,
        [Msg::Done {
            id,
            result: Err("cancelled; scaledjob/ai-agent stays paused (r resumes)".into()),
        }],
    );
    assert_eq!(send(&mut m, [key('x')]), vec![], "nothing left to cancel");
}

#[test]
fn seed_takes_a_count_and_refuses_nonsense() {
    let mut m = fixture::fleet(80, 24);
    send(&mut m, [key('s')]);
    assert!(
        matches!(&m.dialog, Some(Dialog::SeedCount { queue, value, .. }) if queue == "agent-tasks" && value == "10")
    );
    send(
        &mut m,
        [
            code(KeyCode::Backspace),
            code(KeyCode::Backspace),
            code(KeyCode::Enter),
        ],
    );
    assert!(
        matches!(&m.dialog, Some(Dialog::SeedCount { error: Some(e), .. }) if e.contains("whole number"))
    );
    let cmds = send(&mut m, [key('2'), key('5'), key('x'), code(KeyCode::Enter)]);
    match cmds.as_slice() {
        [
            Cmd::Run {
                action: Action::Seed { queue, count: 25 },
                ..
            },
        ] => assert_eq!(queue, "agent-tasks"),
        other => panic!("{other:?}"),
    }
    assert!(m.actions.back().unwrap().cancellable);
}

#[test]
fn evict_confirms_with_the_budget_and_redrive_names_the_dlq() {
    let mut m = fixture::fleet(120, 40);
    send(&mut m, [key('e')]);
    assert!(m.dialog.is_none(), "no pod on the fleets screen");
    // The newest pod is the unschedulable one: no budget is asked.
    send(&mut m, [key('j'), code(KeyCode::Enter), key('e')]);
    let Some(Dialog::Confirm {
        action: Action::Evict { pod },
        lines,
        ..
    }) = m.dialog.clone()
    else {
        panic!("{:?}", m.dialog)
    };
    assert_eq!(pod, "ai-agent-batch-5-rstvw");
    assert!(
        lines.iter().any(|l| l.contains("without asking")),
        "{lines:?}"
    );
    send(&mut m, [code(KeyCode::Esc), key('j'), key('e')]);
    let Some(Dialog::Confirm {
        action: Action::Evict { pod },
        lines,
        ..
    }) = m.dialog.clone()
    else {
        panic!("{:?}", m.dialog)
    };
    assert_eq!(pod, "ai-agent-batch-4-lmnpq");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("agent-pdb") && l.contains("1 disruption(s) allowed")),
        "{lines:?}"
    );
    send(&mut m, [code(KeyCode::Esc), code(KeyCode::Esc)]);
    let cmds = send(&mut m, [key('R')]);
    assert!(
        matches!(cmds.as_slice(), [Cmd::Plan { action: Action::Redrive { from, to }, .. }] if from == "agent-tasks.dlq" && to == "agent-tasks")
    );
}

#[test]
fn filter_and_sort_happen_when_keys_change_them() {
    let mut m = fixture::fleet(120, 40);
    send(&mut m, [key('j'), code(KeyCode::Enter)]);
    assert_eq!(m.pod_rows.len(), 5);
    send(&mut m, [key('/'), key('o'), key('o'), key('m')]);
    assert_eq!(m.prompt, Some(Prompt::Filter("oom".into())));
    // "oom" matches no name, but the OOM pod's status is Running: nothing.
    assert_eq!(m.pod_rows.len(), 0);
    send(
        &mut m,
        [code(KeyCode::Esc), key('/'), key('-'), key('4'), key('-')],
    );
    assert_eq!(m.pod_rows, vec!["ai-agent-batch-4-lmnpq".to_string()]);
    send(&mut m, [code(KeyCode::Enter)]);
    assert!(m.prompt.is_none());
    assert_eq!(m.pods_filter, "-4-");
    send(&mut m, [key('/'), code(KeyCode::Esc)]);
    assert!(m.pods_filter.is_empty());
    send(&mut m, [key('o'), key('o'), key('o'), key('o')]);
    assert_eq!(m.pod_sort, super::model::PodSort::Status);
    assert_eq!(
        m.pod_rows[..2],
        ["ai-agent-batch-5-rstvw", "ai-agent-batch-6-xz245"],
        "problems first"
    );
    assert_eq!(
        m.pod_rows.last().map(String::as_str),
        Some("ai-agent-batch-0-b6789"),
        "done last"
    );
    send(&mut m, [key('O')]);
    assert_eq!(
        m.pod_rows.first().map(String::as_str),
        Some("ai-agent-batch-0-b6789")
    );
}

#[test]
fn the_palette_jumps_and_changes_namespace() {
    let mut m = fixture::fleet(120, 40);
    send(&mut m, [key(':')]);
    for c in "batch".chars() {
        send(&mut m, [key(c)]);
    }
    send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(
        m.screen(),
        &Screen::Fleet(FleetId::new(FleetKind::Job, "ai-agent-batch"))
    );
    send(&mut m, [key(':')]);
    for c in "pod ai-agent-batch-5".chars() {
        send(&mut m, [key(c)]);
    }
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(m.screen(), &Screen::Pod("ai-agent-batch-5-rstvw".into()));
    assert_eq!(
        cmds,
        vec![Cmd::TailLogs {
            pod: "ai-agent-batch-5-rstvw".into()
        }]
    );
    send(&mut m, [key(':')]);
    for c in "nope".chars() {
        send(&mut m, [key(c)]);
    }
    send(&mut m, [code(KeyCode::Enter)]);
    assert!(m.status.as_ref().unwrap().error);
    send(&mut m, [key(':')]);
    for c in "ns other".chars() {
        send(&mut m, [key(c)]);
    }
    let cmds = send(&mut m, [code(KeyCode::Enter)]);
    assert_eq!(
        cmds,
        vec![Cmd::StopLogs, Cmd::SwitchNamespace("other".into())]
    );
    assert_eq!(m.info.namespace, "other");
    assert_eq!(m.fleet.fleets().count(), 0);
    assert_eq!(m.screen(), &Screen::Fleets);
}

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
    let lines = (0..super::model::LOG_LINES + 10)
        .map(|i| super::msg::LogLine {
            text: format!("line {i}"),
        })
        .collect();
    send(&mut m, [Msg::LogLines { pod, lines }]);
    let t = m.logs.as_ref().unwrap();
    assert_eq!(t.lines.len(), super::model::LOG_LINES);
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
fn the_smoke_test_runs_from_the_console_with_its_checklist() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut m = fixture::fleet(w, h);
        let cmds = send(&mut m, [key('S')]);
        let Some(Cmd::Plan {
            id,
            action: Action::SmokeTest,
        }) = cmds.first().cloned()
        else {
            panic!("{cmds:?}")
        };
        send(
            &mut m,
            [Msg::Planned {
                id,
                result: Ok(Proposal {
                    lines: vec!["Run fleetctl smoke-test".into()],
                    warning: None,
                    changes: true,
                }),
            }],
        );
        let cmds = send(&mut m, [code(KeyCode::Enter)]);
        assert_eq!(
            cmds,
            vec![Cmd::Run {
                id,
                action: Action::SmokeTest
            }]
        );
        assert_eq!(
            m.screen(),
            &Screen::Actions,
            "the checklist is on the action log"
        );
        assert!(
            m.actions.back().unwrap().cancellable,
            "a smoke test can be stopped; it still cleans up"
        );
        for line in [
            "[ok]   preflight      -/-    0.06s  API v1.32 answers; KEDA served; broker reached",
            "[ok]   manifests    11/11    0.01s  11 unchanged",
            "[ok]   seed         10/10    0.02s  10 tasks into smoke-1a2b",
            "[FAIL] scale          0/2    4.00s  KEDA created 0 of 2 Jobs (10 messages / 5 per Job): --timeout expired",
        ] {
            send(
                &mut m,
                [Msg::Progress {
                    id,
                    line: line.into(),
                }],
            );
        }
        send(
            &mut m,
            [Msg::Done {
                id,
                result: Err("FAIL at scale: KEDA created 0 of 2 Jobs".into()),
            }],
        );
        assert_eq!(m.actions.back().unwrap().lines.len(), 4);
        snap("action_log_smoke", &m);
        assert!(render(&m).contains("[FAIL] scale"));
    }
}

#[test]
fn terminate_quits() {
    let mut m = fixture::empty(80, 24);
    assert_eq!(send(&mut m, [Msg::Terminate]), vec![Cmd::Quit]);
    assert!(m.quit);
}

#[test]
fn the_help_lists_every_key_of_the_table() {
    let mut m = fixture::empty(120, 200);
    send(&mut m, [key('?')]);
    let screen = render(&m);
    for (_, keys, help) in super::keymap::help_lines() {
        assert!(
            screen.contains(&format!("{keys:<14} {help}")),
            "{keys} missing"
        );
    }
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

#[test]
fn json_log_lines_become_columns() {
    use super::model::ShownLine;
    let l = ShownLine::parse(&super::msg::LogLine {
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
        ShownLine::parse(&super::msg::LogLine {
            text: "not json {".into()
        }),
        ShownLine::Plain("not json {".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Resource usage (metrics.k8s.io)

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

fn row_usage(m: &Model, pod: &str) -> super::model::RowUsage {
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
    assert_eq!(m.pod_sort, super::model::PodSort::Cpu);
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
    assert_eq!(m.pod_sort, super::model::PodSort::Memory);
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
    assert_eq!(m.usage_header, super::model::UsageHeader::NotServed);
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
    assert_eq!(m.usage, super::model::UsageState::default());
}

#[test]
fn a_failed_read_keeps_the_last_numbers_which_then_go_stale_with_their_age() {
    let mut m = batch_pods(120, 40);
    // Read at -10 s.
    assert_eq!(m.usage_header, super::model::UsageHeader::Fresh { pods: 3 });
    send(
        &mut m,
        [Msg::Usage {
            reading: crate::fleet::usage::UsageReading::Failed("connection reset".into()),
            at: at(5),
        }],
    );
    assert_eq!(m.usage.error.as_deref(), Some("connection reset"));
    assert_eq!(m.usage_header, super::model::UsageHeader::Fresh { pods: 3 });
    assert_eq!(
        row_usage(&m, "ai-agent-batch-1-fghjk").cpu_millicores,
        Some(480.0)
    );
    // Twenty seconds: 30 s old, not yet stale; one more and it is.
    send(&mut m, [Msg::Tick(at(20))]);
    assert_eq!(m.usage_header, super::model::UsageHeader::Fresh { pods: 3 });
    send(&mut m, [Msg::Tick(at(21))]);
    assert_eq!(
        m.usage_header,
        super::model::UsageHeader::Stale {
            age: std::time::Duration::from_secs(31)
        }
    );
    assert!(render(&m).contains("usage stale: read 31s ago"));
    assert!(
        super::view::health_lines(&m)
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
        super::model::UsageHeader::Failed("forbidden".into())
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
