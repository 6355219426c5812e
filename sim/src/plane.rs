//! The data plane as the simulator drives it: fan-out policies, and a
//! model of publish, relay, cache, sync and query.
//!
//! By default the core's `Peer` runs the data plane (`protocol.plane =
//! "core"`): the world calls `Peer::publish` and `Peer::query`, counts
//! `Event::Packet` deliveries, and sets the core's `FanoutPolicy`.
//!
//! [`ModelPeer`] is a second, independent implementation of spec §7.4,
//! §7.5, §7.7, §7.8 and §7.9 that runs beside each `Peer` instead
//! (`plane = "model"`), on top of the `Peer`'s own table: it picks fan-out
//! targets from [`Peer::peers`], sends from the socket the table names, and
//! the world hands it the Publish, Sync and Query datagrams that reach the
//! host (the `Peer` still sees them too, so liveness and rate limits stay
//! the Peer's). Its packets are real wire packets and its summaries the
//! core's, so sizes and ids are real; the payload is not sealed (160 bytes
//! of padding stand in for the seal). It was the stand-in while the core's
//! data plane was being written, and it stays as a quick way to try
//! data-plane changes (the core's `Behaviour` data-plane switches) and to
//! cross-check the core.
//!
//! Departures from the reference, each a fix the core also makes: a
//! friend is sent the packet once, not twice (§10.60); a Query answer goes
//! back along the return route, hop by hop (§7.9).

use std::collections::{BTreeMap, BTreeSet};

use streamrelay::cache::{decode_summary, summarize};
use streamrelay::peer::{Instant, Peer, Remote, RemotePeer, SocketId};
use streamrelay::wire::packet::MAX_HOPS;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

use crate::rng::SimRng;

/// How a relay picks the peers it sends a packet to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FanoutPolicy {
    /// The reference (§7.5): 3 random fresh peers, an introducer if none
    /// was drawn, and one member of the packet's cluster in front.
    Random,
    /// Distance/availability-weighted. With the core plane this is the
    /// core's `FanoutPolicy::Weighted` (availability from reported uptime,
    /// distance from measured RTT). The model's version keeps the shape (3 +
    /// introducer + member) but draws the 3 with weights that favour peers
    /// heard from recently, reached directly (not through a proxy), and in
    /// the packet's subcluster, and picks the best such member.
    Weighted,
}

impl FanoutPolicy {
    /// From a scenario name.
    pub fn parse(s: &str) -> Result<FanoutPolicy, String> {
        match s {
            "random" | "reference" => Ok(FanoutPolicy::Random),
            "weighted" | "distance" | "availability" => Ok(FanoutPolicy::Weighted),
            _ => Err(format!("unknown fan-out policy {s:?} (random, weighted)")),
        }
    }

    /// The core's policy of the same name.
    pub fn core(self) -> streamrelay::peer::FanoutPolicy {
        match self {
            FanoutPolicy::Random => streamrelay::peer::FanoutPolicy::Random,
            FanoutPolicy::Weighted => streamrelay::peer::FanoutPolicy::Weighted,
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FanoutPolicy::Random => "random",
            FanoutPolicy::Weighted => "weighted",
        }
    }
}

/// Reference limits (§6.2, §7.7).
const CACHE_CAPACITY: usize = 6604;
const SYNC_WINDOW_MS: u64 = 6000;
const QUERY_FRESH_MS: u64 = 2048;

/// What the model asks the host to do and tells the world.
#[derive(Default, Debug)]
pub struct Out {
    /// Datagrams to send: (socket, destination, bytes).
    pub sends: Vec<(SocketId, Remote, Vec<u8>)>,
    /// Packets handed to the app (packetId), first time only.
    pub delivered: Vec<[u8; 32]>,
}

impl Out {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.delivered.is_empty()
    }
}

/// Context the model needs from the host for one call.
pub struct Ctx<'a> {
    /// Now.
    pub now: u64,
    /// The host's Peer (its table drives the fan-out).
    pub peer: &'a Peer,
    /// The run's generator.
    pub rng: &'a mut SimRng,
    /// The fan-out policy.
    pub policy: FanoutPolicy,
    /// Tick period (freshness of table entries is 4 × this).
    pub keepalive_ms: u64,
    /// The core behaviour the peers run (the model follows its data-plane
    /// switches).
    pub behaviour: &'a crate::scenario::Behaviour,
}

