//! Chains of our subclusters: reassembly from the cache (§7.3) and queries
//! for missing links (§7.9).
//!
//! The cache holds every packet of a chain under its own id, and the ids
//! link up: the head's `nextId` is the first fragment's id, each fragment's
//! `nextId` the next one's, and each fragment's id is
//! SHA-256(SHA-256(previous id) ‖ SHA-256(its message)). So a chain is
//! reassembled by walking the cache from its head, checking every link as
//! it goes, with no second copy of the fragments: the reference's
//! `compose(packet, cache)`, with the checks of docs/compat.md#reassembly
//! (a head `{"meta","ts","size","indexes"}` with `indexes` =
//! ceil(size/1024); each fragment's index, `previousId`, length and id).
//! A fragment whose content does not match its id (the poisoning of §10.9)
//! is dropped from the cache and the gate, so a good copy can take its
//! place. The delivered packetId follows the reference's quirk (§7.3): the
//! SHA-256 of the completing packet's `previousId` and the bytes.
//!
//! A chain that stays incomplete for `timings.missing_link_ms` makes us ask
//! the network for the first link we lack (the head, or the fragment the
//! last one we hold points to) with a Query `{"packetId": …}` (retries add
//! a `retry` key, so relays do not take them for the same question), up to
//! `timings.missing_link_queries` times per link with doubling waits. The
//! answer must be exactly the packet asked for (its id must follow the
//! link), then it goes through the Publish path.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::addr::Remote;
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::publish::{arr32, id_of, Whole};
use super::query::Asked;
use super::time::Instant;
use super::timers::Timer;
use super::Peer;
use crate::crypto::identity::sha256;
use crate::wire::control::ChainHead;
use crate::wire::packet::{IdField, MESSAGE_BYTES};
use crate::wire::PacketRef;

/// `id_k = SHA-256(SHA-256(id_(k-1)) ‖ SHA-256(fragment_k))` (§2.5 (b)).
pub(crate) fn fragment_id(prev: &[u8], body: &[u8]) -> [u8; 32] {
    let mut b = [0u8; 64];
    b[..32].copy_from_slice(&sha256(prev));
    b[32..].copy_from_slice(&sha256(body));
    sha256(&b)
}

/// Whether `message` is the packet `id` that `prev` points to (`None`:
/// `id` is a head or a lone packet, whose id is its message's hash).
pub(crate) fn link_holds(id: &[u8], prev: Option<&[u8]>, message: &[u8]) -> bool {
    match prev {
        None => id == sha256(message),
        Some(prev) => id == fragment_id(prev, message),
    }
}

#[derive(Clone, Debug)]
struct HeadState {
    size: usize,
    indexes: usize,
    /// Fragments 1..=links are verified in the cache.
    links: usize,
    /// Id of the last verified packet (the head when `links` is 0).
    prev_id: IdField,
    /// Id of fragment `links + 1` (its predecessor's `nextId`).
    next_id: IdField,
}

/// A chain being reassembled.
#[derive(Clone, Debug)]
pub(crate) struct ChainState {
    first_seen: Instant,
    seq: u64,
    head: Option<HeadState>,
    /// When to ask for the missing link next.
    next_query: Option<Instant>,
    /// The link asked for, and how many times.
    asking: Option<IdField>,
    queries: u32,
    /// The last packet of it that arrived: where from, its `previousId`
    /// and hops (the completing packet's, should it complete the chain
    /// later without another arrival).
    last: Option<(Remote, IdField, u32)>,
}

/// The chains being reassembled, bounded (oldest evicted).
#[derive(Debug, Default)]
pub(crate) struct Chains {
    map: BTreeMap<IdField, ChainState>,
    order: BTreeMap<u64, IdField>,
    seq: u64,
}

impl Chains {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    fn remove(&mut self, k: &[u8]) {
        if let Some(s) = self.map.remove(&super::store::key_of(k)) {
            self.order.remove(&s.seq);
        }
    }
}

