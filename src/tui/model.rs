//! The console's state, owned by one task. Data is folded in by `update` and the views are
//! derived when data changes ([`Model::refresh`]), never while drawing: `view` reads rows that
//! are already sorted and filtered.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use super::cmd::Action;
use super::msg::{LinkKind, LogLine};
use crate::fleet::model::Model as FleetModel;
use crate::fleet::objects::{
    AgentPod, EventSummary, FleetId, JobSummary, PodPhase, in_intervals, index_intervals,
};
use crate::fleet::status::{FleetStatus, Snapshot};
use crate::fleet::usage::{STALE_AFTER, UsageReading, cpu_against, memory_against};
use crate::metrics::agents::AgentSeries;
use crate::queue::mgmt::MgmtQueue;

/// Lines of a followed log kept in memory.
pub const LOG_LINES: usize = 2_000;
/// Entries of the action log kept.
pub const ACTION_LOG: usize = 200;
/// Progress lines kept per action.
pub const ACTION_LINES: usize = 50;

/// What the console was started against, for the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    pub context: String,
    pub server: String,
    pub namespace: String,
    pub selector: String,
    /// `local cluster, embedded broker` and the like; None for a real cluster.
    pub local: Option<String>,
    /// The broker URL with its password masked.
    pub broker: String,
    /// Scraping is on.
    pub scrape: bool,
}

/// Whether an outside party answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Link {
    #[default]
    Unknown,
    Up,
    Down {
        reason: String,
        since: Timestamp,
    },
    /// Not used (e.g. scraping off).
    Off,
}

/// A table's cursor and the first row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len`, keeping the selection inside a window of `page` rows.
    pub fn step(&mut self, delta: i64, len: usize, page: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        let target = (self.selected as i64 + delta).clamp(0, len as i64 - 1);
        self.selected = target as usize;
        self.fit(len, page);
    }

    /// Keeps the cursor inside `len` rows and the selection visible in `page` rows.
    pub fn fit(&mut self, len: usize, page: usize) {
        let page = page.max(1);
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(len.saturating_sub(page));
    }
}

/// A screen; the stack of them is what Esc walks back through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Fleets,
    Fleet(FleetId),
    Pod(String),
    Events,
    Actions,
    Logs(String),
    Health,
    Help,
}

/// How the pods table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodSort {
    #[default]
    Age,
    Restarts,
    Memory,
    Cpu,
    Status,
    Name,
}

impl PodSort {
    pub fn next(self) -> Self {
        match self {
            PodSort::Age => PodSort::Restarts,
            PodSort::Restarts => PodSort::Memory,
            PodSort::Memory => PodSort::Cpu,
            PodSort::Cpu => PodSort::Status,
            PodSort::Status => PodSort::Name,
            PodSort::Name => PodSort::Age,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PodSort::Age => "age",
            PodSort::Restarts => "restarts",
            PodSort::Memory => "memory",
            PodSort::Cpu => "cpu",
            PodSort::Status => "status",
            PodSort::Name => "name",
        }
    }
}

/// What the console holds of `metrics.k8s.io` (folded in by `update` from `Msg::Usage`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UsageState {
    /// The last reading with an answer: `Served` (pods' usage) or `NotServed`; a failure keeps
    /// the reading before it, which then ages. None before the first answer.
    pub last: Option<UsageReading>,
    /// When `last` arrived.
    pub at: Option<Timestamp>,
    /// Why the latest read failed, when it did.
    pub error: Option<String>,
}

impl UsageState {
    /// Pods' usage by `namespace/name`, when the API answered.
    pub fn served(&self) -> Option<&BTreeMap<String, crate::fleet::usage::PodUsage>> {
        self.last.as_ref().and_then(UsageReading::pods)
    }
}

/// What the header says about resource usage (derived in [`Model::refresh`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum UsageHeader {
    /// No answer yet.
    #[default]
    Waiting,
    /// The last reading is recent: pods sampled in it.
    Fresh { pods: usize },
    /// The last reading is older than two reading periods.
    Stale { age: std::time::Duration },
    /// The cluster does not serve the API: memory comes from the agents' own metrics.
    NotServed,
    /// The reads fail and no reading was had.
    Failed(String),
}

/// A pod row's usage: CPU and memory used and what they are held against (the limit, else the
/// request). Memory is the API's, or the agent's scraped RSS when the API is not served.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RowUsage {
    pub cpu_millicores: Option<f64>,
    pub cpu_against: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub memory_against: Option<u64>,
}

