//! How many Jobs a KEDA 2.16 ScaledJob creates in one polling cycle (SPEC-k8s.md §1.2).
//!
//! Pure arithmetic: the queue lengths, the Job counts and the spec come in, the decision comes
//! out. The local cluster's scaler and the console's prediction call the same function.

/// `scalingStrategy.strategy`; an unknown name behaves as `default`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    Default,
    Custom {
        /// `customScalingQueueLengthDeduction`
        deduction: i64,
        /// `customScalingRunningJobPercentage`, parsed (a parse error means `default`)
        running_job_percentage: f64,
    },
    Accurate,
    Eager,
}

impl Strategy {
    /// From the spec's strings, as KEDA reads them.
    pub fn parse(name: Option<&str>, deduction: Option<i64>, percentage: Option<&str>) -> Self {
        match name {
            Some("custom") => match percentage.map(str::parse::<f64>) {
                Some(Ok(p)) => Strategy::Custom {
                    deduction: deduction.unwrap_or(0),
                    running_job_percentage: p,
                },
                _ => Strategy::Default,
            },
            Some("accurate") => Strategy::Accurate,
            Some("eager") => Strategy::Eager,
            _ => Strategy::Default,
        }
    }
}

/// `scalingStrategy.multipleScalersCalculation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    Max,
    Min,
    Avg,
    Sum,
}

impl Combine {
    pub fn parse(name: Option<&str>) -> Self {
        match name {
            Some("min") => Combine::Min,
            Some("avg") => Combine::Avg,
            Some("sum") => Combine::Sum,
            _ => Combine::Max,
        }
    }
}

/// The parts of a ScaledJob's spec the arithmetic reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledJobSpec {
    pub min_replica_count: Option<i64>,
    pub max_replica_count: Option<i64>,
    pub strategy: Strategy,
    pub combine: Combine,
}

impl ScaledJobSpec {
    /// `MinReplicaCount()`: min(min, max), 0 when unset.
    pub fn min_replicas(&self) -> i64 {
        let min = self.min_replica_count.unwrap_or(0);
        match self.max_replica_count {
            Some(max) => min.min(max),
            None => min,
        }
    }

    /// `MaxReplicaCount()`: max − MinReplicaCount() when max is set and min ≤ max; max when
    /// min > max; 100 when max is unset (min is not subtracted then).
    pub fn max_replicas(&self) -> i64 {
        match self.max_replica_count {
            None => 100,
            Some(max) => {
                let min = self.min_replica_count.unwrap_or(0);
                if min <= max {
                    max - self.min_replicas()
                } else {
                    max
                }
            }
        }
    }
}

/// One trigger's reading: the queue length Q, its target `value` T and `activationValue`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TriggerReading {
    pub queue_length: f64,
    pub target: f64,
    pub activation: f64,
}

/// The ScaledJob's unfinished Jobs: R (neither Complete nor Failed) and, of those, P pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub running: i64,
    pub pending: i64,
}

/// What one polling cycle decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub active: bool,
    /// ceil(Q) (MRC for eager), or MIN − R below the minimum.
    pub scale_to: i64,
    /// ceil(min(maxValue, MRC)).
    pub max_scale: i64,
    /// The strategy's effective count, before the clamp to [0, scale_to].
    pub effective: i64,
    /// Jobs created now.
    pub create: i64,
}

