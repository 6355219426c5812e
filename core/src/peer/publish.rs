//! Publishing (§7.1), receiving a Publish (§7.4), delivery to the app,
//! cache expiry with its re-broadcast (§7.7) and unpublished packets.
//!
//! Receive path, in order: the id check (a lone packet's or a chain head's
//! packetId must be SHA-256 of its message, as every publisher builds it),
//! the gate (6 ticks), the cache (first copy only), delivery when the
//! packet is one of our subclusters' (a lone packet here, a chain in
//! `chains`), then the relay to the fanout with `hops + 1` unless it has
//! made 16 hops. Every peer caches and relays every cluster's Publish, as
//! the reference does.
//!
//! Fixes (docs/compat.md#data-plane): the id check against cache poisoning
//! (§10.9); the oldest cached packet is evicted, not the newest (§10.56),
//! and not multicast again; expiry runs in every tick (§10.57); a packet of
//! our subcluster that does not open or verify is an event of its own,
//! never delivered as good, and is neither kept nor relayed by us
//! (#member-filter); a replayed message is delivered at most once.

use alloc::vec::Vec;

use super::addr::{PeerId, Remote};
use super::events::{Event, UnverifiedReason};
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::store::Inserted;
use super::time::Instant;
use super::{Peer, PeerError};
use crate::crypto::ese;
use crate::crypto::event::{pack_event, ChainParent, EventArgs};
use crate::crypto::identity::{sha256, SharedKey, SubclusterKeys};
use crate::crypto::sign::verify_from_byte_64;
use crate::wire::json::JsValue;
use crate::wire::packet::{IdField, PacketId, DEFAULT_TTL, MAX_HOPS};
use crate::wire::{PacketRef, PacketType};

/// Options of [`Peer::publish`] and [`Peer::stream`] (the reference's
/// `args` / `api.js` `opts`).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PublishOptions {
    /// Cache lifetime in ms (`opts.ttl`), capped at 6 h; default 6 h.
    pub ttl: Option<u32>,
    /// Another cluster than the configured one (`args.clusterId`).
    pub cluster_id: Option<[u8; 32]>,
    /// The chain head's `meta` (only used when the message is split).
    pub meta: Option<JsValue>,
    /// Chain after this cached packet (`args.packet`): the new head's
    /// `previousId`, and the clock rule of §7.2.
    pub parent: Option<PacketId>,
    /// `nextId` of the last packet (`args.nextId`).
    pub next_id: Option<PacketId>,
}

impl PublishOptions {
    /// Every option at its default.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A whole message ready to open: a lone packet or a reassembled chain.
pub(crate) struct Whole<'a> {
    pub(crate) cluster_id: [u8; 32],
    pub(crate) subcluster_id: [u8; 32],
    pub(crate) usr1: &'a [u8],
    pub(crate) usr2: &'a [u8],
    pub(crate) sig: &'a [u8],
    pub(crate) sealed: &'a [u8],
    pub(crate) packet_id: PacketId,
    pub(crate) head_id: Option<PacketId>,
    pub(crate) hops: u32,
    pub(crate) from: Remote,
    pub(crate) stream_from: Option<PeerId>,
    /// SHA-256 of the sealed bytes: the replay key.
    pub(crate) sealed_hash: [u8; 32],
}

/// What delivery made of a whole message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    Delivered,
    Unverified,
    Unopenable,
    /// Delivered before.
    Replay,
    /// Found unopenable or unverified before (no second event).
    Rejected,
}

impl Delivery {
    /// Not an authentic event of ours: keep none of it.
    pub(crate) fn is_bad(self) -> bool {
        matches!(
            self,
            Delivery::Unverified | Delivery::Unopenable | Delivery::Rejected
        )
    }
}

pub(crate) fn id_of(s: &[u8]) -> IdField {
    IdField::from_slice(&s[..s.len().min(32)]).unwrap_or_default()
}

