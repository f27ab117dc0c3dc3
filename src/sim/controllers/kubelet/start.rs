//! A container's start (IP, volumes, environment, the runtime, its log) and its exit (restart
//! policy, CrashLoopBackOff, OOMKilled, the pod's end).

use super::*;

impl Worker {
    /// Starts container `i` (first start or restart).
    pub(super) async fn start(&mut self, i: usize) {
        let now = Timestamp::now();
        self.restart_at[i] = None;
        let spec = self.specs[i].clone();
        let ip = match self.ip {
            Some(ip) => ip,
            None => match self.allocate_ip() {
                Some(ip) => {
                    self.ip = Some(ip);
                    ip
                }
                None => {
                    self.fail_start(
                        i,
                        "RunContainerError",
                        "no pod IP left in 127.1.0.0/16".into(),
                    );
                    return;
                }
            },
        };
        self.state.pod_ip = Some(ip.to_string());
        let state_dir = self.kl.opts.state_dir.clone();
        let mounts =
            match volumes::mounts(&state_dir, &self.pod, &spec, self.kl.opts.allow_host_path) {
                Ok(m) => m,
                Err(e) => {
                    self.fail_start(i, "CreateContainerConfigError", e.to_string());
                    return;
                }
            };
        if let Err(e) = mounts.create() {
            self.fail_start(
                i,
                "RunContainerError",
                format!("cannot create the volume directories: {e}"),
            );
            return;
        }
        let refs = match env::fetch_refs(&self.kl.client, &self.kl.refs, &self.ns, &spec).await {
            Ok(r) => r,
            Err(e) => {
                self.fail_start(i, "CreateContainerConfigError", e.to_string());
                return;
            }
        };
        let vars = match env::resolve(&self.pod, &spec, &ip.to_string(), &refs) {
            Ok(v) => v,
            Err(e) => {
                self.fail_start(i, "CreateContainerConfigError", e.to_string());
                return;
            }
        };
        let mut argv = env::argv(&spec, &vars);
        env::bind_to_pod_ip(&mut argv, &spec, &ip.to_string());
        let argv: Vec<String> = argv.iter().map(|a| mounts.rewrite(a)).collect();
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| {
                let v = mounts.rewrite(&v);
                (k, v)
            })
            .collect();
        let c = &self.state.containers[i];
        let launch = runtime::Launch {
            argv,
            env: vars,
            log: self.log_path(&spec.name, c.restart_count),
            brokers: self.kl.brokers.clone(),
        };
        let first = !c.ever_started;
        let counted = match self.inproc_slot() {
            Ok(c) => c,
            Err(message) => {
                self.fail_start(i, "RunContainerError", message);
                return;
            }
        };
        match runtime::start(self.kl.opts.runtime, &self.kl.opts.agent_exe, launch) {
            Err(e) => {
                drop(counted);
                self.fail_start(i, "RunContainerError", e.to_string())
            }
            Ok(started) => {
                self.generation[i] += 1;
                let generation = self.generation[i];
                let tx = self.exits.clone();
                let exit_rx = started.exit;
                tokio::spawn(async move {
                    let exit = exit_rx.await.unwrap_or(runtime::Exit {
                        code: 137,
                        signal: Some(9),
                    });
                    drop(counted);
                    let _ = tx.send((i, generation, exit));
                });
                let has_probe = spec
                    .readiness_probe
                    .as_ref()
                    .is_some_and(|p| p.http_get.is_some());
                let c = &mut self.state.containers[i];
                c.state = State::Running {
                    started_at: now,
                    container_id: started.container_id.clone(),
                };
                c.ever_started = true;
                c.probe_ready = !has_probe;
                self.next_probe[i] = has_probe.then(|| {
                    let delay = spec
                        .readiness_probe
                        .as_ref()
                        .and_then(|p| p.initial_delay_seconds)
                        .unwrap_or(0);
                    crate::sim::clock::after(
                        Instant::now(),
                        crate::sim::clock::secs(delay.into()).max(Duration::from_millis(200)),
                    )
                });
                self.next_liveness[i] = spec
                    .liveness_probe
                    .as_ref()
                    .filter(|p| p.http_get.is_some())
                    .map(|p| {
                        let delay = p.initial_delay_seconds.unwrap_or(0);
                        crate::sim::clock::after(
                            Instant::now(),
                            crate::sim::clock::secs(delay.into()).max(Duration::from_millis(200)),
                        )
                    });
                if let Some(m) = &self.kl.meter {
                    let c = usage::ContainerRef {
                        uid: &self.uid,
                        index: i,
                        namespace: &self.ns,
                        pod: &self.name,
                        node: &self.node,
                        container: &spec.name,
                    };
                    m.add(c, usage::Probe::of(&started.ctl));
                }
                self.live[i] = Some(Live {
                    ctl: started.ctl,
                    id: started.container_id,
                    started_at: now,
                    killed: None,
                    probe_failures: 0,
                    liveness_failures: 0,
                });
                self.state.refresh(now);
                let image = spec.image.clone().unwrap_or_default();
                if first {
                    self.event_later(
                        EventType::Normal,
                        "Pulled",
                        format!("Container image \"{image}\" already present on machine"),
                    );
                }
                self.event_later(
                    EventType::Normal,
                    "Created",
                    format!("Created container: {}", spec.name),
                );
                self.event_later(
                    EventType::Normal,
                    "Started",
                    format!("Started container {}", spec.name),
                );
            }
        }
    }

    /// A place in the open-file budget for an in-process container, given back when the
    /// returned guard is dropped (None for the process runtime); Err with the reason when
    /// the budget is spent.
    pub(super) fn inproc_slot(&self) -> Result<Option<InprocSlot>, String> {
        if self.kl.opts.runtime != super::super::RuntimeKind::Inproc {
            return Ok(None);
        }
        let max = self.kl.opts.max_inproc_pods;
        let live = &self.kl.inproc_live;
        let taken = live.fetch_update(
            std::sync::atomic::Ordering::AcqRel,
            std::sync::atomic::Ordering::Acquire,
            |n| (n < max).then_some(n + 1),
        );
        match taken {
            Ok(_) => Ok(Some(InprocSlot(live.clone()))),
            Err(_) => Err(format!(
                "too many open files: the sim's open-file limit allows {max} in-process containers and that many run now; delete pods, or raise the hard limit (ulimit -Hn) and restart the sim"
            )),
        }
    }

    /// A start that failed before anything ran: waiting with `reason`, retried with back-off.
    pub(super) fn fail_start(&mut self, i: usize, reason: &str, message: String) {
        let now = Timestamp::now();
        self.failures[i] += 1;
        let delay = status::backoff(self.failures[i], self.backoff_initial(), self.backoff_max());
        self.restart_at[i] = Some(Instant::now() + delay.unsigned_abs());
        self.state.containers[i].state = State::Waiting {
            reason: reason.into(),
            message: Some(message.clone()),
        };
        self.state.refresh(now);
        self.event_later(EventType::Warning, "Failed", format!("Error: {message}"));
    }

    pub(super) fn backoff_initial(&self) -> SignedDuration {
        SignedDuration::try_from(self.kl.opts.backoff_initial)
            .unwrap_or(SignedDuration::from_secs(10))
    }

    pub(super) fn backoff_max(&self) -> SignedDuration {
        SignedDuration::try_from(self.kl.opts.backoff_max).unwrap_or(SignedDuration::from_mins(5))
    }

    pub(super) fn log_path(&self, container: &str, restart: i32) -> PathBuf {
        crate::sim::api::logs::path(
            &self.kl.opts.state_dir.join("logs"),
            &self.ns,
            &self.name,
            &self.uid,
            container,
            restart.into(),
        )
    }

    pub(super) async fn on_exit(&mut self, i: usize, exit: runtime::Exit) {
        let now = Timestamp::now();
        let Some(live) = self.live[i].take() else {
            return;
        };
        if let Some(m) = &self.kl.meter {
            m.remove(&self.uid, i);
        }
        self.next_probe[i] = None;
        self.next_liveness[i] = None;
        self.liveness_kill_at[i] = None;
        // A container killed by its liveness probe restarts unless the policy is Never.
        let restart_code = if live.killed == Some(KilledFor::Liveness) {
            1
        } else {
            exit.code
        };
        let term = Terminated::new(
            exit.code,
            exit.signal,
            live.killed,
            live.started_at,
            now,
            live.id,
        );
        let policy = self.state.restart_policy;
        let c = &mut self.state.containers[i];
        if self.state.stopping || !policy.restarts(restart_code) {
            c.state = State::Terminated(term);
            self.state.refresh(now);
            return;
        }
        // Back-off: consecutive failures double the delay; a long run starts afresh.
        if now.duration_since(live.started_at) >= BACKOFF_RESET {
            self.failures[i] = 0;
        }
        self.failures[i] += 1;
        let delay = status::backoff(self.failures[i], self.backoff_initial(), self.backoff_max());
        let c = &mut self.state.containers[i];
        c.restart_count += 1;
        c.last = Some(term);
        c.state = State::Waiting {
            reason: "CrashLoopBackOff".into(),
            message: Some(status::backoff_message(
                delay, &c.name, &self.name, &self.ns, &self.uid,
            )),
        };
        let cname = c.name.clone();
        self.restart_at[i] = Some(Instant::now() + delay.unsigned_abs());
        self.state.refresh(now);
        self.event_later(
            EventType::Warning,
            "BackOff",
            format!(
                "Back-off restarting failed container {cname} in pod {}_{}({})",
                self.name, self.ns, self.uid
            ),
        );
    }
}
