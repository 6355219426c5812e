//! The peer table, connections and expiry (§6.11), and fanout selection
//! (§7.5).
//!
//! Fixes against the reference: at the size limit the least recently heard
//! non-introducer entry is evicted, those that never answered one of our
//! pings first (the reference only evicts entries never heard from, so its
//! table grows without bound, §10.53); expiry removes by
//! identity and reports the entry (the reference splices a live array while
//! walking an index snapshot, §10.52); a silent peer first goes *missing*
//! (disconnected, still pinged) before it is *forgotten*
//! (docs/compat.md#peer-expiry); a proxied entry that is later reached
//! directly drops its proxy (docs/compat.md#proxy-cleared).

use alloc::vec::Vec;
use core::net::IpAddr;

use super::addr::{PeerId, Remote, SocketId};
use super::config::FanoutPolicy;
use super::events::{DisconnectReason, Event};
use super::metrics::Eviction;
use super::time::Instant;
use super::Peer;
use crate::nat::NatType;
use crate::wire::packet::IdField;

/// One entry of the peer table (the reference's `RemotePeer`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemotePeer {
    /// Its id.
    pub peer_id: PeerId,
    /// Where it was last seen (or what an introducer said, for a proxied peer).
    pub remote: Remote,
    /// Its NAT type, when known.
    pub nat: Option<NatType>,
    /// An introducer: never expires, counts as reachable for reflection.
    pub indexed: bool,
    /// Connected (by a connection Ping/Pong, a Join, a traversal or a proxy).
    pub connected: bool,
    /// Last packet from it (or connection event).
    pub last_update: Option<Instant>,
    /// Last time we sent it a request.
    pub last_request: Option<Instant>,
    /// When it last served as reflection stage-1 target.
    pub probed: Option<Instant>,
    /// The introducer relaying for it, when there is no direct path.
    pub proxy: Option<PeerId>,
    /// The local socket that reaches it.
    pub socket: SocketId,
    /// (clusterId, subclusterId) pairs it was seen in (bounded, oldest out).
    pub clusters: Vec<(IdField, IdField)>,
    /// Highest Intro clock seen for it.
    pub clock: u32,
    /// The last `pingId` it confirmed.
    pub ping_id: Option<heapless::String<13>>,
    /// Smoothed round-trip time between our last Ping and its Pong (ms),
    /// once measured: the "distance" of the weighted fanout.
    pub rtt_ms: Option<u32>,
    /// The uptime it last reported in a Ping or Pong (ms): its
    /// "availability" for the weighted fanout.
    pub uptime_ms: Option<u64>,
    /// When it last pinged us (its heartbeat keeps the NAT mappings of
    /// both sides open, so ours can skip it: `Behaviour::heartbeat_peers`).
    pub last_ping_in: Option<Instant>,
    /// Our IP as its last heartbeat Pong reported it: the same peer
    /// reporting another one means we changed networks
    /// (`Behaviour::detect_network_change`).
    pub reported_ip: Option<IpAddr>,
}

impl RemotePeer {
    pub(crate) fn new(peer_id: PeerId, remote: Remote) -> Self {
        RemotePeer {
            peer_id,
            remote,
            nat: None,
            indexed: false,
            connected: false,
            last_update: None,
            last_request: None,
            probed: None,
            proxy: None,
            socket: SocketId::Main,
            clusters: Vec::new(),
            clock: 0,
            ping_id: None,
            rtt_ms: None,
            uptime_ms: None,
            last_ping_in: None,
            reported_ip: None,
        }
    }

    pub(crate) fn introducer(peer_id: PeerId, remote: Remote) -> Self {
        let mut p = RemotePeer::new(peer_id, remote);
        p.indexed = true;
        p.nat = Some(NatType::UNRESTRICTED);
        p
    }

    /// Whether it was seen in the subcluster `scid` of cluster `cid`.
    pub fn in_subcluster(&self, cid: &[u8], scid: &[u8]) -> bool {
        self.clusters
            .iter()
            .any(|(c, s)| c.as_slice() == cid && s.as_slice() == scid)
    }

    /// Whether it was seen in the cluster `cid`.
    pub fn in_cluster(&self, cid: &[u8]) -> bool {
        self.clusters.iter().any(|(c, _)| c.as_slice() == cid)
    }

    /// Milliseconds since we last heard from it (`None`: never).
    pub fn silent_for(&self, now: Instant) -> Option<u64> {
        self.last_update.map(|t| now.ms_since(t))
    }
}

