//! Kubernetes' protobuf encoding, for request bodies. kubectl's typed clients (create secret,
//! create job, drain's evictions, ...) send `application/vnd.kubernetes.protobuf` and do not fall
//! back to JSON, so the server turns such a body into the JSON object it stands for, using the
//! field table in [`super::proto_schema`].
//!
//! The envelope is the 4 bytes `k8s\0` and a `runtime.Unknown` {typeMeta{apiVersion, kind},
//! raw}; `raw` is the object's message.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::proto_schema::MESSAGES;

/// A field's type.
#[derive(Debug)]
pub enum T {
    Str,
    Bytes,
    Bool,
    Int,
    Float,
    Msg(&'static str),
    Map(&'static T),
    Time,
    Quantity,
    IntOrString,
    Raw,
    Duration,
}

#[derive(Debug)]
pub struct Field {
    pub num: u32,
    pub name: &'static str,
    pub ty: T,
    pub repeated: bool,
}

#[derive(Debug)]
pub struct Message {
    pub name: &'static str,
    pub fields: &'static [Field],
}

/// Go structs embedded inline: their fields appear directly in the JSON of the parent.
const INLINE: &[&str] = &[
    "localObjectReference",
    "volumeSource",
    "ephemeralContainerCommon",
    "persistentVolumeSource",
];

const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf request body could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the protobuf body does not start with the k8s envelope")]
    NoEnvelope,
    #[error("no protobuf decoding for {api_version} {kind}; send JSON")]
    UnknownKind { api_version: String, kind: String },
    #[error("no protobuf schema for {name}")]
    NoSchema { name: String },
    #[error("a protobuf string is not UTF-8")]
    NotUtf8,
    #[error("truncated varint")]
    TruncatedVarint,
    #[error("varint too long")]
    VarintTooLong,
    #[error("truncated protobuf field")]
    TruncatedField,
    #[error("unsupported protobuf wire type {0}")]
    UnsupportedWireType(u64),
    #[error("the object is nested more than {max} levels deep")]
    TooDeep { max: usize },
    /// A field's wire type does not fit its type in the schema (both as Debug text).
    #[error("protobuf field of type {ty} arrived as {wire}")]
    WireMismatch { ty: String, wire: String },
}

pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or_default().trim()
        == "application/vnd.kubernetes.protobuf"
}

/// The JSON object a protobuf request body encodes.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let rest = body.strip_prefix(MAGIC).ok_or(ProtoError::NoEnvelope)?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for item in Reader::new(rest) {
        let (num, wire) = item?;
        match (num, wire) {
            (1, Wire::Len(tm)) => {
                for f in Reader::new(tm) {
                    match f? {
                        (1, Wire::Len(s)) => api_version = utf8(s)?,
                        (2, Wire::Len(s)) => kind = utf8(s)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Len(r)) => raw = r,
            _ => {}
        }
    }
    let Some(name) = message_name(&api_version, &kind) else {
        return Err(ProtoError::UnknownKind { api_version, kind });
    };
    let mut v = decode_message(name, raw, 0)?;
    v["apiVersion"] = json!(api_version);
    v["kind"] = json!(kind);
    Ok(v)
}

fn message_name(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let pkg = match group {
        "" => "core",
        "batch" => "batch",
        "apps" => "apps",
        "policy" => "policy",
        "rbac.authorization.k8s.io" => "rbac",
        _ => return None,
    };
    let full = format!("k8s.io.api.{pkg}.{version}.{kind}");
    let full = if kind == "DeleteOptions" {
        "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions".to_string()
    } else {
        full
    };
    find(&full).map(|m| m.name)
}

fn find(name: &str) -> Option<&'static Message> {
    MESSAGES.iter().find(|m| m.name == name)
}

fn utf8(b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtoError::NotUtf8)
}

