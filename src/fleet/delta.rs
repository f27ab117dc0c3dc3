//! Changes to the model: what the watchers and the queue poller report, and how the model folds
//! them in.
//!
//! [`Model::apply`] keeps the fleets' sums incrementally: every pod and Job contributes a fixed
//! amount (a pure function of the object, and for a Job of how many of its pods have started)
//! to one fleet id, and a change subtracts the old contribution and adds the new one. The sums
//! are therefore exactly the ones a recomputation from the objects gives (the tests check this
//! after every delta), at O(1) per pod delta. A Job that changes fleets moves its pods with it.
//!
//! Invariant: any sequence of deltas followed by a [`FleetDelta::Resync`] of every kind (and the
//! last queue readings) leaves a model equal to [`Model::from_state`] of the listed objects.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::model::{
    Index, JobTotals, Model, PodCounts, Tally, job_fleet, pod_fleet, set_counts, set_pdbs,
};
use super::objects::{AgentPod, FleetId, FleetKind, JobSummary, Object, ObjectKind, QueueStats};

/// A change to the model.
// Upserts are nearly the whole stream, so the enum is as large as they are in any case.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FleetDelta {
    /// Added or modified.
    Upsert(Object),
    Delete {
        kind: ObjectKind,
        namespace: String,
        name: String,
    },
    /// A fresh list (after a 410 or a reconnect): replaces everything of that kind, and clears
    /// the kind's unavailability.
    Resync {
        kind: ObjectKind,
        objects: Vec<Object>,
    },
    /// A queue reading.
    Queue { queue: String, stats: QueueStats },
    /// The API refused the kind (RBAC): its objects are dropped and its panel degrades.
    KindUnavailable { kind: ObjectKind, reason: String },
}

/// History of ids that are not fleets is forgotten after this long without activity.
const HISTORY_IDLE: SignedDuration = SignedDuration::from_hours(1);

impl Model {
    /// Folds one delta into the model. Objects of other namespaces are ignored.
    pub fn apply(&mut self, delta: FleetDelta, now: Timestamp) {
        match delta {
            FleetDelta::Upsert(obj) => {
                if obj.namespace() == self.namespace {
                    self.upsert(obj, now);
                }
            }
            FleetDelta::Delete {
                kind,
                namespace,
                name,
            } => {
                if namespace == self.namespace {
                    self.remove(kind, &name, now);
                }
            }
            FleetDelta::Resync { kind, objects } => self.resync(kind, objects, now),
            FleetDelta::Queue { queue, stats } => self.set_queue(queue, stats, now),
            FleetDelta::KindUnavailable { kind, reason } => {
                self.resync(kind, Vec::new(), now);
                self.unavailable.insert(kind, reason);
            }
        }
    }

    /// Periodic upkeep at `now`: a sparkline point for every fleet (so the series advance when
    /// nothing changes), and history of ids that are no fleet and idle for an hour forgotten.
    pub fn tick(&mut self, now: Timestamp) {
        let ids: Vec<FleetId> = self.fleets.keys().cloned().collect();
        for id in &ids {
            self.sample(id, now);
        }
        let fleets = &self.fleets;
        self.history
            .retain(|id, h| fleets.contains_key(id) || h.last_activity + HISTORY_IDLE > now);
    }

    fn resync(&mut self, kind: ObjectKind, objects: Vec<Object>, now: Timestamp) {
        self.unavailable.remove(&kind);
        let objects: Vec<Object> = objects
            .into_iter()
            .filter(|o| o.kind() == kind && o.namespace() == self.namespace)
            .collect();
        let stale: Vec<String> = {
            let keep: HashSet<&str> = objects.iter().map(Object::name).collect();
            self.names(kind)
                .filter(|n| !keep.contains(n.as_str()))
                .cloned()
                .collect()
        };
        for name in &stale {
            self.remove(kind, name, now);
        }
        for obj in objects {
            self.upsert(obj, now);
        }
    }

