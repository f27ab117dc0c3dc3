//! Frame I/O: splits the byte stream into AMQP 0-9-1 frames (checking each frame's size against
//! the negotiated `frame_max` before reading it), parses methods and content headers with
//! amq-protocol's parsers, and writes outgoing frames with its generators. Content header
//! properties are kept as the bytes the publisher sent, so that a consumer receives them byte for
//! byte. Pure: no sockets, so that it can be fed arbitrary bytes in tests.

use amq_protocol::frame::{AMQPFrame, WriteContext, gen_frame};
use amq_protocol::protocol::{AMQPClass, BasicProperties, basic::parse_properties, parse_class};
use bytes::{Buf, Bytes, BytesMut};

/// The protocol header a client sends first, and the one the broker answers a wrong one with.
pub const PROTOCOL_HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";

/// The largest frame the broker offers in connection.tune (RabbitMQ's default).
pub const FRAME_MAX: u32 = 131_072;

/// The smallest frame_max AMQP allows; it applies before tuning.
pub const FRAME_MIN: u32 = 4096;

/// Frame header (type, channel, size) plus the frame-end octet.
pub const FRAME_OVERHEAD: usize = 8;

const FRAME_METHOD: u8 = 1;
const FRAME_HEADER: u8 = 2;
const FRAME_BODY: u8 = 3;
const FRAME_HEARTBEAT: u8 = 8;
const FRAME_END: u8 = 0xCE;

/// One frame read from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Method(u16, AMQPClass),
    Header(u16, Box<ContentHeader>),
    Body(u16, Bytes),
    Heartbeat,
}

/// A content header: the body size, the parsed properties and their bytes as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentHeader {
    pub class_id: u16,
    pub body_size: u64,
    pub properties: BasicProperties,
    pub raw_properties: Bytes,
}

/// Why the byte stream is not a valid sequence of frames; each closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("FRAME_ERROR - frame size {size} larger than negotiated maximum {max}")]
    TooLarge { size: u64, max: u32 },
    #[error("FRAME_ERROR - unknown frame type {0}")]
    UnknownType(u8),
    #[error("FRAME_ERROR - frame end octet is {0:#04x}, not 0xce")]
    BadEnd(u8),
    #[error("SYNTAX_ERROR - {0}")]
    Syntax(String),
}

impl FrameError {
    /// The AMQP reply code RabbitMQ closes the connection with.
    pub fn reply_code(&self) -> u16 {
        match self {
            FrameError::Syntax(_) => 502,
            _ => 501,
        }
    }
}

/// Takes the next complete frame off the front of `buf`, or `None` when more bytes are needed.
/// A frame larger than `frame_max` is refused from its header alone, so memory stays bounded by
/// `frame_max` whatever the peer sends.
pub fn next_frame(buf: &mut BytesMut, frame_max: u32) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 7 {
        return Ok(None);
    }
    let kind = buf[0];
    let channel = u16::from_be_bytes([buf[1], buf[2]]);
    let size = u32::from_be_bytes([buf[3], buf[4], buf[5], buf[6]]) as u64;
    if !matches!(
        kind,
        FRAME_METHOD | FRAME_HEADER | FRAME_BODY | FRAME_HEARTBEAT
    ) {
        return Err(FrameError::UnknownType(kind));
    }
    if size + FRAME_OVERHEAD as u64 > frame_max as u64 {
        return Err(FrameError::TooLarge {
            size: size + FRAME_OVERHEAD as u64,
            max: frame_max,
        });
    }
    let total = size as usize + FRAME_OVERHEAD;
    if buf.len() < total {
        buf.reserve(total - buf.len());
        return Ok(None);
    }
    let end = buf[total - 1];
    if end != FRAME_END {
        return Err(FrameError::BadEnd(end));
    }
    let mut frame = buf.split_to(total).freeze();
    frame.advance(7);
    let payload = frame.slice(..size as usize);
    let syntax = |what: &str| FrameError::Syntax(format!("malformed {what} frame"));
    match kind {
        FRAME_METHOD => {
            let (rest, class) = parse_class(&payload[..]).map_err(|_| syntax("method"))?;
            if !rest.is_empty() {
                return Err(syntax("method"));
            }
            Ok(Some(Frame::Method(channel, class)))
        }
        FRAME_HEADER => {
            if payload.len() < 14 {
                return Err(syntax("content header"));
            }
            let class_id = u16::from_be_bytes([payload[0], payload[1]]);
            let body_size = u64::from_be_bytes(payload[4..12].try_into().expect("8 bytes"));
            let raw = payload.slice(12..);
            let (rest, properties) =
                parse_properties(&raw[..]).map_err(|_| syntax("content header"))?;
            if !rest.is_empty() {
                return Err(syntax("content header"));
            }
            Ok(Some(Frame::Header(
                channel,
                Box::new(ContentHeader {
                    class_id,
                    body_size,
                    properties,
                    raw_properties: raw,
                }),
            )))
        }
        FRAME_BODY => Ok(Some(Frame::Body(channel, payload))),
        _ => Ok(Some(Frame::Heartbeat)),
    }
}