/// The Jobs a cycle creates, given each trigger's reading.
pub fn decide(spec: &ScaledJobSpec, triggers: &[TriggerReading], jobs: JobCounts) -> Decision {
    let mrc = spec.max_replicas();
    let min = spec.min_replicas();
    let per_trigger: Vec<(f64, f64, bool)> = triggers
        .iter()
        .map(|t| {
            let max_value = if t.target == 0.0 {
                0.0
            } else {
                (t.queue_length / t.target).min(mrc as f64)
            };
            (t.queue_length, max_value, t.queue_length > t.activation)
        })
        .collect();
    let active_ones: Vec<(f64, f64)> = per_trigger
        .iter()
        .filter(|x| x.2)
        .map(|x| (x.0, x.1))
        .collect();
    let (queue, max_value) = combine(spec.combine, &active_ones);
    let active = !active_ones.is_empty() || min > 0;

    let max_scale = max_value.min(mrc as f64).ceil() as i64;
    let (scale_to, effective) = if jobs.running < min {
        (min - jobs.running, min - jobs.running)
    } else {
        let r = jobs.running - min;
        let p = jobs.pending;
        let ceil_q = queue.ceil() as i64;
        match spec.strategy {
            Strategy::Default => (ceil_q, max_scale - r),
            Strategy::Custom {
                deduction,
                running_job_percentage,
            } => (
                ceil_q,
                (max_scale - deduction - (r as f64 * running_job_percentage) as i64).min(mrc),
            ),
            Strategy::Accurate => (
                ceil_q,
                if max_scale + r > mrc {
                    mrc - r
                } else {
                    max_scale - p
                },
            ),
            Strategy::Eager => (mrc, (mrc - r - p).min(max_scale)),
        }
    };
    let create = if active {
        scale_to.min(effective.max(0))
    } else {
        0
    };
    Decision {
        active,
        scale_to,
        max_scale,
        effective,
        create,
    }
}

