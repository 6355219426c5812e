//! A map that remembers insertion order, finds keys in `O(1)` and does not
//! allocate in steady state: the backing store of the packet cache and the
//! gate.
//!
//! `BTreeMap` allocates and frees nodes as entries come and go, so a relay
//! that inserts one packet and evicts the oldest per datagram kept calling
//! the allocator. Here the entries live in a slab (`Vec` of nodes) whose
//! free slots are reused, linked oldest → newest for FIFO eviction, and
//! found through a hash index (open addressing over slab indices, keyed by
//! secrets drawn from the Peer's seed, so a sender who picks keys cannot
//! make them collide). Once the slab and the index have grown to the map's
//! high-water mark, insert, lookup, remove and pop-oldest touch no
//! allocator and a few cache lines each.
//!
//! The key order (summaries, expiry: never on the per-packet path) is kept
//! lazily by maps made with [`OrdMap::new`]: a sorted array of slab indices
//! plus the entries inserted since it was last sorted. [`OrdMap::sort`]
//! brings it up to date (sorts the new entries, merges them in, drops the
//! removed ones); the key-order iterators need it up to date, which callers
//! get from `&mut` methods that sort first. So that new entries do not pile
//! up when nobody asks for the order, an insert sorts once they are a
//! quarter of the map (amortised `O(log n)` per insert, no allocation in
//! steady state).

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::mem;

const NIL: u32 = u32::MAX;

/// A key with a cheap 64-bit summary that agrees with its order:
/// `a.hint() < b.hint()` implies `a < b` (equal hints say nothing). The
/// tree compares hints first and the keys only on a tie, so most steps of
/// a search are one integer comparison.
pub(crate) trait OrdKey: Ord {
    fn hint(&self) -> u64;
    /// The key's hash under the map's secret keys (see [`KeyedHasher`]):
    /// equal keys hash equal.
    fn keyed_hash(&self, h: KeyedHasher) -> u64;
}

/// A hash keyed by secrets drawn from the Peer's seed (a folded-multiply
/// construction, as foldhash's): a sender who does not know the seed cannot
/// pick keys that collide in the hash index, so lookups stay `O(1)`
/// whatever the keys.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyedHasher {
    acc: u64,
    k: u64,
    fin: u64,
}

#[inline]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl KeyedHasher {
    fn from_seed(seed: u64) -> Self {
        let mut x = seed;
        KeyedHasher {
            acc: splitmix(&mut x),
            k: splitmix(&mut x) | 1,
            fin: splitmix(&mut x) | 1,
        }
    }

    #[inline]
    fn word(&mut self, w: u64) {
        self.acc = folded_mul(self.acc ^ w, self.k);
    }

    /// Hashes `b` (its length included) and finishes.
    #[inline]
    pub(crate) fn bytes(mut self, b: &[u8]) -> u64 {
        core::hash::Hasher::write(&mut self, b);
        core::hash::Hasher::finish(&self)
    }
}

impl core::hash::Hasher for KeyedHasher {
    #[inline]
    fn write(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.word(u64::from_le_bytes(a));
        }
        let rest = chunks.remainder();
        let mut a = [0u8; 8];
        a[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(a) ^ ((b.len() as u64) << 56));
    }

    #[inline]
    fn finish(&self) -> u64 {
        folded_mul(self.acc, self.fin)
    }
}

/// The first 8 bytes, big-endian, zero-padded: lexicographic order.
pub(crate) fn bytes_hint(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(a)
}

impl OrdKey for crate::wire::packet::IdField {
    fn hint(&self) -> u64 {
        bytes_hint(self)
    }
    #[inline]
    fn keyed_hash(&self, h: KeyedHasher) -> u64 {
        h.bytes(self)
    }
}

#[derive(Clone, Debug)]
struct Node<K, V> {
    kv: Option<(K, V)>,
    /// The key's hash, top 32 bits (its place in the hash index).
    tag: u32,
    /// FIFO links. On a free node, `newer` links the free list.
    older: u32,
    newer: u32,
}

/// An entry of the key-order index: the key's hint, its node, and the
/// node's generation when the entry was made (a node removed or reused
/// since has another, so stale entries are told apart without comparing
/// keys).
#[derive(Clone, Copy, Debug)]
struct Ranked {
    hint: u64,
    node: u32,
    gen: u32,
}

/// An empty slot of the hash index.
const EMPTY: u64 = u64::MAX;