/// A dialog over the screen: it takes the keys until it closes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// The plan of `action` is being worked out.
    Planning { id: u64, action: Action },
    /// Enter runs `action`, Esc cancels. `option` is a toggle (Space), e.g. evict on drain.
    Confirm {
        id: u64,
        action: Action,
        lines: Vec<String>,
        warning: Option<String>,
        /// False: the plan found nothing to do; Enter only closes.
        changes: bool,
    },
    /// A number to type (seed count); Enter accepts.
    SeedCount {
        queue: String,
        value: String,
        error: Option<String>,
    },
    /// The plan failed: say why.
    Error { title: String, message: String },
}

/// A line typed at the bottom: a table filter or the command palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Filter(String),
    Palette(String),
}

/// The status line: the last outcome, or what is running.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusLine {
    pub text: String,
    pub error: bool,
    pub at: Timestamp,
}

/// One row of the action log.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEntry {
    pub id: u64,
    pub at: Timestamp,
    pub title: String,
    /// The latest progress line while it runs.
    pub progress: Option<String>,
    /// Every progress line (a smoke test's checklist), the last [`ACTION_LINES`].
    pub lines: Vec<String>,
    /// None while it runs.
    pub result: Option<Result<String, String>>,
    pub cancellable: bool,
}

/// A log line as shown: a JSON line of the agent split into columns, or the line as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum ShownLine {
    Fields {
        time: String,
        level: String,
        event: String,
        task_id: String,
        /// The other fields, `key=value`.
        rest: String,
    },
    Plain(String),
}

impl ShownLine {
    /// Splits a JSON log line (`timestamp`, `level`, `message` as the event, `task_id`).
    pub fn parse(line: &LogLine) -> Self {
        let text = line.text.trim_end();
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text)
        else {
            return ShownLine::Plain(text.to_string());
        };
        let get = |k: &str| match map.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        let ts = get("timestamp");
        let time = ts
            .split('T')
            .nth(1)
            .map(|t| t.chars().take(8).collect())
            .unwrap_or(ts);
        let event = if map.contains_key("event") {
            get("event")
        } else {
            get("message")
        };
        let rest = map
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "timestamp" | "level" | "message" | "event" | "task_id"
                )
            })
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                v => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(" ");
        ShownLine::Fields {
            time,
            level: get("level"),
            event,
            task_id: get("task_id"),
            rest,
        }
    }
}

/// A followed pod log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogTail {
    pub pod: String,
    pub lines: VecDeque<ShownLine>,
    /// Lines dropped off the front.
    pub dropped: usize,
    pub ended: Option<String>,
    /// Stick to the end (else hold the cursor still).
    pub follow: bool,
    pub cursor: Cursor,
}

/// When to poll next, and what is in flight: the update loop's own clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Polls {
    pub queues_at: Option<Timestamp>,
    pub queues_busy: bool,
    pub mgmt_at: Option<Timestamp>,
    pub mgmt_busy: bool,
    pub scrape_at: Option<Timestamp>,
    pub scrape_busy: bool,
}

/// How often the console reads what is not watched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intervals {
    pub queues: std::time::Duration,
    pub mgmt: std::time::Duration,
    pub scrape: std::time::Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            queues: std::time::Duration::from_secs(2),
            mgmt: std::time::Duration::from_secs(5),
            scrape: std::time::Duration::from_secs(5),
        }
    }
}

/// The whole console.
#[derive(Debug, Clone)]
pub struct Model {
    pub info: Info,
    pub now: Timestamp,
    pub width: u16,
    pub height: u16,
    pub color: bool,
    pub fleet: FleetModel,
    /// The agents' scraped series, and which fleet each scraped pod is of.
    pub agents: AgentSeries,
    pub queue_errors: BTreeMap<String, String>,
    pub mgmt: BTreeMap<String, Result<MgmtQueue, String>>,
    pub links: BTreeMap<LinkKind, Link>,
    pub polls: Polls,
    pub intervals: Intervals,
    /// Resource usage from `metrics.k8s.io`.
    pub usage: UsageState,
    /// Kinds whose first list (or refusal) has arrived.
    pub listed: std::collections::BTreeSet<crate::fleet::objects::ObjectKind>,
    /// When every kind had been listed: until then the screens say they are listing.
    pub listed_at: Option<Timestamp>,

