//! One client connection: the handshake (protocol header, PLAIN/AMQPLAIN login, tune, vhost),
//! then the frame loop that tracks channel state and content assembly and hands methods to the
//! [`Core`](super::core::Core); a writer task encodes what the core sends, coalescing publisher
//! confirms. Protocol violations close the channel or the connection with RabbitMQ's reply code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use amq_protocol::protocol::{AMQPClass, basic, channel as chan, connection as conn};
use amq_protocol::types::{AMQPValue, FieldTable, LongString};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::Shared;
use super::core::{AmqpError, Out};
use super::frame::{
    ContentHeader, FRAME_MAX, FRAME_MIN, Frame, FrameError, PROTOCOL_HEADER, next_frame, short,
    write_content, write_heartbeat, write_method,
};
use super::queue::ConnId;

/// The most channels a connection may open (RabbitMQ's default).
pub const CHANNEL_MAX: u16 = 2047;
/// The heartbeat interval the broker proposes, in seconds (RabbitMQ's default).
pub const HEARTBEAT: u16 = 60;
/// The largest message body accepted (RabbitMQ's default `max_message_size`).
pub const MAX_MESSAGE: u64 = 128 * 1024 * 1024;
/// How long a client has for each step of the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the broker waits for connection.close-ok after closing a connection.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How a connection ended, for the log.
#[derive(Debug)]
enum End {
    Eof,
    Io(std::io::Error),
    Timeout(&'static str),
    Closed,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Eof => f.write_str("the client closed the socket"),
            End::Io(e) => write!(f, "{e}"),
            End::Timeout(what) => write!(f, "timeout: {what}"),
            End::Closed => f.write_str("closed"),
        }
    }
}

impl From<std::io::Error> for End {
    fn from(e: std::io::Error) -> Self {
        End::Io(e)
    }
}

/// What was negotiated.
struct Tuned {
    frame_max: u32,
    channel_max: u16,
    heartbeat: u16,
}

/// Reads bytes until `buf` holds a frame.
async fn read_frame(
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    frame_max: u32,
) -> Result<Result<Frame, FrameError>, End> {
    loop {
        match next_frame(buf, frame_max) {
            Ok(Some(f)) => return Ok(Ok(f)),
            Ok(None) => {}
            Err(e) => return Ok(Err(e)),
        }
        if rd.read_buf(buf).await? == 0 {
            return Err(End::Eof);
        }
    }
}

fn close_method(e: &AmqpError) -> AMQPClass {
    AMQPClass::Connection(conn::AMQPMethod::Close(conn::Close {
        reply_code: e.code,
        reply_text: short(&e.text),
        class_id: e.class_id,
        method_id: e.method_id,
    }))
}

/// Serves one accepted socket until it closes.
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let id = shared.next_conn();
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().ok();
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(8192);
    let tuned = match tokio::time::timeout(
        HANDSHAKE_TIMEOUT * 3,
        handshake(&mut rd, &mut wr, &mut buf, &shared),
    )
    .await
    {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => return,
        Ok(Err(end)) => {
            debug!(conn = id, ?peer, %end, "handshake_ended");
            return;
        }
        Err(_) => {
            debug!(conn = id, ?peer, "handshake_timeout");
            return;
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    shared.register(id, tx.clone());
    let writer = tokio::spawn(write_loop(wr, rx, tuned.frame_max, tuned.heartbeat));
    let mut session = Session {
        id,
        shared: shared.clone(),
        tx: tx.clone(),
        chans: HashMap::new(),
        tuned,
    };
    let end = session.run(&mut rd, &mut buf, shutdown).await;
    debug!(conn = id, ?peer, %end, "connection_closed");
    shared.unregister(id);
    let _ = tx.send(Out::Close);
    drop(session);
    drop(tx);
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, writer).await;
}

