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

#[cfg(test)]
mod tests;

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