/// Where a chain stands after a walk.
enum Walk {
    /// Waiting for the packet `missing`, which `prev` points to (`None`:
    /// the head).
    Missing {
        missing: IdField,
        prev: Option<IdField>,
    },
    /// Not a chain we can reassemble (bad head): tracking dropped.
    Invalid,
    /// Every link verified.
    Complete,
}

impl Peer {
    /// A packet of a chain of ours was cached (or came as an answer).
    pub(crate) fn chain_arrived(
        &mut self,
        now: Instant,
        from: Remote,
        head_id: &IdField,
        completing_previous_id: &[u8],
        hops: u32,
    ) {
        if self.delivered.contains(head_id) {
            return;
        }
        if !self.chains.map.contains_key(head_id) {
            while self.chains.map.len() >= self.config.limits.reassembly.max_chains.max(1) {
                let Some((_, old)) = self.chains.order.pop_first() else {
                    break;
                };
                self.chains.map.remove(&old);
                self.metrics.evict(Eviction::Chain);
            }
            self.chains.seq += 1;
            let seq = self.chains.seq;
            self.chains.order.insert(seq, head_id.clone());
            self.chains.map.insert(
                head_id.clone(),
                ChainState {
                    first_seen: now,
                    seq,
                    head: None,
                    next_query: None,
                    asking: None,
                    queries: 0,
                    last: None,
                },
            );
        }
        if let Some(s) = self.chains.map.get_mut(head_id) {
            s.last = Some((from, id_of(completing_previous_id), hops));
        }
        match self.walk_chain(head_id) {
            Walk::Complete => self.complete_chain(now, from, head_id, completing_previous_id, hops),
            Walk::Invalid => {}
            Walk::Missing { missing, .. } => {
                let delay = self.config.timings.missing_link_ms;
                let Some(s) = self.chains.map.get_mut(head_id) else {
                    return;
                };
                let at = match &s.asking {
                    // An answer filled the link we asked for: ask for the
                    // next one now.
                    Some(a) if *a != missing => {
                        s.asking = None;
                        s.queries = 0;
                        now
                    }
                    // Still asking for it: keep that schedule.
                    Some(_) => s.next_query.unwrap_or(now),
                    // Incomplete for `missing_link_ms` after the last
                    // arrival before we ask.
                    None => now.add_ms(delay),
                };
                s.next_query = Some(at);
                self.arm_chain_timer(at);
            }
        }
    }

    /// Advances the chain's verified prefix through the cache.
    fn walk_chain(&mut self, head_id: &IdField) -> Walk {
        let max_bytes = self.config.limits.reassembly.max_bytes;
        let Some(state) = self.chains.map.get(head_id) else {
            return Walk::Invalid;
        };
        let mut head = match &state.head {
            Some(h) => h.clone(),
            None => {
                let Some(e) = self.store.get(head_id) else {
                    return Walk::Missing {
                        missing: head_id.clone(),
                        prev: None,
                    };
                };
                match parse_head(&e.frame, head_id, max_bytes) {
                    Some(h) => h,
                    None => {
                        self.chains.remove(head_id);
                        self.metrics.drop(DropReason::Invalid);
                        return Walk::Invalid;
                    }
                }
            }
        };
        let mut result = Walk::Complete;
        while head.links < head.indexes {
            let id = head.next_id.clone();
            let Some(e) = self.store.get(&id) else {
                result = Walk::Missing {
                    missing: id,
                    prev: Some(head.prev_id.clone()),
                };
                break;
            };
            let ok = PacketRef::decode_frame(&e.frame).is_ok_and(|f| {
                fragment_ok(&f, head_id, &head, head.links + 1)
                    && link_holds(&id, Some(&head.prev_id), f.message)
            });
            if !ok {
                // Poisoned (or a stray under this id): let a good copy in.
                self.store.remove(&id);
                self.gate.remove(&GateKey::packet(&id));
                self.metrics.drop(DropReason::Forged);
                result = Walk::Missing {
                    missing: id,
                    prev: Some(head.prev_id.clone()),
                };
                break;
            }
            let next = PacketRef::decode_frame(&e.frame).map(|f| id_of(f.next_id));
            head.links += 1;
            head.prev_id = id;
            head.next_id = next.unwrap_or_default();
        }
        if let Some(s) = self.chains.map.get_mut(head_id) {
            s.head = Some(head);
        }
        result
    }

