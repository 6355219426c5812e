//! The v6 frame: magic, six integers, eleven `u16be`-length-prefixed fields.
//!
//! [`PacketRef`] is the zero-copy view a receiver gets from [`PacketRef::decode`]
//! (no heap allocation, control messages validated); [`Packet`] is the owned
//! form a sender builds. Both encode through the same writer, so the bytes are
//! the same whichever side produced them.
//!
//! ```
//! use streamrelay::wire::{Packet, PacketRef, PacketType};
//!
//! let mut p = Packet::new(PacketType::Publish);
//! p.message = b"hello".to_vec();
//! let bytes = p.encode().unwrap();
//! assert_eq!(bytes.len(), 87 - 1 + 5); // defaults + a 32-byte computed packetId
//! let view = PacketRef::decode(&bytes).unwrap();
//! assert_eq!(view.packet_type, PacketType::Publish);
//! assert_eq!(view.message, b"hello");
//! ```

use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

use super::message::{validate_control_message, MessageError};

/// The four bytes every frame starts with (the primes 3, 5, 11, 17).
pub const MAGIC: [u8; 4] = [0x03, 0x05, 0x0b, 0x11];
/// Wire version written by default and the only one the receive path accepts.
pub const VERSION: u16 = 6;
/// Largest `message` field.
pub const MESSAGE_BYTES: usize = 1024;
/// The reference's `PACKET_BYTES` constant (2423). It is **not** a frame size
/// (it counts the message twice and no length prefixes); the reference uses it
/// for cache accounting only. See [`MAX_FRAME_BYTES`] for the real maximum.
pub const PACKET_BYTES: usize = 2423;
/// Magic plus the six integer fields.
pub const HEADER_BYTES: usize = 23;
/// Smallest frame that decodes: every variable field empty.
pub const MIN_FRAME_BYTES: usize = HEADER_BYTES + 11 * 2;
/// Largest frame: every variable field at its maximum (1421 bytes).
pub const MAX_FRAME_BYTES: usize = HEADER_BYTES + 11 * 2 + 9 * 32 + MESSAGE_BYTES + 64;
/// Default cache lifetime in milliseconds (6 hours), the `ttl` default.
pub const DEFAULT_TTL: u32 = 21_600_000;
/// Relays stop forwarding at this many hops.
pub const MAX_HOPS: u32 = 16;
/// The reference writes a clock of exactly this value as 0 (and no other).
pub const CLOCK_WRAP: u32 = 2_000_000_000;
/// Default of every variable field: the single byte `00`, not an empty field.
pub const DEFAULT_FIELD: &[u8] = &[0];

/// The eight packet types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PacketType {
    /// Keepalive, reflection request, hole-punch (JSON, validated).
    Ping = 1,
    /// Answer to a Ping (JSON, validated).
    Pong = 2,
    /// "Here is a peer, connect to it" (JSON, validated).
    Intro = 3,
    /// "I am in this (cluster, subcluster)" (JSON, weakly validated).
    Join = 4,
    /// Application data, cached and relayed.
    Publish = 5,
    /// Point-to-point application data.
    Stream = 6,
    /// Cache summary for reconciliation.
    Sync = 7,
    /// Flooding lookup (JSON question, raw or JSON answers).
    Query = 8,
}

impl PacketType {
    /// All types in wire order.
    pub const ALL: [PacketType; 8] = [
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Intro,
        PacketType::Join,
        PacketType::Publish,
        PacketType::Stream,
        PacketType::Sync,
        PacketType::Query,
    ];

