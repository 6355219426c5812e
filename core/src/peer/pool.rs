//! The hard-NAT socket pool (§6.10, TRAVERSAL_CONNECT).
//!
//! The Peer owns no sockets: it asks the host to open `pool_size` of them
//! (one [`Event::OpenPoolSockets`]) before the first traversal, names a pool
//! socket in every traversal Transmit, and asks the host to close them when
//! the pool has idled. A pool socket that wins a traversal becomes the
//! connection's socket (it leaves the pool, and a fresh one takes its
//! place); it is closed when that peer leaves the table.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::addr::{PeerId, Remote, SocketId};
use super::events::Event;
use super::metrics::DropReason;
use super::time::Instant;
use super::timers::Timer;
use super::Peer;

/// One pool socket: which traversal it is listening for, and until when.
#[derive(Clone, Debug)]
struct Slot {
    id: u16,
    busy: Option<(u32, Instant)>,
    /// It has sent a probe (`Behaviour::fresh_pool_sockets` replaces it
    /// before the next one).
    used: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SocketPool {
    slots: Vec<Slot>,
    /// Pool sockets that now belong to a connection.
    dedicated: BTreeMap<u16, PeerId>,
    next_id: u16,
}

/// What a datagram on a pool socket means.
pub(crate) enum PoolState {
    /// Not one of ours.
    Unknown,
    /// Free, or its listening time is over (the reference removed its
    /// listener).
    Idle,
    /// Listening for traversal `attempt`.
    Active(u32),
    /// A connection's socket.
    Dedicated,
}

impl SocketPool {
    pub(crate) fn is_open(&self) -> bool {
        !self.slots.is_empty()
    }

    pub(crate) fn open_count(&self) -> usize {
        self.slots.len() + self.dedicated.len()
    }

    fn in_use(&self, id: u16) -> bool {
        self.dedicated.contains_key(&id) || self.slots.iter().any(|s| s.id == id)
    }

    fn alloc_id(&mut self) -> u16 {
        // At most pool_size + max_peers ids are in use, far below 65536.
        for _ in 0..=u16::MAX as usize {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.in_use(id) {
                return id;
            }
        }
        self.next_id
    }

    /// Opens `size` sockets; returns their ids for the host.
    fn open(&mut self, size: u16) -> Vec<SocketId> {
        let mut ids = Vec::with_capacity(size as usize);
        for _ in 0..size {
            let id = self.alloc_id();
            self.slots.push(Slot {
                id,
                busy: None,
                used: false,
            });
            ids.push(SocketId::Pool(id));
        }
        ids
    }

    pub(crate) fn state(&self, id: u16, now: Instant) -> PoolState {
        if self.dedicated.contains_key(&id) {
            return PoolState::Dedicated;
        }
        match self.slots.iter().find(|s| s.id == id) {
            None => PoolState::Unknown,
            Some(Slot {
                busy: Some((a, until)),
                ..
            }) if *until > now => PoolState::Active(*a),
            Some(_) => PoolState::Idle,
        }
    }

    fn free_slots(&self, now: Instant) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.busy.is_none_or(|(_, until)| until <= now))
            .map(|(i, _)| i)
            .collect()
    }

    fn any_busy(&self, now: Instant) -> bool {
        self.slots
            .iter()
            .any(|s| s.busy.is_some_and(|(_, until)| until > now))
    }

    /// Everything open, for `close`.
    pub(crate) fn close_all(&mut self) -> Vec<SocketId> {
        let mut v: Vec<SocketId> = self.slots.drain(..).map(|s| SocketId::Pool(s.id)).collect();
        v.extend(self.dedicated.keys().map(|&id| SocketId::Pool(id)));
        self.dedicated.clear();
        v
    }
}

impl Peer {
    /// Opens the pool if needed (first traversal).
    pub(crate) fn ensure_pool(&mut self, now: Instant) {
        self.timers.stop(Timer::PoolIdle);
        if self.pool.is_open() {
            return;
        }
        let ids = self.pool.open(self.config.limits.pool_size);
        self.emit(Event::OpenPoolSockets { sockets: ids });
        let _ = now;
    }

