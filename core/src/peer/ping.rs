//! Ping and Pong (§6.7), ping retransmission, and the heartbeat.
//!
//! Fixes: a peer whose NAT type is unknown still answers a heartbeat (the
//! reference throws building the Pong, §10.19; we leave `natType` out, which
//! every receiver accepts); a connection Pong from an unknown responder is
//! handled (the reference throws, §10.44); answers leave on the socket the
//! Ping arrived on, and pings to a peer use the socket that reaches it
//! (docs/compat.md#reply-socket).

use alloc::vec::Vec;

use super::addr::{PeerId, Remote, SocketId};
use super::metrics::{DropReason, Eviction};
use super::table::ConnInfo;
use super::time::Instant;
use super::timers::Timer;
use super::Peer;
use core::fmt::Write as _;

use crate::wire::control::{Ping, PingFields, Pong, PongReply};
use crate::wire::{Field, Packet, PacketRef};

/// A ping to be sent again (Intro answers go out at 0, +500 and +2000 ms).
#[derive(Clone, Debug)]
pub(crate) struct PendingPing {
    socket: SocketId,
    remote: Remote,
    peer_id: Option<PeerId>,
    bytes: Vec<u8>,
}

impl PendingPing {
    /// Where it goes.
    pub(crate) fn remote(&self) -> Remote {
        self.remote
    }
}

impl Peer {
    /// Builds a Ping packet: header `clusterId` = ours (the reference's ping
    /// helper always sets it), `subclusterId` as given.
    pub(crate) fn ping_packet(&self, msg: &Ping, subcluster: Option<&[u8]>) -> Option<Packet> {
        let mut p = msg.to_packet().ok()?;
        if let Some(cid) = self.config.cluster_id {
            p.set(Field::ClusterId, &cid).ok()?;
        }
        if let Some(s) = subcluster {
            p.set(Field::SubclusterId, s).ok()?;
        }
        Some(p)
    }

    /// Sends a ping to `remote` on `socket`; with `retry`, again at
    /// +`ping_retry_ms` and +4× that (identical bytes).
    pub(crate) fn send_ping(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        peer_id: Option<PeerId>,
        packet: &Packet,
        retry: bool,
    ) {
        let Ok(bytes) = packet.encode() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        self.touch_request(now, peer_id);
        if retry {
            if self.pending_pings.len() >= self.config.limits.max_pending_pings {
                if let Some((old, _)) = self.pending_pings.pop_first() {
                    self.stop_ping_retries(old);
                }
                self.metrics.evict(Eviction::PendingPing);
            }
            let id = self.next_ping;
            self.next_ping = self.next_ping.wrapping_add(1);
            let r = self.config.timings.ping_retry_ms;
            self.timers
                .set(now.add_ms(r), Timer::PingRetry { id, last: false });
            self.timers.set(
                now.add_ms(r.saturating_mul(4)),
                Timer::PingRetry { id, last: true },
            );
            self.pending_pings.insert(
                id,
                PendingPing {
                    socket,
                    remote,
                    peer_id,
                    bytes: bytes.clone(),
                },
            );
        }
        self.send(socket, remote, bytes);
    }

