//! Datagrams over a datagram link with a small MTU (a BLE characteristic
//! of about 180 bytes): fragmentation, and a bounded reassembly table.
//!
//! ## The fragment (integers big-endian)
//!
//! | offset | size | field |
//! | ---: | ---: | --- |
//! | 0 | 2 | datagram id: the sender's counter, +1 per datagram, wrapping |
//! | 2 | 1 | fragment index, `0 ..= count - 1` |
//! | 3 | 1 | fragment count, `1 ..= 255` (1: the datagram is whole) |
//! | 4 | rest | the fragment's bytes (at least one) |
//!
//! [`FRAGMENT_HEADER`] is 4 bytes. The datagram is the fragments' bytes in
//! index order. A sender cuts every fragment but the last to `mtu - 4`
//! bytes; a receiver does not rely on it (it concatenates by index). The
//! link is assumed to deliver each fragment whole or not at all (BLE's link
//! layer checks its own CRC); fragments may arrive in any order.
//!
//! ## The receiver's bounds
//!
//! A [`Reassembler`] holds at most `max_reassemblies` datagrams in
//! progress of at most `max_datagram` bytes each. A new datagram when the
//! table is full evicts the oldest; one that is not complete `timeout_ms`
//! after its first fragment is dropped (time is an input:
//! [`Reassembler::handle_timeout`], [`Reassembler::poll_timeout`]).
//! Malformed fragments, duplicates and datagrams that would exceed
//! `max_datagram` are dropped; every drop is counted in
//! [`ReassemblyCounters`].
//!
//! ```
//! use streamrelay::link::fragment::{FragmentConfig, Fragmenter, Reassembler};
//! use streamrelay::peer::Instant;
//! let config = FragmentConfig { mtu: 20, ..FragmentConfig::default() };
//! let mut tx = Fragmenter::new(&config);
//! let mut frags = Vec::new();
//! tx.fragment(b"a datagram longer than one BLE write", |f| frags.push(f.to_vec())).unwrap();
//! assert_eq!(frags.len(), 3);
//! let mut rx = Reassembler::new(config);
//! let now = Instant::from_millis(0);
//! assert!(rx.push(now, &frags[2]).is_none());
//! assert!(rx.push(now, &frags[0]).is_none());
//! assert_eq!(rx.push(now, &frags[1]), Some(&b"a datagram longer than one BLE write"[..]));
//! ```

use alloc::vec::Vec;

use crate::peer::Instant;

/// Bytes of header in each fragment.
pub const FRAGMENT_HEADER: usize = 4;

/// The settings of both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentConfig {
    /// The link's largest datagram, header included (at least 5; default
    /// 180).
    pub mtu: usize,
    /// The largest datagram sent or reassembled (default 2048).
    pub max_datagram: usize,
    /// Datagrams in reassembly at once (at least 1; default 8).
    pub max_reassemblies: usize,
    /// How long a datagram may take to complete, from its first fragment
    /// (default 10 000 ms).
    pub timeout_ms: u64,
}

impl Default for FragmentConfig {
    fn default() -> Self {
        FragmentConfig {
            mtu: 180,
            max_datagram: 2048,
            max_reassemblies: 8,
            timeout_ms: 10_000,
        }
    }
}

/// Why a datagram could not be fragmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// A datagram has at least one byte.
    #[error("empty datagram")]
    Empty,
    /// Longer than `max_datagram`, or more than 255 fragments at this MTU.
    #[error("datagram of {len} bytes exceeds {max}")]
    TooLarge {
        /// The datagram's length.
        len: usize,
        /// The most this configuration sends.
        max: usize,
    },
}

/// Cuts datagrams into fragments of at most `mtu` bytes.
#[derive(Clone, Debug)]
pub struct Fragmenter {
    chunk: usize,
    max: usize,
    next_id: u16,
    scratch: Vec<u8>,
}

impl Fragmenter {
    /// A fragmenter; its first datagram id is 0.
    pub fn new(config: &FragmentConfig) -> Self {
        let mtu = config.mtu.max(FRAGMENT_HEADER + 1);
        let chunk = mtu - FRAGMENT_HEADER;
        Fragmenter {
            chunk,
            max: config.max_datagram.min(chunk * 255),
            next_id: 0,
            scratch: Vec::with_capacity(mtu),
        }
    }

    /// The largest datagram this fragmenter sends.
    pub fn max_datagram(&self) -> usize {
        self.max
    }

    /// Cut `datagram`, calling `emit` with each fragment in order; returns
    /// the number of fragments.
    pub fn fragment(
        &mut self,
        datagram: &[u8],
        mut emit: impl FnMut(&[u8]),
    ) -> Result<usize, FragmentError> {
        if datagram.is_empty() {
            return Err(FragmentError::Empty);
        }
        if datagram.len() > self.max {
            return Err(FragmentError::TooLarge {
                len: datagram.len(),
                max: self.max,
            });
        }
        let count = datagram.len().div_ceil(self.chunk);
        let id = self.next_id.to_be_bytes();
        self.next_id = self.next_id.wrapping_add(1);
        for (i, part) in datagram.chunks(self.chunk).enumerate() {
            self.scratch.clear();
            self.scratch
                .extend_from_slice(&[id[0], id[1], i as u8, count as u8]);
            self.scratch.extend_from_slice(part);
            emit(&self.scratch);
        }
        Ok(count)
    }
}

