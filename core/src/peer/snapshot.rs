//! Persistence (§6.17): the peer as bytes, and back.
//!
//! The reference's `getState()` saves its config, clock, cache and
//! unpublished packets, and does *not* read its peer table back. We save what
//! lets a restarted peer carry on where it stopped: identity, NAT type and
//! public endpoint, clock and uptime, the probe port, the peer table (ages
//! relative to the snapshot, so the host's monotonic clock may restart), and
//! the subclusters with their shared keys. Transient state (gate, rate
//! counters, reflection round, timers, queues, traversals) starts afresh;
//! sockets do not survive a restart, so peers reached through a pool socket
//! come back on the main socket. The data plane adds the packet cache (each
//! packet with its age, oldest first), the unpublished packets and the
//! delivered ids (so a restart does not deliver a replay again).
//!
//! **The snapshot holds the subclusters' shared keys: store it as a secret.**
//!
//! Format (big-endian): `b"SRPEER"`, version 2, then the fields in the order
//! of [`Peer::snapshot`]. Version 1 (no data plane) is still read. The
//! reader bounds every count by the config's limits and never panics on
//! hostile bytes.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::addr::{PeerId, Remote, SocketId};
use super::config::{Config, ConfigError};
use super::table::RemotePeer;
use super::time::Instant;
use super::{Membership, Peer};
use crate::crypto::identity::{SharedKey, SubclusterKeys};
use crate::nat::NatType;
use crate::wire::packet::IdField;

const MAGIC: &[u8; 6] = b"SRPEER";
const VERSION: u8 = 2;

/// Why a snapshot cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not a snapshot, or one cut short or corrupt.
    #[error("not a valid peer snapshot")]
    Malformed,
    /// Written by a newer format.
    #[error("snapshot version {0} is not supported")]
    Version(u8),
    /// The config names another peer.
    #[error("the snapshot belongs to another peer id")]
    IdentityMismatch,
    /// The config itself is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn short(&mut self, b: &[u8]) {
        self.u8(b.len() as u8);
        self.bytes(b);
    }
    fn ip(&mut self, ip: Option<IpAddr>) {
        match ip {
            None => self.u8(0),
            Some(IpAddr::V4(a)) => {
                self.u8(4);
                self.bytes(&a.octets());
            }
            Some(IpAddr::V6(a)) => {
                self.u8(6);
                self.bytes(&a.octets());
            }
        }
    }
    fn remote(&mut self, r: &Remote) {
        match r {
            Remote::Udp(a) => {
                self.ip(Some(a.ip()));
                self.u16(a.port());
            }
            Remote::Link(n) => {
                self.u8(b'L');
                self.u64(*n);
            }
        }
    }
}

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if self.0.len() < n {
            return Err(SnapshotError::Malformed);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn arr32(&mut self) -> Result<[u8; 32], SnapshotError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32)?);
        Ok(a)
    }
    fn short(&mut self) -> Result<IdField, SnapshotError> {
        let n = self.u8()? as usize;
        IdField::from_slice(self.take(n)?).map_err(|_| SnapshotError::Malformed)
    }
    fn ip_tagged(&mut self, tag: u8) -> Result<Option<IpAddr>, SnapshotError> {
        Ok(match tag {
            0 => None,
            4 => {
                let b = self.take(4)?;
                Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            }
            6 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(self.take(16)?);
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => return Err(SnapshotError::Malformed),
        })
    }
    fn ip(&mut self) -> Result<Option<IpAddr>, SnapshotError> {
        let tag = self.u8()?;
        self.ip_tagged(tag)
    }
    fn remote(&mut self) -> Result<Remote, SnapshotError> {
        let tag = self.u8()?;
        if tag == b'L' {
            return Ok(Remote::Link(self.u64()?));
        }
        let ip = self.ip_tagged(tag)?.ok_or(SnapshotError::Malformed)?;
        Ok(Remote::Udp(SocketAddr::new(ip, self.u16()?)))
    }
}

const NEVER: u64 = u64::MAX;

fn age(now: Instant, t: Option<Instant>) -> u64 {
    t.map_or(NEVER, |t| now.ms_since(t))
}

fn from_age(now: Instant, a: u64) -> Option<Instant> {
    (a != NEVER).then(|| Instant(now.as_millis().saturating_sub(a)))
}

