//! The pods a Job creates (from its template, with index labels and the tracking finalizer),
//! and the order in which surplus pods are removed.

use super::*;

// ---------------------------------------------------------------------------------------------
// Pods

/// The pod the Job creates (for `index` when Indexed), as the 1.32 controller builds it.
pub fn new_pod(job: &Job, index: Option<i32>, index_failures: Option<i32>) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut labels = tmeta.labels.unwrap_or_default();
    labels.insert(LABEL_CONTROLLER_UID.into(), uid.clone());
    labels.insert(LABEL_CONTROLLER_UID_LEGACY.into(), uid.clone());
    labels.insert(LABEL_JOB_NAME.into(), name.clone());
    labels.insert(LABEL_JOB_NAME_LEGACY.into(), name.clone());
    let mut annotations = tmeta.annotations.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let generate_name = match index {
        Some(i) => {
            labels.insert(COMPLETION_INDEX.into(), i.to_string());
            annotations.insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(n) = index_failures {
                annotations.insert(INDEX_FAILURE_COUNT.into(), n.to_string());
            }
            if spec.hostname.is_none() {
                spec.hostname = Some(format!("{name}-{i}"));
            }
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: Some(i.to_string()),
                value_from: None,
            };
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                let list = c.env.get_or_insert_with(Vec::new);
                if !list.iter().any(|e| e.name == env.name) {
                    list.push(env.clone());
                }
            }
            format!("{name}-{i}-")
        }
        None => format!("{name}-"),
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(vec![TRACKING_FINALIZER.into()]),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Order in which surplus active pods go (`ActivePods` sort), as a key whose ascending order
/// is the order of removal: unscheduled before scheduled, Pending before Running, not ready
/// before ready, newest first. A key, so that a sort of 10,000 pods reads each pod once.
pub(super) fn removal_key(p: &PodView) -> (bool, bool, bool, std::cmp::Reverse<Option<Timestamp>>) {
    let scheduled = p
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_some();
    (
        scheduled,
        p.phase == "Running",
        p.ready(),
        std::cmp::Reverse(ts(&p.pod.metadata.creation_timestamp)),
    )
}

pub(super) fn pod_ref(p: &PodView) -> PodRef {
    PodRef {
        name: p.name.to_string(),
        uid: p.uid.to_string(),
    }
}
