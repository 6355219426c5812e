//! Reflection: finding our public endpoint and NAT type (§6.8, §5.2).
//!
//! Stage 1 sends a Ping from the probe socket to one introducer to learn the
//! probe socket's public port. Stage 2 asks two introducers (from the main
//! socket) what they see, and asks both to answer the probe port too: equal
//! ports mean an endpoint-independent mapping; the answers that get through
//! to the probe socket tell the firewall's filter.
//!
//! Fixes (docs/compat.md#reflection): the stage-2 retry no longer deadlocks
//! on a stale id (§10.36); two answers that disagree on the address restart
//! discovery instead of stalling for good (§10.37); only a valid stage-1
//! answer ends stage 1, not any datagram (§10.38); the firewall class comes
//! from *who* answered the probe socket, not how many (§10.39); a repeated
//! answer from the same introducer is not taken as the second opinion.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use super::addr::{PeerId, Remote, SocketId};
use super::events::Event;
use super::gate::GateKey;
use super::metrics::DropReason;
use super::time::Instant;
use super::timers::Timer;
use super::Peer;
use crate::nat::{
    NatType, FIREWALL_ALLOW_ANY, FIREWALL_ALLOW_KNOWN_IP, FIREWALL_ALLOW_KNOWN_IP_AND_PORT,
    MAPPING_ENDPOINT_DEPENDENT, MAPPING_ENDPOINT_INDEPENDENT,
};
use crate::wire::control::{Ping, Pong};
use crate::wire::{PacketRef, PacketType};

/// The first stage-2 answer.
#[derive(Clone, Debug)]
struct FirstAnswer {
    address: IpAddr,
    port: u16,
    responder: PeerId,
}

/// Reflection state (the reference's `reflection*` fields).
#[derive(Clone, Debug)]
pub(crate) struct Reflection {
    pub(crate) stage: u8,
    pub(crate) id: Option<String>,
    retry: u32,
    next_nat: u8,
    first: Option<FirstAnswer>,
    pub(crate) probe_external_port: Option<u16>,
    /// The stage-2 introducer our probe socket has talked to: an answer from
    /// its IP passes a "known IP" filter, one from elsewhere needs "any".
    peer1_ip: Option<IpAddr>,
    /// Who this round's request went to, for its repetitions
    /// (`Behaviour::reflection_repeats`).
    asked: Vec<PeerId>,
    /// Repetitions still to send, and the time between two.
    repeats_left: u32,
    repeat_every_ms: u64,
}

impl Default for Reflection {
    fn default() -> Self {
        Reflection {
            stage: 0,
            id: None,
            // The reference starts at 1 and increments before waiting, so
            // the first retry is 512 ms away.
            retry: 1,
            next_nat: 0,
            first: None,
            probe_external_port: None,
            peer1_ip: None,
            asked: Vec::new(),
            repeats_left: 0,
            repeat_every_ms: 0,
        }
    }
}

/// Reflection Pings go to at most this many introducers when too few answered.
const BOOTSTRAP_FANOUT: usize = 32;
/// Backoff unit when there are not enough introducers to ask.
const RETRY_UNIT_MS: u64 = 256;

impl Peer {
    pub(crate) fn reset_reflection(&mut self) {
        let r = core::mem::take(&mut self.reflection);
        for t in [
            Timer::ReflectionRetry,
            Timer::ProbeTimeout,
            Timer::ReflectionTimeout,
            Timer::FirstResponderTimeout,
            Timer::Finalise,
            Timer::ReflectionRepeat,
        ] {
            self.timers.stop(t);
        }
        // The probe socket's public port outlives a round (the reference
        // keeps it in `config`).
        self.reflection.probe_external_port = r.probe_external_port;
    }