/// What a [`Reassembler`] saw and dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReassemblyCounters {
    /// Fragments pushed.
    pub fragments_in: u64,
    /// Datagrams returned whole.
    pub datagrams_out: u64,
    /// Fragments too short, with index ≥ count, count 0, or a count that
    /// disagrees with the datagram's other fragments.
    pub malformed: u64,
    /// Fragments whose index was already there.
    pub duplicates: u64,
    /// Datagrams dropped because they grew past `max_datagram`.
    pub too_large: u64,
    /// Datagrams dropped incomplete after `timeout_ms`.
    pub timed_out: u64,
    /// Datagrams dropped incomplete to make room for a new one.
    pub evicted: u64,
}

#[derive(Clone, Debug)]
struct Slot {
    id: u16,
    count: u8,
    started: Instant,
    have: [u64; 4],
    /// (index, start in `data`, length)
    parts: Vec<(u8, usize, usize)>,
    data: Vec<u8>,
}

impl Slot {
    fn has(&self, i: u8) -> bool {
        self.have[usize::from(i / 64)] & (1 << (i % 64)) != 0
    }
}

/// Puts fragments back together; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Reassembler {
    config: FragmentConfig,
    slots: Vec<Slot>,
    out: Vec<u8>,
    counters: ReassemblyCounters,
}

impl Reassembler {
    /// An empty table.
    pub fn new(config: FragmentConfig) -> Self {
        let config = FragmentConfig {
            max_reassemblies: config.max_reassemblies.max(1),
            max_datagram: config.max_datagram.max(1),
            ..config
        };
        Reassembler {
            config,
            slots: Vec::new(),
            out: Vec::new(),
            counters: ReassemblyCounters::default(),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> ReassemblyCounters {
        self.counters
    }

    /// Datagrams in progress.
    pub fn pending(&self) -> usize {
        self.slots.len()
    }

    /// Bytes held by the datagrams in progress.
    pub fn pending_bytes(&self) -> usize {
        self.slots.iter().map(|s| s.data.len()).sum()
    }

    /// When the oldest datagram in progress times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .map(|s| s.started.add_ms(self.config.timeout_ms))
            .min()
    }

    /// Drop the datagrams whose time is up.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.config.timeout_ms;
        let before = self.slots.len();
        self.slots.retain(|s| now.ms_since(s.started) < t);
        self.counters.timed_out += (before - self.slots.len()) as u64;
    }