/// One peer's data plane (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct ModelPeer {
    /// Subclusters whose packets are delivered to the app.
    pub member_of: BTreeSet<[u8; 32]>,
    /// The cache: hex packetId → encoded packet (as last relayed).
    cache: BTreeMap<String, Vec<u8>>,
    /// Insertion order, for eviction.
    order: std::collections::VecDeque<String>,
    /// Duplicate suppression: key → expiry (ms).
    gate: BTreeMap<[u8; 32], u64>,
    delivered: BTreeSet<[u8; 32]>,
    /// Query id → where the question came from (`None`: we asked).
    routes: BTreeMap<[u8; 32], Option<(SocketId, Remote)>>,
    /// Remote → last sync sent.
    syncs: BTreeMap<Remote, u64>,
    /// Highest cache size seen.
    pub cache_peak: usize,
}

fn id32(b: &[u8]) -> [u8; 32] {
    let mut a = [0u8; 32];
    let n = b.len().min(32);
    a[..n].copy_from_slice(&b[..n]);
    a
}

fn hex(b: &[u8]) -> String {
    streamrelay::crypto::identity::to_hex(b)
}

impl ModelPeer {
    /// A data plane delivering the given subclusters.
    pub fn new(member_of: impl IntoIterator<Item = [u8; 32]>) -> Self {
        ModelPeer {
            member_of: member_of.into_iter().collect(),
            ..ModelPeer::default()
        }
    }

    /// Packets in the cache.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// Whether the app got `pid`.
    pub fn has_delivered(&self, pid: &[u8; 32]) -> bool {
        self.delivered.contains(pid)
    }

    /// Transient state a restart loses (the cache survives, as the
    /// reference persists it; §6.17).
    pub fn restart(&mut self) {
        self.gate.clear();
        self.routes.clear();
        self.syncs.clear();
    }

    /// Whether `key` is gated now.
    fn gated(&mut self, key: &[u8; 32], now: u64) -> bool {
        match self.gate.get(key) {
            Some(&exp) if exp > now => true,
            Some(_) => {
                self.gate.remove(key);
                false
            }
            None => false,
        }
    }

    /// Gates `key` for `ticks` ticks (a tick is `keepalive_ms`; an entry
    /// set to 1 lives until the next tick, half a tick on average).
    fn gate_for(&mut self, key: [u8; 32], now: u64, ticks: u64, keepalive_ms: u64) {
        let life = (ticks * keepalive_ms)
            .saturating_sub(keepalive_ms / 2)
            .max(1);
        let e = self.gate.entry(key).or_insert(0);
        *e = (*e).max(now + life);
    }

