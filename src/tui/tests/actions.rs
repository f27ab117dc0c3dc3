//! The actions from the console: plan, confirm, run and report (pause, drain, seed, evict,
//! redrive, the smoke test), and how their errors reach the status line and the action log.

use super::*;

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
                    .any(|l| l.starts_with(crate::tui::update::EVICT_LINE))
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