    fn names(&self, kind: ObjectKind) -> Box<dyn Iterator<Item = &String> + '_> {
        match kind {
            ObjectKind::ScaledJob => Box::new(self.scaled_jobs.keys()),
            ObjectKind::Job => Box::new(self.jobs.keys()),
            ObjectKind::Deployment => Box::new(self.deployments.keys()),
            ObjectKind::Pod => Box::new(self.pods.keys()),
            ObjectKind::PodDisruptionBudget => Box::new(self.pdbs.keys()),
            ObjectKind::NetworkPolicy => Box::new(self.network_policies.keys()),
            ObjectKind::Event => Box::new(self.events.keys()),
        }
    }

    fn upsert(&mut self, obj: Object, now: Timestamp) {
        match obj {
            Object::Pod(pod) => self.upsert_pod(pod, now),
            Object::Job(job) => {
                let name = job.name.clone();
                self.put_job(&name, Some(job), now);
            }
            Object::ScaledJob(sj) => {
                let id = FleetId::new(FleetKind::ScaledJob, sj.name.clone());
                self.scaled_jobs.insert(sj.name.clone(), sj);
                self.rebuild_fleets(&[id], now);
            }
            Object::Deployment(d) => {
                let id = FleetId::new(FleetKind::Deployment, d.name.clone());
                self.deployments.insert(d.name.clone(), d);
                self.rebuild_fleets(&[id], now);
            }
            Object::Pdb(p) => {
                self.pdbs.insert(p.name.clone(), p);
                self.refresh_pdbs();
            }
            Object::NetworkPolicy(n) => drop(self.network_policies.insert(n.name.clone(), n)),
            Object::Event(e) => drop(self.events.insert(e.name.clone(), e)),
        }
    }

    fn remove(&mut self, kind: ObjectKind, name: &str, now: Timestamp) {
        match kind {
            ObjectKind::Pod => self.remove_pod(name, now),
            ObjectKind::Job => self.put_job(name, None, now),
            ObjectKind::ScaledJob => {
                if self.scaled_jobs.remove(name).is_some() {
                    self.rebuild_fleets(&[FleetId::new(FleetKind::ScaledJob, name)], now);
                }
            }
            ObjectKind::Deployment => {
                if self.deployments.remove(name).is_some() {
                    self.rebuild_fleets(&[FleetId::new(FleetKind::Deployment, name)], now);
                }
            }
            ObjectKind::PodDisruptionBudget => {
                if self.pdbs.remove(name).is_some() {
                    self.refresh_pdbs();
                }
            }
            ObjectKind::NetworkPolicy => drop(self.network_policies.remove(name)),
            ObjectKind::Event => drop(self.events.remove(name)),
        }
    }

    fn upsert_pod(&mut self, pod: AgentPod, now: Timestamp) {
        let mut touched = Vec::new();
        let (restarts_up, replaced_uid, fleet) = {
            let Model {
                pods, jobs, index, ..
            } = self;
            let old = pods.get(&pod.name);
            if let Some(old) = old {
                account_pod(index, jobs, old, -1, &mut touched);
            }
            account_pod(index, jobs, &pod, 1, &mut touched);
            let old_job = old.and_then(|o| o.job_name.as_deref());
            if old.is_none() || old_job != pod.job_name.as_deref() {
                if let Some(j) = old_job {
                    unlink(&mut index.job_pods, j, &pod.name);
                }
                if let Some(j) = &pod.job_name {
                    index
                        .job_pods
                        .entry(j.clone())
                        .or_default()
                        .insert(pod.name.clone());
                }
            }
            let restarts_up = match old {
                Some(o) if o.uid == pod.uid => pod.restarts.saturating_sub(o.restarts),
                _ => 0,
            };
            let replaced_uid = old.filter(|o| o.uid != pod.uid).map(|o| o.uid.clone());
            (restarts_up, replaced_uid, pod_fleet(&pod, jobs))
        };
        if let Some(uid) = replaced_uid {
            self.seen.remove(&uid);
        }
        if let Some(f) = &fleet {
            if restarts_up > 0 {
                self.history_mut(f, now)
                    .add_restarts(now, u64::from(restarts_up));
            }
            self.note_disruptions(f, &pod, now);
        }
        match self.pods.get_mut(&pod.name) {
            Some(slot) => *slot = pod,
            None => drop(self.pods.insert(pod.name.clone(), pod)),
        }
        self.refresh_counts(&touched, now);
    }

    fn remove_pod(&mut self, name: &str, now: Timestamp) {
        let Some(old) = self.pods.remove(name) else {
            return;
        };
        let mut touched = Vec::new();
        account_pod(&mut self.index, &self.jobs, &old, -1, &mut touched);
        if let Some(j) = &old.job_name {
            unlink(&mut self.index.job_pods, j, name);
        }
        self.seen.remove(&old.uid);
        self.refresh_counts(&touched, now);
    }

    /// Replaces (Some) or deletes (None) Job `name`, moving its pods if its fleet changes.
    fn put_job(&mut self, name: &str, new: Option<JobSummary>, now: Timestamp) {
        let old_fleet = self.jobs.get(name).map(job_fleet);
        let new_fleet = new.as_ref().map(job_fleet);
        if old_fleet.is_none() && new_fleet.is_none() {
            return;
        }
        let moved: Vec<String> = if old_fleet != new_fleet {
            self.index
                .job_pods
                .get(name)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let retries = match (self.jobs.get(name), &new) {
            (Some(o), Some(n)) if o.uid == n.uid => n.failed.saturating_sub(o.failed).max(0),
            _ => 0,
        };
        let mut touched = Vec::new();
        self.account_job(name, &moved, -1, &mut touched);
        match new {
            Some(job) => match self.jobs.get_mut(name) {
                Some(slot) => *slot = job,
                None => drop(self.jobs.insert(name.to_owned(), job)),
            },
            None => drop(self.jobs.remove(name)),
        }
        self.account_job(name, &moved, 1, &mut touched);
        if retries > 0
            && let Some(f) = &new_fleet
        {
            self.history_mut(f, now).add_restarts(now, retries as u64);
        }
        touch(&mut touched, FleetId::new(FleetKind::Job, name));
        self.rebuild_fleets(&touched, now);
    }

    /// Adds (sign 1) or removes (-1) Job `name`'s share and that of its pods `moved`.
    fn account_job(&mut self, name: &str, moved: &[String], sign: i64, touched: &mut Vec<FleetId>) {
        let Model {
            pods, jobs, index, ..
        } = self;
        for pod in moved.iter().filter_map(|n| pods.get(n)) {
            if let Some(f) = pod_fleet(pod, jobs) {
                tally_mut(&mut index.tallies, &f)
                    .pods
                    .add(&PodCounts::of(pod), sign);
                touch(touched, f);
            }
        }
        if let Some(job) = jobs.get(name) {
            let started = index.job_started.get(name).copied().unwrap_or(0);
            let f = job_fleet(job);
            tally_mut(&mut index.tallies, &f)
                .jobs
                .add(&JobTotals::of(job, started), sign);
            touch(touched, f);
        }
    }

    fn set_queue(&mut self, queue: String, stats: QueueStats, now: Timestamp) {
        let ids: Vec<FleetId> = self
            .fleets
            .values_mut()
            .filter(|f| f.queue.as_deref() == Some(queue.as_str()))
            .map(|f| {
                f.queue_stats = Some(stats.clone());
                f.id()
            })
            .collect();
        self.queues.insert(queue, stats);
        self.refresh_counts(&ids, now);
    }

    fn refresh_pdbs(&mut self) {
        for fleet in self.fleets.values_mut() {
            set_pdbs(fleet, &self.pdbs);
        }
    }

    /// Counts and prediction of existing fleets `ids` from their tallies, and a series point.
    fn refresh_counts(&mut self, ids: &[FleetId], now: Timestamp) {
        for id in ids {
            let Model {
                fleets,
                index,
                scaled_jobs,
                jobs,
                deployments,
                queues,
                ..
            } = self;
            if let Some(fleet) = fleets.get_mut(id) {
                let tally = index.tallies.get(id).copied().unwrap_or_default();
                set_counts(fleet, &tally, scaled_jobs, jobs, deployments, queues);
                self.sample(id, now);
            }
        }
    }

    /// Builds (or drops) fleets `ids` from their workloads, and a series point.
    fn rebuild_fleets(&mut self, ids: &[FleetId], now: Timestamp) {
        for id in ids {
            match self.build_fleet(id) {
                Some(f) => drop(self.fleets.insert(id.clone(), f)),
                None => drop(self.fleets.remove(id)),
            }
            self.sample(id, now);
        }
    }
}

