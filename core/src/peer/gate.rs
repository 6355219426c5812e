//! Duplicate suppression (the gate, §6.14) and return routes (§6.15): maps
//! whose entries live a number of ticks.
//!
//! The reference's maps have no size bound (§10.64); ours evict the oldest
//! inserted entry at the limit and count it. Return routes in the reference
//! die at their first tick (an object minus 1 is NaN); ours live the number
//! of ticks they are given (docs/compat.md#return-routes).

use super::addr::{PeerId, Remote};
use super::ordmap::{bytes_hint, KeyedHasher, OrdKey, OrdMap};
use crate::wire::packet::IdField;

/// An ordered map whose entries count down one per tick and vanish at zero.
/// Kept in an [`OrdMap`], so steady-state inserts and evictions do not
/// allocate.
#[derive(Clone, Debug)]
pub(crate) struct AgeingMap<K: OrdKey + Clone, V> {
    map: OrdMap<K, (V, u8)>,
    cap: usize,
}

impl<K: OrdKey + Clone, V> AgeingMap<K, V> {
    /// `seed` keys the map's hash index (see [`OrdMap`]). Nothing needs
    /// these maps' key order: only the insertion order is kept.
    pub(crate) fn new(cap: usize, seed: u64) -> Self {
        AgeingMap {
            map: OrdMap::unordered(seed),
            cap: cap.max(1),
        }
    }

    pub(crate) fn contains(&self, k: &K) -> bool {
        self.map.contains(k)
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|e| &e.0)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Sets `k` to live `ticks` more ticks (at least 1). Returns whether an
    /// older entry had to be evicted to make room.
    pub(crate) fn insert(&mut self, k: K, v: V, ticks: u8) -> bool {
        let ticks = ticks.max(1);
        if let Some(e) = self.map.get_mut(&k) {
            // Refreshing keeps its place in the eviction order: a refresh is
            // not a new entry.
            e.0 = v;
            e.1 = ticks;
            return false;
        }
        self.insert_new(k, v, ticks) == Some(true)
    }

    /// Inserts `k` only if it is absent: `None` if it was there, else
    /// whether an older entry had to be evicted.
    pub(crate) fn insert_new(&mut self, k: K, v: V, ticks: u8) -> Option<bool> {
        let full = self.map.len() >= self.cap;
        if self.map.insert_new(k, (v, ticks.max(1))).is_err() {
            return None;
        }
        // The oldest is never the one just inserted (it is the newest).
        Some(full && self.map.pop_oldest().is_some())
    }

    /// Forgets `k`.
    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|(_, (v, _))| v)
    }

    /// Keeps the entries whose value passes `f`.
    pub(crate) fn retain_values(&mut self, mut f: impl FnMut(&V) -> bool) {
        self.map.retain(|_, e| f(&e.0));
    }

    /// One tick: every entry loses one; those at zero go.
    pub(crate) fn age(&mut self) {
        self.map.retain(|_, e| {
            e.1 -= 1;
            e.1 != 0
        });
    }
}

/// What the gate remembers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum GateKey {
    /// A packetId (Join, Intro, probe Pong, multicast).
    Packet(IdField),
    /// An introduced target: peer id plus the endpoint the Intro names.
    IntroTarget(PeerId, Remote),
    /// "Connecting to this peer" (the reference's `"CONN" + peerId`).
    Conn(PeerId),
}

impl OrdKey for GateKey {
    #[inline]
    fn keyed_hash(&self, mut h: KeyedHasher) -> u64 {
        match self {
            GateKey::Packet(id) => h.bytes(id),
            other => {
                core::hash::Hash::hash(other, &mut h);
                core::hash::Hasher::finish(&h)
            }
        }
    }

    fn hint(&self) -> u64 {
        // Variants in declaration order (the derived `Ord`) in the top two
        // bits; a packetId's first bytes below them.
        match self {
            GateKey::Packet(id) => bytes_hint(id) >> 2,
            GateKey::IntroTarget(..) => 1 << 62,
            GateKey::Conn(..) => 2 << 62,
        }
    }
}

impl GateKey {
    pub(crate) fn packet(id: &[u8]) -> Self {
        GateKey::Packet(IdField::from_slice(&id[..id.len().min(32)]).unwrap_or_default())
    }

    /// An answer (its packetId) to a query (its id) that we consumed or
    /// passed on: one key, SHA-256 of both.
    pub(crate) fn answer(query_id: &[u8], packet_id: &[u8]) -> Self {
        let mut b = alloc::vec::Vec::with_capacity(7 + query_id.len() + packet_id.len());
        b.extend_from_slice(b"answer:");
        b.extend_from_slice(query_id);
        b.extend_from_slice(packet_id);
        GateKey::packet(&crate::crypto::identity::sha256(&b))
    }
}