    pub screens: Vec<Screen>,
    pub dialog: Option<Dialog>,
    pub prompt: Option<Prompt>,
    pub status: Option<StatusLine>,
    pub actions: VecDeque<ActionEntry>,
    pub next_id: u64,
    pub logs: Option<LogTail>,
    pub quit: bool,

    // Derived when data changes.
    pub snapshot: Snapshot,
    /// Fleets shown, as indexes into `snapshot.fleets` (filtered).
    pub fleet_rows: Vec<usize>,
    pub fleets_cursor: Cursor,
    pub fleets_filter: String,
    /// Pods of the open fleet, sorted and filtered: names.
    pub pod_rows: Vec<String>,
    /// The usage of each of `pod_rows`, same order.
    pub pod_usage: Vec<RowUsage>,
    /// The header's word on resource usage.
    pub usage_header: UsageHeader,
    /// The open pod's usage (pod detail).
    pub open_pod_usage: Option<RowUsage>,
    pub pods_cursor: Cursor,
    pub pods_filter: String,
    pub pod_sort: PodSort,
    pub pod_sort_desc: bool,
    /// Jobs of the open fleet, newest first, with their Indexed completion bars.
    pub job_rows: Vec<JobRow>,
    /// Events, newest first: keys into `fleet.events()`.
    pub event_rows: Vec<String>,
    /// The open pod's events, newest first: keys into `fleet.events()`.
    pub pod_events: Vec<String>,
    pub events_cursor: Cursor,
    pub events_filter: String,
    pub warnings_only: bool,
    pub actions_cursor: Cursor,
    pub health_cursor: Cursor,
    pub help_cursor: Cursor,
    /// Data changed since the last derivation.
    pub stale: bool,
    /// Only time passed: the summary (windows, rates) is due, the sorted rows are not.
    pub clock_stale: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl Model {
    pub fn new(info: Info, now: Timestamp, width: u16, height: u16) -> Self {
        let fleet = FleetModel::new(info.namespace.clone());
        let snapshot = Snapshot::build(&fleet, now, BTreeMap::new(), &BTreeMap::new());
        let mut links = BTreeMap::new();
        links.insert(LinkKind::Api, Link::Unknown);
        links.insert(LinkKind::Broker, Link::Unknown);
        links.insert(LinkKind::Mgmt, Link::Unknown);
        Model {
            info,
            now,
            width,
            height,
            color: true,
            fleet,
            agents: AgentSeries::default(),
            queue_errors: BTreeMap::new(),
            mgmt: BTreeMap::new(),
            links,
            polls: Polls::default(),
            intervals: Intervals::default(),
            usage: UsageState::default(),
            listed: Default::default(),
            listed_at: None,
            screens: vec![Screen::Fleets],
            dialog: None,
            prompt: None,
            status: None,
            actions: VecDeque::new(),
            next_id: 1,
            logs: None,
            quit: false,
            snapshot,
            fleet_rows: vec![],
            fleets_cursor: Cursor::default(),
            fleets_filter: String::new(),
            pod_rows: vec![],
            pod_usage: vec![],
            usage_header: UsageHeader::Waiting,
            open_pod_usage: None,
            job_rows: vec![],
            pods_cursor: Cursor::default(),
            pods_filter: String::new(),
            pod_sort: PodSort::default(),
            pod_sort_desc: false,
            event_rows: vec![],
            pod_events: vec![],
            events_cursor: Cursor::default(),
            events_filter: String::new(),
            warnings_only: false,
            actions_cursor: Cursor::default(),
            health_cursor: Cursor::default(),
            help_cursor: Cursor::default(),
            stale: true,
            clock_stale: false,
            dirty: true,
        }
    }

    pub fn screen(&self) -> &Screen {
        self.screens.last().unwrap_or(&Screen::Fleets)
    }

    /// The fleet the screen is about: the open one, else the selected row of the fleets table.
    pub fn current_fleet(&self) -> Option<&FleetStatus> {
        match self.screen() {
            Screen::Fleet(id) => self
                .snapshot
                .fleets
                .iter()
                .find(|f| f.kind == id.kind && f.name == id.name),
            Screen::Fleets => self
                .fleet_rows
                .get(self.fleets_cursor.selected)
                .and_then(|i| self.snapshot.fleets.get(*i)),
            _ => None,
        }
    }

    /// The pod the screen is about: the open one, else the selected row of the pods table.
    pub fn current_pod(&self) -> Option<&AgentPod> {
        match self.screen() {
            Screen::Pod(name) | Screen::Logs(name) => self.fleet.pods().get(name),
            Screen::Fleet(_) => self
                .pod_rows
                .get(self.pods_cursor.selected)
                .and_then(|n| self.fleet.pods().get(n)),
            _ => None,
        }
    }

    /// Rows a table has on the current screen at the current size (the view uses the same
    /// layout, see `view::table_rows`).
    pub fn page(&self) -> usize {
        super::view::table_rows(self)
    }

    /// Recomputes what the views show from the data: the summary, then the rows of the tables
    /// (filtered and sorted). Called once per burst of messages, not per frame.
    pub fn refresh(&mut self) {
        if !self.stale && !self.clock_stale {
            return;
        }
        let metrics = if self.info.scrape {
            self.agents.summary(self.now)
        } else {
            BTreeMap::new()
        };
        self.snapshot = Snapshot::build(&self.fleet, self.now, self.queue_errors.clone(), &metrics)
            .with_usage(&self.fleet, self.usage.last.as_ref());
        self.usage_header = usage_header(&self.usage, self.now);
        self.derive_fleets();
        self.clock_stale = false;
        if !self.stale {
            // The rows below sort by what the data says, not by the time: they stand.
            return;
        }
        self.stale = false;
        self.derive_pods();
        // Events can number tens of thousands: sorted only while their screen is open.
        if self.screens.contains(&Screen::Events) {
            self.derive_events();
        } else {
            self.event_rows.clear();
        }
        self.derive_pod_events();
        let page = self.page();
        self.fleets_cursor.fit(self.fleet_rows.len(), page);
        self.pods_cursor.fit(self.pod_rows.len(), page);
        self.events_cursor.fit(self.event_rows.len(), page);
        self.actions_cursor.fit(self.actions.len(), page);
    }

    fn derive_fleets(&mut self) {
        let needle = self.fleets_filter.to_lowercase();
        self.fleet_rows = self
            .snapshot
            .fleets
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                needle.is_empty()
                    || f.display().to_lowercase().contains(&needle)
                    || f.queue.as_deref().is_some_and(|q| q.contains(&needle))
            })
            .map(|(i, _)| i)
            .collect();
    }

    /// The pods of the open fleet (or none).
    fn derive_pods(&mut self) {
        let Some(Screen::Fleet(id)) = self
            .screens
            .iter()
            .rev()
            .find(|s| matches!(s, Screen::Fleet(_)))
            .cloned()
        else {
            self.pod_rows.clear();
            self.pod_usage.clear();
            self.job_rows.clear();
            return;
        };
        self.derive_jobs(&id);
        let needle = self.pods_filter.to_lowercase();
        let served = self.usage.served();
        let store = self.agents.store();
        let mut key = String::new();
        let mut rows: Vec<(&AgentPod, RowUsage)> = self
            .fleet
            .pods_of(&id)
            .filter(|p| needle.is_empty() || pod_matches(p, &needle))
            .map(|p| (p, row_usage(served, store, p, &mut key)))
            .collect();
        // Biggest first; pods without a sample last.
        fn most<T: PartialOrd>(a: Option<T>, b: Option<T>) -> std::cmp::Ordering {
            match (a, b) {
                (Some(a), Some(b)) => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        }
        match self.pod_sort {
            // Newest first by default, as an operator looks for what just started.
            PodSort::Age => {
                rows.sort_by(|(a, _), (b, _)| b.created.cmp(&a.created).then(a.name.cmp(&b.name)))
            }
            PodSort::Restarts => {
                rows.sort_by(|(a, _), (b, _)| b.restarts.cmp(&a.restarts).then(a.name.cmp(&b.name)))
            }
            PodSort::Memory => rows.sort_by(|(a, ua), (b, ub)| {
                most(ua.memory_bytes, ub.memory_bytes).then(a.name.cmp(&b.name))
            }),
            PodSort::Cpu => rows.sort_by(|(a, ua), (b, ub)| {
                most(ua.cpu_millicores, ub.cpu_millicores).then(a.name.cmp(&b.name))
            }),
            PodSort::Status => rows.sort_by(|(a, _), (b, _)| {
                status_rank(a)
                    .cmp(&status_rank(b))
                    .then(a.name.cmp(&b.name))
            }),
            PodSort::Name => rows.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name)),
        }
        if self.pod_sort_desc {
            rows.reverse();
        }
        self.pod_usage = rows.iter().map(|(_, u)| *u).collect();
        self.pod_rows = rows.into_iter().map(|(p, _)| p.name.clone()).collect();
    }

    /// The open fleet's Jobs and, for Indexed ones, what each index is doing.
    fn derive_jobs(&mut self, id: &FleetId) {
        let mut by_job: std::collections::HashMap<&str, Vec<&AgentPod>> = Default::default();
        for pod in self.fleet.pods_of(id) {
            if let Some(j) = pod.job_name.as_deref() {
                by_job.entry(j).or_default().push(pod);
            }
        }
        let mut jobs: Vec<&JobSummary> = self.fleet.jobs_of(id).collect();
        jobs.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
        self.job_rows = jobs
            .into_iter()
            .map(|j| JobRow {
                name: j.name.clone(),
                bar: j.indexed.then(|| {
                    index_cells(
                        j,
                        by_job.get(j.name.as_str()).map_or(&[], Vec::as_slice),
                        BAR_CELLS,
                    )
                }),
            })
            .collect();
    }

    /// The open pod's events, newest first.
    fn derive_pod_events(&mut self) {
        let Some(pod) = self.screens.iter().rev().find_map(|s| match s {
            Screen::Pod(p) => Some(p.clone()),
            _ => None,
        }) else {
            self.pod_events.clear();
            self.open_pod_usage = None;
            return;
        };
        self.open_pod_usage = self.fleet.pods().get(&pod).map(|p| {
            row_usage(
                self.usage.served(),
                self.agents.store(),
                p,
                &mut String::new(),
            )
        });
        let mut rows: Vec<(&String, &crate::fleet::objects::EventSummary)> = self
            .fleet
            .events()
            .iter()
            .filter(|(_, e)| e.involved_kind == "Pod" && e.involved_name == pod)
            .collect();
        rows.sort_by(|a, b| b.1.last_seen.cmp(&a.1.last_seen).then(a.0.cmp(b.0)));
        self.pod_events = rows.into_iter().map(|(k, _)| k.clone()).collect();
    }

    fn derive_events(&mut self) {
        let needle = self.events_filter.to_lowercase();
        let mut rows: Vec<(&String, &EventSummary)> = self
            .fleet
            .events()
            .iter()
            .filter(|(_, e)| !self.warnings_only || e.warning)
            .filter(|(_, e)| {
                needle.is_empty()
                    || e.reason.to_lowercase().contains(&needle)
                    || e.message.to_lowercase().contains(&needle)
                    || e.involved_name.to_lowercase().contains(&needle)
            })
            .collect();
        rows.sort_by(|a, b| b.1.last_seen.cmp(&a.1.last_seen).then(a.0.cmp(b.0)));
        self.event_rows = rows.into_iter().map(|(k, _)| k.clone()).collect();
    }

    /// A new action id.
    pub fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(StatusLine {
            text: text.into(),
            error,
            at: self.now,
        });
    }
}

