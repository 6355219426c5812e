//! Cache reconciliation (§7.8): summaries of the cache's key trie are
//! exchanged level by level; where the other side lacks a whole bucket we
//! send it the packets, where both have one that differs we go one hex
//! digit deeper, and where the level hashes agree the exchange ends.
//!
//! A Sync starts on first contact with a peer (at most once per
//! `timings.sync_window_ms` for an address, as `_onConnection` does) and
//! when the host calls [`Peer::sync`]. Packets that arrive this way go
//! through the normal Publish path (cached, delivered, relayed).
//!
//! Fixes (docs/compat.md#sync): a malformed summary is dropped instead of
//! being acted on (`SummaryRef::is_well_formed`); a bucket whose hash is
//! the same on both sides is not descended into (§10.68); an answer is
//! bounded by `limits.max_sync_sends` and only goes to an address in our
//! peer table (a 21-byte Sync can ask for the whole cache: a stranger's,
//! possibly spoofed, would make us a traffic amplifier). A table peer's
//! address can be spoofed too: all the answers to one address share a
//! budget over time, `limits.max_sync_sends_per_window` datagrams per
//! `timings.sync_window_ms` ([`SyncBudgets`], docs/compat.md#amplification).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::addr::{PeerId, Remote, SocketId};
use super::events::Event;
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::query::parse_ascii_int;
use super::time::Instant;
use super::{Peer, PeerError};
use crate::cache::{decode_summary, MAX_PREFIX};
use crate::wire::packet::DEFAULT_TTL;
use crate::wire::{Field, Packet, PacketRef, PacketType};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Per-address token buckets for Sync answers: each address may get
/// `per_window` datagrams per `window_ms`, however many Syncs it sends. A
/// bucket starts full (a new peer's first sync gets a whole answer) and
/// refills continuously. Time is the caller's `now`; integer arithmetic
/// only (tokens are counted in datagram·ms, one datagram costs
/// `window_ms`).
///
/// At most `cap` addresses (the peer-table size: answers only go to table
/// peers). A full bucket is the same as no bucket, so full ones are
/// dropped first; then the fullest (it has the least left to give back).
#[derive(Clone, Debug, Default)]
pub(crate) struct SyncBudgets {
    buckets: BTreeMap<Remote, Bucket>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Datagram·ms left at `at`.
    level: u64,
    at: Instant,
}

impl SyncBudgets {
    fn full(per_window: usize, window_ms: u64) -> u64 {
        (per_window as u64).saturating_mul(window_ms.max(1))
    }

    fn level_at(b: &Bucket, now: Instant, per_window: usize, window_ms: u64) -> u64 {
        let refill = now.ms_since(b.at).saturating_mul(per_window as u64);
        b.level
            .saturating_add(refill)
            .min(Self::full(per_window, window_ms))
    }

    /// Datagrams `remote` may still get now.
    pub(crate) fn available(
        &self,
        now: Instant,
        remote: &Remote,
        per_window: usize,
        window_ms: u64,
    ) -> usize {
        let level = match self.buckets.get(remote) {
            Some(b) => Self::level_at(b, now, per_window, window_ms),
            None => Self::full(per_window, window_ms),
        };
        usize::try_from(level / window_ms.max(1)).unwrap_or(usize::MAX)
    }