    /// The type for a wire byte, if it names one.
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => PacketType::Ping,
            2 => PacketType::Pong,
            3 => PacketType::Intro,
            4 => PacketType::Join,
            5 => PacketType::Publish,
            6 => PacketType::Stream,
            7 => PacketType::Sync,
            8 => PacketType::Query,
            _ => return None,
        })
    }

    /// The type of an encoded datagram, read from its header without
    /// decoding the rest: `None` unless it starts with [`MAGIC`] and its
    /// type byte names a type (the one-byte hard-NAT spray, say).
    ///
    /// ```
    /// use streamrelay::wire::packet::{PacketType, MAGIC};
    /// assert_eq!(PacketType::peek(&[MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], 5]), Some(PacketType::Publish));
    /// assert_eq!(PacketType::peek(&[1]), None);
    /// ```
    pub fn peek(datagram: &[u8]) -> Option<Self> {
        match datagram {
            [a, b, c, d, t, ..] if [*a, *b, *c, *d] == MAGIC => Self::from_u8(*t),
            _ => None,
        }
    }

    /// Lower-case name, as used in logs and the CLI's JSON.
    pub const fn name(self) -> &'static str {
        match self {
            PacketType::Ping => "ping",
            PacketType::Pong => "pong",
            PacketType::Intro => "intro",
            PacketType::Join => "join",
            PacketType::Publish => "publish",
            PacketType::Stream => "stream",
            PacketType::Sync => "sync",
            PacketType::Query => "query",
        }
    }

    /// Whether the receiver parses the message as JSON: Ping, Pong, Intro,
    /// Join and Query always; any type when `index == 0` (a chain head).
    pub const fn message_is_json(self, index: i32) -> bool {
        matches!(
            self,
            PacketType::Ping
                | PacketType::Pong
                | PacketType::Intro
                | PacketType::Join
                | PacketType::Query
        ) || index == 0
    }

    /// Whether the message is a control message validated on decode (types 1-4).
    pub const fn is_control(self) -> bool {
        (self as u8) <= 4
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every field of the frame, in wire order; errors name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The 4-byte prefix.
    Magic,
    /// `u8`.
    Type,
    /// `u16be`.
    Version,
    /// `u32be`.
    Clock,
    /// `u32be`.
    Hops,
    /// `i32be`.
    Index,
    /// `u32be`, milliseconds.
    Ttl,
    /// ≤ 32 bytes.
    ClusterId,
    /// ≤ 32 bytes.
    SubclusterId,
    /// ≤ 32 bytes.
    PreviousId,
    /// ≤ 32 bytes.
    PacketId,
    /// ≤ 32 bytes.
    NextId,
    /// ≤ 32 bytes.
    Usr1,
    /// ≤ 32 bytes.
    Usr2,
    /// ≤ 32 bytes.
    Usr3,
    /// ≤ 32 bytes.
    Usr4,
    /// ≤ 1024 bytes.
    Message,
    /// ≤ 64 bytes.
    Sig,
}

impl Field {
    /// The eleven variable-length fields in wire order.
    pub const VARIABLE: [Field; 11] = [
        Field::ClusterId,
        Field::SubclusterId,
        Field::PreviousId,
        Field::PacketId,
        Field::NextId,
        Field::Usr1,
        Field::Usr2,
        Field::Usr3,
        Field::Usr4,
        Field::Message,
        Field::Sig,
    ];

    /// The reference's (camelCase) name of the field.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Magic => "magic",
            Field::Type => "type",
            Field::Version => "version",
            Field::Clock => "clock",
            Field::Hops => "hops",
            Field::Index => "index",
            Field::Ttl => "ttl",
            Field::ClusterId => "clusterId",
            Field::SubclusterId => "subclusterId",
            Field::PreviousId => "previousId",
            Field::PacketId => "packetId",
            Field::NextId => "nextId",
            Field::Usr1 => "usr1",
            Field::Usr2 => "usr2",
            Field::Usr3 => "usr3",
            Field::Usr4 => "usr4",
            Field::Message => "message",
            Field::Sig => "sig",
        }
    }

    /// Maximum payload of a variable field (0 for fixed ones).
    pub const fn max_len(self) -> usize {
        match self {
            Field::Message => MESSAGE_BYTES,
            Field::Sig => 64,
            Field::ClusterId
            | Field::SubclusterId
            | Field::PreviousId
            | Field::PacketId
            | Field::NextId
            | Field::Usr1
            | Field::Usr2
            | Field::Usr3
            | Field::Usr4 => 32,
            _ => 0,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a datagram is not a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than 4 bytes, or the first four are not `03 05 0b 11`.
    #[error("bad magic: not a stream relay packet")]
    BadMagic,
    /// The datagram ends inside a fixed field or a length prefix.
    #[error("truncated at {field}: needs {needed} bytes at offset {offset}, datagram has {len}")]
    Truncated {
        /// The field that could not be read.
        field: Field,
        /// Where it starts.
        offset: usize,
        /// Bytes it needs (the prefix or the integer).
        needed: usize,
        /// Total datagram length.
        len: usize,
    },
    /// A length prefix larger than the field's maximum.
    #[error("field {field} is {len} bytes, longer than its maximum {max}")]
    FieldTooLong {
        /// The field.
        field: Field,
        /// The length the prefix claims.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// A type byte outside 1..=8.
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    /// A control message (types 1-4) that fails the reference's validation.
    #[error("invalid {packet_type} message: {error}")]
    InvalidMessage {
        /// Type of the packet.
        packet_type: PacketType,
        /// What is wrong.
        error: MessageError,
    },
}

/// Why a packet cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A field longer than its maximum (the message: the reference's `ETOOBIG`).
    #[error("field {field} is {len} bytes, longer than its maximum {max}")]
    FieldTooLong {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
        /// Its maximum.
        max: usize,
    },
    /// The output buffer is smaller than [`PacketRef::encoded_len`].
    #[error("output buffer of {have} bytes, the frame needs {need}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        have: usize,
    },
}