    fn usable_for_reflection(&self) -> Vec<usize> {
        self.table
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.last_update.is_some()
                    && p.remote.udp().is_some()
                    && (p.indexed
                        || p.nat == Some(NatType::UNRESTRICTED)
                        || p.nat == Some(NatType::ADDR_RESTRICTED))
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn schedule_reflection_retry(&mut self, now: Instant, after_ms: u64) {
        self.timers
            .set(now.add_ms(after_ms), Timer::ReflectionRetry);
    }

    /// `requestReflection` (§6.8).
    pub(crate) fn request_reflection(&mut self, now: Instant) {
        if self.closing
            || self.config.indexed
            || self.config.nat_type.is_some()
            || self.reflection.id.is_some()
        {
            return;
        }
        if self.nat.is_some()
            && self
                .last_update
                .is_some_and(|t| now.ms_since(t) < self.config.keepalive_ms)
        {
            return;
        }
        // Whatever called us supersedes a pending retry.
        self.timers.stop(Timer::ReflectionRetry);
        let usable = self.usable_for_reflection();
        if usable.len() < 2 {
            self.bootstrap_pings(now);
            self.reflection.retry += 1;
            if self.reflection.retry > 16 {
                self.reflection.retry = 1;
            }
            let wait = u64::from(self.reflection.retry) * RETRY_UNIT_MS;
            self.schedule_reflection_retry(now, wait);
            return;
        }
        self.reflection.retry = 1;
        let id = self.random_id12();
        self.reflection.id = Some(id.clone());
        if self.reflection.stage == 0 {
            self.timers.stop(Timer::ReflectionTimeout);
            self.reflection.stage = 1;
            let probed: Vec<usize> = usable
                .iter()
                .copied()
                .filter(|&i| self.table[i].probed.is_some())
                .collect();
            let target = if probed.is_empty() {
                usable[0]
            } else {
                probed[self.below(probed.len())]
            };
            self.table[target].probed = Some(now);
            self.reflection.asked = Vec::from([self.table[target].peer_id]);
            self.send_reflection_request(now);
            let t = self.config.timings.probe_timeout_ms;
            self.timers.set(now.add_ms(t), Timer::ProbeTimeout);
            self.schedule_reflection_repeats(now, t);
            return;
        }
        // Stage 1 → 2.
        self.reflection.stage = 2;
        let peer1 = usable
            .iter()
            .copied()
            .filter(|&i| self.table[i].probed.is_some())
            .max_by_key(|&i| self.table[i].probed);
        let unprobed: Vec<usize> = usable
            .iter()
            .copied()
            .filter(|&i| self.table[i].probed.is_none())
            .collect();
        let peer2 = if unprobed.is_empty() {
            None
        } else {
            Some(unprobed[self.below(unprobed.len())])
        };
        let (Some(peer1), Some(peer2)) = (peer1, peer2) else {
            // The reference keeps its id here and every retry aborts on it
            // (§10.36): clear it and try again. With every usable peer
            // already probed the retry would fail the same way, so all but
            // the latest lose their mark and can serve as peer2.
            if let Some(p1) = peer1 {
                for &i in &usable {
                    if i != p1 {
                        self.table[i].probed = None;
                    }
                }
            }
            self.reflection.stage = 1;
            self.reflection.id = None;
            self.schedule_reflection_retry(now, RETRY_UNIT_MS);
            return;
        };
        self.reflection.next_nat = 0;
        self.reflection.first = None;
        self.reflection.peer1_ip = self.table[peer1].remote.ip();
        self.reflection.asked = Vec::from([self.table[peer1].peer_id, self.table[peer2].peer_id]);
        self.send_reflection_request(now);
        self.timers.stop(Timer::ReflectionTimeout);
        let t = self.config.timings.reflection_timeout_ms;
        self.timers.set(now.add_ms(t), Timer::ReflectionTimeout);
        // Within `probe_wait_ms`: `Finalise` comes that long after the
        // second answer, so answers to the repetitions are still counted.
        self.schedule_reflection_repeats(now, self.config.timings.probe_wait_ms);
    }

    /// The current round's request (stage 1: from the probe socket; stage
    /// 2: from the main socket, with our probe port) to the peers it asks.
    /// A repetition is a new packet (its timestamp differs), so the gates
    /// on both sides let it through.
    fn send_reflection_request(&mut self, now: Instant) {
        let Some(id) = self.reflection.id.clone() else {
            return;
        };
        let probe = self.reflection.stage == 1;
        let port = if probe {
            None
        } else {
            self.reflection.probe_external_port
        };
        let msg = Ping::reflection(
            &self.peer_id_hex,
            &id,
            probe,
            port,
            self.uptime as f64,
            self.wall_ms(now),
        );
        let Some(pk) = self.ping_packet(&msg, None) else {
            return;
        };
        for pid in self.reflection.asked.clone() {
            let Some(p) = self.table.iter().find(|p| p.peer_id == pid) else {
                continue;
            };
            let sock = if probe { SocketId::Probe } else { p.socket };
            let remote = p.remote;
            self.send_ping(now, sock, remote, Some(pid), &pk, false);
        }
    }

    /// `Behaviour::reflection_repeats` repetitions, evenly spread before
    /// `within_ms` has passed.
    fn schedule_reflection_repeats(&mut self, now: Instant, within_ms: u64) {
        let n = self.config.behaviour.reflection_repeats;
        self.reflection.repeats_left = n;
        if n == 0 {
            self.timers.stop(Timer::ReflectionRepeat);
            return;
        }
        let every = (within_ms / (u64::from(n) + 1)).max(1);
        self.reflection.repeat_every_ms = every;
        self.timers.set(now.add_ms(every), Timer::ReflectionRepeat);
    }

    /// P2 to up to 32 introducers in random order: "answer me so I can ask
    /// you for reflection".
    fn bootstrap_pings(&mut self, now: Instant) {
        let mut indexed: Vec<usize> = self
            .table
            .iter()
            .enumerate()
            .filter(|(_, p)| p.indexed)
            .map(|(i, _)| i)
            .collect();
        self.shuffle(&mut indexed);
        indexed.truncate(BOOTSTRAP_FANOUT);
        let msg = Ping::bootstrap(&self.peer_id_hex, self.uptime as f64, self.wall_ms(now));
        let Some(pk) = self.ping_packet(&msg, None) else {
            return;
        };
        for i in indexed {
            let (pid, sock, remote) = (
                self.table[i].peer_id,
                self.table[i].socket,
                self.table[i].remote,
            );
            self.send_ping(now, sock, remote, Some(pid), &pk, false);
        }
    }

    pub(crate) fn on_reflection_timer(&mut self, now: Instant, t: Timer) {
        match t {
            Timer::ReflectionRetry => {
                self.request_reflection(now);
            }
            Timer::ProbeTimeout => {
                if self.reflection.stage != 1 {
                    return;
                }
                // Stage 2 without a probe port (§10.38, kept).
                self.reflection.id = None;
                self.request_reflection(now);
            }
            Timer::ReflectionTimeout => {
                if self.reflection.stage != 2 {
                    return;
                }
                self.timers.stop(Timer::FirstResponderTimeout);
                self.reflection.stage = 1;
                self.reflection.id = None;
                self.request_reflection(now);
            }
            Timer::FirstResponderTimeout => {
                self.restart_reflection(now, false);
            }
            Timer::Finalise => {
                self.finalise_reflection(now);
            }
            Timer::ReflectionRepeat => {
                // Only while the round it was set for is open (a stage-1
                // answer or a new stage gives a new id and re-arms this
                // timer; finalising clears the id). In stage 2 it goes out
                // even when both answers on the main socket are in: the
                // answers that matter are those to the probe socket, unless
                // the most open filter was already seen.
                let open = NatType(self.reflection.next_nat).is_firewall_defined()
                    && self.reflection.next_nat & FIREWALL_ALLOW_ANY == FIREWALL_ALLOW_ANY;
                if self.reflection.id.is_some()
                    && !(self.reflection.stage == 2 && open)
                    && self.reflection.repeats_left > 0
                {
                    self.send_reflection_request(now);
                    self.reflection.repeats_left -= 1;
                    if self.reflection.repeats_left > 0 {
                        let every = self.reflection.repeat_every_ms;
                        self.timers.set(now.add_ms(every), Timer::ReflectionRepeat);
                    }
                }
            }
            _ => {}
        }
    }

    /// Back to stage 0 with a fresh probe; `backoff` waits instead of
    /// starting at once.
    fn restart_reflection(&mut self, now: Instant, backoff: bool) {
        self.timers.stop(Timer::ReflectionRepeat);
        self.timers.stop(Timer::ReflectionTimeout);
        self.timers.stop(Timer::FirstResponderTimeout);
        self.timers.stop(Timer::Finalise);
        self.reflection.stage = 0;
        self.reflection.id = None;
        self.reflection.first = None;
        self.last_update = None;
        if backoff {
            self.reflection.retry = (self.reflection.retry % 16) + 1;
            let wait = u64::from(self.reflection.retry) * RETRY_UNIT_MS;
            self.schedule_reflection_retry(now, wait);
        } else {
            self.request_reflection(now);
        }
    }

    /// A reflection Pong on the main socket from a table entry.
    pub(crate) fn on_reflection_pong(&mut self, now: Instant, responder: PeerId, pong: &Pong) {
        let current = self.reflection.id.as_deref();
        if current.is_none() || pong.reflection_id() != current {
            self.metrics.drop(DropReason::Stale);
            return;
        }
        if self.timers.is_set(Timer::Finalise) || self.reflection.stage != 2 {
            // Already have two answers (or this round is not asking).
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        let Some(Remote::Udp(seen)) = Remote::from_wire(pong.address(), pong.port()) else {
            self.metrics.drop(DropReason::Invalid);
            return;
        };
        match &self.reflection.first {
            None => {
                self.timers.stop(Timer::ReflectionTimeout);
                self.reflection.first = Some(FirstAnswer {
                    address: seen.ip(),
                    port: seen.port(),
                    responder,
                });
                let w = self.config.timings.probe_wait_ms;
                self.timers.set(now.add_ms(w), Timer::FirstResponderTimeout);
            }
            Some(first) if first.responder == responder => {
                self.metrics.drop(DropReason::Duplicate);
                return;
            }
            Some(first) => {
                let (fa, fp) = (first.address, first.port);
                self.timers.stop(Timer::ReflectionTimeout);
                self.timers.stop(Timer::FirstResponderTimeout);
                if seen.ip() != fa {
                    // Two views of our address (§10.37): start over, with a
                    // backoff so a multi-homed host does not spin.
                    self.restart_reflection(now, true);
                    return;
                }
                self.reflection.next_nat |= if seen.port() == fp {
                    MAPPING_ENDPOINT_INDEPENDENT
                } else {
                    MAPPING_ENDPOINT_DEPENDENT
                };
                let w = self.config.timings.probe_wait_ms;
                self.timers.set(now.add_ms(w), Timer::Finalise);
            }
        }
        self.address = Some(seen.ip());
        self.port = Some(seen.port());
    }

    /// Settles the NAT type (§6.8 "Finalise").
    fn finalise_reflection(&mut self, now: Instant) {
        let mut n = self.reflection.next_nat;
        if !NatType(n).is_firewall_defined() {
            n |= FIREWALL_ALLOW_KNOWN_IP_AND_PORT;
        }
        let nat = NatType(n);
        self.reflection.id = None;
        self.reflection.first = None;
        if !nat.is_valid() {
            return;
        }
        let old = self.nat;
        self.nat = Some(nat);
        self.reflection.stage = 0;
        // Tell every peer our (new) type.
        let msg = Ping::nat_announcement(
            &self.peer_id_hex,
            Some(nat),
            self.store.len() as f64,
            self.uptime as f64,
            self.wall_ms(now),
        );
        if let Some(pk) = self.ping_packet(&msg, None) {
            let targets: Vec<(PeerId, SocketId, Remote)> = self
                .table
                .iter()
                .map(|p| (p.peer_id, p.socket, p.remote))
                .collect();
            for (pid, sock, remote) in targets {
                self.send_ping(now, sock, remote, Some(pid), &pk, false);
            }
        }
        self.timers.add(now.add_ms(1024), Timer::ExtraTick);
        if old != Some(nat) {
            self.emit(Event::NatChange {
                old,
                new: Some(nat),
            });
        }
        // Joins that waited for the NAT type go out now.
        let pending: Vec<([u8; 32], [u8; 32])> = self
            .subclusters
            .iter()
            .filter(|(_, m)| !m.announced)
            .map(|(k, _)| *k)
            .collect();
        for (cid, scid) in pending {
            self.send_join(now, cid, scid);
        }
        // `sendUnpublished` after every successful reflection (§7.1).
        self.send_unpublished(now);
        if self.config.behaviour.sync_with_introducers {
            let introducers: Vec<PeerId> = self
                .table
                .iter()
                .filter(|p| p.indexed)
                .map(|p| p.peer_id)
                .collect();
            for id in introducers {
                let _ = self.sync(now, &id);
            }
        }
        self.announce_ready();
    }

    /// The probe socket's own pipeline: reflection answers only (no rate
    /// limit, no firewall hook, as the reference).
    pub(crate) fn on_probe_datagram(&mut self, now: Instant, remote: Remote, bytes: &[u8]) {
        let p = match PacketRef::decode(bytes) {
            Ok(p)
                if p.version == crate::wire::packet::VERSION
                    && p.packet_type == PacketType::Pong =>
            {
                p
            }
            _ => {
                self.metrics.drop(DropReason::Probe);
                return;
            }
        };
        let key = GateKey::packet(&p.effective_packet_id());
        if self.gate.contains(&key) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(key, 1);
        let Ok(pong) = Pong::parse(p.message) else {
            self.metrics.drop(DropReason::Malformed);
            return;
        };
        let current = self.reflection.id.as_deref();
        if current.is_none() || pong.reflection_id() != current {
            self.metrics.drop(DropReason::Probe);
            return;
        }
        match self.reflection.stage {
            1 => {
                let Some(port) = pong.port().filter(|&n| crate::id::is_valid_port(n)) else {
                    self.metrics.drop(DropReason::Invalid);
                    return;
                };
                self.timers.stop(Timer::ProbeTimeout);
                self.reflection.probe_external_port = Some(port as u16);
                self.reflection.id = None;
                self.request_reflection(now);
            }
            2 => {
                let known = remote.ip().is_some() && remote.ip() == self.reflection.peer1_ip;
                self.reflection.next_nat |= if known {
                    FIREWALL_ALLOW_KNOWN_IP
                } else {
                    FIREWALL_ALLOW_ANY
                };
            }
            _ => self.metrics.drop(DropReason::Probe),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Instant, Introducer, Peer, PeerId, Remote, SocketId};

    fn peer() -> Peer {
        let mut c = Config::new(&"01".repeat(32), Some([1; 32]));
        for (n, a) in [(2u8, "198.51.100.1:9001"), (3, "198.51.100.2:9002")] {
            c.introducers.push(Introducer {
                peer_id: PeerId([n; 32]),
                remote: Remote::Udp(a.parse().unwrap()),
            });
        }
        Peer::new(c, Instant::ZERO, [0; 32]).unwrap()
    }

    /// §10.36: stage 2 without an unprobed peer used to keep the round's id
    /// and abort every retry. Now the retry runs and stage 2 goes out.
    #[test]
    fn stage_two_without_unprobed_peer_retries() {
        let mut p = peer();
        p.handle_timeout(Instant::ZERO);
        p.transmits.clear();
        let now = Instant(10_000);
        for e in p.table.iter_mut() {
            e.last_update = Some(now);
            e.probed = Some(Instant(5_000));
        }
        p.table[0].probed = Some(Instant(6_000));
        p.reflection.stage = 1;
        p.request_reflection(now);
        assert!(p.reflection.id.is_none(), "the id is cleared for the retry");
        assert_eq!(p.table[1].probed, None, "the other introducer can be peer2");
        let retry = p.poll_timeout().unwrap();
        assert!(retry <= now.add_ms(256));
        p.transmits.clear();
        p.handle_timeout(now.add_ms(256));
        let sent: alloc::vec::Vec<_> = p.transmits.drain(..).collect();
        assert_eq!(sent.len(), 2, "stage 2 asks both: {sent:?}");
        assert!(sent.iter().all(|t| t.socket == SocketId::Main));
        assert_eq!(p.reflection.stage, 2);
    }
}
