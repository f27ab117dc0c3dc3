//! The kubelet's httpGet probes of a running container, on the pod IP: readiness (the
//! container's `ready`) and liveness (after `failureThreshold` failures in a row: `Killing`,
//! SIGTERM, SIGKILL after the grace period, and a restart unless the policy is Never).

use jiff::Timestamp;
use tokio::time::Instant;

use super::status::KilledFor;
use super::{EventType, MIN_GRACE, Worker};

impl Worker {
    /// One livenessProbe; after `failureThreshold` failures in a row the container is killed
    /// (SIGTERM, SIGKILL after the grace period) and restarted unless the policy is Never,
    /// with the kubelet's `Unhealthy` and `Killing` events.
    pub(super) async fn liveness(&mut self, i: usize) {
        let spec = &self.specs[i];
        let Some(p) = spec.liveness_probe.clone() else {
            self.next_liveness[i] = None;
            return;
        };
        let period = crate::sim::clock::secs(p.period_seconds.unwrap_or(10).max(1).into());
        let threshold = p.failure_threshold.unwrap_or(3).max(1);
        let result = self.http_probe(i, &p).await;
        self.next_liveness[i] = Some(crate::sim::clock::after(Instant::now(), period));
        let name = spec.name.clone();
        let Some(live) = self.live[i].as_mut() else {
            return;
        };
        let Err(why) = result else {
            live.liveness_failures = 0;
            return;
        };
        live.liveness_failures += 1;
        let failed = live.liveness_failures >= threshold;
        if failed {
            live.killed = Some(KilledFor::Liveness);
            live.ctl.term();
            self.next_liveness[i] = None;
            self.next_probe[i] = None;
            let grace = p
                .termination_grace_period_seconds
                .or(self
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds))
                .unwrap_or(30);
            self.liveness_kill_at[i] = Some(crate::sim::clock::after(
                Instant::now(),
                crate::sim::clock::secs(grace).max(MIN_GRACE),
            ));
        }
        self.event_later(
            EventType::Warning,
            "Unhealthy",
            format!("Liveness probe failed: {why}"),
        );
        if failed {
            self.event_later(
                EventType::Normal,
                "Killing",
                format!("Container {name} failed liveness probe, will be restarted"),
            );
        }
    }

    /// An httpGet probe of container `i` on the pod IP: Err with the kubelet's reason.
    async fn http_probe(
        &self,
        i: usize,
        p: &k8s_openapi::api::core::v1::Probe,
    ) -> Result<(), String> {
        let spec = &self.specs[i];
        let Some(get) = p.http_get.as_ref() else {
            return Ok(());
        };
        let port = match &get.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => *n,
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name) => spec
                .ports
                .iter()
                .flatten()
                .find(|cp| cp.name.as_deref() == Some(name.as_str()))
                .map(|cp| cp.container_port)
                .unwrap_or(0),
        };
        let path = get.path.clone().unwrap_or_else(|| "/".into());
        let ip = self.ip.map(|i| i.to_string()).unwrap_or_default();
        let timeout = crate::sim::clock::secs(p.timeout_seconds.unwrap_or(1).max(1).into());
        if let Some(code) = self.live[i].as_ref().and_then(|l| l.ctl.probe(port, &path)) {
            return judged(code);
        }
        let url = format!("http://{ip}:{port}{path}");
        match self.kl.http.get(&url).timeout(timeout).send().await {
            Ok(r) => judged(r.status()),
            Err(e) if e.is_timeout() => Err(format!(
                "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )),
            Err(_) => Err(format!(
                "Get \"{url}\": dial tcp {ip}:{port}: connect: connection refused"
            )),
        }
    }

    /// One readiness probe (httpGet on the pod IP).
    pub(super) async fn probe(&mut self, i: usize) {
        let spec = &self.specs[i];
        let Some(p) = spec.readiness_probe.clone() else {
            self.next_probe[i] = None;
            return;
        };
        if p.http_get.is_none() {
            self.next_probe[i] = None;
            return;
        }
        let period = crate::sim::clock::secs(p.period_seconds.unwrap_or(10).max(1).into());
        let threshold = p.failure_threshold.unwrap_or(3).max(1);
        let ok = self.http_probe(i, &p).await.is_ok();
        self.next_probe[i] = Some(crate::sim::clock::after(Instant::now(), period));
        let Some(live) = self.live[i].as_mut() else {
            return;
        };
        let c = &mut self.state.containers[i];
        if ok {
            live.probe_failures = 0;
            c.probe_ready = true;
        } else {
            live.probe_failures += 1;
            if live.probe_failures >= threshold {
                c.probe_ready = false;
            }
        }
        self.state.refresh(Timestamp::now());
    }
}

/// The kubelet's reading of an httpGet probe's status: 2xx and 3xx pass.
fn judged(code: axum::http::StatusCode) -> Result<(), String> {
    if code.is_success() || code.is_redirection() {
        Ok(())
    } else {
        Err(format!(
            "HTTP probe failed with statuscode: {}",
            code.as_u16()
        ))
    }
}
