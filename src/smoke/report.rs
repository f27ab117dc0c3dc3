//! The smoke test's report as plain data: each step's name, status, time, the number expected
//! next to the number seen, and a message; the verdict; and the arithmetic behind the expected
//! numbers (KEDA's Jobs for a queue, the agents' completed tasks). No I/O.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::fleet::scaling::{self, JobCounts, ScaledJobSpec, TriggerReading};

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepName {
    Preflight,
    Manifests,
    Seed,
    Scale,
    Pods,
    Metrics,
    Disruption,
    Completion,
    Cleanup,
}

impl StepName {
    pub const ALL: [StepName; 9] = [
        StepName::Preflight,
        StepName::Manifests,
        StepName::Seed,
        StepName::Scale,
        StepName::Pods,
        StepName::Metrics,
        StepName::Disruption,
        StepName::Completion,
        StepName::Cleanup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Preflight => "preflight",
            StepName::Manifests => "manifests",
            StepName::Seed => "seed",
            StepName::Scale => "scale",
            StepName::Pods => "pods",
            StepName::Metrics => "metrics",
            StepName::Disruption => "disruption",
            StepName::Completion => "completion",
            StepName::Cleanup => "cleanup",
        }
    }

    /// What the step proves, for the checklist.
    pub fn title(self) -> &'static str {
        match self {
            StepName::Preflight => "API, KEDA, namespace, Secret, broker and RBAC",
            StepName::Manifests => "bundled manifests applied and linted",
            StepName::Seed => "tasks seeded with publisher confirms",
            StepName::Scale => "KEDA created the Jobs its arithmetic gives",
            StepName::Pods => "agent pods scheduled and Running",
            StepName::Metrics => "agents serve /metrics through the pod proxy",
            StepName::Disruption => "an evicted agent checkpoints and its task is finished",
            StepName::Completion => "every task completed, queue drained, Jobs Complete",
            StepName::Cleanup => "what the run created is deleted and restored",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub name: StepName,
    pub status: Status,
    pub seconds: f64,
    /// The number the step expects (checks, objects, tasks, Jobs, pods), when it has one.
    pub expected: Option<u64>,
    /// The number it saw.
    pub seen: Option<u64>,
    pub message: String,
}

impl StepReport {
    pub fn passed(name: StepName, expected: u64, seen: u64, message: impl Into<String>) -> Self {
        Self::new(name, Status::Passed, Some(expected), Some(seen), message)
    }

    pub fn failed(
        name: StepName,
        expected: Option<u64>,
        seen: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(name, Status::Failed, expected, seen, message)
    }

    pub fn skipped(name: StepName, message: impl Into<String>) -> Self {
        Self::new(name, Status::Skipped, None, None, message)
    }

    fn new(
        name: StepName,
        status: Status,
        expected: Option<u64>,
        seen: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        StepReport {
            name,
            status,
            seconds: 0.0,
            expected,
            seen,
            message: message.into(),
        }
    }

    /// With the time the step took, rounded to milliseconds.
    pub fn timed(mut self, seconds: f64) -> Self {
        self.seconds = (seconds * 1000.0).round() / 1000.0;
        self
    }

    /// `seen/expected`, or `-` when the step has no number.
    pub fn counts(&self) -> String {
        match (self.seen, self.expected) {
            (Some(s), Some(e)) => format!("{s}/{e}"),
            (Some(s), None) => s.to_string(),
            (None, Some(e)) => format!("?/{e}"),
            (None, None) => "-".into(),
        }
    }

    /// One checklist line: `[ok] scale  2/2  1.52s  2 Jobs (10 messages / 5 per Job)`.
    pub fn line(&self) -> String {
        let mark = match self.status {
            Status::Passed => "[ok]  ",
            Status::Failed => "[FAIL]",
            Status::Skipped => "[skip]",
        };
        format!(
            "{mark} {:<10} {:>7} {:>7.2}s  {}",
            self.name.as_str(),
            self.counts(),
            self.seconds,
            self.message
        )
    }
}

/// PASS only when every step passed or was skipped on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Fail,
}

/// The whole run: the stable `-o json` interface (fields are added, never renamed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub result: Verdict,
    /// The first step that failed.
    pub failed_step: Option<StepName>,
    /// Its message.
    pub reason: Option<String>,
    /// The API server, namespace, ScaledJob and queue the run used.
    pub server: String,
    pub namespace: String,
    pub scaled_job: String,
    pub queue: String,
    pub count: u64,
    pub seconds: f64,
    pub steps: Vec<StepReport>,
}

impl Report {
    /// The verdict of `steps`: the first failed step decides it.
    pub fn verdict(steps: &[StepReport]) -> (Verdict, Option<StepName>, Option<String>) {
        match steps.iter().find(|s| s.status == Status::Failed) {
            Some(s) => (Verdict::Fail, Some(s.name), Some(s.message.clone())),
            None => (Verdict::Pass, None, None),
        }
    }

    pub fn passed(&self) -> bool {
        self.result == Verdict::Pass
    }

    /// The last line of the text output.
    pub fn summary(&self) -> String {
        match (self.result, self.failed_step, &self.reason) {
            (Verdict::Pass, _, _) => format!(
                "PASS: {} tasks through {} in {:.1}s",
                self.count, self.scaled_job, self.seconds
            ),
            (Verdict::Fail, Some(step), Some(why)) => {
                format!("FAIL at {}: {why}", step.as_str())
            }
            (Verdict::Fail, _, _) => "FAIL".to_string(),
        }
    }

    /// The checklist and the verdict, as text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let _ = writeln!(out, "{}", s.line());
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}

