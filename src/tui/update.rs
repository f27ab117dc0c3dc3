//! `update(&mut Model, Msg) -> Vec<Cmd>`: the console's only way to change. Pure: time comes in
//! with the messages, and every side effect goes out as a [`Cmd`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::cmd::{Action, Cmd};
use super::keymap::{self, KeyAction, Scope};
use super::model::{
    ACTION_LINES, ACTION_LOG, ActionEntry, Cursor, Dialog, LOG_LINES, Link, LogTail, Model,
    PodSort, Prompt, Screen, ShownLine, UsageState,
};
use super::msg::{LinkKind, Msg};
use crate::cli::MAX_SEED_COUNT;
use crate::cluster::actions::FleetRef;
use crate::fleet::delta::FleetDelta;
use crate::fleet::model::Model as FleetModel;
use crate::fleet::objects::{FleetId, ObjectKind};
use crate::fleet::usage::UsageReading;
use crate::metrics::agents::AgentSeries;
use crate::queue::topology::DEFAULT_QUEUE;

/// The seed dialog's starting value.
pub const DEFAULT_SEED: &str = "10";

pub fn update(m: &mut Model, msg: Msg) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    m.dirty = true;
    match msg {
        Msg::Deltas { deltas, at } => {
            advance(m, at);
            for d in deltas {
                if let FleetDelta::Resync { kind, .. } | FleetDelta::KindUnavailable { kind, .. } =
                    &d
                {
                    m.listed.insert(*kind);
                }
                m.fleet.apply(d, at);
            }
            if m.listed_at.is_none() && m.listed.len() == ObjectKind::ALL.len() {
                m.listed_at = Some(at);
            }
            m.links.insert(LinkKind::Api, Link::Up);
            m.stale = true;
        }
        Msg::Queues(r) => {
            m.polls.queues_busy = false;
            let all_failed = r.stats.is_empty() && !r.errors.is_empty();
            for (queue, stats) in r.stats {
                m.fleet.apply(FleetDelta::Queue { queue, stats }, r.at);
            }
            let link = if all_failed {
                down(
                    m,
                    LinkKind::Broker,
                    r.errors.values().next().cloned().unwrap_or_default(),
                    r.at,
                )
            } else {
                Link::Up
            };
            m.links.insert(LinkKind::Broker, link);
            m.queue_errors = r.errors;
            m.stale = true;
        }
        Msg::Mgmt { at, queues } => {
            m.polls.mgmt_busy = false;
            match queues {
                Ok(q) => {
                    m.mgmt = q;
                    m.links.insert(LinkKind::Mgmt, Link::Up);
                }
                Err(e) => {
                    m.mgmt.clear();
                    let link = down(m, LinkKind::Mgmt, e, at);
                    m.links.insert(LinkKind::Mgmt, link);
                }
            }
        }
        Msg::Scraped(round) => {
            m.polls.scrape_busy = false;
            m.agents.ingest(round);
            m.stale = true;
        }
        Msg::Usage { reading, at } => {
            advance(m, at);
            // A reading of the namespace watched before a switch, still in flight.
            let ns = &m.info.namespace;
            if reading
                .pods()
                .is_some_and(|p| p.values().any(|u| &u.namespace != ns))
            {
                return cmds;
            }
            match reading {
                UsageReading::Failed(e) => m.usage.error = Some(e),
                answered => {
                    m.usage.last = Some(answered);
                    m.usage.at = Some(at);
                    m.usage.error = None;
                }
            }
            m.stale = true;
        }
        Msg::Link { kind, up, at } => {
            let link = match up {
                Ok(()) => Link::Up,
                Err(e) => down(m, kind, e, at),
            };
            m.links.insert(kind, link);
        }
        Msg::Resize { width, height } => {
            m.width = width;
            m.height = height;
            refit(m);
        }
        Msg::Tick(now) => {
            advance(m, now);
            m.fleet.tick(now);
            m.clock_stale = true;
            poll(m, &mut cmds);
        }
        Msg::Key(k) => key(m, k, &mut cmds),
        Msg::Planned { id, result } => {
            if let Some(Dialog::Planning { id: want, action }) = &m.dialog
                && *want == id
            {
                let action = action.clone();
                m.dialog = Some(match result {
                    Ok(p) => Dialog::Confirm {
                        id,
                        action,
                        lines: p.lines,
                        warning: p.warning,
                        changes: p.changes,
                    },
                    Err(message) => Dialog::Error {
                        title: action.title(),
                        message,
                    },
                });
            }
        }
        Msg::Progress { id, line } => {
            if let Some(e) = m.actions.iter_mut().find(|e| e.id == id) {
                let text = format!("{}: {line}", e.title);
                e.lines.push(line.clone());
                if e.lines.len() > ACTION_LINES {
                    e.lines.remove(0);
                }
                e.progress = Some(line);
                m.set_status(text, false);
            }
        }
        Msg::Done { id, result } => {
            if let Some(e) = m.actions.iter_mut().find(|e| e.id == id) {
                let (text, error) = match &result {
                    Ok(s) => (format!("{}: {s}", e.title), false),
                    Err(s) => (format!("{} failed: {s}", e.title), true),
                };
                e.result = Some(result);
                e.cancellable = false;
                m.set_status(text, error);
            }
        }
        Msg::LogLines { pod, lines } => {
            if let Some(t) = m.logs.as_mut().filter(|t| t.pod == pod) {
                t.lines.extend(lines.iter().map(ShownLine::parse));
                while t.lines.len() > LOG_LINES {
                    t.lines.pop_front();
                    t.dropped += 1;
                }
                let page = super::view::table_rows(m);
                if let Some(t) = m.logs.as_mut() {
                    if t.follow {
                        t.cursor.selected = t.lines.len().saturating_sub(1);
                    }
                    t.cursor.fit(t.lines.len(), page);
                }
            }
        }
        Msg::LogEnded { pod, reason } => {
            if let Some(t) = m.logs.as_mut().filter(|t| t.pod == pod) {
                t.ended = Some(reason.unwrap_or_else(|| "the container stopped".into()));
            }
        }
        Msg::Terminate => {
            m.quit = true;
            cmds.push(Cmd::Quit);
        }
    }
    cmds
}

