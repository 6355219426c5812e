//! The receive pipeline of the main socket and of connection-owned pool
//! sockets (§6.5): decode, version, liveness, rate limit, firewall, then
//! the flow that owns the packet type.

use super::{ratelimit, DropReason, Eviction, Instant, Peer, Remote, SocketId};
use crate::wire::{PacketRef, PacketType};

impl Peer {
    /// The receive pipeline of the main socket and connection-owned pool
    /// sockets (§6.5).
    pub(super) fn receive(&mut self, now: Instant, socket: SocketId, remote: Remote, bytes: &[u8]) {
        let p = match PacketRef::decode(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.metrics.drop(DropReason::Malformed);
                return;
            }
        };
        if p.version != crate::wire::packet::VERSION {
            self.metrics.drop(DropReason::Version);
            return;
        }
        for e in self.table.iter_mut().filter(|e| e.remote == remote) {
            e.last_update = Some(now);
        }
        let joined = match (
            <[u8; 32]>::try_from(p.cluster_id),
            <[u8; 32]>::try_from(p.subcluster_id),
        ) {
            (Ok(c), Ok(s)) => self.subclusters.contains_key(&(c, s)),
            _ => false,
        };
        if !self.config.limit_exempt {
            let class = ratelimit::Class::of(p.packet_type, joined);
            let (limited, evicted) = self.rates.check(now, class, remote, &self.config.quotas);
            if evicted {
                self.metrics.evict(Eviction::Rate);
            }
            if limited {
                self.metrics.drop(DropReason::RateLimited);
                return;
            }
        }
        if let Some(fw) = self.firewall.as_mut() {
            if !fw.allow(&p, &remote, socket) {
                self.metrics.drop(DropReason::Firewall);
                return;
            }
        }
        match p.packet_type {
            PacketType::Ping => return self.on_ping(now, socket, remote, &p),
            PacketType::Pong => return self.on_pong(now, socket, remote, &p),
            _ => {}
        }
        // A link-only peer never learns a NAT type: what comes over an
        // open link is taken regardless (docs/compat.md#link-remotes).
        if self.nat.is_none() && !self.config.indexed && !self.is_open_link(remote) {
            self.metrics.drop(DropReason::NotReady);
            return;
        }
        match p.packet_type {
            PacketType::Intro => self.on_intro(now, remote, &p),
            PacketType::Join => self.on_join(now, socket, remote, &p),
            _ => self.on_data_plane(now, socket, remote, &p),
        }
    }
}
