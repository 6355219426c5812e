//! Events as `latica/api.js` packs them and `Peer.publish` sends them (spec
//! §4.7, §7.1, §7.2), and the receiving side: chain reassembly (§7.3) and
//! unpacking (open, verify) into a [`ReceivedEvent`].
//!
//! Sending: [`pack_event`] tags the event (`usr1` = SHA-256(name)), signs
//! the plaintext the reference's way (`sig` over `payload[64..]` with the
//! publisher's personal key, `usr2` = its public key), seals the payload with
//! the subcluster keys ([`ese::seal`]) and cuts the result into packets with
//! [`message_to_packets`] (a head and 1024-byte fragments when it is longer
//! than 1024 bytes).
//!
//! Receiving: [`Reassembler::push`] takes packets in any order and returns
//! the whole message once complete; [`unpack_event`] opens and verifies it.
//! [`Reassembler::receive`] does both.
//!
//! ```
//! use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! use streamrelay::crypto::event::*;
//! use streamrelay::crypto::identity::*;
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let keys = SubclusterKeys::from_shared_key(&create_shared_key("sub").unwrap());
//! let me = create_key_pair("my signing seed").unwrap();
//! let cluster = create_cluster_id("cluster").unwrap();
//! let payload = vec![7u8; 2000];
//! let packets = pack_event(&EventArgs::new(&cluster, "greeting", &payload), &keys, &me,
//!                          1_700_000_000_000, &mut rng).unwrap();
//! assert_eq!(packets.len(), 4); // head + 3 fragments (2160 sealed bytes)
//!
//! let mut r = Reassembler::new(ReassemblyLimits::default());
//! let mut got = None;
//! for p in packets.iter().rev() {
//!     if let Some(e) = r.receive(&p.as_ref(), 0, &keys).unwrap() { got = Some(e) }
//! }
//! let e = got.unwrap();
//! assert_eq!(e.payload, payload);
//! assert!(e.verified);
//! assert_eq!(e.event_hash[..], sha256(b"greeting"));
//! ```

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use rand_core::CryptoRngCore;

use super::ese::{self, OpenError};
use super::identity::{sha256, KeyPair, SubclusterKeys};
use super::sealed_box::BoxError;
use super::sign::{sign_from_byte_64, verify_from_byte_64, SignError};
use crate::wire::control::ChainHead;
use crate::wire::json::JsValue;
use crate::wire::packet::{
    EncodeError, Field, IdField, Packet, PacketRef, PacketType, DEFAULT_FIELD, DEFAULT_TTL,
    MESSAGE_BYTES,
};

/// The reference's `CACHE_TTL` (6 h): `api.js` caps an event's `ttl` to it.
pub const MAX_EVENT_TTL: u32 = DEFAULT_TTL;

/// Why packets could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// `api.js`: "event name too short".
    #[error("event name must not be empty")]
    EmptyEventName,
    /// The subcluster key cannot be sealed to (never for derived keys).
    #[error("cannot seal: {0}")]
    Seal(#[from] BoxError),
    /// A field value over its maximum (e.g. a `usr3` longer than 32 bytes).
    #[error(transparent)]
    Field(#[from] EncodeError),
    /// The chain head's JSON is over 1024 bytes (a large `meta`; the
    /// reference throws `ETOOBIG` when it encodes it).
    #[error("chain head JSON is {0} bytes, over 1024")]
    HeadTooBig(usize),
    /// More fragments than an `i32` index can number.
    #[error("message of {0} bytes needs too many fragments")]
    TooLarge(usize),
    /// The parent's (or a sibling's) clock is at `u32::MAX`.
    #[error("clock overflow")]
    ClockOverflow,
}

/// The packet a new chain is chained after (the reference's `args.packet`),
/// for the clock and `previousId` rules of spec §7.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainParent<'a> {
    /// The parent's packetId: the new head's `previousId`.
    pub packet_id: &'a [u8],
    /// The parent's clock.
    pub clock: u32,
    /// Highest clock among the cached packets whose `previousId` is the
    /// parent's packetId (its other children), if any.
    pub max_sibling_clock: Option<u32>,
}