/// Time only moves forward, whatever order messages arrive in.
fn advance(m: &mut Model, at: Timestamp) {
    if at > m.now {
        m.now = at;
    }
}

/// A link going down keeps the time it first went down.
fn down(m: &Model, kind: LinkKind, reason: String, at: Timestamp) -> Link {
    let since = match m.links.get(&kind) {
        Some(Link::Down { since, .. }) => *since,
        _ => at,
    };
    Link::Down { reason, since }
}

fn due(last: Option<Timestamp>, now: Timestamp, every: std::time::Duration) -> bool {
    last.is_none_or(|t| now.duration_since(t).as_millis() >= every.as_millis() as i128)
}

/// Queue depths, the management API and scrapes: what is due goes out as a command.
fn poll(m: &mut Model, cmds: &mut Vec<Cmd>) {
    let now = m.now;
    let queues = m.fleet.fleet_queues();
    if !m.polls.queues_busy && due(m.polls.queues_at, now, m.intervals.queues) && !queues.is_empty()
    {
        m.polls.queues_busy = true;
        m.polls.queues_at = Some(now);
        cmds.push(Cmd::ReadQueues(queues.clone()));
    }
    if !m.polls.mgmt_busy && due(m.polls.mgmt_at, now, m.intervals.mgmt) && !queues.is_empty() {
        m.polls.mgmt_busy = true;
        m.polls.mgmt_at = Some(now);
        let with_dlq = queues.iter().flat_map(|q| [q.clone(), dlq(q)]).collect();
        cmds.push(Cmd::ReadMgmt(with_dlq));
    }
    if m.info.scrape && !m.polls.scrape_busy && due(m.polls.scrape_at, now, m.intervals.scrape) {
        let targets = m.agents.targets(&m.fleet);
        m.polls.scrape_at = Some(now);
        if !targets.is_empty() {
            m.polls.scrape_busy = true;
            cmds.push(Cmd::Scrape(targets));
        }
    }
}