/// Combines the active triggers' (Q, maxValue) pairs.
fn combine(how: Combine, xs: &[(f64, f64)]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let pick = |better: fn(f64, f64) -> bool| {
        xs.iter()
            .copied()
            .reduce(|a, b| if better(b.0, a.0) { b } else { a })
            .expect("not empty")
    };
    match how {
        Combine::Max => pick(|b, a| b > a),
        Combine::Min => pick(|b, a| b < a),
        Combine::Sum => xs
            .iter()
            .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1)),
        Combine::Avg => {
            let (q, v) = xs
                .iter()
                .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1));
            let n = xs.len() as f64;
            (q / n, v / n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(min: Option<i64>, max: Option<i64>, strategy: Strategy) -> ScaledJobSpec {
        ScaledJobSpec {
            min_replica_count: min,
            max_replica_count: max,
            strategy,
            combine: Combine::Max,
        }
    }

    fn one(q: f64, t: f64) -> Vec<TriggerReading> {
        vec![TriggerReading {
            queue_length: q,
            target: t,
            activation: 0.0,
        }]
    }

    fn created(q: f64, max: i64, min: Option<i64>, t: f64, r: i64, strategy: Strategy) -> i64 {
        decide(
            &spec(min, Some(max), strategy),
            &one(q, t),
            JobCounts {
                running: r,
                pending: 0,
            },
        )
        .create
    }

    /// SPEC-k8s.md §1.2's check table, row by row (MIN = 0 and P = 0 unless stated).
    #[test]
    fn spec_table() {
        use Strategy::*;
        assert_eq!(created(10.0, 3, None, 1.0, 0, Default), 3);
        assert_eq!(created(10.0, 3, None, 2.0, 0, Default), 3);
        assert_eq!(created(10.0, 3, None, 1.0, 1, Default), 2);
        assert_eq!(created(10.0, 100, None, 1.0, 0, Default), 10);
        assert_eq!(created(4.0, 3, None, 5.0, 0, Default), 1);
        assert_eq!(created(10.0, 100, None, 2.0, 0, Default), 5);
        assert_eq!(created(6.0, 10, None, 1.0, 3, Default), 3);
        assert_eq!(created(6.0, 10, None, 1.0, 3, Accurate), 6);
        assert_eq!(created(6.0, 10, None, 1.0, 3, Eager), 6);
        assert_eq!(created(3.0, 100, Some(2), 1.0, 2, Default), 3);
        assert_eq!(created(0.0, 10, Some(2), 1.0, 0, Default), 2);
    }

    /// KEDA's TestEagerScalingStrategy anchors: (maxScale, r, P, MRC) → effective.
    #[test]
    fn eager_anchors() {
        for (max_scale, r, p, mrc, want) in [
            (4, 3, 0, 10, 4),
            (4, 0, 3, 10, 4),
            (4, 7, 0, 10, 3),
            (4, 1, 6, 10, 3),
            (15, 0, 0, 10, 10),
        ] {
            // maxScale = ceil(min(Q/T, MRC)): with T = 1, Q = maxScale.
            let d = decide(
                &spec(None, Some(mrc), Strategy::Eager),
                &one(max_scale as f64, 1.0),
                JobCounts {
                    running: r,
                    pending: p,
                },
            );
            assert_eq!(d.effective, want, "({max_scale},{r},{p},{mrc})");
            assert_eq!(d.scale_to, mrc);
        }
    }

    #[test]
    fn replica_count_rules() {
        assert_eq!(spec(None, None, Strategy::Default).max_replicas(), 100);
        assert_eq!(
            spec(Some(5), None, Strategy::Default).max_replicas(),
            100,
            "min not subtracted when max unset"
        );
        assert_eq!(spec(Some(2), Some(10), Strategy::Default).max_replicas(), 8);
        assert_eq!(
            spec(Some(20), Some(10), Strategy::Default).max_replicas(),
            10
        );
        assert_eq!(
            spec(Some(20), Some(10), Strategy::Default).min_replicas(),
            10
        );
    }

    #[test]
    fn activation_and_combination() {
        let s = spec(None, Some(100), Strategy::Default);
        let below = vec![TriggerReading {
            queue_length: 3.0,
            target: 1.0,
            activation: 5.0,
        }];
        let d = decide(&s, &below, JobCounts::default());
        assert!(!d.active);
        assert_eq!(d.create, 0, "an inactive ScaledJob creates nothing");
        let two = vec![
            TriggerReading {
                queue_length: 10.0,
                target: 5.0,
                activation: 0.0,
            },
            TriggerReading {
                queue_length: 4.0,
                target: 1.0,
                activation: 0.0,
            },
        ];
        // max takes the trigger with the largest Q: 10/5 = 2 Jobs.
        assert_eq!(decide(&s, &two, JobCounts::default()).create, 2);
        let min = ScaledJobSpec {
            combine: Combine::Min,
            ..s.clone()
        };
        assert_eq!(decide(&min, &two, JobCounts::default()).create, 4);
        let sum = ScaledJobSpec {
            combine: Combine::Sum,
            ..s.clone()
        };
        assert_eq!(decide(&sum, &two, JobCounts::default()).create, 6);
        let zero_target = vec![TriggerReading {
            queue_length: 10.0,
            target: 0.0,
            activation: 0.0,
        }];
        assert_eq!(decide(&s, &zero_target, JobCounts::default()).create, 0);
    }

    #[test]
    fn custom_strategy_and_parsing() {
        let c = Strategy::parse(Some("custom"), Some(1), Some("0.5"));
        assert_eq!(
            c,
            Strategy::Custom {
                deduction: 1,
                running_job_percentage: 0.5
            }
        );
        // maxScale 10, r 4: 10 − 1 − int(4·0.5) = 7.
        assert_eq!(created(10.0, 100, None, 1.0, 4, c), 7);
        assert_eq!(
            Strategy::parse(Some("custom"), Some(1), Some("half")),
            Strategy::Default
        );
        assert_eq!(
            Strategy::parse(Some("nonsense"), None, None),
            Strategy::Default
        );
        assert_eq!(Combine::parse(Some("avg")), Combine::Avg);
    }

    #[test]
    fn running_jobs_never_make_the_count_negative() {
        assert_eq!(created(2.0, 10, None, 1.0, 8, Strategy::Default), 0);
    }
}
