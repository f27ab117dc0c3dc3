//! RabbitMQ's management HTTP API, read-only: per queue the ready and unacknowledged messages,
//! the consumers, and the publish and deliver rates (SPEC-k8s.md §6). This is what the console
//! shows next to the AMQP depth, which counts ready messages only.
//!
//! The API's address is `--rabbitmq-api URL` when given, else derived from the AMQP URL: same
//! host, port 15672, plain http, same credentials. The vhost is always the AMQP URL's. Every
//! error is one line with the password left out.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::amqp::parse_url;
use crate::redact;

/// The management plugin's default port.
pub const MGMT_PORT: u16 = 15672;

/// How long one request may take, connect included.
pub const MGMT_TIMEOUT: Duration = Duration::from_secs(2);

/// One queue as the management API reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MgmtQueue {
    /// `messages_ready`: waiting for a consumer.
    pub ready: u64,
    /// `messages_unacknowledged`: delivered, not yet acked.
    pub unacked: u64,
    pub consumers: u64,
    /// `message_stats.publish_details.rate`, messages/s; None when the broker has no such
    /// statistics for the queue (nothing published since it was declared).
    pub publish_rate: Option<f64>,
    /// `message_stats.deliver_get_details.rate`, messages/s; None as for `publish_rate`.
    pub deliver_rate: Option<f64>,
}

impl MgmtQueue {
    /// Ready plus unacknowledged: the depth KEDA's HTTP trigger scales on by default.
    pub fn messages(&self) -> u64 {
        self.ready.saturating_add(self.unacked)
    }
}

/// Why a management API request failed. `Display` is one line naming the API's address (which
/// never carries credentials) and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MgmtError {
    #[error("invalid --rabbitmq-api URL '{url}': {reason}; pass e.g. http://127.0.0.1:{MGMT_PORT}")]
    InvalidApiUrl { url: String, reason: String },

    /// The AMQP URL the address would be derived from is not one (its own one-line message).
    #[error("{0}")]
    InvalidAmqpUrl(String),

    #[error(
        "cannot reach the RabbitMQ management API at {base}: {reason}; enable it (rabbitmq-plugins enable rabbitmq_management) or pass --rabbitmq-api URL"
    )]
    Unreachable { base: String, reason: String },

    #[error(
        "the RabbitMQ management API at {base} refused user '{user}' (HTTP 401); check the password, and that the user has the monitoring or management tag"
    )]
    Unauthorized { base: String, user: String },

    #[error(
        "queue '{queue}' not found in vhost '{vhost}' by the RabbitMQ management API at {base} (HTTP 404)"
    )]
    NotFound {
        base: String,
        vhost: String,
        queue: String,
    },

    #[error("the RabbitMQ management API at {base} answered HTTP {status} for queue '{queue}'")]
    Status {
        base: String,
        queue: String,
        status: u16,
    },

    #[error(
        "the RabbitMQ management API at {base} sent unreadable JSON for queue '{queue}': {reason}"
    )]
    BadJson {
        base: String,
        queue: String,
        reason: BodyError,
    },
}

/// Why the management API's answer about a queue cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON, or not the fields of a queue (serde's message).
    #[error("{0}")]
    Json(String),
    #[error("the answer is not a JSON object")]
    NotObject,
}

/// Why the user or password of a URL cannot be percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PercentDecodeError {
    #[error("a '%' in the user or password is not followed by two hex digits")]
    BadEscape,
    #[error("the user or password is not UTF-8 once decoded")]
    NotUtf8,
}

/// Where the API is and who asks: the result of reading the two URLs.
#[derive(Clone, PartialEq, Eq)]
struct Endpoint {
    /// `scheme://host:port[/prefix]`: no credentials, no trailing `/`.
    base: String,
    user: String,
    password: String,
    /// Decoded (`/` for the default vhost).
    vhost: String,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .field("user", &self.user)
            .field("password", &redact::MASK)
            .field("vhost", &self.vhost)
            .finish()
    }
}