pub use crate::queue::topology::dlq_name as dlq;

fn refit(m: &mut Model) {
    let page = m.page();
    m.fleets_cursor.fit(m.fleet_rows.len(), page);
    m.pods_cursor.fit(m.pod_rows.len(), page);
    m.events_cursor.fit(m.event_rows.len(), page);
    m.actions_cursor.fit(m.actions.len(), page);
    if let Some(t) = m.logs.as_mut() {
        t.cursor.fit(t.lines.len(), page);
    }
}

/// The scopes of the current screen, most specific first.
pub fn scopes(screen: &Screen) -> &'static [Scope] {
    match screen {
        Screen::Fleets => &[Scope::Fleets, Scope::List, Scope::Global],
        Screen::Fleet(_) => &[Scope::Fleet, Scope::List, Scope::Global],
        Screen::Pod(_) => &[Scope::Pod, Scope::Global],
        Screen::Events => &[Scope::Events, Scope::List, Scope::Global],
        Screen::Logs(_) => &[Scope::Logs, Scope::List, Scope::Global],
        Screen::Actions | Screen::Health | Screen::Help => &[Scope::List, Scope::Global],
    }
}

fn key(m: &mut Model, k: KeyEvent, cmds: &mut Vec<Cmd>) {
    if k.kind == crossterm::event::KeyEventKind::Release {
        return;
    }
    // Ctrl-C always quits, whatever is open.
    if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
        m.quit = true;
        cmds.push(Cmd::Quit);
        return;
    }
    if m.dialog.is_some() {
        dialog_key(m, k, cmds);
        return;
    }
    if m.prompt.is_some() {
        prompt_key(m, k, cmds);
        return;
    }
    let Some(action) = keymap::lookup(scopes(m.screen()), &k) else {
        return;
    };
    let page = m.page();
    match action {
        KeyAction::Quit => {
            m.quit = true;
            cmds.push(Cmd::Quit);
        }
        KeyAction::Help => push(m, Screen::Help, cmds),
        KeyAction::Events => push(m, Screen::Events, cmds),
        KeyAction::ActionLog => push(m, Screen::Actions, cmds),
        KeyAction::Health => push(m, Screen::Health, cmds),
        KeyAction::Back => back(m, cmds),
        KeyAction::Up => move_cursor(m, -1, page),
        KeyAction::Down => move_cursor(m, 1, page),
        KeyAction::PageUp => move_cursor(m, -(page as i64), page),
        KeyAction::PageDown => move_cursor(m, page as i64, page),
        KeyAction::Top => move_cursor(m, i64::MIN / 2, page),
        KeyAction::Bottom => move_cursor(m, i64::MAX / 2, page),
        KeyAction::Open => open(m, cmds),
        KeyAction::Filter => {
            let current = match m.screen() {
                Screen::Fleets => m.fleets_filter.clone(),
                Screen::Fleet(_) => m.pods_filter.clone(),
                Screen::Events => m.events_filter.clone(),
                _ => return,
            };
            m.prompt = Some(Prompt::Filter(current));
        }
        KeyAction::Palette => m.prompt = Some(Prompt::Palette(String::new())),
        KeyAction::Apply => plan(m, Action::Apply, cmds),
        KeyAction::SmokeTest => plan(m, Action::SmokeTest, cmds),
        KeyAction::Pause | KeyAction::Resume | KeyAction::Drain => {
            let Some(f) = m.current_fleet() else {
                m.set_status("no fleet selected", true);
                return;
            };
            let fleet = FleetRef {
                kind: f.kind,
                name: f.name.clone(),
            };
            let a = match action {
                KeyAction::Pause => Action::Pause(fleet),
                KeyAction::Resume => Action::Resume(fleet),
                _ => Action::Drain {
                    fleet,
                    evict: false,
                },
            };
            plan(m, a, cmds);
        }
        KeyAction::Seed => {
            let queue = m
                .current_fleet()
                .and_then(|f| f.queue.clone())
                .unwrap_or_else(|| DEFAULT_QUEUE.to_string());
            m.dialog = Some(Dialog::SeedCount {
                queue,
                value: DEFAULT_SEED.into(),
                error: None,
            });
        }
        KeyAction::Redrive => {
            let Some(queue) = m.current_fleet().and_then(|f| f.queue.clone()) else {
                m.set_status("the selected fleet has no queue to redrive", true);
                return;
            };
            plan(
                m,
                Action::Redrive {
                    from: dlq(&queue),
                    to: queue,
                },
                cmds,
            );
        }
        KeyAction::Evict => {
            let Some(pod) = m.current_pod().map(|p| p.name.clone()) else {
                m.set_status("no pod selected", true);
                return;
            };
            let id = m.id();
            let action = Action::Evict { pod: pod.clone() };
            let (lines, warning) = evict_plan(m, &pod);
            m.dialog = Some(Dialog::Confirm {
                id,
                action,
                lines,
                warning,
                changes: true,
            });
        }
        KeyAction::Logs => {
            let Some(pod) = m.current_pod().map(|p| p.name.clone()) else {
                m.set_status("no pod selected", true);
                return;
            };
            open_logs(m, pod, cmds);
        }
        KeyAction::Sort => {
            m.pod_sort = m.pod_sort.next();
            m.pod_sort_desc = false;
            m.stale = true;
        }
        KeyAction::SortCpu | KeyAction::SortMemory => {
            let want = if action == KeyAction::SortCpu {
                PodSort::Cpu
            } else {
                PodSort::Memory
            };
            // Pressed again: reversed.
            if m.pod_sort == want {
                m.pod_sort_desc = !m.pod_sort_desc;
            } else {
                m.pod_sort = want;
                m.pod_sort_desc = false;
            }
            m.stale = true;
        }
        KeyAction::Reverse => {
            m.pod_sort_desc = !m.pod_sort_desc;
            m.stale = true;
        }
        KeyAction::WarningsOnly => {
            m.warnings_only = !m.warnings_only;
            m.events_cursor = Cursor::default();
            m.stale = true;
        }
        KeyAction::Follow => {
            if let Some(t) = m.logs.as_mut() {
                t.follow = !t.follow;
                if t.follow {
                    t.cursor.selected = t.lines.len().saturating_sub(1);
                    t.cursor.fit(t.lines.len(), page);
                }
            }
        }
        KeyAction::Cancel => {
            let running = m
                .actions
                .iter()
                .rev()
                .find(|e| e.cancellable && e.result.is_none())
                .map(|e| (e.id, e.title.clone()));
            match running {
                Some((id, title)) => {
                    m.set_status(format!("cancelling {title}…"), false);
                    cmds.push(Cmd::Cancel { id });
                }
                None => m.set_status(
                    "nothing to cancel: no drain, seeding, redrive or smoke test is running",
                    false,
                ),
            }
        }
    }
}

