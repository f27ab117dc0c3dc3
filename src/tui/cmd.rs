//! What the console asks the outside world to do: side effects as data. `update` returns them;
//! the executor in [`super::app`] runs them and answers with [`super::msg::Msg`]s.

use crate::cluster::actions::FleetRef;
use crate::metrics::scrape::Target;

/// An operator action, as planned and then confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Server-side apply of the bundled manifests.
    Apply,
    Pause(FleetRef),
    Resume(FleetRef),
    Drain {
        fleet: FleetRef,
        evict: bool,
    },
    /// Evict one pod through the Eviction API.
    Evict {
        pod: String,
    },
    /// Publish `count` test tasks into `queue`.
    Seed {
        queue: String,
        count: u64,
    },
    /// Move the dead-lettered messages of `from` back into `to`.
    Redrive {
        from: String,
        to: String,
    },
    /// `fleetctl smoke-test`: apply, seed, scale, pods, metrics, completion, clean-up.
    SmokeTest,
}

impl Action {
    /// A short name for the action log and dialogs: `pause job/batch`.
    pub fn title(&self) -> String {
        match self {
            Action::Apply => "apply the bundled manifests".into(),
            Action::Pause(f) => format!("pause {}", f.display()),
            Action::Resume(f) => format!("resume {}", f.display()),
            Action::Drain { fleet, evict } => format!(
                "drain {}{}",
                fleet.display(),
                if *evict { " (evict)" } else { "" }
            ),
            Action::Evict { pod } => format!("evict pod {pod}"),
            Action::Seed { queue, count } => format!("seed {count} tasks into {queue}"),
            Action::Redrive { from, to } => format!("redrive {from} into {to}"),
            Action::SmokeTest => "smoke test".into(),
        }
    }

    /// Actions that run on after they are started and can be cancelled (a cancelled smoke
    /// test still cleans up).
    pub fn long_running(&self) -> bool {
        matches!(
            self,
            Action::Drain { .. } | Action::Seed { .. } | Action::Redrive { .. } | Action::SmokeTest
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Read the depth of these queues by passive declare.
    ReadQueues(Vec<String>),
    /// Ask the management API about these queues.
    ReadMgmt(Vec<String>),
    /// Scrape these agents once.
    Scrape(Vec<Target>),
    /// Work out what `action` would do (dry run, current object), for its confirm dialog.
    Plan {
        id: u64,
        action: Action,
    },
    /// Do it.
    Run {
        id: u64,
        action: Action,
    },
    /// Stop a running action (a drain or a seeding) cleanly.
    Cancel {
        id: u64,
    },
    /// Follow a pod's log from its last lines.
    TailLogs {
        pod: String,
    },
    StopLogs,
    /// Watch another namespace: the sources restart and the model starts empty.
    SwitchNamespace(String),
    /// Leave the console.
    Quit,
}