/// See the [module documentation](self).
#[derive(Clone, Debug)]
pub(crate) struct OrdMap<K, V> {
    nodes: Vec<Node<K, V>>,
    oldest: u32,
    newest: u32,
    free: u32,
    len: usize,
    /// Whether the key order is kept; without it the map is the hash index
    /// plus the FIFO list, and `iter`/`range_from` are not available.
    ordered: bool,
    /// The hash index: open addressing, linear probing, at most half full.
    /// A slot is `tag << 32 | node index` (`EMPTY` when free); a key's
    /// home slot is `tag & mask`.
    slots: Vec<u64>,
    hasher: KeyedHasher,
    /// Per node (ordered maps): its generation while it holds an entry,
    /// 0 while free.
    gens: Vec<u32>,
    next_gen: u32,
    /// Key order as of the last sort (entries removed since are stale).
    sorted: Vec<Ranked>,
    /// Inserted since the last sort, unsorted (some may be stale).
    fresh: Vec<Ranked>,
    /// The merge's output buffer (kept: no allocation in steady state).
    scratch: Vec<Ranked>,
    /// Whether anything was removed since the last sort.
    removed: bool,
}

impl<K: OrdKey, V> OrdMap<K, V> {
    /// A map that keeps both the key order and the insertion order.
    pub(crate) fn new(seed: u64) -> Self {
        Self::with_order(seed, true)
    }

    /// A map that keeps only the insertion order.
    pub(crate) fn unordered(seed: u64) -> Self {
        Self::with_order(seed, false)
    }

