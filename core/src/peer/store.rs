//! The packet cache (spec §7.7) and its summaries (§7.8).
//!
//! Every Publish a peer sees is cached, whatever its cluster, and kept until
//! its TTL runs out; the cache is what Sync reconciles and what Queries are
//! answered from. Entries are the packets' canonical encodings (so answering
//! a Query or a Sync never changes a cached packet: the reference mutates
//! its cached objects, §10.72), keyed by packetId, with the local insert
//! time.
//!
//! Bounded two ways: by bytes (each entry counts its encoded length plus
//! [`CACHE_ENTRY_OVERHEAD`]) and by count. At a bound the **oldest** entry
//! (first inserted) goes; the reference sorts by timestamp and removes the
//! newest (§10.56, docs/compat.md#cache-eviction).
//!
//! Keys are ordered by their bytes, which is also the order of their
//! lower-case hex (hex encoding preserves lexicographic order), so the keys
//! under a hex prefix are one contiguous range and each summary bucket is
//! hashed in the reference's sorted order without sorting or allocating.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use sha1::{Digest, Sha1};

use super::ordmap::OrdMap;
use super::time::Instant;
use crate::cache::{Summary, HASH_EMPTY, MAX_PREFIX};
use crate::wire::packet::IdField;

/// Bytes each cached packet is charged on top of its encoded length: its
/// slot in the cache's slab (key, frame handle, insert time, hash tag and
/// FIFO links: 88 bytes), its hash-index slots (8 bytes, at most half
/// full), its generation (4) and key-order entries (16 bytes each in the
/// sorted array, the unsorted tail and the merge buffer), with the
/// vectors' growth slack (measured: `core/tests/peer_data_alloc.rs`).
pub const CACHE_ENTRY_OVERHEAD: usize = 256;

/// Offset of `hops` (u32, big-endian) in an encoded packet.
pub(crate) const HOPS_AT: usize = 11;
/// Offset of `ttl` (u32, big-endian) in an encoded packet.
pub(crate) const TTL_AT: usize = 19;

/// One cached packet.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The canonical encoding. `hops` is what it last went out with (the
    /// reference's multicast bumps the cached object's hops, §7.1).
    /// Exactly the packet's length; the allocation is recycled when the
    /// entry is evicted.
    pub(crate) frame: Vec<u8>,
    /// Local insert time (the reference's `timestamp`).
    pub(crate) inserted: Instant,
}

impl Entry {
    pub(crate) fn hops(&self) -> u32 {
        read_u32(&self.frame, HOPS_AT)
    }

    pub(crate) fn ttl(&self) -> u32 {
        read_u32(&self.frame, TTL_AT)
    }

    fn cost(&self) -> usize {
        self.frame.len() + CACHE_ENTRY_OVERHEAD
    }
}

pub(crate) fn read_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub(crate) fn write_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// The cache.
#[derive(Debug)]
pub(crate) struct PacketStore {
    /// Lookups (hash index), key order (summaries, kept lazily) and
    /// insertion order (eviction) over one slab.
    entries: OrdMap<IdField, Entry>,
    /// The last evicted frame's allocation, for the next insert.
    spare: Vec<u8>,
    bytes: usize,
    max_bytes: usize,
    max_packets: usize,
}

/// What [`PacketStore::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// Stored, after evicting this many older entries.
    Stored { evicted: usize },
    /// Already there.
    Duplicate,
    /// Larger than the whole cache may be.
    TooLarge,
    /// The frame could not be written (`insert_with`'s `fill` failed).
    Unwritable,
}

impl PacketStore {
    /// `seed` keys the hash index (see [`OrdMap`]).
    pub(crate) fn new(max_bytes: usize, max_packets: usize, seed: u64) -> Self {
        PacketStore {
            entries: OrdMap::new(seed),
            spare: Vec::new(),
            bytes: 0,
            max_bytes,
            max_packets: max_packets.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes charged (encoded lengths plus the per-entry overhead).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.entries.contains(&key_of(key))
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(&key_of(key))
    }

    /// An entry and a handle for [`at_mut`](Self::at_mut) (valid until
    /// the next removal): one search for a read then a write.
    pub(crate) fn locate(&self, key: &[u8]) -> Option<(u32, &Entry)> {
        self.entries.locate(&key_of(key))
    }

    pub(crate) fn at_mut(&mut self, handle: u32) -> Option<&mut Entry> {
        self.entries.at_mut(handle)
    }

    /// Entries oldest first.
    pub(crate) fn iter_oldest_first(&self) -> impl Iterator<Item = (&IdField, &Entry)> + '_ {
        self.entries.iter_fifo()
    }

