//! The TTL-after-finished controller: a Job with `ttlSecondsAfterFinished` is deleted, with
//! Foreground propagation (its pods go first), that many seconds after its `Complete` or
//! `Failed` condition became True (SPEC-k8s.md §2).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::api::{Api, DeleteParams, DynamicObject, Preconditions};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Ctx, cache, resource_of};

/// When a Job may be deleted: its finish time plus its TTL. None while it runs, when it has no
/// TTL, or when it is being deleted already.
pub fn expiry(job: &Value) -> Option<Timestamp> {
    if super::deleting(job) {
        return None;
    }
    let ttl = job["spec"]["ttlSecondsAfterFinished"].as_i64()?;
    let finished = job["status"]["conditions"]
        .as_array()?
        .iter()
        .filter(|c| {
            matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True"
        })
        .filter_map(|c| c["lastTransitionTime"].as_str()?.parse::<Timestamp>().ok())
        .max()?;
    Some(crate::sim::clock::ts_after(finished, ttl.max(0)))
}

pub fn spawn(ctx: &Ctx) -> Vec<JoinHandle<()>> {
    let Some(ar) = resource_of("batch/v1", "Job") else {
        return vec![];
    };
    let changed = Arc::new(Notify::new());
    let (jobs, watcher) = cache(ctx, &ar, changed.clone());
    let c = ctx.clone();
    let controller = ctx.spawn(async move {
        loop {
            let now = Timestamp::now();
            let mut next: Option<Timestamp> = None;
            for job in jobs.state() {
                let Ok(v) = serde_json::to_value(job.as_ref()) else {
                    continue;
                };
                let Some(at) = expiry(&v) else { continue };
                if at > now {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    continue;
                }
                let ns = job.metadata.namespace.clone().unwrap_or_default();
                let name = job.metadata.name.clone().unwrap_or_default();
                let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &ns, &ar);
                // The uid precondition: a Job re-created under the same name is not touched.
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: job.metadata.uid.clone(),
                        resource_version: None,
                    }),
                    ..DeleteParams::foreground()
                };
                if let Err(e) = api.delete(&name, &dp).await {
                    tracing::debug!(error = %e, job = %name, "ttl_delete_retry");
                }
            }
            let wait = next
                .map(|n| {
                    n.duration_since(now)
                        .unsigned_abs()
                        .min(Duration::from_secs(30))
                })
                .unwrap_or(Duration::from_secs(30));
            let _ = tokio::time::timeout(wait + Duration::from_millis(5), changed.notified()).await;
        }
    });
    vec![watcher, controller]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ttl_counts_from_the_terminal_condition() {
        let job = json!({"metadata": {"name": "j"}, "spec": {"ttlSecondsAfterFinished": 30},
            "status": {"conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"}]}});
        assert_eq!(expiry(&job), Some("2026-01-01T00:00:35Z".parse().unwrap()));
    }

    #[test]
    fn running_untimed_or_deleting_jobs_do_not_expire() {
        let running = json!({"spec": {"ttlSecondsAfterFinished": 0}, "status": {"conditions": [
            {"type": "FailureTarget", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        assert_eq!(
            expiry(&running),
            None,
            "FailureTarget alone is not finished"
        );
        let untimed = json!({"spec": {}, "status": {"conditions": [
            {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        assert_eq!(expiry(&untimed), None);
        let deleting = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"ttlSecondsAfterFinished": 0}, "status": {"conditions": [
            {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        assert_eq!(expiry(&deleting), None);
    }
}
