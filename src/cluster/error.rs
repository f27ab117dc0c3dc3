//! What went wrong talking to Kubernetes, classified once: callers tell an unreachable API from
//! refused credentials, a missing permission, a missing object, a conflict, an invalid object,
//! throttling and a bad kubeconfig, and users read one line.

use kube::core::Status;

/// A kube-rs error, classified. `Display` is one line: the API server's own message and its
/// code, or the transport's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeFailure {
    /// No answer: connection refused, TLS failure, timeout.
    #[error("{detail}")]
    Unreachable { detail: String },
    /// 401: the credentials were refused.
    #[error("{message} (401 {reason})")]
    Unauthorized { message: String, reason: String },
    /// 403: a permission is missing.
    #[error("{message}; ask for that permission (manifests/rbac.yaml lists what fleetctl needs)")]
    Forbidden { message: String },
    /// 404.
    #[error("{message} (404 {reason})")]
    NotFound { message: String, reason: String },
    /// 409: a conflicting write or field ownership.
    #[error("{message} (409 {reason})")]
    Conflict { message: String, reason: String },
    /// 422: the object is invalid.
    #[error("{message} (422 {reason})")]
    Invalid { message: String, reason: String },
    /// 429: throttled, or an eviction a PDB refuses.
    #[error("{message} (429 {reason})")]
    TooManyRequests {
        message: String,
        reason: String,
        retry_after_seconds: u32,
    },
    /// The kubeconfig (or in-cluster configuration) cannot be used.
    #[error("{detail}")]
    Kubeconfig { detail: String },
    /// Any other answer or error.
    #[error("{}", other_text(.code, .message, .reason))]
    Other {
        code: Option<u16>,
        message: String,
        reason: String,
    },
}

fn other_text(code: &Option<u16>, message: &str, reason: &str) -> String {
    match code {
        Some(c) => format!("{message} ({c} {reason})"),
        None => message.to_string(),
    }
}

impl KubeFailure {
    /// Classifies a kube-rs error.
    pub fn classify(e: &kube::Error) -> KubeFailure {
        match e {
            kube::Error::Api(s) => Self::from_status(s),
            kube::Error::InferConfig(_)
            | kube::Error::InferKubeconfig(_)
            | kube::Error::Auth(_) => KubeFailure::Kubeconfig {
                detail: e.to_string(),
            },
            kube::Error::HyperError(_)
            | kube::Error::Service(_)
            | kube::Error::HttpError(_)
            | kube::Error::RustlsTls(_)
            | kube::Error::TlsRequired => KubeFailure::Unreachable {
                detail: e.to_string(),
            },
            other => KubeFailure::Other {
                code: None,
                message: other.to_string(),
                reason: String::new(),
            },
        }
    }

    /// Classifies an API server's Status answer.
    pub fn from_status(s: &Status) -> KubeFailure {
        let (message, reason) = (s.message.clone(), s.reason.clone());
        match s.code {
            401 => KubeFailure::Unauthorized { message, reason },
            403 => KubeFailure::Forbidden { message },
            404 => KubeFailure::NotFound { message, reason },
            409 => KubeFailure::Conflict { message, reason },
            422 => KubeFailure::Invalid { message, reason },
            429 => KubeFailure::TooManyRequests {
                message,
                reason,
                retry_after_seconds: s.details.as_ref().map_or(0, |d| d.retry_after_seconds),
            },
            code => KubeFailure::Other {
                code: Some(code),
                message,
                reason,
            },
        }
    }

    /// The HTTP status code, for answers from the API server.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeFailure::Unauthorized { .. } => Some(401),
            KubeFailure::Forbidden { .. } => Some(403),
            KubeFailure::NotFound { .. } => Some(404),
            KubeFailure::Conflict { .. } => Some(409),
            KubeFailure::Invalid { .. } => Some(422),
            KubeFailure::TooManyRequests { .. } => Some(429),
            KubeFailure::Other { code, .. } => *code,
            KubeFailure::Unreachable { .. } | KubeFailure::Kubeconfig { .. } => None,
        }
    }
}

impl From<&kube::Error> for KubeFailure {
    fn from(e: &kube::Error) -> Self {
        KubeFailure::classify(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        let mut s = Status::failure(message, reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn api_answers_are_told_apart() {
        let cases = [
            (401, "Unauthorized", 401),
            (403, "Forbidden", 403),
            (404, "NotFound", 404),
            (409, "Conflict", 409),
            (422, "Invalid", 422),
            (429, "TooManyRequests", 429),
            (500, "InternalError", 500),
        ];
        for (code, reason, want) in cases {
            let f = KubeFailure::classify(&status(code, reason, "m"));
            assert_eq!(f.code(), Some(want), "{f:?}");
        }
        assert!(matches!(
            KubeFailure::classify(&status(403, "Forbidden", "m")),
            KubeFailure::Forbidden { .. }
        ));
    }

    #[test]
    fn messages_are_one_line_with_the_code() {
        let f = KubeFailure::classify(&status(409, "Conflict", "the object has been modified"));
        assert_eq!(f.to_string(), "the object has been modified (409 Conflict)");
        let f = KubeFailure::classify(&status(403, "Forbidden", "pods is forbidden"));
        assert_eq!(
            f.to_string(),
            "pods is forbidden; ask for that permission (manifests/rbac.yaml lists what fleetctl needs)"
        );
    }

    #[test]
    fn transport_errors_are_unreachable() {
        let e = kube::Error::TlsRequired;
        assert!(matches!(
            KubeFailure::classify(&e),
            KubeFailure::Unreachable { .. }
        ));
    }
}
