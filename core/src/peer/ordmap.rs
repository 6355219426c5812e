//! An ordered map that remembers insertion order and does not allocate in
//! steady state: the backing store of the packet cache and the gate.
//!
//! `BTreeMap` allocates and frees nodes as entries come and go, so a relay
//! that inserts one packet and evicts the oldest per datagram kept calling
//! the allocator. Here the entries live in a slab (`Vec` of nodes) whose
//! free slots are reused, ordered by a treap (a binary search tree kept
//! balanced by random heap priorities) threaded through the slab by index,
//! and linked oldest → newest for FIFO eviction. Once the slab has grown to
//! the map's high-water mark, insert, remove and pop-oldest touch no
//! allocator. Iteration in key order (summaries, expiry) uses a small stack
//! and may allocate; it is not on the per-packet path.
//!
//! The priorities come from a generator seeded by the Peer's seed, so a
//! sender who picks keys cannot unbalance the tree (expected depth
//! `O(log n)` whatever the keys).

use alloc::vec::Vec;
use core::cmp::Ordering;

const NIL: u32 = u32::MAX;

/// A key with a cheap 64-bit summary that agrees with its order:
/// `a.hint() < b.hint()` implies `a < b` (equal hints say nothing). The
/// tree compares hints first and the keys only on a tie, so most steps of
/// a search are one integer comparison.
pub(crate) trait OrdKey: Ord {
    fn hint(&self) -> u64;
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
}

#[derive(Clone, Debug)]
struct Node<K, V> {
    hint: u64,
    kv: Option<(K, V)>,
    prio: u32,
    left: u32,
    right: u32,
    /// FIFO links. On a free node, `newer` links the free list.
    older: u32,
    newer: u32,
}

/// See the [module documentation](self).
#[derive(Clone, Debug)]
pub(crate) struct OrdMap<K, V> {
    nodes: Vec<Node<K, V>>,
    root: u32,
    oldest: u32,
    newest: u32,
    free: u32,
    len: usize,
    rng: u64,
}

impl<K: OrdKey, V> OrdMap<K, V> {
    pub(crate) fn new(seed: u64) -> Self {
        OrdMap {
            nodes: Vec::new(),
            root: NIL,
            oldest: NIL,
            newest: NIL,
            free: NIL,
            len: 0,
            // xorshift must not start at 0.
            rng: seed | 1,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    #[inline]
    fn key(&self, i: u32) -> &K {
        match &self.nodes[i as usize].kv {
            Some((k, _)) => k,
            None => unreachable!("a free node in the tree"),
        }
    }

    /// `k` (with hint `h`) against node `t`.
    #[inline]
    fn cmp_at(&self, h: u64, k: &K, t: u32) -> Ordering {
        match h.cmp(&self.nodes[t as usize].hint) {
            Ordering::Equal => k.cmp(self.key(t)),
            o => o,
        }
    }

    /// Node `a`'s key against node `b`'s.
    #[inline]
    fn cmp_nodes(&self, a: u32, b: u32) -> Ordering {
        self.cmp_at(self.nodes[a as usize].hint, self.key(a), b)
    }

    #[inline]
    fn find(&self, k: &K) -> u32 {
        let h = k.hint();
        let mut t = self.root;
        while t != NIL {
            match self.cmp_at(h, k, t) {
                Ordering::Less => t = self.nodes[t as usize].left,
                Ordering::Greater => t = self.nodes[t as usize].right,
                Ordering::Equal => return t,
            }
        }
        NIL
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

    /// Splits subtree `t` into keys below `pivot`'s key and the rest.
    fn split(&mut self, t: u32, pivot: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.cmp_nodes(t, pivot) == Ordering::Less {
            let (l, r) = self.split(self.nodes[t as usize].right, pivot);
            self.nodes[t as usize].right = l;
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, pivot);
            self.nodes[t as usize].left = r;
            (l, t)
        }
    }

    /// Joins two subtrees, every key of `a` below every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            b
        }
    }

    /// Removes node `target` (in the tree) from subtree `t`.
    fn detach(&mut self, t: u32, target: u32) -> u32 {
        if t == target {
            let n = &self.nodes[t as usize];
            let (l, r) = (n.left, n.right);
            return self.merge(l, r);
        }
        if self.cmp_nodes(target, t) == Ordering::Less {
            let l = self.detach(self.nodes[t as usize].left, target);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.detach(self.nodes[t as usize].right, target);
            self.nodes[t as usize].right = r;
        }
        t
    }

