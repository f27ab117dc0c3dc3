//! Pod status as the kubelet reports it (SPEC-k8s.md §3), built from a container state machine.
//! Pure: time comes in as `now`, nothing here does I/O.
//!
//! [`PodState`] holds what the kubelet knows about one pod (its containers' states, restart
//! counts, IPs, whether it is being stopped or was evicted); [`PodState::status`] renders the
//! `status` object, and [`patch`] turns it into the strategic merge patch the kubelet sends
//! (conditions merge by type, so a `DisruptionTarget` written by the eviction API survives).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

/// Why the kubelet killed a container, beyond what the exit code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KilledFor {
    /// Over `limits.memory`.
    Oom,
    /// Its livenessProbe failed `failureThreshold` times: restarted unless the policy is
    /// Never, whatever its exit code.
    Liveness,
}

/// A container's end.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminated {
    pub exit_code: i32,
    /// Set when the process died of a signal (the exit code is then 128 + signal).
    pub signal: Option<i32>,
    pub reason: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub container_id: String,
}

impl Terminated {
    /// `reason` as the kubelet derives it: OOMKilled when it killed for memory, Completed for
    /// exit 0, Error otherwise.
    pub fn new(
        exit_code: i32,
        signal: Option<i32>,
        killed: Option<KilledFor>,
        started_at: Timestamp,
        finished_at: Timestamp,
        container_id: String,
    ) -> Self {
        let oom = killed == Some(KilledFor::Oom);
        let (exit_code, reason) = match killed {
            Some(KilledFor::Oom) => (137, "OOMKilled"),
            _ if exit_code == 0 => (0, "Completed"),
            _ => (exit_code, "Error"),
        };
        Terminated {
            exit_code,
            signal: if oom { None } else { signal },
            reason: reason.into(),
            started_at,
            finished_at,
            container_id,
        }
    }

    fn json(&self) -> Value {
        let mut t = json!({
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": ts(self.started_at),
            "finishedAt": ts(self.finished_at),
            "containerID": self.container_id,
        });
        if let Some(s) = self.signal {
            t["signal"] = json!(s);
        }
        t
    }
}

/// One container's current state.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Running {
        started_at: Timestamp,
        container_id: String,
    },
    Terminated(Terminated),
}