/// A decoded frame borrowing the datagram: no allocation.
///
/// Byte fields are exactly what was on the wire (a field left at its default
/// is the single byte `00`). `sig` may be shorter than its prefix says when
/// the datagram was cut inside it, as the reference accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRef<'a> {
    /// Type byte.
    pub packet_type: PacketType,
    /// Not checked by the decoder; the receive path drops non-6.
    pub version: u16,
    /// Lamport-like counter (§7.11).
    pub clock: u32,
    /// Times multicast so far.
    pub hops: u32,
    /// -1 alone, 0 chain head, ≥ 1 fragment.
    pub index: i32,
    /// Cache lifetime in ms.
    pub ttl: u32,
    /// Application network id.
    pub cluster_id: &'a [u8],
    /// Subcluster public key.
    pub subcluster_id: &'a [u8],
    /// Parent or chain-head id.
    pub previous_id: &'a [u8],
    /// Packet id (never checked against content).
    pub packet_id: &'a [u8],
    /// Next id in a chain.
    pub next_id: &'a [u8],
    /// User field 1.
    pub usr1: &'a [u8],
    /// User field 2.
    pub usr2: &'a [u8],
    /// User field 3.
    pub usr3: &'a [u8],
    /// User field 4.
    pub usr4: &'a [u8],
    /// Message body (raw bytes; JSON text for control messages).
    pub message: &'a [u8],
    /// Signature field.
    pub sig: &'a [u8],
}