/// A packet header's cluster ids, as `_onConnection` records them.
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo<'a> {
    pub(crate) cluster_id: &'a [u8],
    pub(crate) subcluster_id: &'a [u8],
    pub(crate) nat: Option<NatType>,
}

impl Peer {
    pub(crate) fn find_peer(&self, id: &PeerId) -> Option<usize> {
        self.table.iter().position(|p| p.peer_id == *id)
    }

    pub(crate) fn peer_mut(&mut self, id: &PeerId) -> Option<&mut RemotePeer> {
        self.table.iter_mut().find(|p| p.peer_id == *id)
    }

    /// `_onConnection` (§6.11): record `peer_id` as connected at `remote`.
    /// `via_packet` says the remote was observed (a datagram came from it),
    /// as opposed to taken from an Intro for a proxy.
    pub(crate) fn on_connection(
        &mut self,
        now: Instant,
        info: ConnInfo<'_>,
        peer_id: PeerId,
        remote: Remote,
        proxy: Option<PeerId>,
        socket: Option<SocketId>,
    ) {
        if self.closing {
            return;
        }
        let Some(nat) = info.nat.filter(|n| n.is_valid()) else {
            return;
        };
        if peer_id == self.peer_id {
            return;
        }
        let idx = match self.find_peer(&peer_id) {
            Some(i) => i,
            None => {
                if self.table.len() >= self.config.limits.max_peers && !self.evict_one_peer(now) {
                    self.metrics.evict(Eviction::PeerRefused);
                    return;
                }
                self.table.push(RemotePeer::new(peer_id, remote));
                self.table.len() - 1
            }
        };
        let max_clusters = self.config.limits.max_clusters_per_peer;
        let old_socket;
        let old_remote = self.table[idx].remote;
        // A neighbour on an open link stays reached over it when it also
        // shows up over UDP (no flapping between the two; links only).
        let keep_link = self.is_open_link(old_remote) && !self.is_open_link(remote);
        let (was_connected, had_proxy, new_cluster) = {
            let p = &mut self.table[idx];
            let was = p.connected;
            let had_proxy = p.proxy.is_some();
            old_socket = p.socket;
            p.connected = true;
            p.last_update = Some(now);
            if !keep_link {
                p.remote = remote;
            }
            p.nat = Some(nat);
            match proxy {
                Some(px) => p.proxy = Some(px),
                // A datagram from the peer itself: the proxy is no longer
                // needed.
                None => p.proxy = None,
            }
            if let Some(s) = socket.filter(|_| !keep_link) {
                p.socket = s;
            }
            let cid = IdField::from_slice(info.cluster_id).unwrap_or_default();
            let scid = IdField::from_slice(info.subcluster_id).unwrap_or_default();
            let mut new_cluster = false;
            if !p.clusters.iter().any(|(c, s)| *c == cid && *s == scid) {
                if p.clusters.len() >= max_clusters {
                    p.clusters.remove(0);
                    self.metrics.evict(Eviction::PeerCluster);
                }
                p.clusters.push((cid, scid));
                new_cluster = true;
            }
            (was, had_proxy, new_cluster)
        };
        if old_socket != self.table[idx].socket {
            self.release_dedicated_socket(old_socket);
        }
        if proxy.is_none() && self.config.behaviour.stop_answered_retries {
            self.cancel_pings_to(&peer_id);
        }
        // A subcluster we are in: tell the host about the member.
        if new_cluster {
            if let (Ok(cid), Ok(scid)) = (
                <[u8; 32]>::try_from(info.cluster_id),
                <[u8; 32]>::try_from(info.subcluster_id),
            ) {
                if self.subclusters.contains_key(&(cid, scid)) {
                    self.emit(Event::Join {
                        cluster_id: cid,
                        subcluster_id: scid,
                        peer_id,
                    });
                }
            }
        }
        let p = &self.table[idx];
        if !was_connected || (had_proxy && p.proxy.is_none()) {
            let ev = Event::Connection {
                peer_id,
                remote: p.remote,
                nat,
                proxy: p.proxy,
                socket: p.socket,
            };
            self.emit(ev);
            // First contact (or a return): sync caches (§6.11), and send
            // what we could not publish yet.
            self.on_contact(now, peer_id);
        } else if old_remote != remote
            && !keep_link
            && proxy.is_none()
            && self.config.behaviour.follow_moved_peers
        {
            // Back at a new address: what was sent to the old one is lost.
            self.on_contact(now, peer_id);
        }
    }