/// Inputs of the reference's `_message2packets(T, message, args)`. Byte
/// fields default to the wire default `00`.
#[derive(Clone, Debug)]
pub struct ChainArgs<'a> {
    /// Publish, Stream, or Query (answers).
    pub packet_type: PacketType,
    /// `clusterId`.
    pub cluster_id: &'a [u8],
    /// `subclusterId`.
    pub subcluster_id: &'a [u8],
    /// Chain after this packet.
    pub parent: Option<ChainParent<'a>>,
    /// `nextId` of the last packet.
    pub next_id: Option<&'a [u8]>,
    /// The head's `meta` (default `{}`).
    pub meta: Option<&'a JsValue>,
    /// `ttl` of every packet.
    pub ttl: u32,
    /// Copied to every packet.
    pub usr1: &'a [u8],
    /// Copied to every packet.
    pub usr2: &'a [u8],
    /// Copied to every packet.
    pub usr3: &'a [u8],
    /// Copied to every packet.
    pub usr4: &'a [u8],
    /// Copied to every packet.
    pub sig: &'a [u8],
}

impl<'a> ChainArgs<'a> {
    /// Every field at its default.
    pub fn new(packet_type: PacketType) -> Self {
        ChainArgs {
            packet_type,
            cluster_id: DEFAULT_FIELD,
            subcluster_id: DEFAULT_FIELD,
            parent: None,
            next_id: None,
            meta: None,
            ttl: DEFAULT_TTL,
            usr1: DEFAULT_FIELD,
            usr2: DEFAULT_FIELD,
            usr3: DEFAULT_FIELD,
            usr4: DEFAULT_FIELD,
            sig: DEFAULT_FIELD,
        }
    }
}

/// The clock of a new chain (spec §7.2 step 1): no parent gives 1; a parent
/// with siblings goes up twice.
pub fn chain_clock(parent: Option<&ChainParent<'_>>) -> Result<u32, PackError> {
    let mut c = parent.map_or(0, |p| p.clock);
    if let Some(sib) = parent.and_then(|p| p.max_sibling_clock) {
        c = c.max(sib).checked_add(1).ok_or(PackError::ClockOverflow)?;
    }
    c.checked_add(1).ok_or(PackError::ClockOverflow)
}

/// The reference's `_message2packets`: one packet when `message` is at most
/// 1024 bytes, else a head (`{"meta":…,"ts":now,"size":L,"indexes":n}`,
/// index 0) and `n = ceil(L/1024)` fragments (index 1..n). packetIds and
/// nextIds are chained as spec §2.5 (b); every packet gets the same clock.
pub fn message_to_packets(
    message: &[u8],
    args: &ChainArgs<'_>,
    now_ms: u64,
) -> Result<Vec<Packet>, PackError> {
    let clock = chain_clock(args.parent.as_ref())?;
    let len = message.len();
    let head_json;
    let mut bodies: Vec<&[u8]> = Vec::new();
    if len > MESSAGE_BYTES {
        let indexes = len.div_ceil(MESSAGE_BYTES);
        if indexes > i32::MAX as usize {
            return Err(PackError::TooLarge(len));
        }
        let mut head = ChainHead::for_size(len, now_ms as f64);
        if let Some(meta) = args.meta {
            head.meta = meta.clone();
        }
        head_json = head.to_json();
        if head_json.len() > MESSAGE_BYTES {
            return Err(PackError::HeadTooBig(head_json.len()));
        }
        bodies.reserve(indexes + 1);
        bodies.push(head_json.as_bytes());
        bodies.extend(message.chunks(MESSAGE_BYTES));
    } else {
        bodies.push(message);
    }

    let chained = bodies.len() > 1;
    let mut packets = Vec::with_capacity(bodies.len());
    let mut prev_id = [0u8; 32];
    let mut head_id = [0u8; 32];
    for (i, body) in bodies.iter().enumerate() {
        let mut p = Packet::new(args.packet_type);
        p.clock = clock;
        p.ttl = args.ttl;
        if chained {
            p.index = i as i32;
        }
        p.set(Field::ClusterId, args.cluster_id)?;
        p.set(Field::SubclusterId, args.subcluster_id)?;
        p.set(Field::Usr1, args.usr1)?;
        p.set(Field::Usr2, args.usr2)?;
        p.set(Field::Usr3, args.usr3)?;
        p.set(Field::Usr4, args.usr4)?;
        p.set(Field::Sig, args.sig)?;
        p.message = body.to_vec();
        let id = if i == 0 {
            if let Some(parent) = &args.parent {
                p.set(Field::PreviousId, parent.packet_id)?;
            }
            head_id = sha256(body);
            head_id
        } else {
            p.set(Field::PreviousId, &head_id)?;
            fragment_id(&prev_id, body)
        };
        p.set(Field::PacketId, &id)?;
        if let Some(last) = packets.last_mut() {
            let last: &mut Packet = last;
            last.set(Field::NextId, &id)?;
        }
        prev_id = id;
        packets.push(p);
    }
    if let (Some(next), Some(last)) = (args.next_id, packets.last_mut()) {
        last.set(Field::NextId, next)?;
    }
    Ok(packets)
}

