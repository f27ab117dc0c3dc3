//! The steps that wait on the cluster: KEDA's Jobs, the agent pods, their metrics, the
//! optional disruption, completion, and the clean-up that runs whatever failed.

use super::*;

impl Run<'_, '_> {
    // ---- 4. Scale -----------------------------------------------------------------------

    pub(super) async fn scale(&mut self) -> StepReport {
        let name = StepName::Scale;
        self.start_watching();
        let api = self.sj_api().await;
        let sj = match api.get_opt(&self.sj_name).await {
            Ok(Some(o)) => serde_json::to_value(&o).unwrap_or_default(),
            Ok(None) => {
                return StepReport::failed(
                    name,
                    None,
                    None,
                    format!("ScaledJob {} is gone", self.sj_name),
                );
            }
            Err(e) => {
                return StepReport::failed(name, None, None, KubeFailure::classify(&e).to_string());
            }
        };
        let Some(summary) = ScaledJobSummary::from_json(&sj) else {
            return StepReport::failed(name, None, None, "the ScaledJob cannot be read");
        };
        let ready = match &self.broker {
            Some(b) => b.depth(&self.queue).await.map(|d| d.ready).unwrap_or(0),
            None => 0,
        };
        let stats = QueueStats {
            ready: u64::from(ready),
            ..Default::default()
        };
        let Some(reading) = summary
            .triggers
            .iter()
            .filter(|t| t.queue_name.as_deref() == Some(self.queue.as_str()))
            .find_map(|t| t.reading(&stats))
        else {
            return StepReport::failed(
                name,
                None,
                None,
                format!(
                    "ScaledJob {}'s trigger on {} is not a rabbitmq QueueLength trigger; the smoke test cannot predict its Jobs",
                    self.sj_name, self.queue
                ),
            );
        };
        // Jobs from before the run that are still unfinished count as KEDA's running ones.
        let before = self.running_before;
        let (expected, why) = report::expected_jobs(&summary.scaling_spec(), reading, before, 0);
        self.expected_jobs = expected;
        let poll = summary.polling_interval.unwrap_or(30).max(1) as u64;
        let limit = Duration::from_secs(poll) + SCALE_MARGIN;
        let until = (Instant::now() + limit).min(self.deadline);
        self.waiting(&format!("KEDA: {why}"));
        let got = self
            .wait_for(until, |r| {
                let n = r.run_jobs().len() as u64;
                (n >= expected && expected > 0).then_some(n)
            })
            .await;
        match got {
            Some(n) if n == expected => StepReport::passed(name, expected, n, why),
            Some(n) => StepReport::failed(
                name,
                Some(expected),
                Some(n),
                format!("KEDA created {n} Jobs where its arithmetic gives {why}"),
            ),
            None => {
                let n = self.run_jobs().len() as u64;
                let condition = sj_condition(&api, &self.sj_name).await;
                let when = if Instant::now() >= self.deadline {
                    self.timed_out()
                } else {
                    format!(
                        "within {} (pollingInterval {poll}s + {})",
                        human(limit),
                        human(SCALE_MARGIN)
                    )
                };
                StepReport::failed(
                    name,
                    Some(expected),
                    Some(n),
                    format!(
                        "KEDA created {n} of {why} {when}{condition}; see `kubectl describe scaledjob {} -n {}`",
                        self.sj_name,
                        self.ns()
                    ),
                )
            }
        }
    }

    // ---- 5. Pods ------------------------------------------------------------------------

    pub(super) async fn pods(&mut self) -> StepReport {
        let name = StepName::Pods;
        let expected = self.expected_jobs;
        self.waiting("agent pods scheduled and Running");
        let deadline = self.deadline;
        let outcome = self
            .wait_for(deadline, |r| {
                if let Some(p) = r.run_pods().into_iter().find(|p| p.unschedulable) {
                    return Some(Err(format!(
                        "pod {} cannot be scheduled: {}",
                        p.name,
                        p.scheduling_message.as_deref().unwrap_or("Unschedulable")
                    )));
                }
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let started = r
                    .run_jobs()
                    .iter()
                    .filter(|j| {
                        r.ran.iter().any(|p| {
                            r.model.pods().values().any(|x| {
                                &x.name == p && x.job_name.as_deref() == Some(j.name.as_str())
                            })
                        }) || j.conditions.complete
                    })
                    .count() as u64;
                (started >= expected).then_some(Ok(started))
            })
            .await;
        let started = self.ran.len() as u64;
        match outcome {
            Some(Ok(n)) => StepReport::passed(
                name,
                expected,
                n,
                format!(
                    "{} pod{} Running on {}",
                    started,
                    if started == 1 { "" } else { "s" },
                    self.nodes()
                ),
            ),
            Some(Err(m)) => StepReport::failed(name, Some(expected), Some(started), m),
            None => StepReport::failed(
                name,
                Some(expected),
                Some(started),
                format!(
                    "{}: {started} of {expected} agent pods started; {}",
                    self.timed_out(),
                    self.pod_states()
                ),
            ),
        }
    }

