//! Joins, subcluster membership, introductions on a Join, rendezvous and
//! multicast (§6.9, §7.5).
//!
//! Fixes (docs/compat.md): the rendezvous reply carries `rendezvousPeerId`
//! so the rendezvous peer can make the targeted introduction (§10.47,
//! #rendezvous-reply); a Join that came straight from its joiner makes a
//! connection (the reference's check runs after the relay's increment and
//! only ever fires for rendezvous replies, §10.49, #connection-by-join);
//! the fields a Join is never validated on are checked before use (§3.4,
//! #join-fields); the fanout sends each target once (§10.60).

use alloc::string::String;
use alloc::vec::Vec;

use super::addr::{PeerId, Remote, SocketId};
use super::events::Event;
use super::gate::GateKey;
use super::metrics::DropReason;
use super::table::{ConnInfo, RemotePeer};
use super::time::Instant;
use super::Peer;
use crate::nat::{NatType, Strategy};
use crate::wire::control::{Intro, Join};
use crate::wire::packet::MAX_HOPS;
use crate::wire::{Field, Packet, PacketRef};

/// Standard base64 with padding (the Join's informational `key`).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= c.len() {
                s.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

impl Peer {
    /// Sends J1 for a subcluster (the body of the reference's `join()`
    /// after the key registry): needs our NAT type and public endpoint.
    pub(crate) fn send_join(&mut self, now: Instant, cid: [u8; 32], scid: [u8; 32]) {
        let (Some(nat), Some(addr), Some(port)) = (self.nat, self.address, self.port) else {
            return;
        };
        self.clock = self.clock.wrapping_add(1);
        let key = alloc::format!("{}:{}", base64(&cid), base64(&scid));
        let msg = Join::announce(
            &self.peer_id_hex,
            Some(nat),
            &alloc::format!("{addr}"),
            port,
            &key,
        );
        let Ok(mut packet) = msg.to_packet() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        packet.clock = self.clock;
        if packet.set(Field::ClusterId, &cid).is_err()
            || packet.set(Field::SubclusterId, &scid).is_err()
        {
            return;
        }
        packet.finalize_packet_id();
        if let Some(m) = self.subclusters.get_mut(&(cid, scid)) {
            m.announced = true;
        }
        let me = self.peer_id;
        self.multicast(now, packet, &[], Some(me), |_| true);
    }

    /// `mcast` (§7.5): hops + 1, send to the fanout, gate the id.
    pub(crate) fn multicast(
        &mut self,
        now: Instant,
        mut packet: Packet,
        ignore: &[Remote],
        requester: Option<PeerId>,
        filter: impl Fn(&RemotePeer) -> bool,
    ) {
        let cid = packet.cluster_id.clone();
        let mut targets = self.fanout(now, &cid, requester, ignore, filter);
        // Queries go over links too; Joins never (a link neighbour learns
        // members from the link greeting, docs/compat.md#link-remotes).
        if !self.links.is_empty() && packet.packet_type != crate::wire::PacketType::Join {
            self.add_link_members(now, &cid, ignore, &mut targets);
        }
        packet.hops = packet.hops.saturating_add(1);
        packet.finalize_packet_id();
        let pid = packet.packet_id.clone();
        let Ok(bytes) = packet.encode() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        let sends: Vec<(SocketId, Remote)> = targets
            .iter()
            .map(|&i| (self.table[i].socket, self.table[i].remote))
            .collect();
        for (socket, remote) in sends {
            self.send(socket, remote, bytes.clone());
        }
        let key = GateKey::Packet(pid);
        if !self.gate.contains(&key) {
            self.gate_set(key, 1);
        }
    }

