//! Introductions and hole punching (§6.10).
//!
//! On an Intro we pick a strategy with `nat::connection_strategy(ours,
//! theirs)` (§5.3) and:
//!
//! * DIRECT_CONNECT / DEFER: ping (P6) at 0, +500 and +2000 ms;
//! * PROXY: record the peer as reached through the introducer, then ping;
//! * TRAVERSAL_OPEN (we are the easy side of a hard pair): spray one-byte
//!   datagrams at 1024 random ports of its IP, opening mappings in our NAT;
//! * TRAVERSAL_CONNECT (we are the hard side): every 10 ms a P7 from a random
//!   socket of the pool to its one known port; the first answer on a pool
//!   socket wins (birthday paradox: 256 mappings against 1024 open ports of
//!   64 511 connect about 98 % of the time).
//!
//! If no connection formed after 2048 ms, every strategy falls back to the
//! introducer as proxy.
//!
//! Fixes (docs/compat.md): a traversal answer must come from the target's
//! IP (the reference takes any datagram from anyone, §10.41,
//! #traversal-source); the spray is only done for an Intro that came from a
//! peer we know (it is a 1024× amplifier otherwise, #spray-amplification) and
//! uses fresh ports each time (§10.42); the fallback needs the introducer in
//! our table (#proxy-fallback).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::addr::{PeerId, Remote, SocketId};
use super::events::Event;
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::table::ConnInfo;
use super::time::Instant;
use super::timers::Timer;
use super::Peer;
use crate::nat::{NatType, Strategy};
use crate::wire::control::{Intro, Ping};
use crate::wire::packet::{IdField, MAX_HOPS};
use crate::wire::{Field, PacketRef};

/// An introduction being worked on.
#[derive(Clone, Debug)]
pub(crate) struct IntroAttempt {
    target: PeerId,
    remote: Remote,
    nat: NatType,
    introducer: PeerId,
    cluster_id: IdField,
    subcluster_id: IdField,
    /// The reference's `opts.attempts`: 2 or more means "use the proxy".
    attempts: u8,
    ping_id: String,
    /// Rounds sent so far, while a hard-NAT traversal runs.
    traversal: Option<u32>,
}

impl IntroAttempt {
    pub(crate) fn traversing(&self) -> bool {
        self.traversal.is_some()
    }

    fn info(&self) -> ConnInfo<'_> {
        ConnInfo {
            cluster_id: &self.cluster_id,
            subcluster_id: &self.subcluster_id,
            nat: Some(self.nat),
        }
    }
}