/// `id_k = SHA-256(SHA-256(id_(k-1)) ‖ SHA-256(fragment_k))`.
fn fragment_id(prev: &[u8], body: &[u8]) -> [u8; 32] {
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(&sha256(prev));
    b[32..].copy_from_slice(&sha256(body));
    sha256(&b)
}

/// What an application publishes: `emit(eventName, value, opts)`.
#[derive(Clone, Debug)]
pub struct EventArgs<'a> {
    /// Publish (`emit`) or Stream (`stream`; set `usr3`/`usr4` to the
    /// target's and our peerId bytes as `write()` does).
    pub packet_type: PacketType,
    /// The bus clusterId.
    pub cluster_id: &'a [u8],
    /// Hashed into `usr1`; must not be empty.
    pub event_name: &'a str,
    /// The plaintext (see [`event_payload`] for JSON values).
    pub payload: &'a [u8],
    /// `opts.ttl`, capped at 6 h; `None` leaves the default (6 h).
    pub ttl: Option<u32>,
    /// `opts.packet`.
    pub parent: Option<ChainParent<'a>>,
    /// `opts.nextId`.
    pub next_id: Option<&'a [u8]>,
    /// `opts.meta` (head of a chain).
    pub meta: Option<&'a JsValue>,
    /// `opts.usr3` (default `00`).
    pub usr3: &'a [u8],
    /// `opts.usr4` (default `00`).
    pub usr4: &'a [u8],
}

impl<'a> EventArgs<'a> {
    /// A Publish with every option at its default.
    pub fn new(cluster_id: &'a [u8], event_name: &'a str, payload: &'a [u8]) -> Self {
        EventArgs {
            packet_type: PacketType::Publish,
            cluster_id,
            event_name,
            payload,
            ttl: None,
            parent: None,
            next_id: None,
            meta: None,
            usr3: DEFAULT_FIELD,
            usr4: DEFAULT_FIELD,
        }
    }
}

/// The bytes `api.js` publishes for a JavaScript value: objects, arrays and
/// `null` as their `JSON.stringify` text, strings as UTF-8. `None` for
/// numbers and booleans (the reference throws).
pub fn event_payload(value: &JsValue) -> Option<Vec<u8>> {
    match value {
        JsValue::String(s) => Some(s.to_string_lossy().as_bytes().to_vec()),
        JsValue::Number(_) | JsValue::Bool(_) => None,
        v => Some(v.stringify().into_bytes()),
    }
}