    /// Charges `n` datagrams sent to `remote` (at most what is
    /// [`available`](Self::available)); keeps at most `cap` buckets.
    pub(crate) fn spend(
        &mut self,
        now: Instant,
        remote: Remote,
        n: usize,
        per_window: usize,
        window_ms: u64,
        cap: usize,
    ) {
        if n == 0 {
            return;
        }
        let cost = (n as u64).saturating_mul(window_ms.max(1));
        if let Some(b) = self.buckets.get_mut(&remote) {
            let level = Self::level_at(b, now, per_window, window_ms);
            *b = Bucket {
                level: level.saturating_sub(cost),
                at: now,
            };
            return;
        }
        if self.buckets.len() >= cap.max(1) {
            let full = Self::full(per_window, window_ms);
            self.buckets
                .retain(|_, b| Self::level_at(b, now, per_window, window_ms) < full);
            if self.buckets.len() >= cap.max(1) {
                // The fullest goes (ties: the lowest address, deterministic).
                let fullest = self
                    .buckets
                    .iter()
                    .map(|(r, b)| (Self::level_at(b, now, per_window, window_ms), r))
                    .fold(None, |m: Option<(u64, &Remote)>, x| match m {
                        Some(m) if m.0 >= x.0 => Some(m),
                        _ => Some(x),
                    })
                    .map(|(_, r)| *r);
                if let Some(r) = fullest {
                    self.buckets.remove(&r);
                }
            }
        }
        self.buckets.insert(
            remote,
            Bucket {
                level: Self::full(per_window, window_ms).saturating_sub(cost),
                at: now,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.len()
    }
}

impl Peer {
    /// Starts a Sync with a peer in the table (`sync(peer)`): our root
    /// summary, `usr4` = our wall clock, to the peer (or its proxy).
    pub fn sync(&mut self, now: Instant, peer_id: &PeerId) -> Result<(), PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let wall = self.wall_ms(now);
        self.sync_with(now, peer_id, wall)
    }

    fn sync_with(&mut self, now: Instant, peer_id: &PeerId, ptime: f64) -> Result<(), PeerError> {
        let (socket, remote) = self.route_to(peer_id).ok_or(PeerError::UnknownPeer)?;
        self.start_sync(now, socket, remote, ptime);
        Ok(())
    }

    /// Where packets for `peer_id` go: its entry, or its proxy's.
    pub(crate) fn route_to(&self, peer_id: &PeerId) -> Option<(SocketId, Remote)> {
        let e = self.peer(peer_id)?;
        if let Some(px) = e.proxy {
            if let Some(p) = self.peer(&px) {
                return Some((p.socket, p.remote));
            }
        }
        Some((e.socket, e.remote))
    }

    /// The monotonic time after which a cached packet passes the
    /// reference's `cachePredicate(ptime)` (§7.7): inserted after
    /// min(ptime, now - 6 h), wall clock.
    fn predicate_after(&self, now: Instant, ptime: f64) -> i64 {
        let wall = self.wall_ms(now);
        let t = ptime.min(wall - f64::from(DEFAULT_TTL));
        let t = if t.is_nan() {
            wall - f64::from(DEFAULT_TTL)
        } else {
            t
        };
        (t as i64).saturating_sub(self.wall_offset)
    }

    fn start_sync(&mut self, now: Instant, socket: SocketId, remote: Remote, ptime: f64) {
        let after = self.predicate_after(now, ptime);
        let summary = self.store.summarize(b"", after);
        let mut p = self.sync_packet();
        p.message = summary.encode();
        let usr4 = alloc::format!("{}", ptime as i64);
        if p.set(Field::Usr4, usr4.as_bytes()).is_err() {
            return;
        }
        self.metrics.syncs_started += 1;
        self.send_packet(socket, remote, &p);
    }

    /// An empty Sync packet: with `behaviour.unique_sync_ids` our id goes
    /// in its `previousId` (unused by the Sync flow), so its packetId is
    /// ours alone and the receiver's gate does not take it for another
    /// peer's Sync with the same summary.
    fn sync_packet(&self) -> Packet {
        let mut p = Packet::new(PacketType::Sync);
        if self.config.behaviour.unique_sync_ids {
            let _ = p.set(Field::PreviousId, &self.peer_id.0);
        }
        p
    }

    /// First contact with a peer (a new or returning connection): send what
    /// we could not publish, and sync (§6.11).
    pub(crate) fn on_contact(&mut self, now: Instant, peer_id: PeerId) {
        self.send_unpublished(now);
        self.sync_if_due(now, peer_id);
    }

    /// Syncs with `peer_id` unless its address was synced with within
    /// `timings.sync_window_ms` (`auto_sync` off: never).
    pub(crate) fn sync_if_due(&mut self, now: Instant, peer_id: PeerId) {
        if !self.config.auto_sync {
            return;
        }
        let Some(e) = self.peer(&peer_id) else { return };
        let key = e.remote;
        let wall = self.wall_ms(now);
        let first = !self.syncs.contains_key(&key);
        if first {
            if self.syncs.len() >= self.config.limits.max_peers {
                let oldest = self
                    .syncs
                    .iter()
                    .min_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.syncs.remove(&k);
                    self.metrics.evict(Eviction::SyncPeer);
                }
            }
            self.syncs.insert(key, wall - f64::from(DEFAULT_TTL));
        }
        let last = self.syncs.get(&key).copied().unwrap_or(wall);
        if first || wall - last > self.config.timings.sync_window_ms as f64 {
            let _ = self.sync_with(now, &peer_id, last);
            self.syncs.insert(key, wall);
        }
    }