/// Runs the handshake; `None` when it ended with the connection refused (already answered).
async fn handshake(
    rd: &mut OwnedReadHalf,
    wr: &mut OwnedWriteHalf,
    buf: &mut BytesMut,
    shared: &Shared,
) -> Result<Option<Tuned>, End> {
    while buf.len() < 8 {
        if rd.read_buf(buf).await? == 0 {
            return Err(End::Eof);
        }
    }
    if &buf[..8] != PROTOCOL_HEADER {
        // As RabbitMQ does: answer with the protocol version spoken, then close.
        wr.write_all(PROTOCOL_HEADER).await?;
        let _ = wr.shutdown().await;
        return Ok(None);
    }
    let _ = buf.split_to(8);
    let mut out = Vec::new();
    write_method(&mut out, 0, &start_method());
    wr.write_all(&out).await?;

    let start_ok = match expect_method(rd, buf).await? {
        Some(AMQPClass::Connection(conn::AMQPMethod::StartOk(s))) => s,
        _ => return refuse(wr, 503, "COMMAND_INVALID - expected connection.start-ok").await,
    };
    let mechanism = start_ok.mechanism.as_str().to_string();
    let creds = match mechanism.as_str() {
        "PLAIN" => plain(start_ok.response.as_bytes()),
        "AMQPLAIN" => amqplain(start_ok.response.as_bytes()),
        _ => None,
    };
    let ok = creds
        .as_ref()
        .is_some_and(|(u, p)| u == &shared.user && p == &shared.password);
    if !ok {
        let user = creds.map(|(u, _)| u).unwrap_or_default();
        warn!(user = %user, mechanism = %mechanism, "login_refused");
        let text = format!(
            "ACCESS_REFUSED - Login was refused using authentication mechanism {mechanism}. \
             For details see the broker logfile."
        );
        return refuse(wr, 403, &text).await;
    }

    out.clear();
    write_method(
        &mut out,
        0,
        &AMQPClass::Connection(conn::AMQPMethod::Tune(conn::Tune {
            channel_max: CHANNEL_MAX,
            frame_max: FRAME_MAX,
            heartbeat: HEARTBEAT,
        })),
    );
    wr.write_all(&out).await?;
    let tune_ok = match expect_method(rd, buf).await? {
        Some(AMQPClass::Connection(conn::AMQPMethod::TuneOk(t))) => t,
        _ => return refuse(wr, 503, "COMMAND_INVALID - expected connection.tune-ok").await,
    };
    let frame_max = if tune_ok.frame_max == 0 {
        FRAME_MAX
    } else {
        tune_ok.frame_max
    };
    if !(FRAME_MIN..=FRAME_MAX).contains(&frame_max) {
        let text =
            format!("NOT_ALLOWED - frame_max={frame_max} is outside {FRAME_MIN}..={FRAME_MAX}");
        return refuse(wr, 530, &text).await;
    }
    let channel_max = match tune_ok.channel_max {
        0 => CHANNEL_MAX,
        n => n.min(CHANNEL_MAX),
    };
    let open = match expect_method(rd, buf).await? {
        Some(AMQPClass::Connection(conn::AMQPMethod::Open(o))) => o,
        _ => return refuse(wr, 503, "COMMAND_INVALID - expected connection.open").await,
    };
    if open.virtual_host.as_str() != "/" {
        let text = format!(
            "NOT_ALLOWED - vhost {} not found",
            open.virtual_host.as_str()
        );
        return refuse(wr, 530, &text).await;
    }
    out.clear();
    write_method(
        &mut out,
        0,
        &AMQPClass::Connection(conn::AMQPMethod::OpenOk(conn::OpenOk {})),
    );
    wr.write_all(&out).await?;
    Ok(Some(Tuned {
        frame_max,
        channel_max,
        heartbeat: tune_ok.heartbeat,
    }))
}

/// The next method on channel 0 during the handshake (heartbeats skipped).
async fn expect_method(
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
) -> Result<Option<AMQPClass>, End> {
    loop {
        let frame = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_frame(rd, buf, FRAME_MIN))
            .await
            .map_err(|_| End::Timeout("handshake"))??;
        match frame {
            Ok(Frame::Heartbeat) => continue,
            Ok(Frame::Method(0, m)) => return Ok(Some(m)),
            _ => return Ok(None),
        }
    }
}

/// Closes a connection during the handshake with `code`, waiting briefly for close-ok.
async fn refuse(wr: &mut OwnedWriteHalf, code: u16, text: &str) -> Result<Option<Tuned>, End> {
    let mut out = Vec::new();
    write_method(&mut out, 0, &close_method(&AmqpError::new(code, text)));
    wr.write_all(&out).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = wr.shutdown().await;
    Ok(None)
}