    /// Frees the least recently heard non-introducer entry. `false` when the
    /// table holds only introducers.
    fn evict_one_peer(&mut self, now: Instant) -> bool {
        let victim = self
            .table
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.indexed)
            // Entries that never answered one of our pings go first: a
            // spoofed source cannot answer, so a flood of connection pings
            // from forged addresses cannot push out peers that proved
            // their address (docs/compat.md#peer-table-eviction).
            .min_by_key(|(_, p)| (p.rtt_ms.is_some(), p.last_update.unwrap_or(Instant::ZERO)))
            .map(|(i, _)| i);
        let Some(i) = victim else { return false };
        let _ = now;
        let p = self.table.remove(i);
        self.metrics.evict(Eviction::Peer);
        self.release_dedicated_socket(p.socket);
        self.emit(Event::Disconnection {
            peer_id: p.peer_id,
            reason: DisconnectReason::Evicted,
        });
        true
    }

    /// Expiry, once per tick (§6.11 pruning, fixed).
    pub(crate) fn expire_peers(&mut self, now: Instant) {
        let k = self.config.keepalive_ms;
        let e = &self.config.expiry;
        let missing = k.saturating_mul(u64::from(e.missing));
        let forgotten = k.saturating_mul(u64::from(e.forgotten));
        let mut gone: Vec<RemotePeer> = Vec::new();
        let mut went_missing: Vec<PeerId> = Vec::new();
        self.table.retain_mut(|p| {
            if p.indexed {
                return true;
            }
            let silent = p.silent_for(now).unwrap_or(u64::MAX);
            if silent > forgotten {
                gone.push(p.clone());
                return false;
            }
            if silent > missing && p.connected {
                p.connected = false;
                went_missing.push(p.peer_id);
            }
            true
        });
        for id in went_missing {
            self.emit(Event::Disconnection {
                peer_id: id,
                reason: DisconnectReason::Missing,
            });
        }
        for p in gone {
            self.release_dedicated_socket(p.socket);
            self.emit(Event::Disconnection {
                peer_id: p.peer_id,
                reason: DisconnectReason::Forgotten,
            });
        }
    }

    /// `getPeers` (§7.5): up to three fresh peers (random, or weighted by
    /// distance and availability: [`FanoutPolicy`]), an introducer, and a
    /// member of the packet's cluster, each at most once (the reference
    /// lists the cluster member twice, §10.60).
    pub(crate) fn fanout(
        &mut self,
        now: Instant,
        cluster_id: &[u8],
        requester: Option<PeerId>,
        ignore: &[Remote],
        filter: impl Fn(&RemotePeer) -> bool,
    ) -> Vec<usize> {
        let mut list = Vec::new();
        self.fanout_into(now, cluster_id, requester, ignore, filter, &mut list);
        list
    }

    /// [`fanout`](Self::fanout) into `list` (cleared first), with the
    /// Peer's scratch space: no allocation once the scratch has grown.
    pub(crate) fn fanout_into(
        &mut self,
        now: Instant,
        cluster_id: &[u8],
        requester: Option<PeerId>,
        ignore: &[Remote],
        filter: impl Fn(&RemotePeer) -> bool,
        list: &mut Vec<usize>,
    ) {
        list.clear();
        let fresh = self.config.keepalive_ms.saturating_mul(4);
        let mut candidates = core::mem::take(&mut self.fanout_scratch.candidates);
        candidates.clear();
        candidates.extend(
            self.table
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    filter(p)
                        // Link neighbours get every packet of their cluster
                        // (`add_link_members`), never a Join or a random pick.
                        && !matches!(p.remote, Remote::Link(_))
                        && !ignore.contains(&p.remote)
                        && p.silent_for(now).is_some_and(|s| s <= fresh)
                        && p.peer_id != self.peer_id
                        && Some(p.peer_id) != requester
                        && p.nat.is_some_and(|n| n.is_valid())
                })
                .map(|(i, _)| i),
        );
        let k = self.config.fanout.peers;
        match self.config.fanout.policy {
            FanoutPolicy::Random => {
                self.shuffle(&mut candidates);
                list.extend(candidates.iter().copied().take(k));
            }
            FanoutPolicy::Weighted => self.weighted_pick(now, &candidates, k, list),
        }
        if !list.iter().any(|&i| self.table[i].indexed) {
            if let Some(&i) = candidates
                .iter()
                .find(|&&i| self.table[i].indexed && !list.contains(&i))
            {
                list.push(i);
            }
        }
        if let Some(&f) = candidates
            .iter()
            .find(|&&i| self.table[i].in_cluster(cluster_id) && !list.contains(&i))
        {
            list.insert(0, f);
        }
        self.fanout_scratch.candidates = candidates;
    }
}
