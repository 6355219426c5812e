//! Per-remote rate limits (§6.12), with the reference's bugs fixed.
//!
//! The reference keys a counter by class (`R` for Publish and Join, `C` for
//! the rest) and address:port, in one-minute buckets, and lets the quota
//! drift by ±1 per minute. It passes the subcluster *object* where a number is
//! expected, which switches limiting off for joined subclusters (§10.65); the
//! quota can grow without bound (§10.66) and the map is never pruned
//! (§10.64). Here: joined-subcluster traffic has its own counter with the
//! configured subcluster quota, the drifting quota stays within
//! `[1, base]`, entries idle for two minutes are pruned each tick, and the
//! table is bounded (least recently used evicted). See
//! docs/compat.md#rate-limit-quota.

use alloc::collections::BTreeMap;

use super::addr::Remote;
use super::config::RateQuotas;
use super::time::Instant;
use crate::wire::PacketType;

/// The traffic class a packet is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Publish and Join (the reference's `R`).
    Replicatable,
    /// Everything else (`C`).
    Control,
    /// Anything in a subcluster we joined.
    Subcluster,
}

impl Class {
    pub(crate) fn of(t: PacketType, in_joined_subcluster: bool) -> Class {
        if in_joined_subcluster {
            Class::Subcluster
        } else if matches!(t, PacketType::Publish | PacketType::Join) {
            Class::Replicatable
        } else {
            Class::Control
        }
    }

    fn base(self, q: &RateQuotas) -> u32 {
        match self {
            Class::Replicatable => q.replicatable_per_minute,
            Class::Control => q.control_per_minute,
            Class::Subcluster => q.subcluster_per_minute,
        }
        .max(1)
    }
}

#[derive(Clone, Debug)]
struct Entry {
    minute: u64,
    quota: u32,
    used: u32,
    mtime: Instant,
    seq: u64,
}

/// The counters. `check` answers "drop it?".
#[derive(Clone, Debug)]
pub(crate) struct RateLimiter {
    entries: BTreeMap<(Class, Remote), Entry>,
    lru: BTreeMap<u64, (Class, Remote)>,
    seq: u64,
    cap: usize,
}

/// How long an idle entry is kept.
const IDLE_MS: u64 = 120_000;

impl RateLimiter {
    pub(crate) fn new(cap: usize) -> Self {
        RateLimiter {
            entries: BTreeMap::new(),
            lru: BTreeMap::new(),
            seq: 0,
            cap: cap.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Counts one packet; returns `(limited, evicted)`.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        class: Class,
        remote: Remote,
        quotas: &RateQuotas,
    ) -> (bool, bool) {
        let base = class.base(quotas);
        let minute = now.as_millis() / 60_000;
        let key = (class, remote);
        let mut evicted = false;
        self.seq += 1;
        let seq = self.seq;
        let entry = match self.entries.get_mut(&key) {
            Some(e) => {
                self.lru.remove(&e.seq);
                e
            }
            None => {
                if self.entries.len() >= self.cap {
                    if let Some((_, old)) = self.lru.pop_first() {
                        self.entries.remove(&old);
                        evicted = true;
                    }
                }
                self.entries.entry(key).or_insert(Entry {
                    minute,
                    quota: base,
                    used: 0,
                    mtime: now,
                    seq,
                })
            }
        };
        entry.seq = seq;
        entry.mtime = now;
        self.lru.insert(seq, key);
        if entry.minute != minute {
            entry.minute = minute;
            // The reference's drift, kept within [1, base].
            if entry.used > entry.quota {
                entry.quota = entry.quota.saturating_sub(1).max(1);
            } else if entry.used < base {
                entry.quota = entry.quota.saturating_add(1).min(base);
            }
            entry.used = 0;
        }
        entry.used = entry.used.saturating_add(1);
        (entry.used >= entry.quota, evicted)
    }

    /// Drops entries idle for two minutes (the pruning the reference's
    /// comment promises).
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some((&seq, key)) = self.lru.first_key_value() {
            let idle = self
                .entries
                .get(key)
                .is_none_or(|e| now.ms_since(e.mtime) > IDLE_MS);
            if !idle {
                break;
            }
            let key = *key;
            self.lru.remove(&seq);
            self.entries.remove(&key);
        }
    }
}