/// Opens the plan dialog of `action` and asks for its plan.
fn plan(m: &mut Model, action: Action, cmds: &mut Vec<Cmd>) {
    let id = m.id();
    m.dialog = Some(Dialog::Planning {
        id,
        action: action.clone(),
    });
    cmds.push(Cmd::Plan { id, action });
}

/// What evicting `pod` will do, from the fleet's PDB as the model knows it.
fn evict_plan(m: &Model, pod: &str) -> (Vec<String>, Option<String>) {
    let mut lines = vec![format!(
        "Evict pod {pod} through the Eviction API: the agent gets SIGTERM, checkpoints its task and requeues it."
    )];
    let running = m
        .fleet
        .pods()
        .get(pod)
        .is_some_and(|p| p.phase == crate::fleet::objects::PodPhase::Running && !p.deletion);
    if !running {
        lines.push(
            "The pod is not running: the API server deletes it without asking its PodDisruptionBudget."
                .into(),
        );
        return (lines, None);
    }
    let pdb = m
        .current_fleet()
        .or_else(|| {
            // On a pod screen: the fleet of the pod.
            m.screens.iter().rev().find_map(|s| match s {
                Screen::Fleet(id) => m
                    .snapshot
                    .fleets
                    .iter()
                    .find(|f| f.kind == id.kind && f.name == id.name),
                _ => None,
            })
        })
        .and_then(|f| f.pdb.as_ref());
    let warning = match pdb {
        Some(p) => {
            lines.push(format!(
                "PodDisruptionBudget {}: {} healthy of {} desired, {} disruption(s) allowed now.",
                p.name, p.current_healthy, p.desired_healthy, p.disruptions_allowed
            ));
            (p.disruptions_allowed <= 0 || p.sync_failed).then(|| {
                format!(
                    "{} allows no disruption now: the API server will refuse with 429 unless the pod is not running",
                    p.name
                )
            })
        }
        None => {
            lines.push(
                "No PodDisruptionBudget covers this fleet: nothing stops the eviction.".into(),
            );
            None
        }
    };
    (lines, warning)
}