impl Peer {
    /// Publishes an event to the subcluster of `shared_key` (`api.js`
    /// `emit` → `publish`, §4.7, §7.1): `usr1` = SHA-256(`event_name`),
    /// `usr2` = our signing key, `sig` = its signature of the payload, the
    /// payload sealed with the subcluster key (ephemeral keys from the
    /// Peer's generator) and split into a chain when it does not fit one
    /// packet. Each packet is cached and multicast (`hops` 1 on the wire);
    /// one that reaches nobody yet is kept as unpublished and sent again
    /// each tick and on every new connection. Returns the packetIds, head
    /// first. Our own publish is not echoed as an event.
    ///
    /// ```
    /// use streamrelay::crypto::identity::{create_key_pair, create_shared_key};
    /// use streamrelay::nat::NatType;
    /// use streamrelay::peer::{Config, Instant, Peer, PublishOptions};
    ///
    /// let mut config = Config::new(&"ab".repeat(32), Some([1; 32]));
    /// config.nat_type = Some(NatType::PORT_RESTRICTED);
    /// config.signing_keys = Some(create_key_pair("me").unwrap());
    /// let mut peer = Peer::new(config, Instant::ZERO, [0; 32]).unwrap();
    /// let key = create_shared_key("my subcluster").unwrap();
    /// let ids = peer
    ///     .publish(Instant::ZERO, &key, "greeting", b"hello", &PublishOptions::new())
    ///     .unwrap();
    /// assert_eq!(ids.len(), 1);
    /// assert!(peer.cached(&ids[0]).is_some());
    /// assert_eq!(peer.unpublished().count(), 1); // no peers yet
    /// ```
    pub fn publish(
        &mut self,
        now: Instant,
        shared_key: &SharedKey,
        event_name: &str,
        payload: &[u8],
        opts: &PublishOptions,
    ) -> Result<Vec<PacketId>, PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let cid = opts
            .cluster_id
            .or(self.config.cluster_id)
            .ok_or(PeerError::NoCluster)?;
        let packets = self.pack(
            now,
            PacketType::Publish,
            cid,
            shared_key,
            event_name,
            payload,
            opts,
            None,
        )?;
        let mut ids = Vec::with_capacity(packets.len());
        for p in &packets {
            ids.push(id_of(&p.packet_id));
        }
        // Our own message must not come back to us as someone else's.
        if let Some(first) = ids.first() {
            self.remember_delivered(first);
        }
        for p in &packets {
            let Ok(bytes) = p.encode() else {
                self.metrics.drop(DropReason::Invalid);
                continue;
            };
            let key = id_of(&p.packet_id);
            match self.store.insert(key.clone(), &bytes, now) {
                Inserted::Stored { evicted } => {
                    for _ in 0..evicted {
                        self.metrics.evict(Eviction::Cache);
                    }
                }
                Inserted::Duplicate | Inserted::TooLarge | Inserted::Unwritable => continue,
            }
            self.metrics.published += 1;
            self.gate_set(GateKey::packet(&key), 6);
            let n = self.multicast_cached(now, &key, &[]);
            if n == 0 {
                self.add_unpublished(now, key);
            }
        }
        Ok(ids)
    }

    /// Seals and splits an event (shared by publish and stream).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pack(
        &mut self,
        now: Instant,
        packet_type: PacketType,
        cid: [u8; 32],
        shared_key: &SharedKey,
        event_name: &str,
        payload: &[u8],
        opts: &PublishOptions,
        stream: Option<(&[u8; 32], &[u8; 32])>,
    ) -> Result<Vec<crate::wire::Packet>, PeerError> {
        let signing = self
            .config
            .signing_keys
            .clone()
            .ok_or(PeerError::NoSigningKeys)?;
        let sealed_len = payload.len() + ese::SEAL_OVERHEAD;
        if sealed_len > self.config.limits.reassembly.max_bytes {
            return Err(PeerError::TooLarge(payload.len()));
        }
        let scid = crate::crypto::identity::subcluster_id(shared_key);
        let keys = match self.subclusters.get(&(cid, scid)) {
            Some(m) => m.keys.clone(),
            None => SubclusterKeys::from_shared_key(shared_key),
        };
        // The parent's clock, and its other children's (§7.2).
        let parent_info = match &opts.parent {
            Some(pid) => {
                let Some(e) = self.store.get(pid) else {
                    return Err(PeerError::UnknownPacket);
                };
                let clock = PacketRef::decode_frame(&e.frame).map_or(0, |p| p.clock);
                let max_sibling = self
                    .store
                    .iter()
                    .filter_map(|(_, e)| PacketRef::decode_frame(&e.frame).ok())
                    .filter(|p| p.previous_id == &pid[..])
                    .map(|p| p.clock)
                    .max();
                Some((pid.clone(), clock, max_sibling))
            }
            None => None,
        };
        let parent = parent_info.as_ref().map(|(pid, clock, sib)| ChainParent {
            packet_id: pid,
            clock: *clock,
            max_sibling_clock: *sib,
        });
        let wall = self.wall_ms(now).max(0.0) as u64;
        let mut args = EventArgs::new(&cid, event_name, payload);
        args.packet_type = packet_type;
        args.ttl = opts.ttl;
        args.parent = parent;
        args.next_id = opts.next_id.as_deref();
        args.meta = opts.meta.as_ref();
        if let Some((to, from)) = stream {
            args.usr3 = to;
            args.usr4 = from;
        }
        pack_event(&args, &keys, &signing, wall, &mut self.rng).map_err(PeerError::Pack)
    }

    fn add_unpublished(&mut self, now: Instant, key: IdField) {
        if !self.unpublished.contains_key(&key)
            && self.unpublished.len() >= self.config.limits.max_unpublished
        {
            let oldest = self
                .unpublished
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.unpublished.remove(&k);
                self.metrics.evict(Eviction::Unpublished);
            }
        }
        self.unpublished.insert(key, now);
    }

    /// `sendUnpublished`: multicast again every own packet that reached
    /// nobody; forget those no longer cached.
    pub(crate) fn send_unpublished(&mut self, now: Instant) {
        if self.unpublished.is_empty() {
            return;
        }
        let keys: Vec<IdField> = self.unpublished.keys().cloned().collect();
        for k in keys {
            if !self.store.contains(&k) {
                self.unpublished.remove(&k);
                continue;
            }
            if self.multicast_cached(now, &k, &[]) > 0 {
                self.unpublished.remove(&k);
            }
        }
    }

    /// A Publish from the network (§7.4).
    pub(crate) fn on_publish(&mut self, now: Instant, remote: Remote, p: &PacketRef<'_>) {
        self.metrics.received_by_type[PacketType::Publish as usize] += 1;
        if (p.index == -1 || p.index == 0) && p.packet_id != sha256(p.message) {
            self.metrics.drop(DropReason::Forged);
            return;
        }
        match self.gate.insert_new(GateKey::packet(p.packet_id), (), 6) {
            None => {
                self.metrics.drop(DropReason::Duplicate);
                return;
            }
            Some(true) => self.metrics.evict(Eviction::Gate),
            Some(false) => {}
        }
        // A copy already cached (its gate entry expired) is dropped as a
        // duplicate by the cache insert in `accept_publish`.
        self.accept_publish(now, remote, p, true);
    }

    /// Caches a first copy, delivers it (or advances its chain) when it is
    /// ours, and relays it.
    pub(crate) fn accept_publish(
        &mut self,
        now: Instant,
        remote: Remote,
        p: &PacketRef<'_>,
        relay: bool,
    ) {
        let key = id_of(p.packet_id);
        // The canonical encoding, with the default TTL filled in as the
        // reference's cache insert does (it is what we relay).
        let mut q = *p;
        if q.ttl == 0 {
            q.ttl = DEFAULT_TTL;
        }
        let len = q.encoded_len();
        // Encoded straight into the cache's slot (no allocation in steady
        // state: the evicted packet's buffer is reused).
        match self
            .store
            .insert_with(key.clone(), len, now, |buf| q.encode_into(buf).ok())
        {
            Inserted::Stored { evicted } => {
                for _ in 0..evicted {
                    self.metrics.evict(Eviction::Cache);
                }
                self.metrics.cached += 1;
            }
            Inserted::Duplicate => {
                self.metrics.drop(DropReason::Duplicate);
                return;
            }
            Inserted::TooLarge | Inserted::Unwritable => {
                self.metrics.drop(DropReason::Invalid);
                return;
            }
        }
        let mut keep = true;
        let member = self.member_keys(p.cluster_id, p.subcluster_id);
        // Not ours: nothing below touches the cache before the relay, so the
        // cached frame is still `q`'s encoding (`q.cluster_id`, `q.hops`).
        let known = member.is_none().then_some((p.cluster_id, p.hops));
        if let Some(keys) = member {
            match p.index {
                -1 => {
                    let w = Whole {
                        cluster_id: arr32(p.cluster_id),
                        subcluster_id: arr32(p.subcluster_id),
                        usr1: p.usr1,
                        usr2: p.usr2,
                        sig: p.sig,
                        sealed: p.message,
                        packet_id: key.clone(),
                        head_id: None,
                        hops: p.hops,
                        from: remote,
                        stream_from: None,
                        // Checked on receive: the id is the message's hash.
                        sealed_hash: arr32(&key),
                    };
                    if self.deliver(&keys, &w).is_bad() {
                        self.forget_packet(&key);
                        keep = false;
                    }
                }
                i if i >= 0 => {
                    let head = if i == 0 {
                        key.clone()
                    } else {
                        id_of(p.previous_id)
                    };
                    self.chain_arrived(now, remote, &head, p.previous_id, p.hops);
                }
                _ => {}
            }
        }
        if keep
            && relay
            && p.hops < MAX_HOPS
            && self.multicast_cached_as(now, &key, &[remote], known) > 0
        {
            self.metrics.relayed += 1;
        }
    }

    /// The keys of a subcluster we are a member of (and deliver for: an
    /// introducer does not, as the reference).
    pub(crate) fn member_keys(&self, cid: &[u8], scid: &[u8]) -> Option<SubclusterKeys> {
        if self.config.indexed {
            return None;
        }
        let (Ok(c), Ok(s)) = (<[u8; 32]>::try_from(cid), <[u8; 32]>::try_from(scid)) else {
            return None;
        };
        self.subclusters.get(&(c, s)).map(|m| m.keys.clone())
    }

    pub(crate) fn remember_delivered(&mut self, id: &[u8]) {
        if self.delivered.insert(id) {
            self.metrics.evict(Eviction::Delivered);
        }
    }

    fn remember_rejected(&mut self, id: &[u8]) {
        if self.rejected.insert(id) {
            self.metrics.evict(Eviction::Delivered);
        }
    }

    /// Drops a packet of ours that is not authentic from the cache and the
    /// gate: it is not passed on, and a genuine packet under the same id
    /// (forged copies can share a genuine id, §10.9) can still come in.
    pub(crate) fn forget_packet(&mut self, key: &[u8]) {
        self.store.remove(key);
        self.gate.remove(&GateKey::packet(key));
    }

    /// Opens and verifies a whole message and emits the event (§4.7).
    pub(crate) fn deliver(&mut self, keys: &SubclusterKeys, w: &Whole<'_>) -> Delivery {
        if self.delivered.contains(&w.sealed_hash) {
            return Delivery::Replay;
        }
        // The same bad copy again: no second event.
        let mut copy = Vec::with_capacity(32 + w.sig.len() + w.usr2.len());
        copy.extend_from_slice(&w.sealed_hash);
        copy.extend_from_slice(w.sig);
        copy.extend_from_slice(w.usr2);
        let copy_key = sha256(&copy);
        if self.rejected.contains(&w.sealed_hash) || self.rejected.contains(&copy_key) {
            self.metrics.drop(DropReason::Unauthentic);
            return Delivery::Rejected;
        }
        let payload = match ese::open(w.sealed, keys) {
            Ok(p) => p,
            Err(error) => {
                // These bytes will never open: do not try them again.
                self.remember_rejected(&w.sealed_hash);
                self.metrics.unopenable += 1;
                self.metrics.drop(DropReason::Unauthentic);
                self.emit(Event::Unopenable {
                    cluster_id: w.cluster_id,
                    subcluster_id: w.subcluster_id,
                    event_hash: id_of(w.usr1),
                    packet_id: w.packet_id.clone(),
                    error,
                    from: w.from,
                    stream_from: w.stream_from,
                });
                return Delivery::Unopenable;
            }
        };
        let reason = match verify_from_byte_64(&payload, w.sig, w.usr2) {
            Ok(true) => None,
            Ok(false) => Some(UnverifiedReason::BadSignature),
            Err(_) => Some(UnverifiedReason::BadPublisherKey),
        };
        if let Some(reason) = reason {
            // Only this copy is remembered: a genuine copy of the same
            // sealed message (with the publisher's own signature) may
            // still come.
            self.remember_rejected(&copy_key);
            self.metrics.unverified += 1;
            self.metrics.drop(DropReason::Unauthentic);
            self.emit(Event::Unverified {
                cluster_id: w.cluster_id,
                subcluster_id: w.subcluster_id,
                event_hash: id_of(w.usr1),
                payload,
                packet_id: w.packet_id.clone(),
                publisher: id_of(w.usr2),
                reason,
                from: w.from,
                stream_from: w.stream_from,
            });
            return Delivery::Unverified;
        }
        self.remember_delivered(&w.sealed_hash);
        if let Some(h) = &w.head_id {
            self.remember_delivered(h);
        }
        self.metrics.delivered += 1;
        self.emit(Event::Packet {
            cluster_id: w.cluster_id,
            subcluster_id: w.subcluster_id,
            event_hash: id_of(w.usr1),
            payload,
            packet_id: w.packet_id.clone(),
            head_id: w.head_id.clone(),
            publisher: id_of(w.usr2),
            hops: w.hops,
            from: w.from,
            stream_from: w.stream_from,
        });
        Delivery::Delivered
    }

    /// Cache expiry (§7.7), every tick: a packet whose TTL ran out is
    /// multicast once more (if it has made fewer than 16 hops) and dropped.
    /// A TTL of 6 h or more counts double in a cluster we are in.
    pub(crate) fn expire_cache(&mut self, now: Instant) {
        let six_h = u64::from(DEFAULT_TTL);
        let clusters: Vec<[u8; 32]> = self.subclusters.keys().map(|(c, _)| *c).collect();
        let mut due: Vec<(IdField, bool)> = Vec::new();
        for (k, e) in self.store.iter() {
            let ttl = u64::from(e.ttl());
            let effective = if ttl != 0 && ttl < six_h {
                ttl
            } else {
                let ours = super::store::frame_cluster_id(&e.frame)
                    .is_some_and(|c| clusters.iter().any(|x| x[..] == *c));
                if ours {
                    six_h * 2
                } else {
                    six_h
                }
            };
            if e.inserted.add_ms(effective) <= now {
                due.push((k.clone(), e.hops() < MAX_HOPS));
            }
        }
        for (k, again) in due {
            if again && self.multicast_cached(now, &k, &[]) > 0 {
                self.metrics.rebroadcast += 1;
            }
            self.store.remove(&k);
            self.unpublished.remove(&k);
            self.metrics.expired += 1;
        }
    }
}

/// A 32-byte array from a field (zero-padded; callers checked the length
/// where it matters).
pub(crate) fn arr32(s: &[u8]) -> [u8; 32] {
    let mut a = [0u8; 32];
    let n = s.len().min(32);
    a[..n].copy_from_slice(&s[..n]);
    a
}