/// `Number(usr1)` as the reference reads the Intro's timestamp: `Some(0)`
/// for an empty field, `None` (NaN) when it is not a decimal number.
fn intro_timestamp(usr1: &[u8]) -> Option<f64> {
    if usr1.is_empty() {
        return Some(0.0);
    }
    let s = core::str::from_utf8(usr1).ok()?.trim();
    if s.is_empty() {
        return Some(0.0);
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    s.parse::<f64>().ok()
}

impl Peer {
    /// An Intro (§6.10 steps 1-12).
    pub(crate) fn on_intro(&mut self, now: Instant, from: Remote, p: &PacketRef<'_>) {
        self.metrics.received_by_type[p.packet_type as usize] += 1;
        let pid_key = GateKey::packet(&p.effective_packet_id());
        if self.gate.contains(&pid_key) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(pid_key, 1);
        if p.hops >= MAX_HOPS {
            self.metrics.drop(DropReason::Stale);
            return;
        }
        if let Some(ts) = intro_timestamp(p.usr1) {
            if ts + (self.config.keepalive_ms as f64) < self.wall_ms(now) {
                self.metrics.drop(DropReason::Stale);
                return;
            }
        }
        let Ok(intro) = Intro::parse(p.message) else {
            self.metrics.drop(DropReason::Malformed);
            return;
        };
        let target = intro.requester_peer_id().and_then(PeerId::from_hex);
        let introducer = intro.responder_peer_id().and_then(PeerId::from_hex);
        let nat = intro.nat_type().filter(|n| n.is_valid());
        let remote = Remote::from_wire(intro.address(), intro.port());
        let (Some(target), Some(introducer), Some(nat), Some(remote)) =
            (target, introducer, nat, remote)
        else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        if target == self.peer_id || introducer == self.peer_id {
            self.metrics.drop(DropReason::Own);
            return;
        }
        let target_key = GateKey::IntroTarget(target, remote);
        if self.gate.contains(&target_key) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(target_key, 2);
        if let Some(e) = self.peer_mut(&target) {
            if e.connected {
                return;
            }
            if p.clock > 0 && p.clock < e.clock {
                self.metrics.drop(DropReason::Stale);
                return;
            }
            e.clock = p.clock;
        }
        let conn_key = GateKey::Conn(target);
        if self.gate.contains(&conn_key) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(conn_key, 1);
        if self.intros.len() >= self.config.limits.max_intros {
            self.metrics.evict(Eviction::IntroRefused);
            return;
        }
        let strategy = self.strategy_towards(Some(nat));
        self.emit(Event::Intro {
            peer_id: target,
            remote,
            nat,
            introducer,
            strategy,
            rendezvous: intro.is_rendezvous() == Some(true),
        });
        let id = self.next_intro;
        self.next_intro = self.next_intro.wrapping_add(1);
        self.timers.set(
            now.add_ms(self.config.timings.intro_fallback_ms),
            Timer::IntroFallback(id),
        );
        let attempt = IntroAttempt {
            target,
            remote,
            nat,
            introducer,
            cluster_id: IdField::from_slice(p.cluster_id).unwrap_or_default(),
            subcluster_id: IdField::from_slice(p.subcluster_id).unwrap_or_default(),
            attempts: 0,
            ping_id: self.random_id12(),
            traversal: None,
        };
        self.intros.insert(id, attempt);
        match strategy {
            Strategy::TraversalConnect => self.start_traversal(now, id),
            Strategy::TraversalOpen => {
                // Only for an Intro from a peer we know: a forged Intro must
                // not turn us into a 1024× amplifier.
                if self.table.iter().any(|e| e.remote == from) {
                    self.spray(remote);
                } else {
                    self.metrics.drop(DropReason::Invalid);
                }
            }
            Strategy::Proxy => {
                if self.peer(&target).is_none_or(|e| e.proxy.is_none()) {
                    self.connect_via_proxy(now, id);
                }
                self.intro_ping(now, id, p.subcluster_id);
            }
            Strategy::DirectConnect | Strategy::Defer => self.intro_ping(now, id, p.subcluster_id),
        }
    }

    /// P6 three times (0, +500, +2000 ms).
    fn intro_ping(&mut self, now: Instant, id: u32, subcluster: &[u8]) {
        let Some(a) = self.intros.get(&id) else {
            return;
        };
        let (target, remote) = (a.target, a.remote);
        let msg = Ping::intro_answer(
            self.nat,
            &self.summary_hash,
            &self.peer_id_hex,
            self.uptime as f64,
            self.wall_ms(now),
        );
        if let Some(pk) = self.ping_packet(&msg, Some(subcluster)) {
            self.send_ping(now, SocketId::Main, remote, Some(target), &pk, true);
        }
    }

    /// Record the target as reached through the introducer.
    fn connect_via_proxy(&mut self, now: Instant, id: u32) {
        let Some(a) = self.intros.get(&id).cloned() else {
            return;
        };
        if self.find_peer(&a.introducer).is_none() {
            // The reference records a "connection" with no proxy at all here;
            // a peer we cannot reach directly nor through anyone is not one.
            self.metrics.drop(DropReason::Invalid);
            return;
        }
        self.metrics.proxy_fallbacks += 1;
        self.on_connection(now, a.info(), a.target, a.remote, Some(a.introducer), None);
    }

    pub(crate) fn on_intro_fallback(&mut self, now: Instant, id: u32) {
        let Some(a) = self.intros.get_mut(&id) else {
            return;
        };
        let target = a.target;
        if self.find_peer(&target).is_none() {
            if let Some(a) = self.intros.get_mut(&id) {
                a.attempts = 2;
            }
            self.connect_via_proxy(now, id);
        }
        self.finish_intro_if_done(now, id);
    }

    fn finish_intro_if_done(&mut self, now: Instant, id: u32) {
        let fallback = self.timers.is_set(Timer::IntroFallback(id));
        let done = self
            .intros
            .get(&id)
            .is_none_or(|a| !fallback && a.traversal.is_none());
        if done {
            self.intros.remove(&id);
            self.arm_pool_idle(now);
        }
    }

    /// The easy side of a hard pair: one byte to `spray_ports` distinct
    /// random ports of the target's IP, from the main socket.
    fn spray(&mut self, target: Remote) {
        let Some(ip) = target.ip() else { return };
        let n = usize::from(self.config.timings.spray_ports).min(64_511);
        let mut ports: Vec<u16> = Vec::with_capacity(n);
        // Partial Fisher-Yates over 1024..=65535: distinct, uniform.
        let mut pool: alloc::collections::BTreeMap<u32, u32> = alloc::collections::BTreeMap::new();
        let span: u32 = 65_536 - 1024;
        for i in 0..n as u32 {
            let j = i + (self.below((span - i) as usize) as u32);
            let vj = *pool.get(&j).unwrap_or(&j);
            let vi = *pool.get(&i).unwrap_or(&i);
            pool.insert(j, vi);
            ports.push((vj + 1024) as u16);
        }
        for port in ports {
            self.send(
                SocketId::Main,
                Remote::Udp(SocketAddr::new(ip, port)),
                alloc::vec![1],
            );
        }
    }

    fn start_traversal(&mut self, now: Instant, id: u32) {
        self.ensure_pool(now);
        if let Some(a) = self.intros.get_mut(&id) {
            a.traversal = Some(0);
        }
        let t = now.add_ms(self.config.timings.traversal_interval_ms);
        self.timers.add(t, Timer::Traversal(id));
    }

    /// One traversal round: a P7 from a random free pool socket.
    pub(crate) fn on_traversal_round(&mut self, now: Instant, id: u32) {
        let Some(a) = self.intros.get(&id) else {
            return;
        };
        let Some(round) = a.traversal else { return };
        let rounds = self
            .config
            .behaviour
            .traversal_rounds
            .unwrap_or(self.config.timings.traversal_rounds);
        if round >= rounds {
            self.metrics.traversals_exhausted += 1;
            self.release_pool_sockets(now, id);
            let Some(a) = self.intros.get_mut(&id) else {
                return;
            };
            a.traversal = None;
            a.attempts = a.attempts.saturating_add(1);
            let (target, attempts) = (a.target, a.attempts);
            let connected = self.peer(&target).is_some_and(|e| e.connected);
            if !connected {
                if attempts >= 2 || self.config.behaviour.single_traversal {
                    self.connect_via_proxy(now, id);
                } else {
                    // The reference's shared counter gives another round
                    // (§10.43).
                    self.start_traversal(now, id);
                    return;
                }
            }
            self.finish_intro_if_done(now, id);
            return;
        }
        let (target, cid, scid, ping_id) = (
            a.remote,
            a.cluster_id.clone(),
            a.subcluster_id.clone(),
            a.ping_id.clone(),
        );
        if let Some(a) = self.intros.get_mut(&id) {
            a.traversal = Some(round + 1);
        }
        let next = now.add_ms(self.config.timings.traversal_interval_ms);
        self.timers.add(next, Timer::Traversal(id));
        let Some(socket) = self.take_pool_socket(now, id) else {
            self.metrics.evict(Eviction::PoolExhausted);
            return;
        };
        let msg = Ping::traversal(
            &self.peer_id_hex,
            &self.summary_hash,
            self.nat,
            self.uptime as f64,
            self.wall_ms(now),
            &ping_id,
        );
        let Ok(mut pk) = msg.to_packet() else { return };
        let _ = pk.set(Field::ClusterId, &cid);
        let _ = pk.set(Field::SubclusterId, &scid);
        self.send_packet(SocketId::Pool(socket), target, &pk);
    }

    /// A datagram on a pool socket that listens for traversal `id`.
    pub(crate) fn on_traversal_reply(
        &mut self,
        now: Instant,
        id: u32,
        socket: u16,
        from: Remote,
        bytes: &[u8],
    ) {
        let Some(a) = self
            .intros
            .get(&id)
            .filter(|a| a.traversal.is_some())
            .cloned()
        else {
            self.metrics.drop(DropReason::UnknownSocket);
            return;
        };
        if from.ip().is_none() || from.ip() != a.remote.ip() {
            self.metrics.drop(DropReason::Invalid);
            return;
        }
        self.metrics.traversals_succeeded += 1;
        if let Some(x) = self.intros.get_mut(&id) {
            x.traversal = None;
        }
        self.release_pool_sockets(now, id);
        self.dedicate_pool_socket(socket, a.target);
        let sock = SocketId::Pool(socket);
        self.on_connection(now, a.info(), a.target, from, None, Some(sock));
        if self.peer(&a.target).is_none_or(|e| e.socket != sock) {
            // The table would not take it: the socket has no owner.
            self.release_dedicated_socket(sock);
        } else {
            let msg = Ping::traversal_confirmation(&self.peer_id_hex, self.nat);
            if let Ok(mut pk) = msg.to_packet() {
                pk.clock = self.clock;
                let _ = pk.set(Field::ClusterId, &a.cluster_id);
                let _ = pk.set(Field::SubclusterId, &a.subcluster_id);
                self.send_packet(sock, from, &pk);
            }
        }
        self.finish_intro_if_done(now, id);
        // Then the datagram itself is handled like any other.
        self.receive(now, sock, from, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::intro_timestamp;

    #[test]
    fn usr1_reads_like_number() {
        assert_eq!(intro_timestamp(b""), Some(0.0));
        assert_eq!(intro_timestamp(b"1700000000000"), Some(1.7e12));
        assert_eq!(intro_timestamp(&[0]), None);
        assert_eq!(intro_timestamp(b"abc"), None);
        assert_eq!(intro_timestamp(b" 12 "), Some(12.0));
    }
}
