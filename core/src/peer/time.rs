//! Time as an input: the host's monotonic clock in milliseconds.
//!
//! The core never reads a clock. Every entry point takes `now`; timers are
//! deadlines the host learns from [`Peer::poll_timeout`](super::Peer::poll_timeout).
//! Wall-clock values that travel on the wire (Ping `timestamp`, Intro `usr1`,
//! Join `rendezvousDeadline`) are `now + wall_clock_offset_ms` (see
//! [`Config::wall_clock_offset_ms`](super::Config::wall_clock_offset_ms)).

use core::fmt;

/// A point on the host's monotonic clock, in milliseconds. Only differences
/// matter; the origin is the host's choice.
///
/// ```
/// use streamrelay::peer::Instant;
/// let t = Instant::from_millis(1_000);
/// assert_eq!(t.add_ms(500).as_millis(), 1_500);
/// assert_eq!(t.add_ms(500).ms_since(t), 500);
/// assert_eq!(t.ms_since(t.add_ms(500)), 0); // saturates
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// As milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + ms`, saturating.
    pub const fn add_ms(self, ms: u64) -> Self {
        Instant(self.0.saturating_add(ms))
    }

    /// `self - earlier` in ms, 0 if `earlier` is later.
    pub const fn ms_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