impl State {
    pub fn creating() -> Self {
        State::Waiting {
            reason: "ContainerCreating".into(),
            message: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub state: State,
    pub last: Option<Terminated>,
    pub restart_count: i32,
    /// The readiness probe passes (or there is none).
    pub probe_ready: bool,
    /// The container has been running at some point.
    pub ever_started: bool,
}

impl Container {
    pub fn new(name: &str, image: &str) -> Self {
        Container {
            name: name.into(),
            image: image.into(),
            state: State::creating(),
            last: None,
            restart_count: 0,
            probe_ready: false,
            ever_started: false,
        }
    }

    pub fn ready(&self) -> bool {
        matches!(self.state, State::Running { .. }) && self.probe_ready
    }

    fn json(&self) -> Value {
        let running = matches!(self.state, State::Running { .. });
        let mut c = json!({
            "name": self.name,
            "image": self.image,
            "imageID": if self.ever_started { self.image.clone() } else { String::new() },
            "ready": self.ready(),
            "started": running,
            "restartCount": self.restart_count,
            "lastState": match &self.last {
                Some(t) => json!({"terminated": t.json()}),
                None => json!({}),
            },
        });
        match &self.state {
            State::Waiting { reason, message } => {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                c["state"] = json!({ "waiting": w });
            }
            State::Running {
                started_at,
                container_id,
            } => {
                c["state"] = json!({"running": {"startedAt": ts(*started_at)}});
                c["containerID"] = json!(container_id);
            }
            State::Terminated(t) => {
                c["state"] = json!({"terminated": t.json()});
                c["containerID"] = json!(t.container_id);
            }
        }
        if let (State::Waiting { .. }, Some(t)) = (&self.state, &self.last) {
            c["containerID"] = json!(t.container_id);
        }
        c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("Never") => RestartPolicy::Never,
            Some("OnFailure") => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        }
    }

    /// Whether a container that exited with `code` is started again.
    pub fn restarts(self, code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// A kubelet-owned condition: its status and when that last changed.
#[derive(Debug, Clone, PartialEq)]
struct Cond {
    status: bool,
    reason: Option<String>,
    message: Option<String>,
    since: Timestamp,
}

/// A kubelet pressure eviction (SPEC §3).
#[derive(Debug, Clone, PartialEq)]
pub struct Eviction {
    pub message: String,
    pub at: Timestamp,
}

/// What the kubelet knows about one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodState {
    pub restart_policy: RestartPolicy,
    pub containers: Vec<Container>,
    pub host_ip: String,
    pub pod_ip: Option<String>,
    pub start_time: Timestamp,
    pub qos_class: String,
    /// When the scheduler bound the pod (the `PodScheduled` condition's time).
    pub scheduled_at: Timestamp,
    /// The pod is being deleted: nothing restarts, and the phase follows the exit codes.
    pub stopping: bool,
    pub evicted: Option<Eviction>,
    conds: Vec<(&'static str, Cond)>,
}

/// The kubelet's conditions, in the order it reports them.
const CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

impl PodState {
    pub fn new(
        restart_policy: RestartPolicy,
        containers: Vec<Container>,
        host_ip: &str,
        qos_class: &str,
        scheduled_at: Timestamp,
        now: Timestamp,
    ) -> Self {
        let mut s = PodState {
            restart_policy,
            containers,
            host_ip: host_ip.into(),
            pod_ip: None,
            start_time: now,
            qos_class: qos_class.into(),
            scheduled_at,
            stopping: false,
            evicted: None,
            conds: vec![],
        };
        s.refresh(now);
        s
    }

    /// The phase the containers' states give (kubelet `getPhase`).
    pub fn phase(&self) -> Phase {
        if self.evicted.is_some() {
            return Phase::Failed;
        }
        let waiting_new =
            |c: &Container| matches!(c.state, State::Waiting { .. }) && !c.ever_started;
        let running = |c: &Container| matches!(c.state, State::Running { .. });
        let waiting_restart =
            |c: &Container| matches!(c.state, State::Waiting { .. }) && c.ever_started;
        let cs = &self.containers;
        if !self.stopping && cs.iter().any(waiting_new) {
            return Phase::Pending;
        }
        if cs.iter().any(running) || (!self.stopping && cs.iter().any(waiting_restart)) {
            return Phase::Running;
        }
        // Everything has stopped: the exit codes decide (a container stopped while waiting to
        // restart counts by its last exit; one that never ran counts as failed).
        let ok = cs.iter().all(|c| match &c.state {
            State::Terminated(t) => t.exit_code == 0,
            _ => c.last.as_ref().is_some_and(|t| t.exit_code == 0),
        });
        if ok { Phase::Succeeded } else { Phase::Failed }
    }

    /// Every container has stopped for good (nothing runs or waits to restart).
    pub fn all_stopped(&self) -> bool {
        self.containers.iter().all(|c| {
            matches!(c.state, State::Terminated(_))
                || (self.stopping && !matches!(c.state, State::Running { .. }))
        })
    }

    fn set(
        &mut self,
        ty: &'static str,
        status: bool,
        reason: Option<&str>,
        message: Option<String>,
        now: Timestamp,
    ) {
        let reason = reason.map(String::from);
        match self.conds.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, c)) => {
                if c.status != status {
                    c.since = now;
                }
                c.status = status;
                c.reason = reason;
                c.message = message;
            }
            None => self.conds.push((
                ty,
                Cond {
                    status,
                    reason,
                    message,
                    since: now,
                },
            )),
        }
    }

