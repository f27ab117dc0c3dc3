//! The console without a terminal or a network: `update` tables (message in, state and commands
//! out) and insta snapshots of every screen at 80x24 and 120x40, time injected. This file holds
//! the helpers every part shares; the tests are grouped by what they drive.

mod actions;
mod feeds;
mod keys;
mod screens;
mod usage;

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

/// Asserts the screen against `src/tui/snapshots/fleetctl__tui__tests__<name>_<W>x<H>.snap`:
/// the snapshots keep the directory and names they had when these tests were one file.
fn snap(name: &str, m: &Model) {
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(format!("{name}_{}x{}", m.width, m.height), render(m));
    });
}
