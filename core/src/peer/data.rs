//! Where the data plane plugs in.
//!
//! Publish (§7.4), Stream (§7.6), Sync (§7.8) and Query (§7.9) packets
//! reach this point after decoding, the version check, rate limiting, the
//! firewall and the "NAT type known" check, exactly where the reference
//! dispatches them. Each flow has its module: `publish` (with the cache in
//! `store`, reassembly in `chains` and the fanout in `relay`), `stream`,
//! `sync` and `query`. The return-route table (`Peer::return_routes`,
//! bounded and aged every tick) belongs to the Query flow.

use super::addr::{Remote, SocketId};
use super::metrics::Eviction;
use super::time::Instant;
use super::Peer;
use crate::wire::{PacketRef, PacketType};

impl Peer {
    pub(crate) fn on_data_plane(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        match p.packet_type {
            PacketType::Publish => self.on_publish(now, remote, p),
            PacketType::Stream => self.on_stream(now, socket, remote, p),
            PacketType::Sync => self.on_sync(now, socket, remote, p),
            PacketType::Query => self.on_query(now, socket, remote, p),
            // Types 1-4 are dispatched before this point.
            _ => self.metrics.received_by_type[p.packet_type as usize] += 1,
        }
    }

    /// Remembers where a question came from, for `ticks` ticks (the Query
    /// flow's return routes, §6.15).
    pub(crate) fn remember_return_route(&mut self, query_id: &[u8], from: Remote, ticks: u8) {
        let key = crate::wire::packet::IdField::from_slice(&query_id[..query_id.len().min(32)])
            .unwrap_or_default();
        if self.return_routes.insert(key, from, ticks) {
            self.metrics.evict(Eviction::ReturnRoute);
        }
    }

    /// Where the question `query_id` came from, if remembered.
    pub(crate) fn return_route(&self, query_id: &[u8]) -> Option<Remote> {
        let key = crate::wire::packet::IdField::from_slice(&query_id[..query_id.len().min(32)])
            .unwrap_or_default();
        self.return_routes.get(&key).copied()
    }
}