impl Endpoint {
    fn from_urls(api: Option<&str>, amqp_url: &str) -> Result<Self, MgmtError> {
        let (uri, target) =
            parse_url(amqp_url).map_err(|e| MgmtError::InvalidAmqpUrl(e.to_string()))?;
        let amqp_user = uri.authority.userinfo.username.clone();
        let amqp_password = uri.authority.userinfo.password.clone();
        let vhost = target.vhost.clone();
        let Some(api) = api else {
            let host = &uri.authority.host;
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            return Ok(Endpoint {
                base: format!("http://{host}:{MGMT_PORT}"),
                user: amqp_user,
                password: amqp_password,
                vhost,
            });
        };
        let invalid = |reason: String| MgmtError::InvalidApiUrl {
            url: redact::mask_url(api),
            reason: redact::scrub(&reason, api),
        };
        let mut url = url::Url::parse(api).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme '{}' is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it names no host".into()));
        }
        let (user, password) = if url.username().is_empty() {
            (amqp_user, amqp_password)
        } else {
            (
                percent_decode(url.username()).map_err(|e| invalid(e.to_string()))?,
                percent_decode(url.password().unwrap_or_default())
                    .map_err(|e| invalid(e.to_string()))?,
            )
        };
        // Credentials go in the Authorization header, never in the address that is shown.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.set_fragment(None);
        let mut base = url.as_str().trim_end_matches('/').to_string();
        if let Some(prefix) = base.strip_suffix("/api") {
            base = prefix.to_string();
        }
        Ok(Endpoint {
            base,
            user,
            password,
            vhost,
        })
    }

    fn queue_url(&self, name: &str) -> String {
        format!(
            "{}/api/queues/{}/{}",
            self.base,
            encode_segment(&self.vhost),
            encode_segment(name)
        )
    }
}

/// A reader of the management API of one broker and vhost. Cheap to clone.
#[derive(Clone)]
pub struct MgmtClient {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl fmt::Debug for MgmtClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MgmtClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl MgmtClient {
    /// The API at `api` (`--rabbitmq-api`), else derived from `amqp_url`; see the module docs.
    pub fn new(api: Option<&str>, amqp_url: &str) -> Result<Self, MgmtError> {
        let endpoint = Endpoint::from_urls(api, amqp_url)?;
        // reqwest speaks rustls without a provider of its own: pin ring, as main does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(MGMT_TIMEOUT)
            .connect_timeout(MGMT_TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|e| MgmtError::Unreachable {
                base: endpoint.base.clone(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(MgmtClient { http, endpoint })
    }

    /// The API's address, without credentials.
    pub fn base_url(&self) -> &str {
        &self.endpoint.base
    }

    pub fn user(&self) -> &str {
        &self.endpoint.user
    }

    /// The vhost asked about (`/` is the default one).
    pub fn vhost(&self) -> &str {
        &self.endpoint.vhost
    }

    /// `GET /api/queues/{vhost}/{name}`.
    pub async fn queue(&self, name: &str) -> Result<MgmtQueue, MgmtError> {
        let base = || self.endpoint.base.clone();
        let resp = self
            .http
            .get(self.endpoint.queue_url(name))
            .basic_auth(&self.endpoint.user, Some(&self.endpoint.password))
            .send()
            .await
            .map_err(|e| MgmtError::Unreachable {
                base: base(),
                reason: self.reason(&e),
            })?;
        match resp.status().as_u16() {
            200 => {}
            401 => {
                return Err(MgmtError::Unauthorized {
                    base: base(),
                    user: self.endpoint.user.clone(),
                });
            }
            404 => {
                return Err(MgmtError::NotFound {
                    base: base(),
                    vhost: self.endpoint.vhost.clone(),
                    queue: name.to_string(),
                });
            }
            status => {
                return Err(MgmtError::Status {
                    base: base(),
                    queue: name.to_string(),
                    status,
                });
            }
        }
        let body = resp.bytes().await.map_err(|e| MgmtError::Unreachable {
            base: base(),
            reason: self.reason(&e),
        })?;
        parse_queue(&body).map_err(|reason| MgmtError::BadJson {
            base: base(),
            queue: name.to_string(),
            reason,
        })
    }

    /// [`MgmtClient::queue`] for each of `names`, all at once.
    pub async fn queues(&self, names: &[String]) -> BTreeMap<String, Result<MgmtQueue, MgmtError>> {
        let mut unique: Vec<&String> = names.iter().collect();
        unique.sort();
        unique.dedup();
        let answers =
            futures::future::join_all(unique.iter().map(|n| self.queue(n.as_str()))).await;
        unique.into_iter().cloned().zip(answers).collect()
    }

    /// A transport failure in a few words, with the password scrubbed.
    fn reason(&self, e: &reqwest::Error) -> String {
        let text = if e.is_timeout() {
            format!("no answer within {}s", MGMT_TIMEOUT.as_secs())
        } else {
            // The innermost I/O error says it best ("Connection refused (os error 111)").
            let mut found = None;
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    found = Some(io.to_string());
                    break;
                }
                found = Some(s.to_string());
                source = s.source();
            }
            found.unwrap_or_else(|| "request failed".to_string())
        };
        let p = &self.endpoint.password;
        if p.len() >= 3 {
            text.replace(p.as_str(), redact::MASK)
        } else {
            text
        }
    }
}

#[derive(Deserialize)]
struct WireQueue {
    #[serde(default)]
    messages_ready: Option<u64>,
    #[serde(default)]
    messages_unacknowledged: Option<u64>,
    #[serde(default)]
    consumers: Option<u64>,
    #[serde(default)]
    message_stats: Option<WireStats>,
}

#[derive(Deserialize)]
struct WireStats {
    #[serde(default)]
    publish_details: Option<WireRate>,
    #[serde(default)]
    deliver_get_details: Option<WireRate>,
}

#[derive(Deserialize)]
struct WireRate {
    rate: f64,
}

/// Reads the answer of `GET /api/queues/{vhost}/{name}`. Counts the broker has not sampled yet
/// (a queue declared a moment ago) read as 0; rates it has no statistics for stay None.
pub fn parse_queue(body: &[u8]) -> Result<MgmtQueue, BodyError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| BodyError::Json(e.to_string()))?;
    if !v.is_object() {
        return Err(BodyError::NotObject);
    }
    let w: WireQueue = serde_json::from_value(v).map_err(|e| BodyError::Json(e.to_string()))?;
    let stats = w.message_stats.as_ref();
    Ok(MgmtQueue {
        ready: w.messages_ready.unwrap_or(0),
        unacked: w.messages_unacknowledged.unwrap_or(0),
        consumers: w.consumers.unwrap_or(0),
        publish_rate: stats
            .and_then(|s| s.publish_details.as_ref())
            .map(|r| r.rate),
        deliver_rate: stats
            .and_then(|s| s.deliver_get_details.as_ref())
            .map(|r| r.rate),
    })
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters, so that
/// `/` (the default vhost) becomes `%2F`.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes of a URL's userinfo.
pub fn percent_decode(s: &str) -> Result<String, PercentDecodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(PercentDecodeError::BadEscape)?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PercentDecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(api: Option<&str>, amqp: &str) -> Endpoint {
        Endpoint::from_urls(api, amqp).unwrap()
    }

