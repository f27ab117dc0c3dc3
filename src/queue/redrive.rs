//! Moving dead letters back to their queue (`fleetctl redrive`), one message at a time and
//! without losing any.
//!
//! Each message is taken from the DLQ with `basic.get` (unacked), republished to the target
//! queue through the default exchange with `mandatory` set and a publisher confirm, and acked on
//! the DLQ only once the broker has confirmed the copy. A message the broker returns
//! (unroutable) or nacks goes back to the DLQ (`basic.nack` with requeue) and the redrive stops.
//! An interruption at any point leaves every message in the DLQ, in the queue, or (between the
//! confirm and the ack) in both: at least once, never lost.
//!
//! Body, properties and headers travel unchanged except two headers: the agent's attempt counter
//! ([`ATTEMPTS_HEADER`]) is dropped, so that a redriven task gets fresh retries, and
//! [`REDRIVEN_HEADER`] counts the redrives.

use std::future::Future;

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Confirmation};
use serde::Serialize;

use super::amqp::Broker;
use super::error::{QueueError, Stage, classify};
use super::topology::{ATTEMPTS_HEADER, REDRIVEN_HEADER, header_count};

/// What a redrive did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveReport {
    pub from: String,
    pub to: String,
    /// The broker's URL, password masked.
    pub broker: String,
    /// Messages now in `to` and gone from `from`.
    pub moved: u64,
    /// Ready messages left in `from` afterwards.
    pub left: u64,
    /// Stopped early by the caller's stop signal.
    pub interrupted: bool,
}

/// `props` as a redriven message carries them: the attempt counter dropped, the redrive counter
/// raised by one, everything else as it was.
pub fn redriven(props: BasicProperties) -> BasicProperties {
    let count = header_count(&props, REDRIVEN_HEADER).saturating_add(1);
    let mut headers = props
        .headers()
        .as_ref()
        .map(|h| h.inner().clone())
        .unwrap_or_default();
    headers.remove(ATTEMPTS_HEADER);
    headers.insert(
        ShortString::from(REDRIVEN_HEADER),
        AMQPValue::LongLongInt(i64::from(count)),
    );
    props.with_headers(FieldTable::from(headers))
}

/// Moves up to `max` messages (all, when None) from `from` to `to`. Both queues must exist;
/// neither is declared here.
pub async fn redrive(
    broker: &Broker,
    from: &str,
    to: &str,
    max: Option<u64>,
) -> Result<RedriveReport, QueueError> {
    redrive_until(broker, from, to, max, std::future::pending()).await
}

/// [`redrive`] that stops taking messages once `stop` resolves; the message in hand is still
/// finished, so the report is exact.
pub async fn redrive_until(
    broker: &Broker,
    from: &str,
    to: &str,
    max: Option<u64>,
    stop: impl Future<Output = ()>,
) -> Result<RedriveReport, QueueError> {
    // Both queues first, so that a typo fails before anything moves.
    broker.depth(to).await?;
    let mut left = match broker.depth(from).await {
        Ok(d) => u64::from(d.ready),
        Err(QueueError::QueueNotFound { url, queue }) => {
            return Err(QueueError::Broker {
                url,
                what: format!("reading dead letters from '{queue}'"),
                reason: "the queue does not exist; check --queue (its DLQ is <queue>.dlq)".into(),
            });
        }
        Err(e) => return Err(e),
    };
    let target = broker.target();
    let channel = broker.channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| classify(&e, target, Stage::Other("enabling publisher confirms")))?;

    let mut moved = 0u64;
    let mut interrupted = false;
    let mut emptied = false;
    tokio::pin!(stop);
    loop {
        if max.is_some_and(|m| moved >= m) {
            break;
        }
        if futures::poll!(&mut stop).is_ready() {
            interrupted = true;
            break;
        }
        let what = format!("moving message {} from '{from}' to '{to}'", moved + 1);
        let got = channel
            .basic_get(from.into(), BasicGetOptions { no_ack: false })
            .await
            .map_err(|e| classify(&e, target, Stage::Other(&what)))?;
        let Some(msg) = got else {
            emptied = true;
            break;
        };
        let d = msg.delivery;
        left = u64::from(msg.message_count);
        let publish = async {
            channel
                .basic_publish(
                    "".into(),
                    to.into(),
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    &d.data,
                    redriven(d.properties.clone()),
                )
                .await?
                .await
        };
        let failure = match publish.await {
            Ok(Confirmation::Ack(None)) => None,
            Ok(Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_))) => Some(format!(
                "the broker returned it as unroutable: does queue '{to}' still exist?"
            )),
            Ok(Confirmation::Nack(None)) => Some("the broker nacked the copy".to_string()),
            Ok(Confirmation::NotRequested) => {
                Some("the broker did not confirm the copy".to_string())
            }
            Err(e) => Some(target.scrub(&e.to_string())),
        };
        if let Some(reason) = failure {
            // Back to the DLQ; if even that fails, closing the channel requeues it.
            let _ = channel
                .basic_nack(
                    d.delivery_tag,
                    BasicNackOptions {
                        multiple: false,
                        requeue: true,
                    },
                )
                .await;
            let _ = channel.close(200, "done".into()).await;
            return Err(QueueError::Broker {
                url: broker.masked_url().to_string(),
                what,
                reason: format!(
                    "{reason} ({moved} moved before it; the message stays in '{from}')"
                ),
            });
        }
        channel
            .basic_ack(d.delivery_tag, BasicAckOptions::default())
            .await
            .map_err(|e| classify(&e, target, Stage::Other(&what)))?;
        moved += 1;
    }
    let _ = channel.close(200, "done".into()).await;
    // The DLQ's depth now; else what the last get said was behind it.
    left = match broker.depth(from).await {
        Ok(d) => u64::from(d.ready),
        Err(_) if emptied => 0,
        Err(_) => left,
    };
    Ok(RedriveReport {
        from: from.to_string(),
        to: to.to_string(),
        broker: broker.masked_url().to_string(),
        moved,
        left,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::topology::{REASON_HEADER, attempts, with_attempts, with_reason};

    #[test]
    fn a_redriven_message_loses_its_attempts_and_counts_the_redrive() {
        let p = BasicProperties::default()
            .with_message_id("m-1".into())
            .with_content_type("application/json".into())
            .with_delivery_mode(1);
        let p = with_reason(with_attempts(p, 3), "boom").with_delivery_mode(1);
        let r = redriven(p);
        assert_eq!(attempts(&r), 0);
        let h = r.headers().clone().unwrap_or_default();
        assert!(!h.contains_key(ATTEMPTS_HEADER));
        assert_eq!(header_count(&r, REDRIVEN_HEADER), 1);
        assert!(h.contains_key(REASON_HEADER), "other headers are kept");
        assert_eq!(r.message_id().as_ref().map(|s| s.as_str()), Some("m-1"));
        assert_eq!(
            r.content_type().as_ref().map(|s| s.as_str()),
            Some("application/json")
        );
        assert_eq!(
            *r.delivery_mode(),
            Some(1),
            "properties are kept as they were"
        );
        assert_eq!(header_count(&redriven(r), REDRIVEN_HEADER), 2);
    }

    #[test]
    fn a_message_without_headers_gets_the_redrive_count() {
        let r = redriven(BasicProperties::default());
        assert_eq!(header_count(&r, REDRIVEN_HEADER), 1);
        assert_eq!(r.headers().as_ref().map(|h| h.inner().len()), Some(1));
    }
}
