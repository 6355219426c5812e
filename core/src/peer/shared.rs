//! Helpers shared by the flows: the wall clock, queueing datagrams and
//! events, randomness, the gate.

use alloc::string::String;
use alloc::vec::Vec;

use rand_core::RngCore;

use super::gate::GateKey;
use super::{
    queue_transmit, DropReason, Event, Eviction, Instant, Peer, Remote, SocketId, Transmit,
};
use crate::wire::Packet;

impl Peer {
    /// The wall clock the wire carries (ms since the Unix epoch).
    pub(crate) fn wall_ms(&self, now: Instant) -> f64 {
        let t = (now.as_millis() as i64).saturating_add(self.wall_offset);
        t as f64
    }

    /// Queues a datagram (bounded: at the limit it is dropped and counted).
    pub(crate) fn send(&mut self, socket: SocketId, remote: Remote, bytes: Vec<u8>) {
        queue_transmit(
            &mut self.transmits,
            &mut self.metrics,
            self.config.limits.max_transmits,
            Transmit {
                socket,
                remote,
                bytes,
            },
        );
    }

    /// Encodes and queues a packet. Packets we build always fit; an encode
    /// failure is counted, never a panic.
    pub(crate) fn send_packet(&mut self, socket: SocketId, remote: Remote, packet: &Packet) {
        match packet.encode() {
            Ok(b) => self.send(socket, remote, b),
            Err(_) => self.metrics.drop(DropReason::Invalid),
        }
    }

    /// Queues an event (bounded). Pool and close events always go through:
    /// the host must act on them and they are few.
    pub(crate) fn emit(&mut self, ev: Event) {
        let essential = matches!(
            ev,
            Event::OpenPoolSockets { .. } | Event::ClosePoolSockets { .. } | Event::Closed
        );
        if !essential && self.events.len() >= self.config.limits.max_events {
            self.metrics.drop(DropReason::EventQueueFull);
            return;
        }
        self.events.push_back(ev);
    }

    /// `Event::Ready` if what we would announce changed.
    pub(crate) fn announce_ready(&mut self) {
        let now = (self.nat, self.address, self.port);
        if self.announced == Some(now) {
            return;
        }
        self.announced = Some(now);
        self.emit(Event::Ready {
            nat: self.nat,
            address: self.address,
            port: self.port,
        });
    }

    /// Six random bytes as 12 hex digits (reflection and ping ids).
    pub(crate) fn random_id12(&mut self) -> String {
        let mut b = [0u8; 6];
        self.rng.fill_bytes(&mut b);
        crate::crypto::identity::to_hex(&b)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % (n as u64)) as usize
    }

    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    pub(crate) fn gate_set(&mut self, key: GateKey, ticks: u8) {
        if self.gate.insert(key, (), ticks) {
            self.metrics.evict(Eviction::Gate);
        }
    }
}
