//! A model of how the reference's JavaScript turns *values* into packet bytes.
//!
//! The vectors describe packets as the JS values the reference was given
//! (strings, byte buffers, JSON objects). Our codec only takes bytes, so this
//! module does the JavaScript part — `Buffer.from` with the field's encoding
//! label, the UTF-16 `length` used as the length prefix (§2.4), `String(...)`
//! and `JSON.stringify` of messages, integer range checks and truncation —
//! and hands the resulting bytes to `streamrelay::wire` to frame, hash and
//! encode. Decoding goes the other way: `streamrelay::wire` decodes and this
//! module turns the fields into the JS values the reference would hold.

use streamrelay::wire::json::JsValue;
use streamrelay::wire::message::validate_control_message;
use streamrelay::wire::packet::{compute_packet_id, DEFAULT_FIELD, MESSAGE_BYTES, PACKET_BYTES};
use streamrelay::wire::{Field, PacketRef, PacketType};

use crate::jsv::{js_number_to_string, str16, stringify, utf16_to_utf8};
use crate::Outcome;

/// A JS value in a byte field of a packet.
#[derive(Clone, Debug, PartialEq)]
pub enum JsField {
    /// A `Buffer` / `Uint8Array`.
    Bytes(Vec<u8>),
    /// A JS string, as UTF-16 code units.
    Str(Vec<u16>),
    /// Any other JSON value (objects, numbers, arrays, null, booleans).
    Json(JsValue),
}

impl JsField {
    /// JavaScript truthiness.
    fn truthy(&self) -> bool {
        match self {
            JsField::Bytes(_) => true,
            JsField::Str(s) => !s.is_empty(),
            JsField::Json(v) => match v {
                JsValue::Null => false,
                JsValue::Bool(b) => *b,
                JsValue::Number(n) => *n != 0.0 && !n.is_nan(),
                JsValue::String(_) => str16(v).is_some_and(|s| !s.is_empty()),
                _ => true,
            },
        }
    }