    pub(super) fn nodes(&self) -> String {
        let nodes: BTreeSet<&str> = self
            .run_pods()
            .into_iter()
            .filter_map(|p| p.node.as_deref())
            .collect();
        if nodes.is_empty() {
            "their nodes".into()
        } else {
            nodes.into_iter().collect::<Vec<_>>().join(", ")
        }
    }

    pub(super) fn pod_states(&self) -> String {
        let pods = self.run_pods();
        if pods.is_empty() {
            return "no pod was created (see `kubectl describe job`)".into();
        }
        pods.iter()
            .map(|p| format!("{} {:?}", p.name, p.phase))
            .collect::<Vec<_>>()
            .join(", ")
    }

    // ---- 6. Metrics ---------------------------------------------------------------------

    pub(super) async fn metrics(&mut self) -> StepReport {
        let name = StepName::Metrics;
        self.waiting("scraping every running agent through the pod proxy");
        let until = (Instant::now() + METRICS_WAIT).min(self.deadline);
        let done = self
            .wait_for(until, |r| {
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let all = r
                    .ran
                    .iter()
                    .all(|p| r.scraped.get(p).is_some_and(|s| s.served));
                (all && !r.ran.is_empty()).then_some(Ok(()))
            })
            .await;
        let expected = self.ran.len() as u64;
        let served = self
            .ran
            .iter()
            .filter(|p| self.scraped.get(*p).is_some_and(|s| s.served))
            .count() as u64;
        match done {
            Some(Ok(())) => StepReport::passed(
                name,
                expected,
                served,
                format!(
                    "{served} agent{} serve {TASKS} through the pod proxy",
                    if served == 1 { "" } else { "s" }
                ),
            ),
            Some(Err(m)) => StepReport::failed(name, Some(expected), Some(served), m),
            None => {
                let reasons: Vec<String> = self
                    .ran
                    .iter()
                    .filter(|p| !self.scraped.get(*p).is_some_and(|s| s.served))
                    .map(|p| {
                        let why = self
                            .scraped
                            .get(p)
                            .and_then(|s| s.error.clone())
                            .unwrap_or_else(|| "not scraped before it stopped".into());
                        format!("{p} ({why})")
                    })
                    .collect();
                StepReport::failed(
                    name,
                    Some(expected),
                    Some(served),
                    format!(
                        "{} of {expected} agents not scraped: {}",
                        reasons.len(),
                        reasons.join(", ")
                    ),
                )
            }
        }
    }

    // ---- 8. Disruption (runs while agents work) -----------------------------------------