/// Cursor over a datagram that names the field it fails on.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: Field, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..self.pos + n) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(DecodeError::Truncated {
                field,
                offset: self.pos,
                needed: n,
                len: self.buf.len(),
            }),
        }
    }

    fn u16(&mut self, field: Field) -> Result<u16, DecodeError> {
        let b = self.take(field, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: Field) -> Result<u32, DecodeError> {
        let b = self.take(field, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `u16be`-prefixed field. Like the reference, `sig` (the last field)
    /// cut short by the end of the datagram yields the bytes that are there;
    /// any earlier field cut short is an error (the reference fails on the
    /// next length read).
    fn var(&mut self, field: Field) -> Result<&'a [u8], DecodeError> {
        let len = self.u16(field)? as usize;
        let max = field.max_len();
        if len > max {
            return Err(DecodeError::FieldTooLong { field, len, max });
        }
        let start = self.pos;
        let end = start + len;
        if end > self.buf.len() {
            if field != Field::Sig {
                // Any field but the last fails at the next read; say which
                // field the datagram ends in.
                return Err(DecodeError::Truncated {
                    field,
                    offset: start,
                    needed: len,
                    len: self.buf.len(),
                });
            }
            self.pos = end;
            return Ok(&self.buf[start.min(self.buf.len())..]);
        }
        self.pos = end;
        Ok(&self.buf[start..end])
    }
}

impl<'a> PacketRef<'a> {
    /// Parses and validates a datagram without allocating, with the
    /// reference's acceptance rules (§2.6): magic, every field readable, no
    /// prefix over its maximum, a known type, and for types 1-4 a JSON object
    /// message that passes the reference's validation (§3.0). Bytes after
    /// `sig` are ignored.
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let p = Self::decode_frame(buf)?;
        if p.packet_type.is_control() {
            validate_control_message(p.packet_type, p.message).map_err(|error| {
                DecodeError::InvalidMessage {
                    packet_type: p.packet_type,
                    error,
                }
            })?;
        }
        Ok(p)
    }

    /// Parses the frame only, without validating control messages.
    pub fn decode_frame(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < 4 || buf[..4] != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let mut r = Reader { buf, pos: 4 };
        let type_byte = r.take(Field::Type, 1)?[0];
        let version = r.u16(Field::Version)?;
        let clock = r.u32(Field::Clock)?;
        let hops = r.u32(Field::Hops)?;
        let index = r.u32(Field::Index)? as i32;
        let ttl = r.u32(Field::Ttl)?;
        let cluster_id = r.var(Field::ClusterId)?;
        let subcluster_id = r.var(Field::SubclusterId)?;
        let previous_id = r.var(Field::PreviousId)?;
        let packet_id = r.var(Field::PacketId)?;
        let next_id = r.var(Field::NextId)?;
        let usr1 = r.var(Field::Usr1)?;
        let usr2 = r.var(Field::Usr2)?;
        let usr3 = r.var(Field::Usr3)?;
        let usr4 = r.var(Field::Usr4)?;
        let message = r.var(Field::Message)?;
        let sig = r.var(Field::Sig)?;
        // The reference reads every field before looking at the type.
        let packet_type =
            PacketType::from_u8(type_byte).ok_or(DecodeError::UnknownType(type_byte))?;
        Ok(PacketRef {
            packet_type,
            version,
            clock,
            hops,
            index,
            ttl,
            cluster_id,
            subcluster_id,
            previous_id,
            packet_id,
            next_id,
            usr1,
            usr2,
            usr3,
            usr4,
            message,
            sig,
        })
    }

    /// The variable fields in wire order.
    pub fn fields(&self) -> [&'a [u8]; 11] {
        [
            self.cluster_id,
            self.subcluster_id,
            self.previous_id,
            self.packet_id,
            self.next_id,
            self.usr1,
            self.usr2,
            self.usr3,
            self.usr4,
            self.message,
            self.sig,
        ]
    }

    /// Whether the receiver treats the message as JSON (§2.6 step 4).
    pub fn message_is_json(&self) -> bool {
        self.packet_type.message_is_json(self.index)
    }

    /// Whether the packetId field is the default `00`, which makes the encoder
    /// compute it (rule (a) of §2.5).
    pub fn packet_id_is_default(&self) -> bool {
        self.packet_id == DEFAULT_FIELD
    }

    /// Rule (a): `SHA-256(previousId ‖ message ‖ nextId)`.
    pub fn computed_packet_id(&self) -> [u8; 32] {
        compute_packet_id(self.previous_id, self.message, self.next_id)
    }

    /// The packetId this frame carries once encoded: the field itself, or the
    /// computed one when the field is the default `00`.
    pub fn effective_packet_id(&self) -> PacketId {
        if self.packet_id_is_default() {
            id_from(&self.computed_packet_id())
        } else {
            id_from(self.packet_id)
        }
    }

    /// Exact size of the encoded frame.
    pub fn encoded_len(&self) -> usize {
        let mut n = HEADER_BYTES;
        for (field, v) in Field::VARIABLE.iter().zip(self.fields()) {
            n += 2 + if *field == Field::PacketId && v == DEFAULT_FIELD {
                32
            } else {
                v.len()
            };
        }
        n
    }

    /// Encodes into `out` without allocating; returns the frame length.
    ///
    /// A packetId of `00` is replaced by rule (a); a clock of exactly
    /// 2 000 000 000 is written as 0 (the reference's wrap, §2.3).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        for (field, v) in Field::VARIABLE.iter().zip(self.fields()) {
            if v.len() > field.max_len() {
                return Err(EncodeError::FieldTooLong {
                    field: *field,
                    len: v.len(),
                    max: field.max_len(),
                });
            }
        }
        let need = self.encoded_len();
        if out.len() < need {
            return Err(EncodeError::BufferTooSmall {
                need,
                have: out.len(),
            });
        }
        let computed;
        let packet_id = if self.packet_id_is_default() {
            computed = self.computed_packet_id();
            &computed[..]
        } else {
            self.packet_id
        };
        let clock = if self.clock == CLOCK_WRAP {
            0
        } else {
            self.clock
        };
        let mut w = Writer { out, pos: 0 };
        w.put(&MAGIC);
        w.put(&[self.packet_type as u8]);
        w.put(&self.version.to_be_bytes());
        w.put(&clock.to_be_bytes());
        w.put(&self.hops.to_be_bytes());
        w.put(&self.index.to_be_bytes());
        w.put(&self.ttl.to_be_bytes());
        let mut fields = self.fields();
        fields[3] = packet_id;
        for v in fields {
            // Lengths were checked against the maxima above (all ≤ 1024).
            w.put(&(v.len() as u16).to_be_bytes());
            w.put(v);
        }
        debug_assert_eq!(w.pos, need);
        Ok(w.pos)
    }

    /// Encodes into a new `Vec`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut v = alloc::vec![0; self.encoded_len()];
        let n = self.encode_into(&mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// An owned copy (fields that do not fit their maximum cannot occur here:
    /// a decoded frame has already been checked).
    pub fn to_packet(&self) -> Packet {
        let id = id_from;
        Packet {
            packet_type: self.packet_type,
            version: self.version,
            clock: self.clock,
            hops: self.hops,
            index: self.index,
            ttl: self.ttl,
            cluster_id: id(self.cluster_id),
            subcluster_id: id(self.subcluster_id),
            previous_id: id(self.previous_id),
            packet_id: id(self.packet_id),
            next_id: id(self.next_id),
            usr1: id(self.usr1),
            usr2: id(self.usr2),
            usr3: id(self.usr3),
            usr4: id(self.usr4),
            message: self.message.to_vec(),
            sig: SigField::from_slice(&self.sig[..self.sig.len().min(64)]).unwrap_or_default(),
        }
    }
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) {
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
}

