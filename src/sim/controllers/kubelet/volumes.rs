//! Pod volumes as host directories. A PersistentVolumeClaim is one directory per claim,
//! `<state_dir>/volumes/pvc/<namespace>/<claim>/`, shared by every pod that mounts it and kept
//! when pods go (checkpoints outlive pods, as on EFS); an emptyDir is
//! `<state_dir>/volumes/pods/<uid>/<volume>/`, removed with the pod. There is no mount
//! namespace: paths under a container's mountPaths in its args and env are rewritten to the
//! host directories.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::ResourceExt;

/// mountPath → host directory, longest mountPath first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mounts(Vec<(String, PathBuf)>);

/// The pod's own directory (emptyDirs, logs).
pub fn pod_dir(state_dir: &Path, uid: &str) -> PathBuf {
    state_dir.join("volumes").join("pods").join(uid)
}

/// Whether `p` is a relative path that stays below where it starts: not absolute, no `..`
/// element (pkg/apis/core/validation `validateLocalDescendingPath`).
pub fn descending(p: &str) -> bool {
    !p.starts_with('/') && !p.split('/').any(|e| e == "..")
}

/// Why a container's volumes cannot be mounted (`CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error("volume \"{volume}\": claimName \"{claim}\" is not a PersistentVolumeClaim name")]
    ClaimName { volume: String, claim: String },
    #[error(
        "volume \"{volume}\": hostPath volumes are refused; start the sim with --allow-host-path to allow them"
    )]
    HostPath { volume: String },
    #[error("volume \"{volume}\": not a volume name")]
    VolumeName { volume: String },
    #[error("volume \"{volume}\": subPath \"{sub_path}\" must be a relative path without '..'")]
    SubPath { volume: String, sub_path: String },
}

/// The host directory of each volume the container mounts. Volumes of other kinds
/// (configMap, secret, projected, ...) get an empty per-pod directory. Every directory is
/// inside `state_dir`, except a hostPath's when `allow_host_path` (`--allow-host-path`); a
/// volume that would leave it is an error naming the volume (the API refuses such pods, this
/// guards pods kept from before).
pub fn mounts(
    state_dir: &Path,
    pod: &Pod,
    c: &Container,
    allow_host_path: bool,
) -> Result<Mounts, MountError> {
    let ns = pod.namespace().unwrap_or_default();
    let uid = pod.uid().unwrap_or_default();
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.clone())
        .unwrap_or_default();
    let plain = |s: &str| !s.is_empty() && descending(s) && !s.contains('/');
    let mut out: Vec<(String, PathBuf)> = vec![];
    for m in c.volume_mounts.iter().flatten() {
        let Some(v) = volumes.iter().find(|v| v.name == m.name) else {
            continue;
        };
        let mut dir = if let Some(pvc) = &v.persistent_volume_claim {
            if !plain(&pvc.claim_name) {
                return Err(MountError::ClaimName {
                    volume: v.name.clone(),
                    claim: pvc.claim_name.clone(),
                });
            }
            state_dir
                .join("volumes")
                .join("pvc")
                .join(&ns)
                .join(&pvc.claim_name)
        } else if let Some(h) = &v.host_path {
            if !allow_host_path {
                return Err(MountError::HostPath {
                    volume: v.name.clone(),
                });
            }
            PathBuf::from(&h.path)
        } else {
            if !plain(&v.name) || !plain(&uid) {
                return Err(MountError::VolumeName {
                    volume: v.name.clone(),
                });
            }
            pod_dir(state_dir, &uid).join(&v.name)
        };
        if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            if !descending(sub) {
                return Err(MountError::SubPath {
                    volume: v.name.clone(),
                    sub_path: sub.to_string(),
                });
            }
            dir = dir.join(sub);
        }
        out.push((m.mount_path.trim_end_matches('/').to_string(), dir));
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
    Ok(Mounts(out))
}