fn start_method() -> AMQPClass {
    let mut caps = FieldTable::default();
    for cap in [
        "publisher_confirms",
        "basic.nack",
        "consumer_cancel_notify",
        "authentication_failure_close",
        "per_consumer_qos",
    ] {
        caps.insert(cap.into(), AMQPValue::Boolean(true));
    }
    let mut props = FieldTable::default();
    props.insert("capabilities".into(), AMQPValue::FieldTable(caps));
    props.insert(
        "product".into(),
        AMQPValue::LongString(LongString::from("fleetctl broker")),
    );
    props.insert(
        "version".into(),
        AMQPValue::LongString(LongString::from(env!("CARGO_PKG_VERSION"))),
    );
    props.insert(
        "platform".into(),
        AMQPValue::LongString(LongString::from("Rust")),
    );
    AMQPClass::Connection(conn::AMQPMethod::Start(conn::Start {
        version_major: 0,
        version_minor: 9,
        server_properties: props,
        mechanisms: "PLAIN AMQPLAIN".into(),
        locales: "en_US".into(),
    }))
}

/// `[authzid] NUL user NUL password`.
fn plain(response: &[u8]) -> Option<(String, String)> {
    let mut parts = response.split(|b| *b == 0);
    let _authz = parts.next()?;
    let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let pass = String::from_utf8(parts.next()?.to_vec()).ok()?;
    Some((user, pass))
}

/// A field table without its length prefix, holding LOGIN and PASSWORD.
fn amqplain(response: &[u8]) -> Option<(String, String)> {
    let mut framed = (response.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(response);
    let (_, table) = amq_protocol::types::parsing::parse_field_table(&framed[..]).ok()?;
    let get = |k: &str| match table.inner().get(k) {
        Some(AMQPValue::LongString(s)) => String::from_utf8(s.as_bytes().to_vec()).ok(),
        Some(AMQPValue::ShortString(s)) => Some(s.as_str().to_string()),
        _ => None,
    };
    Some((get("LOGIN")?, get("PASSWORD")?))
}

/// A publish waiting for its content.
struct Pending {
    publish: basic::Publish,
    header: Option<Box<ContentHeader>>,
    body: BytesMut,
}

enum LocalChan {
    Open(Option<Box<Pending>>),
    /// The broker closed the channel and awaits close-ok; other frames are ignored.
    Closing,
}

struct Session {
    id: ConnId,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Out>,
    chans: HashMap<u16, LocalChan>,
    tuned: Tuned,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.close_connection(self.id);
    }
}

/// What to do after a frame.
enum Next {
    Continue,
    /// Close the connection with this error.
    Fail(AmqpError),
    /// The client closed the connection (close-ok already queued).
    Done,
}

impl Session {
    async fn run(
        &mut self,
        rd: &mut OwnedReadHalf,
        buf: &mut BytesMut,
        mut shutdown: watch::Receiver<bool>,
    ) -> End {
        let idle = match self.tuned.heartbeat {
            0 => Duration::from_secs(365 * 24 * 3600),
            hb => Duration::from_secs(hb as u64 * 2),
        };
        loop {
            let frame = match next_frame(buf, self.tuned.frame_max) {
                Ok(Some(f)) => Ok(f),
                Err(e) => Err(e),
                Ok(None) => {
                    tokio::select! {
                        r = rd.read_buf(buf) => match r {
                            Ok(0) => return End::Eof,
                            Ok(_) => continue,
                            Err(e) => return End::Io(e),
                        },
                        _ = tokio::time::sleep(idle) => return End::Timeout("missed heartbeats"),
                        _ = shutdown.changed() => {
                            let e = AmqpError::new(320, "CONNECTION_FORCED - broker shutdown");
                            return self.fail(rd, buf, e).await;
                        }
                    }
                }
            };
            let next = match frame {
                Ok(f) => self.on_frame(f),
                Err(e) => {
                    let e = AmqpError::new(e.reply_code(), e.to_string());
                    // The stream is out of step: nothing after the bad frame can be read.
                    buf.clear();
                    Next::Fail(e)
                }
            };
            match next {
                Next::Continue => {}
                Next::Done => return End::Closed,
                Next::Fail(e) => return self.fail(rd, buf, e).await,
            }
        }
    }