/// `pack(eventName, value, opts)` then `publish(sharedKey, args)` (spec
/// §4.7, §7.1): `usr1` = SHA-256(event name), `usr2` = the publisher's public
/// key, `sig` = [`sign_from_byte_64`] of the plaintext with the publisher's
/// key, the payload sealed with [`ese::seal`] and split by
/// [`message_to_packets`]. Returns the packets to cache and multicast.
pub fn pack_event(
    args: &EventArgs<'_>,
    subcluster: &SubclusterKeys,
    signing_keys: &KeyPair,
    now_ms: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<Packet>, PackError> {
    if args.event_name.is_empty() {
        return Err(PackError::EmptyEventName);
    }
    let usr1 = sha256(args.event_name.as_bytes());
    let usr2 = signing_keys.public_key();
    let sig = sign_from_byte_64(args.payload, signing_keys);
    let sealed = ese::seal(args.payload, subcluster, rng)?;
    let scid = subcluster.subcluster_id();
    let chain = ChainArgs {
        packet_type: args.packet_type,
        cluster_id: args.cluster_id,
        subcluster_id: &scid,
        parent: args.parent,
        next_id: args.next_id,
        meta: args.meta,
        ttl: args.ttl.map_or(DEFAULT_TTL, |t| t.min(MAX_EVENT_TTL)),
        usr1: &usr1,
        usr2: &usr2,
        usr3: args.usr3,
        usr4: args.usr4,
        sig: &sig,
    };
    message_to_packets(&sealed, &chain, now_ms)
}

// ---------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------

/// Bounds of a [`Reassembler`]; at a bound it evicts the oldest pending
/// chain. `Default`: 64 chains, 1 MiB (the `reassembly` group of the
/// peer's limits table, `peer/config.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Pending (incomplete) chains held at once.
    pub max_chains: usize,
    /// Fragment bytes held across all pending chains; also the largest
    /// message a head may announce. (Each pending chain also holds its head,
    /// at most 1 KiB.)
    pub max_bytes: usize,
}

/// Counters of a [`Reassembler`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Chains completed.
    pub completed: u64,
    /// Pending chains evicted by the limits or by [`Reassembler::expire`].
    pub evicted: u64,
    /// Packets (or held fragments) refused.
    pub rejected: u64,
    /// Exact duplicates ignored.
    pub duplicates: u64,
}

/// Why a chain packet was refused. The reassembler keeps what it already
/// holds (except where said).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// An index below -1.
    #[error("invalid index {0}")]
    BadIndex(i32),
    /// The head's message is not `{"meta":…,"ts":…,"size":n,"indexes":k}`
    /// with integer `size` ≥ 1 and `indexes` = ceil(size / 1024).
    #[error("invalid chain head: {0}")]
    BadHead(&'static str),
    /// The head's packetId is not SHA-256 of its message, as every chain the
    /// reference builds has it (spec §2.5 (b)).
    #[error("chain head packetId is not SHA-256 of its message")]
    HeadIdMismatch,
    /// The head announces more than `max_bytes`.
    #[error("chain of {size} bytes is over the limit of {limit}")]
    TooLarge {
        /// Announced size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A fragment index beyond the head's `indexes` (or, before the head is
    /// known, beyond what `max_bytes` allows).
    #[error("fragment {index} is outside 1..={indexes}")]
    FragmentOutOfRange {
        /// The fragment's index.
        index: i32,
        /// The number of fragments allowed.
        indexes: usize,
    },
    /// A fragment whose length is not 1024 (the last: the rest of `size`).
    #[error("fragment {index} is {len} bytes, expected {expected}")]
    FragmentLength {
        /// The fragment's index.
        index: usize,
        /// Its length.
        len: usize,
        /// The length it must have.
        expected: usize,
    },
    /// A different packet for a fragment index already held (the first one
    /// is kept; if it later fails the id check it is dropped and the slot
    /// opens again).
    #[error("fragment {index} conflicts with the one already held")]
    ConflictingFragment {
        /// The fragment's index.
        index: usize,
    },
    /// With every fragment present, fragment `index`'s packetId is not
    /// SHA-256(SHA-256(previous packet's id) ‖ SHA-256(its message)) (spec
    /// §2.5 (b)): typically its content was changed under its id (the
    /// cache poisoning of spec §10.9). The failing fragments are dropped and
    /// the chain stays pending, so a good copy can still complete it. (The
    /// ids are not a signature: the sealed message's MAC and signature are
    /// what authenticate the content.)
    #[error("fragment {index} packetId does not follow the chain")]
    ChainIdMismatch {
        /// The first failing index.
        index: usize,
    },
    /// This chain alone is over `max_bytes`; it was dropped.
    #[error("pending chain over the byte limit; dropped")]
    LimitExceeded,
}

/// A whole message: a packet that stood alone, or a reassembled chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Assembled {
    /// For a chain: the head's fields with `message` = the reassembled
    /// bytes, `index` = -1 and `packetId` = SHA-256(previousId of the packet
    /// that completed the set ‖ bytes), as the reference's `compose`
    /// (docs/compat.md#reassembly). For a lone packet: the packet.
    pub packet: Packet,
    /// For a chain: the head's packetId (stable, unlike `packet.packet_id`).
    pub head_id: Option<IdField>,
    /// For a chain: the head (`meta`, `ts`, `size`, `indexes`).
    pub head: Option<ChainHead>,
}