    /// A Join (§6.9 "On Join").
    pub(crate) fn on_join(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[p.packet_type as usize] += 1;
        let Ok(join) = Join::parse(p.message) else {
            self.metrics.drop(DropReason::Malformed);
            return;
        };
        let Some(requester_hex) = join.requester_peer_id() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        let Some(requester) = PeerId::from_hex(requester_hex) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        if requester == self.peer_id {
            self.metrics.drop(DropReason::Own);
            return;
        }
        let pid = p.effective_packet_id();
        let pid_key = GateKey::Packet(pid.clone());
        if self.gate.contains(&pid_key) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        let Ok(cid) = <[u8; 32]>::try_from(p.cluster_id) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        self.last_update = Some(now);
        if let Some(e) = self.peer_mut(&requester) {
            e.last_update = Some(now);
        }
        let wall = self.wall_ms(now);
        let deadline = join.rendezvous_deadline().filter(|&d| d != 0.0);
        if deadline.is_some_and(|d| d < wall) {
            self.metrics.drop(DropReason::Stale);
            return;
        }
        let scid = <[u8; 32]>::try_from(p.subcluster_id).ok();
        let in_cluster = self.subclusters.keys().any(|(c, _)| *c == cid);
        if let Some(scid) = scid {
            if self.subclusters.contains_key(&(cid, scid)) {
                self.emit(Event::Join {
                    cluster_id: cid,
                    subcluster_id: scid,
                    peer_id: requester,
                });
            }
        }
        let rendezvous_requester = join
            .rendezvous_requester_peer_id()
            .and_then(PeerId::from_hex);
        // A rendezvous reply is for the rendezvous peer alone: one that
        // was relayed to us is left alone (behaviour.relay_rendezvous_replies).
        if join.rendezvous_requester_peer_id().is_some()
            && p.hops >= 1
            && !self.config.behaviour.relay_rendezvous_replies
        {
            self.gate_set(pid_key, 2);
            return;
        }

        // Rendezvous reply (J3): a member answers a stamped Join.
        if deadline.is_some()
            && !self.config.indexed
            && in_cluster
            && join.rendezvous_requester_peer_id().is_none()
        {
            self.gate_set(pid_key.clone(), 2);
            self.rendezvous_reply(p, &join, requester_hex);
        }

        // Whom to introduce.
        let claimed = Remote::from_wire(join.address(), join.port());
        let joiner_nat = join.nat_type().filter(|n| n.is_valid());
        let is_rendezvous = join.rendezvous_peer_id().is_some();
        let targets: Vec<usize> = match (
            rendezvous_requester,
            join.rendezvous_peer_id().and_then(PeerId::from_hex),
        ) {
            (Some(rr), Some(rp)) if rp == self.peer_id => match self.find_peer(&rr) {
                Some(i) => alloc::vec![i],
                None => {
                    // The reference stops here completely.
                    self.metrics.drop(DropReason::Stale);
                    return;
                }
            },
            _ => self.pick_introductions(
                now,
                cid,
                scid,
                remote,
                requester,
                rendezvous_requester,
                join.nat_type().filter(|n| n.is_valid()),
            ),
        };
        match (claimed, joiner_nat) {
            (Some(claimed), Some(jnat)) => {
                let jaddr = join.address().unwrap_or_default();
                for q in targets {
                    self.introduce_pair(
                        now,
                        p,
                        requester_hex,
                        jnat,
                        jaddr,
                        claimed,
                        q,
                        is_rendezvous,
                    );
                }
            }
            _ if !targets.is_empty() => self.metrics.drop(DropReason::Invalid),
            _ => {}
        }
        self.gate_set(pid_key, 2);
        if p.hops >= MAX_HOPS {
            return;
        }
        let relay_on = p.hops < self.config.behaviour.join_relay_hops
            && (rendezvous_requester.is_none() || self.config.behaviour.relay_rendezvous_replies);
        if relay_on {
            self.relay_join(now, p, &join, remote, claimed, requester, deadline, wall);
        }

        // Straight from the joiner: a J1 it multicast itself (hops 1) or a
        // rendezvous reply (hops 0).
        let direct = p.hops == 0 || (p.hops == 1 && rendezvous_requester.is_none());
        if direct {
            self.on_connection(
                now,
                ConnInfo {
                    cluster_id: p.cluster_id,
                    subcluster_id: p.subcluster_id,
                    nat: joiner_nat,
                },
                requester,
                remote,
                None,
                Some(socket),
            );
        }
    }

