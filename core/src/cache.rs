//! The packet cache's reconciliation summaries (§7.8).
//!
//! A summary of a hex prefix splits the cache keys that start with it into 16
//! buckets by their next hex digit; each bucket is hashed (SHA-1 of its keys
//! sorted and concatenated) and the level hash is the SHA-1 of the non-empty
//! bucket hashes. Two peers compare level hashes and descend where they differ.
//! The cache itself arrives with the data-plane issue.

use alloc::vec::Vec;

use sha1::{Digest, Sha1};

/// SHA-1 of the empty string: the level hash of an empty level.
pub const HASH_EMPTY: [u8; 20] = [
    0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90,
    0xaf, 0xd8, 0x07, 0x09,
];

/// Longest prefix a summary can carry (a packetId is 64 hex digits).
pub const MAX_PREFIX: usize = 64;
/// Largest encoded summary: 1 + 32 + 20 + 16 × 21.
pub const MAX_ENCODED: usize = 1 + 32 + 20 + 16 * 21;

/// One level of the summary trie.
///
/// ```
/// use streamrelay::cache::{summarize, HASH_EMPTY};
/// let s = summarize("", ["a0", "a1", "3f"].iter().map(|k| k.as_bytes()));
/// assert!(s.buckets[0xa].is_some() && s.buckets[3].is_some());
/// assert_ne!(s.hash, HASH_EMPTY);
/// let mut buf = [0u8; streamrelay::cache::MAX_ENCODED];
/// let n = s.encode_into(&mut buf);
/// assert_eq!(n, 1 + 20 + 2 * 21);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The prefix as lower-case hex digits (ASCII), at most 64.
    pub prefix: heapless::Vec<u8, MAX_PREFIX>,
    /// The level hash.
    pub hash: [u8; 20],
    /// Per next-digit bucket hash; `None` when no key falls in it.
    pub buckets: [Option<[u8; 20]>; 16],
}

fn hex_value(c: u8) -> Option<usize> {
    (c as char).to_digit(16).map(|d| d as usize)
}

/// Summarises the keys (hex packetIds as ASCII) that start with `prefix`.
///
/// Keys whose digit after the prefix is not hex are left out, as the
/// reference's `parseInt` leaves them out. A prefix longer than 64 digits is
/// cut to 64.
pub fn summarize<'k>(prefix: &str, keys: impl IntoIterator<Item = &'k [u8]>) -> Summary {
    let prefix = &prefix.as_bytes()[..prefix.len().min(MAX_PREFIX)];
    let mut groups: [Vec<&[u8]>; 16] = Default::default();
    for key in keys {
        if !key.starts_with(prefix) {
            continue;
        }
        if let Some(d) = key.get(prefix.len()).copied().and_then(hex_value) {
            groups[d].push(key);
        }
    }
    let mut buckets = [None; 16];
    let mut level = Sha1::new();
    let mut any = false;
    for (slot, group) in buckets.iter_mut().zip(groups.iter_mut()) {
        if group.is_empty() {
            continue;
        }
        group.sort_unstable();
        let mut h = Sha1::new();
        for k in group.iter() {
            h.update(k);
        }
        let digest: [u8; 20] = h.finalize().into();
        level.update(hex20(&digest));
        any = true;
        *slot = Some(digest);
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

fn hex20(d: &[u8; 20]) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

impl Summary {
    /// Encoded length.
    pub fn encoded_len(&self) -> usize {
        1 + self.prefix.len().div_ceil(2) + 20 + 21 * self.buckets.iter().flatten().count()
    }

    /// Writes the binary form; `out` must hold [`Summary::encoded_len`]
    /// bytes ([`MAX_ENCODED`] always suffices). Returns the length written.
    pub fn encode_into(&self, out: &mut [u8]) -> usize {
        let plen = self.prefix.len();
        let pbytes = plen.div_ceil(2);
        out[0] = plen as u8;
        // Odd lengths get a leading zero nibble.
        let odd = plen % 2;
        for i in 0..pbytes {
            let hi = if i == 0 && odd == 1 {
                0
            } else {
                hex_value(self.prefix[2 * i - odd]).unwrap_or(0) as u8
            };
            let lo = hex_value(self.prefix[2 * i + 1 - odd]).unwrap_or(0) as u8;
            out[1 + i] = hi << 4 | lo;
        }
        let mut o = 1 + pbytes;
        out[o..o + 20].copy_from_slice(&self.hash);
        o += 20;
        for (i, b) in self.buckets.iter().enumerate() {
            if let Some(h) = b {
                out[o] = i as u8;
                out[o + 1..o + 21].copy_from_slice(h);
                o += 21;
            }
        }
        o
    }

    /// The binary form in a new `Vec`.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = alloc::vec![0; self.encoded_len()];
        let n = self.encode_into(&mut v);
        v.truncate(n);
        v
    }
}

/// A received summary, borrowed and read as leniently as the reference reads
/// it: the prefix and hashes may be short when the data runs out, bucket
/// indexes are not range-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryRef<'a> {
    /// Prefix length in hex digits, as sent.
    pub prefix_len: u8,
    /// The prefix bytes that were present (up to `ceil(prefix_len/2)`).
    pub prefix_bytes: &'a [u8],
    /// The level hash bytes that were present (up to 20).
    pub hash: &'a [u8],
    rest: &'a [u8],
}

/// Why a summary cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    /// No bytes at all.
    #[error("empty summary")]
    Empty,
}

/// Reads a binary summary (no allocation).
pub fn decode_summary(bytes: &[u8]) -> Result<SummaryRef<'_>, SummaryError> {
    let (&plen, rest) = bytes.split_first().ok_or(SummaryError::Empty)?;
    let (prefix_bytes, rest) = rest.split_at((plen as usize).div_ceil(2).min(rest.len()));
    let (hash, rest) = rest.split_at(20.min(rest.len()));
    Ok(SummaryRef {
        prefix_len: plen,
        prefix_bytes,
        hash,
        rest,
    })
}

impl<'a> SummaryRef<'a> {
    /// The (index, hash) bucket entries in wire order; the last hash may be
    /// short, and an index may repeat or exceed 15.
    pub fn buckets(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut rest = self.rest;
        core::iter::from_fn(move || {
            let (&i, r) = rest.split_first()?;
            let (h, r) = r.split_at(20.min(r.len()));
            rest = r;
            Some((i, h))
        })
    }

    /// Whether this is a well-formed summary: prefix ≤ 64 digits and all
    /// present, a 20-byte hash, and bucket entries of index ≤ 15 with 20-byte
    /// hashes in increasing order.
    pub fn is_well_formed(&self) -> bool {
        let mut last: Option<u8> = None;
        self.prefix_len as usize <= MAX_PREFIX
            && self.prefix_bytes.len() == (self.prefix_len as usize).div_ceil(2)
            && self.hash.len() == 20
            && self.buckets().all(|(i, h)| {
                let ok = i < 16 && h.len() == 20 && last.is_none_or(|l| i > l);
                last = Some(i);
                ok
            })
    }
}