    fn insert(&mut self, key: String, bytes: Vec<u8>) {
        if self.cache.contains_key(&key) {
            return;
        }
        if self.cache.len() >= CACHE_CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.cache.remove(&old);
            }
        }
        self.order.push_back(key.clone());
        self.cache.insert(key, bytes);
        self.cache_peak = self.cache_peak.max(self.cache.len());
    }

    /// Publishes `message` in `(cluster, subcluster)`: cache, deliver
    /// locally, multicast (§7.1). Returns the packetId.
    pub fn publish(
        &mut self,
        cx: &mut Ctx<'_>,
        cluster: [u8; 32],
        subcluster: [u8; 32],
        message: Vec<u8>,
        out: &mut Out,
    ) -> [u8; 32] {
        let mut p = Packet::new(PacketType::Publish);
        let _ = p.set(Field::ClusterId, &cluster);
        let _ = p.set(Field::SubclusterId, &subcluster);
        p.message = message;
        p.finalize_packet_id();
        let pid = id32(&p.packet_id);
        if let Ok(b) = p.encode() {
            self.insert(hex(&pid), b);
        }
        if self.member_of.contains(&subcluster) && self.delivered.insert(pid) {
            out.delivered.push(pid);
        }
        self.multicast(cx, p, &[], out);
        pid
    }

    /// Asks the network for `pid` (§7.9).
    pub fn query(&mut self, cx: &mut Ctx<'_>, cluster: [u8; 32], pid: &[u8; 32], out: &mut Out) {
        let mut q = Packet::new(PacketType::Query);
        let _ = q.set(Field::ClusterId, &cluster);
        let qid = cx.rng.bytes32();
        // The query id goes into the message too, so two peers asking for
        // the same packet do not share a packetId (the reference's would
        // collide in the relays' gates).
        q.message = format!(
            "{{\"packetId\":\"{}\",\"id\":\"{}\"}}",
            hex(pid),
            hex(&qid[..8])
        )
        .into_bytes();
        let _ = q.set(Field::Usr1, cx.now.to_string().as_bytes());
        let _ = q.set(Field::Usr3, &qid);
        let _ = q.set(Field::Usr4, b"1");
        q.finalize_packet_id();
        self.routes.insert(qid, None);
        self.multicast(cx, q, &[], out);
    }

    /// A peer connected (`Event::Connection`): sync with it on first
    /// contact and then at most every 6 s (§6.11 step 5).
    pub fn on_connection(
        &mut self,
        cx: &mut Ctx<'_>,
        socket: SocketId,
        remote: Remote,
        proxy: Option<streamrelay::peer::PeerId>,
        out: &mut Out,
    ) {
        let due = match self.syncs.get(&remote) {
            None => true,
            Some(&t) => cx.now.saturating_sub(t) > SYNC_WINDOW_MS,
        };
        if !due {
            return;
        }
        self.syncs.insert(remote, cx.now);
        // A proxied peer is synced through its proxy (§7.8).
        let (socket, to) = match proxy.and_then(|p| cx.peer.peer(&p)) {
            Some(e) => (e.socket, e.remote),
            None => (socket, remote),
        };
        self.send_sync(cx, socket, to, out);
    }

    fn send_sync(&self, cx: &Ctx<'_>, socket: SocketId, to: Remote, out: &mut Out) {
        let s = summarize("", self.cache.keys().map(|k| k.as_bytes()));
        let mut p = Packet::new(PacketType::Sync);
        p.message = s.encode();
        let _ = p.set(Field::Usr4, cx.now.to_string().as_bytes());
        if let Ok(b) = p.encode() {
            out.sends.push((socket, to, b));
        }
    }

    /// What-if: sync with every introducer once our NAT type is known
    /// (introducers are in every fan-out, so they hold what was published).
    pub fn sync_introducers(&mut self, cx: &mut Ctx<'_>, out: &mut Out) {
        let targets: Vec<(SocketId, Remote)> = cx
            .peer
            .peers()
            .iter()
            .filter(|e| e.indexed)
            .map(|e| (e.socket, e.remote))
            .collect();
        for (s, r) in targets {
            self.syncs.insert(r, cx.now);
            self.send_sync(cx, s, r, out);
        }
    }

    /// A Publish, Sync or Query datagram reached the host on `socket` from
    /// `from`. Other types are ignored (the Peer handles them).
    pub fn on_datagram(
        &mut self,
        cx: &mut Ctx<'_>,
        socket: SocketId,
        from: Remote,
        bytes: &[u8],
        out: &mut Out,
    ) {
        // The Peer drops types 3-8 until its NAT type is known (§6.5 step 8).
        if cx.peer.nat_type().is_none() {
            return;
        }
        let Ok(p) = PacketRef::decode(bytes) else {
            return;
        };
        match p.packet_type {
            PacketType::Publish => self.on_publish(cx, &p, from, true, out),
            PacketType::Sync => self.on_sync(cx, &p, socket, from, out),
            PacketType::Query => self.on_query(cx, &p, socket, from, out),
            _ => {}
        }
    }

    fn on_publish(
        &mut self,
        cx: &mut Ctx<'_>,
        p: &PacketRef<'_>,
        from: Remote,
        relay: bool,
        out: &mut Out,
    ) {
        let pid = id32(&p.effective_packet_id());
        let key = hex(&pid);
        if self.gated(&pid, cx.now) || self.cache.contains_key(&key) {
            return;
        }
        self.gate_for(pid, cx.now, 6, cx.keepalive_ms);
        let mut packet = p.to_packet();
        if let Ok(b) = packet.encode() {
            self.insert(key, b);
        }
        if self.member_of.contains(&id32(p.subcluster_id)) && self.delivered.insert(pid) {
            out.delivered.push(pid);
        }
        if relay && p.hops < MAX_HOPS {
            packet.packet_id = p.effective_packet_id();
            self.multicast(cx, packet, &[from], out);
        }
    }

    fn on_sync(
        &mut self,
        cx: &mut Ctx<'_>,
        p: &PacketRef<'_>,
        socket: SocketId,
        from: Remote,
        out: &mut Out,
    ) {
        // As specified the gate key is the packetId, which for a Sync is the
        // hash of its summary: every peer with an empty cache sends the
        // same one, so a peer answers only the first of them per tick.
        let mut key = id32(&p.effective_packet_id());
        if cx.behaviour.unique_sync_ids {
            let tag = format!("{from}");
            for (i, b) in tag.bytes().enumerate() {
                key[i % 32] ^= b.rotate_left((i / 32) as u32);
            }
        }
        if self.gated(&key, cx.now) {
            return;
        }
        self.gate_for(key, cx.now, 1, cx.keepalive_ms);
        let Ok(remote) = decode_summary(p.message) else {
            return;
        };
        let digits = hex(remote.prefix_bytes);
        let plen = (remote.prefix_len as usize).min(digits.len());
        let prefix = digits[digits.len() - plen..].to_string();
        let local = summarize(&prefix, self.cache.keys().map(|k| k.as_bytes()));
        if remote.hash.is_empty() || remote.hash == local.hash {
            return;
        }
        let mut theirs = [false; 16];
        for (i, _) in remote.buckets() {
            if (i as usize) < 16 {
                theirs[i as usize] = true;
            }
        }
        let digit = b"0123456789abcdef";
        for i in 0..16 {
            let ours = local.buckets[i].is_some();
            let sub = format!("{prefix}{}", digit[i] as char);
            if !theirs[i] && ours {
                for (_, b) in self
                    .cache
                    .range(sub.clone()..)
                    .take_while(|(k, _)| k.starts_with(&sub))
                {
                    out.sends.push((socket, from, b.clone()));
                }
            } else if theirs[i] {
                let s = summarize(&sub, self.cache.keys().map(|k| k.as_bytes()));
                let mut q = Packet::new(PacketType::Sync);
                q.message = s.encode();
                let _ = q.set(Field::Usr4, cx.now.to_string().as_bytes());
                if let Ok(b) = q.encode() {
                    out.sends.push((socket, from, b));
                }
            }
        }
    }

    fn on_query(
        &mut self,
        cx: &mut Ctx<'_>,
        p: &PacketRef<'_>,
        socket: SocketId,
        from: Remote,
        out: &mut Out,
    ) {
        let qts: Option<u64> = std::str::from_utf8(p.usr1)
            .ok()
            .and_then(|s| s.parse().ok());
        if qts.is_some_and(|t| t + QUERY_FRESH_MS < cx.now) {
            return;
        }
        let qid = id32(p.usr3);
        if p.usr4 != b"1" {
            // An answer: the cached packet, retyped.
            let Some(route) = self.routes.get(&qid).copied() else {
                return;
            };
            match route {
                None => {
                    let mut a = p.to_packet();
                    a.packet_type = PacketType::Publish;
                    a.usr3 = Packet::new(PacketType::Publish).usr3;
                    a.usr4 = a.usr3.clone();
                    if let Ok(b) = a.encode() {
                        if let Ok(r) = PacketRef::decode(&b) {
                            self.on_publish(cx, &r, from, false, out);
                        }
                    }
                }
                Some((s, to)) => out.sends.push((s, to, p.encode().unwrap_or_default())),
            }
            return;
        }
        let pid = id32(&p.effective_packet_id());
        if self.gated(&pid, cx.now) {
            return;
        }
        self.gate_for(pid, cx.now, 1, cx.keepalive_ms);
        self.routes.insert(qid, Some((socket, from)));
        let want = std::str::from_utf8(p.message)
            .ok()
            .and_then(|s| s.split("\"packetId\":\"").nth(1))
            .map(|s| s.chars().take(64).collect::<String>());
        if let Some(cached) = want.as_ref().and_then(|k| self.cache.get(k)) {
            if let Ok(c) = PacketRef::decode(cached) {
                let mut a = c.to_packet();
                a.packet_id = c.effective_packet_id();
                a.packet_type = PacketType::Query;
                let _ = a.set(Field::Usr3, &qid);
                let _ = a.set(Field::Usr4, b"2");
                let _ = a.set(Field::Usr1, p.usr1);
                if let Ok(b) = a.encode() {
                    out.sends.push((socket, from, b));
                }
            }
            return;
        }
        if p.hops < MAX_HOPS {
            let mut q = p.to_packet();
            q.packet_id = p.effective_packet_id();
            self.multicast(cx, q, &[from], out);
        }
    }

    /// `mcast` (§7.5): pick targets, hops + 1, send, gate.
    fn multicast(&mut self, cx: &mut Ctx<'_>, mut p: Packet, ignore: &[Remote], out: &mut Out) {
        let targets = select(cx, &p.cluster_id, &p.subcluster_id, ignore);
        p.hops = p.hops.saturating_add(1);
        p.finalize_packet_id();
        let key = id32(&p.packet_id);
        if !self.gated(&key, cx.now) {
            self.gate_for(key, cx.now, 1, cx.keepalive_ms);
        }
        let Ok(bytes) = p.encode() else {
            return;
        };
        for (socket, remote) in targets {
            out.sends.push((socket, remote, bytes.clone()));
        }
    }
}