/// Rule (a) of §2.5: `SHA-256(previousId ‖ message ‖ nextId)`.
pub fn compute_packet_id(previous_id: &[u8], message: &[u8], next_id: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(previous_id);
    h.update(message);
    h.update(next_id);
    h.finalize().into()
}

/// A packetId as carried on the wire: normally 32 bytes, but any length up to
/// 32 can arrive (ids are never checked).
pub type PacketId = heapless::Vec<u8, 32>;

/// A ≤ 32-byte id from a slice (longer input is cut to 32 bytes; decoded
/// and built packets never carry more).
fn id_from(s: &[u8]) -> IdField {
    IdField::from_slice(&s[..s.len().min(32)]).unwrap_or_default()
}

/// A ≤ 32-byte field of an owned packet.
pub type IdField = heapless::Vec<u8, 32>;
/// The ≤ 64-byte `sig` field of an owned packet.
pub type SigField = heapless::Vec<u8, 64>;

/// An owned packet for building and sending.
///
/// `Packet::new` fills every field with the reference's default; set what you
/// need, then [`Packet::encode`]. Id fields are fixed-capacity, so an
/// over-long id is refused when it is set ([`Packet::set`]), not at encode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Type byte.
    pub packet_type: PacketType,
    /// Default 6.
    pub version: u16,
    /// Default 1.
    pub clock: u32,
    /// Default 0.
    pub hops: u32,
    /// Default -1.
    pub index: i32,
    /// Default 6 h.
    pub ttl: u32,
    /// Default `00`.
    pub cluster_id: IdField,
    /// Default `00`.
    pub subcluster_id: IdField,
    /// Default `00`.
    pub previous_id: IdField,
    /// Default `00`: computed at encode (rule (a)).
    pub packet_id: IdField,
    /// Default `00`.
    pub next_id: IdField,
    /// Default `00`.
    pub usr1: IdField,
    /// Default `00`.
    pub usr2: IdField,
    /// Default `00`.
    pub usr3: IdField,
    /// Default `00`.
    pub usr4: IdField,
    /// Default `00` (Query: `{}`); at most 1024 bytes to encode.
    pub message: Vec<u8>,
    /// Default `00`.
    pub sig: SigField,
}

