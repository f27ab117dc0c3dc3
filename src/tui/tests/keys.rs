//! Keys: moving, opening and going back, quitting, filter and sort, the palette, and the help
//! screen that lists the key table.

use super::*;
use crate::tui::model;

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
    assert_eq!(m.pod_sort, model::PodSort::Status);
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
    for (_, keys, help) in crate::tui::keymap::help_lines() {
        assert!(
            screen.contains(&format!("{keys:<14} {help}")),
            "{keys} missing"
        );
    }
}