    pub(super) async fn disruption(&mut self) -> StepReport {
        let name = StepName::Disruption;
        self.waiting("an agent busy with a task, to evict");
        let deadline = self.deadline;
        let victim = self
            .wait_for(deadline, |r| {
                r.run_pods()
                    .into_iter()
                    .filter(|p| p.phase == PodPhase::Running && !p.deletion)
                    .find(|p| r.scraped.get(&p.name).is_some_and(|s| s.inflight > 0.0))
                    .map(|p| p.name.clone())
            })
            .await;
        let Some(victim) = victim else {
            return StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "{}: no agent was busy with a task to evict",
                    self.timed_out()
                ),
            );
        };
        let allowed = self.pdb_allowance(&victim).await;
        let expect_allowed = allowed.is_none_or(|a| a > 0);
        let pdb_note = match allowed {
            Some(a) => format!("the PDB allowed {a}"),
            None => "no PDB selects the pod".into(),
        };
        match evict_pod(&self.client, self.ns(), &victim).await {
            Ok(_) if expect_allowed => {}
            Ok(_) => {
                return StepReport::failed(
                    name,
                    Some(0),
                    Some(1),
                    format!("pod {victim} was evicted although {pdb_note}"),
                );
            }
            Err(e) if !expect_allowed => {
                return StepReport::passed(name, 0, 0, format!("the PDB refused as expected: {e}"));
            }
            Err(e) => {
                return StepReport::failed(name, Some(1), Some(0), format!("{e} ({pdb_note})"));
            }
        }
        self.evicted = Some(victim.clone());
        self.waiting("the evicted agent checkpoints and exits 143");
        let exit = self
            .wait_for(deadline, |r| match r.model.pods().get(&victim) {
                None => Some(None),
                Some(p) if matches!(p.phase, PodPhase::Failed | PodPhase::Succeeded) => {
                    Some(p.last_termination.as_ref().map(|t| t.exit_code))
                }
                Some(_) => None,
            })
            .await;
        match exit {
            Some(Some(143)) => StepReport::passed(
                name,
                1,
                1,
                format!("pod {victim} evicted ({pdb_note}); its agent checkpointed and exited 143"),
            ),
            Some(Some(code)) => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "pod {victim} evicted, but its agent exited {code}, not 143 (checkpointed and requeued)"
                ),
            ),
            Some(None) => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!("pod {victim} was evicted and is gone before its exit code was seen"),
            ),
            None => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "{}: pod {victim} was evicted but did not stop",
                    self.timed_out()
                ),
            ),
        }
    }

    /// What the PDBs selecting `pod` allow now (the least of them); None when none does.
    pub(super) async fn pdb_allowance(&self, pod: &str) -> Option<i32> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), self.ns());
        let labels: Labels = pods.get_opt(pod).await.ok()??.metadata.labels?;
        let pdbs: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            self.ns(),
            &watch::object_resource(ObjectKind::PodDisruptionBudget),
        );
        let list = pdbs.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .filter_map(|v| PdbStatus::from_json(&v))
            .filter(|p| p.selector.matches(&labels))
            .map(|p| p.disruptions_allowed)
            .min()
    }

    // ---- 7. Completion ------------------------------------------------------------------

    pub(super) async fn completion(&mut self) -> StepReport {
        let name = StepName::Completion;
        let count = self.opts.count;
        self.waiting("every Job Complete");
        let deadline = self.deadline;
        let outcome = self
            .wait_for(deadline, |r| {
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let jobs = r.run_jobs();
                if let Some(j) = jobs.iter().find(|j| j.conditions.failed) {
                    return Some(Err(format!(
                        "Job {} failed ({})",
                        j.name,
                        j.conditions.failure_reason.as_deref().unwrap_or("Failed")
                    )));
                }
                (!jobs.is_empty() && jobs.iter().all(|j| j.conditions.complete)).then_some(Ok(()))
            })
            .await;
        let completed = report::completed_tasks(self.scraped.values().filter_map(|s| s.completed));
        match outcome {
            Some(Ok(())) => {}
            Some(Err(m)) => return StepReport::failed(name, Some(count), Some(completed), m),
            None => {
                let open: Vec<String> = self
                    .run_jobs()
                    .iter()
                    .filter(|j| !j.conditions.complete)
                    .map(|j| format!("{} (active {})", j.name, j.active))
                    .collect();
                return StepReport::failed(
                    name,
                    Some(count),
                    Some(completed),
                    format!(
                        "{}: Jobs not Complete: {}; agents report {completed} of {count} tasks done",
                        self.timed_out(),
                        open.join(", ")
                    ),
                );
            }
        }
        let mut problems = Vec::new();
        if completed != count {
            problems.push(format!(
                "the agents report {completed} of {count} tasks completed"
            ));
        }
        if let Some(b) = &self.broker {
            match b.depth(&self.queue).await {
                Ok(d) if d.ready > 0 => {
                    problems.push(format!("{} tasks left in {}", d.ready, self.queue))
                }
                Ok(_) => {}
                Err(e) => problems.push(e.to_string()),
            }
            match b.depth(&dlq_name(&self.queue)).await {
                Ok(d) if d.ready != self.dlq_before => problems.push(format!(
                    "{} tasks dead-lettered into {}",
                    d.ready.saturating_sub(self.dlq_before),
                    dlq_name(&self.queue)
                )),
                _ => {}
            }
        }
        for p in self.run_pods() {
            if let Some(t) = &p.last_oom {
                problems.push(format!(
                    "pod {} was OOMKilled (container {}, exit {})",
                    p.name, t.container, t.exit_code
                ));
            } else if Some(&p.name) != self.evicted.as_ref()
                && (p.status_reason.as_deref() == Some("Evicted") || p.disruption_target.is_some())
            {
                problems.push(format!(
                    "pod {} was disrupted ({})",
                    p.name,
                    p.disruption_target
                        .as_ref()
                        .map_or("Evicted", |d| d.reason.as_str())
                ));
            }
        }
        let jobs = self.run_jobs().len();
        if problems.is_empty() {
            StepReport::passed(
                name,
                count,
                completed,
                format!(
                    "{completed} tasks done by the agents, {} drained, DLQ unchanged, {jobs} Job{} Complete",
                    self.queue,
                    if jobs == 1 { "" } else { "s" }
                ),
            )
        } else {
            StepReport::failed(name, Some(count), Some(completed), problems.join("; "))
        }
    }

    // ---- 9. Clean-up --------------------------------------------------------------------

    pub(super) async fn cleanup(&mut self) -> StepReport {
        let name = StepName::Cleanup;
        if self.opts.keep {
            return StepReport::skipped(
                name,
                format!(
                    "kept (--keep): the run's Jobs and queue {}; ScaledJob {} still reads it",
                    self.queue, self.sj_name
                ),
            );
        }
        let until = Instant::now() + CLEANUP_WAIT;
        let mut expected = 0u64;
        let mut done = 0u64;
        let mut problems = Vec::new();
        let mut what = Vec::new();
        // The ScaledJob first, so that KEDA stops making Jobs for the run's queue.
        if let Some(prior) = self.prior.take() {
            expected += 1;
            let patch = json!({"spec": {"triggers": prior.triggers,
                "pollingInterval": prior.polling_interval,
                "jobTargetRef": {"template": {"spec": {"containers": prior.containers}}}}});
            match self
                .sj_api()
                .await
                .patch(
                    &self.sj_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => {
                    done += 1;
                    what.push(format!("ScaledJob {} restored", self.sj_name));
                }
                Err(e) => problems.push(format!(
                    "cannot restore ScaledJob {}: {}; put its trigger back with `fleetctl apply`",
                    self.sj_name,
                    KubeFailure::classify(&e)
                )),
            }
        }
        // The run's Jobs (and with them their pods), foreground.
        let names: Vec<String> = self.run_jobs().iter().map(|j| j.name.clone()).collect();
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), self.ns());
        for j in &names {
            expected += 1;
            match jobs.delete(j, &DeleteParams::foreground()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => problems.push(format!(
                    "cannot delete Job {j}: {}",
                    KubeFailure::classify(&e)
                )),
            }
        }
        if !names.is_empty() {
            self.waiting("the run's Jobs and pods gone");
            let gone = self
                .wait_for(until, |r| {
                    let left = names
                        .iter()
                        .filter(|n| r.model.jobs().contains_key(*n))
                        .count();
                    (left == 0).then_some(())
                })
                .await;
            let left: Vec<&String> = names
                .iter()
                .filter(|n| self.model.jobs().contains_key(*n))
                .collect();
            done += (names.len() - left.len()) as u64;
            if gone.is_none() && !left.is_empty() {
                problems.push(format!(
                    "Jobs still there after {}: {}",
                    human(CLEANUP_WAIT),
                    left.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        // The queue, when the run made it.
        if self.fresh_queue
            && let Some(b) = &self.broker
            && self.steps.iter().any(|s| s.name == StepName::Seed)
        {
            let mut deleted = 0;
            for q in [self.queue.clone(), dlq_name(&self.queue)] {
                expected += 1;
                match b.delete_queue(&q).await {
                    Ok(_) => deleted += 1,
                    Err(e) => problems.push(e.to_string()),
                }
            }
            done += deleted;
            if deleted == 2 {
                what.push(format!("queue {} deleted", self.queue));
            }
        }
        if !names.is_empty() {
            what.insert(
                0,
                format!(
                    "{} Job{} deleted",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" }
                ),
            );
        }
        self.watchers = None;
        if problems.is_empty() {
            if what.is_empty() {
                what.push("nothing to clean up".into());
            }
            StepReport::passed(name, expected, done, what.join(", "))
        } else {
            StepReport::failed(name, Some(expected), Some(done), problems.join("; "))
        }
    }
}

/// The ScaledJob's Ready condition when it is not True: `; Ready=False: <message>`.
async fn sj_condition(api: &Api<DynamicObject>, name: &str) -> String {
    let Ok(Some(sj)) = api.get_opt(name).await else {
        return String::new();
    };
    let v = serde_json::to_value(&sj).unwrap_or_default();
    v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready" && c["status"] != "True")
        .map(|c| {
            format!(
                "; ScaledJob Ready={}: {}",
                c["status"].as_str().unwrap_or("?"),
                c["message"].as_str().or(c["reason"].as_str()).unwrap_or("")
            )
        })
        .unwrap_or_default()
}