struct HeadInfo {
    packet: Packet,
    info: ChainHead,
    size: usize,
    indexes: usize,
}

struct Fragment {
    packet_id: IdField,
    message: Vec<u8>,
}

struct Pending {
    head: Option<HeadInfo>,
    fragments: BTreeMap<usize, Fragment>,
    bytes: usize,
    seq: u64,
    created_ms: u64,
}

/// Reassembles chains from packets that arrive in any order, within
/// [`ReassemblyLimits`] (spec §7.3, with stricter checks than the reference:
/// docs/compat.md#reassembly).
///
/// A chain is keyed by its head's packetId (the fragments' `previousId`).
/// It is complete when the head and exactly the fragments 1..=`indexes` are
/// held, each of the right length, with packetIds that follow the head's.
/// Duplicate suppression of whole packets is the caller's (the gate); an
/// exact duplicate is ignored here too.
pub struct Reassembler {
    limits: ReassemblyLimits,
    pending: BTreeMap<IdField, Pending>,
    order: BTreeMap<u64, IdField>,
    /// Head ids of the last `max_chains` completed chains: late copies of
    /// their packets are duplicates, not new chains.
    completed: VecDeque<IdField>,
    bytes: usize,
    next_seq: u64,
    stats: ReassemblyStats,
}

impl core::fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reassembler")
            .field("limits", &self.limits)
            .field("pending_chains", &self.pending.len())
            .field("pending_bytes", &self.bytes)
            .field("stats", &self.stats)
            .finish()
    }
}

fn id_field(s: &[u8]) -> IdField {
    IdField::from_slice(&s[..s.len().min(32)]).unwrap_or_default()
}

