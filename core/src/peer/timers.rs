//! Every deadline the Peer waits for, in one ordered map. The host sees the
//! earliest through `poll_timeout`; `handle_timeout` fires the due ones in
//! deadline order (ties in the order they were set).
//!
//! A timer is named by what it is ([`Timer`], with the id of the ping or
//! introduction it belongs to), as quinn-proto's `TimerTable`: `set` arms it
//! (replacing the pending one of the same kind), `stop` disarms it,
//! `deadline` tells whether and when it is pending. The flows keep no
//! handles. `add` is for the kinds that may be pending more than once
//! (`Tick`, `ExtraTick`, `Traversal`).

use alloc::collections::BTreeMap;

use super::time::Instant;

/// What happens when a deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The main loop (every keepalive).
    Tick,
    /// The extra main-loop run 1024 ms after a reflection succeeded.
    ExtraTick,
    /// Call `request_reflection` again.
    ReflectionRetry,
    /// Stage-1 probe timeout.
    ProbeTimeout,
    /// Stage-2 timeout.
    ReflectionTimeout,
    /// No second reflection answer.
    FirstResponderTimeout,
    /// Settle the NAT type.
    Finalise,
    /// Re-send a pending ping (id); `last` removes it afterwards.
    PingRetry { id: u32, last: bool },
    /// No connection to an introduced peer yet: fall back to the proxy.
    IntroFallback(u32),
    /// One hard-NAT traversal round.
    Traversal(u32),
    /// Close the pool if it stayed idle.
    PoolIdle,
    /// Incomplete chains: query for missing links, forget old ones.
    ChainCheck,
    /// Ask the reflection round's introducers once more
    /// (`Behaviour::repeat_reflection_requests`).
    ReflectionRepeat,
}

/// Where a timer sits in the map: its deadline, then the order it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TimerKey(Instant, u64);

#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    map: BTreeMap<TimerKey, Timer>,
    /// The pending timer of each kind armed with `set`.
    armed: BTreeMap<Timer, TimerKey>,
    seq: u64,
}

impl Timers {
    /// Arms `t` for `at`, replacing the pending timer of the same kind.
    pub(crate) fn set(&mut self, at: Instant, t: Timer) {
        self.stop(t);
        let k = self.insert(at, t);
        self.armed.insert(t, k);
    }

    /// Adds a timer `t` at `at` beside any pending one of its kind.
    pub(crate) fn add(&mut self, at: Instant, t: Timer) {
        self.insert(at, t);
    }

    fn insert(&mut self, at: Instant, t: Timer) -> TimerKey {
        self.seq += 1;
        let k = TimerKey(at, self.seq);
        self.map.insert(k, t);
        k
    }

    /// Disarms the pending timer of kind `t` (armed with `set`), if any.
    pub(crate) fn stop(&mut self, t: Timer) {
        if let Some(k) = self.armed.remove(&t) {
            self.map.remove(&k);
        }
    }

    /// When the timer of kind `t` (armed with `set`) is due, if pending.
    pub(crate) fn deadline(&self, t: Timer) -> Option<Instant> {
        self.armed.get(&t).map(|k| k.0)
    }

    /// Whether a timer of kind `t` (armed with `set`) is pending.
    pub(crate) fn is_set(&self, t: Timer) -> bool {
        self.armed.contains_key(&t)
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.map.first_key_value().map(|(k, _)| k.0)
    }

    /// The earliest timer due at `now`, removed.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let (k, _) = self.map.first_key_value()?;
        if k.0 > now {
            return None;
        }
        let (k, t) = self.map.pop_first()?;
        if self.armed.get(&t) == Some(&k) {
            self.armed.remove(&t);
        }
        Some(t)
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.armed.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
