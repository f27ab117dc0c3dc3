//! The bundled Kubernetes manifests (`manifests/` at the crate root), embedded in the binary.
//!
//! The same files form a kustomize directory (`kubectl kustomize manifests/`), so an operator
//! can apply them with kubectl or with `fleetctl apply`. [`BUNDLED`] lists every file in apply
//! order; [`resources`] yields the ones that are applied (everything but the kustomization and
//! the example secret); [`documents`] parses one file into JSON values.

use serde_json::Value;

/// One embedded file of `manifests/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manifest {
    /// File name inside `manifests/`, e.g. `agent-job.yaml`.
    pub file: &'static str,
    /// The file's full text, comments included.
    pub yaml: &'static str,
}

/// The example Secret: placeholders only, never applied (not in the kustomization).
pub const EXAMPLE_SECRET: &str = "agent-secrets.example.yaml";

/// The kustomize entry point; not a Kubernetes resource.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

macro_rules! bundled {
    ($($file:literal),+ $(,)?) => {
        &[$(Manifest { file: $file, yaml: include_str!(concat!("../manifests/", $file)) }),+]
    };
}

/// Every file of `manifests/`, in apply order: things others depend on first (namespace,
/// limits, RBAC, volume, budget, policy, service, KEDA auth), then the workloads. The
/// kustomization and the example secret come last and are not applied (see [`resources`]).
pub const BUNDLED: &[Manifest] = bundled![
    "namespace.yaml",
    "namespace-limits.yaml",
    "rbac.yaml",
    "agent-pvc.yaml",
    "agent-pdb.yaml",
    "agent-netpol.yaml",
    "agent-metrics-service.yaml",
    "rabbitmq-auth.yaml",
    "agent-job.yaml",
    "agent-scaledjob.yaml",
    "kustomization.yaml",
    "agent-secrets.example.yaml",
];

/// Why an embedded manifest could not be turned into Kubernetes objects.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file is not valid YAML.
    #[error("manifest {file} is not valid YAML")]
    Yaml {
        file: &'static str,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// A document of the file is not a mapping (a Kubernetes object is always one).
    #[error("manifest {file}: document {index} is not a mapping")]
    NotAMapping { file: &'static str, index: usize },
}

/// The embedded file named `file` (e.g. `"agent-job.yaml"`), if there is one.
pub fn get(file: &str) -> Option<&'static Manifest> {
    BUNDLED.iter().find(|m| m.file == file)
}

/// The files that are applied, in apply order: all of [`BUNDLED`] except [`KUSTOMIZATION`]
/// and [`EXAMPLE_SECRET`]. This is exactly the kustomization's `resources:` list.
pub fn resources() -> impl Iterator<Item = &'static Manifest> {
    BUNDLED
        .iter()
        .filter(|m| m.file != KUSTOMIZATION && m.file != EXAMPLE_SECRET)
}

/// Parses a (possibly multi-document) manifest into one JSON value per document.
///
/// Empty documents (only comments, or `---` with nothing after it) and null documents are
/// dropped; every remaining document must be a mapping.
pub fn documents(m: &Manifest) -> Result<Vec<Value>, ManifestError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(m.yaml).map_err(|source| ManifestError::Yaml {
            file: m.file,
            source: Box::new(source),
        })?;
    docs.into_iter()
        .filter(|doc| !doc.is_null())
        .enumerate()
        .map(|(index, doc)| {
            if doc.is_object() {
                Ok(doc)
            } else {
                Err(ManifestError::NotAMapping {
                    file: m.file,
                    index,
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_at<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
        doc.pointer(pointer).and_then(Value::as_str)
    }

    #[test]
    fn every_file_parses_into_at_least_one_document() {
        for m in BUNDLED {
            let docs = documents(m).unwrap_or_else(|e| panic!("{e}: {:?}", e));
            assert!(!docs.is_empty(), "{} has no documents", m.file);
        }
    }

    #[test]
    fn every_document_has_api_version_kind_and_name() {
        for m in BUNDLED {
            for doc in documents(m).unwrap() {
                for field in ["/apiVersion", "/kind", "/metadata/name"] {
                    let value = str_at(&doc, field).unwrap_or("");
                    assert!(!value.is_empty(), "{}: a document lacks {field}", m.file);
                }
            }
        }
    }

    #[test]
    fn every_applied_object_is_in_the_agents_namespace() {
        for m in resources() {
            for doc in documents(m).unwrap() {
                let kind = str_at(&doc, "/kind").unwrap();
                let ns = if kind == "Namespace" {
                    str_at(&doc, "/metadata/name")
                } else {
                    str_at(&doc, "/metadata/namespace")
                };
                assert_eq!(ns, Some("agents"), "{}: {kind}", m.file);
            }
        }
    }

    #[test]
    fn file_names_are_unique_and_get_finds_them() {
        for (i, m) in BUNDLED.iter().enumerate() {
            assert!(
                BUNDLED[i + 1..].iter().all(|o| o.file != m.file),
                "{} is bundled twice",
                m.file
            );
            assert_eq!(get(m.file), Some(m));
        }
        assert_eq!(get("missing.yaml"), None);
        assert!(get(KUSTOMIZATION).is_some());
        assert!(get(EXAMPLE_SECRET).is_some());
    }

    #[test]
    fn resources_skip_only_the_kustomization_and_the_example_secret() {
        let applied: Vec<&str> = resources().map(|m| m.file).collect();
        assert_eq!(applied.len(), BUNDLED.len() - 2);
        assert!(!applied.contains(&KUSTOMIZATION));
        assert!(!applied.contains(&EXAMPLE_SECRET));
        assert_eq!(applied.first(), Some(&"namespace.yaml"));
        // The workloads come after everything they reference.
        let pos = |f: &str| applied.iter().position(|a| *a == f).unwrap();
        for dep in ["rbac.yaml", "agent-pvc.yaml", "rabbitmq-auth.yaml"] {
            assert!(pos(dep) < pos("agent-job.yaml"), "{dep}");
            assert!(pos(dep) < pos("agent-scaledjob.yaml"), "{dep}");
        }
    }

    #[test]
    fn rbac_holds_three_documents() {
        let kinds: Vec<String> = documents(get("rbac.yaml").unwrap())
            .unwrap()
            .iter()
            .map(|d| str_at(d, "/kind").unwrap().to_owned())
            .collect();
        assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding"]);
    }

    #[test]
    fn empty_and_null_documents_are_dropped() {
        let m = Manifest {
            file: "inline.yaml",
            yaml: "# only a comment\n---\n---\nnull\n---\nkind: A\n---\n# trailing\n",
        };
        let docs = documents(&m).unwrap();
        assert_eq!(docs, vec![serde_json::json!({"kind": "A"})]);
    }

    #[test]
    fn scalar_document_is_an_error_naming_the_file() {
        let m = Manifest {
            file: "bad.yaml",
            yaml: "kind: A\n---\njust a string\n",
        };
        let err = documents(&m).unwrap_err();
        assert!(matches!(
            err,
            ManifestError::NotAMapping {
                file: "bad.yaml",
                index: 1
            }
        ));
        assert!(err.to_string().contains("bad.yaml"));
    }

    #[test]
    fn invalid_yaml_is_an_error_naming_the_file() {
        let m = Manifest {
            file: "broken.yaml",
            yaml: "kind: [unclosed\n",
        };
        let err = documents(&m).unwrap_err();
        assert!(matches!(
            err,
            ManifestError::Yaml {
                file: "broken.yaml",
                ..
            }
        ));
        assert!(err.to_string().contains("broken.yaml"));
    }
}