    /// Recomputes the conditions after a change; a condition's time moves only when its status
    /// does.
    pub fn refresh(&mut self, now: Timestamp) {
        let phase = self.phase();
        let sandbox = self.pod_ip.is_some() && !phase.is_terminal();
        self.set("PodReadyToStartContainers", sandbox, None, None, now);
        let init_reason = (phase == Phase::Succeeded).then_some("PodCompleted");
        self.set("Initialized", true, init_reason, None, now);
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| !c.ready())
            .map(|c| c.name.as_str())
            .collect();
        let ready = unready.is_empty() && !phase.is_terminal() && !self.stopping;
        let (reason, message) = match phase {
            _ if ready => (None, None),
            Phase::Succeeded => (Some("PodCompleted"), None),
            Phase::Failed => (Some("PodFailed"), None),
            _ => (
                Some("ContainersNotReady"),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            ),
        };
        self.set("ContainersReady", ready, reason, message.clone(), now);
        self.set("Ready", ready, reason, message, now);
    }

    /// The pod's `status` object.
    pub fn status(&self) -> Value {
        let phase = self.phase();
        let mut conds: Vec<Value> = CONDITIONS
            .iter()
            .filter_map(|ty| self.conds.iter().find(|(t, _)| t == ty))
            .map(|(ty, c)| {
                cond_json(
                    ty,
                    c.status,
                    c.reason.as_deref(),
                    c.message.as_deref(),
                    c.since,
                )
            })
            .collect();
        conds.push(cond_json(
            "PodScheduled",
            true,
            None,
            None,
            self.scheduled_at,
        ));
        let mut s = json!({
            "phase": phase.as_str(),
            "conditions": conds,
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": ts(self.start_time),
            "qosClass": self.qos_class,
            "containerStatuses": self.containers.iter().map(Container::json).collect::<Vec<_>>(),
        });
        if let Some(ip) = &self.pod_ip {
            s["podIP"] = json!(ip);
            s["podIPs"] = json!([{"ip": ip}]);
        }
        if let Some(e) = &self.evicted {
            s["reason"] = json!("Evicted");
            s["message"] = json!(e.message);
            s["conditions"]
                .as_array_mut()
                .expect("an array")
                .push(cond_json(
                    "DisruptionTarget",
                    true,
                    Some("TerminationByKubelet"),
                    Some(&e.message),
                    e.at,
                ));
        }
        s
    }
}

fn cond_json(
    ty: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<&str>,
    since: Timestamp,
) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), json!(ty));
    c.insert(
        "status".into(),
        json!(if status { "True" } else { "False" }),
    );
    if let Some(r) = reason {
        c.insert("reason".into(), json!(r));
    }
    if let Some(m) = message {
        c.insert("message".into(), json!(m));
    }
    c.insert("lastProbeTime".into(), Value::Null);
    c.insert("lastTransitionTime".into(), json!(ts(since)));
    Value::Object(c)
}

/// The strategic merge patch that makes a pod's status `status`: conditions merge by type, so
/// every condition names its reason and message (null when absent) to clear stale ones.
pub fn patch(status: &Value) -> Value {
    let mut s = status.clone();
    if let Some(conds) = s["conditions"].as_array_mut() {
        for c in conds {
            for k in ["reason", "message"] {
                if c.get(k).is_none() {
                    c[k] = Value::Null;
                }
            }
        }
    }
    json!({ "status": s })
}

