//! The bounded queue between the loop thread and the application.
//!
//! Overflow policy: when the queue holds `capacity` events, a new event is
//! **dropped and counted** ([`Status::events_dropped`](crate::Status)), the
//! ones already queued are kept (the oldest is what the application is
//! about to read; dropping newest is also what the Peer does with its own
//! queue). [`Event::Closed`], the last event, always gets in, so the queue
//! exceeds its capacity by at most one. Hard-NAT pool events never enter:
//! the Node acts on them itself.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use streamrelay::peer::Event;

/// What the Node tells the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
// Nearly every event is a Peer event: boxing it would allocate for each.
#[allow(clippy::large_enum_variant)]
pub enum NodeEvent {
    /// An event of the Peer (everything but the pool-socket requests, which
    /// the Node handles).
    Peer(Event),
    /// Something the Node could not do and carried on without (a pool socket
    /// that would not bind, a state file that could not be written or
    /// read). The text says what and why.
    Error(String),
    /// A link ended (end of stream, a read or write error, or
    /// [`Node::remove_link`](crate::Node::remove_link)); the Node closed
    /// its file descriptor, if it had one.
    LinkClosed {
        /// Which link.
        link: crate::LinkId,
        /// Why, in words.
        reason: String,
    },
}

/// A callback run (on the loop thread) when the queue goes from empty to
/// non-empty: a binding uses it to wake its own event loop.
pub type Notify = Box<dyn Fn() + Send + Sync>;

pub(crate) struct EventQueue {
    q: Mutex<Queue>,
    cv: Condvar,
    notify: Option<Notify>,
}

struct Queue {
    events: VecDeque<NodeEvent>,
    capacity: usize,
    dropped: u64,
    closed: bool,
}

impl EventQueue {
    pub(crate) fn new(capacity: usize, notify: Option<Notify>) -> EventQueue {
        EventQueue {
            q: Mutex::new(Queue {
                events: VecDeque::new(),
                capacity: capacity.max(1),
                dropped: 0,
                closed: false,
            }),
            cv: Condvar::new(),
            notify,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `ev` under the overflow policy.
    pub(crate) fn push(&self, ev: NodeEvent) {
        let was_empty;
        {
            let mut q = self.lock();
            let last = matches!(ev, NodeEvent::Peer(Event::Closed));
            if q.events.len() >= q.capacity && !last {
                q.dropped += 1;
                return;
            }
            if last {
                q.closed = true;
            }
            was_empty = q.events.is_empty();
            q.events.push_back(ev);
        }
        self.cv.notify_all();
        if was_empty {
            if let Some(n) = &self.notify {
                n();
            }
        }
    }

    /// Marks the queue finished (the loop thread ended): readers stop
    /// waiting once it is empty.
    pub(crate) fn finish(&self) {
        self.lock().closed = true;
        self.cv.notify_all();
    }

    pub(crate) fn try_pop(&self) -> Option<NodeEvent> {
        self.lock().events.pop_front()
    }

    /// Waits up to `timeout` (for ever with `None`) for an event; `None` at
    /// the timeout or once the Node is closed and the queue drained.
    pub(crate) fn pop(&self, timeout: Option<Duration>) -> Option<NodeEvent> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut q = self.lock();
        loop {
            if let Some(ev) = q.events.pop_front() {
                return Some(ev);
            }
            if q.closed {
                return None;
            }
            q = match deadline {
                None => self.cv.wait(q).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return None;
                    }
                    self.cv
                        .wait_timeout(q, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_drops_newest_and_counts_but_closed_gets_in() {
        let q = EventQueue::new(2, None);
        for i in 0..5 {
            q.push(NodeEvent::Error(format!("{i}")));
        }
        q.push(NodeEvent::Peer(Event::Closed));
        assert_eq!(q.dropped(), 3);
        assert_eq!(q.try_pop(), Some(NodeEvent::Error("0".into())));
        assert_eq!(q.try_pop(), Some(NodeEvent::Error("1".into())));
        assert_eq!(q.try_pop(), Some(NodeEvent::Peer(Event::Closed)));
        assert_eq!(q.pop(None), None, "closed and drained: no wait");
    }

    #[test]
    fn pop_times_out() {
        let q = EventQueue::new(4, None);
        let t = Instant::now();
        assert_eq!(q.pop(Some(Duration::from_millis(30))), None);
        assert!(t.elapsed() >= Duration::from_millis(30));
    }
}