#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, failed: false }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::TruncatedVarint)?;
            self.buf = rest;
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(ProtoError::VarintTooLong)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let (a, b) = self
            .buf
            .split_at_checked(n)
            .ok_or(ProtoError::TruncatedField)?;
        self.buf = b;
        Ok(a)
    }

    /// The next `N` bytes, for fixed-width fields.
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        self.take(N)?
            .try_into()
            .map_err(|_| ProtoError::TruncatedField)
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<(u32, Wire<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() || self.failed {
            return None;
        }
        let r = (|| {
            let key = self.varint()?;
            let num = (key >> 3) as u32;
            let wire = match key & 7 {
                0 => Wire::Varint(self.varint()?),
                1 => Wire::Fixed64(u64::from_le_bytes(self.take_array()?)),
                2 => {
                    let n = self.varint()? as usize;
                    Wire::Len(self.take(n)?)
                }
                5 => Wire::Fixed32(u32::from_le_bytes(self.take_array()?)),
                w => return Err(ProtoError::UnsupportedWireType(w)),
            };
            Ok((num, wire))
        })();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

fn decode_message(name: &str, bytes: &[u8], depth: usize) -> Result<Value, ProtoError> {
    // Messages may nest (JSONSchemaProps does): as deep as an object may be, no deeper.
    if depth > super::bounds::MAX_DEPTH {
        return Err(ProtoError::TooDeep {
            max: super::bounds::MAX_DEPTH,
        });
    }
    let msg = find(name).ok_or_else(|| ProtoError::NoSchema {
        name: name.to_string(),
    })?;
    let mut out = Map::new();
    for item in Reader::new(bytes) {
        let (num, wire) = item?;
        let Some(field) = msg.fields.iter().find(|f| f.num == num) else {
            continue;
        };
        if let T::Map(vt) = &field.ty {
            let Wire::Len(entry) = wire else { continue };
            let (mut k, mut v) = (String::new(), Value::Null);
            for e in Reader::new(entry) {
                match e? {
                    (1, Wire::Len(s)) => k = utf8(s)?,
                    (2, w) => v = scalar(vt, w, depth)?.unwrap_or(Value::Null),
                    _ => {}
                }
            }
            let m = out.entry(field.name).or_insert_with(|| json!({}));
            if v.is_null() {
                v = match vt {
                    T::Str | T::Bytes => json!(""),
                    _ => Value::Null,
                };
            }
            m[&k] = v;
            continue;
        }
        let values: Vec<Value> = match (&field.ty, wire, field.repeated) {
            // Packed repeated scalars.
            (T::Int | T::Bool, Wire::Len(b), true) => {
                let mut r = Reader::new(b);
                let mut vs = vec![];
                while !r.buf.is_empty() {
                    let n = r.varint()?;
                    vs.push(if matches!(field.ty, T::Bool) {
                        json!(n != 0)
                    } else {
                        json!(n as i64)
                    });
                }
                vs
            }
            _ => scalar(&field.ty, wire, depth)?.into_iter().collect(),
        };
        for v in values {
            if field.repeated {
                match out.entry(field.name).or_insert_with(|| json!([])) {
                    Value::Array(a) => a.push(v),
                    other => *other = json!([v]),
                }
            } else if INLINE.contains(&field.name) {
                if let Value::Object(m) = v {
                    out.extend(m);
                }
            } else {
                out.insert(field.name.to_string(), v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// One value of type `ty`; None for values JSON would omit (an empty string, Go's zero time).
fn scalar(ty: &T, w: Wire<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    Ok(match (ty, w) {
        (T::Str, Wire::Len(b)) => {
            let s = utf8(b)?;
            (!s.is_empty()).then(|| json!(s))
        }
        (T::Bytes, Wire::Len(b)) => {
            Some(json!(base64::engine::general_purpose::STANDARD.encode(b)))
        }
        (T::Bool, Wire::Varint(n)) => Some(json!(n != 0)),
        (T::Int, Wire::Varint(n)) => Some(json!(n as i64)),
        (T::Float, Wire::Fixed64(n)) => Some(json!(f64::from_bits(n))),
        (T::Float, Wire::Fixed32(n)) => Some(json!(f32::from_bits(n) as f64)),
        (T::Msg(name), Wire::Len(b)) => Some(decode_message(name, b, depth + 1)?),
        (T::Time, Wire::Len(b)) => {
            let (mut secs, mut nanos) = (0i64, 0i64);
            for f in Reader::new(b) {
                match f? {
                    (1, Wire::Varint(n)) => secs = n as i64,
                    (2, Wire::Varint(n)) => nanos = n as i64,
                    _ => {}
                }
            }
            // Go's zero time marshals as null in JSON.
            if secs == -62_135_596_800 {
                None
            } else {
                jiff::Timestamp::new(secs, nanos as i32)
                    .ok()
                    .map(|t| json!(t.to_string()))
            }
        }
        (T::Quantity, Wire::Len(b)) => {
            let mut s = String::new();
            for f in Reader::new(b) {
                if let (1, Wire::Len(x)) = f? {
                    s = utf8(x)?;
                }
            }
            Some(json!(s))
        }
        (T::IntOrString, Wire::Len(b)) => {
            let (mut kind, mut i, mut s) = (0u64, 0i64, String::new());
            for f in Reader::new(b) {
                match f? {
                    (1, Wire::Varint(n)) => kind = n,
                    (2, Wire::Varint(n)) => i = n as i64,
                    (3, Wire::Len(x)) => s = utf8(x)?,
                    _ => {}
                }
            }
            Some(if kind == 1 { json!(s) } else { json!(i) })
        }
        (T::Raw, Wire::Len(b)) => {
            let mut raw: &[u8] = &[];
            for f in Reader::new(b) {
                if let (1, Wire::Len(x)) = f? {
                    raw = x;
                }
            }
            Some(
                serde_json::from_slice(raw).unwrap_or_else(|_| {
                    json!(base64::engine::general_purpose::STANDARD.encode(raw))
                }),
            )
        }
        (T::Duration, Wire::Len(b)) => {
            let mut ns = 0i64;
            for f in Reader::new(b) {
                if let (1, Wire::Varint(n)) = f? {
                    ns = n as i64;
                }
            }
            Some(json!(format!("{}s", ns as f64 / 1e9)))
        }
        (T::Map(_), _) => None,
        (ty, w) => {
            return Err(ProtoError::WireMismatch {
                ty: format!("{ty:?}"),
                wire: format!("{w:?}"),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field_len(num: u32, data: &[u8], out: &mut Vec<u8>) {
        varint(((num as u64) << 3) | 2, out);
        varint(data.len() as u64, out);
        out.extend_from_slice(data);
    }

    fn map_entry(num: u32, k: &str, v: &[u8], out: &mut Vec<u8>) {
        let mut e = vec![];
        field_len(1, k.as_bytes(), &mut e);
        field_len(2, v, &mut e);
        field_len(num, &e, out);
    }

    #[test]
    fn decodes_a_secret_as_kubectl_sends_it() {
        let mut meta = vec![];
        field_len(1, b"agent-secrets", &mut meta);
        field_len(2, b"", &mut meta);
        field_len(3, b"agents", &mut meta);
        let mut secret = vec![];
        field_len(1, &meta, &mut secret);
        map_entry(2, "queue-url", b"amqp://x", &mut secret);
        field_len(3, b"Opaque", &mut secret);
        let mut tm = vec![];
        field_len(1, b"v1", &mut tm);
        field_len(2, b"Secret", &mut tm);
        let mut unknown = vec![];
        field_len(1, &tm, &mut unknown);
        field_len(2, &secret, &mut unknown);
        let mut body = MAGIC.to_vec();
        body.extend(unknown);
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "Secret");
        assert_eq!(v["metadata"]["name"], "agent-secrets");
        assert!(
            v["metadata"].get("generateName").is_none(),
            "empty strings are omitted"
        );
        assert_eq!(v["data"]["queue-url"], "YW1xcDovL3g=");
        assert_eq!(v["type"], "Opaque");
        assert_eq!(decode(b"nope"), Err(ProtoError::NoEnvelope));
    }

    #[test]
    fn every_field_type_resolves() {
        for m in MESSAGES {
            for f in m.fields {
                let mut t = &f.ty;
                if let T::Map(inner) = t {
                    t = inner;
                }
                if let T::Msg(name) = t {
                    assert!(find(name).is_some(), "{}.{} -> {name}", m.name, f.name);
                }
            }
        }
        for (av, k) in [
            ("v1", "Secret"),
            ("batch/v1", "Job"),
            ("policy/v1", "Eviction"),
            ("apps/v1", "Deployment"),
            ("v1", "ConfigMap"),
            ("v1", "Namespace"),
        ] {
            assert!(message_name(av, k).is_some(), "{av} {k}");
        }
    }
}