/// A pod's usage: the API's when it answered (None until the pod is sampled), else the
/// agent's own scraped RSS. `key` is scratch space for `namespace/name`.
fn row_usage(
    served: Option<&BTreeMap<String, crate::fleet::usage::PodUsage>>,
    store: &crate::metrics::series::MetricsStore,
    p: &AgentPod,
    key: &mut String,
) -> RowUsage {
    key.clear();
    key.push_str(&p.namespace);
    key.push('/');
    key.push_str(&p.name);
    let (cpu, memory) = match served {
        Some(pods) => pods.get(key.as_str()).map_or((None, None), |u| {
            (Some(u.cpu_millicores), Some(u.memory_bytes))
        }),
        // Without the API, the agent's own RSS.
        None => (
            None,
            store.pod(key).and_then(|s| s.memory()).map(|(rss, _)| rss),
        ),
    };
    RowUsage {
        cpu_millicores: cpu,
        cpu_against: cpu_against(p),
        memory_bytes: memory,
        memory_against: memory_against(p),
    }
}

/// What the header says about usage at `now`.
pub fn usage_header(u: &UsageState, now: Timestamp) -> UsageHeader {
    match (&u.last, u.at) {
        (Some(UsageReading::NotServed), _) => UsageHeader::NotServed,
        (Some(UsageReading::Served(pods)), Some(at)) => {
            let age = std::time::Duration::try_from(now.duration_since(at)).unwrap_or_default();
            if age > STALE_AFTER {
                UsageHeader::Stale { age }
            } else {
                UsageHeader::Fresh { pods: pods.len() }
            }
        }
        _ => match &u.error {
            Some(e) => UsageHeader::Failed(e.clone()),
            None => UsageHeader::Waiting,
        },
    }
}