/// Adds (sign 1) or removes (-1) a pod's share: its counts to its fleet, and, if it started,
/// its Job's started count (which can flip the Job between pending and not).
fn account_pod(
    ix: &mut Index,
    jobs: &BTreeMap<String, JobSummary>,
    pod: &AgentPod,
    sign: i64,
    touched: &mut Vec<FleetId>,
) {
    if let Some(f) = pod_fleet(pod, jobs) {
        tally_mut(&mut ix.tallies, &f)
            .pods
            .add(&PodCounts::of(pod), sign);
        touch(touched, f);
    }
    if pod.started()
        && let Some(j) = &pod.job_name
    {
        let before = ix.job_started.get(j).copied().unwrap_or(0);
        let after = u32::try_from(i64::from(before) + sign).unwrap_or(0);
        if after == 0 {
            ix.job_started.remove(j);
        } else if let Some(n) = ix.job_started.get_mut(j) {
            *n = after;
        } else {
            ix.job_started.insert(j.clone(), after);
        }
        if let Some(job) = jobs.get(j)
            && (before == 0) != (after == 0)
        {
            let f = job_fleet(job);
            let t = tally_mut(&mut ix.tallies, &f);
            t.jobs.add(&JobTotals::of(job, before), -1);
            t.jobs.add(&JobTotals::of(job, after), 1);
            touch(touched, f);
        }
    }
}

fn tally_mut<'a>(tallies: &'a mut HashMap<FleetId, Tally>, id: &FleetId) -> &'a mut Tally {
    if !tallies.contains_key(id) {
        tallies.insert(id.clone(), Tally::default());
    }
    tallies.get_mut(id).expect("just inserted")
}

fn touch(touched: &mut Vec<FleetId>, id: FleetId) {
    if !touched.contains(&id) {
        touched.push(id);
    }
}