    /// Take one fragment; returns the datagram it completes, if any.
    pub fn push(&mut self, now: Instant, fragment: &[u8]) -> Option<&[u8]> {
        self.counters.fragments_in += 1;
        let (id, index, count, body) = match fragment {
            [a, b, i, c, body @ ..] if !body.is_empty() && *c > 0 && i < c => {
                (u16::from_be_bytes([*a, *b]), *i, *c, body)
            }
            _ => {
                self.counters.malformed += 1;
                return None;
            }
        };
        let max = self.config.max_datagram;
        if count == 1 {
            if body.len() > max {
                self.counters.too_large += 1;
                return None;
            }
            self.out.clear();
            self.out.extend_from_slice(body);
            self.counters.datagrams_out += 1;
            return Some(&self.out);
        }
        self.handle_timeout(now);
        let at = match self.slots.iter().position(|s| s.id == id) {
            Some(at) => at,
            None => {
                if self.slots.len() >= self.config.max_reassemblies {
                    let oldest = (0..self.slots.len()).min_by_key(|&i| self.slots[i].started)?;
                    self.slots.swap_remove(oldest);
                    self.counters.evicted += 1;
                }
                self.slots.push(Slot {
                    id,
                    count,
                    started: now,
                    have: [0; 4],
                    parts: Vec::new(),
                    data: Vec::new(),
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[at];
        if slot.count != count {
            self.counters.malformed += 1;
            return None;
        }
        if slot.has(index) {
            self.counters.duplicates += 1;
            return None;
        }
        if slot.data.len() + body.len() > max {
            self.slots.swap_remove(at);
            self.counters.too_large += 1;
            return None;
        }
        slot.have[usize::from(index / 64)] |= 1 << (index % 64);
        slot.parts.push((index, slot.data.len(), body.len()));
        slot.data.extend_from_slice(body);
        if slot.parts.len() < usize::from(count) {
            return None;
        }
        let mut slot = self.slots.swap_remove(at);
        slot.parts.sort_unstable_by_key(|p| p.0);
        self.out.clear();
        for &(_, s, l) in &slot.parts {
            self.out.extend_from_slice(&slot.data[s..s + l]);
        }
        self.counters.datagrams_out += 1;
        Some(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn frags(tx: &mut Fragmenter, d: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        tx.fragment(d, |f| v.push(f.to_vec())).unwrap();
        v
    }

    #[test]
    fn round_trip_any_order() {
        let c = FragmentConfig::default();
        let mut tx = Fragmenter::new(&c);
        let mut rx = Reassembler::new(c);
        let d: Vec<u8> = (0..1421u32).map(|i| (i * 13) as u8).collect();
        let mut f = frags(&mut tx, &d);
        assert_eq!(f.len(), 9); // 176 bytes each
        assert!(f.iter().all(|x| x.len() <= 180));
        f.reverse();
        let t = Instant::from_millis(5);
        for x in &f[..8] {
            assert!(rx.push(t, x).is_none());
        }
        assert_eq!(rx.push(t, &f[8]), Some(&d[..]));
        assert_eq!(rx.pending(), 0);
        // A small one is whole.
        let f = frags(&mut tx, b"hi");
        assert_eq!(f, vec![vec![0, 1, 0, 1, b'h', b'i']]);
        assert_eq!(rx.push(t, &f[0]), Some(&b"hi"[..]));
    }

    #[test]
    fn errors_and_malformed() {
        let c = FragmentConfig {
            mtu: 10,
            max_datagram: 100,
            ..Default::default()
        };
        let mut tx = Fragmenter::new(&c);
        assert_eq!(tx.fragment(b"", |_| {}), Err(FragmentError::Empty));
        assert_eq!(
            tx.fragment(&[0; 101], |_| {}),
            Err(FragmentError::TooLarge { len: 101, max: 100 })
        );
        let mut rx = Reassembler::new(c);
        let t = Instant::ZERO;
        for bad in [&[][..], &[1, 2, 0, 1], &[1, 2, 3, 3, 9], &[1, 2, 0, 0, 9]] {
            assert!(rx.push(t, bad).is_none());
        }
        assert_eq!(rx.counters().malformed, 4);
        // Count disagrees, duplicate.
        assert!(rx.push(t, &[0, 7, 0, 3, 1]).is_none());
        assert!(rx.push(t, &[0, 7, 1, 4, 1]).is_none());
        assert!(rx.push(t, &[0, 7, 0, 3, 1]).is_none());
        let k = rx.counters();
        assert_eq!((k.malformed, k.duplicates), (5, 1));
        // Too large.
        let mut big = vec![0, 8, 0, 2];
        big.extend([1; 60]);
        assert!(rx.push(t, &big).is_none());
        big[2] = 1;
        assert!(rx.push(t, &big).is_none());
        assert_eq!(rx.counters().too_large, 1);
    }

    #[test]
    fn timeout_and_eviction() {
        let c = FragmentConfig {
            mtu: 8,
            max_reassemblies: 3,
            timeout_ms: 100,
            ..Default::default()
        };
        let mut rx = Reassembler::new(c);
        for id in 0..5u8 {
            assert!(rx
                .push(
                    Instant::from_millis(u64::from(id)),
                    &[0, id, 0, 2, 1, 2, 3, 4]
                )
                .is_none());
        }
        assert_eq!(rx.pending(), 3);
        assert_eq!(rx.counters().evicted, 2);
        assert_eq!(rx.poll_timeout(), Some(Instant::from_millis(102)));
        rx.handle_timeout(Instant::from_millis(102));
        assert_eq!(rx.pending(), 2);
        // The second half of id 4 still completes it.
        assert_eq!(
            rx.push(Instant::from_millis(103), &[0, 4, 1, 2, 5]),
            Some(&[1, 2, 3, 4, 5][..])
        );
        rx.handle_timeout(Instant::from_millis(1000));
        assert_eq!(rx.pending(), 0);
        assert_eq!(rx.counters().timed_out, 2);
    }

    #[test]
    fn flood_stays_bounded() {
        let c = FragmentConfig {
            mtu: 180,
            max_datagram: 2048,
            max_reassemblies: 8,
            timeout_ms: 1000,
        };
        let mut rx = Reassembler::new(c);
        let mut x = 0x9E37_79B9u32;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut buf = Vec::new();
        for step in 0..200_000u64 {
            buf.clear();
            let id = (rnd() % 64) as u16;
            let count = (rnd() % 255 + 1) as u8;
            let index = (rnd() % u32::from(count)) as u8;
            buf.extend_from_slice(&id.to_be_bytes());
            buf.extend_from_slice(&[index, count]);
            buf.extend((0..rnd() % 176 + 1).map(|_| 0xEE));
            if let Some(d) = rx.push(Instant::from_millis(step / 10), &buf) {
                assert!(d.len() <= 2048);
            }
            assert!(rx.pending() <= 8);
            assert!(rx.pending_bytes() <= 8 * 2048);
        }
        let k = rx.counters();
        assert_eq!(k.fragments_in, 200_000);
        assert!(k.evicted + k.timed_out + k.too_large + k.malformed + k.duplicates > 0);
    }
}