    #[test]
    fn the_api_is_derived_from_the_amqp_url() {
        let e = endpoint(None, "amqp://guest:guest@127.0.0.1:5672/%2f");
        assert_eq!(e.base, "http://127.0.0.1:15672");
        assert_eq!((e.user.as_str(), e.password.as_str()), ("guest", "guest"));
        assert_eq!(e.vhost, "/");
        assert_eq!(
            e.queue_url("agent-tasks"),
            "http://127.0.0.1:15672/api/queues/%2F/agent-tasks"
        );

        let e = endpoint(None, "amqps://bob:s%40cret@rabbit.example:5671/prod");
        assert_eq!(e.base, "http://rabbit.example:15672");
        assert_eq!((e.user.as_str(), e.password.as_str()), ("bob", "s@cret"));
        assert_eq!(e.vhost, "prod");

        let e = endpoint(None, "amqp://u:pw@rabbit:5672/team%2fa");
        assert_eq!(e.vhost, "team/a");
        assert_eq!(
            e.queue_url("a b/c.dlq"),
            "http://rabbit:15672/api/queues/team%2Fa/a%20b%2Fc.dlq"
        );
    }

    #[test]
    fn an_explicit_api_url_wins_and_keeps_the_amqp_vhost() {
        let amqp = "amqp://guest:guest@10.0.0.1:5672/jobs";
        // Without credentials: the AMQP URL's.
        let e = endpoint(Some("https://mq.example/rabbit/api/"), amqp);
        assert_eq!(e.base, "https://mq.example/rabbit");
        assert_eq!(e.user, "guest");
        assert_eq!(e.vhost, "jobs");
        assert_eq!(
            e.queue_url("q"),
            "https://mq.example/rabbit/api/queues/jobs/q"
        );
        // With credentials: its own, kept out of the address.
        let e = endpoint(Some("http://mon:p%3Ass@127.0.0.1:15673?x=1"), amqp);
        assert_eq!(e.base, "http://127.0.0.1:15673");
        assert_eq!((e.user.as_str(), e.password.as_str()), ("mon", "p:ss"));
    }