/// Appends one method frame to `out`.
pub fn write_method(out: &mut Vec<u8>, channel: u16, class: &AMQPClass) {
    let frame = AMQPFrame::Method(channel, class.clone());
    write_frame(out, &frame);
}

fn write_frame(out: &mut Vec<u8>, frame: &AMQPFrame) {
    let buf = std::mem::take(out);
    match gen_frame(frame)(WriteContext::from(buf)) {
        Ok(ctx) => *out = ctx.into_inner().0,
        // Generation only fails on a short string over 255 bytes, which every caller truncates;
        // losing one frame is better than taking the broker down.
        Err(e) => tracing::error!(error = %e, "frame_generation_failed"),
    }
}

/// Appends a heartbeat frame to `out`.
pub fn write_heartbeat(out: &mut Vec<u8>) {
    out.extend_from_slice(&[FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);
}

/// Appends a content header (with the properties' bytes as given) and the body, split into
/// frames of at most `frame_max` bytes.
pub fn write_content(
    out: &mut Vec<u8>,
    channel: u16,
    raw_properties: &[u8],
    body: &[u8],
    frame_max: u32,
) {
    let ch = channel.to_be_bytes();
    let size = (12 + raw_properties.len()) as u32;
    out.push(FRAME_HEADER);
    out.extend_from_slice(&ch);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&60u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.extend_from_slice(raw_properties);
    out.push(FRAME_END);
    let chunk = (frame_max as usize).saturating_sub(FRAME_OVERHEAD).max(1);
    for part in body.chunks(chunk) {
        out.push(FRAME_BODY);
        out.extend_from_slice(&ch);
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
        out.push(FRAME_END);
    }
}

/// The wire encoding of `props` (flags and values), as a content header carries them.
pub fn encode_properties(props: &BasicProperties) -> Bytes {
    use amq_protocol::protocol::basic::gen_properties;
    match gen_properties(props)(WriteContext::from(Vec::new())) {
        Ok(ctx) => Bytes::from(ctx.into_inner().0),
        Err(e) => {
            tracing::error!(error = %e, "properties_generation_failed");
            Bytes::from_static(&[0, 0])
        }
    }
}

/// `text` cut to fit a short string (255 bytes) on a character boundary.
pub fn short(text: &str) -> amq_protocol::types::ShortString {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use amq_protocol::protocol::basic;
    use amq_protocol::types::{AMQPValue, FieldTable};

    fn frames(bytes: &[u8], max: u32) -> Result<Vec<Frame>, FrameError> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = next_frame(&mut buf, max)? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn a_method_round_trips() {
        let class = AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
            delivery_tag: 7,
            multiple: true,
        }));
        let mut out = Vec::new();
        write_method(&mut out, 3, &class);
        write_heartbeat(&mut out);
        assert_eq!(
            frames(&out, FRAME_MAX).unwrap(),
            vec![Frame::Method(3, class), Frame::Heartbeat]
        );
    }

    #[test]
    fn content_is_split_at_frame_max_and_properties_kept() {
        let mut headers = FieldTable::default();
        headers.insert("b".into(), AMQPValue::LongInt(1));
        headers.insert("a".into(), AMQPValue::LongString("x".into()));
        let props = BasicProperties::default()
            .with_headers(headers)
            .with_message_id("m".into());
        let raw = encode_properties(&props);
        let body = vec![7u8; 10_000];
        let mut out = Vec::new();
        write_content(&mut out, 1, &raw, &body, FRAME_MIN);
        let got = frames(&out, FRAME_MIN).unwrap();
        assert_eq!(got.len(), 1 + 3, "10000 bytes in frames of 4088");
        let Frame::Header(1, h) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(h.body_size, 10_000);
        assert_eq!(h.properties, props);
        assert_eq!(h.raw_properties, raw);
        let total: usize = got[1..]
            .iter()
            .map(|f| match f {
                Frame::Body(1, b) => b.len(),
                _ => panic!("{f:?}"),
            })
            .sum();
        assert_eq!(total, 10_000);
    }

    #[test]
    fn an_oversized_frame_is_refused_from_its_header() {
        let mut bytes = vec![FRAME_BODY, 0, 1];
        bytes.extend_from_slice(&(1u32 << 30).to_be_bytes());
        assert_eq!(
            frames(&bytes, FRAME_MAX).unwrap_err(),
            FrameError::TooLarge {
                size: (1 << 30) + 8,
                max: FRAME_MAX
            }
        );
        assert_eq!(FrameError::UnknownType(0).reply_code(), 501);
    }

    #[test]
    fn garbage_is_a_frame_error() {
        assert!(matches!(
            frames(b"GET / HTTP/1.1\r\n", FRAME_MAX),
            Err(FrameError::UnknownType(b'G'))
        ));
        let bad_end = [FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            frames(&bad_end, FRAME_MAX).unwrap_err(),
            FrameError::BadEnd(0)
        );
        let bad_method = [FRAME_METHOD, 0, 1, 0, 0, 0, 2, 0xff, 0xff, FRAME_END];
        assert_eq!(
            frames(&bad_method, FRAME_MAX).unwrap_err().reply_code(),
            502
        );
    }

    #[test]
    fn short_strings_are_cut_on_a_char_boundary() {
        let s = "é".repeat(200);
        assert_eq!(short(&s).as_str().len(), 254);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        /// Feeds `bytes` in chunks of `chunk`, as a socket would; returns the frames read
        /// before the end or the first error. Panics if the buffer ever holds more than one
        /// frame's worth beyond what was fed.
        fn feed(bytes: &[u8], chunk: usize, max: u32) -> usize {
            let mut buf = BytesMut::new();
            let mut frames = 0;
            for part in bytes.chunks(chunk.max(1)) {
                buf.extend_from_slice(part);
                loop {
                    match next_frame(&mut buf, max) {
                        Ok(Some(_)) => frames += 1,
                        Ok(None) => break,
                        Err(_) => return frames,
                    }
                }
                assert!(
                    buf.capacity() <= bytes.len().max(max as usize) + 8192,
                    "buffer grew to {} for {} bytes fed",
                    buf.capacity(),
                    bytes.len()
                );
            }
            frames
        }

        fn valid_frames() -> Vec<u8> {
            let mut out = Vec::new();
            let publish = AMQPClass::Basic(basic::AMQPMethod::Publish(basic::Publish {
                exchange: "".into(),
                routing_key: "q".into(),
                mandatory: true,
                immediate: false,
            }));
            write_method(&mut out, 1, &publish);
            let mut headers = FieldTable::default();
            headers.insert("k".into(), AMQPValue::LongString("v".into()));
            let props = BasicProperties::default().with_headers(headers);
            write_content(
                &mut out,
                1,
                &encode_properties(&props),
                &[9u8; 300],
                FRAME_MIN,
            );
            write_heartbeat(&mut out);
            out
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..512) {
                feed(&bytes, chunk, FRAME_MIN);
            }

            #[test]
            fn mutated_frames_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>(), chunk in 1usize..256) {
                let mut bytes = valid_frames();
                for (at, b) in flips {
                    let i = at % bytes.len();
                    bytes[i] = b;
                }
                bytes.truncate(cut % (bytes.len() + 1));
                feed(&bytes, chunk, FRAME_MIN);
            }

            #[test]
            fn a_huge_size_is_refused_without_allocating(size in 4096u32.., kind in prop_oneof![Just(1u8), Just(2u8), Just(3u8)]) {
                let mut bytes = vec![kind, 0, 1];
                bytes.extend_from_slice(&size.to_be_bytes());
                let mut buf = BytesMut::from(&bytes[..]);
                let refused = matches!(next_frame(&mut buf, FRAME_MIN), Err(FrameError::TooLarge { .. }));
                prop_assert!(refused);
                prop_assert!(buf.capacity() < 1024);
            }
        }

        #[test]
        fn valid_frames_all_read() {
            let bytes = valid_frames();
            assert_eq!(feed(&bytes, 7, FRAME_MIN), 4);
        }
    }
}