fn expected_len(size: usize, indexes: usize, index: usize) -> usize {
    if index < indexes {
        MESSAGE_BYTES
    } else {
        size - MESSAGE_BYTES * (indexes - 1)
    }
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            pending: BTreeMap::new(),
            order: BTreeMap::new(),
            completed: VecDeque::new(),
            bytes: 0,
            next_seq: 0,
            stats: ReassemblyStats::default(),
        }
    }

    /// Chains waiting for packets.
    pub fn pending_chains(&self) -> usize {
        self.pending.len()
    }

    /// Fragment bytes held.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Counters.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Drops pending chains first seen more than `max_age_ms` before
    /// `now_ms`; returns how many.
    pub fn expire(&mut self, now_ms: u64, max_age_ms: u64) -> usize {
        let old: Vec<IdField> = self
            .pending
            .iter()
            .filter(|(_, p)| now_ms.saturating_sub(p.created_ms) > max_age_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &old {
            self.remove(k);
            self.stats.evicted += 1;
        }
        old.len()
    }

    fn remove(&mut self, key: &IdField) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.order.remove(&p.seq);
        self.bytes -= p.bytes;
        Some(p)
    }

    /// Evicts the oldest pending chain other than `keep`; false if none.
    fn evict_oldest(&mut self, keep: &IdField) -> bool {
        let victim = self.order.values().find(|k| *k != keep).cloned();
        match victim {
            Some(k) => {
                self.remove(&k);
                self.stats.evicted += 1;
                true
            }
            None => false,
        }
    }

    fn entry(&mut self, key: &IdField, now_ms: u64) -> &mut Pending {
        if !self.pending.contains_key(key) {
            while self.pending.len() >= self.limits.max_chains.max(1) {
                if !self.evict_oldest(key) {
                    break;
                }
            }
        }
        let (order, next_seq) = (&mut self.order, &mut self.next_seq);
        self.pending.entry(key.clone()).or_insert_with(|| {
            let seq = *next_seq;
            *next_seq += 1;
            order.insert(seq, key.clone());
            Pending {
                head: None,
                fragments: BTreeMap::new(),
                bytes: 0,
                seq,
                created_ms: now_ms,
            }
        })
    }

    fn reject<T>(&mut self, e: ReassemblyError) -> Result<T, ReassemblyError> {
        self.stats.rejected += 1;
        Err(e)
    }

    /// Takes one packet. Returns the whole message when this packet stands
    /// alone (index -1) or completes a chain; `Ok(None)` while a chain is
    /// incomplete (or for an exact duplicate).
    pub fn push(
        &mut self,
        packet: &PacketRef<'_>,
        now_ms: u64,
    ) -> Result<Option<Assembled>, ReassemblyError> {
        match packet.index {
            -1 => Ok(Some(Assembled {
                packet: packet.to_packet(),
                head_id: None,
                head: None,
            })),
            0 => self.push_head(packet, now_ms),
            i if i > 0 => self.push_fragment(packet, i, now_ms),
            i => self.reject(ReassemblyError::BadIndex(i)),
        }
    }

    fn push_head(
        &mut self,
        packet: &PacketRef<'_>,
        now_ms: u64,
    ) -> Result<Option<Assembled>, ReassemblyError> {
        let Ok(info) = ChainHead::parse(packet.message) else {
            return self.reject(ReassemblyError::BadHead(
                "not a JSON object with size and indexes",
            ));
        };
        let int = |v: f64| (1.0..=9.0e15).contains(&v) && (v as u64) as f64 == v;
        if !int(info.size) || !int(info.indexes) {
            return self.reject(ReassemblyError::BadHead(
                "size and indexes must be integers >= 1",
            ));
        }
        let size = info.size as u64;
        if size > self.limits.max_bytes as u64 {
            return self.reject(ReassemblyError::TooLarge {
                size: size.min(usize::MAX as u64) as usize,
                limit: self.limits.max_bytes,
            });
        }
        let size = size as usize;
        let indexes = size.div_ceil(MESSAGE_BYTES);
        if info.indexes != indexes as f64 {
            return self.reject(ReassemblyError::BadHead("indexes is not ceil(size / 1024)"));
        }
        if packet.packet_id != sha256(packet.message) {
            return self.reject(ReassemblyError::HeadIdMismatch);
        }
        let key = id_field(packet.packet_id);
        if self.completed.contains(&key) || self.pending.get(&key).is_some_and(|p| p.head.is_some())
        {
            self.stats.duplicates += 1;
            return Ok(None);
        }
        let entry = self.entry(&key, now_ms);
        // Fragments that came first: drop those that do not fit this head.
        let bad: Vec<usize> = entry
            .fragments
            .iter()
            .filter(|(&i, f)| i > indexes || f.message.len() != expected_len(size, indexes, i))
            .map(|(&i, _)| i)
            .collect();
        let mut freed = 0;
        for i in &bad {
            if let Some(f) = entry.fragments.remove(i) {
                freed += f.message.len();
            }
        }
        entry.bytes -= freed;
        entry.head = Some(HeadInfo {
            packet: packet.to_packet(),
            info,
            size,
            indexes,
        });
        self.bytes -= freed;
        self.stats.rejected += bad.len() as u64;
        self.try_complete(&key, packet.previous_id)
    }

    fn push_fragment(
        &mut self,
        packet: &PacketRef<'_>,
        index: i32,
        now_ms: u64,
    ) -> Result<Option<Assembled>, ReassemblyError> {
        let i = index as usize;
        let key = id_field(packet.previous_id);
        if self.completed.contains(&key) {
            self.stats.duplicates += 1;
            return Ok(None);
        }
        let len = packet.message.len();
        let head = self
            .pending
            .get(&key)
            .and_then(|p| p.head.as_ref())
            .map(|h| (h.size, h.indexes));
        match head {
            Some((size, indexes)) => {
                if i > indexes {
                    return self.reject(ReassemblyError::FragmentOutOfRange { index, indexes });
                }
                let expected = expected_len(size, indexes, i);
                if len != expected {
                    return self.reject(ReassemblyError::FragmentLength {
                        index: i,
                        len,
                        expected,
                    });
                }
            }
            None => {
                let indexes = self.limits.max_bytes.div_ceil(MESSAGE_BYTES);
                if i > indexes {
                    return self.reject(ReassemblyError::FragmentOutOfRange { index, indexes });
                }
                if len == 0 || len > MESSAGE_BYTES {
                    return self.reject(ReassemblyError::FragmentLength {
                        index: i,
                        len,
                        expected: MESSAGE_BYTES,
                    });
                }
            }
        }
        if let Some(held) = self.pending.get(&key).and_then(|p| p.fragments.get(&i)) {
            if held.packet_id == packet.packet_id && held.message == packet.message {
                self.stats.duplicates += 1;
                return Ok(None);
            }
            return self.reject(ReassemblyError::ConflictingFragment { index: i });
        }
        // Room for the bytes: evict other chains first.
        while self.bytes + len > self.limits.max_bytes {
            if !self.evict_oldest(&key) {
                break;
            }
        }
        if self.bytes + len > self.limits.max_bytes {
            self.remove(&key);
            self.stats.evicted += 1;
            return self.reject(ReassemblyError::LimitExceeded);
        }
        let entry = self.entry(&key, now_ms);
        entry.fragments.insert(
            i,
            Fragment {
                packet_id: id_field(packet.packet_id),
                message: packet.message.to_vec(),
            },
        );
        entry.bytes += len;
        self.bytes += len;
        self.try_complete(&key, packet.previous_id)
    }

    /// Completes the chain under `key` if every fragment is there.
    /// `completing_previous_id` is the `previousId` of the packet just taken.
    fn try_complete(
        &mut self,
        key: &IdField,
        completing_previous_id: &[u8],
    ) -> Result<Option<Assembled>, ReassemblyError> {
        let Some(p) = self.pending.get_mut(key) else {
            return Ok(None);
        };
        match &p.head {
            Some(head) if p.fragments.len() == head.indexes => {}
            _ => return Ok(None),
        }
        // Indexes are 1..=indexes and unique (checked on insert), lengths
        // match the head: check each link of the packetId chain against the
        // previous packet's id as carried. A fragment whose content was
        // changed under its id fails its own link only.
        let mut prev: &[u8] = key;
        let mut bad = Vec::new();
        for (&i, f) in &p.fragments {
            if f.packet_id != fragment_id(prev, &f.message) {
                bad.push(i);
            }
            prev = &f.packet_id;
        }
        if let Some(&first) = bad.first() {
            let mut freed = 0;
            for i in &bad {
                if let Some(f) = p.fragments.remove(i) {
                    freed += f.message.len();
                }
            }
            p.bytes -= freed;
            self.bytes -= freed;
            return self.reject(ReassemblyError::ChainIdMismatch { index: first });
        }
        let Some(p) = self.remove(key) else {
            return Ok(None);
        };
        let Some(head) = p.head else {
            return Ok(None);
        };
        if self.completed.len() >= self.limits.max_chains.max(1) {
            self.completed.pop_front();
        }
        self.completed.push_back(key.clone());
        let mut message = Vec::with_capacity(head.size);
        for f in p.fragments.values() {
            message.extend_from_slice(&f.message);
        }
        let mut id_input = Vec::with_capacity(completing_previous_id.len() + message.len());
        id_input.extend_from_slice(completing_previous_id);
        id_input.extend_from_slice(&message);
        let mut packet = head.packet;
        packet.packet_id = id_field(&sha256(&id_input));
        packet.index = -1;
        packet.message = message;
        self.stats.completed += 1;
        Ok(Some(Assembled {
            packet,
            head_id: Some(key.clone()),
            head: Some(head.info),
        }))
    }

    /// [`push`](Self::push), then [`unpack_event`] with `keys` (the keys of
    /// the packet's subcluster, looked up by the caller from
    /// `packet.subcluster_id`).
    pub fn receive(
        &mut self,
        packet: &PacketRef<'_>,
        now_ms: u64,
        keys: &SubclusterKeys,
    ) -> Result<Option<ReceivedEvent>, ReceiveError> {
        match self.push(packet, now_ms)? {
            Some(whole) => Ok(Some(unpack_event(&whole.packet, keys)?)),
            None => Ok(None),
        }
    }
}