    /// Entries in key order (brings the key order up to date first).
    pub(crate) fn iter(&mut self) -> impl Iterator<Item = (&IdField, &Entry)> + '_ {
        self.entries.sort();
        self.entries.iter()
    }

    /// Stores a copy of `frame` under `key`, evicting the oldest entries
    /// while the byte or count limit would be exceeded.
    pub(crate) fn insert(&mut self, key: IdField, frame: &[u8], now: Instant) -> Inserted {
        self.insert_with(key, frame.len(), now, |buf| {
            buf.copy_from_slice(frame);
            Some(frame.len())
        })
    }

    /// Stores the frame `fill` writes into a buffer of `len` bytes (it
    /// returns how many it wrote, at most `len`), evicting the oldest
    /// entries while the byte or count limit would be exceeded. In steady
    /// state (every insert evicts a packet of about the same size) the
    /// evicted packet's allocation is reused: no allocation at all.
    pub(crate) fn insert_with(
        &mut self,
        key: IdField,
        len: usize,
        now: Instant,
        fill: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Inserted {
        if self.entries.contains(&key) {
            return Inserted::Duplicate;
        }
        // The spare allocation if it fits without much waste, else a new one.
        let spare = self.spare.capacity();
        let mut frame = if spare >= len && spare <= len + len / 4 + 64 {
            core::mem::take(&mut self.spare)
        } else {
            Vec::with_capacity(len)
        };
        frame.clear();
        frame.resize(len, 0);
        match fill(&mut frame) {
            Some(n) if n <= len => frame.truncate(n),
            _ => {
                self.recycle(frame);
                return Inserted::Unwritable;
            }
        }
        let cost = frame.len() + CACHE_ENTRY_OVERHEAD;
        if cost > self.max_bytes {
            self.recycle(frame);
            return Inserted::TooLarge;
        }
        // Make room first: the oldest go (the new one is not in yet).
        let mut evicted = 0;
        while self.entries.len() > 0
            && (self.entries.len() + 1 > self.max_packets || self.bytes + cost > self.max_bytes)
        {
            if let Some(e) = self.evict_oldest() {
                self.recycle(e.frame);
            }
            evicted += 1;
        }
        let entry = Entry {
            frame,
            inserted: now,
        };
        // Absent: checked above, and evictions only remove.
        self.entries.insert_absent(key, entry);
        self.bytes += cost;
        Inserted::Stored { evicted }
    }

    /// Keeps a frame's allocation for the next insert.
    fn recycle(&mut self, frame: Vec<u8>) {
        if frame.capacity() > self.spare.capacity() || self.spare.capacity() == 0 {
            self.spare = frame;
        }
    }

    /// Like `insert`, with a given insert time (restoring a snapshot).
    pub(crate) fn insert_at(&mut self, key: IdField, frame: &[u8], at: Instant) -> Inserted {
        self.insert(key, frame, at)
    }

    fn evict_oldest(&mut self) -> Option<Entry> {
        let (_, e) = self.entries.pop_oldest()?;
        self.bytes -= e.cost();
        Some(e)
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (_, e) = self.entries.remove(&key_of(key))?;
        self.bytes -= e.cost();
        Some(e)
    }

    /// The keys under a hex `prefix` (ASCII, lower case) whose entries pass
    /// `keep`, in key order.
    pub(crate) fn under_prefix<'a>(
        &'a mut self,
        prefix: &'a [u8],
        keep: impl Fn(&Entry) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a IdField, &'a Entry)> + 'a {
        let lower = prefix_lower_bound(prefix);
        self.entries.sort();
        self.entries
            .range_from(&lower)
            .take_while(move |(k, _)| has_hex_prefix(k, prefix))
            .filter(move |(_, e)| keep(e))
    }

    /// `summarize(prefix, predicate)` (§7.8) over the entries inserted after
    /// `after` (the reference's cache predicate: `timestamp > T`), without
    /// allocating. Equal to [`crate::cache::summarize`] over the same keys
    /// as hex.
    pub(crate) fn summarize(&mut self, prefix: &[u8], after: i64) -> Summary {
        let prefix = &prefix[..prefix.len().min(MAX_PREFIX)];
        let mut hashers: [Option<Sha1>; 16] = Default::default();
        let n = prefix.len();
        for (k, _) in self.under_prefix(prefix, |e| e.inserted.as_millis() as i64 > after) {
            let Some(d) = nibble(k, n) else { continue };
            let h = hashers[d as usize].get_or_insert_with(Sha1::new);
            let mut hex = [0u8; 64];
            let len = hex_into(k, &mut hex);
            h.update(&hex[..len]);
        }
        let mut buckets = [None; 16];
        let mut level = Sha1::new();
        let mut any = false;
        for (slot, h) in buckets.iter_mut().zip(hashers) {
            if let Some(h) = h {
                let d: [u8; 20] = h.finalize().into();
                let mut hex = [0u8; 64];
                let len = hex_into(&d, &mut hex);
                level.update(&hex[..len]);
                any = true;
                *slot = Some(d);
            }
        }
        Summary {
            prefix: heapless::Vec::from_slice(prefix).unwrap_or_default(),
            hash: if any {
                level.finalize().into()
            } else {
                HASH_EMPTY
            },
            buckets,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A map key from a field (ids are at most 32 bytes).
pub(crate) fn key_of(s: &[u8]) -> IdField {
    IdField::from_slice(&s[..s.len().min(32)]).unwrap_or_default()
}

/// Lower-case hex of `b` into `out` (at most 32 bytes of `b` are written).
pub(crate) fn hex_into(b: &[u8], out: &mut [u8; 64]) -> usize {
    let b = &b[..b.len().min(32)];
    for (i, x) in b.iter().enumerate() {
        out[2 * i] = HEX[(x >> 4) as usize];
        out[2 * i + 1] = HEX[(x & 15) as usize];
    }
    2 * b.len()
}

/// Hex digit `i` of `key` as a number.
fn nibble(key: &[u8], i: usize) -> Option<u8> {
    let b = *key.get(i / 2)?;
    Some(if i % 2 == 0 { b >> 4 } else { b & 15 })
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Whether the hex of `key` starts with `prefix` (ASCII hex digits).
pub(crate) fn has_hex_prefix(key: &[u8], prefix: &[u8]) -> bool {
    prefix
        .iter()
        .enumerate()
        .all(|(i, &c)| hex_value(c).is_some_and(|d| nibble(key, i) == Some(d)))
}

/// The smallest key whose hex can start with `prefix`.
fn prefix_lower_bound(prefix: &[u8]) -> IdField {
    let mut v = IdField::new();
    for pair in prefix.chunks(2) {
        let hi = hex_value(pair[0]).unwrap_or(0);
        let lo = pair.get(1).and_then(|&c| hex_value(c)).unwrap_or(0);
        if v.push(hi << 4 | lo).is_err() {
            break;
        }
    }
    v
}

/// Hex digits (ASCII, lower case) from a summary's prefix field: the last
/// `len` digits of the bytes' hex, as the reference decodes it.
pub(crate) fn prefix_digits(len: u8, bytes: &[u8]) -> heapless::Vec<u8, MAX_PREFIX> {
    let mut hex = [0u8; 64];
    let n = hex_into(bytes, &mut hex);
    let len = (len as usize).min(n);
    heapless::Vec::from_slice(&hex[n - len..n]).unwrap_or_default()
}

/// A FIFO-bounded set of 32-byte-or-shorter ids (delivered events).
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    set: BTreeMap<IdField, u64>,
    order: BTreeMap<u64, IdField>,
    seq: u64,
    cap: usize,
}

impl IdSet {
    pub(crate) fn new(cap: usize) -> Self {
        IdSet {
            cap: cap.max(1),
            ..Default::default()
        }
    }

    pub(crate) fn contains(&self, k: &[u8]) -> bool {
        self.set.contains_key(&key_of(k))
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Adds `k`; returns whether an older id had to go.
    pub(crate) fn insert(&mut self, k: &[u8]) -> bool {
        let Ok(k) = IdField::from_slice(&k[..k.len().min(32)]) else {
            return false;
        };
        if self.set.contains_key(&k) {
            return false;
        }
        let mut evicted = false;
        if self.set.len() >= self.cap {
            if let Some((_, old)) = self.order.pop_first() {
                self.set.remove(&old);
                evicted = true;
            }
        }
        self.seq += 1;
        self.order.insert(self.seq, k.clone());
        self.set.insert(k, self.seq);
        evicted
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &IdField> + '_ {
        self.order.values()
    }
}

/// The `clusterId` field of an encoded packet (the first variable field,
/// right after the 23-byte header).
pub(crate) fn frame_cluster_id(frame: &[u8]) -> Option<&[u8]> {
    let len = frame.get(23..25)?;
    let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    frame.get(25..25 + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::summarize;
    use alloc::string::String;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    fn key(b: &[u8]) -> IdField {
        IdField::from_slice(b).unwrap()
    }

    fn hex(b: &[u8]) -> String {
        let mut h = [0u8; 64];
        let n = hex_into(b, &mut h);
        String::from_utf8(h[..n].to_vec()).unwrap()
    }

    #[test]
    fn evicts_the_oldest_by_count_and_bytes() {
        let mut s = PacketStore::new(10 * (100 + CACHE_ENTRY_OVERHEAD), 4, 1);
        for i in 0..6u8 {
            let r = s.insert(key(&[i; 32]), &[0; 100], Instant(i as u64));
            assert!(matches!(r, Inserted::Stored { .. }));
        }
        assert_eq!(s.len(), 4);
        assert!(!s.contains(&[0; 32]) && !s.contains(&[1; 32]));
        assert!(s.contains(&[5; 32]));
        // Bytes: a big one pushes out the two oldest.
        let mut s = PacketStore::new(3 * (100 + CACHE_ENTRY_OVERHEAD), 100, 1);
        for i in 0..3u8 {
            s.insert(key(&[i; 32]), &[0; 100], Instant(0));
        }
        let r = s.insert(key(&[9; 32]), &[0; 250], Instant(1));
        assert_eq!(r, Inserted::Stored { evicted: 2 });
        assert!(s.contains(&[2; 32]) && s.contains(&[9; 32]));
        assert!(s.bytes() <= 3 * (100 + CACHE_ENTRY_OVERHEAD));
        assert_eq!(
            s.insert(key(&[9; 32]), &[0; 1], Instant(2)),
            Inserted::Duplicate
        );
        let e = s.remove(&[9; 32]).unwrap();
        assert_eq!(e.frame.len(), 250);
        assert_eq!(s.bytes(), 100 + CACHE_ENTRY_OVERHEAD);
    }

    #[test]
    fn summaries_match_the_reference_algorithm() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut s = PacketStore::new(usize::MAX / 2, usize::MAX, 1);
        let mut keys: alloc::vec::Vec<IdField> = alloc::vec::Vec::new();
        for i in 0..600u64 {
            let len = match i % 7 {
                0 => 1 + (rng.next_u32() % 31) as usize,
                _ => 32,
            };
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            if i % 5 == 0 {
                b[0] = 0xab;
            }
            let k = key(&b[..len]);
            s.insert(k.clone(), &[1], Instant(i));
            keys.push(k);
        }
        for prefix in ["", "a", "ab", "abc", "0", "f", "ab1", "7", "ffff"] {
            for after in [-1i64, 300] {
                let hexes: alloc::vec::Vec<String> = keys
                    .iter()
                    .filter(|k| s.get(k).unwrap().inserted.as_millis() as i64 > after)
                    .map(|k| hex(k))
                    .collect();
                let want = summarize(prefix, hexes.iter().map(|h| h.as_bytes()));
                let got = s.summarize(prefix.as_bytes(), after);
                assert_eq!(got, want, "prefix {prefix:?} after {after}");
            }
        }
        let under: alloc::vec::Vec<_> = s.under_prefix(b"ab", |_| true).collect();
        assert!(!under.is_empty());
        assert!(under.iter().all(|(k, _)| hex(k).starts_with("ab")));
        assert_eq!(
            under.len(),
            keys.iter().filter(|k| hex(k).starts_with("ab")).count()
        );
    }

    #[test]
    fn prefix_digits_keep_the_last_len() {
        assert_eq!(&prefix_digits(3, &[0x0a, 0x1f])[..], b"a1f");
        assert_eq!(&prefix_digits(2, &[0xa1])[..], b"a1");
        assert_eq!(&prefix_digits(0, &[])[..], b"");
        assert_eq!(&prefix_digits(5, &[0xa1])[..], b"a1");
    }

    #[test]
    fn id_set_is_fifo_bounded() {
        let mut s = IdSet::new(2);
        assert!(!s.insert(&[1]));
        assert!(!s.insert(&[2]));
        assert!(!s.insert(&[2]));
        assert!(s.insert(&[3]));
        assert!(!s.contains(&[1]) && s.contains(&[2]) && s.contains(&[3]));
        assert_eq!(s.len(), 2);
    }
}