fn push(m: &mut Model, s: Screen, cmds: &mut Vec<Cmd>) {
    if m.screen() != &s {
        m.screens.push(s);
        m.stale = true;
        sync_logs(m, cmds);
    }
}

/// A pod's screen and its log screen follow its log; any other screen follows none.
fn sync_logs(m: &mut Model, cmds: &mut Vec<Cmd>) {
    let wanted = match m.screen() {
        Screen::Pod(p) | Screen::Logs(p) => Some(p.clone()),
        _ => None,
    };
    let current = m.logs.as_ref().map(|t| t.pod.clone());
    if wanted == current {
        return;
    }
    if current.is_some() {
        m.logs = None;
        cmds.push(Cmd::StopLogs);
    }
    if let Some(pod) = wanted {
        m.logs = Some(LogTail {
            pod: pod.clone(),
            follow: true,
            ..Default::default()
        });
        cmds.push(Cmd::TailLogs { pod });
    }
}

fn back(m: &mut Model, cmds: &mut Vec<Cmd>) {
    if m.screens.len() > 1 {
        let left = m.screens.pop();
        if matches!(left, Some(Screen::Fleet(_))) {
            m.pods_filter.clear();
        }
        m.stale = true;
        sync_logs(m, cmds);
    }
}

fn open(m: &mut Model, cmds: &mut Vec<Cmd>) {
    match m.screen().clone() {
        Screen::Fleets => {
            if let Some(f) = m.current_fleet() {
                let id = FleetId::new(f.kind, f.name.clone());
                open_fleet(m, id, cmds);
            }
        }
        Screen::Fleet(_) => {
            if let Some(name) = m.pod_rows.get(m.pods_cursor.selected).cloned() {
                push(m, Screen::Pod(name), cmds);
            }
        }
        _ => {}
    }
}

fn open_fleet(m: &mut Model, id: FleetId, cmds: &mut Vec<Cmd>) {
    m.pods_cursor = Cursor::default();
    m.pods_filter.clear();
    push(m, Screen::Fleet(id), cmds);
}

fn open_logs(m: &mut Model, pod: String, cmds: &mut Vec<Cmd>) {
    push(m, Screen::Logs(pod), cmds);
}

fn move_cursor(m: &mut Model, delta: i64, page: usize) {
    match m.screen() {
        Screen::Fleets => m.fleets_cursor.step(delta, m.fleet_rows.len(), page),
        Screen::Fleet(_) => m.pods_cursor.step(delta, m.pod_rows.len(), page),
        Screen::Events => m.events_cursor.step(delta, m.event_rows.len(), page),
        Screen::Actions => m.actions_cursor.step(delta, m.actions.len(), page),
        Screen::Health => m
            .health_cursor
            .step(delta, super::view::health_lines(m).len(), page),
        Screen::Help => m.help_cursor.step(delta, super::view::help_len(), page),
        Screen::Logs(_) => {
            if let Some(t) = m.logs.as_mut() {
                t.cursor.step(delta, t.lines.len(), page);
                t.follow = t.cursor.selected + 1 >= t.lines.len();
            }
        }
        Screen::Pod(_) => {}
    }
}