    fn with_order(seed: u64, ordered: bool) -> Self {
        OrdMap {
            nodes: Vec::new(),
            oldest: NIL,
            newest: NIL,
            free: NIL,
            len: 0,
            ordered,
            slots: Vec::new(),
            hasher: KeyedHasher::from_seed(seed),
            gens: Vec::new(),
            next_gen: 1,
            sorted: Vec::new(),
            fresh: Vec::new(),
            scratch: Vec::new(),
            removed: false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn key(&self, i: u32) -> &K {
        match &self.nodes[i as usize].kv {
            Some((k, _)) => k,
            None => unreachable!("a free node in the index"),
        }
    }

    #[inline]
    fn tag_of(&self, k: &K) -> u32 {
        (k.keyed_hash(self.hasher) >> 32) as u32
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Adds node `i` (with `tag`) to the hash index, growing it first if it
    /// would be more than half full.
    fn index_insert(&mut self, tag: u32, i: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            let n = (self.slots.len() * 2).max(16);
            let old = mem::replace(&mut self.slots, alloc::vec![EMPTY; n]);
            for s in old {
                if s != EMPTY {
                    self.index_place(s);
                }
            }
        }
        self.index_place(u64::from(tag) << 32 | u64::from(i));
    }

    #[inline]
    fn index_place(&mut self, s: u64) {
        let mask = self.mask();
        let mut pos = (s >> 32) as usize & mask;
        while self.slots[pos] != EMPTY {
            pos = (pos + 1) & mask;
        }
        self.slots[pos] = s;
    }

    /// Removes node `i` (with `tag`) from the hash index (backward-shift
    /// deletion: no tombstones).
    fn index_remove(&mut self, tag: u32, i: u32) {
        let want = u64::from(tag) << 32 | u64::from(i);
        let mask = self.mask();
        let mut pos = tag as usize & mask;
        loop {
            match self.slots[pos] {
                s if s == want => break,
                EMPTY => return,
                _ => pos = (pos + 1) & mask,
            }
        }
        let mut hole = pos;
        let mut j = pos;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            let home = (s >> 32) as usize & mask;
            // It stays if its home is cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = EMPTY;
    }

    /// The node holding `k`, through the hash index.
    #[inline]
    fn find(&self, k: &K) -> u32 {
        if self.len == 0 {
            return NIL;
        }
        self.find_tagged(k, self.tag_of(k))
    }

    /// [`find`](Self::find) with the key's tag already computed.
    #[inline]
    fn find_tagged(&self, k: &K, tag: u32) -> u32 {
        if self.len == 0 {
            return NIL;
        }
        let mask = self.mask();
        let mut pos = tag as usize & mask;
        loop {
            let s = self.slots[pos];
            if s == EMPTY {
                return NIL;
            }
            if (s >> 32) as u32 == tag {
                let i = s as u32;
                if self.key(i) == k {
                    return i;
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    pub(crate) fn contains(&self, k: &K) -> bool {
        self.find(k) != NIL
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        match self.find(k) {
            NIL => None,
            i => self.nodes[i as usize].kv.as_ref().map(|(_, v)| v),
        }
    }

    /// Where `k` is: a handle for [`at_mut`](Self::at_mut), valid until
    /// the next removal.
    pub(crate) fn locate(&self, k: &K) -> Option<(u32, &V)> {
        match self.find(k) {
            NIL => None,
            i => self.nodes[i as usize].kv.as_ref().map(|(_, v)| (i, v)),
        }
    }

    /// The value at a handle from [`locate`](Self::locate).
    pub(crate) fn at_mut(&mut self, i: u32) -> Option<&mut V> {
        self.nodes.get_mut(i as usize)?.kv.as_mut().map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        match self.find(k) {
            NIL => None,
            i => self.nodes[i as usize].kv.as_mut().map(|(_, v)| v),
        }
    }

    /// Inserts `k` as the newest entry unless it is there; gives the pair
    /// back if it was.
    pub(crate) fn insert_new(&mut self, k: K, v: V) -> Result<(), (K, V)> {
        let tag = self.tag_of(&k);
        if self.find_tagged(&k, tag) != NIL {
            return Err((k, v));
        }
        self.insert_tagged(k, tag, v);
        Ok(())
    }

    /// Inserts `k`, known to be absent, as the newest entry.
    pub(crate) fn insert_absent(&mut self, k: K, v: V) {
        let tag = self.tag_of(&k);
        self.insert_tagged(k, tag, v);
    }

    fn insert_tagged(&mut self, k: K, tag: u32, v: V) {
        let hint = if self.ordered { k.hint() } else { 0 };
        let node = Node {
            kv: Some((k, v)),
            tag,
            older: self.newest,
            newer: NIL,
        };
        let i = if self.free != NIL {
            let i = self.free;
            self.free = self.nodes[i as usize].newer;
            self.nodes[i as usize] = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        if self.newest != NIL {
            self.nodes[self.newest as usize].newer = i;
        } else {
            self.oldest = i;
        }
        self.newest = i;
        self.index_insert(tag, i);
        self.len += 1;
        if self.ordered {
            let gen = self.next_gen;
            self.next_gen = self.next_gen.wrapping_add(1).max(1);
            if self.gens.len() <= i as usize {
                self.gens.resize(i as usize + 1, 0);
            }
            self.gens[i as usize] = gen;
            self.fresh.push(Ranked { hint, node: i, gen });
            // Not let the unsorted part pile up when nobody asks for the
            // order (amortised: a merge per len/4 inserts).
            if self.fresh.len() > 64 && self.fresh.len() * 4 > self.len {
                self.sort();
            }
        }
    }

    fn remove_index(&mut self, i: u32) -> Option<(K, V)> {
        let (older, newer, tag) = {
            let n = &self.nodes[i as usize];
            (n.older, n.newer, n.tag)
        };
        self.index_remove(tag, i);
        if older != NIL {
            self.nodes[older as usize].newer = newer;
        } else {
            self.oldest = newer;
        }
        if newer != NIL {
            self.nodes[newer as usize].older = older;
        } else {
            self.newest = older;
        }
        if self.ordered {
            self.gens[i as usize] = 0;
            self.removed = true;
        }
        let n = &mut self.nodes[i as usize];
        let kv = n.kv.take();
        n.older = NIL;
        n.newer = self.free;
        self.free = i;
        self.len -= 1;
        kv
    }

    pub(crate) fn remove(&mut self, k: &K) -> Option<(K, V)> {
        match self.find(k) {
            NIL => None,
            i => self.remove_index(i),
        }
    }

    /// The oldest inserted entry.
    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        match self.oldest {
            NIL => None,
            i => self.remove_index(i),
        }
    }

    /// Keeps the entries `f` says yes to (in no particular order).
    pub(crate) fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        for i in 0..self.nodes.len() {
            let keep = match &mut self.nodes[i].kv {
                Some((k, v)) => f(k, v),
                None => true,
            };
            if !keep {
                self.remove_index(i as u32);
            }
        }
    }

    /// Entries oldest first.
    pub(crate) fn iter_fifo(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        let mut i = self.oldest;
        core::iter::from_fn(move || {
            if i == NIL {
                return None;
            }
            let n = &self.nodes[i as usize];
            i = n.newer;
            n.kv.as_ref().map(|(k, v)| (k, v))
        })
    }

    /// Whether the key order is up to date (what `iter` and `range_from`
    /// need).
    pub(crate) fn is_sorted(&self) -> bool {
        self.fresh.is_empty() && !self.removed
    }

    /// Brings the key order up to date: sorts the entries inserted since
    /// the last sort, merges them in and drops the removed ones. `O(n + m
    /// log m)` for `m` new entries; allocates only when the map outgrows
    /// its high-water mark.
    pub(crate) fn sort(&mut self) {
        if !self.ordered || self.is_sorted() {
            return;
        }
        let mut fresh = mem::take(&mut self.fresh);
        fresh.retain(|r| self.live(r));
        fresh.sort_unstable_by(|a, b| self.cmp_ranked(a, b));
        let sorted = mem::take(&mut self.sorted);
        let mut out = mem::take(&mut self.scratch);
        out.clear();
        out.reserve(self.len);
        let mut a = sorted.iter().filter(|r| self.live(r)).peekable();
        let mut b = fresh.iter().peekable();
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if self.cmp_ranked(x, y) == Ordering::Less {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some(r) = next {
                out.push(*r);
            }
        }
        self.sorted = out;
        self.scratch = sorted;
        self.scratch.clear();
        fresh.clear();
        self.fresh = fresh;
        self.removed = false;
    }

    /// Key order of two index entries: hints first, the keys on a tie.
    #[inline]
    fn cmp_ranked(&self, a: &Ranked, b: &Ranked) -> Ordering {
        match a.hint.cmp(&b.hint) {
            Ordering::Equal => self.key(a.node).cmp(self.key(b.node)),
            o => o,
        }
    }

    /// Whether an index entry still stands for its node's entry.
    #[inline]
    fn live(&self, r: &Ranked) -> bool {
        self.gens.get(r.node as usize) == Some(&r.gen)
    }

    /// Entries in key order. The order must be up to date ([`sort`](Self::sort)).
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        debug_assert!(self.ordered, "key order of an unordered map");
        debug_assert!(self.is_sorted(), "key order not up to date");
        Iter {
            map: self,
            at: self.sorted.iter(),
        }
    }

    /// Entries with keys `>= lower`, in key order. The order must be up to
    /// date ([`sort`](Self::sort)).
    pub(crate) fn range_from(&self, lower: &K) -> Iter<'_, K, V> {
        debug_assert!(self.ordered, "key order of an unordered map");
        debug_assert!(self.is_sorted(), "key order not up to date");
        let h = lower.hint();
        let start = self.sorted.partition_point(|r| match r.hint.cmp(&h) {
            Ordering::Equal => self.key(r.node) < lower,
            o => o == Ordering::Less,
        });
        Iter {
            map: self,
            at: self.sorted[start..].iter(),
        }
    }
}

/// Key-order iterator.
pub(crate) struct Iter<'a, K, V> {
    map: &'a OrdMap<K, V>,
    at: core::slice::Iter<'a, Ranked>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let map: &'a OrdMap<K, V> = self.map;
        loop {
            let r = self.at.next()?;
            // Up to date: every entry is live (checked anyway).
            if map.gens.get(r.node as usize) != Some(&r.gen) {
                continue;
            }
            if let Some((k, v)) = map.nodes[r.node as usize].kv.as_ref() {
                return Some((k, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    impl OrdKey for u16 {
        fn hint(&self) -> u64 {
            // Coarse on purpose: ties exercise the full comparison.
            u64::from(*self >> 4)
        }
        fn keyed_hash(&self, h: KeyedHasher) -> u64 {
            // Coarse on purpose too: collisions exercise the probing.
            h.bytes(&(*self >> 3).to_le_bytes())
        }
    }
    impl OrdKey for u32 {
        fn hint(&self) -> u64 {
            u64::from(*self)
        }
        fn keyed_hash(&self, h: KeyedHasher) -> u64 {
            h.bytes(&self.to_le_bytes())
        }
    }

    fn check<K: OrdKey + Clone + core::fmt::Debug>(
        m: &mut OrdMap<K, u32>,
        want: &BTreeMap<K, u32>,
    ) {
        m.sort();
        assert_eq!(m.len(), want.len());
        let got: Vec<(K, u32)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let exp: Vec<(K, u32)> = want.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(got, exp);
    }

    type Fifo = alloc::collections::VecDeque<u16>;

    /// Random inserts, removals and pops on `m` and on a `BTreeMap` plus a
    /// FIFO list kept alongside; `at` looks at all three every `every`
    /// steps. Returns the `BTreeMap`.
    fn drive(
        m: &mut OrdMap<u16, u32>,
        seed: u64,
        keys: u32,
        every: u32,
        mut at: impl FnMut(&mut OrdMap<u16, u32>, &BTreeMap<u16, u32>, &Fifo, &mut ChaCha8Rng),
    ) -> BTreeMap<u16, u32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut want = BTreeMap::new();
        let mut fifo = Fifo::new();
        for step in 0..20_000u32 {
            let k = (rng.next_u32() % keys) as u16;
            match rng.next_u32() % 4 {
                0 | 1 => {
                    let r = m.insert_new(k, step);
                    assert_eq!(r.is_ok(), !want.contains_key(&k));
                    if r.is_ok() {
                        want.insert(k, step);
                        fifo.push_back(k);
                    }
                }
                2 => {
                    assert_eq!(m.remove(&k).map(|(_, v)| v), want.remove(&k));
                    fifo.retain(|&x| x != k);
                }
                _ => {
                    let got = m.pop_oldest();
                    let exp = fifo.pop_front();
                    assert_eq!(got.as_ref().map(|(k, _)| *k), exp);
                    if let Some(k) = exp {
                        want.remove(&k);
                    }
                }
            }
            if step % every == 0 {
                assert_eq!(m.len(), want.len());
                let f: Vec<u16> = m.iter_fifo().map(|(k, _)| *k).collect();
                assert_eq!(f, fifo.iter().copied().collect::<Vec<_>>());
                at(m, &want, &fifo, &mut rng);
            }
        }
        want
    }

    #[test]
    fn behaves_like_a_btreemap_with_fifo_order() {
        let mut m = OrdMap::new(42);
        let mut want = drive(&mut m, 9, 512, 997, |m, want, _, rng| {
            check(m, want);
            let lo = (rng.next_u32() % 512) as u16;
            let a: Vec<u16> = m.range_from(&lo).map(|(k, _)| *k).collect();
            let b: Vec<u16> = want.range(lo..).map(|(k, _)| *k).collect();
            assert_eq!(a, b);
            assert_eq!(m.get(&lo), want.get(&lo));
        });
        m.retain(|k, v| {
            *v += 1;
            k % 3 != 0
        });
        want.retain(|k, v| {
            *v += 1;
            k % 3 != 0
        });
        check(&mut m, &want);
    }

    #[test]
    fn an_unordered_map_is_a_map_with_fifo_order() {
        // Hashes shared by 8 keys each (see `OrdKey for u16`): the probing
        // and the backward-shift deletion get exercised.
        let mut m = OrdMap::unordered(5);
        let mut want = drive(&mut m, 11, 2048, 499, |m, want, _, _| {
            for k in 0..2048u16 {
                assert_eq!(m.get(&k), want.get(&k), "key {k}");
            }
        });
        m.retain(|k, _| k % 2 == 0);
        want.retain(|k, _| k % 2 == 0);
        for k in 0..2048u16 {
            assert_eq!(m.get(&k), want.get(&k));
        }
    }

    #[test]
    fn sorted_and_reused_keys_keep_both_orders() {
        // Keys in increasing order, slots reused by other keys, lazy sorts
        // in between: both orders stay exact.
        let mut m = OrdMap::new(7);
        for k in 0..100_000u32 {
            m.insert_new(k, k).unwrap();
        }
        for k in 0..99_990u32 {
            assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(k));
        }
        assert_eq!(m.len(), 10);
        for k in (0..50u32).rev() {
            m.insert_new(k, k).unwrap();
        }
        m.sort();
        let keys: Vec<u32> = m.iter().map(|(k, _)| *k).collect();
        let mut want: Vec<u32> = (0..50).chain(99_990..100_000).collect();
        want.sort();
        assert_eq!(keys, want);
        let from: Vec<u32> = m.range_from(&45).map(|(k, _)| *k).take(6).collect();
        assert_eq!(from, [45, 46, 47, 48, 49, 99_990]);
        assert!(m.sorted.len() <= 60 && m.fresh.is_empty());
    }
}