/// Fan-out selection over the Peer's table (§7.5), by policy.
pub fn select(
    cx: &mut Ctx<'_>,
    cluster: &[u8],
    subcluster: &[u8],
    ignore: &[Remote],
) -> Vec<(SocketId, Remote)> {
    let now = Instant(cx.now);
    let fresh = cx.keepalive_ms.saturating_mul(4);
    let me = cx.peer.peer_id();
    let table = cx.peer.peers();
    let mut cand: Vec<&RemotePeer> = table
        .iter()
        .filter(|p| {
            !ignore.contains(&p.remote)
                && p.silent_for(now).is_some_and(|s| s <= fresh)
                && p.peer_id != me
                && p.nat.is_some_and(|n| n.is_valid())
                && p.remote.udp().is_some_and(|a| a.port() != 0)
        })
        .collect();
    let topic = |p: &RemotePeer| {
        p.clusters
            .iter()
            .any(|(c, s)| c.as_slice() == cluster && s.as_slice() == subcluster)
    };
    let mut list: Vec<&RemotePeer> = Vec::with_capacity(5);
    match cx.policy {
        FanoutPolicy::Random => {
            cx.rng.shuffle(&mut cand);
            list.extend(cand.iter().take(3));
            if !list.iter().any(|p| p.indexed) {
                if let Some(i) = cand.iter().find(|p| p.indexed && !list.contains(p)) {
                    list.push(i);
                }
            }
            if let Some(f) = cand
                .iter()
                .find(|p| p.in_cluster(cluster) && !list.contains(p))
            {
                list.insert(0, f);
            }
        }
        FanoutPolicy::Weighted => {
            let score = |p: &RemotePeer| {
                let silent_s = p.silent_for(now).unwrap_or(fresh) as f64 / 1000.0;
                let mut w = 1.0 / (1.0 + silent_s);
                if topic(p) {
                    w *= 4.0;
                }
                if p.proxy.is_some() {
                    w *= 0.5;
                }
                if !p.connected {
                    w *= 0.25;
                }
                if p.indexed {
                    w *= 0.5;
                }
                w
            };
            // Efraimidis–Spirakis: weighted sampling without replacement.
            let mut keyed: Vec<(f64, usize)> = cand
                .iter()
                .enumerate()
                .map(|(i, p)| (cx.rng.unit().max(1e-300).powf(1.0 / score(p)), i))
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            list.extend(keyed.iter().take(3).map(|&(_, i)| cand[i]));
            if !list.iter().any(|p| p.indexed) {
                if let Some(&(_, i)) = keyed
                    .iter()
                    .find(|&&(_, i)| cand[i].indexed && !list.contains(&cand[i]))
                {
                    list.push(cand[i]);
                }
            }
            let best = cand
                .iter()
                .enumerate()
                .filter(|(_, p)| topic(p) && !list.contains(p))
                .max_by(|a, b| score(a.1).total_cmp(&score(b.1)).then(b.0.cmp(&a.0)));
            if let Some((_, f)) = best {
                list.insert(0, f);
            }
        }
    }
    list.iter().map(|p| (p.socket, p.remote)).collect()
}
