//! Where the data plane plugs in.
//!
//! Publish (§7.4), Stream (§7.6), Sync (§7.8) and Query (§7.9) packets
//! reach this point after decoding, the version check, rate limiting, the
//! firewall and the "NAT type known" check, exactly where the reference
//! dispatches them. The data plane is the next issue: until then each is
//! counted as received and as [`DropReason::DataPlaneUnhandled`]. The
//! return-route table (`Peer::return_routes`, bounded and aged every tick)
//! is ready for the Query flow.

use super::addr::{Remote, SocketId};
use super::metrics::{DropReason, Eviction};
use super::time::Instant;
use super::Peer;
use crate::wire::PacketRef;

impl Peer {
    pub(crate) fn on_data_plane(
        &mut self,
        _now: Instant,
        _socket: SocketId,
        _remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[p.packet_type as usize] += 1;
        self.metrics.drop(DropReason::DataPlaneUnhandled);
    }

    /// Remembers where a question came from, for `ticks` ticks (the Query
    /// flow's return routes, §6.15).
    #[allow(dead_code)] // fed by the Query flow (data plane, next issue)
    pub(crate) fn remember_return_route(&mut self, query_id: &[u8], from: Remote, ticks: u8) {
        let key = crate::wire::packet::IdField::from_slice(&query_id[..query_id.len().min(32)])
            .unwrap_or_default();
        if self.return_routes.insert(key, from, ticks) {
            self.metrics.evict(Eviction::ReturnRoute);
        }
    }

    /// Where the question `query_id` came from, if remembered.
    #[allow(dead_code)] // read by the Query flow (data plane, next issue)
    pub(crate) fn return_route(&self, query_id: &[u8]) -> Option<Remote> {
        let key = crate::wire::packet::IdField::from_slice(&query_id[..query_id.len().min(32)])
            .unwrap_or_default();
        self.return_routes.get(&key).copied()
    }
}