    /// Concatenates a verified chain from the cache and delivers it.
    fn complete_chain(
        &mut self,
        now: Instant,
        from: Remote,
        head_id: &IdField,
        completing_previous_id: &[u8],
        hops: u32,
    ) {
        let Some(state) = self.chains.map.get(head_id) else {
            return;
        };
        let Some(h) = state.head.clone() else {
            return;
        };
        let mut bytes = Vec::with_capacity(h.size);
        let mut ids: Vec<IdField> = Vec::with_capacity(h.indexes + 1);
        ids.push(head_id.clone());
        let mut next = self.store.get(head_id).and_then(|e| {
            PacketRef::decode_frame(&e.frame)
                .ok()
                .map(|f| id_of(f.next_id))
        });
        for _ in 0..h.indexes {
            let frag = next
                .as_ref()
                .and_then(|id| self.store.get(id))
                .and_then(|e| {
                    PacketRef::decode_frame(&e.frame)
                        .ok()
                        .map(|f| (f.message.to_vec(), id_of(f.next_id)))
                });
            let Some((msg, n)) = frag else {
                // Evicted since it was verified: walk again from the head.
                if let Some(s) = self.chains.map.get_mut(head_id) {
                    s.head = None;
                }
                let at = now.add_ms(self.config.timings.missing_link_ms);
                self.arm_chain_timer(at);
                if let Some(s) = self.chains.map.get_mut(head_id) {
                    s.next_query.get_or_insert(at);
                }
                return;
            };
            bytes.extend_from_slice(&msg);
            if let Some(id) = next.take() {
                ids.push(id);
            }
            next = Some(n);
        }
        let Some(head_frame) = self.store.get(head_id).map(|e| e.frame.clone()) else {
            return;
        };
        let Ok(hp) = PacketRef::decode_frame(&head_frame) else {
            return;
        };
        self.chains.remove(head_id);
        self.metrics.chains_completed += 1;
        let Some(keys) = self.member_keys(hp.cluster_id, hp.subcluster_id) else {
            return;
        };
        let mut id_input = Vec::with_capacity(completing_previous_id.len() + bytes.len());
        id_input.extend_from_slice(completing_previous_id);
        id_input.extend_from_slice(&bytes);
        let w = Whole {
            cluster_id: arr32(hp.cluster_id),
            subcluster_id: arr32(hp.subcluster_id),
            usr1: hp.usr1,
            usr2: hp.usr2,
            sig: hp.sig,
            sealed: &bytes,
            packet_id: id_of(&sha256(&id_input)),
            head_id: Some(head_id.clone()),
            hops,
            from,
            stream_from: None,
            sealed_hash: sha256(&bytes),
        };
        if self.deliver(&keys, &w).is_bad() {
            // Consistent ids, but not an authentic event of ours: keep none
            // of it, and let genuine packets under the same ids in
            // (docs/compat.md#member-filter).
            for id in &ids {
                self.forget_packet(id);
            }
        } else {
            self.remember_delivered(head_id);
        }
    }

    fn arm_chain_timer(&mut self, at: Instant) {
        if self
            .timers
            .deadline(Timer::ChainCheck)
            .is_some_and(|t| t <= at)
        {
            return;
        }
        self.timers.set(at, Timer::ChainCheck);
    }

