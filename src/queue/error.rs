//! Typed broker errors. Every message names what failed, where (the URL with its password
//! masked) and what to do about it, so that a command can print it as its one line.

use lapin::ErrorKind;

/// The URL of a broker as it may be shown: password masked.
pub type MaskedUrl = String;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(
        "invalid AMQP URL '{url}': {reason}; pass --amqp-url (or FLEETCTL_AMQP_URL) as amqp://USER:PASSWORD@HOST:5672/VHOST"
    )]
    InvalidUrl { url: MaskedUrl, reason: String },

    #[error(
        "cannot reach RabbitMQ at {url}: {reason}; start the broker or point --amqp-url / FLEETCTL_AMQP_URL at a running one"
    )]
    Unreachable { url: MaskedUrl, reason: String },

    #[error(
        "RabbitMQ at {url} refused the login of user '{user}'; check the user name and password in --amqp-url / FLEETCTL_AMQP_URL"
    )]
    LoginRefused { url: MaskedUrl, user: String },

    #[error(
        "RabbitMQ at {url} refused vhost '{vhost}' for user '{user}': it does not exist or the user has no access; create it (`rabbitmqctl add_vhost {vhost}` and `rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'`) or fix the vhost in the URL path (%2f is the default vhost)"
    )]
    VhostRefused {
        url: MaskedUrl,
        vhost: String,
        user: String,
    },

    #[error(
        "queue '{queue}' already exists on {url} with different arguments ({detail}); delete it with `rabbitmqctl delete_queue {queue}` (its messages go with it) or use another --queue"
    )]
    QueueMismatch {
        url: MaskedUrl,
        queue: String,
        detail: String,
    },

    #[error(
        "queue '{queue}' does not exist on {url}; declare it with `fleetctl seed --queue {queue}` first"
    )]
    QueueNotFound { url: MaskedUrl, queue: String },

    #[error("RabbitMQ at {url} denied {what}: {detail}; grant the user permissions on this vhost")]
    Forbidden {
        url: MaskedUrl,
        what: String,
        detail: String,
    },

    #[error("RabbitMQ at {url}: {what} failed: {reason}")]
    Broker {
        url: MaskedUrl,
        what: String,
        reason: String,
    },
}

/// Where an error happened, so that the same broker reply can be told apart: a 403 while
/// connecting is a bad login, a 403 on a queue is a missing permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage<'a> {
    Connect,
    Declare(&'a str),
    Passive(&'a str),
    Other(&'a str),
}

/// The identity of the broker an error is about.
#[derive(Debug, Clone)]
pub struct Target {
    pub masked_url: MaskedUrl,
    pub user: String,
    pub vhost: String,
    /// The raw password, kept only to scrub it from library messages.
    pub(crate) password: String,
}

impl Target {
    /// Removes the password from a message that came from a library.
    pub fn scrub(&self, text: &str) -> String {
        if self.password.len() >= 3 {
            text.replace(&self.password, crate::redact::MASK)
        } else {
            text.to_string()
        }
    }
}

/// Reply codes of AMQP 0-9-1 that the broker sends when it closes a channel or connection.
const ACCESS_REFUSED: u16 = 403;
const NOT_FOUND: u16 = 404;
const PRECONDITION_FAILED: u16 = 406;
const NOT_ALLOWED: u16 = 530;

/// Turns a lapin error at `stage` into the error an operator can act on.
pub fn classify(err: &lapin::Error, target: &Target, stage: Stage<'_>) -> QueueError {
    let url = target.masked_url.clone();
    let what = match stage {
        Stage::Connect => "connecting".to_string(),
        Stage::Declare(q) => format!("declaring queue '{q}'"),
        Stage::Passive(q) => format!("inspecting queue '{q}'"),
        Stage::Other(w) => w.to_string(),
    };
    match err.kind() {
        ErrorKind::ProtocolError(amqp) => {
            let detail = target.scrub(amqp.get_message().as_str());
            match (amqp.get_id(), stage) {
                (ACCESS_REFUSED, Stage::Connect) => QueueError::LoginRefused {
                    url,
                    user: target.user.clone(),
                },
                (NOT_ALLOWED, Stage::Connect) => QueueError::VhostRefused {
                    url,
                    vhost: target.vhost.clone(),
                    user: target.user.clone(),
                },
                (PRECONDITION_FAILED, Stage::Declare(q)) => QueueError::QueueMismatch {
                    url,
                    queue: q.to_string(),
                    detail,
                },
                (NOT_FOUND, Stage::Passive(q) | Stage::Declare(q)) => QueueError::QueueNotFound {
                    url,
                    queue: q.to_string(),
                },
                (ACCESS_REFUSED, _) => QueueError::Forbidden { url, what, detail },
                (code, _) => QueueError::Broker {
                    url,
                    what,
                    reason: format!("{detail} (reply code {code})"),
                },
            }
        }
        ErrorKind::IOError(_) | ErrorKind::MissingHeartbeatError if stage == Stage::Connect => {
            QueueError::Unreachable {
                url,
                reason: target.scrub(&io_reason(err)),
            }
        }
        // A broker that drops the socket during the handshake, rather than answering with
        // ACCESS_REFUSED, does so because of the login.
        ErrorKind::InvalidConnectionState(_) if stage == Stage::Connect => {
            QueueError::LoginRefused {
                url,
                user: target.user.clone(),
            }
        }
        _ => QueueError::Broker {
            url,
            what,
            reason: target.scrub(&err.to_string()),
        },
    }
}

fn io_reason(err: &lapin::Error) -> String {
    match err.kind() {
        ErrorKind::IOError(e) => e.to_string(),
        _ => err.to_string(),
    }
}
