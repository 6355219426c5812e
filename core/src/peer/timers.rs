//! Every deadline the Peer waits for, in one ordered map. The host sees the
//! earliest through `poll_timeout`; `handle_timeout` fires the due ones in
//! deadline order (ties in the order they were set).

use alloc::collections::BTreeMap;

use super::time::Instant;

/// What happens when a deadline passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// A handle to cancel a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey(Instant, u64);

#[derive(Clone, Debug, Default)]
pub(crate) struct Timers {
    map: BTreeMap<TimerKey, Timer>,
    seq: u64,
}

impl Timers {
    pub(crate) fn set(&mut self, at: Instant, t: Timer) -> TimerKey {
        self.seq += 1;
        let k = TimerKey(at, self.seq);
        self.map.insert(k, t);
        k
    }

    pub(crate) fn cancel(&mut self, k: Option<TimerKey>) {
        if let Some(k) = k {
            self.map.remove(&k);
        }
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.map.first_key_value().map(|(k, _)| k.0)
    }

    /// The earliest timer due at `now`, removed.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(TimerKey, Timer)> {
        let (k, _) = self.map.first_key_value()?;
        if k.0 > now {
            return None;
        }
        self.map.pop_first()
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