    /// Whom a Join's joiner is introduced to: the fanout over connected,
    /// active, directly reachable non-introducers. With
    /// `behaviour.targeted_introductions` the fanout is filled in tiers:
    /// members of the Join's subcluster the joiner can ping directly, then
    /// other members, then anyone the joiner can ping directly, then anyone.
    #[allow(clippy::too_many_arguments)]
    fn pick_introductions(
        &mut self,
        now: Instant,
        cid: [u8; 32],
        scid: Option<[u8; 32]>,
        from: Remote,
        requester: PeerId,
        rendezvous_requester: Option<PeerId>,
        joiner_nat: Option<NatType>,
    ) -> Vec<usize> {
        let active = self
            .config
            .keepalive_ms
            .saturating_mul(u64::from(self.config.expiry.inactive));
        let base = move |q: &RemotePeer| {
            q.connected
                && !q.indexed
                && q.proxy.is_none()
                && q.remote.udp().is_some()
                && q.peer_id != requester
                && Some(q.peer_id) != rendezvous_requester
                && q.silent_for(now).is_some_and(|s| s <= active)
        };
        if !self.config.behaviour.targeted_introductions {
            return self.fanout(now, &cid, Some(requester), &[from], base);
        }
        let want = self.config.fanout.peers.max(1);
        let member = move |q: &RemotePeer| match scid {
            Some(s) => q
                .clusters
                .iter()
                .any(|(c, sc)| c.as_slice() == cid && sc.as_slice() == s),
            None => false,
        };
        let direct = move |q: &RemotePeer| {
            matches!(
                crate::nat::connection_strategy(joiner_nat, q.nat),
                Strategy::DirectConnect | Strategy::Defer
            )
        };
        let mut chosen: Vec<usize> = Vec::new();
        for tier in 0..4u8 {
            if chosen.len() >= want {
                break;
            }
            let taken: Vec<PeerId> = chosen.iter().map(|&i| self.table[i].peer_id).collect();
            let pick = self.fanout(now, &cid, Some(requester), &[from], |q| {
                base(q)
                    && !taken.contains(&q.peer_id)
                    && match tier {
                        0 => member(q) && direct(q),
                        1 => member(q),
                        2 => direct(q),
                        _ => true,
                    }
            });
            for i in pick {
                if chosen.len() < want && !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
        }
        chosen
    }

    /// Relays a Join on (§6.9 steps 11-12), stamped with rendezvous data by
    /// an UNRESTRICTED first hop.
    #[allow(clippy::too_many_arguments)]
    fn relay_join(
        &mut self,
        now: Instant,
        p: &PacketRef<'_>,
        join: &Join,
        remote: Remote,
        claimed: Option<Remote>,
        requester: PeerId,
        deadline: Option<f64>,
        wall: f64,
    ) {
        let mut relay = p.to_packet();
        if p.hops == 1 && self.nat == Some(NatType::UNRESTRICTED) && deadline.is_none() {
            if let (Some(addr), Some(port)) = (self.address, self.port) {
                let mut j2 = join.clone();
                j2.set_rendezvous_address(&alloc::format!("{addr}"))
                    .set_rendezvous_port(port as f64)
                    .set_rendezvous_type(Some(NatType::UNRESTRICTED))
                    .set_rendezvous_peer_id(&self.peer_id_hex)
                    .set_rendezvous_deadline(wall + self.config.keepalive_ms as f64);
                let text = j2.to_json();
                if text.len() <= crate::wire::packet::MESSAGE_BYTES {
                    relay.message = text.into_bytes();
                }
            }
        }
        let mut ignore = alloc::vec![remote];
        if let Some(c) = claimed {
            ignore.push(c);
        }
        self.multicast(now, relay, &ignore, Some(requester), |_| true);
    }

    /// J3 to the rendezvous peer named in a stamped Join.
    fn rendezvous_reply(&mut self, p: &PacketRef<'_>, join: &Join, requester_hex: &str) {
        let Some(to) = Remote::from_wire(join.rendezvous_address(), join.rendezvous_port()) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        let (Some(addr), Some(port)) = (self.address, self.port) else {
            return;
        };
        let mut j3 = Join::new();
        j3.set_requester_peer_id(&self.peer_id_hex)
            .set_nat_type(self.nat)
            .set_address(&alloc::format!("{addr}"))
            .set_port(port as f64)
            .set_rendezvous_type(join.nat_type())
            .set_rendezvous_requester_peer_id(requester_hex);
        if let Some(rp) = join.rendezvous_peer_id() {
            j3.set_rendezvous_peer_id(rp);
        }
        let Ok(mut packet) = j3.to_packet() else {
            return;
        };
        packet.clock = p.clock;
        let _ = packet.set(Field::ClusterId, p.cluster_id);
        let _ = packet.set(Field::SubclusterId, p.subcluster_id);
        self.send_packet(SocketId::Main, to, &packet);
    }

    /// intro2 to Q (describing the joiner J), then intro1 to J (describing Q).
    #[allow(clippy::too_many_arguments)]
    fn introduce_pair(
        &mut self,
        now: Instant,
        p: &PacketRef<'_>,
        joiner_hex: &str,
        joiner_nat: NatType,
        joiner_addr: &str,
        joiner: Remote,
        q: usize,
        is_rendezvous: bool,
    ) {
        let Some(q_nat) = self.table[q].nat.filter(|n| n.is_valid()) else {
            return;
        };
        let Some(q_addr) = self.table[q].remote.udp() else {
            return;
        };
        let (q_id, q_socket, q_remote) = (
            self.table[q].peer_id,
            self.table[q].socket,
            self.table[q].remote,
        );
        let Some(joiner_port) = joiner.udp().map(|a| a.port()) else {
            return;
        };
        let intro2 = Intro::introduce(
            joiner_hex,
            &self.peer_id_hex,
            is_rendezvous,
            joiner_nat,
            joiner_addr,
            joiner_port,
        );
        let intro1 = Intro::introduce(
            &q_id.to_hex(),
            &self.peer_id_hex,
            is_rendezvous,
            q_nat,
            &alloc::format!("{}", q_addr.ip()),
            q_addr.port(),
        );
        let usr1 = alloc::format!("{}", self.wall_ms(now) as i64);
        let mut out: [Option<Packet>; 2] = [None, None];
        for (slot, msg) in out.iter_mut().zip([&intro2, &intro1]) {
            let Ok(mut pk) = msg.to_packet() else {
                continue;
            };
            pk.hops = p.hops.saturating_add(1);
            let _ = pk.set(Field::ClusterId, p.cluster_id);
            let _ = pk.set(Field::SubclusterId, p.subcluster_id);
            let _ = pk.set(Field::Usr1, usr1.as_bytes());
            pk.finalize_packet_id();
            *slot = Some(pk);
        }
        let [Some(i2), Some(i1)] = out else { return };
        self.table[q].last_request = Some(now);
        self.send_packet(q_socket, q_remote, &i2);
        self.send_packet(SocketId::Main, joiner, &i1);
        self.gate_set(GateKey::Packet(i1.packet_id.clone()), 2);
        self.gate_set(GateKey::Packet(i2.packet_id.clone()), 2);
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_node() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(&[0xdd; 32]),
            "3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d0="
        );
    }
}
