//! The preflight step: the API, KEDA's kinds, Secret `agent-secrets`, the brokers it names and
//! the RBAC the run needs (one SelfSubjectAccessReview per verb).

use super::*;

/// A host name only the cluster's DNS resolves (`rabbitmq.rabbitmq.svc`, `rabbitmq`).
pub(super) fn cluster_internal(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    h.ends_with(".svc") || h.ends_with(".cluster.local") || (!h.contains('.') && h != "localhost")
}

/// The plural of a bundled kind, as RBAC names resources.
pub(super) fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None if lower.ends_with('s') => format!("{lower}es"),
        None => format!("{lower}s"),
    }
}

/// One permission the run needs: `verb group/resource[/subresource]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub verb: &'static str,
    pub group: String,
    pub resource: String,
    pub subresource: Option<&'static str>,
}

impl Access {
    fn new(verb: &'static str, group: &str, resource: &str) -> Self {
        Access {
            verb,
            group: group.to_string(),
            resource: resource.to_string(),
            subresource: None,
        }
    }

    /// `create jobs.batch`, `get pods/proxy`.
    pub fn display(&self) -> String {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        match self.subresource {
            Some(sub) => format!("{} {}{group}/{sub}", self.verb, self.resource),
            None => format!("{} {}{group}", self.verb, self.resource),
        }
    }
}

/// Every namespaced permission the run needs: get, create and patch on each kind of the
/// bundle (server-side apply creates what is missing), the ScaledJob's patch, watching and
/// deleting Jobs and pods, the pod proxy, and the Eviction API with `--disruption`.
pub fn needed_access(bundle: &[Object], disruption: bool) -> Vec<Access> {
    let mut out = BTreeSet::new();
    for o in bundle.iter().filter(|o| o.kind() != "Namespace") {
        let group = o.api_version().split_once('/').map_or("", |(g, _)| g);
        for verb in ["get", "create", "patch"] {
            out.insert(Access::new(verb, group, &plural(o.kind())));
        }
    }
    out.insert(Access::new("get", "", "secrets"));
    for verb in ["list", "watch"] {
        out.insert(Access::new(verb, "keda.sh", "scaledjobs"));
    }
    for (group, resource) in [("batch", "jobs"), ("", "pods")] {
        for verb in ["list", "watch", "delete"] {
            out.insert(Access::new(verb, group, resource));
        }
    }
    let mut proxy = Access::new("get", "", "pods");
    proxy.subresource = Some("proxy");
    out.insert(proxy);
    if disruption {
        let mut evict = Access::new("create", "", "pods");
        evict.subresource = Some("eviction");
        out.insert(evict);
    }
    out.into_iter().collect()
}

pub(super) fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|b| String::from_utf8(b.0.clone()).ok());
    from_data
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .cloned()
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A broker error in one line naming where the URL came from and what to change.
pub(super) fn broker_problem(e: &QueueError, origin: &str, fix: &str) -> String {
    match e {
        QueueError::LoginRefused { url, user } => format!(
            "RabbitMQ at {url} ({origin}) refused the login of user '{user}'; {fix} with the right password"
        ),
        QueueError::Unreachable { url, reason } => format!(
            "cannot reach RabbitMQ at {url} ({origin}): {reason}; start the broker, or {fix} with a running one"
        ),
        other => format!("{origin}: {other}"),
    }
}

/// A broker the test needs does not answer as it should: [`broker_problem`]'s line.
#[derive(Debug, thiserror::Error)]
#[error("{}", broker_problem(.error, .origin, .fix))]
pub(super) struct BrokerProblem {
    pub error: QueueError,
    /// Where the URL came from.
    pub origin: String,
    /// What to do about it.
    pub fix: String,
}

impl Run<'_, '_> {
    // ---- 1. Preflight -------------------------------------------------------------------