/// What the pod's status column says, kubectl-style.
pub fn pod_status(p: &AgentPod) -> String {
    if p.deletion {
        return "Terminating".into();
    }
    if p.unschedulable {
        return "Unschedulable".into();
    }
    if let Some(r) = &p.status_reason {
        return r.clone();
    }
    match p.phase {
        PodPhase::Running if !p.ready => "Running (not ready)".into(),
        PodPhase::Failed => p
            .last_termination
            .as_ref()
            .map(|t| t.reason.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "Failed".into()),
        phase => format!("{phase:?}"),
    }
}

/// Problems first: failed and unschedulable, then pending and terminating, then running, done.
fn status_rank(p: &AgentPod) -> u8 {
    match p.phase {
        PodPhase::Failed | PodPhase::Unknown => 0,
        _ if p.unschedulable => 0,
        PodPhase::Pending => 1,
        _ if p.deletion => 2,
        PodPhase::Running if !p.ready => 3,
        PodPhase::Running => 4,
        PodPhase::Succeeded => 5,
    }
}

fn pod_matches(p: &AgentPod, needle: &str) -> bool {
    p.name.to_lowercase().contains(needle)
        || p.node.as_deref().is_some_and(|n| n.contains(needle))
        || pod_status(p).to_lowercase().contains(needle)
}

