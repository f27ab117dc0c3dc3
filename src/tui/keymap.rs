//! The one key table: what each key does on which screen. `update` looks keys up here and the
//! help screen is written from it, so the two cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every screen.
    Global,
    /// Every screen with a table (fleets, pods, events, action log, logs).
    List,
    Fleets,
    /// A fleet's detail: its pods table.
    Fleet,
    Pod,
    Events,
    Logs,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Tables",
            Scope::Fleets => "Fleets",
            Scope::Fleet => "Fleet detail",
            Scope::Pod => "Pod detail",
            Scope::Events => "Events",
            Scope::Logs => "Logs",
        }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    Quit,
    Help,
    Back,
    Open,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Filter,
    Palette,
    Apply,
    SmokeTest,
    Seed,
    Pause,
    Resume,
    Drain,
    Evict,
    Redrive,
    Logs,
    Events,
    ActionLog,
    Health,
    Sort,
    SortCpu,
    SortMemory,
    Reverse,
    WarningsOnly,
    Cancel,
    Follow,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl Key {
    fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match (self, ev.code) {
            (Key::Ctrl(c), KeyCode::Char(k)) => ctrl && k.eq_ignore_ascii_case(&c),
            (Key::Char(c), KeyCode::Char(k)) => !ctrl && k == c,
            (Key::Code(c), code) => !ctrl && code == c,
            _ => false,
        }
    }

    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(KeyCode::Up) => "↑".into(),
            Key::Code(KeyCode::Down) => "↓".into(),
            Key::Code(KeyCode::PageUp) => "PgUp".into(),
            Key::Code(KeyCode::PageDown) => "PgDn".into(),
            Key::Code(KeyCode::Home) => "Home".into(),
            Key::Code(KeyCode::End) => "End".into(),
            Key::Code(KeyCode::Enter) => "Enter".into(),
            Key::Code(KeyCode::Esc) => "Esc".into(),
            Key::Code(c) => format!("{c:?}"),
        }
    }
}

pub struct Binding {
    pub keys: &'static [Key],
    pub scope: Scope,
    pub action: KeyAction,
    pub help: &'static str,
}

use Key::{Char, Code, Ctrl};