    /// A Sync from the network.
    pub(crate) fn on_sync(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[PacketType::Sync as usize] += 1;
        // An answer can be thousands of packets: only for a peer we know,
        // never for a (possibly spoofed) stranger (docs/compat.md#sync).
        if !self.table.iter().any(|e| e.remote == remote) {
            self.metrics.drop(DropReason::Unsolicited);
            return;
        }
        let wall = self.wall_ms(now);
        let mut ptime = wall - f64::from(DEFAULT_TTL);
        if let Some(t) = parse_ascii_int(p.usr4) {
            ptime = ptime.min(t as f64);
        }
        let gk = GateKey::Packet(p.effective_packet_id());
        if self.gate.contains(&gk) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        // What this address may still get this window, all its Syncs
        // together (docs/compat.md#amplification). Nothing left: not even
        // the summary work (and not gated, so a retry later is answered).
        let (per_window, window_ms) = (
            self.config.limits.max_sync_sends_per_window,
            self.config.timings.sync_window_ms,
        );
        let allowance = self
            .sync_budgets
            .available(now, &remote, per_window, window_ms);
        if allowance == 0 {
            self.metrics.drop(DropReason::SyncBudget);
            return;
        }
        self.gate_set(gk, 1);
        let Ok(summary) = decode_summary(p.message) else {
            self.metrics.drop(DropReason::Malformed);
            return;
        };
        if !summary.is_well_formed() {
            self.metrics.drop(DropReason::Malformed);
            return;
        }
        let prefix = super::store::prefix_digits(summary.prefix_len, summary.prefix_bytes);
        let after = self.predicate_after(now, ptime);
        let local = self.store.summarize(&prefix, after);
        if summary.hash == local.hash {
            self.emit(Event::SyncFinished {
                remote,
                prefix: String::from_utf8_lossy(&prefix).into_owned(),
            });
            return;
        }
        let mut theirs: [Option<&[u8]>; 16] = [None; 16];
        for (i, h) in summary.buckets() {
            if let Some(slot) = theirs.get_mut(i as usize) {
                *slot = Some(h);
            }
        }
        let budget = self.config.limits.max_sync_sends.min(allowance);
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut cut = false;
        'buckets: for (i, their) in theirs.iter().enumerate() {
            let ours = local.buckets[i];
            let mut sub: heapless::Vec<u8, MAX_PREFIX> = prefix.clone();
            match (ours, their) {
                (None, None) => continue,
                (Some(_), None) => {
                    if sub.push(HEX[i]).is_err() {
                        continue;
                    }
                    for (_, e) in self
                        .store
                        .under_prefix(&sub, |e| e.inserted.as_millis() as i64 > after)
                    {
                        if out.len() >= budget {
                            cut = true;
                            break 'buckets;
                        }
                        out.push(e.frame.to_vec());
                        self.metrics.sync_packets_sent += 1;
                    }
                }
                (ours, Some(their)) => {
                    if ours.is_some_and(|o| o[..] == **their) {
                        continue;
                    }
                    if sub.push(HEX[i]).is_err() {
                        continue;
                    }
                    if out.len() >= budget {
                        cut = true;
                        break 'buckets;
                    }
                    let next = self.store.summarize(&sub, after);
                    let mut q = self.sync_packet();
                    q.message = next.encode();
                    let usr4 = alloc::format!("{}", wall as i64);
                    if q.set(Field::Usr4, usr4.as_bytes()).is_err() {
                        continue;
                    }
                    if let Ok(b) = q.encode() {
                        out.push(b);
                    }
                }
            }
        }
        if cut {
            self.metrics.drop(DropReason::SyncBudget);
        }
        let cap = self.config.limits.max_peers;
        self.sync_budgets
            .spend(now, remote, out.len(), per_window, window_ms, cap);
        for b in out {
            self.send(socket, remote, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(port: u16) -> Remote {
        Remote::Udp(core::net::SocketAddr::from(([192, 0, 2, 1], port)))
    }

    #[test]
    fn budgets_refill_over_the_window_and_stay_bounded() {
        let mut b = SyncBudgets::default();
        let (w, ms) = (100, 1000);
        assert_eq!(b.available(Instant(0), &r(1), w, ms), 100);
        b.spend(Instant(0), r(1), 100, w, ms, 2);
        assert_eq!(b.available(Instant(0), &r(1), w, ms), 0);
        assert_eq!(b.available(Instant(250), &r(1), w, ms), 25);
        assert_eq!(b.available(Instant(5000), &r(1), w, ms), 100);
        b.spend(Instant(990), r(2), 50, w, ms, 2);
        // At the cap: the full bucket (r(1) by then) goes first.
        b.spend(Instant(1000), r(3), 50, w, ms, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(b.available(Instant(1000), &r(3), w, ms), 50);
        // None full: the fullest goes (r(2): 50 + 1 refilled).
        b.spend(Instant(1000), r(4), 60, w, ms, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(b.available(Instant(1000), &r(3), w, ms), 50);
        assert_eq!(b.available(Instant(1000), &r(4), w, ms), 40);
    }
}