impl Peer {
    /// The peer's lasting state as bytes (see the module documentation for
    /// what is kept). Contains secret keys.
    ///
    /// ```
    /// use streamrelay::peer::{Config, Instant, Peer};
    /// let config = Config::new(&"ab".repeat(32), Some([1; 32]));
    /// let peer = Peer::new(config.clone(), Instant::ZERO, [0; 32]).unwrap();
    /// let bytes = peer.snapshot(Instant::from_millis(10));
    /// let back = Peer::restore(config, Instant::from_millis(99), [1; 32], &bytes).unwrap();
    /// assert_eq!(back.peer_id(), peer.peer_id());
    /// ```
    pub fn snapshot(&self, now: Instant) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(256 + self.table.len() * 96));
        w.bytes(MAGIC);
        w.u8(VERSION);
        w.bytes(&self.peer_id.0);
        w.u8(self.nat.map_or(0, |n| n.0));
        w.ip(self.address);
        w.u16(self.port.unwrap_or(0));
        w.u64(self.uptime);
        w.u32(self.clock);
        w.u16(self.reflection.probe_external_port.unwrap_or(0));
        w.u64(age(now, self.last_update));
        w.u32(self.table.len() as u32);
        for p in &self.table {
            w.bytes(&p.peer_id.0);
            w.remote(&p.remote);
            w.u8(p.nat.map_or(0, |n| n.0));
            let flags = u8::from(p.indexed)
                | (u8::from(p.connected) << 1)
                | (u8::from(p.proxy.is_some()) << 2);
            w.u8(flags);
            if let Some(px) = p.proxy {
                w.bytes(&px.0);
            }
            w.u64(age(now, p.last_update));
            w.u64(age(now, p.last_request));
            w.u64(age(now, p.probed));
            w.u32(p.clock);
            w.u32(p.clusters.len() as u32);
            for (c, s) in &p.clusters {
                w.short(c);
                w.short(s);
            }
        }
        w.u32(self.subclusters.len() as u32);
        for ((cid, scid), m) in &self.subclusters {
            w.bytes(cid);
            w.bytes(scid);
            w.bytes(m.shared_key.as_bytes());
        }
        w.u32(self.store.len() as u32);
        for (_, e) in self.store.iter_oldest_first() {
            w.u32(e.frame.len() as u32);
            w.bytes(&e.frame);
            w.u64(now.ms_since(e.inserted));
        }
        w.u32(self.unpublished.len() as u32);
        for (k, t) in &self.unpublished {
            w.short(k);
            w.u64(now.ms_since(*t));
        }
        w.u32(self.delivered.len() as u32);
        for k in self.delivered.iter() {
            w.short(k);
        }
        w.0
    }

    /// A peer from a [`snapshot`](Self::snapshot) and its config (which must
    /// name the same peer id). Counts beyond the config's limits are cut.
    /// A known NAT type is kept (and announced with
    /// [`Event::Ready`](super::Event::Ready));
    /// reflection runs again, as always, once the peer has heard nothing for
    /// a keepalive.
    pub fn restore(
        config: Config,
        now: Instant,
        seed: [u8; 32],
        bytes: &[u8],
    ) -> Result<Peer, SnapshotError> {
        let mut peer = Peer::new(config, now, seed)?;
        let mut r = R(bytes);
        if r.take(6)? != MAGIC {
            return Err(SnapshotError::Malformed);
        }
        let v = r.u8()?;
        if v != VERSION && v != 1 {
            return Err(SnapshotError::Version(v));
        }
        if r.arr32()? != peer.peer_id.0 {
            return Err(SnapshotError::IdentityMismatch);
        }
        let nat = r.u8()?;
        let address = r.ip()?;
        let port = r.u16()?;
        let uptime = r.u64()?;
        let clock = r.u32()?;
        let pe = r.u16()?;
        let last_update = r.u64()?;
        let n = r.u32()? as usize;
        let max = peer.config.limits.max_peers;
        let max_clusters = peer.config.limits.max_clusters_per_peer;
        let mut table: Vec<RemotePeer> = Vec::new();
        for _ in 0..n {
            let id = PeerId(r.arr32()?);
            let remote = r.remote()?;
            let pnat = r.u8()?;
            let flags = r.u8()?;
            let proxy = if flags & 4 != 0 {
                Some(PeerId(r.arr32()?))
            } else {
                None
            };
            let lu = r.u64()?;
            let lr = r.u64()?;
            let pr = r.u64()?;
            let pclock = r.u32()?;
            let nc = r.u32()? as usize;
            let mut clusters = Vec::new();
            for _ in 0..nc {
                let c = r.short()?;
                let s = r.short()?;
                if clusters.len() < max_clusters {
                    clusters.push((c, s));
                }
            }
            if table.len() >= max || id == peer.peer_id || table.iter().any(|p| p.peer_id == id) {
                continue;
            }
            let mut p = RemotePeer::new(id, remote);
            p.nat = (pnat != 0).then_some(NatType(pnat));
            p.indexed = flags & 1 != 0;
            p.connected = flags & 2 != 0;
            p.proxy = proxy;
            p.socket = SocketId::Main;
            p.last_update = from_age(now, lu);
            p.last_request = from_age(now, lr);
            p.probed = from_age(now, pr);
            p.clock = pclock;
            p.clusters = clusters;
            table.push(p);
        }
        let ns = r.u32()? as usize;
        let mut subclusters = alloc::collections::BTreeMap::new();
        for _ in 0..ns {
            let cid = r.arr32()?;
            let scid = r.arr32()?;
            let key = SharedKey::from_bytes(r.arr32()?);
            if subclusters.len() < peer.config.limits.max_subclusters {
                let keys = SubclusterKeys::from_shared_key(&key);
                if keys.subcluster_id() != scid {
                    return Err(SnapshotError::Malformed);
                }
                subclusters.insert(
                    (cid, scid),
                    Membership {
                        shared_key: key,
                        keys,
                        announced: false,
                        rejoin_wait: 0,
                        rejoin_backoff: 0,
                    },
                );
            }
        }
        if v >= 2 {
            let n = r.u32()? as usize;
            for _ in 0..n {
                let len = r.u32()? as usize;
                let frame = r.take(len)?;
                let age = r.u64()?;
                // Only well-formed Publish packets go back in.
                let Ok(p) = crate::wire::PacketRef::decode_frame(frame) else {
                    continue;
                };
                if p.packet_type != crate::wire::PacketType::Publish {
                    continue;
                }
                let key = super::publish::id_of(p.packet_id);
                let at = Instant(now.as_millis().saturating_sub(age));
                if let super::store::Inserted::Stored { evicted } =
                    peer.store.insert_at(key, frame, at)
                {
                    for _ in 0..evicted {
                        peer.metrics.evict(super::metrics::Eviction::Cache);
                    }
                }
            }
            let n = r.u32()? as usize;
            for _ in 0..n {
                let k = r.short()?;
                let age = r.u64()?;
                if peer.unpublished.len() < peer.config.limits.max_unpublished
                    && peer.store.contains(&k)
                {
                    peer.unpublished
                        .insert(k, Instant(now.as_millis().saturating_sub(age)));
                }
            }
            let n = r.u32()? as usize;
            for _ in 0..n {
                let k = r.short()?;
                peer.delivered.insert(&k);
            }
        }
        // Configured introducers the snapshot did not have are kept.
        for p in core::mem::take(&mut peer.table) {
            if table.len() < max && !table.iter().any(|q| q.peer_id == p.peer_id) {
                table.push(p);
            }
        }
        peer.table = table;
        peer.subclusters = subclusters;
        // With `behaviour.rediscover_on_restore` the endpoint is found
        // again at the first tick: the host's sockets are usually new.
        let keep = !peer.config.behaviour.rediscover_on_restore;
        if peer.config.nat_type.is_none() && keep {
            peer.nat = (nat != 0).then_some(NatType(nat)).filter(|n| n.is_valid());
        }
        if peer.config.public_address.is_none() && keep {
            peer.address = address;
            peer.port = (port != 0).then_some(port);
        }
        peer.uptime = uptime;
        peer.clock = clock;
        if keep {
            peer.reflection.probe_external_port = (pe != 0).then_some(pe);
        }
        peer.last_update = from_age(now, last_update);
        if peer.nat.is_some() {
            peer.announce_ready();
        }
        peer.refresh_summary_hash(now);
        Ok(peer)
    }
}