/// The finest an index bar is kept: wider bars than this show the same cells stretched.
pub const BAR_CELLS: usize = 240;

/// What the indexes of one cell of a bar are doing, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexCell {
    /// A pod of an index that is not done failed.
    Failed,
    /// Every index done.
    Done,
    /// An index has a pod pending or running.
    Running,
    Todo,
}

impl IndexCell {
    /// One cell for several: a failure shows, done only when all are, else running if any is.
    pub fn combine(cells: &[IndexCell]) -> IndexCell {
        if cells.contains(&IndexCell::Failed) {
            IndexCell::Failed
        } else if !cells.is_empty() && cells.iter().all(|c| *c == IndexCell::Done) {
            IndexCell::Done
        } else if cells.contains(&IndexCell::Running) {
            IndexCell::Running
        } else {
            IndexCell::Todo
        }
    }

    pub fn symbol(self) -> char {
        match self {
            IndexCell::Failed => '✗',
            IndexCell::Done => '█',
            IndexCell::Running => '▒',
            IndexCell::Todo => '·',
        }
    }
}

/// A Job of the open fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub name: String,
    /// Indexed Jobs: at most [`BAR_CELLS`] cells over its completions.
    pub bar: Option<Vec<IndexCell>>,
}

/// The completions of `job` in at most `cells` cells, from `completedIndexes` and its pods.
pub fn index_cells(job: &JobSummary, pods: &[&AgentPod], cells: usize) -> Vec<IndexCell> {
    let total = i64::from(job.completions.unwrap_or(job.parallelism).max(0));
    if total == 0 || cells == 0 {
        return vec![];
    }
    let done = index_intervals(job.completed_indexes.as_deref().unwrap_or(""));
    let mut running = std::collections::HashSet::new();
    let mut failed = std::collections::HashSet::new();
    for pod in pods {
        let Some(i) = pod.completion_index else {
            continue;
        };
        match pod.phase {
            PodPhase::Running | PodPhase::Pending => {
                running.insert(i64::from(i));
            }
            PodPhase::Failed => {
                failed.insert(i64::from(i));
            }
            _ => {}
        }
    }
    let n = (total as usize).min(cells);
    (0..n)
        .map(|c| {
            let from = c as i64 * total / n as i64;
            let to = ((c as i64 + 1) * total / n as i64).max(from + 1);
            if (from..to).any(|i| failed.contains(&i) && !in_intervals(&done, i)) {
                IndexCell::Failed
            } else if (from..to).all(|i| in_intervals(&done, i)) {
                IndexCell::Done
            } else if (from..to).any(|i| running.contains(&i)) {
                IndexCell::Running
            } else {
                IndexCell::Todo
            }
        })
        .collect()
}

/// `cells` drawn in `width` characters.
pub fn bar_text(cells: &[IndexCell], width: usize) -> String {
    let n = cells.len().min(width);
    (0..n)
        .map(|c| {
            let from = c * cells.len() / n;
            let to = ((c + 1) * cells.len() / n).max(from + 1);
            IndexCell::combine(&cells[from..to]).symbol()
        })
        .collect()
}
