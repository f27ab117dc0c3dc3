//! Generated data: a table derived mechanically from the Kubernetes API's protobuf definitions.
//! Change it only by the procedure at the end of this comment.
//!
//! Field numbers, names and types of the Kubernetes API protobuf messages that clients send
//! (kubectl's typed clients send Secrets, Jobs, Evictions ... as protobuf), read by
//! [`super::proto`] to turn a protobuf request body into JSON.
//!
//! Derived from: the `generated.proto` files of k8s.io/api (`core/v1`, `apps/v1`, `batch/v1`,
//! `policy/v1`, `rbac/v1`) and k8s.io/apimachinery (`pkg/apis/meta/v1`), as of Kubernetes'
//! development branch after v1.34 (the newest field it holds is `PodSpec` field 44,
//! `evictionResponders`). It holds every message reachable from the kinds kubectl creates with
//! typed clients: 216 messages, sorted by their full proto name. The repository has no generator
//! script for it.
//!
//! Each `Field` is one proto field: `num` is its field number, `name` its JSON name (the Go
//! struct's `json:` tag, which is also the proto field name), `repeated` whether it is a list.
//! Types map as follows: `string` -> `T::Str`, `bytes` -> `T::Bytes`, `bool` -> `T::Bool`, every
//! integer type -> `T::Int`, `double` -> `T::Float`, `map<string, X>` -> `T::Map(&X)`, another
//! message -> `T::Msg("full.proto.Name")`; and the apimachinery wrappers `meta.v1.Time` and
//! `MicroTime` -> `T::Time`, `meta.v1.Duration` -> `T::Duration`, `resource.Quantity` ->
//! `T::Quantity`, `intstr.IntOrString` -> `T::IntOrString`, `runtime.RawExtension` -> `T::Raw`.
//!
//! To update it (a new API field, or a new kind kubectl sends as protobuf): take the message
//! from that Kubernetes release's `generated.proto`, add or change its `Message` entry here with
//! the mapping above, add an entry for every message it newly references, keep the entries
//! sorted by name, and add a decoding test in `proto.rs` with a body kubectl actually sends
//! (`kubectl create ... -v=9` prints it). Fields a message's entry lacks are skipped when
//! decoding (an old table drops new fields silently); a message it lacks fails the request.

use super::proto::{Field, Message, T};