/// The Jobs KEDA creates at its next poll for `ready` messages, with the ScaledJob's `running`
/// unfinished Jobs of which `pending` are pending (SPEC-k8s.md §1.2, through
/// [`scaling::decide`], the code the local cluster's scaler runs), and the sentence that says
/// why: `2 Jobs (10 messages / 5 per Job)`.
pub fn expected_jobs(
    spec: &ScaledJobSpec,
    reading: TriggerReading,
    running: i64,
    pending: i64,
) -> (u64, String) {
    let d = scaling::decide(spec, &[reading], JobCounts { running, pending });
    let n = d.create.max(0) as u64;
    let per = if reading.target.fract() == 0.0 {
        format!("{}", reading.target as i64)
    } else {
        format!("{}", reading.target)
    };
    let mut why = format!(
        "{} message{} / {per} per Job",
        reading.queue_length as u64,
        if reading.queue_length == 1.0 { "" } else { "s" }
    );
    if running > 0 {
        let _ = write!(why, ", {running} running");
    }
    if d.max_scale < (reading.queue_length / reading.target.max(1e-9)).ceil() as i64 {
        let _ = write!(why, ", capped at {}", spec.max_replicas());
    }
    (
        n,
        format!("{n} Job{} ({why})", if n == 1 { "" } else { "s" }),
    )
}

/// Tasks the agents report completed: the sum of each agent's last
/// `agent_tasks_completed_total{status="success"}`.
pub fn completed_tasks(per_agent: impl IntoIterator<Item = f64>) -> u64 {
    per_agent
        .into_iter()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v.round() as u64)
        .sum()
}

/// A duration for messages, as kubectl writes ages: `45s`, `3m20s`, `75m`.
pub fn human(d: std::time::Duration) -> String {
    crate::fleet::duration::human_duration(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::scaling::{Combine, Strategy};

    fn spec(max: Option<i64>) -> ScaledJobSpec {
        ScaledJobSpec {
            min_replica_count: None,
            max_replica_count: max,
            strategy: Strategy::Default,
            combine: Combine::Max,
        }
    }

    fn reading(q: f64, t: f64) -> TriggerReading {
        TriggerReading {
            queue_length: q,
            target: t,
            activation: 0.0,
        }
    }

    #[test]
    fn jobs_for_the_ready_count_follow_kedas_arithmetic() {
        assert_eq!(
            expected_jobs(&spec(Some(500)), reading(10.0, 5.0), 0, 0),
            (2, "2 Jobs (10 messages / 5 per Job)".to_string())
        );
        // ceil: 11 messages at 5 per Job are 3 Jobs.
        assert_eq!(
            expected_jobs(&spec(Some(500)), reading(11.0, 5.0), 0, 0).0,
            3
        );
        // Running Jobs count against the new ones (default strategy).
        let (n, why) = expected_jobs(&spec(Some(500)), reading(10.0, 5.0), 1, 0);
        assert_eq!(
            (n, why.as_str()),
            (1, "1 Job (10 messages / 5 per Job, 1 running)")
        );
        // maxReplicaCount caps it.
        let (n, why) = expected_jobs(&spec(Some(3)), reading(10.0, 1.0), 0, 0);
        assert_eq!(n, 3);
        assert!(why.ends_with("capped at 3)"), "{why}");
        // An empty queue: nothing.
        assert_eq!(expected_jobs(&spec(None), reading(0.0, 5.0), 0, 0).0, 0);
        assert_eq!(
            expected_jobs(&spec(None), reading(1.0, 5.0), 0, 0).1,
            "1 Job (1 message / 5 per Job)"
        );
    }

    #[test]
    fn completed_tasks_add_up_per_agent() {
        assert_eq!(completed_tasks([4.0, 6.0]), 10);
        assert_eq!(completed_tasks([]), 0);
        assert_eq!(completed_tasks([f64::NAN, 3.0, -1.0]), 3);
    }

    #[test]
    fn the_first_failed_step_decides_the_verdict() {
        let steps = vec![
            StepReport::passed(StepName::Preflight, 5, 5, "ok"),
            StepReport::failed(StepName::Scale, Some(2), Some(0), "no Jobs within 7s"),
            StepReport::skipped(StepName::Pods, "an earlier step failed"),
            StepReport::failed(StepName::Cleanup, Some(1), Some(0), "later"),
        ];
        let (v, step, why) = Report::verdict(&steps);
        assert_eq!(v, Verdict::Fail);
        assert_eq!(step, Some(StepName::Scale));
        assert_eq!(why.as_deref(), Some("no Jobs within 7s"));
        let (v, step, _) = Report::verdict(&steps[..1]);
        assert_eq!((v, step), (Verdict::Pass, None));
    }

    #[test]
    fn lines_and_json_carry_expected_next_to_seen() {
        let s = StepReport::passed(StepName::Scale, 2, 2, "2 Jobs (10 messages / 5 per Job)")
            .timed(1.23456);
        assert_eq!(s.seconds, 1.235);
        let line = s.line();
        assert!(line.starts_with("[ok]   scale"), "{line}");
        assert!(line.contains("2/2"), "{line}");
        assert!(line.contains("1.24s"), "{line}");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["name"], "scale");
        assert_eq!(v["status"], "passed");
        assert_eq!(v["expected"], 2);
        assert_eq!(v["seen"], 2);
        let skipped =
            serde_json::to_value(StepReport::skipped(StepName::Disruption, "off")).unwrap();
        assert_eq!(skipped["status"], "skipped");
        assert!(skipped["expected"].is_null());
        assert_eq!(StepReport::skipped(StepName::Pods, "x").counts(), "-");
    }
}
