//! The event queue: events ordered by (time, sequence number).
//!
//! A calendar wheel of one slot per millisecond covers the next
//! [`WHEEL_MS`]; later events wait in an ordered map and move into the wheel
//! as time advances. Within a slot, events keep the order they were pushed
//! in (the sequence number), and an event pushed for the current
//! millisecond runs after the ones already there. Pushing and popping are
//! O(1) for the near future, which is where almost every datagram lands.

use std::collections::{BTreeMap, VecDeque};

/// Span of the wheel (ms, a power of two).
pub const WHEEL_MS: u64 = 4096;
const MASK: u64 = WHEEL_MS - 1;

/// A time-ordered FIFO of events.
#[derive(Debug)]
pub struct EventQueue<T> {
    wheel: Vec<VecDeque<T>>,
    in_wheel: usize,
    far: BTreeMap<u64, Vec<T>>,
    in_far: usize,
    /// Every event earlier than this has been popped.
    cursor: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EventQueue<T> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        EventQueue {
            wheel: (0..WHEEL_MS).map(|_| VecDeque::new()).collect(),
            in_wheel: 0,
            far: BTreeMap::new(),
            in_far: 0,
            cursor: 0,
        }
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.in_wheel + self.in_far
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `ev` at `t` (a time in the past runs at the current time).
    pub fn push(&mut self, t: u64, ev: T) {
        let t = t.max(self.cursor);
        if t < self.cursor + WHEEL_MS {
            self.wheel[(t & MASK) as usize].push_back(ev);
            self.in_wheel += 1;
        } else {
            self.far.entry(t).or_default().push(ev);
            self.in_far += 1;
        }
    }

    fn migrate(&mut self) {
        while let Some((&t, _)) = self.far.first_key_value() {
            if t >= self.cursor + WHEEL_MS {
                break;
            }
            let (t, evs) = self.far.pop_first().expect("just seen");
            self.in_far -= evs.len();
            self.in_wheel += evs.len();
            self.wheel[(t & MASK) as usize].extend(evs);
        }
    }

    /// The next event at or before `limit`, with its time. When there is
    /// none, the queue's clock stops at `limit` (events may still be pushed
    /// for `limit`).
    pub fn pop_until(&mut self, limit: u64) -> Option<(u64, T)> {
        loop {
            if self.cursor > limit {
                return None;
            }
            let slot = (self.cursor & MASK) as usize;
            if let Some(ev) = self.wheel[slot].pop_front() {
                self.in_wheel -= 1;
                return Some((self.cursor, ev));
            }
            if self.cursor == limit {
                return None;
            }
            // Leaving an empty slot: give back what a burst made it grow to,
            // or the wheel keeps 4096 times the largest burst in memory.
            if self.wheel[slot].capacity() > 64 {
                self.wheel[slot] = VecDeque::new();
            }
            if self.in_wheel == 0 {
                // Jump over the empty stretch.
                self.cursor = match self.far.first_key_value() {
                    Some((&t, _)) => t.min(limit),
                    None => limit,
                };
            } else {
                self.cursor += 1;
            }
            self.migrate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_then_fifo_order() {
        let mut q = EventQueue::new();
        q.push(10, "b");
        q.push(5, "a");
        q.push(10, "c");
        q.push(10_000, "far1");
        q.push(9_999, "far0");
        q.push(10_000, "far2");
        assert_eq!(q.pop_until(100), Some((5, "a")));
        assert_eq!(q.pop_until(100), Some((10, "b")));
        q.push(10, "d"); // the current millisecond: after c
        assert_eq!(q.pop_until(100), Some((10, "c")));
        assert_eq!(q.pop_until(100), Some((10, "d")));
        assert_eq!(q.pop_until(100), None);
        assert_eq!(q.len(), 3);
        q.push(10_000, "far3"); // pushed while 10 000 is in the far map
        assert_eq!(q.pop_until(20_000), Some((9_999, "far0")));
        q.push(10_000, "far4"); // pushed directly into the wheel
        let rest: Vec<_> = std::iter::from_fn(|| q.pop_until(20_000)).collect();
        assert_eq!(
            rest,
            vec![
                (10_000, "far1"),
                (10_000, "far2"),
                (10_000, "far3"),
                (10_000, "far4")
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn matches_a_sorted_reference() {
        let mut rng = crate::rng::SimRng::new(9);
        let mut q = EventQueue::new();
        let mut reference = Vec::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        let mut popped = Vec::new();
        for _ in 0..20_000 {
            if rng.chance(0.6) {
                let span = if rng.chance(0.1) { 50_000 } else { 300 };
                let t = now + rng.below(span);
                q.push(t, seq);
                reference.push((t, seq));
                seq += 1;
            } else {
                let limit = now + rng.below(50);
                match q.pop_until(limit) {
                    Some((t, s)) => {
                        now = t;
                        popped.push((t, s));
                    }
                    None => now = limit,
                }
            }
        }
        while let Some(x) = q.pop_until(u64::MAX / 2) {
            popped.push(x);
        }
        reference.sort();
        assert_eq!(popped, reference);
    }
}