    /// A random free pool socket, marked busy for `attempt` for the hold time.
    pub(crate) fn take_pool_socket(&mut self, now: Instant, attempt: u32) -> Option<u16> {
        let free = self.pool.free_slots(now);
        if free.is_empty() {
            return None;
        }
        let i = free[self.below(free.len())];
        if self.pool.slots[i].used && self.config.behaviour.fresh_pool_sockets {
            let old = self.pool.slots[i].id;
            let new = self.pool.alloc_id();
            self.pool.slots[i].id = new;
            self.emit(Event::ClosePoolSockets {
                sockets: alloc::vec![SocketId::Pool(old)],
            });
            self.emit(Event::OpenPoolSockets {
                sockets: alloc::vec![SocketId::Pool(new)],
            });
        }
        let hold = self.config.timings.pool_socket_hold_ms;
        let slot = &mut self.pool.slots[i];
        slot.busy = Some((attempt, now.add_ms(hold)));
        slot.used = true;
        Some(slot.id)
    }

    /// Traversal `attempt` is over: its sockets stop listening.
    pub(crate) fn release_pool_sockets(&mut self, now: Instant, attempt: u32) {
        for s in self.pool.slots.iter_mut() {
            if s.busy.is_some_and(|(a, _)| a == attempt) {
                s.busy = None;
            }
        }
        self.arm_pool_idle(now);
    }

    /// Starts the idle countdown when no traversal is running.
    pub(crate) fn arm_pool_idle(&mut self, now: Instant) {
        if !self.pool.is_open() || self.intros.values().any(|a| a.traversing()) {
            return;
        }
        let t = now.add_ms(self.config.timings.pool_idle_ms);
        self.timers.set(t, Timer::PoolIdle);
    }

    pub(crate) fn on_pool_idle(&mut self, now: Instant) {
        if self.intros.values().any(|a| a.traversing()) || self.pool.any_busy(now) {
            self.arm_pool_idle(now);
            return;
        }
        let ids: Vec<SocketId> = self
            .pool
            .slots
            .drain(..)
            .map(|s| SocketId::Pool(s.id))
            .collect();
        if !ids.is_empty() {
            self.emit(Event::ClosePoolSockets { sockets: ids });
        }
    }

    /// The socket `id` now belongs to `peer`; a new one takes its pool slot.
    pub(crate) fn dedicate_pool_socket(&mut self, id: u16, peer: PeerId) {
        let Some(i) = self.pool.slots.iter().position(|s| s.id == id) else {
            return;
        };
        self.pool.slots.remove(i);
        self.pool.dedicated.insert(id, peer);
        let new = self.pool.alloc_id();
        self.pool.slots.push(Slot {
            id: new,
            busy: None,
            used: false,
        });
        self.emit(Event::OpenPoolSockets {
            sockets: alloc::vec![SocketId::Pool(new)],
        });
    }

    /// A connection stopped using `socket`: close it if it was a pool socket.
    pub(crate) fn release_dedicated_socket(&mut self, socket: SocketId) {
        if let SocketId::Pool(id) = socket {
            if self.pool.dedicated.remove(&id).is_some() {
                self.emit(Event::ClosePoolSockets {
                    sockets: alloc::vec![socket],
                });
            }
        }
    }

    /// A datagram on a pool socket.
    pub(crate) fn on_pool_datagram(&mut self, now: Instant, id: u16, remote: Remote, bytes: &[u8]) {
        match self.pool.state(id, now) {
            PoolState::Unknown | PoolState::Idle => self.metrics.drop(DropReason::UnknownSocket),
            PoolState::Dedicated => self.receive(now, SocketId::Pool(id), remote, bytes),
            PoolState::Active(attempt) => self.on_traversal_reply(now, attempt, id, remote, bytes),
        }
    }
}