    /// Missing-link queries that are due; forgets chains past their time.
    pub(crate) fn on_chain_timer(&mut self, now: Instant) {
        let timeout = self.config.timings.chain_timeout_ms;
        let max_queries = self.config.timings.missing_link_queries;
        let delay = self.config.timings.missing_link_ms;
        let due: Vec<IdField> = self
            .chains
            .map
            .iter()
            .filter(|(_, s)| {
                s.next_query.is_some_and(|t| t <= now) || now.ms_since(s.first_seen) > timeout
            })
            .map(|(k, _)| k.clone())
            .collect();
        for head_id in due {
            let Some(s) = self.chains.map.get(&head_id) else {
                continue;
            };
            if now.ms_since(s.first_seen) > timeout {
                self.chains.remove(&head_id);
                self.metrics.evict(Eviction::Chain);
                continue;
            }
            match self.walk_chain(&head_id) {
                Walk::Complete => {
                    // Everything is there again (after an eviction made
                    // us walk anew): the last arrival completes it.
                    let Some((from, prev, hops)) =
                        self.chains.map.get(&head_id).and_then(|s| s.last.clone())
                    else {
                        self.chains.remove(&head_id);
                        continue;
                    };
                    self.complete_chain(now, from, &head_id, &prev, hops);
                }
                Walk::Invalid => {}
                Walk::Missing { missing, prev } => {
                    let Some(s) = self.chains.map.get_mut(&head_id) else {
                        continue;
                    };
                    if s.asking.as_ref() != Some(&missing) {
                        s.asking = Some(missing.clone());
                        s.queries = 0;
                    }
                    if s.queries >= max_queries {
                        // Given up asking: a Sync or a relay may still
                        // bring it before the chain times out.
                        s.next_query = None;
                        continue;
                    }
                    let attempt = s.queries;
                    s.queries += 1;
                    s.next_query = Some(now.add_ms(delay.saturating_mul(1 << s.queries.min(16))));
                    self.ask_for_link(now, &missing, prev, attempt);
                }
            }
        }
        let next = self.chains.map.values().filter_map(|s| s.next_query).min();
        let oldest = self
            .chains
            .map
            .values()
            .map(|s| s.first_seen.add_ms(timeout + 1))
            .min();
        if let Some(at) = [next, oldest].into_iter().flatten().min() {
            self.arm_chain_timer(at.max(now));
        }
    }

    /// Sends `{"packetId": hex(id)}` (plus `"retry": n` after the first).
    fn ask_for_link(&mut self, now: Instant, id: &IdField, prev: Option<IdField>, attempt: u32) {
        let mut q =
            crate::wire::control::QueryQuestion::for_packet(&crate::crypto::identity::to_hex(id));
        if attempt > 0 {
            q.0.insert(
                "retry",
                crate::wire::json::JsValue::Number(f64::from(attempt)),
            );
        }
        let text = q.to_json();
        let asked = Asked::Link {
            id: id.clone(),
            prev,
        };
        if self.send_question(now, text.as_bytes(), asked).is_ok() {
            self.metrics.link_queries += 1;
        }
    }
}

/// A head's size and fragment count, if it is one we reassemble.
fn parse_head(frame: &[u8], head_id: &[u8], max_bytes: usize) -> Option<HeadState> {
    let p = PacketRef::decode_frame(frame).ok()?;
    if p.index != 0 || head_id != sha256(p.message) {
        return None;
    }
    let info = ChainHead::parse(p.message).ok()?;
    let int = |v: f64| (1.0..=9.0e15).contains(&v) && (v as u64) as f64 == v;
    if !int(info.size) || !int(info.indexes) {
        return None;
    }
    let size = info.size as u64;
    if size > max_bytes as u64 {
        return None;
    }
    let size = size as usize;
    let indexes = size.div_ceil(MESSAGE_BYTES);
    if info.indexes != indexes as f64 {
        return None;
    }
    Some(HeadState {
        size,
        indexes,
        links: 0,
        prev_id: id_of(head_id),
        next_id: id_of(p.next_id),
    })
}

/// Fragment `index` of the chain `head_id`: right index, `previousId` and
/// length.
fn fragment_ok(f: &PacketRef<'_>, head_id: &[u8], h: &HeadState, index: usize) -> bool {
    let expected = if index < h.indexes {
        MESSAGE_BYTES
    } else {
        h.size - MESSAGE_BYTES * (h.indexes - 1)
    };
    f.index > 0
        && f.index as usize == index
        && f.previous_id == head_id
        && f.message.len() == expected
}