    /// A JSON string value is a JS string; an array becomes a `Buffer`, as
    /// the `Packet` constructor does to every field (`Buffer.from(array)`:
    /// each element through ToNumber, kept modulo 256).
    fn normalize(self) -> JsField {
        match self {
            JsField::Json(v @ JsValue::String(_)) => JsField::Str(str16(&v).unwrap_or_default()),
            JsField::Json(JsValue::Array(a)) => JsField::Bytes(
                a.iter()
                    .map(|x| crate::jsv::js_to_uint8(crate::jsv::js_to_number(x)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The integer header fields: `(name, min, max, default)`.
const INTS: [(&str, f64, f64, f64); 5] = [
    ("version", 0.0, 65535.0, 6.0),
    ("clock", 0.0, 4294967295.0, 1.0),
    ("hops", 0.0, 4294967295.0, 0.0),
    ("index", -2147483648.0, 2147483647.0, -1.0),
    ("ttl", 0.0, 4294967295.0, 21_600_000.0),
];

/// A packet as the reference holds it in memory after its class constructor.
#[derive(Clone, Debug, PartialEq)]
pub struct JsPacket {
    /// Type (set by the class).
    pub packet_type: PacketType,
    /// `version, clock, hops, index, ttl` (JS numbers, defaults applied).
    pub ints: [f64; 5],
    /// The eleven variable fields in wire order.
    pub fields: [JsField; 11],
}

/// What `Packet.encode` gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoded {
    /// A frame.
    Frame(Vec<u8>),
    /// The reference's 2423 zero bytes for a falsy message (§10.3): we do not
    /// produce it (docs/compat.md#falsy-message).
    ZeroBuffer,
    /// The reference would write a field longer than its maximum, which our
    /// encoder refuses (docs/compat.md#oversize-field).
    Oversize {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
    },
}

/// Reads a value of a packet field: tagged (`{"hex"}`, `{"str"}`,
/// `{"json"}`, `{"undefined"}`) or bare (a bare string is a JS string, any
/// other bare JSON value stands for itself; see `crate::read::js`).
/// Returns `None` for undefined.
pub fn tagged(v: &JsValue) -> Result<Option<JsField>, String> {
    crate::read::js(v, "value")
        .map(|f| f.map(JsField::normalize))
        .map_err(|e| e.to_string())
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Strict hex decoding for vector data (either case; nothing but digits).
pub fn hex_decode_strict(s: &str) -> Result<Vec<u8>, String> {
    if let Some(i) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
        return Err(format!("bad hex at {i}"));
    }
    if s.len() % 2 != 0 {
        return Err(format!("odd-length hex ({} digits)", s.len()));
    }
    let d = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
    Ok(s.as_bytes()
        .chunks(2)
        .map(|p| d(p[0]) << 4 | d(p[1]))
        .collect())
}

/// `Buffer.from(str, 'hex')`: pairs of hex digits up to the first bad pair.
fn node_hex(s: &[u16]) -> Vec<u8> {
    let d = |u: u16| char::from_u32(u as u32).and_then(|c| c.to_digit(16));
    let mut out = Vec::new();
    for pair in s.chunks_exact(2) {
        match (d(pair[0]), d(pair[1])) {
            (Some(a), Some(b)) => out.push((a * 16 + b) as u8),
            _ => break,
        }
    }
    out
}

/// `Buffer.from(str, 'base64')`: Node's lenient decoder (both alphabets,
/// other characters skipped, stops at `=`).
fn node_base64(s: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &u in s {
        let v = match u {
            0x41..=0x5a => u - 0x41,
            0x61..=0x7a => u - 0x61 + 26,
            0x30..=0x39 => u - 0x30 + 52,
            0x2b | 0x2d => 62,
            0x2f | 0x5f => 63,
            0x3d => break,
            _ => continue,
        } as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Label {
    Utf8,
    Hex,
    Base64,
}

fn label(i: usize) -> Label {
    match i {
        0 | 1 => Label::Base64,
        2..=4 => Label::Hex,
        _ => Label::Utf8,
    }
}

/// `Buffer.from(value)` (no label): bytes of a buffer, UTF-8 of a string,
/// bytes of an array of numbers; anything else throws.
fn buffer_from(v: &JsField) -> Result<(Vec<u8>, usize), String> {
    match v {
        JsField::Bytes(b) => Ok((b.clone(), b.len())),
        JsField::Str(s) => Ok((utf16_to_utf8(s), s.len())),
        JsField::Json(JsValue::Array(a)) => {
            let bytes: Vec<u8> = a
                .iter()
                .map(|x| match x {
                    JsValue::Number(n) => crate::jsv::js_to_uint8(*n),
                    _ => 0,
                })
                .collect();
            let n = bytes.len();
            Ok((bytes, n))
        }
        JsField::Json(other) => Err(format!(
            "Buffer.from() cannot take {}",
            crate::jsv::type_name(other)
        )),
    }
}

fn class_type(t: &JsValue) -> Result<PacketType, String> {
    match t {
        JsValue::Number(n) if n.fract() == 0.0 && (1.0..=8.0).contains(n) => {
            Ok(PacketType::from_u8(*n as u8).expect("1..=8"))
        }
        other => Err(format!("no packet class for type {}", stringify(other))),
    }
}

/// The eleven variable packet fields, in wire order.
pub const NAMES: [&str; 11] = [
    "clusterId",
    "subclusterId",
    "previousId",
    "packetId",
    "nextId",
    "usr1",
    "usr2",
    "usr3",
    "usr4",
    "message",
    "sig",
];

/// `new PacketXxx(fields)`: defaults, and for types 1-4 the message
/// validation (run by our validator on the JSON text of the value).
pub fn construct(fields: &JsValue) -> Result<JsPacket, String> {
    use crate::jsv::get;
    let t = class_type(get(fields, "type").ok_or("fields have no type")?)?;
    let mut ints = [0.0; 5];
    for (slot, (name, _, _, default)) in ints.iter_mut().zip(INTS) {
        *slot = match get(fields, name) {
            None => default,
            Some(v) => match tagged(v)? {
                None => default,
                Some(JsField::Json(JsValue::Number(n))) => n,
                Some(_) => return Err(format!("{name} is not a number")),
            },
        };
    }
    let mut out: Vec<JsField> = Vec::with_capacity(11);
    let mut given_message = None;
    for name in NAMES {
        let v = match get(fields, name) {
            None => None,
            Some(v) => tagged(v)?,
        };
        if name == "message" {
            given_message = v.clone();
        }
        out.push(match (name, v) {
            (_, Some(v)) => v,
            ("message", None) if t == PacketType::Query => {
                JsField::Json(JsValue::Object(Default::default()))
            }
            (_, None) => JsField::Bytes(DEFAULT_FIELD.to_vec()),
        });
    }
    if t.is_control() {
        match &given_message {
            Some(JsField::Json(v @ JsValue::Object(_))) => {
                let text = stringify(v);
                validate_control_message(t, text.as_bytes()).map_err(|e| e.to_string())?;
            }
            _ => return Err("expected object".into()),
        }
    }
    Ok(JsPacket {
        packet_type: t,
        ints,
        fields: out.try_into().map_err(|_| "eleven fields")?,
    })
}

/// `Packet.decode(buf)` seen as JS values: our decoder, then the message as
/// the reference holds it (parsed JSON where it parses JSON).
pub fn decode(buf: &[u8]) -> Result<JsPacket, String> {
    let p = PacketRef::decode(buf).map_err(|e| e.to_string())?;
    Ok(from_ref(&p))
}

/// The JS view of a decoded packet.
pub fn from_ref(p: &PacketRef<'_>) -> JsPacket {
    let mut fields: Vec<JsField> = p
        .fields()
        .iter()
        .map(|f| JsField::Bytes(f.to_vec()))
        .collect();
    if p.message_is_json() {
        if let Ok(v) = streamrelay::wire::json::parse(p.message) {
            fields[9] = JsField::Json(v).normalize();
        }
    }
    JsPacket {
        packet_type: p.packet_type,
        ints: [
            p.version as f64,
            p.clock as f64,
            p.hops as f64,
            p.index as f64,
            p.ttl as f64,
        ],
        fields: fields.try_into().expect("eleven fields"),
    }
}

/// `Packet.encode(p)`, with the JavaScript value conversions modelled here
/// and the framing, hashing and writing done by `streamrelay::wire`.
pub fn encode(p: &JsPacket) -> Result<Encoded, String> {
    if !p.fields[9].truthy() {
        return Ok(Encoded::ZeroBuffer);
    }
    let index = p.ints[3];
    // Message conversion (§2.4).
    let message = match (&p.fields[9], index <= 0.0) {
        (JsField::Json(v @ (JsValue::Object(_) | JsValue::Array(_))), true) => {
            JsField::Str(stringify(v).encode_utf16().collect())
        }
        (JsField::Json(JsValue::Number(n)), true) => {
            JsField::Str(js_number_to_string(*n).encode_utf16().collect())
        }
        (JsField::Json(JsValue::Bool(b)), true) => {
            JsField::Str(b.to_string().encode_utf16().collect())
        }
        (m, _) => m.clone(),
    };
    let js_len = match &message {
        JsField::Bytes(b) => b.len(),
        JsField::Str(s) => s.len(),
        JsField::Json(JsValue::Array(a)) => a.len(),
        JsField::Json(_) => 0,
    };
    if js_len > MESSAGE_BYTES {
        return Err("ETOOBIG".into());
    }
    let mut fields = p.fields.clone();
    fields[9] = message;

    // packetId by rule (a) when it is the single byte 0 (a Buffer or array).
    let id_default = match &fields[3] {
        JsField::Bytes(b) => b.as_slice() == DEFAULT_FIELD,
        JsField::Json(JsValue::Array(a)) => a.len() == 1 && a[0] == JsValue::Number(0.0),
        _ => false,
    };
    let computed = if id_default {
        let prev = buffer_from(&fields[2])?.0;
        let msg = buffer_from(&fields[9])?.0;
        let next = buffer_from(&fields[4])?.0;
        Some(compute_packet_id(&prev, &msg, &next))
    } else {
        None
    };

    let mut ints = [0u32; 5];
    for (i, (name, min, max, _)) in INTS.iter().enumerate() {
        let v = p.ints[i];
        if !(v >= *min && v <= *max) {
            return Err(format!("The value of \"{name}\" is out of range: {v}"));
        }
        ints[i] = if *min < 0.0 {
            (v.trunc() as i32) as u32
        } else {
            v.trunc() as u32
        };
    }

    let mut bytes: Vec<Vec<u8>> = Vec::with_capacity(11);
    for (i, f) in fields.iter().enumerate() {
        let field = Field::VARIABLE[i];
        let f = if f.truthy() {
            f.clone()
        } else {
            JsField::Bytes(DEFAULT_FIELD.to_vec())
        };
        let (encoded, js_len) = match &f {
            JsField::Str(s) => {
                let enc = match label(i) {
                    Label::Utf8 => utf16_to_utf8(s),
                    Label::Hex => node_hex(s),
                    Label::Base64 => node_base64(s),
                };
                (enc, s.len())
            }
            other => buffer_from(other)?,
        };
        if js_len > 0 && encoded.len() > field.max_len() {
            return Err(format!(
                "{} is invalid, {} is greater than {}",
                field.name(),
                js_len,
                field.max_len()
            ));
        }
        let mut b = encoded;
        b.resize(js_len, 0);
        if b.len() > field.max_len() {
            return Ok(Encoded::Oversize {
                field,
                len: b.len(),
            });
        }
        bytes.push(b);
    }
    if let Some(id) = computed {
        bytes[3] = id.to_vec();
    }
    let r = PacketRef {
        packet_type: p.packet_type,
        version: ints[0] as u16,
        clock: ints[1],
        hops: ints[2],
        index: ints[3] as i32,
        ttl: ints[4],
        cluster_id: &bytes[0],
        subcluster_id: &bytes[1],
        previous_id: &bytes[2],
        packet_id: &bytes[3],
        next_id: &bytes[4],
        usr1: &bytes[5],
        usr2: &bytes[6],
        usr3: &bytes[7],
        usr4: &bytes[8],
        message: &bytes[9],
        sig: &bytes[10],
    };
    r.encode().map(Encoded::Frame).map_err(|e| e.to_string())
}

/// Size of the reference's zero buffer, for reports.
pub const ZERO_BUFFER_LEN: usize = PACKET_BYTES;

/// The decoded form of the vectors (`{type, version, …, message, sig}`),
/// compared key by key with an expected one. Numbers may be bare or
/// `{"json"}`; byte fields bare hex or `{"hex"}`; a message held as JSON is
/// `{"json": v}`. An unreadable value is a format error at `path`.
pub fn compare_decoded(ours: &JsPacket, expected: &JsValue, path: &str) -> Result<(), Outcome> {
    use crate::read;
    let fail = |s: String| Outcome::Fail(s);
    let int_names = ["type", "version", "clock", "hops", "index", "ttl"];
    for (i, name) in int_names.iter().enumerate() {
        let Some(want) = read::opt(expected, name, path, read::number)? else {
            continue;
        };
        let have = if i == 0 {
            ours.packet_type as u8 as f64
        } else {
            ours.ints[i - 1]
        };
        if want != have {
            return Err(fail(format!("{name}: ours {have} expected {want}")));
        }
    }
    for (i, name) in NAMES.iter().enumerate() {
        let Some(v) = expected.get(name) else {
            continue;
        };
        let at = format!("{path}.{name}");
        let exp = match v {
            JsValue::String(_) => JsField::Bytes(read::bytes(v, &at)?),
            _ => read::js(v, &at)?
                .ok_or_else(|| read::bad(&at, "undefined in a decoded packet"))?
                .normalize(),
        };
        if !same_field(&ours.fields[i], &exp) {
            return Err(fail(format!(
                "{name}: ours {} expected {}",
                describe(&ours.fields[i]),
                stringify(v)
            )));
        }
    }
    Ok(())
}

fn same_field(a: &JsField, b: &JsField) -> bool {
    match (a, b) {
        (JsField::Json(x), JsField::Json(y)) => stringify(x) == stringify(y),
        (JsField::Str(x), JsField::Str(y)) => x == y,
        (JsField::Bytes(x), JsField::Bytes(y)) => x == y,
        _ => false,
    }
}

/// Short text of a field for reports.
pub fn describe(f: &JsField) -> String {
    match f {
        JsField::Bytes(b) => hex(b),
        JsField::Str(s) => format!("{:?}", String::from_utf16_lossy(s)),
        JsField::Json(v) => format!("json {}", stringify(v)),
    }
}