/// Every binding. Screen scopes come before `List` and `Global`, so a screen can give a key
/// its own meaning.
pub const BINDINGS: &[Binding] = &[
    // Fleets (home).
    Binding {
        keys: &[Code(KeyCode::Enter)],
        scope: Scope::Fleets,
        action: KeyAction::Open,
        help: "open the fleet: queue chart, Jobs, pods, disruptions",
    },
    Binding {
        keys: &[Char('p')],
        scope: Scope::Fleets,
        action: KeyAction::Pause,
        help: "pause the fleet (shows what it stops first)",
    },
    Binding {
        keys: &[Char('r')],
        scope: Scope::Fleets,
        action: KeyAction::Resume,
        help: "resume the fleet, restoring its state before the pause",
    },
    Binding {
        keys: &[Char('d')],
        scope: Scope::Fleets,
        action: KeyAction::Drain,
        help: "drain the fleet: pause, then wait until no agent runs",
    },
    Binding {
        keys: &[Char('s')],
        scope: Scope::Fleets,
        action: KeyAction::Seed,
        help: "seed test tasks into the fleet's queue",
    },
    Binding {
        keys: &[Char('R')],
        scope: Scope::Fleets,
        action: KeyAction::Redrive,
        help: "redrive: move the dead-letter queue back into the queue",
    },
    // Fleet detail.
    Binding {
        keys: &[Code(KeyCode::Enter)],
        scope: Scope::Fleet,
        action: KeyAction::Open,
        help: "open the pod",
    },
    Binding {
        keys: &[Char('p')],
        scope: Scope::Fleet,
        action: KeyAction::Pause,
        help: "pause this fleet",
    },
    Binding {
        keys: &[Char('r')],
        scope: Scope::Fleet,
        action: KeyAction::Resume,
        help: "resume this fleet",
    },
    Binding {
        keys: &[Char('d')],
        scope: Scope::Fleet,
        action: KeyAction::Drain,
        help: "drain this fleet",
    },
    Binding {
        keys: &[Char('s')],
        scope: Scope::Fleet,
        action: KeyAction::Seed,
        help: "seed test tasks into this fleet's queue",
    },
    Binding {
        keys: &[Char('R')],
        scope: Scope::Fleet,
        action: KeyAction::Redrive,
        help: "redrive this fleet's dead-letter queue",
    },
    Binding {
        keys: &[Char('e')],
        scope: Scope::Fleet,
        action: KeyAction::Evict,
        help: "evict the selected pod (the PDB decides)",
    },
    Binding {
        keys: &[Char('l')],
        scope: Scope::Fleet,
        action: KeyAction::Logs,
        help: "follow the selected pod's log",
    },
    Binding {
        keys: &[Char('o')],
        scope: Scope::Fleet,
        action: KeyAction::Sort,
        help: "sort pods by the next column: age, restarts, memory, CPU, status, name",
    },
    Binding {
        keys: &[Char('O')],
        scope: Scope::Fleet,
        action: KeyAction::Reverse,
        help: "reverse the sort",
    },
    Binding {
        keys: &[Char('c')],
        scope: Scope::Fleet,
        action: KeyAction::SortCpu,
        help: "sort pods by CPU used, most first (again: reversed)",
    },
    Binding {
        keys: &[Char('m')],
        scope: Scope::Fleet,
        action: KeyAction::SortMemory,
        help: "sort pods by memory used, most first (again: reversed)",
    },
    // Pod detail.
    Binding {
        keys: &[Char('e')],
        scope: Scope::Pod,
        action: KeyAction::Evict,
        help: "evict this pod (the PDB decides)",
    },
    Binding {
        keys: &[Char('l')],
        scope: Scope::Pod,
        action: KeyAction::Logs,
        help: "follow this pod's log full screen",
    },
    // Events.
    Binding {
        keys: &[Char('w')],
        scope: Scope::Events,
        action: KeyAction::WarningsOnly,
        help: "warnings only / all events",
    },
    // Logs.
    Binding {
        keys: &[Char('f')],
        scope: Scope::Logs,
        action: KeyAction::Follow,
        help: "follow the end of the log / hold still",
    },
    // Tables.
    Binding {
        keys: &[Char('k'), Code(KeyCode::Up)],
        scope: Scope::List,
        action: KeyAction::Up,
        help: "up",
    },
    Binding {
        keys: &[Char('j'), Code(KeyCode::Down)],
        scope: Scope::List,
        action: KeyAction::Down,
        help: "down",
    },
    Binding {
        keys: &[Code(KeyCode::PageUp), Ctrl('b')],
        scope: Scope::List,
        action: KeyAction::PageUp,
        help: "page up",
    },
    Binding {
        keys: &[Code(KeyCode::PageDown), Ctrl('f')],
        scope: Scope::List,
        action: KeyAction::PageDown,
        help: "page down",
    },
    Binding {
        keys: &[Char('g'), Code(KeyCode::Home)],
        scope: Scope::List,
        action: KeyAction::Top,
        help: "first row",
    },
    Binding {
        keys: &[Char('G'), Code(KeyCode::End)],
        scope: Scope::List,
        action: KeyAction::Bottom,
        help: "last row",
    },
    Binding {
        keys: &[Char('/')],
        scope: Scope::List,
        action: KeyAction::Filter,
        help: "filter the table (Enter keeps, Esc clears)",
    },
    // Everywhere.
    Binding {
        keys: &[Char('S')],
        scope: Scope::Global,
        action: KeyAction::SmokeTest,
        help: "smoke test: apply, seed, scale, agents, metrics, completion (checklist in the action log)",
    },
    Binding {
        keys: &[Char('a')],
        scope: Scope::Global,
        action: KeyAction::Apply,
        help: "apply the bundled manifests (dry run shown first)",
    },
    Binding {
        keys: &[Char('E')],
        scope: Scope::Global,
        action: KeyAction::Events,
        help: "events of the namespace",
    },
    Binding {
        keys: &[Char('L')],
        scope: Scope::Global,
        action: KeyAction::ActionLog,
        help: "action log: what was done, and its outcome",
    },
    Binding {
        keys: &[Char('i')],
        scope: Scope::Global,
        action: KeyAction::Health,
        help: "health: API, broker, scrapes not read and why",
    },
    Binding {
        keys: &[Char('x')],
        scope: Scope::Global,
        action: KeyAction::Cancel,
        help: "cancel the running drain, seeding, redrive or smoke test",
    },
    Binding {
        keys: &[Char(':')],
        scope: Scope::Global,
        action: KeyAction::Palette,
        help: "jump to a fleet or pod, or `ns NAME` to change namespace",
    },
    Binding {
        keys: &[Char('?')],
        scope: Scope::Global,
        action: KeyAction::Help,
        help: "this help",
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        scope: Scope::Global,
        action: KeyAction::Back,
        help: "back",
    },
    Binding {
        keys: &[Char('q'), Ctrl('c')],
        scope: Scope::Global,
        action: KeyAction::Quit,
        help: "quit",
    },
];

/// The action `ev` asks for on a screen with these scopes (most specific first).
pub fn lookup(scopes: &[Scope], ev: &KeyEvent) -> Option<KeyAction> {
    scopes.iter().find_map(|scope| {
        BINDINGS
            .iter()
            .filter(|b| b.scope == *scope)
            .find(|b| b.keys.iter().any(|k| k.matches(ev)))
            .map(|b| b.action)
    })
}

/// The help text: per scope, `keys  what they do`.
pub fn help_lines() -> Vec<(Scope, String, &'static str)> {
    BINDINGS
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            (b.scope, keys.join("/"), b.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn a_screen_binding_wins_over_the_global_one_and_ctrl_is_told_apart() {
        let fleet = [Scope::Fleet, Scope::List, Scope::Global];
        assert_eq!(lookup(&fleet, &key('e')), Some(KeyAction::Evict));
        assert_eq!(
            lookup(&[Scope::Fleets, Scope::List, Scope::Global], &key('e')),
            None
        );
        assert_eq!(lookup(&fleet, &key('q')), Some(KeyAction::Quit));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&fleet, &ctrl_c), Some(KeyAction::Quit));
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&fleet, &ctrl_f), Some(KeyAction::PageDown));
        assert_eq!(
            lookup(&[Scope::Logs, Scope::List, Scope::Global], &key('f')),
            Some(KeyAction::Follow)
        );
    }

    #[test]
    fn no_key_means_two_things_in_one_scope() {
        for a in BINDINGS {
            for b in BINDINGS {
                if std::ptr::eq(a, b) || a.scope != b.scope {
                    continue;
                }
                for k in a.keys {
                    assert!(!b.keys.contains(k), "{k:?} twice in {:?}", a.scope);
                }
            }
        }
    }

    #[test]
    fn the_help_names_every_binding() {
        let lines = help_lines();
        assert_eq!(lines.len(), BINDINGS.len());
        assert!(
            lines
                .iter()
                .any(|(s, k, h)| *s == Scope::Global && k == "q/Ctrl-C" && *h == "quit")
        );
    }
}