fn unlink(job_pods: &mut HashMap<String, HashSet<String>>, job: &str, pod: &str) {
    if let Some(set) = job_pods.get_mut(job) {
        set.remove(pod);
        if set.is_empty() {
            job_pods.remove(job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::model::{ClusterState, DisruptionKind};
    use crate::fleet::objects::{
        DeploymentSummary, DisruptionTarget, EventSummary, FleetState, JobConditions, Labels,
        NetworkPolicySummary, PdbStatus, PodPhase, PodTemplate, ScaledJobSummary, Termination,
        Trigger,
    };
    use crate::fleet::selector::Selector;

    const NS: &str = "agents";

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn app() -> Labels {
        Labels::from([("app".into(), "ai-agent".into())])
    }

    fn sj(name: &str, queue: &str) -> ScaledJobSummary {
        ScaledJobSummary {
            name: name.into(),
            namespace: NS.into(),
            uid: format!("uid-{name}"),
            labels: app(),
            max_replica_count: Some(10),
            triggers: vec![Trigger {
                kind: "rabbitmq".into(),
                queue_name: Some(queue.into()),
                value: Some("5".into()),
                ..Default::default()
            }],
            template: PodTemplate {
                labels: app(),
                metrics_port: Some(8080),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn job(name: &str, owner: Option<&str>) -> JobSummary {
        JobSummary {
            name: name.into(),
            namespace: NS.into(),
            uid: format!("uid-{name}"),
            labels: app(),
            scaled_job: owner.map(Into::into),
            parallelism: 1,
            completions: Some(1),
            active: 1,
            template: PodTemplate {
                labels: app(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn pod(name: &str, job: Option<&str>, phase: PodPhase) -> AgentPod {
        AgentPod {
            name: name.into(),
            namespace: NS.into(),
            uid: format!("uid-{name}"),
            phase,
            job_name: job.map(Into::into),
            memory_limit_bytes: Some(1 << 31),
            ..Default::default()
        }
    }

    fn up(o: Object) -> FleetDelta {
        FleetDelta::Upsert(o)
    }

    #[test]
    fn pods_are_attributed_through_jobs_and_labels() {
        let mut m = Model::new(NS);
        m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
        // A pod arriving before its Job, with no ScaledJob label, counts toward Job "j1" (not
        // a fleet); once the Job arrives, it moves to the ScaledJob.
        m.apply(
            up(Object::Pod(pod("p1", Some("j1"), PodPhase::Running))),
            t(1),
        );
        let id = FleetId::new(FleetKind::ScaledJob, "sj");
        assert_eq!(m.fleet(&id).unwrap().pods.total, 0);
        m.apply(up(Object::Job(job("j1", Some("sj")))), t(2));
        assert_eq!(m.fleet(&id).unwrap().pods.running, 1);
        assert_eq!(m.fleet(&id).unwrap().jobs.jobs, 1);
        // A pod with only the ScaledJob label.
        let mut p2 = pod("p2", None, PodPhase::Pending);
        p2.scaled_job = Some("sj".into());
        m.apply(up(Object::Pod(p2)), t(3));
        assert_eq!(m.fleet(&id).unwrap().pods.pending, 1);
        // A standalone Job is its own fleet; a ScaledJob's Job is not.
        m.apply(up(Object::Job(job("batch", None))), t(4));
        m.apply(
            up(Object::Pod(pod("b-0", Some("batch"), PodPhase::Running))),
            t(5),
        );
        let batch = m.fleet_named("batch").unwrap();
        assert_eq!((batch.kind, batch.pods.running), (FleetKind::Job, 1));
        assert!(m.fleet_named("j1").is_none());
        // A Deployment's pods, through the ReplicaSet name.
        m.apply(
            up(Object::Deployment(DeploymentSummary {
                name: "web".into(),
                namespace: NS.into(),
                labels: app(),
                replicas: 2,
                ..Default::default()
            })),
            t(6),
        );
        let mut w = pod("web-abc-xyz", None, PodPhase::Running);
        w.deployment = Some("web".into());
        m.apply(up(Object::Pod(w)), t(7));
        assert_eq!(m.fleet_named("web").unwrap().pods.running, 1);
        assert_eq!(m.fleet_named("web").unwrap().jobs.desired, 2);
        // Workloads without the selector's label are not fleets.
        let mut other = job("other", None);
        other.labels.clear();
        m.apply(up(Object::Job(other)), t(8));
        assert!(m.fleet_named("other").is_none());
        // Deleting the Job moves its pod back to the label-only attribution.
        m.apply(
            FleetDelta::Delete {
                kind: ObjectKind::Job,
                namespace: NS.into(),
                name: "j1".into(),
            },
            t(9),
        );
        assert_eq!(m.fleet(&id).unwrap().pods.running, 0);
        assert_eq!(m.fleet(&id).unwrap().jobs.jobs, 0);
        // Other namespaces are ignored.
        let mut foreign = pod("x", Some("batch"), PodPhase::Running);
        foreign.namespace = "elsewhere".into();
        m.apply(up(Object::Pod(foreign)), t(10));
        assert!(!m.pods().contains_key("x"));
        m.verify();
    }

    #[test]
    fn fleet_states() {
        let mut m = Model::new(NS);
        let mut s = sj("sj", "q");
        m.apply(up(Object::ScaledJob(s.clone())), t(0));
        assert_eq!(m.fleet_named("sj").unwrap().state, FleetState::Running);
        for (value, paused) in [
            ("true", true),
            ("True", true),
            ("1", true),
            ("false", false),
            ("0", false),
            ("F", false),
            ("yes", true),
            ("", true),
        ] {
            s.paused_annotation = Some(value.into());
            m.apply(up(Object::ScaledJob(s.clone())), t(1));
            let want = if paused {
                FleetState::Paused
            } else {
                FleetState::Running
            };
            assert_eq!(m.fleet_named("sj").unwrap().state, want, "{value:?}");
        }
        s.draining = true;
        m.apply(up(Object::ScaledJob(s)), t(2));
        assert_eq!(m.fleet_named("sj").unwrap().state, FleetState::Draining);

        let mut j = job("batch", None);
        j.suspended = true;
        j.queue = Some("q2".into());
        m.apply(up(Object::Job(j)), t(3));
        let f = m.fleet_named("batch").unwrap();
        assert_eq!(
            (f.state, f.queue.as_deref()),
            (FleetState::Paused, Some("q2"))
        );

        let mut d = DeploymentSummary {
            name: "web".into(),
            namespace: NS.into(),
            labels: app(),
            replicas: 0,
            ..Default::default()
        };
        m.apply(up(Object::Deployment(d.clone())), t(4));
        assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Running);
        d.paused_replicas = Some("3".into());
        m.apply(up(Object::Deployment(d.clone())), t(5));
        assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Paused);
        d.replicas = 3;
        m.apply(up(Object::Deployment(d)), t(6));
        assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Running);
    }

    #[test]
    fn disruptions_are_recorded_once() {
        let mut m = Model::new(NS);
        m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
        m.apply(up(Object::Job(job("j1", Some("sj")))), t(0));
        let id = FleetId::new(FleetKind::ScaledJob, "sj");
        let mut p = pod("p1", Some("j1"), PodPhase::Running);
        m.apply(up(Object::Pod(p.clone())), t(1));
        // OOMKilled, restarted in place (OnFailure).
        p.restarts = 1;
        p.last_oom = Some(Termination {
            container: "agent".into(),
            reason: "OOMKilled".into(),
            exit_code: 137,
            at: Some(t(2)),
        });
        for s in 3..6 {
            m.apply(up(Object::Pod(p.clone())), t(s));
        }
        let oom = |m: &Model| {
            m.history(&id)
                .unwrap()
                .count_since(DisruptionKind::OomKilled, t(0))
        };
        assert_eq!(
            oom(&m),
            1,
            "re-applying the same state does not count again"
        );
        // A second OOMKill of the same container is a new disruption.
        p.restarts = 2;
        p.last_oom.as_mut().unwrap().at = Some(t(7));
        m.apply(up(Object::Pod(p.clone())), t(8));
        assert_eq!(oom(&m), 2);
        // A resync with the same pods does not count again.
        m.apply(
            FleetDelta::Resync {
                kind: ObjectKind::Pod,
                objects: vec![Object::Pod(p.clone())],
            },
            t(9),
        );
        assert_eq!(oom(&m), 2);
        // Kubelet eviction: status.reason Evicted and DisruptionTarget TerminationByKubelet
        // are one disruption.
        p.phase = PodPhase::Failed;
        p.status_reason = Some("Evicted".into());
        p.status_message = Some("The node was low on resource: memory.".into());
        m.apply(up(Object::Pod(p.clone())), t(10));
        p.disruption_target = Some(DisruptionTarget {
            reason: "TerminationByKubelet".into(),
            message: None,
            at: Some(t(10)),
        });
        m.apply(up(Object::Pod(p.clone())), t(11));
        let h = m.history(&id).unwrap();
        assert_eq!(h.count_since(DisruptionKind::Evicted, t(0)), 1);
        let evicted = h
            .disruptions
            .iter()
            .find(|d| d.kind == DisruptionKind::Evicted)
            .unwrap();
        assert_eq!(evicted.message, "The node was low on resource: memory.");
        // API eviction and preemption of other pods.
        for (name, reason, kind) in [
            ("p2", "EvictionByEvictionAPI", DisruptionKind::ApiEviction),
            ("p3", "PreemptionByScheduler", DisruptionKind::Preempted),
        ] {
            let mut q = pod(name, Some("j1"), PodPhase::Running);
            q.node = Some("node-1".into());
            q.disruption_target = Some(DisruptionTarget {
                reason: reason.into(),
                message: Some("Eviction API: evicting".into()),
                at: Some(t(12)),
            });
            m.apply(up(Object::Pod(q.clone())), t(12));
            m.apply(up(Object::Pod(q)), t(13));
            let h = m.history(&id).unwrap();
            assert_eq!(h.count_since(kind, t(0)), 1, "{reason}");
            assert_eq!(
                h.disruptions.back().unwrap().node.as_deref(),
                Some("node-1")
            );
        }
        // Restarts feed the restart counter.
        assert_eq!(m.history(&id).unwrap().restarts.last().unwrap().total, 2);
    }

    #[test]
    fn prediction_follows_the_queue_and_the_jobs() {
        let mut m = Model::new(NS);
        m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
        let f = |m: &Model| m.fleet_named("sj").unwrap().predicted_next_scale;
        assert_eq!(f(&m), None, "no reading yet");
        let stats = |ready| QueueStats {
            ready,
            consumers: 0,
            at: t(1),
        };
        m.apply(
            FleetDelta::Queue {
                queue: "q".into(),
                stats: stats(23),
            },
            t(1),
        );
        // ceil(23/5) = 5 Jobs, none running.
        assert_eq!(f(&m), Some(5));
        assert_eq!(
            m.fleet_named("sj")
                .unwrap()
                .queue_stats
                .as_ref()
                .unwrap()
                .ready,
            23
        );
        // Two unfinished Jobs: default strategy creates maxScale − R = 3.
        m.apply(up(Object::Job(job("j1", Some("sj")))), t(2));
        m.apply(up(Object::Job(job("j2", Some("sj")))), t(2));
        assert_eq!(f(&m), Some(3));
        assert_eq!(m.fleet_named("sj").unwrap().jobs.desired, 5);
        // A finished Job no longer counts.
        let mut done = job("j2", Some("sj"));
        done.conditions = JobConditions {
            complete: true,
            ..Default::default()
        };
        m.apply(up(Object::Job(done)), t(3));
        assert_eq!(f(&m), Some(4));
        // Pending (P) counts for the accurate strategy: j1 has no started pod.
        let mut acc = sj("sj", "q");
        acc.strategy = Some("accurate".into());
        m.apply(up(Object::ScaledJob(acc)), t(4));
        assert_eq!(m.fleet_named("sj").unwrap().jobs.pending, 1);
        assert_eq!(f(&m), Some(4), "maxScale 5 − P 1");
        m.apply(
            up(Object::Pod(pod("j1-x", Some("j1"), PodPhase::Running))),
            t(5),
        );
        assert_eq!(m.fleet_named("sj").unwrap().jobs.pending, 0);
        assert_eq!(f(&m), Some(5));
        // Paused: nothing.
        let mut paused = sj("sj", "q");
        paused.paused_annotation = Some("true".into());
        m.apply(up(Object::ScaledJob(paused)), t(6));
        assert_eq!(f(&m), Some(0));
        m.verify();
    }

    #[test]
    fn kind_unavailable_degrades_only_that_kind() {
        let mut m = Model::new(NS);
        m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
        m.apply(
            up(Object::Event(EventSummary {
                name: "e1".into(),
                namespace: NS.into(),
                ..Default::default()
            })),
            t(0),
        );
        m.apply(
            FleetDelta::KindUnavailable {
                kind: ObjectKind::Event,
                reason: "events is forbidden".into(),
            },
            t(1),
        );
        assert!(m.events().is_empty());
        assert_eq!(m.unavailable()[&ObjectKind::Event], "events is forbidden");
        assert!(m.fleet_named("sj").is_some());
        m.apply(
            FleetDelta::Resync {
                kind: ObjectKind::Event,
                objects: vec![],
            },
            t(2),
        );
        assert!(m.unavailable().is_empty());
    }

    #[test]
    fn json_round_trip_of_the_model() {
        let mut m = Model::new(NS);
        m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
        let v = serde_json::to_value(&m).unwrap();
        assert!(v["fleets"]["ScaledJob/sj"]["name"] == "sj");
        let d = up(Object::Pod(pod("p", Some("j"), PodPhase::Running)));
        let back: FleetDelta = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    // Randomised: many orders of many histories end in the model of the final state. --------

    const SJS: [&str; 2] = ["sj-a", "sj-b"];
    const JOBS: [&str; 6] = ["job-0", "job-1", "job-2", "job-3", "job-4", "job-5"];
    const DEPS: [&str; 1] = ["dep-a"];
    const PODS: usize = 24;
    const PDBS: [&str; 2] = ["pdb-a", "pdb-b"];
    const NETPOLS: [&str; 1] = ["np-a"];
    const EVENTS: [&str; 3] = ["ev-0", "ev-1", "ev-2"];
    const QUEUES: [&str; 2] = ["q-a", "q-b"];

    fn pick<'a>(rng: &mut fastrand::Rng, xs: &[&'a str]) -> &'a str {
        xs[rng.usize(..xs.len())]
    }

    fn maybe_app(rng: &mut fastrand::Rng) -> Labels {
        if rng.u8(..10) < 8 {
            app()
        } else {
            Labels::new()
        }
    }

    fn rand_sj(rng: &mut fastrand::Rng, name: &str) -> ScaledJobSummary {
        let mut s = sj(name, pick(rng, &QUEUES));
        s.labels = maybe_app(rng);
        s.paused_annotation =
            [None, Some("true"), Some("false"), Some("maybe")][rng.usize(..4)].map(Into::into);
        s.draining = rng.u8(..5) == 0;
        s.strategy = [None, Some("accurate"), Some("eager")][rng.usize(..3)].map(Into::into);
        s.min_replica_count = rng.bool().then(|| rng.i64(0..3));
        s
    }

    fn rand_job(rng: &mut fastrand::Rng, name: &str) -> JobSummary {
        let mut j = job(name, rng.bool().then(|| pick(rng, &SJS)));
        j.uid = format!("uid-{name}-{}", rng.u8(..2));
        j.labels = maybe_app(rng);
        j.suspended = rng.u8(..4) == 0;
        j.active = rng.i32(0..3);
        j.succeeded = rng.i32(0..3);
        j.failed = rng.i32(0..3);
        j.conditions.complete = rng.u8(..4) == 0;
        j.conditions.failed = rng.u8(..6) == 0;
        j.queue = rng.bool().then(|| pick(rng, &QUEUES).into());
        j.draining = rng.u8(..6) == 0;
        j
    }

    fn rand_dep(rng: &mut fastrand::Rng, name: &str) -> DeploymentSummary {
        DeploymentSummary {
            name: name.into(),
            namespace: NS.into(),
            labels: maybe_app(rng),
            replicas: rng.i32(0..3),
            paused_replicas: rng.bool().then(|| "2".into()),
            queue: rng.bool().then(|| pick(rng, &QUEUES).into()),
            template: PodTemplate {
                labels: app(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn rand_pod(rng: &mut fastrand::Rng, name: &str) -> AgentPod {
        let phases = [
            PodPhase::Pending,
            PodPhase::Running,
            PodPhase::Succeeded,
            PodPhase::Failed,
            PodPhase::Unknown,
        ];
        let mut p = pod(name, None, phases[rng.usize(..5)]);
        p.uid = format!("uid-{name}-{}", rng.u8(..2));
        match rng.u8(..10) {
            0..6 => p.job_name = Some(pick(rng, &JOBS).into()),
            6..8 => p.deployment = Some(pick(rng, &DEPS).into()),
            _ => {}
        }
        if rng.u8(..3) == 0 {
            p.scaled_job = Some(pick(rng, &SJS).into());
        }
        p.ready = rng.bool();
        p.restarts = rng.u32(0..4);
        p.unschedulable = rng.u8(..5) == 0;
        p.deletion = rng.u8(..6) == 0;
        p.containers_without_memory_limit = u32::from(rng.u8(..5) == 0);
        if rng.u8(..5) == 0 {
            p.last_oom = Some(Termination {
                container: "agent".into(),
                reason: "OOMKilled".into(),
                exit_code: 137,
                at: Some(t(i64::from(rng.u8(..3)))),
            });
        }
        if rng.u8(..5) == 0 {
            p.disruption_target = Some(DisruptionTarget {
                reason: pick(rng, &["TerminationByKubelet", "EvictionByEvictionAPI"]).into(),
                message: None,
                at: None,
            });
        }
        p
    }

    fn rand_pdb(rng: &mut fastrand::Rng, name: &str) -> PdbStatus {
        PdbStatus {
            name: name.into(),
            namespace: NS.into(),
            selector: Selector::from_labels(maybe_app(rng)),
            min_available: Some("1".into()),
            disruptions_allowed: rng.i32(0..2),
            expected_pods: rng.i32(0..3),
            sync_failed: rng.u8(..4) == 0,
            ..Default::default()
        }
    }

    fn rand_object(rng: &mut fastrand::Rng, kind: ObjectKind, name: &str) -> Object {
        match kind {
            ObjectKind::ScaledJob => Object::ScaledJob(rand_sj(rng, name)),
            ObjectKind::Job => Object::Job(rand_job(rng, name)),
            ObjectKind::Deployment => Object::Deployment(rand_dep(rng, name)),
            ObjectKind::Pod => Object::Pod(rand_pod(rng, name)),
            ObjectKind::PodDisruptionBudget => Object::Pdb(rand_pdb(rng, name)),
            ObjectKind::NetworkPolicy => Object::NetworkPolicy(NetworkPolicySummary {
                name: name.into(),
                namespace: NS.into(),
                ingress_policy: rng.bool(),
                ..Default::default()
            }),
            ObjectKind::Event => Object::Event(EventSummary {
                name: name.into(),
                namespace: NS.into(),
                reason: pick(rng, &["BackOff", "Evicted"]).into(),
                count: rng.i32(1..5),
                ..Default::default()
            }),
        }
    }

    fn all_names() -> Vec<(ObjectKind, String)> {
        let mut out = Vec::new();
        let mut add = |kind, names: &[&str]| {
            out.extend(names.iter().map(|n| (kind, n.to_string())));
        };
        add(ObjectKind::ScaledJob, &SJS);
        add(ObjectKind::Job, &JOBS);
        add(ObjectKind::Deployment, &DEPS);
        add(ObjectKind::PodDisruptionBudget, &PDBS);
        add(ObjectKind::NetworkPolicy, &NETPOLS);
        add(ObjectKind::Event, &EVENTS);
        out.extend((0..PODS).map(|i| (ObjectKind::Pod, format!("pod-{i}"))));
        out
    }

    fn random_state(rng: &mut fastrand::Rng) -> ClusterState {
        let objects = all_names()
            .into_iter()
            .filter_map(|(kind, name)| (rng.u8(..10) < 7).then(|| rand_object(rng, kind, &name)))
            .collect();
        let queues = QUEUES
            .iter()
            .map(|q| {
                (
                    q.to_string(),
                    QueueStats {
                        ready: rng.u64(0..40),
                        consumers: rng.u64(0..3),
                        at: t(100),
                    },
                )
            })
            .collect();
        ClusterState {
            namespace: NS.into(),
            selector: Selector::from_labels(app()),
            objects,
            queues,
        }
    }

    /// Random upserts, deletes, queue readings and (optionally) refused kinds.
    fn noise(rng: &mut fastrand::Rng, n: usize, refusals: bool) -> Vec<FleetDelta> {
        let names = all_names();
        (0..n)
            .map(|_| {
                let (kind, name) = &names[rng.usize(..names.len())];
                match rng.u8(..20) {
                    0..12 => up(rand_object(rng, *kind, name)),
                    12..17 => FleetDelta::Delete {
                        kind: *kind,
                        namespace: NS.into(),
                        name: name.clone(),
                    },
                    17 | 18 => FleetDelta::Queue {
                        queue: pick(rng, &QUEUES).into(),
                        stats: QueueStats {
                            ready: rng.u64(0..40),
                            consumers: 1,
                            at: t(50),
                        },
                    },
                    _ if refusals => FleetDelta::KindUnavailable {
                        kind: *kind,
                        reason: "forbidden".into(),
                    },
                    _ => up(rand_object(rng, *kind, name)),
                }
            })
            .collect()
    }

    fn queue_deltas(state: &ClusterState) -> Vec<FleetDelta> {
        state
            .queues
            .iter()
            .map(|(q, s)| FleetDelta::Queue {
                queue: q.clone(),
                stats: s.clone(),
            })
            .collect()
    }

    #[test]
    fn randomised_histories_end_in_the_listed_model() {
        for seed in 0..200u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let state = random_state(&mut rng);
            let now = t(1000);
            let expected = Model::from_state(&state, now);
            expected.verify();

            // 1. Noise, then a Resync of every kind in a random order.
            let mut m = Model::new(NS);
            for (i, d) in noise(&mut rng, 80, true).into_iter().enumerate() {
                m.apply(d, t(i as i64));
                if seed < 20 {
                    m.verify();
                }
            }
            let mut kinds = ObjectKind::ALL.to_vec();
            rng.shuffle(&mut kinds);
            for kind in kinds {
                let mut objects: Vec<Object> = state
                    .objects
                    .iter()
                    .filter(|o| o.kind() == kind)
                    .cloned()
                    .collect();
                rng.shuffle(&mut objects);
                m.apply(FleetDelta::Resync { kind, objects }, now);
            }
            for d in queue_deltas(&state) {
                m.apply(d, now);
            }
            m.verify();
            assert_eq!(m, expected, "seed {seed}: resync");

            // 2. The final objects alone, in any order.
            let mut finals: Vec<FleetDelta> = state
                .objects
                .iter()
                .cloned()
                .map(FleetDelta::Upsert)
                .chain(queue_deltas(&state))
                .collect();
            rng.shuffle(&mut finals);
            let mut m = Model::new(NS);
            for d in finals.clone() {
                m.apply(d, now);
            }
            m.verify();
            assert_eq!(m, expected, "seed {seed}: upserts in any order");

            // 3. Noise, then upserts of the final objects and deletes of everything else, in
            // any order (no Resync).
            let mut m = Model::new(NS);
            for (i, d) in noise(&mut rng, 80, false).into_iter().enumerate() {
                m.apply(d, t(i as i64));
            }
            let present: HashSet<(ObjectKind, &str)> =
                state.objects.iter().map(|o| (o.kind(), o.name())).collect();
            let mut ops = finals;
            ops.extend(
                all_names()
                    .into_iter()
                    .filter(|(k, n)| !present.contains(&(*k, n.as_str())))
                    .map(|(kind, name)| FleetDelta::Delete {
                        kind,
                        namespace: NS.into(),
                        name,
                    }),
            );
            rng.shuffle(&mut ops);
            for d in ops {
                m.apply(d, now);
            }
            m.verify();
            assert_eq!(m, expected, "seed {seed}: noise then final objects");
        }
    }
}