fn dialog_key(m: &mut Model, k: KeyEvent, cmds: &mut Vec<Cmd>) {
    let Some(dialog) = m.dialog.take() else {
        return;
    };
    match dialog {
        Dialog::Planning { .. } | Dialog::Error { .. } => {
            if !matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                m.dialog = Some(dialog);
            }
        }
        Dialog::Confirm {
            id,
            action,
            mut lines,
            warning,
            changes,
        } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') if changes => run(m, id, action, cmds),
            KeyCode::Enter | KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {}
            KeyCode::Char(' ') | KeyCode::Char('e') => {
                let action = match action {
                    Action::Drain { fleet, evict } => {
                        let evict = !evict;
                        lines.retain(|l| !l.starts_with(EVICT_LINE));
                        if evict {
                            lines.push(format!(
                                "{EVICT_LINE} the pods left are evicted through the Eviction API (the PDB decides; 429s are retried)."
                            ));
                        }
                        Action::Drain { fleet, evict }
                    }
                    other => other,
                };
                m.dialog = Some(Dialog::Confirm {
                    id,
                    action,
                    lines,
                    warning,
                    changes,
                });
            }
            _ => {
                m.dialog = Some(Dialog::Confirm {
                    id,
                    action,
                    lines,
                    warning,
                    changes,
                })
            }
        },
        Dialog::SeedCount {
            queue,
            mut value,
            mut error,
        } => match k.code {
            KeyCode::Esc => {}
            KeyCode::Enter => match value.trim().parse::<u64>() {
                Ok(n) if (1..=MAX_SEED_COUNT).contains(&n) => {
                    let id = m.id();
                    run(m, id, Action::Seed { queue, count: n }, cmds);
                }
                _ => {
                    error = Some(format!(
                        "'{value}' is not a count: type a whole number from 1 to {MAX_SEED_COUNT}"
                    ));
                    m.dialog = Some(Dialog::SeedCount {
                        queue,
                        value,
                        error,
                    });
                }
            },
            KeyCode::Backspace => {
                value.pop();
                m.dialog = Some(Dialog::SeedCount {
                    queue,
                    value,
                    error: None,
                });
            }
            KeyCode::Char(c) if c.is_ascii_digit() && value.len() < 9 => {
                value.push(c);
                m.dialog = Some(Dialog::SeedCount {
                    queue,
                    value,
                    error: None,
                });
            }
            _ => {
                m.dialog = Some(Dialog::SeedCount {
                    queue,
                    value,
                    error,
                })
            }
        },
    }
}

/// Starts `action`: an entry in the action log, a status line, and the command that runs it.
fn run(m: &mut Model, id: u64, action: Action, cmds: &mut Vec<Cmd>) {
    m.actions.push_back(ActionEntry {
        id,
        at: m.now,
        title: action.title(),
        progress: None,
        lines: vec![],
        result: None,
        cancellable: action.long_running(),
    });
    while m.actions.len() > ACTION_LOG {
        m.actions.pop_front();
    }
    m.set_status(format!("{}…", action.title()), false);
    if action == Action::SmokeTest {
        // Its checklist is on the action log, newest entry first.
        m.actions_cursor = Cursor::default();
        push(m, Screen::Actions, cmds);
    }
    cmds.push(Cmd::Run { id, action });
}

/// The line a drain's confirm dialog adds when evicting.
pub const EVICT_LINE: &str = "Evict:";