/// The publisher's own view of a chain it just built, as the reference's
/// `publish` composes it (the head passed as the completing packet, so
/// packetId = SHA-256(head.previousId ‖ bytes)). A lone packet is returned
/// as it is.
pub fn compose_published(packets: &[Packet]) -> Result<Assembled, ReassemblyError> {
    let Some(first) = packets.first() else {
        return Err(ReassemblyError::BadHead("no packets"));
    };
    if packets.len() == 1 && first.index == -1 {
        return Ok(Assembled {
            packet: first.clone(),
            head_id: None,
            head: None,
        });
    }
    let mut r = Reassembler::new(ReassemblyLimits {
        max_chains: 1,
        max_bytes: usize::MAX / 2,
    });
    for p in packets.iter().filter(|p| p.index > 0) {
        r.push(&p.as_ref(), 0)?;
    }
    for p in packets.iter().filter(|p| p.index == 0) {
        if let Some(a) = r.push(&p.as_ref(), 0)? {
            return Ok(a);
        }
    }
    Err(ReassemblyError::BadHead("incomplete chain"))
}

/// An event ready for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedEvent {
    /// `usr1`: SHA-256 of the event name (listeners register under it).
    pub event_hash: IdField,
    /// The opened plaintext.
    pub payload: Vec<u8>,
    /// Whether `sig` verifies over `payload[64..]` with `usr2`
    /// ([`verify_from_byte_64`]). `false` events are still delivered, as
    /// the reference does (spec §10.22): the application decides.
    pub verified: bool,
    /// The packet's id (for a chain, see [`Assembled::packet`]).
    pub packet_id: IdField,
    /// `usr2`: the publisher's claimed public key.
    pub publisher: IdField,
    /// `clusterId`.
    pub cluster_id: IdField,
    /// `subclusterId`.
    pub subcluster_id: IdField,
    /// Publish or Stream.
    pub packet_type: PacketType,
}

