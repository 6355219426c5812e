//! Streams (§7.6): events sent straight to one connected peer (or through
//! its proxy), never cached or multicast. `usr3` is the destination's
//! peerId, `usr4` the sender's.
//!
//! Fixes (docs/compat.md#streams): the stream buffer is a bounded
//! reassembler keyed by chain, so concurrent streams and heads that arrive
//! after their fragments are not lost (the reference clears the whole
//! buffer on every head, §10.62); a relayed Stream gets `hops + 1` and is
//! gated, and is never sent back where it came from, so two relays cannot
//! bounce it for ever (§10.63).

use alloc::vec::Vec;

use super::addr::{PeerId, Remote, SocketId};
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::publish::{arr32, id_of, PublishOptions, Whole};
use super::time::Instant;
use super::{Peer, PeerError};
use crate::crypto::event::ReassemblyError;
use crate::crypto::identity::{sha256, SharedKey};
use crate::wire::packet::{PacketId, MAX_HOPS};
use crate::wire::{PacketRef, PacketType};

impl Peer {
    /// Streams an event to one peer of our table (`stream(peerId,
    /// sharedKey, args)` / `api.js` `sub.stream`): packed and sealed like a
    /// publish, type 6, with `usr3` = its id and `usr4` = ours, sent to it
    /// (or to its proxy) on the socket that reaches it. Returns the
    /// packetIds (the reference returns `[null]` for a lone packet,
    /// §10.29).
    pub fn stream(
        &mut self,
        now: Instant,
        peer_id: &PeerId,
        shared_key: &SharedKey,
        event_name: &str,
        payload: &[u8],
        opts: &PublishOptions,
    ) -> Result<Vec<PacketId>, PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let (socket, remote) = self.route_to(peer_id).ok_or(PeerError::UnknownPeer)?;
        let cid = opts
            .cluster_id
            .or(self.config.cluster_id)
            .ok_or(PeerError::NoCluster)?;
        let to = peer_id.0;
        let me = self.peer_id.0;
        let packets = self.pack(
            now,
            PacketType::Stream,
            cid,
            shared_key,
            event_name,
            payload,
            opts,
            Some((&to, &me)),
        )?;
        let mut ids = Vec::with_capacity(packets.len());
        for p in &packets {
            let id = id_of(&p.packet_id);
            self.gate_set(GateKey::packet(&id), 1);
            self.send_packet(socket, remote, p);
            ids.push(id);
        }
        Ok(ids)
    }

    /// A Stream from the network.
    pub(crate) fn on_stream(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        let _ = socket;
        self.metrics.received_by_type[PacketType::Stream as usize] += 1;
        let Ok(to) = <[u8; 32]>::try_from(p.usr3) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        let gk = GateKey::Packet(p.effective_packet_id());
        if to != self.peer_id.0 {
            return self.relay_stream(remote, p, PeerId(to), gk);
        }
        if self.gate.contains(&gk) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(gk, 1);
        let Some(keys) = self.member_keys(p.cluster_id, p.subcluster_id) else {
            self.metrics.drop(DropReason::NotMember);
            return;
        };
        let Ok(from) = <[u8; 32]>::try_from(p.usr4) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        let from = PeerId(from);
        if self.find_peer(&from).is_none() {
            self.metrics.drop(DropReason::NotMember);
            return;
        }
        let evicted = self.streams.stats().evicted;
        let pushed = self.streams.push(p, now.as_millis());
        for _ in evicted..self.streams.stats().evicted {
            self.metrics.evict(Eviction::Chain);
        }
        let whole = match pushed {
            Ok(Some(w)) => w,
            Ok(None) => return,
            Err(ReassemblyError::ChainIdMismatch { .. }) | Err(ReassemblyError::HeadIdMismatch) => {
                self.metrics.drop(DropReason::Forged);
                return;
            }
            Err(_) => {
                self.metrics.drop(DropReason::Invalid);
                return;
            }
        };
        if whole.head_id.is_some() {
            self.metrics.chains_completed += 1;
        }
        let w = &whole.packet;
        let d = Whole {
            cluster_id: arr32(&w.cluster_id),
            subcluster_id: arr32(&w.subcluster_id),
            usr1: &w.usr1,
            usr2: &w.usr2,
            sig: &w.sig,
            sealed: &w.message,
            packet_id: w.packet_id.clone(),
            head_id: whole.head_id.clone(),
            hops: p.hops,
            from: remote,
            stream_from: Some(from),
            sealed_hash: sha256(&w.message),
        };
        self.deliver(&keys, &d);
    }

    /// A Stream for someone else: pass it on if we know them.
    fn relay_stream(&mut self, remote: Remote, p: &PacketRef<'_>, to: PeerId, gk: GateKey) {
        let Some(i) = self.find_peer(&to) else {
            self.metrics.drop(DropReason::Unroutable);
            return;
        };
        if p.hops >= MAX_HOPS {
            self.metrics.drop(DropReason::Stale);
            return;
        }
        let (dsock, dremote) = (self.table[i].socket, self.table[i].remote);
        if dremote == remote {
            self.metrics.drop(DropReason::Unroutable);
            return;
        }
        if self.gate.contains(&gk) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(gk, 1);
        let mut q = *p;
        q.hops = q.hops.saturating_add(1);
        let Ok(bytes) = q.encode() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        self.metrics.streams_relayed += 1;
        self.send(dsock, dremote, bytes);
    }
}