    pub(super) async fn preflight(&mut self) -> StepReport {
        let name = StepName::Preflight;
        let fail = |passed: u64, total: u64, m: String| {
            StepReport::failed(name, Some(total), Some(passed), m)
        };
        let bundle = match load_bundled().and_then(|b| prepare(b, &self.opts.namespace, None)) {
            Ok(b) => b,
            Err(e) => return fail(0, 1, e.to_string()),
        };
        let access = needed_access(&bundle, self.opts.disruption);
        // API, KEDA, Secret, brokers, RBAC.
        let total = 5;
        let mut notes = Vec::new();

        // The API answers, and which version.
        match self.client.apiserver_version().await {
            Ok(v) => notes.push(format!("Kubernetes {}", v.git_version)),
            Err(e) => {
                return fail(
                    0,
                    total,
                    format!(
                        "the Kubernetes API does not answer: {}; is the cluster up? (`fleetctl sim` starts a local one)",
                        KubeFailure::classify(&e)
                    ),
                );
            }
        }

        // KEDA's kinds are served.
        let wanted = ["scaledjobs", "triggerauthentications"];
        let missing: Vec<&str> = match self
            .client
            .list_api_group_resources("keda.sh/v1alpha1")
            .await
        {
            Ok(list) => wanted
                .iter()
                .copied()
                .filter(|w| !list.resources.iter().any(|r| r.name == *w))
                .collect(),
            Err(kube::Error::Api(s)) if s.code == 404 => wanted.to_vec(),
            Err(e) => {
                return fail(
                    1,
                    total,
                    format!(
                        "cannot discover the keda.sh API: {}",
                        KubeFailure::classify(&e)
                    ),
                );
            }
        };
        if !missing.is_empty() {
            return fail(
                1,
                total,
                format!(
                    "KEDA is not installed: the cluster does not serve keda.sh/v1alpha1 {}; install KEDA 2.11+ (`{KEDA_INSTALL}`) or use a local cluster (`fleetctl sim`)",
                    missing.join(", ")
                ),
            );
        }
        notes.push("KEDA served".into());

        // The namespace and Secret agent-secrets.
        let ns = self.opts.namespace.clone();
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &ns);
        let secret = match secrets.get_opt(SECRET).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                let namespaces: Api<Namespace> = Api::all(self.client.clone());
                let message = match namespaces.get_opt(&ns).await {
                    Ok(None) => format!(
                        "namespace {ns} does not exist; create it (`kubectl create namespace {ns}`), then {}",
                        ApplyError::SecretMissing(ns.clone())
                    ),
                    _ => ApplyError::SecretMissing(ns.clone()).to_string(),
                };
                return fail(2, total, message);
            }
            Err(e) => {
                return fail(
                    2,
                    total,
                    format!(
                        "cannot read Secret {SECRET} in {ns}: {}",
                        KubeFailure::classify(&e)
                    ),
                );
            }
        };
        let Some(queue_url) = secret_value(&secret, "queue-url") else {
            return fail(
                2,
                total,
                format!(
                    "Secret {SECRET} in {ns} has no key queue-url, the URL the agents use; add it (see manifests/agent-secrets.example.yaml)"
                ),
            );
        };
        notes.push(format!("Secret {SECRET}"));

        // The brokers: the Secret's URLs (agents, KEDA) and --amqp-url (this run).
        let fix_secret = |key: &str| {
            format!(
                "fix key {key} of Secret {SECRET} (`kubectl create secret generic {SECRET} -n {ns} --from-literal={key}='amqp://USER:PASSWORD@HOST:5672/%2f' ... --dry-run=client -o yaml | kubectl apply -f -`)"
            )
        };
        let probe_queue = self
            .opts
            .queue
            .clone()
            .unwrap_or_else(|| DEFAULT_QUEUE.into());
        let mut urls: Vec<(String, String, String)> = vec![(
            queue_url.clone(),
            format!("key queue-url of Secret {SECRET}"),
            fix_secret("queue-url"),
        )];
        if let Some(host) = secret_value(&secret, "rabbitmq-host")
            && host != queue_url
        {
            urls.push((
                host,
                format!("key rabbitmq-host of Secret {SECRET}"),
                fix_secret("rabbitmq-host"),
            ));
        }
        let mut skipped_hosts = Vec::new();
        for (url, origin, fix) in &urls {
            let internal = parse_url(url)
                .map(|(u, _)| cluster_internal(&u.authority.host))
                .unwrap_or(false);
            if internal && *url != self.opts.amqp_url {
                skipped_hosts.push(format!(
                    "{} (cluster DNS, not checked from here)",
                    mask_url(url)
                ));
                continue;
            }
            if let Err(m) = self.check_broker(url, origin, fix, &probe_queue).await {
                return fail(3, total, m.to_string());
            }
        }
        match Broker::connect(&self.opts.amqp_url, CONNECTION).await {
            Ok(b) => self.broker = Some(b),
            Err(e) => {
                return fail(
                    3,
                    total,
                    broker_problem(
                        &e,
                        "--amqp-url, the broker this run seeds",
                        "pass --amqp-url (or FLEETCTL_AMQP_URL)",
                    ),
                );
            }
        }
        notes.push(format!(
            "broker {}{}",
            mask_url(&self.opts.amqp_url),
            if skipped_hosts.is_empty() {
                String::new()
            } else {
                format!("; {}", skipped_hosts.join(", "))
            }
        ));

        // RBAC: one SelfSubjectAccessReview per permission.
        let reviews: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let asks = access.iter().map(|a| {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        namespace: Some(ns.clone()),
                        verb: Some(a.verb.to_string()),
                        group: Some(a.group.clone()),
                        resource: Some(a.resource.clone()),
                        subresource: a.subresource.map(String::from),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            let reviews = reviews.clone();
            async move { reviews.create(&PostParams::default(), &review).await }
        });
        let answers = join_all(asks).await;
        let mut denied = Vec::new();
        for (a, answer) in access.iter().zip(answers) {
            match answer {
                Ok(r) if r.status.as_ref().is_some_and(|s| s.allowed) => {}
                Ok(_) => denied.push(a.display()),
                Err(e) => {
                    return fail(
                        4,
                        total,
                        format!(
                            "cannot ask the API what this identity may do (SelfSubjectAccessReview): {}",
                            KubeFailure::classify(&e)
                        ),
                    );
                }
            }
        }
        if !denied.is_empty() {
            return fail(
                4,
                total,
                format!(
                    "RBAC forbids {} of the {} permissions the test needs in namespace {ns}: {}; grant them (manifests/rbac.yaml lists what fleetctl uses) or use an identity that has them",
                    denied.len(),
                    access.len(),
                    denied.join(", ")
                ),
            );
        }
        notes.push(format!("RBAC allows all {} verbs", access.len()));
        StepReport::passed(name, total, total, notes.join("; "))
    }

    /// Connects to `url` and asks for `queue` by passive declare (a missing queue still proves
    /// the broker answers).
    pub(super) async fn check_broker(
        &self,
        url: &str,
        origin: &str,
        fix: &str,
        queue: &str,
    ) -> Result<(), BrokerProblem> {
        let problem = |error| BrokerProblem {
            error,
            origin: origin.to_string(),
            fix: fix.to_string(),
        };
        let broker = Broker::connect(url, CONNECTION).await.map_err(problem)?;
        let depth = broker.depth(queue).await;
        broker.close().await;
        match depth {
            Ok(_) | Err(QueueError::QueueNotFound { .. }) => Ok(()),
            Err(e) => Err(problem(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_of_the_bundled_kinds() {
        assert_eq!(plural("PodDisruptionBudget"), "poddisruptionbudgets");
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("LimitRange"), "limitranges");
        assert_eq!(plural("ScaledJob"), "scaledjobs");
    }

    #[test]
    fn the_permissions_cover_applying_the_bundle_and_the_run() {
        let bundle = prepare(load_bundled().unwrap(), "agents", None).unwrap();
        let all: Vec<String> = needed_access(&bundle, true)
            .iter()
            .map(Access::display)
            .collect();
        for want in [
            "create jobs.batch",
            "patch scaledjobs.keda.sh",
            "get secrets",
            "get pods/proxy",
            "create pods/eviction",
            "delete jobs.batch",
            "watch pods",
        ] {
            assert!(all.iter().any(|a| a == want), "{want} missing from {all:?}");
        }
        // Cluster-scoped objects are not asked about in the namespace.
        assert!(!all.iter().any(|a| a.contains("namespaces")), "{all:?}");
        let without: Vec<String> = needed_access(&bundle, false)
            .iter()
            .map(Access::display)
            .collect();
        assert!(!without.iter().any(|a| a.contains("eviction")));
    }

    #[test]
    fn hosts_only_the_cluster_resolves() {
        assert!(cluster_internal("rabbitmq.rabbitmq.svc"));
        assert!(cluster_internal("rabbitmq.rabbitmq.svc.cluster.local"));
        assert!(cluster_internal("rabbitmq"));
        assert!(!cluster_internal("127.0.0.1"));
        assert!(!cluster_internal("localhost"));
        assert!(!cluster_internal("mq.example.com"));
    }

    #[test]
    fn broker_problems_name_the_origin_and_the_fix() {
        let e = QueueError::LoginRefused {
            url: "amqp://guest:***@127.0.0.1:5672/%2f".into(),
            user: "guest".into(),
        };
        let m = broker_problem(
            &e,
            "key queue-url of Secret agent-secrets",
            "fix key queue-url",
        );
        assert!(m.contains("refused the login of user 'guest'"), "{m}");
        assert!(m.contains("key queue-url of Secret agent-secrets"), "{m}");
        assert!(m.contains("***"), "{m}");
    }
}