fn default_field() -> IdField {
    let mut v = IdField::new();
    let _ = v.push(0);
    v
}

impl Packet {
    /// A packet of type `t` with the reference's defaults (its packet class
    /// constructor with no arguments): message `00`, except Query `{}`.
    pub fn new(packet_type: PacketType) -> Self {
        let message = if packet_type == PacketType::Query {
            b"{}".to_vec()
        } else {
            alloc::vec![0]
        };
        let mut sig = SigField::new();
        let _ = sig.push(0);
        Packet {
            packet_type,
            version: VERSION,
            clock: 1,
            hops: 0,
            index: -1,
            ttl: DEFAULT_TTL,
            cluster_id: default_field(),
            subcluster_id: default_field(),
            previous_id: default_field(),
            packet_id: default_field(),
            next_id: default_field(),
            usr1: default_field(),
            usr2: default_field(),
            usr3: default_field(),
            usr4: default_field(),
            message,
            sig,
        }
    }

    /// Sets a variable field from bytes, refusing more than its maximum.
    pub fn set(&mut self, field: Field, value: &[u8]) -> Result<(), EncodeError> {
        let too_long = EncodeError::FieldTooLong {
            field,
            len: value.len(),
            max: field.max_len(),
        };
        if value.len() > field.max_len() {
            return Err(too_long);
        }
        let slot = match field {
            Field::ClusterId => &mut self.cluster_id,
            Field::SubclusterId => &mut self.subcluster_id,
            Field::PreviousId => &mut self.previous_id,
            Field::PacketId => &mut self.packet_id,
            Field::NextId => &mut self.next_id,
            Field::Usr1 => &mut self.usr1,
            Field::Usr2 => &mut self.usr2,
            Field::Usr3 => &mut self.usr3,
            Field::Usr4 => &mut self.usr4,
            Field::Message => {
                self.message = value.to_vec();
                return Ok(());
            }
            Field::Sig => {
                self.sig = SigField::from_slice(value).map_err(|_| too_long)?;
                return Ok(());
            }
            _ => return Err(too_long),
        };
        *slot = IdField::from_slice(value).map_err(|_| too_long)?;
        Ok(())
    }

    /// Borrowed view of this packet (for encoding and inspection).
    pub fn as_ref(&self) -> PacketRef<'_> {
        PacketRef {
            packet_type: self.packet_type,
            version: self.version,
            clock: self.clock,
            hops: self.hops,
            index: self.index,
            ttl: self.ttl,
            cluster_id: &self.cluster_id,
            subcluster_id: &self.subcluster_id,
            previous_id: &self.previous_id,
            packet_id: &self.packet_id,
            next_id: &self.next_id,
            usr1: &self.usr1,
            usr2: &self.usr2,
            usr3: &self.usr3,
            usr4: &self.usr4,
            message: &self.message,
            sig: &self.sig,
        }
    }

    /// Exact encoded size.
    pub fn encoded_len(&self) -> usize {
        self.as_ref().encoded_len()
    }

    /// Encodes into `out` without allocating; see [`PacketRef::encode_into`].
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.as_ref().encode_into(out)
    }

    /// Encodes into a new `Vec`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.as_ref().encode()
    }

    /// Replaces a default (`00`) packetId by the computed one (rule (a)), so
    /// the in-memory packet knows the id it goes out with. (The reference
    /// leaves its copy at `00`; see docs/compat.md.)
    pub fn finalize_packet_id(&mut self) {
        if self.packet_id.as_slice() == DEFAULT_FIELD {
            self.packet_id = id_from(&self.as_ref().computed_packet_id());
        }
    }

    /// The id this packet goes out with.
    pub fn effective_packet_id(&self) -> PacketId {
        self.as_ref().effective_packet_id()
    }
}