    /// Inserts `k` as the newest entry unless it is there; gives the pair
    /// back if it was.
    pub(crate) fn insert_new(&mut self, k: K, v: V) -> Result<(), (K, V)> {
        if self.contains(&k) {
            return Err((k, v));
        }
        self.insert_absent(k, v);
        Ok(())
    }

    /// Inserts `k`, known to be absent, as the newest entry.
    pub(crate) fn insert_absent(&mut self, k: K, v: V) {
        let prio = self.next_prio();
        let node = Node {
            hint: k.hint(),
            kv: Some((k, v)),
            prio,
            left: NIL,
            right: NIL,
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
        let (l, r) = self.split(self.root, i);
        let l = self.merge(l, i);
        self.root = self.merge(l, r);
        self.len += 1;
    }

    fn remove_index(&mut self, i: u32) -> Option<(K, V)> {
        self.root = self.detach(self.root, i);
        let (older, newer) = {
            let n = &self.nodes[i as usize];
            (n.older, n.newer)
        };
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
        let n = &mut self.nodes[i as usize];
        let kv = n.kv.take();
        n.left = NIL;
        n.right = NIL;
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

    /// Entries in key order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        let mut it = Iter {
            map: self,
            stack: Vec::new(),
        };
        it.push_left(self.root);
        it
    }

    /// Entries with keys `>= lower`, in key order.
    pub(crate) fn range_from(&self, lower: &K) -> Iter<'_, K, V> {
        let mut it = Iter {
            map: self,
            stack: Vec::new(),
        };
        let h = lower.hint();
        let mut t = self.root;
        while t != NIL {
            if self.cmp_at(h, lower, t) != Ordering::Greater {
                it.stack.push(t);
                t = self.nodes[t as usize].left;
            } else {
                t = self.nodes[t as usize].right;
            }
        }
        it
    }
}

/// In-order iterator.
pub(crate) struct Iter<'a, K, V> {
    map: &'a OrdMap<K, V>,
    stack: Vec<u32>,
}

impl<K, V> Iter<'_, K, V> {
    fn push_left(&mut self, mut t: u32) {
        while t != NIL {
            self.stack.push(t);
            t = self.map.nodes[t as usize].left;
        }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let map: &'a OrdMap<K, V> = self.map;
        let n = &map.nodes[t as usize];
        self.push_left(n.right);
        n.kv.as_ref().map(|(k, v)| (k, v))
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
    }
    impl OrdKey for u32 {
        fn hint(&self) -> u64 {
            u64::from(*self)
        }
    }

    fn check<K: OrdKey + Clone + core::fmt::Debug>(m: &OrdMap<K, u32>, want: &BTreeMap<K, u32>) {
        assert_eq!(m.len(), want.len());
        let got: Vec<(K, u32)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let exp: Vec<(K, u32)> = want.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(got, exp);
    }

    #[test]
    fn behaves_like_a_btreemap_with_fifo_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut m = OrdMap::new(42);
        let mut want = BTreeMap::new();
        let mut fifo: alloc::collections::VecDeque<u16> = Default::default();
        for step in 0..20_000u32 {
            let k = (rng.next_u32() % 512) as u16;
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
            if step % 997 == 0 {
                check(&m, &want);
                let f: Vec<u16> = m.iter_fifo().map(|(k, _)| *k).collect();
                assert_eq!(f, fifo.iter().copied().collect::<Vec<_>>());
                let lo = (rng.next_u32() % 512) as u16;
                let a: Vec<u16> = m.range_from(&lo).map(|(k, _)| *k).collect();
                let b: Vec<u16> = want.range(lo..).map(|(k, _)| *k).collect();
                assert_eq!(a, b);
                assert_eq!(m.get(&lo), want.get(&lo));
            }
        }
        m.retain(|k, v| {
            *v += 1;
            k % 3 != 0
        });
        want.retain(|k, v| {
            *v += 1;
            k % 3 != 0
        });
        check(&m, &want);
    }

    #[test]
    fn sorted_keys_do_not_degenerate() {
        // Keys in increasing order would make a plain BST a list.
        let mut m = OrdMap::new(7);
        for k in 0..100_000u32 {
            m.insert_new(k, k).unwrap();
        }
        fn depth(m: &OrdMap<u32, u32>, t: u32) -> usize {
            if t == NIL {
                return 0;
            }
            let n = &m.nodes[t as usize];
            1 + depth(m, n.left).max(depth(m, n.right))
        }
        assert!(depth(&m, m.root) < 80, "depth {}", depth(&m, m.root));
        for k in 0..99_990u32 {
            assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(k));
        }
        assert_eq!(m.len(), 10);
    }
}