fn prompt_key(m: &mut Model, k: KeyEvent, cmds: &mut Vec<Cmd>) {
    let Some(prompt) = m.prompt.take() else {
        return;
    };
    match prompt {
        Prompt::Filter(mut text) => {
            match k.code {
                KeyCode::Esc => text.clear(),
                KeyCode::Enter => {}
                KeyCode::Backspace => {
                    text.pop();
                    m.prompt = Some(Prompt::Filter(text.clone()));
                }
                KeyCode::Char(c) => {
                    text.push(c);
                    m.prompt = Some(Prompt::Filter(text.clone()));
                }
                _ => m.prompt = Some(Prompt::Filter(text.clone())),
            }
            match m.screen() {
                Screen::Fleets => {
                    m.fleets_filter = text;
                    m.fleets_cursor = Cursor::default();
                }
                Screen::Fleet(_) => {
                    m.pods_filter = text;
                    m.pods_cursor = Cursor::default();
                }
                Screen::Events => {
                    m.events_filter = text;
                    m.events_cursor = Cursor::default();
                }
                _ => {}
            }
            m.stale = true;
        }
        Prompt::Palette(mut text) => match k.code {
            KeyCode::Esc => {}
            KeyCode::Enter => palette(m, text.trim(), cmds),
            KeyCode::Backspace => {
                text.pop();
                m.prompt = Some(Prompt::Palette(text));
            }
            KeyCode::Char(c) => {
                text.push(c);
                m.prompt = Some(Prompt::Palette(text));
            }
            _ => m.prompt = Some(Prompt::Palette(text)),
        },
    }
}

/// `:ns NAME`, `:fleet NAME`, `:pod NAME`, or a bare name (a fleet first, then a pod).
fn palette(m: &mut Model, line: &str, cmds: &mut Vec<Cmd>) {
    let (verb, arg) = line
        .split_once(' ')
        .map_or(("", line), |(v, a)| (v, a.trim()));
    match verb {
        "ns" | "namespace" if !arg.is_empty() => {
            if m.logs.take().is_some() {
                cmds.push(Cmd::StopLogs);
            }
            switch_namespace(m, arg);
            cmds.push(Cmd::SwitchNamespace(arg.to_string()));
        }
        "fleet" | "pod" | "" if !arg.is_empty() => {
            let fleet = (verb != "pod").then(|| find_fleet(m, arg)).flatten();
            if let Some(id) = fleet {
                m.screens.truncate(1);
                sync_logs(m, cmds);
                open_fleet(m, id, cmds);
                return;
            }
            let pod = (verb != "fleet").then(|| find_pod(m, arg)).flatten();
            match pod {
                Some(name) => push(m, Screen::Pod(name), cmds),
                None => m.set_status(
                    format!(
                        "no fleet or pod named '{arg}' in {}; `ns NAME` changes the namespace",
                        m.info.namespace
                    ),
                    true,
                ),
            }
        }
        _ => m.set_status(
            format!("'{line}': type a fleet or pod name, `fleet NAME`, `pod NAME` or `ns NAME`"),
            true,
        ),
    }
}

fn find_fleet(m: &Model, name: &str) -> Option<FleetId> {
    let name = name.rsplit('/').next().unwrap_or(name);
    let ids: Vec<FleetId> = m.fleet.fleets().map(|f| f.id()).collect();
    ids.iter()
        .find(|id| id.name == name)
        .or_else(|| ids.iter().find(|id| id.name.starts_with(name)))
        .or_else(|| ids.iter().find(|id| id.name.contains(name)))
        .cloned()
}

fn find_pod(m: &Model, name: &str) -> Option<String> {
    let pods = m.fleet.pods();
    if pods.contains_key(name) {
        return Some(name.to_string());
    }
    pods.keys().find(|k| k.starts_with(name)).cloned()
}

/// Starts over in another namespace: the model is emptied, the sources restart.
fn switch_namespace(m: &mut Model, ns: &str) {
    m.info.namespace = ns.to_string();
    let selector = m.fleet.selector().clone();
    m.fleet = FleetModel::with_selector(ns.to_string(), selector);
    m.agents = AgentSeries::default();
    m.queue_errors.clear();
    m.mgmt.clear();
    m.usage = UsageState::default();
    m.polls = Default::default();
    m.listed.clear();
    m.listed_at = None;
    m.screens.truncate(1);
    m.fleets_cursor = Cursor::default();
    m.fleets_filter.clear();
    m.links.insert(LinkKind::Api, Link::Unknown);
    m.set_status(format!("watching namespace {ns}"), false);
    m.stale = true;
}