/// Why a whole message is not an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// The packet's subclusterId is not these keys' (the reference ignores
    /// packets of subclusters it has not joined).
    #[error("packet is for another subcluster")]
    WrongSubcluster,
    /// The sealed message does not open (the reference's unhandled
    /// rejection; the event is lost).
    #[error("cannot open event: {0}")]
    Open(#[from] OpenError),
    /// `sig` is 64 bytes but `usr2` is not a 32-byte key: the reference's
    /// `verify` throws; `api.js` emits `unverified`, then the event with no
    /// payload (docs/compat.md#event-unpack).
    #[error("unverifiable publisher key: {0}")]
    Unverified(#[from] SignError),
}

/// Errors of [`Reassembler::receive`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// The packet was refused by the reassembler.
    #[error(transparent)]
    Reassembly(#[from] ReassemblyError),
    /// The whole message is not an event.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
}

/// `api.js` `unpack` (spec §4.7): open the message with the subcluster
/// keys, then check `sig` over the plaintext from byte 64 with `usr2`.
pub fn unpack_event(packet: &Packet, keys: &SubclusterKeys) -> Result<ReceivedEvent, UnpackError> {
    if packet.subcluster_id[..] != keys.subcluster_id() {
        return Err(UnpackError::WrongSubcluster);
    }
    let payload = ese::open(&packet.message, keys)?;
    let verified = verify_from_byte_64(&payload, &packet.sig, &packet.usr2)?;
    Ok(ReceivedEvent {
        event_hash: packet.usr1.clone(),
        payload,
        verified,
        packet_id: packet.packet_id.clone(),
        publisher: packet.usr2.clone(),
        cluster_id: packet.cluster_id.clone(),
        subcluster_id: packet.subcluster_id.clone(),
        packet_type: packet.packet_type,
    })
}