pub static MESSAGES: &[Message] = &[
    Message {
        name: "k8s.io.api.apps.v1.Deployment",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.apps.v1.DeploymentSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.apps.v1.DeploymentStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.DeploymentCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "lastUpdateTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 7,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.DeploymentSpec",
        fields: &[
            Field {
                num: 1,
                name: "replicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "selector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "template",
                ty: T::Msg("k8s.io.api.core.v1.PodTemplateSpec"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "strategy",
                ty: T::Msg("k8s.io.api.apps.v1.DeploymentStrategy"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "minReadySeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "revisionHistoryLimit",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "paused",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 9,
                name: "progressDeadlineSeconds",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.DeploymentStatus",
        fields: &[
            Field {
                num: 1,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "replicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "updatedReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "readyReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "availableReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "unavailableReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 9,
                name: "terminatingReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "conditions",
                ty: T::Msg("k8s.io.api.apps.v1.DeploymentCondition"),
                repeated: true,
            },
            Field {
                num: 8,
                name: "collisionCount",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.DeploymentStrategy",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "rollingUpdate",
                ty: T::Msg("k8s.io.api.apps.v1.RollingUpdateDeployment"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.ReplicaSet",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.apps.v1.ReplicaSetSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.apps.v1.ReplicaSetStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.ReplicaSetCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.ReplicaSetSpec",
        fields: &[
            Field {
                num: 1,
                name: "replicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "minReadySeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "selector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "template",
                ty: T::Msg("k8s.io.api.core.v1.PodTemplateSpec"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.ReplicaSetStatus",
        fields: &[
            Field {
                num: 1,
                name: "replicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fullyLabeledReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "readyReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "availableReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "terminatingReplicas",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "conditions",
                ty: T::Msg("k8s.io.api.apps.v1.ReplicaSetCondition"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.apps.v1.RollingUpdateDeployment",
        fields: &[
            Field {
                num: 1,
                name: "maxUnavailable",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 2,
                name: "maxSurge",
                ty: T::IntOrString,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.CronJob",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.batch.v1.CronJobSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.batch.v1.CronJobStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.CronJobSpec",
        fields: &[
            Field {
                num: 1,
                name: "schedule",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "timeZone",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "startingDeadlineSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "concurrencyPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "suspend",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "jobTemplate",
                ty: T::Msg("k8s.io.api.batch.v1.JobTemplateSpec"),
                repeated: false,
            },
            Field {
                num: 6,
                name: "successfulJobsHistoryLimit",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "failedJobsHistoryLimit",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.CronJobStatus",
        fields: &[
            Field {
                num: 1,
                name: "active",
                ty: T::Msg("k8s.io.api.core.v1.ObjectReference"),
                repeated: true,
            },
            Field {
                num: 4,
                name: "lastScheduleTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "lastSuccessfulTime",
                ty: T::Time,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.Job",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.batch.v1.JobSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.batch.v1.JobStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.JobCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastProbeTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.JobSchedulingConfiguration",
        fields: &[],
    },
    Message {
        name: "k8s.io.api.batch.v1.JobSpec",
        fields: &[
            Field {
                num: 1,
                name: "parallelism",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "completions",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "activeDeadlineSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 11,
                name: "podFailurePolicy",
                ty: T::Msg("k8s.io.api.batch.v1.PodFailurePolicy"),
                repeated: false,
            },
            Field {
                num: 16,
                name: "successPolicy",
                ty: T::Msg("k8s.io.api.batch.v1.SuccessPolicy"),
                repeated: false,
            },
            Field {
                num: 7,
                name: "backoffLimit",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 12,
                name: "backoffLimitPerIndex",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 13,
                name: "maxFailedIndexes",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "selector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "manualSelector",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 6,
                name: "template",
                ty: T::Msg("k8s.io.api.core.v1.PodTemplateSpec"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "ttlSecondsAfterFinished",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 9,
                name: "completionMode",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "suspend",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 14,
                name: "podReplacementPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 15,
                name: "managedBy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 17,
                name: "scheduling",
                ty: T::Msg("k8s.io.api.batch.v1.JobSchedulingConfiguration"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.JobStatus",
        fields: &[
            Field {
                num: 1,
                name: "conditions",
                ty: T::Msg("k8s.io.api.batch.v1.JobCondition"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "startTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 3,
                name: "completionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "active",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "succeeded",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "failed",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 11,
                name: "terminating",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "completedIndexes",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "failedIndexes",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "uncountedTerminatedPods",
                ty: T::Msg("k8s.io.api.batch.v1.UncountedTerminatedPods"),
                repeated: false,
            },
            Field {
                num: 9,
                name: "ready",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.JobTemplateSpec",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.batch.v1.JobSpec"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.PodFailurePolicy",
        fields: &[Field {
            num: 1,
            name: "rules",
            ty: T::Msg("k8s.io.api.batch.v1.PodFailurePolicyRule"),
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        fields: &[
            Field {
                num: 1,
                name: "containerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "operator",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "values",
                ty: T::Int,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.PodFailurePolicyRule",
        fields: &[
            Field {
                num: 1,
                name: "action",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "onExitCodes",
                ty: T::Msg("k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "onPodConditions",
                ty: T::Msg("k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.SuccessPolicy",
        fields: &[Field {
            num: 1,
            name: "rules",
            ty: T::Msg("k8s.io.api.batch.v1.SuccessPolicyRule"),
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.batch.v1.SuccessPolicyRule",
        fields: &[
            Field {
                num: 1,
                name: "succeededIndexes",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "succeededCount",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.batch.v1.UncountedTerminatedPods",
        fields: &[
            Field {
                num: 1,
                name: "succeeded",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "failed",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "volumeID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "partition",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Affinity",
        fields: &[
            Field {
                num: 1,
                name: "nodeAffinity",
                ty: T::Msg("k8s.io.api.core.v1.NodeAffinity"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "podAffinity",
                ty: T::Msg("k8s.io.api.core.v1.PodAffinity"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "podAntiAffinity",
                ty: T::Msg("k8s.io.api.core.v1.PodAntiAffinity"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.AppArmorProfile",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "localhostProfile",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.AttachedVolume",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "devicePath",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.AzureDiskVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "diskName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "diskURI",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "cachingMode",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 6,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.AzureFileVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "secretName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "shareName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.CSIVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "driver",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 3,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "volumeAttributes",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 5,
                name: "nodePublishSecretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Capabilities",
        fields: &[
            Field {
                num: 1,
                name: "add",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "drop",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.CephFSVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "monitors",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "user",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "secretFile",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 6,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.CinderVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "volumeID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ClientIPConfig",
        fields: &[Field {
            num: 1,
            name: "timeoutSeconds",
            ty: T::Int,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.ClusterTrustBundleProjection",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "signerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "labelSelector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "user",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMap",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "immutable",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 2,
                name: "data",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 3,
                name: "binaryData",
                ty: T::Map(&T::Bytes),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMapEnvSource",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMapKeySelector",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMapNodeConfigSource",
        fields: &[
            Field {
                num: 1,
                name: "namespace",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "uid",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "resourceVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "kubeletConfigKey",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMapProjection",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "items",
                ty: T::Msg("k8s.io.api.core.v1.KeyToPath"),
                repeated: true,
            },
            Field {
                num: 4,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ConfigMapVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "items",
                ty: T::Msg("k8s.io.api.core.v1.KeyToPath"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "defaultMode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "defaultUser",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Container",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "image",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "command",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "args",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 5,
                name: "workingDir",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "ports",
                ty: T::Msg("k8s.io.api.core.v1.ContainerPort"),
                repeated: true,
            },
            Field {
                num: 19,
                name: "envFrom",
                ty: T::Msg("k8s.io.api.core.v1.EnvFromSource"),
                repeated: true,
            },
            Field {
                num: 7,
                name: "env",
                ty: T::Msg("k8s.io.api.core.v1.EnvVar"),
                repeated: true,
            },
            Field {
                num: 8,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 23,
                name: "resizePolicy",
                ty: T::Msg("k8s.io.api.core.v1.ContainerResizePolicy"),
                repeated: true,
            },
            Field {
                num: 24,
                name: "restartPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 25,
                name: "restartPolicyRules",
                ty: T::Msg("k8s.io.api.core.v1.ContainerRestartRule"),
                repeated: true,
            },
            Field {
                num: 9,
                name: "volumeMounts",
                ty: T::Msg("k8s.io.api.core.v1.VolumeMount"),
                repeated: true,
            },
            Field {
                num: 21,
                name: "volumeDevices",
                ty: T::Msg("k8s.io.api.core.v1.VolumeDevice"),
                repeated: true,
            },
            Field {
                num: 10,
                name: "livenessProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 11,
                name: "readinessProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 22,
                name: "startupProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "lifecycle",
                ty: T::Msg("k8s.io.api.core.v1.Lifecycle"),
                repeated: false,
            },
            Field {
                num: 13,
                name: "terminationMessagePath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 20,
                name: "terminationMessagePolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 14,
                name: "imagePullPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 15,
                name: "securityContext",
                ty: T::Msg("k8s.io.api.core.v1.SecurityContext"),
                repeated: false,
            },
            Field {
                num: 16,
                name: "stdin",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 17,
                name: "stdinOnce",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 18,
                name: "tty",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerExtendedResourceRequest",
        fields: &[
            Field {
                num: 1,
                name: "containerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "resourceName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "requestName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerImage",
        fields: &[
            Field {
                num: 1,
                name: "names",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "sizeBytes",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerPort",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "hostPort",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "containerPort",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "protocol",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "hostIP",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerResizePolicy",
        fields: &[
            Field {
                num: 1,
                name: "resourceName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "restartPolicy",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerRestartRule",
        fields: &[
            Field {
                num: 1,
                name: "action",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "exitCodes",
                ty: T::Msg("k8s.io.api.core.v1.ContainerRestartRuleOnExitCodes"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerRestartRuleOnExitCodes",
        fields: &[
            Field {
                num: 1,
                name: "operator",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "values",
                ty: T::Int,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerState",
        fields: &[
            Field {
                num: 1,
                name: "waiting",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStateWaiting"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "running",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStateRunning"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "terminated",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStateTerminated"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerStateRunning",
        fields: &[Field {
            num: 1,
            name: "startedAt",
            ty: T::Time,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerStateTerminated",
        fields: &[
            Field {
                num: 1,
                name: "exitCode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "signal",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "startedAt",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 6,
                name: "finishedAt",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 7,
                name: "containerID",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerStateWaiting",
        fields: &[
            Field {
                num: 1,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerStatus",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "state",
                ty: T::Msg("k8s.io.api.core.v1.ContainerState"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastState",
                ty: T::Msg("k8s.io.api.core.v1.ContainerState"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "ready",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "restartCount",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "image",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "imageID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "containerID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 9,
                name: "started",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 10,
                name: "allocatedResources",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 11,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "volumeMounts",
                ty: T::Msg("k8s.io.api.core.v1.VolumeMountStatus"),
                repeated: true,
            },
            Field {
                num: 13,
                name: "user",
                ty: T::Msg("k8s.io.api.core.v1.ContainerUser"),
                repeated: false,
            },
            Field {
                num: 14,
                name: "allocatedResourcesStatus",
                ty: T::Msg("k8s.io.api.core.v1.ResourceStatus"),
                repeated: true,
            },
            Field {
                num: 15,
                name: "stopSignal",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ContainerUser",
        fields: &[Field {
            num: 1,
            name: "linux",
            ty: T::Msg("k8s.io.api.core.v1.LinuxContainerUser"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.DaemonEndpoint",
        fields: &[Field {
            num: 1,
            name: "Port",
            ty: T::Int,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.DownwardAPIProjection",
        fields: &[Field {
            num: 1,
            name: "items",
            ty: T::Msg("k8s.io.api.core.v1.DownwardAPIVolumeFile"),
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.DownwardAPIVolumeFile",
        fields: &[
            Field {
                num: 1,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fieldRef",
                ty: T::Msg("k8s.io.api.core.v1.ObjectFieldSelector"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "resourceFieldRef",
                ty: T::Msg("k8s.io.api.core.v1.ResourceFieldSelector"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "mode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "user",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.DownwardAPIVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "items",
                ty: T::Msg("k8s.io.api.core.v1.DownwardAPIVolumeFile"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "defaultMode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "defaultUser",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EmptyDirVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "medium",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "sizeLimit",
                ty: T::Quantity,
                repeated: false,
            },
            Field {
                num: 3,
                name: "mode",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EnvFromSource",
        fields: &[
            Field {
                num: 1,
                name: "prefix",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "configMapRef",
                ty: T::Msg("k8s.io.api.core.v1.ConfigMapEnvSource"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.SecretEnvSource"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EnvVar",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "valueFrom",
                ty: T::Msg("k8s.io.api.core.v1.EnvVarSource"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EnvVarSource",
        fields: &[
            Field {
                num: 1,
                name: "fieldRef",
                ty: T::Msg("k8s.io.api.core.v1.ObjectFieldSelector"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "resourceFieldRef",
                ty: T::Msg("k8s.io.api.core.v1.ResourceFieldSelector"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "configMapKeyRef",
                ty: T::Msg("k8s.io.api.core.v1.ConfigMapKeySelector"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "secretKeyRef",
                ty: T::Msg("k8s.io.api.core.v1.SecretKeySelector"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "fileKeyRef",
                ty: T::Msg("k8s.io.api.core.v1.FileKeySelector"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EphemeralContainer",
        fields: &[
            Field {
                num: 1,
                name: "ephemeralContainerCommon",
                ty: T::Msg("k8s.io.api.core.v1.EphemeralContainerCommon"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "targetContainerName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EphemeralContainerCommon",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "image",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "command",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "args",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 5,
                name: "workingDir",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "ports",
                ty: T::Msg("k8s.io.api.core.v1.ContainerPort"),
                repeated: true,
            },
            Field {
                num: 19,
                name: "envFrom",
                ty: T::Msg("k8s.io.api.core.v1.EnvFromSource"),
                repeated: true,
            },
            Field {
                num: 7,
                name: "env",
                ty: T::Msg("k8s.io.api.core.v1.EnvVar"),
                repeated: true,
            },
            Field {
                num: 8,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 23,
                name: "resizePolicy",
                ty: T::Msg("k8s.io.api.core.v1.ContainerResizePolicy"),
                repeated: true,
            },
            Field {
                num: 24,
                name: "restartPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 25,
                name: "restartPolicyRules",
                ty: T::Msg("k8s.io.api.core.v1.ContainerRestartRule"),
                repeated: true,
            },
            Field {
                num: 9,
                name: "volumeMounts",
                ty: T::Msg("k8s.io.api.core.v1.VolumeMount"),
                repeated: true,
            },
            Field {
                num: 21,
                name: "volumeDevices",
                ty: T::Msg("k8s.io.api.core.v1.VolumeDevice"),
                repeated: true,
            },
            Field {
                num: 10,
                name: "livenessProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 11,
                name: "readinessProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 22,
                name: "startupProbe",
                ty: T::Msg("k8s.io.api.core.v1.Probe"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "lifecycle",
                ty: T::Msg("k8s.io.api.core.v1.Lifecycle"),
                repeated: false,
            },
            Field {
                num: 13,
                name: "terminationMessagePath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 20,
                name: "terminationMessagePolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 14,
                name: "imagePullPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 15,
                name: "securityContext",
                ty: T::Msg("k8s.io.api.core.v1.SecurityContext"),
                repeated: false,
            },
            Field {
                num: 16,
                name: "stdin",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 17,
                name: "stdinOnce",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 18,
                name: "tty",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EphemeralVolumeSource",
        fields: &[Field {
            num: 1,
            name: "volumeClaimTemplate",
            ty: T::Msg("k8s.io.api.core.v1.PersistentVolumeClaimTemplate"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.Event",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "involvedObject",
                ty: T::Msg("k8s.io.api.core.v1.ObjectReference"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "source",
                ty: T::Msg("k8s.io.api.core.v1.EventSource"),
                repeated: false,
            },
            Field {
                num: 6,
                name: "firstTimestamp",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 7,
                name: "lastTimestamp",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 8,
                name: "count",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 9,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "eventTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 11,
                name: "series",
                ty: T::Msg("k8s.io.api.core.v1.EventSeries"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "action",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 13,
                name: "related",
                ty: T::Msg("k8s.io.api.core.v1.ObjectReference"),
                repeated: false,
            },
            Field {
                num: 14,
                name: "reportingComponent",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 15,
                name: "reportingInstance",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EventSeries",
        fields: &[
            Field {
                num: 1,
                name: "count",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "lastObservedTime",
                ty: T::Time,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EventSource",
        fields: &[
            Field {
                num: 1,
                name: "component",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "host",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.EvictionResponder",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "priority",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ExecAction",
        fields: &[Field {
            num: 1,
            name: "command",
            ty: T::Str,
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.FCVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "targetWWNs",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "lun",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "wwids",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.FileKeySelector",
        fields: &[
            Field {
                num: 1,
                name: "volumeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.FlexVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "driver",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "options",
                ty: T::Map(&T::Str),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.FlockerVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "datasetName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "datasetUUID",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.GCEPersistentDiskVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "pdName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "partition",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.GRPCAction",
        fields: &[
            Field {
                num: 1,
                name: "port",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "service",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "mode",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.GitRepoVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "repository",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "revision",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "directory",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.GlusterfsVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "endpoints",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.HTTPGetAction",
        fields: &[
            Field {
                num: 1,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "port",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 3,
                name: "host",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "scheme",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "httpHeaders",
                ty: T::Msg("k8s.io.api.core.v1.HTTPHeader"),
                repeated: true,
            },
            Field {
                num: 6,
                name: "protocol",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.HTTPHeader",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.HostAlias",
        fields: &[
            Field {
                num: 1,
                name: "ip",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "hostnames",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.HostIP",
        fields: &[Field {
            num: 1,
            name: "ip",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.HostPathVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ISCSIVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "targetPortal",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "iqn",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "lun",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "iscsiInterface",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 7,
                name: "portals",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 8,
                name: "chapAuthDiscovery",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 11,
                name: "chapAuthSession",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 10,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "initiatorName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ImageVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "reference",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "pullPolicy",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ImageVolumeStatus",
        fields: &[Field {
            num: 1,
            name: "imageRef",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.KeyToPath",
        fields: &[
            Field {
                num: 1,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "mode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "user",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Lifecycle",
        fields: &[
            Field {
                num: 1,
                name: "postStart",
                ty: T::Msg("k8s.io.api.core.v1.LifecycleHandler"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "preStop",
                ty: T::Msg("k8s.io.api.core.v1.LifecycleHandler"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "stopSignal",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.LifecycleHandler",
        fields: &[
            Field {
                num: 1,
                name: "exec",
                ty: T::Msg("k8s.io.api.core.v1.ExecAction"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "httpGet",
                ty: T::Msg("k8s.io.api.core.v1.HTTPGetAction"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "tcpSocket",
                ty: T::Msg("k8s.io.api.core.v1.TCPSocketAction"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "sleep",
                ty: T::Msg("k8s.io.api.core.v1.SleepAction"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.LinuxContainerUser",
        fields: &[
            Field {
                num: 1,
                name: "uid",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "gid",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "supplementalGroups",
                ty: T::Int,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.LoadBalancerIngress",
        fields: &[
            Field {
                num: 1,
                name: "ip",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "hostname",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "ipMode",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "ports",
                ty: T::Msg("k8s.io.api.core.v1.PortStatus"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.LoadBalancerStatus",
        fields: &[Field {
            num: 1,
            name: "ingress",
            ty: T::Msg("k8s.io.api.core.v1.LoadBalancerIngress"),
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.LocalObjectReference",
        fields: &[Field {
            num: 1,
            name: "name",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NFSVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "server",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Namespace",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.NamespaceSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.core.v1.NamespaceStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NamespaceCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NamespaceSpec",
        fields: &[Field {
            num: 1,
            name: "finalizers",
            ty: T::Str,
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NamespaceStatus",
        fields: &[
            Field {
                num: 1,
                name: "phase",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "conditions",
                ty: T::Msg("k8s.io.api.core.v1.NamespaceCondition"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Node",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.NodeSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.core.v1.NodeStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeAddress",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "address",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeAffinity",
        fields: &[
            Field {
                num: 1,
                name: "requiredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.NodeSelector"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "preferredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.PreferredSchedulingTerm"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeAllocatableMappedResources",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "quantity",
                ty: T::Quantity,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeAllocatableOverheadResources",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "perPod",
                ty: T::Quantity,
                repeated: false,
            },
            Field {
                num: 3,
                name: "perContainer",
                ty: T::Quantity,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeAllocatableResourceClaimStatus",
        fields: &[
            Field {
                num: 1,
                name: "resourceClaimName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "containers",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "mapping",
                ty: T::Msg("k8s.io.api.core.v1.NodeAllocatableMappedResources"),
                repeated: true,
            },
            Field {
                num: 5,
                name: "overhead",
                ty: T::Msg("k8s.io.api.core.v1.NodeAllocatableOverheadResources"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastHeartbeatTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeConfigSource",
        fields: &[Field {
            num: 2,
            name: "configMap",
            ty: T::Msg("k8s.io.api.core.v1.ConfigMapNodeConfigSource"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeConfigStatus",
        fields: &[
            Field {
                num: 1,
                name: "assigned",
                ty: T::Msg("k8s.io.api.core.v1.NodeConfigSource"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "active",
                ty: T::Msg("k8s.io.api.core.v1.NodeConfigSource"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastKnownGood",
                ty: T::Msg("k8s.io.api.core.v1.NodeConfigSource"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "error",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeDaemonEndpoints",
        fields: &[Field {
            num: 1,
            name: "kubeletEndpoint",
            ty: T::Msg("k8s.io.api.core.v1.DaemonEndpoint"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeFeatures",
        fields: &[Field {
            num: 1,
            name: "supplementalGroupsPolicy",
            ty: T::Bool,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodePodPreemptionPolicy",
        fields: &[Field {
            num: 1,
            name: "disableResizePreemption",
            ty: T::Str,
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeRuntimeHandler",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "features",
                ty: T::Msg("k8s.io.api.core.v1.NodeRuntimeHandlerFeatures"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeRuntimeHandlerFeatures",
        fields: &[
            Field {
                num: 1,
                name: "recursiveReadOnlyMounts",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 2,
                name: "userNamespaces",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSelector",
        fields: &[Field {
            num: 1,
            name: "nodeSelectorTerms",
            ty: T::Msg("k8s.io.api.core.v1.NodeSelectorTerm"),
            repeated: true,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSelectorRequirement",
        fields: &[
            Field {
                num: 1,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "operator",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "values",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSelectorTerm",
        fields: &[
            Field {
                num: 1,
                name: "matchExpressions",
                ty: T::Msg("k8s.io.api.core.v1.NodeSelectorRequirement"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "matchFields",
                ty: T::Msg("k8s.io.api.core.v1.NodeSelectorRequirement"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSpec",
        fields: &[
            Field {
                num: 1,
                name: "podCIDR",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "podCIDRs",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 3,
                name: "providerID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "unschedulable",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "taints",
                ty: T::Msg("k8s.io.api.core.v1.Taint"),
                repeated: true,
            },
            Field {
                num: 6,
                name: "configSource",
                ty: T::Msg("k8s.io.api.core.v1.NodeConfigSource"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "externalID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "podPreemptionPolicy",
                ty: T::Msg("k8s.io.api.core.v1.NodePodPreemptionPolicy"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeStatus",
        fields: &[
            Field {
                num: 1,
                name: "capacity",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 2,
                name: "allocatable",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 3,
                name: "phase",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "conditions",
                ty: T::Msg("k8s.io.api.core.v1.NodeCondition"),
                repeated: true,
            },
            Field {
                num: 5,
                name: "addresses",
                ty: T::Msg("k8s.io.api.core.v1.NodeAddress"),
                repeated: true,
            },
            Field {
                num: 6,
                name: "daemonEndpoints",
                ty: T::Msg("k8s.io.api.core.v1.NodeDaemonEndpoints"),
                repeated: false,
            },
            Field {
                num: 7,
                name: "nodeInfo",
                ty: T::Msg("k8s.io.api.core.v1.NodeSystemInfo"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "images",
                ty: T::Msg("k8s.io.api.core.v1.ContainerImage"),
                repeated: true,
            },
            Field {
                num: 9,
                name: "volumesInUse",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 10,
                name: "volumesAttached",
                ty: T::Msg("k8s.io.api.core.v1.AttachedVolume"),
                repeated: true,
            },
            Field {
                num: 11,
                name: "config",
                ty: T::Msg("k8s.io.api.core.v1.NodeConfigStatus"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "runtimeHandlers",
                ty: T::Msg("k8s.io.api.core.v1.NodeRuntimeHandler"),
                repeated: true,
            },
            Field {
                num: 13,
                name: "features",
                ty: T::Msg("k8s.io.api.core.v1.NodeFeatures"),
                repeated: false,
            },
            Field {
                num: 14,
                name: "declaredFeatures",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSwapStatus",
        fields: &[Field {
            num: 1,
            name: "capacity",
            ty: T::Int,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.NodeSystemInfo",
        fields: &[
            Field {
                num: 1,
                name: "machineID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "systemUUID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "bootID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "kernelVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "osImage",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "containerRuntimeVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "kubeletVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "kubeProxyVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 9,
                name: "operatingSystem",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "architecture",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 11,
                name: "swap",
                ty: T::Msg("k8s.io.api.core.v1.NodeSwapStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ObjectFieldSelector",
        fields: &[
            Field {
                num: 1,
                name: "apiVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fieldPath",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ObjectReference",
        fields: &[
            Field {
                num: 1,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "namespace",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "uid",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "apiVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "resourceVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "fieldPath",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PersistentVolumeClaimSpec",
        fields: &[
            Field {
                num: 1,
                name: "accessModes",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "selector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.VolumeResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "volumeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "storageClassName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "volumeMode",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "dataSource",
                ty: T::Msg("k8s.io.api.core.v1.TypedLocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "dataSourceRef",
                ty: T::Msg("k8s.io.api.core.v1.TypedObjectReference"),
                repeated: false,
            },
            Field {
                num: 9,
                name: "volumeAttributesClassName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PersistentVolumeClaimTemplate",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.PersistentVolumeClaimSpec"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "claimName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "pdID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Pod",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.PodSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.core.v1.PodStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodAffinity",
        fields: &[
            Field {
                num: 1,
                name: "requiredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.PodAffinityTerm"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "preferredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.WeightedPodAffinityTerm"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodAffinityTerm",
        fields: &[
            Field {
                num: 1,
                name: "labelSelector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "namespaces",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 3,
                name: "topologyKey",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "namespaceSelector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "matchLabelKeys",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 6,
                name: "mismatchLabelKeys",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodAntiAffinity",
        fields: &[
            Field {
                num: 1,
                name: "requiredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.PodAffinityTerm"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "preferredDuringSchedulingIgnoredDuringExecution",
                ty: T::Msg("k8s.io.api.core.v1.WeightedPodAffinityTerm"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodCertificateProjection",
        fields: &[
            Field {
                num: 1,
                name: "signerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "keyType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "maxExpirationSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "credentialBundlePath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "keyPath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "certificateChainPath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "userAnnotations",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 8,
                name: "user",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodCondition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "lastProbeTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 4,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodDNSConfig",
        fields: &[
            Field {
                num: 1,
                name: "nameservers",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "searches",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 3,
                name: "options",
                ty: T::Msg("k8s.io.api.core.v1.PodDNSConfigOption"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodDNSConfigOption",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodExtendedResourceClaimStatus",
        fields: &[
            Field {
                num: 1,
                name: "requestMappings",
                ty: T::Msg("k8s.io.api.core.v1.ContainerExtendedResourceRequest"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "resourceClaimName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodIP",
        fields: &[Field {
            num: 1,
            name: "ip",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.PodOS",
        fields: &[Field {
            num: 1,
            name: "name",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.PodReadinessGate",
        fields: &[Field {
            num: 1,
            name: "conditionType",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.PodResourceClaim",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "resourceClaimName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "resourceClaimTemplateName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodResourceClaimStatus",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "resourceClaimName",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodSchedulingGate",
        fields: &[Field {
            num: 1,
            name: "name",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.PodSchedulingGroup",
        fields: &[Field {
            num: 1,
            name: "podGroupName",
            ty: T::Str,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.PodSecurityContext",
        fields: &[
            Field {
                num: 1,
                name: "seLinuxOptions",
                ty: T::Msg("k8s.io.api.core.v1.SELinuxOptions"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "windowsOptions",
                ty: T::Msg("k8s.io.api.core.v1.WindowsSecurityContextOptions"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "runAsUser",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "runAsGroup",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "runAsNonRoot",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "supplementalGroups",
                ty: T::Int,
                repeated: true,
            },
            Field {
                num: 12,
                name: "supplementalGroupsPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "fsGroup",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "sysctls",
                ty: T::Msg("k8s.io.api.core.v1.Sysctl"),
                repeated: true,
            },
            Field {
                num: 9,
                name: "fsGroupChangePolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "seccompProfile",
                ty: T::Msg("k8s.io.api.core.v1.SeccompProfile"),
                repeated: false,
            },
            Field {
                num: 11,
                name: "appArmorProfile",
                ty: T::Msg("k8s.io.api.core.v1.AppArmorProfile"),
                repeated: false,
            },
            Field {
                num: 13,
                name: "seLinuxChangePolicy",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodSpec",
        fields: &[
            Field {
                num: 1,
                name: "volumes",
                ty: T::Msg("k8s.io.api.core.v1.Volume"),
                repeated: true,
            },
            Field {
                num: 20,
                name: "initContainers",
                ty: T::Msg("k8s.io.api.core.v1.Container"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "containers",
                ty: T::Msg("k8s.io.api.core.v1.Container"),
                repeated: true,
            },
            Field {
                num: 34,
                name: "ephemeralContainers",
                ty: T::Msg("k8s.io.api.core.v1.EphemeralContainer"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "restartPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "terminationGracePeriodSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "activeDeadlineSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "dnsPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "nodeSelector",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 8,
                name: "serviceAccountName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 9,
                name: "serviceAccount",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 21,
                name: "automountServiceAccountToken",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 10,
                name: "nodeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 11,
                name: "hostNetwork",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 12,
                name: "hostPID",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 13,
                name: "hostIPC",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 27,
                name: "shareProcessNamespace",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 14,
                name: "securityContext",
                ty: T::Msg("k8s.io.api.core.v1.PodSecurityContext"),
                repeated: false,
            },
            Field {
                num: 15,
                name: "imagePullSecrets",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: true,
            },
            Field {
                num: 16,
                name: "hostname",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 17,
                name: "subdomain",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 18,
                name: "affinity",
                ty: T::Msg("k8s.io.api.core.v1.Affinity"),
                repeated: false,
            },
            Field {
                num: 19,
                name: "schedulerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 22,
                name: "tolerations",
                ty: T::Msg("k8s.io.api.core.v1.Toleration"),
                repeated: true,
            },
            Field {
                num: 23,
                name: "hostAliases",
                ty: T::Msg("k8s.io.api.core.v1.HostAlias"),
                repeated: true,
            },
            Field {
                num: 24,
                name: "priorityClassName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 25,
                name: "priority",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 26,
                name: "dnsConfig",
                ty: T::Msg("k8s.io.api.core.v1.PodDNSConfig"),
                repeated: false,
            },
            Field {
                num: 28,
                name: "readinessGates",
                ty: T::Msg("k8s.io.api.core.v1.PodReadinessGate"),
                repeated: true,
            },
            Field {
                num: 29,
                name: "runtimeClassName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 30,
                name: "enableServiceLinks",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 31,
                name: "preemptionPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 32,
                name: "overhead",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 33,
                name: "topologySpreadConstraints",
                ty: T::Msg("k8s.io.api.core.v1.TopologySpreadConstraint"),
                repeated: true,
            },
            Field {
                num: 35,
                name: "setHostnameAsFQDN",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 36,
                name: "os",
                ty: T::Msg("k8s.io.api.core.v1.PodOS"),
                repeated: false,
            },
            Field {
                num: 37,
                name: "hostUsers",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 38,
                name: "schedulingGates",
                ty: T::Msg("k8s.io.api.core.v1.PodSchedulingGate"),
                repeated: true,
            },
            Field {
                num: 39,
                name: "resourceClaims",
                ty: T::Msg("k8s.io.api.core.v1.PodResourceClaim"),
                repeated: true,
            },
            Field {
                num: 40,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 41,
                name: "hostnameOverride",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 43,
                name: "schedulingGroup",
                ty: T::Msg("k8s.io.api.core.v1.PodSchedulingGroup"),
                repeated: false,
            },
            Field {
                num: 44,
                name: "evictionResponders",
                ty: T::Msg("k8s.io.api.core.v1.EvictionResponder"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodStatus",
        fields: &[
            Field {
                num: 17,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 1,
                name: "phase",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "conditions",
                ty: T::Msg("k8s.io.api.core.v1.PodCondition"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 11,
                name: "nominatedNodeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "hostIP",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 16,
                name: "hostIPs",
                ty: T::Msg("k8s.io.api.core.v1.HostIP"),
                repeated: true,
            },
            Field {
                num: 6,
                name: "podIP",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 12,
                name: "podIPs",
                ty: T::Msg("k8s.io.api.core.v1.PodIP"),
                repeated: true,
            },
            Field {
                num: 7,
                name: "startTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 10,
                name: "initContainerStatuses",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStatus"),
                repeated: true,
            },
            Field {
                num: 8,
                name: "containerStatuses",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStatus"),
                repeated: true,
            },
            Field {
                num: 9,
                name: "qosClass",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 13,
                name: "ephemeralContainerStatuses",
                ty: T::Msg("k8s.io.api.core.v1.ContainerStatus"),
                repeated: true,
            },
            Field {
                num: 14,
                name: "resize",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 15,
                name: "resourceClaimStatuses",
                ty: T::Msg("k8s.io.api.core.v1.PodResourceClaimStatus"),
                repeated: true,
            },
            Field {
                num: 18,
                name: "extendedResourceClaimStatus",
                ty: T::Msg("k8s.io.api.core.v1.PodExtendedResourceClaimStatus"),
                repeated: false,
            },
            Field {
                num: 19,
                name: "allocatedResources",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 20,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceRequirements"),
                repeated: false,
            },
            Field {
                num: 21,
                name: "nodeAllocatableResourceClaimStatuses",
                ty: T::Msg("k8s.io.api.core.v1.NodeAllocatableResourceClaimStatus"),
                repeated: true,
            },
            Field {
                num: 22,
                name: "volumeHealth",
                ty: T::Msg("k8s.io.api.core.v1.PodVolumeHealth"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodTemplateSpec",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.PodSpec"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PodVolumeHealth",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "healthConditions",
                ty: T::Msg("k8s.io.api.core.v1.VolumeHealthCondition"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PortStatus",
        fields: &[
            Field {
                num: 1,
                name: "port",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "protocol",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "error",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PortworxVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "volumeID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.PreferredSchedulingTerm",
        fields: &[
            Field {
                num: 1,
                name: "weight",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "preference",
                ty: T::Msg("k8s.io.api.core.v1.NodeSelectorTerm"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Probe",
        fields: &[
            Field {
                num: 1,
                name: "handler",
                ty: T::Msg("k8s.io.api.core.v1.ProbeHandler"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "initialDelaySeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "timeoutSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "periodSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "successThreshold",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "failureThreshold",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "terminationGracePeriodSeconds",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ProbeHandler",
        fields: &[
            Field {
                num: 1,
                name: "exec",
                ty: T::Msg("k8s.io.api.core.v1.ExecAction"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "httpGet",
                ty: T::Msg("k8s.io.api.core.v1.HTTPGetAction"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "tcpSocket",
                ty: T::Msg("k8s.io.api.core.v1.TCPSocketAction"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "grpc",
                ty: T::Msg("k8s.io.api.core.v1.GRPCAction"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ProjectedVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "sources",
                ty: T::Msg("k8s.io.api.core.v1.VolumeProjection"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "defaultMode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "defaultUser",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.QuobyteVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "registry",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "volume",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "user",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "group",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "tenant",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.RBDVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "monitors",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "image",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "pool",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "user",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "keyring",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ResourceClaim",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "request",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ResourceFieldSelector",
        fields: &[
            Field {
                num: 1,
                name: "containerName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "resource",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "divisor",
                ty: T::Quantity,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ResourceHealth",
        fields: &[
            Field {
                num: 1,
                name: "resourceID",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "health",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ResourceRequirements",
        fields: &[
            Field {
                num: 1,
                name: "limits",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 2,
                name: "requests",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 3,
                name: "claims",
                ty: T::Msg("k8s.io.api.core.v1.ResourceClaim"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ResourceStatus",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "resources",
                ty: T::Msg("k8s.io.api.core.v1.ResourceHealth"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SELinuxOptions",
        fields: &[
            Field {
                num: 1,
                name: "user",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "role",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "level",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ScaleIOVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "gateway",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "system",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "sslEnabled",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "protectionDomain",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "storagePool",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "storageMode",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "volumeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 9,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 10,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SeccompProfile",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "localhostProfile",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Secret",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "immutable",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 2,
                name: "data",
                ty: T::Map(&T::Bytes),
                repeated: false,
            },
            Field {
                num: 4,
                name: "stringData",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 3,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SecretEnvSource",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SecretKeySelector",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SecretProjection",
        fields: &[
            Field {
                num: 1,
                name: "localObjectReference",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "items",
                ty: T::Msg("k8s.io.api.core.v1.KeyToPath"),
                repeated: true,
            },
            Field {
                num: 4,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SecretVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "secretName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "items",
                ty: T::Msg("k8s.io.api.core.v1.KeyToPath"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "defaultMode",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "optional",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "defaultUser",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SecurityContext",
        fields: &[
            Field {
                num: 1,
                name: "capabilities",
                ty: T::Msg("k8s.io.api.core.v1.Capabilities"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "privileged",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 3,
                name: "seLinuxOptions",
                ty: T::Msg("k8s.io.api.core.v1.SELinuxOptions"),
                repeated: false,
            },
            Field {
                num: 10,
                name: "windowsOptions",
                ty: T::Msg("k8s.io.api.core.v1.WindowsSecurityContextOptions"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "runAsUser",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 8,
                name: "runAsGroup",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "runAsNonRoot",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 6,
                name: "readOnlyRootFilesystem",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 7,
                name: "allowPrivilegeEscalation",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 9,
                name: "procMount",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 11,
                name: "seccompProfile",
                ty: T::Msg("k8s.io.api.core.v1.SeccompProfile"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "appArmorProfile",
                ty: T::Msg("k8s.io.api.core.v1.AppArmorProfile"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Service",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.core.v1.ServiceSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.core.v1.ServiceStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ServiceAccount",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "secrets",
                ty: T::Msg("k8s.io.api.core.v1.ObjectReference"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "imagePullSecrets",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: true,
            },
            Field {
                num: 4,
                name: "automountServiceAccountToken",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ServiceAccountTokenProjection",
        fields: &[
            Field {
                num: 1,
                name: "audience",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "expirationSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 3,
                name: "path",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "user",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ServicePort",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "protocol",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "appProtocol",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "port",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "targetPort",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 5,
                name: "nodePort",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ServiceSpec",
        fields: &[
            Field {
                num: 1,
                name: "ports",
                ty: T::Msg("k8s.io.api.core.v1.ServicePort"),
                repeated: true,
            },
            Field {
                num: 2,
                name: "selector",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 3,
                name: "clusterIP",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 18,
                name: "clusterIPs",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "externalIPs",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 7,
                name: "sessionAffinity",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "loadBalancerIP",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 9,
                name: "loadBalancerSourceRanges",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 10,
                name: "externalName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 11,
                name: "externalTrafficPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 12,
                name: "healthCheckNodePort",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 13,
                name: "publishNotReadyAddresses",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 14,
                name: "sessionAffinityConfig",
                ty: T::Msg("k8s.io.api.core.v1.SessionAffinityConfig"),
                repeated: false,
            },
            Field {
                num: 19,
                name: "ipFamilies",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 17,
                name: "ipFamilyPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 20,
                name: "allocateLoadBalancerNodePorts",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 21,
                name: "loadBalancerClass",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 22,
                name: "internalTrafficPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 23,
                name: "trafficDistribution",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.ServiceStatus",
        fields: &[
            Field {
                num: 1,
                name: "loadBalancer",
                ty: T::Msg("k8s.io.api.core.v1.LoadBalancerStatus"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "conditions",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.Condition"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.SessionAffinityConfig",
        fields: &[Field {
            num: 1,
            name: "clientIP",
            ty: T::Msg("k8s.io.api.core.v1.ClientIPConfig"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.SleepAction",
        fields: &[Field {
            num: 1,
            name: "seconds",
            ty: T::Int,
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.StorageOSVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "volumeName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "volumeNamespace",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 5,
                name: "secretRef",
                ty: T::Msg("k8s.io.api.core.v1.LocalObjectReference"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Sysctl",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.TCPSocketAction",
        fields: &[
            Field {
                num: 1,
                name: "port",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 2,
                name: "host",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Taint",
        fields: &[
            Field {
                num: 1,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "effect",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "timeAdded",
                ty: T::Time,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Toleration",
        fields: &[
            Field {
                num: 1,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "operator",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "value",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "effect",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "tolerationSeconds",
                ty: T::Int,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.TopologySpreadConstraint",
        fields: &[
            Field {
                num: 1,
                name: "maxSkew",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "topologyKey",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "whenUnsatisfiable",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "labelSelector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "minDomains",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "nodeAffinityPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "nodeTaintsPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "matchLabelKeys",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.TypedLocalObjectReference",
        fields: &[
            Field {
                num: 1,
                name: "apiGroup",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.TypedObjectReference",
        fields: &[
            Field {
                num: 1,
                name: "apiGroup",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "namespace",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.Volume",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "volumeSource",
                ty: T::Msg("k8s.io.api.core.v1.VolumeSource"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeDevice",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "devicePath",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeHealthCondition",
        fields: &[
            Field {
                num: 1,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeMount",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 7,
                name: "recursiveReadOnly",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "mountPath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "subPath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "mountPropagation",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "subPathExpr",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 8,
                name: "bindMountOptions",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeMountStatus",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "mountPath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "readOnly",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "recursiveReadOnly",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "volumeStatus",
                ty: T::Msg("k8s.io.api.core.v1.VolumeStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeProjection",
        fields: &[
            Field {
                num: 1,
                name: "secret",
                ty: T::Msg("k8s.io.api.core.v1.SecretProjection"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "downwardAPI",
                ty: T::Msg("k8s.io.api.core.v1.DownwardAPIProjection"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "configMap",
                ty: T::Msg("k8s.io.api.core.v1.ConfigMapProjection"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "serviceAccountToken",
                ty: T::Msg("k8s.io.api.core.v1.ServiceAccountTokenProjection"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "clusterTrustBundle",
                ty: T::Msg("k8s.io.api.core.v1.ClusterTrustBundleProjection"),
                repeated: false,
            },
            Field {
                num: 6,
                name: "podCertificate",
                ty: T::Msg("k8s.io.api.core.v1.PodCertificateProjection"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeResourceRequirements",
        fields: &[
            Field {
                num: 1,
                name: "limits",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
            Field {
                num: 2,
                name: "requests",
                ty: T::Map(&T::Quantity),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "hostPath",
                ty: T::Msg("k8s.io.api.core.v1.HostPathVolumeSource"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "emptyDir",
                ty: T::Msg("k8s.io.api.core.v1.EmptyDirVolumeSource"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "gcePersistentDisk",
                ty: T::Msg("k8s.io.api.core.v1.GCEPersistentDiskVolumeSource"),
                repeated: false,
            },
            Field {
                num: 4,
                name: "awsElasticBlockStore",
                ty: T::Msg("k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource"),
                repeated: false,
            },
            Field {
                num: 5,
                name: "gitRepo",
                ty: T::Msg("k8s.io.api.core.v1.GitRepoVolumeSource"),
                repeated: false,
            },
            Field {
                num: 6,
                name: "secret",
                ty: T::Msg("k8s.io.api.core.v1.SecretVolumeSource"),
                repeated: false,
            },
            Field {
                num: 7,
                name: "nfs",
                ty: T::Msg("k8s.io.api.core.v1.NFSVolumeSource"),
                repeated: false,
            },
            Field {
                num: 8,
                name: "iscsi",
                ty: T::Msg("k8s.io.api.core.v1.ISCSIVolumeSource"),
                repeated: false,
            },
            Field {
                num: 9,
                name: "glusterfs",
                ty: T::Msg("k8s.io.api.core.v1.GlusterfsVolumeSource"),
                repeated: false,
            },
            Field {
                num: 10,
                name: "persistentVolumeClaim",
                ty: T::Msg("k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource"),
                repeated: false,
            },
            Field {
                num: 11,
                name: "rbd",
                ty: T::Msg("k8s.io.api.core.v1.RBDVolumeSource"),
                repeated: false,
            },
            Field {
                num: 12,
                name: "flexVolume",
                ty: T::Msg("k8s.io.api.core.v1.FlexVolumeSource"),
                repeated: false,
            },
            Field {
                num: 13,
                name: "cinder",
                ty: T::Msg("k8s.io.api.core.v1.CinderVolumeSource"),
                repeated: false,
            },
            Field {
                num: 14,
                name: "cephfs",
                ty: T::Msg("k8s.io.api.core.v1.CephFSVolumeSource"),
                repeated: false,
            },
            Field {
                num: 15,
                name: "flocker",
                ty: T::Msg("k8s.io.api.core.v1.FlockerVolumeSource"),
                repeated: false,
            },
            Field {
                num: 16,
                name: "downwardAPI",
                ty: T::Msg("k8s.io.api.core.v1.DownwardAPIVolumeSource"),
                repeated: false,
            },
            Field {
                num: 17,
                name: "fc",
                ty: T::Msg("k8s.io.api.core.v1.FCVolumeSource"),
                repeated: false,
            },
            Field {
                num: 18,
                name: "azureFile",
                ty: T::Msg("k8s.io.api.core.v1.AzureFileVolumeSource"),
                repeated: false,
            },
            Field {
                num: 19,
                name: "configMap",
                ty: T::Msg("k8s.io.api.core.v1.ConfigMapVolumeSource"),
                repeated: false,
            },
            Field {
                num: 20,
                name: "vsphereVolume",
                ty: T::Msg("k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource"),
                repeated: false,
            },
            Field {
                num: 21,
                name: "quobyte",
                ty: T::Msg("k8s.io.api.core.v1.QuobyteVolumeSource"),
                repeated: false,
            },
            Field {
                num: 22,
                name: "azureDisk",
                ty: T::Msg("k8s.io.api.core.v1.AzureDiskVolumeSource"),
                repeated: false,
            },
            Field {
                num: 23,
                name: "photonPersistentDisk",
                ty: T::Msg("k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource"),
                repeated: false,
            },
            Field {
                num: 26,
                name: "projected",
                ty: T::Msg("k8s.io.api.core.v1.ProjectedVolumeSource"),
                repeated: false,
            },
            Field {
                num: 24,
                name: "portworxVolume",
                ty: T::Msg("k8s.io.api.core.v1.PortworxVolumeSource"),
                repeated: false,
            },
            Field {
                num: 25,
                name: "scaleIO",
                ty: T::Msg("k8s.io.api.core.v1.ScaleIOVolumeSource"),
                repeated: false,
            },
            Field {
                num: 27,
                name: "storageos",
                ty: T::Msg("k8s.io.api.core.v1.StorageOSVolumeSource"),
                repeated: false,
            },
            Field {
                num: 28,
                name: "csi",
                ty: T::Msg("k8s.io.api.core.v1.CSIVolumeSource"),
                repeated: false,
            },
            Field {
                num: 29,
                name: "ephemeral",
                ty: T::Msg("k8s.io.api.core.v1.EphemeralVolumeSource"),
                repeated: false,
            },
            Field {
                num: 30,
                name: "image",
                ty: T::Msg("k8s.io.api.core.v1.ImageVolumeSource"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.VolumeStatus",
        fields: &[Field {
            num: 1,
            name: "image",
            ty: T::Msg("k8s.io.api.core.v1.ImageVolumeStatus"),
            repeated: false,
        }],
    },
    Message {
        name: "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource",
        fields: &[
            Field {
                num: 1,
                name: "volumePath",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "fsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "storagePolicyName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "storagePolicyID",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.WeightedPodAffinityTerm",
        fields: &[
            Field {
                num: 1,
                name: "weight",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "podAffinityTerm",
                ty: T::Msg("k8s.io.api.core.v1.PodAffinityTerm"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.core.v1.WindowsSecurityContextOptions",
        fields: &[
            Field {
                num: 1,
                name: "gmsaCredentialSpecName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "gmsaCredentialSpec",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "runAsUserName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "hostProcess",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.policy.v1.Eviction",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "deleteOptions",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.policy.v1.PodDisruptionBudget",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "spec",
                ty: T::Msg("k8s.io.api.policy.v1.PodDisruptionBudgetSpec"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "status",
                ty: T::Msg("k8s.io.api.policy.v1.PodDisruptionBudgetStatus"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.policy.v1.PodDisruptionBudgetSpec",
        fields: &[
            Field {
                num: 1,
                name: "minAvailable",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 2,
                name: "selector",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "maxUnavailable",
                ty: T::IntOrString,
                repeated: false,
            },
            Field {
                num: 4,
                name: "unhealthyPodEvictionPolicy",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.policy.v1.PodDisruptionBudgetStatus",
        fields: &[
            Field {
                num: 1,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "disruptedPods",
                ty: T::Map(&T::Time),
                repeated: false,
            },
            Field {
                num: 3,
                name: "disruptionsAllowed",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "currentHealthy",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 5,
                name: "desiredHealthy",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 6,
                name: "expectedPods",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 7,
                name: "conditions",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.Condition"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.rbac.v1.PolicyRule",
        fields: &[
            Field {
                num: 1,
                name: "verbs",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 2,
                name: "apiGroups",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 3,
                name: "resources",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 4,
                name: "resourceNames",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 5,
                name: "nonResourceURLs",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.rbac.v1.Role",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "rules",
                ty: T::Msg("k8s.io.api.rbac.v1.PolicyRule"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.api.rbac.v1.RoleBinding",
        fields: &[
            Field {
                num: 1,
                name: "metadata",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                repeated: false,
            },
            Field {
                num: 2,
                name: "subjects",
                ty: T::Msg("k8s.io.api.rbac.v1.Subject"),
                repeated: true,
            },
            Field {
                num: 3,
                name: "roleRef",
                ty: T::Msg("k8s.io.api.rbac.v1.RoleRef"),
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.rbac.v1.RoleRef",
        fields: &[
            Field {
                num: 1,
                name: "apiGroup",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.api.rbac.v1.Subject",
        fields: &[
            Field {
                num: 1,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "apiGroup",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "namespace",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.Condition",
        fields: &[
            Field {
                num: 1,
                name: "type",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "status",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "observedGeneration",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 4,
                name: "lastTransitionTime",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 5,
                name: "reason",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "message",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        fields: &[
            Field {
                num: 1,
                name: "gracePeriodSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 2,
                name: "preconditions",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions"),
                repeated: false,
            },
            Field {
                num: 3,
                name: "orphanDependents",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 4,
                name: "propagationPolicy",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "dryRun",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 6,
                name: "ignoreStoreReadErrorWithClusterBreakingPotential",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
        fields: &[
            Field {
                num: 1,
                name: "matchLabels",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 2,
                name: "matchExpressions",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        fields: &[
            Field {
                num: 1,
                name: "key",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "operator",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "values",
                ty: T::Str,
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
        fields: &[
            Field {
                num: 1,
                name: "manager",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "operation",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "apiVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "time",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 6,
                name: "fieldsType",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "fieldsV1",
                ty: T::Raw,
                repeated: false,
            },
            Field {
                num: 8,
                name: "subresource",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        fields: &[
            Field {
                num: 1,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "generateName",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "namespace",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "selfLink",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 5,
                name: "uid",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "resourceVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 7,
                name: "generation",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 8,
                name: "creationTimestamp",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 9,
                name: "deletionTimestamp",
                ty: T::Time,
                repeated: false,
            },
            Field {
                num: 10,
                name: "deletionGracePeriodSeconds",
                ty: T::Int,
                repeated: false,
            },
            Field {
                num: 11,
                name: "labels",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 12,
                name: "annotations",
                ty: T::Map(&T::Str),
                repeated: false,
            },
            Field {
                num: 13,
                name: "ownerReferences",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference"),
                repeated: true,
            },
            Field {
                num: 14,
                name: "finalizers",
                ty: T::Str,
                repeated: true,
            },
            Field {
                num: 17,
                name: "managedFields",
                ty: T::Msg("k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"),
                repeated: true,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
        fields: &[
            Field {
                num: 5,
                name: "apiVersion",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 1,
                name: "kind",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 3,
                name: "name",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 4,
                name: "uid",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 6,
                name: "controller",
                ty: T::Bool,
                repeated: false,
            },
            Field {
                num: 7,
                name: "blockOwnerDeletion",
                ty: T::Bool,
                repeated: false,
            },
        ],
    },
    Message {
        name: "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions",
        fields: &[
            Field {
                num: 1,
                name: "uid",
                ty: T::Str,
                repeated: false,
            },
            Field {
                num: 2,
                name: "resourceVersion",
                ty: T::Str,
                repeated: false,
            },
        ],
    },
];