    /// Closes the connection with `e`, waiting briefly for close-ok.
    async fn fail(&mut self, rd: &mut OwnedReadHalf, buf: &mut BytesMut, e: AmqpError) -> End {
        debug!(conn = self.id, code = e.code, text = %e.text, "connection_error");
        self.shared.close_connection(self.id);
        self.chans.clear();
        let _ = self.tx.send(Out::Method(0, close_method(&e)));
        let wait = async {
            loop {
                match read_frame(rd, buf, FRAME_MAX).await {
                    Ok(Ok(Frame::Method(
                        0,
                        AMQPClass::Connection(conn::AMQPMethod::CloseOk(_)),
                    )))
                    | Err(_) => return,
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => buf.clear(),
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, wait).await;
        End::Closed
    }

    fn send(&self, channel: u16, class: AMQPClass) {
        let _ = self.tx.send(Out::Method(channel, class));
    }

    fn on_frame(&mut self, frame: Frame) -> Next {
        let (ch, frame) = match frame {
            Frame::Heartbeat => return Next::Continue,
            Frame::Method(0, m) => return self.on_connection_method(m),
            Frame::Method(ch, m) => (ch, Frame::Method(ch, m)),
            Frame::Header(0, _) | Frame::Body(0, _) => {
                return Next::Fail(AmqpError::new(
                    505,
                    "UNEXPECTED_FRAME - content frame on channel 0",
                ));
            }
            Frame::Header(ch, h) => (ch, Frame::Header(ch, h)),
            Frame::Body(ch, b) => (ch, Frame::Body(ch, b)),
        };
        if let Frame::Method(_, AMQPClass::Channel(chan::AMQPMethod::Open(_))) = frame {
            if self.chans.contains_key(&ch) {
                return Next::Fail(AmqpError::new(
                    504,
                    "CHANNEL_ERROR - second 'channel.open' seen",
                ));
            }
            if ch > self.tuned.channel_max {
                return Next::Fail(AmqpError::new(
                    504,
                    format!(
                        "CHANNEL_ERROR - channel {ch} is above channel_max {}",
                        self.tuned.channel_max
                    ),
                ));
            }
            self.chans.insert(ch, LocalChan::Open(None));
            self.shared
                .with_core(|core| core.open_channel((self.id, ch)));
            return Next::Continue;
        }
        let Some(state) = self.chans.get_mut(&ch) else {
            return Next::Fail(AmqpError::new(
                504,
                "CHANNEL_ERROR - expected 'channel.open'",
            ));
        };
        match state {
            LocalChan::Closing => {
                match frame {
                    Frame::Method(_, AMQPClass::Channel(chan::AMQPMethod::CloseOk(_))) => {
                        self.chans.remove(&ch);
                    }
                    Frame::Method(_, AMQPClass::Channel(chan::AMQPMethod::Close(_))) => {
                        self.send(
                            ch,
                            AMQPClass::Channel(chan::AMQPMethod::CloseOk(chan::CloseOk {})),
                        );
                    }
                    _ => {}
                }
                Next::Continue
            }
            LocalChan::Open(Some(pending)) => match (&pending.header, frame) {
                (None, Frame::Header(_, h)) => {
                    if h.body_size > MAX_MESSAGE {
                        let e = AmqpError::new(
                            406,
                            format!(
                                "PRECONDITION_FAILED - message size {} is larger than configured max size {MAX_MESSAGE}",
                                h.body_size
                            ),
                        );
                        return self.channel_error(ch, e);
                    }
                    pending.body.reserve(h.body_size.min(1 << 20) as usize);
                    let done = h.body_size == 0;
                    pending.header = Some(h);
                    if done {
                        return self.complete_publish(ch);
                    }
                    Next::Continue
                }
                (Some(h), Frame::Body(_, b)) => {
                    pending.body.extend_from_slice(&b);
                    let (have, want) = (pending.body.len() as u64, h.body_size);
                    if have > want {
                        return Next::Fail(AmqpError::new(
                            505,
                            format!(
                                "UNEXPECTED_FRAME - content body of {have} bytes, more than the {want} announced"
                            ),
                        ));
                    }
                    if have == want {
                        return self.complete_publish(ch);
                    }
                    Next::Continue
                }
                (None, _) => Next::Fail(AmqpError::new(
                    505,
                    "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead",
                )),
                (Some(_), _) => Next::Fail(AmqpError::new(
                    505,
                    "UNEXPECTED_FRAME - expected content body, got non content body frame instead",
                )),
            },
            LocalChan::Open(None) => match frame {
                Frame::Method(_, m) => self.on_channel_method(ch, m),
                _ => Next::Fail(AmqpError::new(
                    505,
                    "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
                )),
            },
        }
    }

    fn on_connection_method(&mut self, m: AMQPClass) -> Next {
        match m {
            AMQPClass::Connection(conn::AMQPMethod::Close(_)) => {
                self.shared.close_connection(self.id);
                self.chans.clear();
                self.send(
                    0,
                    AMQPClass::Connection(conn::AMQPMethod::CloseOk(conn::CloseOk {})),
                );
                Next::Done
            }
            AMQPClass::Connection(conn::AMQPMethod::UpdateSecret(_)) => {
                self.send(
                    0,
                    AMQPClass::Connection(conn::AMQPMethod::UpdateSecretOk(
                        conn::UpdateSecretOk {},
                    )),
                );
                Next::Continue
            }
            AMQPClass::Connection(
                conn::AMQPMethod::Blocked(_) | conn::AMQPMethod::Unblocked(_),
            ) => Next::Continue,
            other => Next::Fail(
                AmqpError::new(503, "COMMAND_INVALID - unexpected method on channel 0")
                    .with_method(&other),
            ),
        }
    }

    fn on_channel_method(&mut self, ch: u16, m: AMQPClass) -> Next {
        let key = (self.id, ch);
        match m {
            AMQPClass::Channel(chan::AMQPMethod::Close(_)) => {
                self.chans.remove(&ch);
                self.shared.with_core(|core| core.close_channel(key));
                self.send(
                    ch,
                    AMQPClass::Channel(chan::AMQPMethod::CloseOk(chan::CloseOk {})),
                );
                Next::Continue
            }
            AMQPClass::Channel(chan::AMQPMethod::CloseOk(_)) => Next::Continue,
            AMQPClass::Channel(chan::AMQPMethod::Flow(f)) => {
                self.send(
                    ch,
                    AMQPClass::Channel(chan::AMQPMethod::FlowOk(chan::FlowOk { active: f.active })),
                );
                Next::Continue
            }
            AMQPClass::Basic(basic::AMQPMethod::Publish(p)) => {
                self.chans.insert(
                    ch,
                    LocalChan::Open(Some(Box::new(Pending {
                        publish: p,
                        header: None,
                        body: BytesMut::new(),
                    }))),
                );
                Next::Continue
            }
            m => match self.shared.with_core(|core| core.handle(key, m)) {
                Ok(()) => Next::Continue,
                Err(e) => self.error(ch, e),
            },
        }
    }

    fn complete_publish(&mut self, ch: u16) -> Next {
        let Some(LocalChan::Open(pending)) = self.chans.get_mut(&ch) else {
            return Next::Continue;
        };
        let Some(p) = pending.take() else {
            return Next::Continue;
        };
        let Pending {
            publish,
            header,
            body,
        } = *p;
        let header = *header.expect("complete only after the header");
        match self
            .shared
            .publish((self.id, ch), &publish, header, body.freeze(), &self.tx)
        {
            Ok(()) => Next::Continue,
            Err(e) => self.error(ch, e),
        }
    }

    fn error(&mut self, ch: u16, e: AmqpError) -> Next {
        if e.is_hard() {
            Next::Fail(e)
        } else {
            self.channel_error(ch, e)
        }
    }

    /// Closes one channel with a soft error, as RabbitMQ does: its unacked deliveries go back
    /// and it ignores everything but close-ok from now on.
    fn channel_error(&mut self, ch: u16, e: AmqpError) -> Next {
        debug!(conn = self.id, channel = ch, code = e.code, text = %e.text, "channel_error");
        self.chans.insert(ch, LocalChan::Closing);
        self.shared
            .with_core(|core| core.close_channel((self.id, ch)));
        self.send(
            ch,
            AMQPClass::Channel(chan::AMQPMethod::Close(chan::Close {
                reply_code: e.code,
                reply_text: short(&e.text),
                class_id: e.class_id,
                method_id: e.method_id,
            })),
        );
        Next::Continue
    }
}

impl AmqpError {
    fn with_method(mut self, m: &AMQPClass) -> Self {
        self.class_id = m.get_amqp_class_id();
        self.method_id = m.get_amqp_method_id();
        self
    }
}

/// Encodes what the core sends, in batches, with a heartbeat every half interval.
async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Out>,
    frame_max: u32,
    heartbeat: u16,
) {
    let mut batch = Vec::with_capacity(512);
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let period = match heartbeat {
        0 => Duration::from_secs(365 * 24 * 3600),
        hb => Duration::from_millis(hb as u64 * 500),
    };
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut closing = false;
    while !closing {
        tokio::select! {
            n = rx.recv_many(&mut batch, 512) => {
                if n == 0 {
                    break;
                }
                closing = encode(&mut batch, &mut buf, frame_max);
            }
            _ = beat.tick() => write_heartbeat(&mut buf),
        }
        if !buf.is_empty() {
            if wr.write_all(&buf).await.is_err() {
                return;
            }
            buf.clear();
        }
    }
    let _ = wr.shutdown().await;
}

/// Encodes a batch into `buf`, merging runs of consecutive confirms on one channel into one
/// confirm with `multiple`. Returns true when the batch asked to close the socket.
fn encode(batch: &mut Vec<Out>, buf: &mut Vec<u8>, frame_max: u32) -> bool {
    // (channel, ack, first tag, last tag)
    let mut run: Option<(u16, bool, u64, u64)> = None;
    let flush = |run: &mut Option<(u16, bool, u64, u64)>, buf: &mut Vec<u8>| {
        if let Some((ch, ack, first, last)) = run.take() {
            let multiple = last > first;
            let m = if ack {
                basic::AMQPMethod::Ack(basic::Ack {
                    delivery_tag: last,
                    multiple,
                })
            } else {
                basic::AMQPMethod::Nack(basic::Nack {
                    delivery_tag: last,
                    multiple,
                    requeue: false,
                })
            };
            write_method(buf, ch, &AMQPClass::Basic(m));
        }
    };
    let mut close = false;
    for out in batch.drain(..) {
        match out {
            Out::Confirm { channel, tag, ack } => {
                if let Some((ch, a, _, last)) = &mut run
                    && *ch == channel
                    && *a == ack
                    && *last + 1 == tag
                {
                    *last = tag;
                    continue;
                }
                flush(&mut run, buf);
                run = Some((channel, ack, tag, tag));
            }
            Out::Method(ch, m) => {
                flush(&mut run, buf);
                write_method(buf, ch, &m);
            }
            Out::Content(ch, m, msg) => {
                flush(&mut run, buf);
                write_method(buf, ch, &m);
                write_content(buf, ch, &msg.raw_properties, &msg.body, frame_max);
            }
            Out::Close => {
                close = true;
                break;
            }
        }
    }
    flush(&mut run, buf);
    close
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_from_both_mechanisms() {
        assert_eq!(
            plain(b"\0guest\0secret"),
            Some(("guest".into(), "secret".into()))
        );
        assert_eq!(plain(b"guest"), None);
        let creds = amq_protocol::auth::Credentials::new("u".into(), "p".into());
        let resp = creds.sasl_auth_string(amq_protocol::auth::SASLMechanism::AMQPlain);
        assert_eq!(amqplain(resp.as_bytes()), Some(("u".into(), "p".into())));
    }

    #[test]
    fn consecutive_confirms_become_one_with_multiple() {
        let mut batch = vec![
            Out::Confirm {
                channel: 1,
                tag: 1,
                ack: true,
            },
            Out::Confirm {
                channel: 1,
                tag: 2,
                ack: true,
            },
            Out::Confirm {
                channel: 1,
                tag: 3,
                ack: true,
            },
            Out::Confirm {
                channel: 2,
                tag: 1,
                ack: true,
            },
        ];
        let mut buf = Vec::new();
        assert!(!encode(&mut batch, &mut buf, FRAME_MAX));
        let mut b = BytesMut::from(&buf[..]);
        let mut frames = Vec::new();
        while let Some(f) = next_frame(&mut b, FRAME_MAX).unwrap() {
            frames.push(f);
        }
        assert_eq!(
            frames,
            vec![
                Frame::Method(
                    1,
                    AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
                        delivery_tag: 3,
                        multiple: true
                    }))
                ),
                Frame::Method(
                    2,
                    AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
                        delivery_tag: 1,
                        multiple: false
                    }))
                ),
            ]
        );
    }
}
