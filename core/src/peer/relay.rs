//! Relaying: multicasting cached packets to the fanout (§7.5), and the
//! weighted fanout policy.
//!
//! The reference picks three fresh peers uniformly at random. The
//! protocol's design describes a MaxProp-like choice that it never
//! implemented: prefer peers that are close (short round trip between our
//! Ping and their Pong) and available (long uptime). With
//! [`FanoutPolicy::Weighted`](super::FanoutPolicy::Weighted) each of the
//! `fanout.peers` picks is drawn without replacement with probability
//! proportional to
//!
//! ```text
//! weight = availability / distance
//! availability = max(uptime / (uptime + fanout.uptime_half_ms), 1/20)
//! distance = smoothed RTT in ms (fanout.unknown_rtt_ms when unmeasured), at least 1
//! ```
//!
//! so a nearby, long-lived peer is chosen often and a far or new one still
//! sometimes (the floor keeps newcomers reachable). The introducer and
//! cluster-member rules of the reference apply after either policy.

use alloc::vec::Vec;

use super::addr::Remote;
use super::events::Transmit;
use super::gate::GateKey;
use super::metrics::DropReason;
use super::store::{write_u32, HOPS_AT};
use super::time::Instant;
use super::{queue_transmit, Peer};
use crate::wire::PacketRef;

impl Peer {
    /// A uniform float in [0, 1) from the Peer's generator.
    fn unit(&mut self) -> f64 {
        use rand_core::RngCore;
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The weight of table entry `i` under the weighted policy.
    pub(crate) fn fanout_weight(&self, i: usize) -> f64 {
        let f = &self.config.fanout;
        let p = &self.table[i];
        let d = f64::from(p.rtt_ms.unwrap_or(f.unknown_rtt_ms).max(1));
        let u = p.uptime_ms.unwrap_or(0) as f64;
        let half = f.uptime_half_ms.max(1) as f64;
        let a = (u / (u + half)).max(0.05);
        a / d
    }

    /// Draws `k` of `candidates` without replacement, each with probability
    /// proportional to its weight, into `out`.
    pub(crate) fn weighted_pick(
        &mut self,
        _now: Instant,
        candidates: &[usize],
        k: usize,
        out: &mut Vec<usize>,
    ) {
        let mut pool = core::mem::take(&mut self.fanout_scratch.weights);
        pool.clear();
        for &i in candidates {
            pool.push((i, self.fanout_weight(i)));
        }
        let start = out.len();
        while out.len() - start < k && !pool.is_empty() {
            let total: f64 = pool.iter().map(|(_, w)| w).sum();
            let mut r = self.unit() * total;
            let mut chosen = pool.len() - 1;
            for (j, (_, w)) in pool.iter().enumerate() {
                if r < *w {
                    chosen = j;
                    break;
                }
                r -= w;
            }
            out.push(pool.swap_remove(chosen).0);
        }
        self.fanout_scratch.weights = pool;
    }

    /// Multicasts a cached packet (§7.5): picks the fanout for its cluster,
    /// sends each target a copy with `hops + 1`, records the new hops in the
    /// cache (as the reference's multicast changes the cached object) and
    /// gates the id. With nobody to send to, nothing changes (the reference
    /// still bumps the hops). Returns how many targets it went to.
    pub(crate) fn multicast_cached(
        &mut self,
        now: Instant,
        key: &[u8],
        ignore: &[Remote],
    ) -> usize {
        self.multicast_cached_as(now, key, ignore, None)
    }

    /// [`multicast_cached`](Self::multicast_cached), given the cached
    /// packet's cluster id and hops when the caller knows them (it just
    /// encoded the frame from the packet: the relay path), which saves
    /// decoding the frame again.
    pub(crate) fn multicast_cached_as(
        &mut self,
        now: Instant,
        key: &[u8],
        ignore: &[Remote],
        known: Option<(&[u8], u32)>,
    ) -> usize {
        let Some((slot, entry)) = self.store.locate(key) else {
            return 0;
        };
        let id = |c: &[u8]| {
            crate::wire::packet::IdField::from_slice(&c[..c.len().min(32)]).unwrap_or_default()
        };
        let (cluster, hops) = match known {
            Some((c, hops)) => (id(c), hops),
            None => match PacketRef::decode_frame(&entry.frame) {
                Ok(p) => (id(p.cluster_id), p.hops),
                Err(_) => {
                    self.metrics.drop(DropReason::Invalid);
                    return 0;
                }
            },
        };
        let mut targets = core::mem::take(&mut self.fanout_scratch.targets);
        let extra = self.config.behaviour.fanout_subcluster_members;
        let sub = match PacketRef::decode_frame(&entry.frame) {
            Ok(p) if extra > 0 => Some(id(p.subcluster_id)),
            _ => None,
        };
        self.fanout_into(now, &cluster, None, ignore, |_| true, &mut targets);
        if let Some(sub) = sub {
            self.add_subcluster_members(now, &cluster, &sub, ignore, extra, &mut targets);
        }
        if !self.links.is_empty() {
            self.add_link_members(now, &cluster, ignore, &mut targets);
        }
        let n = targets.len();
        if n == 0 {
            self.fanout_scratch.targets = targets;
            self.gate_if_new(key);
            return 0;
        }
        let max = self.config.limits.max_transmits;
        // The fanout does not touch the cache: the handle is still good.
        let Some(e) = self.store.at_mut(slot) else {
            self.fanout_scratch.targets = targets;
            return 0;
        };
        write_u32(&mut e.frame, HOPS_AT, hops.saturating_add(1));
        for &i in &targets {
            let (socket, remote) = (self.table[i].socket, self.table[i].remote);
            // A returned buffer when the host recycles them: no allocation.
            let t = Transmit {
                socket,
                remote,
                bytes: Peer::buffer_from(&mut self.spare_buffers, &e.frame),
            };
            queue_transmit(&mut self.transmits, &mut self.metrics, max, t);
        }
        self.fanout_scratch.targets = targets;
        self.gate_if_new(key);
        n
    }

    /// Up to `extra` connected members of the packet's subcluster that the
    /// fanout did not pick, at random (`Behaviour::fanout_subcluster_members`).
    fn add_subcluster_members(
        &mut self,
        now: Instant,
        cluster: &[u8],
        sub: &[u8],
        ignore: &[Remote],
        extra: usize,
        targets: &mut Vec<usize>,
    ) {
        let fresh = self.config.keepalive_ms.saturating_mul(4);
        let mut members: Vec<usize> = self
            .table
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                p.connected
                    && p.proxy.is_none()
                    && p.in_subcluster(cluster, sub)
                    && !ignore.contains(&p.remote)
                    && p.silent_for(now).is_some_and(|s| s <= fresh)
                    && !targets.contains(i)
            })
            .map(|(i, _)| i)
            .collect();
        self.shuffle(&mut members);
        targets.extend(members.into_iter().take(extra));
    }

    /// The multicast's gate entry (§7.5 step 5): 1 tick, if not there.
    fn gate_if_new(&mut self, key: &[u8]) {
        if self.gate.insert_new(GateKey::packet(key), (), 1) == Some(true) {
            self.metrics.evict(super::metrics::Eviction::Gate);
        }
    }
}