impl Mounts {
    /// Creates every host directory.
    pub fn create(&self) -> std::io::Result<()> {
        for (_, d) in &self.0 {
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    }

    /// `value` with a leading mountPath replaced by its host directory.
    pub fn rewrite(&self, value: &str) -> String {
        for (mp, dir) in &self.0 {
            if mp.is_empty() {
                continue;
            }
            if value == mp {
                return dir.display().to_string();
            }
            if let Some(rest) = value.strip_prefix(mp.as_str())
                && rest.starts_with('/')
            {
                return format!("{}{rest}", dir.display());
            }
            // --flag=/path
            if let Some((flag, v)) = value.split_once('=')
                && flag.starts_with("--")
                && (v == mp
                    || v.strip_prefix(mp.as_str())
                        .is_some_and(|r| r.starts_with('/')))
            {
                return format!("{flag}={}", self.rewrite(v));
            }
        }
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_are_shared_and_empty_dirs_are_per_pod() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "agents", "uid": "u1"},
            "spec": {
                "containers": [{"name": "agent", "volumeMounts": [
                    {"name": "checkpoints", "mountPath": "/checkpoints"},
                    {"name": "tmp", "mountPath": "/tmp"},
                    {"name": "deep", "mountPath": "/checkpoints/deep", "subPath": "x"}]}],
                "volumes": [
                    {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "agent-checkpoints"}},
                    {"name": "tmp", "emptyDir": {}},
                    {"name": "deep", "emptyDir": {}}]
            }
        }))
        .unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        let m = mounts(Path::new("/s"), &pod, c, false).unwrap();
        assert_eq!(
            m.rewrite("/checkpoints"),
            "/s/volumes/pvc/agents/agent-checkpoints"
        );
        assert_eq!(
            m.rewrite("/checkpoints/results/a.json"),
            "/s/volumes/pvc/agents/agent-checkpoints/results/a.json"
        );
        assert_eq!(
            m.rewrite("/checkpoints/deep/f"),
            "/s/volumes/pods/u1/deep/x/f"
        );
        assert_eq!(m.rewrite("/tmp"), "/s/volumes/pods/u1/tmp");
        assert_eq!(
            m.rewrite("--checkpoint-dir=/checkpoints"),
            "--checkpoint-dir=/s/volumes/pvc/agents/agent-checkpoints"
        );
        assert_eq!(m.rewrite("/checkpointsX"), "/checkpointsX");
        assert_eq!(m.rewrite("agent-tasks"), "agent-tasks");
    }

    #[test]
    fn volumes_stay_inside_the_state_directory() {
        let pod = |volume: serde_json::Value, sub: &str| -> Pod {
            serde_json::from_value(json!({
                "metadata": {"name": "p", "namespace": "agents", "uid": "u1"},
                "spec": {"containers": [{"name": "a", "volumeMounts": [
                    {"name": "v", "mountPath": "/v", "subPath": sub}]}],
                    "volumes": [volume]}
            }))
            .unwrap()
        };
        let try_mount = |p: &Pod, allow: bool| {
            mounts(
                Path::new("/s"),
                p,
                &p.spec.as_ref().unwrap().containers[0],
                allow,
            )
        };
        let claim = |n: &str| json!({"name": "v", "persistentVolumeClaim": {"claimName": n}});
        let host = json!({"name": "v", "hostPath": {"path": "/etc"}});
        // The variant expected, by name.
        let cases = [
            (claim("../../../etc"), "", "ClaimName"),
            (claim("a/b"), "", "ClaimName"),
            (claim("ok"), "../x", "SubPath"),
            (claim("ok"), "/etc", "SubPath"),
            (claim("ok"), "a/../../b", "SubPath"),
            (host.clone(), "", "HostPath"),
        ];
        for (v, sub, kind) in cases {
            match try_mount(&pod(v.clone(), sub), false) {
                Err(e) => assert!(format!("{e:?}").starts_with(kind), "{v} {sub}: {e:?}"),
                Ok(_) => panic!("{v} {sub} mounted"),
            }
        }
        assert!(try_mount(&pod(claim("ok"), "a/b"), false).is_ok());
        let m = try_mount(&pod(host, ""), true).unwrap();
        assert_eq!(m.rewrite("/v"), "/etc");
    }
}