    #[test]
    fn bad_urls_are_refused_without_the_password() {
        let amqp = "amqp://guest:guest@127.0.0.1:5672/%2f";
        for api in [
            "ftp://u:Secret99@host/",
            "not a url",
            "http://u:Secret99@/x",
        ] {
            let e = Endpoint::from_urls(Some(api), amqp).unwrap_err();
            assert!(matches!(e, MgmtError::InvalidApiUrl { .. }), "{api}: {e}");
            let text = e.to_string();
            assert!(!text.contains("Secret99"), "{text}");
            assert!(text.contains("--rabbitmq-api"), "{text}");
        }
        let e = Endpoint::from_urls(None, "http://u:Secret99@host").unwrap_err();
        assert!(matches!(e, MgmtError::InvalidAmqpUrl(_)), "{e}");
        assert!(!e.to_string().contains("Secret99"), "{e}");
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let c = MgmtClient::new(None, "amqp://bob:Secret99@127.0.0.1:5672/%2f").unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("Secret99"), "{text}");
        assert!(text.contains("bob"), "{text}");
        assert_eq!(c.base_url(), "http://127.0.0.1:15672");
        assert_eq!(c.vhost(), "/");
    }

    /// Shaped like RabbitMQ 3.x's answer for a queue with traffic (fields trimmed).
    const BUSY: &str = r#"{
        "arguments": {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "agent-tasks.dlq"},
        "auto_delete": false, "durable": true, "exclusive": false,
        "consumers": 2, "consumer_utilisation": 1.0,
        "memory": 55464, "messages": 12,
        "messages_details": {"rate": -0.4},
        "messages_ready": 9, "messages_ready_details": {"rate": -0.6},
        "messages_unacknowledged": 3, "messages_unacknowledged_details": {"rate": 0.2},
        "message_stats": {
            "ack": 40, "ack_details": {"rate": 1.6},
            "deliver": 43, "deliver_details": {"rate": 1.8},
            "deliver_get": 43, "deliver_get_details": {"rate": 1.8},
            "publish": 55, "publish_details": {"rate": 2.5},
            "redeliver": 0, "redeliver_details": {"rate": 0.0}
        },
        "name": "agent-tasks", "node": "rabbit@vm", "state": "running",
        "type": "classic", "vhost": "/"
    }"#;

    /// A queue nothing was published to since it was declared: no `message_stats`.
    const IDLE: &str = r#"{
        "arguments": {}, "auto_delete": false, "durable": true, "exclusive": false,
        "consumers": 0, "messages": 0, "messages_details": {"rate": 0.0},
        "messages_ready": 0, "messages_ready_details": {"rate": 0.0},
        "messages_unacknowledged": 0, "messages_unacknowledged_details": {"rate": 0.0},
        "name": "agent-tasks.dlq", "node": "rabbit@vm", "state": "running",
        "type": "classic", "vhost": "/"
    }"#;

    #[test]
    fn a_busy_queue_reads_counts_and_rates() {
        let q = parse_queue(BUSY.as_bytes()).unwrap();
        assert_eq!(
            q,
            MgmtQueue {
                ready: 9,
                unacked: 3,
                consumers: 2,
                publish_rate: Some(2.5),
                deliver_rate: Some(1.8),
            }
        );
        assert_eq!(q.messages(), 12);
    }

    #[test]
    fn a_queue_without_message_stats_has_no_rates_not_zero() {
        let q = parse_queue(IDLE.as_bytes()).unwrap();
        assert_eq!((q.ready, q.unacked, q.consumers), (0, 0, 0));
        assert_eq!((q.publish_rate, q.deliver_rate), (None, None));
        // Statistics for publishing only: the deliver rate is still unknown.
        let q = parse_queue(
            br#"{"messages_ready": 1, "message_stats": {"publish_details": {"rate": 0.0}}}"#,
        )
        .unwrap();
        assert_eq!(
            (q.ready, q.publish_rate, q.deliver_rate),
            (1, Some(0.0), None)
        );
    }

    #[test]
    fn unreadable_answers_are_errors() {
        assert!(parse_queue(b"<html>").is_err());
        assert!(parse_queue(br#"{"messages_ready": "many"}"#).is_err());
        assert_eq!(parse_queue(br#"[]"#), Err(BodyError::NotObject));
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("/"), "%2F");
        assert_eq!(encode_segment("agent-tasks.dlq"), "agent-tasks.dlq");
        assert_eq!(encode_segment("a b%é"), "a%20b%25%C3%A9");
        assert_eq!(percent_decode("p%3Ass%40").unwrap(), "p:ss@");
        assert_eq!(percent_decode("bad%zz"), Err(PercentDecodeError::BadEscape));
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_the_message_has_no_password() {
        // Nothing listens on port 1.
        let c = MgmtClient::new(
            Some("http://127.0.0.1:1"),
            "amqp://bob:Secret99@127.0.0.1:5672/%2f",
        )
        .unwrap();
        let e = c.queue("q").await.unwrap_err();
        assert!(matches!(e, MgmtError::Unreachable { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains("http://127.0.0.1:1"), "{text}");
        assert!(!text.contains("Secret99"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        let all = c.queues(&["b".into(), "a".into(), "b".into()]).await;
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert!(all.values().all(Result::is_err));
    }
}