/// RFC 3339 in seconds, as Kubernetes writes times.
pub fn ts(t: Timestamp) -> String {
    t.round(jiff::Unit::Second)
        .unwrap_or(t)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// CrashLoopBackOff delay after the `n`-th consecutive failure (1-based): `initial` doubling,
/// capped at `max`.
pub fn backoff(n: u32, initial: SignedDuration, max: SignedDuration) -> SignedDuration {
    let mut d = initial;
    for _ in 1..n {
        d = d.checked_mul(2).unwrap_or(max);
        if d >= max {
            return max;
        }
    }
    d.min(max)
}

/// The CrashLoopBackOff waiting message.
pub fn backoff_message(
    delay: SignedDuration,
    container: &str,
    pod: &str,
    ns: &str,
    uid: &str,
) -> String {
    let secs = delay.as_secs();
    let human = if secs >= 60 && secs % 60 == 0 {
        format!("{}m0s", secs / 60)
    } else if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    };
    format!("back-off {human} restarting failed container={container} pod={pod}_{ns}({uid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn pod(policy: RestartPolicy) -> PodState {
        PodState::new(
            policy,
            vec![Container::new("agent", "ghcr.io/fleetctl/agent:0.1.0")],
            "127.0.0.1",
            "Burstable",
            t(0),
            t(1),
        )
    }

    fn cond<'a>(s: &'a Value, ty: &str) -> &'a Value {
        s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == ty)
            .unwrap_or_else(|| panic!("no {ty} in {s}"))
    }

    fn run(p: &mut PodState, at: Timestamp) {
        p.pod_ip = Some("127.1.0.1".into());
        let c = &mut p.containers[0];
        c.state = State::Running {
            started_at: at,
            container_id: "fleetctl://1".into(),
        };
        c.ever_started = true;
        c.probe_ready = true;
        p.refresh(at);
    }

    fn exit(p: &mut PodState, code: i32, killed: Option<KilledFor>, at: Timestamp) {
        let term = Terminated::new(code, None, killed, t(2), at, "fleetctl://1".into());
        let c = &mut p.containers[0];
        if p.restart_policy.restarts(term.exit_code) && !p.stopping {
            c.restart_count += 1;
            c.last = Some(term);
            c.state = State::Waiting {
                reason: "CrashLoopBackOff".into(),
                message: Some("back-off 10s".into()),
            };
        } else {
            c.state = State::Terminated(term);
        }
        p.refresh(at);
    }

    #[test]
    fn a_liveness_kill_keeps_the_exit_code_and_signal_an_oom_kill_does_not() {
        let live = Terminated::new(
            143,
            Some(15),
            Some(KilledFor::Liveness),
            t(0),
            t(1),
            "c".into(),
        );
        assert_eq!(
            (live.exit_code, live.signal, live.reason.as_str()),
            (143, Some(15), "Error")
        );
        let idle = Terminated::new(0, None, Some(KilledFor::Liveness), t(0), t(1), "c".into());
        assert_eq!(idle.reason, "Completed");
        let oom = Terminated::new(9, Some(9), Some(KilledFor::Oom), t(0), t(1), "c".into());
        assert_eq!(
            (oom.exit_code, oom.signal, oom.reason.as_str()),
            (137, None, "OOMKilled")
        );
    }

    #[test]
    fn starting_is_pending_with_container_creating() {
        let p = pod(RestartPolicy::Never);
        let s = p.status();
        assert_eq!(s["phase"], "Pending");
        let cs = &s["containerStatuses"][0];
        assert_eq!(cs["state"]["waiting"]["reason"], "ContainerCreating");
        assert_eq!(cs["ready"], false);
        assert_eq!(cs["started"], false);
        assert_eq!(cs["restartCount"], 0);
        assert_eq!(cs["lastState"], json!({}));
        assert!(s.get("podIP").is_none());
        assert_eq!(cond(&s, "PodScheduled")["status"], "True");
        assert_eq!(cond(&s, "PodReadyToStartContainers")["status"], "False");
        assert_eq!(cond(&s, "Initialized")["status"], "True");
        let ready = cond(&s, "Ready");
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ContainersNotReady");
        assert_eq!(ready["message"], "containers with unready status: [agent]");
        assert_eq!(s["startTime"], ts(t(1)));
    }

    #[test]
    fn running_has_every_condition_true_and_an_ip() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        let s = p.status();
        assert_eq!(s["phase"], "Running");
        let types: Vec<&str> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        for ty in types {
            assert_eq!(cond(&s, ty)["status"], "True", "{ty}");
            assert!(cond(&s, ty).get("reason").is_none(), "{ty}");
        }
        assert_eq!(cond(&s, "Ready")["lastTransitionTime"], ts(t(2)));
        // Initialized was already true: its time stays.
        assert_eq!(cond(&s, "Initialized")["lastTransitionTime"], ts(t(1)));
        let cs = &s["containerStatuses"][0];
        assert_eq!(cs["state"]["running"]["startedAt"], ts(t(2)));
        assert_eq!(
            (cs["ready"].clone(), cs["started"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(s["podIP"], "127.1.0.1");
        assert_eq!(s["podIPs"], json!([{"ip": "127.1.0.1"}]));
    }

    #[test]
    fn exit_zero_succeeds_with_pod_completed() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        exit(&mut p, 0, None, t(5));
        let s = p.status();
        assert_eq!(s["phase"], "Succeeded");
        let term = &s["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(term["exitCode"], 0);
        assert_eq!(term["reason"], "Completed");
        assert_eq!(term["finishedAt"], ts(t(5)));
        let ready = cond(&s, "Ready");
        assert_eq!(
            (ready["status"].as_str(), ready["reason"].as_str()),
            (Some("False"), Some("PodCompleted"))
        );
        assert_eq!(cond(&s, "ContainersReady")["reason"], "PodCompleted");
        assert_eq!(cond(&s, "Initialized")["reason"], "PodCompleted");
        assert_eq!(cond(&s, "PodReadyToStartContainers")["status"], "False");
        // OnFailure does not restart a clean exit either.
        let mut p = pod(RestartPolicy::OnFailure);
        run(&mut p, t(2));
        exit(&mut p, 0, None, t(5));
        assert_eq!(p.phase(), Phase::Succeeded);
    }

    #[test]
    fn nonzero_exit_fails_with_error() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        exit(&mut p, 3, None, t(5));
        let s = p.status();
        assert_eq!(s["phase"], "Failed");
        let term = &s["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(
            (term["exitCode"].clone(), term["reason"].clone()),
            (json!(3), json!("Error"))
        );
        assert_eq!(cond(&s, "Ready")["reason"], "PodFailed");
        assert!(cond(&s, "Initialized").get("reason").is_none());
    }

    #[test]
    fn oom_never_fails_with_137_oomkilled() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        exit(&mut p, 137, Some(KilledFor::Oom), t(5));
        let s = p.status();
        assert_eq!(s["phase"], "Failed");
        let term = &s["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(term["exitCode"], 137);
        assert_eq!(term["reason"], "OOMKilled");
        assert!(term.get("signal").is_none());
    }

    #[test]
    fn oom_on_failure_keeps_running_in_crash_loop_back_off() {
        let mut p = pod(RestartPolicy::OnFailure);
        run(&mut p, t(2));
        exit(&mut p, 137, Some(KilledFor::Oom), t(5));
        let s = p.status();
        assert_eq!(s["phase"], "Running");
        let cs = &s["containerStatuses"][0];
        assert_eq!(cs["restartCount"], 1);
        assert_eq!(cs["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(cs["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(cs["ready"], false);
        assert_eq!(cond(&s, "Ready")["reason"], "ContainersNotReady");
        // Restarted: running again, the restart count stays.
        run(&mut p, t(20));
        let s = p.status();
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["containerStatuses"][0]["restartCount"], 1);
        assert_eq!(
            s["containerStatuses"][0]["lastState"]["terminated"]["reason"],
            "OOMKilled"
        );
    }

    #[test]
    fn graceful_stop_follows_exit_codes() {
        // SIGTERM and a clean exit: Succeeded, even under OnFailure.
        let mut p = pod(RestartPolicy::OnFailure);
        run(&mut p, t(2));
        p.stopping = true;
        p.refresh(t(3));
        assert_eq!(p.phase(), Phase::Running);
        assert_eq!(cond(&p.status(), "Ready")["status"], "False");
        exit(&mut p, 0, None, t(4));
        assert_eq!(p.phase(), Phase::Succeeded);
        assert!(p.all_stopped());
        // SIGKILL after the grace period: 137, Error, Failed.
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        p.stopping = true;
        let term = Terminated::new(137, Some(9), None, t(2), t(40), "fleetctl://1".into());
        assert_eq!(term.reason, "Error");
        p.containers[0].state = State::Terminated(term);
        p.refresh(t(40));
        let s = p.status();
        assert_eq!(s["phase"], "Failed");
        assert_eq!(
            s["containerStatuses"][0]["state"]["terminated"]["signal"],
            9
        );
        // Stopped while waiting to restart: the last exit decides.
        let mut p = pod(RestartPolicy::OnFailure);
        run(&mut p, t(2));
        exit(&mut p, 1, None, t(3));
        p.stopping = true;
        p.refresh(t(4));
        assert!(p.all_stopped());
        assert_eq!(p.phase(), Phase::Failed);
    }

    #[test]
    fn pressure_eviction_shape() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        let msg = "The node was low on resource: memory. ".to_string();
        p.evicted = Some(Eviction {
            message: msg.clone(),
            at: t(6),
        });
        exit(&mut p, 137, None, t(6));
        let s = p.status();
        assert_eq!(s["phase"], "Failed");
        assert_eq!(s["reason"], "Evicted");
        assert_eq!(s["message"], msg);
        let dt = cond(&s, "DisruptionTarget");
        assert_eq!(dt["status"], "True");
        assert_eq!(dt["reason"], "TerminationByKubelet");
    }

    #[test]
    fn patch_clears_stale_reasons() {
        let mut p = pod(RestartPolicy::Never);
        run(&mut p, t(2));
        let body = patch(&p.status());
        let ready = body["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert!(ready["reason"].is_null() && ready.get("reason").is_some());
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let i = SignedDuration::from_secs(10);
        let m = SignedDuration::from_mins(5);
        let got: Vec<i64> = (1..=7).map(|n| backoff(n, i, m).as_secs()).collect();
        assert_eq!(got, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(100, i, m).as_secs(), 300);
        assert_eq!(
            backoff_message(SignedDuration::from_secs(20), "agent", "p", "agents", "u"),
            "back-off 20s restarting failed container=agent pod=p_agents(u)"
        );
        assert_eq!(
            backoff_message(SignedDuration::from_secs(300), "agent", "p", "agents", "u"),
            "back-off 5m0s restarting failed container=agent pod=p_agents(u)"
        );
    }
}