    /// Drops the retransmissions still scheduled for `peer_id` (it
    /// answered: `Behaviour::stop_answered_retries`).
    pub(crate) fn cancel_pings_to(&mut self, peer_id: &PeerId) {
        let ids: Vec<u32> = self
            .pending_pings
            .iter()
            .filter(|(_, p)| p.peer_id.as_ref() == Some(peer_id))
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            if self.pending_pings.remove(&id).is_some() {
                self.stop_ping_retries(id);
            }
        }
    }

    /// Forgets a scheduled retransmission and its timers.
    pub(crate) fn drop_pending_ping(&mut self, id: u32) {
        if self.pending_pings.remove(&id).is_some() {
            self.stop_ping_retries(id);
        }
    }

    fn stop_ping_retries(&mut self, id: u32) {
        for last in [false, true] {
            self.timers.stop(Timer::PingRetry { id, last });
        }
    }

    pub(crate) fn on_ping_retry(&mut self, now: Instant, id: u32, last: bool) {
        let Some(p) = (if last {
            self.pending_pings.remove(&id)
        } else {
            self.pending_pings.get(&id).cloned()
        }) else {
            return;
        };
        self.touch_request(now, p.peer_id);
        self.send(p.socket, p.remote, p.bytes);
    }

    fn touch_request(&mut self, now: Instant, peer_id: Option<PeerId>) {
        if let Some(id) = peer_id {
            if let Some(e) = self.peer_mut(&id) {
                e.last_request = Some(now);
            }
        }
    }

    /// P1 to every table entry, introducers included (§6.4 step 5).
    pub(crate) fn heartbeat(&mut self, now: Instant) {
        let msg = Ping::heartbeat(
            &self.peer_id_hex,
            self.nat,
            self.uptime as f64,
            self.wall_ms(now),
        );
        let Some(packet) = self.ping_packet(&msg, None) else {
            return;
        };
        let Ok(bytes) = packet.encode() else { return };
        let mut chosen = self.heartbeat_targets(now);
        // Open links are greeted every tick instead (`greet_links`).
        if !self.links.is_empty() {
            chosen.retain(|&i| !self.is_open_link(self.table[i].remote));
        }
        let targets: Vec<(SocketId, Remote)> = chosen
            .iter()
            .map(|&i| (self.table[i].socket, self.table[i].remote))
            .collect();
        for &i in &chosen {
            self.table[i].last_request = Some(now);
        }
        for (socket, remote) in targets {
            self.send(socket, remote, bytes.clone());
        }
    }

    /// Whom the heartbeat pings: everyone (the reference), or with
    /// `Behaviour::heartbeat_peers` / `heartbeat_introducers` a bounded
    /// set. A peer that pinged us within the last keepalive is left out:
    /// its ping and our pong kept both NAT mappings open, and it will ping
    /// again. Of the rest, members of our subclusters go first, then
    /// connected peers, then the nearest; proxied peers are never pinged
    /// (their claimed address does not reach them). Introducers: those
    /// that answered most recently first.
    fn heartbeat_targets(&self, now: Instant) -> Vec<usize> {
        let b = &self.config.behaviour;
        if b.heartbeat_peers.is_none() && b.heartbeat_introducers.is_none() {
            return (0..self.table.len()).collect();
        }
        let (max_peers, max_intros) = (
            b.heartbeat_peers.unwrap_or(usize::MAX),
            b.heartbeat_introducers.unwrap_or(usize::MAX),
        );
        let keepalive = self.config.keepalive_ms;
        let pinged_us = |p: &super::table::RemotePeer| {
            p.last_ping_in.is_some_and(|t| now.ms_since(t) < keepalive)
        };
        let mut intros: Vec<usize> = (0..self.table.len())
            .filter(|&i| self.table[i].indexed)
            .collect();
        intros.sort_by_key(|&i| core::cmp::Reverse(self.table[i].last_update));
        intros.truncate(max_intros);
        let inbound = self
            .table
            .iter()
            .filter(|p| !p.indexed && pinged_us(p))
            .count();
        let budget = max_peers.saturating_sub(inbound);
        let mut rest: Vec<usize> = (0..self.table.len())
            .filter(|&i| {
                let p = &self.table[i];
                // Open links take no slot: they are greeted instead.
                !p.indexed && p.proxy.is_none() && !pinged_us(p) && !self.is_open_link(p.remote)
            })
            .collect();
        let ours: Vec<([u8; 32], [u8; 32])> = self.subclusters.keys().copied().collect();
        rest.sort_by_key(|&i| {
            let p = &self.table[i];
            let member = ours.iter().any(|(c, s)| p.in_subcluster(c, s));
            (
                !member,
                !p.connected,
                p.rtt_ms.unwrap_or(u32::MAX),
                p.peer_id,
            )
        });
        rest.truncate(budget);
        intros.extend(rest);
        intros.sort_unstable();
        intros
    }

    /// A Ping on the main socket or a connection's pool socket.
    pub(crate) fn on_ping(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[p.packet_type as usize] += 1;
        self.last_update = Some(now);
        // Read without allocating where the text allows it (a heartbeat
        // always does), else through the parsed message.
        let parsed;
        let ping = match PingFields::read(p.message) {
            Ok(Some(f)) => f,
            Ok(None) => match Ping::parse(p.message) {
                Ok(m) => {
                    parsed = m;
                    parsed.fields()
                }
                Err(_) => {
                    self.metrics.drop(DropReason::Malformed);
                    return;
                }
            },
            Err(_) => {
                self.metrics.drop(DropReason::Malformed);
                return;
            }
        };
        let Some(requester_hex) = ping.requester_peer_id else {
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
        let their_nat = ping.nat_type.filter(|n| n.0 != 0);
        if ping.is_reflection != Some(true) {
            let follow = self.config.behaviour.follow_moved_peers;
            let mut moved = None;
            if let Some(e) = self.peer_mut(&requester) {
                if e.remote == remote {
                    e.last_ping_in = Some(now);
                } else if follow && e.connected && ping.is_connection != Some(true) {
                    moved = their_nat.or(e.nat);
                }
            }
            if let Some(nat) = moved {
                // A heartbeat from a known peer at a new address: it moved
                // (the trust a connection Ping already gets).
                let info = ConnInfo {
                    cluster_id: p.cluster_id,
                    subcluster_id: p.subcluster_id,
                    nat: Some(nat),
                };
                self.on_connection(now, info, requester, remote, None, Some(socket));
                if let Some(e) = self.peer_mut(&requester) {
                    e.last_ping_in = Some(now);
                }
            }
        }
        let endpoint = remote.udp();
        // An IPv4 peer on a dual-stack socket arrives v4-mapped; it must
        // learn its IPv4 address, not `::ffff:a.b.c.d` (written on the
        // stack: an IPv6 address is at most 39 characters).
        let mut address = heapless::String::<48>::new();
        if let Some(a) = endpoint {
            let _ = write!(address, "{}", a.ip().to_canonical());
        }
        if let (Some(e), Some(u)) = (self.peer_mut(&requester), ping.uptime) {
            e.uptime_ms = Some(u.clamp(0.0, 9.0e15) as u64);
        }
        // What the answer reports, as it stands before the connection below.
        let (cache_size, uptime, nat) = (self.store.len() as f64, self.uptime as f64, self.nat);
        // Over an open link there is no NAT: a link-only peer connects
        // without a type (docs/compat.md#link-remotes).
        let conn_nat = self.connection_nat(remote, their_nat);
        let connection = ping.is_connection == Some(true) && conn_nat.is_some();
        if connection {
            self.on_connection(
                now,
                ConnInfo {
                    cluster_id: p.cluster_id,
                    subcluster_id: p.subcluster_id,
                    nat: conn_nat,
                },
                requester,
                remote,
                None,
                Some(socket),
            );
        }
        let mut reply = PongReply {
            cache_size,
            uptime,
            responder_peer_id: &self.peer_id_hex,
            requester_peer_id: requester_hex,
            port: endpoint.map(|a| a.port() as f64),
            is_probe: ping.is_probe,
            address: endpoint.map(|_| address.as_str()),
            reflection_id: ping.reflection_id.filter(|s| !s.is_empty()),
            ping_id: ping.ping_id.filter(|s| !s.is_empty()),
            is_reflection: ping.is_reflection == Some(true),
            nat_type: nat,
            is_connection: connection,
            cache_summary_hash: &self.summary_hash,
            port_after: None,
        };
        let Ok(packet) = reply.to_packet() else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        // Reflection stage 2: a second answer from our probe socket to the
        // asker's probe port.
        let pe = ping
            .probe_external_port
            .filter(|&n| crate::id::is_valid_port(n));
        let second = match (pe, endpoint) {
            (Some(pe), Some(a)) => {
                reply.port_after = Some(pe);
                reply.to_packet().ok().map(|pk| {
                    (
                        Remote::Udp(core::net::SocketAddr::new(a.ip(), pe as u16)),
                        pk,
                    )
                })
            }
            _ => None,
        };
        self.send_packet(socket, remote, &packet);
        if let Some((to, packet)) = second {
            self.send_packet(SocketId::Probe, to, &packet);
        }
    }

    /// A Pong from a known peer: a round-trip sample (since our last request
    /// to it) and the uptime it reports, for the weighted fanout.
    fn observe_pong(&mut self, now: Instant, responder: &PeerId, uptime: Option<f64>) {
        let keepalive = self.config.keepalive_ms;
        let Some(e) = self.peer_mut(responder) else {
            return;
        };
        if let Some(u) = uptime {
            e.uptime_ms = Some(u.clamp(0.0, 9.0e15) as u64);
        }
        let Some(sent) = e.last_request else { return };
        let sample = now.ms_since(sent);
        if sample > keepalive {
            return;
        }
        let sample = sample.min(u64::from(u32::MAX)) as u32;
        e.rtt_ms = Some(match e.rtt_ms {
            // RFC 6298's smoothing: 7/8 old + 1/8 new.
            Some(old) => ((u64::from(old) * 7 + u64::from(sample)) / 8) as u32,
            None => sample,
        });
    }

    /// A Pong on the main socket or a connection's pool socket.
    pub(crate) fn on_pong(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[p.packet_type as usize] += 1;
        self.last_update = Some(now);
        let Ok(pong) = Pong::parse(p.message) else {
            self.metrics.drop(DropReason::Malformed);
            return;
        };
        let Some(responder) = pong.responder_peer_id().and_then(PeerId::from_hex) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        if responder == self.peer_id {
            self.metrics.drop(DropReason::Own);
            return;
        }
        self.observe_pong(now, &responder, pong.uptime());
        let info = ConnInfo {
            cluster_id: p.cluster_id,
            subcluster_id: p.subcluster_id,
            nat: self.connection_nat(remote, pong.nat_type()),
        };
        if pong.is_connection() == Some(true) {
            self.on_connection(now, info, responder, remote, None, Some(socket));
            if let Some(e) = self.peer_mut(&responder) {
                if e.uptime_ms.is_none() {
                    e.uptime_ms = pong.uptime().map(|u| u.clamp(0.0, 9.0e15) as u64);
                }
            }
            if let Some(pid) = pong.ping_id() {
                if let Some(e) = self.peer_mut(&responder) {
                    e.ping_id = heapless::String::try_from(pid).ok();
                }
            }
            return;
        }
        let Some(idx) = self.find_peer(&responder) else {
            self.metrics.drop(DropReason::Unsolicited);
            return;
        };
        if pong.is_reflection() == Some(true) {
            if !self.config.indexed {
                self.on_reflection_pong(now, responder, &pong);
            }
            return;
        }
        // A peer that went missing and answers our heartbeat is back
        // (docs/compat.md#peer-expiry).
        let e = &self.table[idx];
        if !e.connected && !e.indexed {
            self.on_connection(now, info, responder, remote, None, Some(socket));
        }
        if self.config.behaviour.detect_network_change {
            let seen = pong
                .address()
                .and_then(|a| a.parse::<core::net::IpAddr>().ok())
                .map(|a| a.to_canonical());
            if let (Some(seen), Some(e)) = (seen, self.table.get_mut(idx)) {
                let before = e.reported_ip.replace(seen);
                if before.is_some_and(|b| b != seen && Some(b) == self.address) {
                    self.network_changed(now);
                    return;
                }
            }
        }
        if self.config.behaviour.sync_on_summary_mismatch {
            let theirs = pong.cache_summary_hash().filter(|h| !h.is_empty());
            if theirs.is_some_and(|h| h != self.summary_hash) && self.table[idx].connected {
                self.sync_if_due(now, responder);
            }
        }
    }
}
