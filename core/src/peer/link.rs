//! Links: host-defined channels (a Bluetooth L2CAP channel, say) that carry
//! datagrams to one neighbour, with no IP address (docs/compat.md#link-remotes).
//!
//! The host says when a link channel opens ([`Peer::link_up`]) and when it
//! is gone ([`Peer::link_down`]); datagrams on it are
//! `handle_datagram(.., Remote::Link(id), ..)` and transmits to
//! `Remote::Link(id)`, like any remote.
//!
//! A link neighbour is a full member: on a link the peer greets with one
//! connection Ping per subcluster it is in (the Ping's `subclusterId`
//! header names it, as the Intro flow's pings do), so each side learns the
//! other's subclusters without a Join (a Join needs a public address a
//! link-only peer does not have). The greeting repeats each tick while the
//! link is up. A connection over a link needs no NAT type. Cached packets
//! of a cluster go to every link neighbour seen in it (besides the random
//! fanout), so a peer with UDP and links bridges the two. UDP remotes see
//! nothing new: link neighbours are never in an Intro, never in the fanout
//! of a Join or of the UDP relay, and the greeting goes to links only.

use alloc::vec::Vec;

use super::addr::{Remote, SocketId};
use super::events::{DisconnectReason, Event};
use super::metrics::Eviction;
use super::time::Instant;
use super::Peer;
use crate::nat::NatType;
use crate::wire::control::Ping;
use crate::wire::Field;

/// An open link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LinkState {
    /// When the host said it opened.
    pub(crate) up_since: Instant,
}

impl Peer {
    /// The host opened a link channel to a neighbour, numbered `link` (the
    /// number means something to the host only). The peer greets the
    /// neighbour over it at once (connection Pings, one per subcluster it is
    /// in), so the neighbour is learned and connected, and then syncs
    /// caches with it. Calling it again for an open link greets again.
    ///
    /// At most `limits.max_links` links are open at once; a new one past
    /// that is refused (counted as [`Eviction::LinkRefused`]) until another
    /// goes down. Links are not in a snapshot: after
    /// [`restore`](Self::restore) the host calls `link_up` again for each
    /// channel still open.
    ///
    /// ```
    /// use streamrelay::peer::{Config, Instant, Peer, Remote};
    ///
    /// // A phone with no Internet: no NAT type, no public address.
    /// let config = Config::new(&"ab".repeat(32), Some([1; 32]));
    /// let mut peer = Peer::new(config, Instant::ZERO, [3; 32]).unwrap();
    /// peer.link_up(Instant::ZERO, 7);
    /// let t = peer.poll_transmit(Instant::ZERO).unwrap();
    /// assert_eq!(t.remote, Remote::Link(7));
    /// assert_eq!(t.bytes[4], 1); // a Ping
    /// assert_eq!(peer.links().collect::<Vec<_>>(), [7]);
    /// ```
    pub fn link_up(&mut self, now: Instant, link: u64) {
        if self.closing {
            return;
        }
        if !self.links.contains_key(&link) {
            if self.links.len() as u64 >= self.config.limits.max_links {
                self.metrics.evict(Eviction::LinkRefused);
                return;
            }
            self.links.insert(link, LinkState { up_since: now });
        }
        self.greet_link(now, link);
    }

    /// The link channel `link` is gone (out of range, closed by either
    /// side). Every neighbour last reached over it is forgotten
    /// ([`Event::Disconnection`] with [`DisconnectReason::Forgotten`]),
    /// its return routes and pending pings go, and nothing more is sent to
    /// it. Unknown links are ignored.
    ///
    /// ```
    /// use streamrelay::peer::{Config, Instant, Peer, Remote};
    ///
    /// let config = Config::new(&"ab".repeat(32), Some([1; 32]));
    /// let mut peer = Peer::new(config, Instant::ZERO, [3; 32]).unwrap();
    /// peer.link_up(Instant::ZERO, 7);
    /// peer.link_down(Instant::from_millis(5), 7);
    /// assert_eq!(peer.links().count(), 0);
    /// // The greeting still queued for the link is not sent.
    /// assert!(peer.poll_transmit(Instant::from_millis(5)).is_none());
    /// ```
    pub fn link_down(&mut self, now: Instant, link: u64) {
        let _ = now;
        if self.links.remove(&link).is_none() {
            return;
        }
        let remote = Remote::Link(link);
        self.transmits.retain(|t| t.remote != remote);
        let stale: Vec<u32> = self
            .pending_pings
            .iter()
            .filter(|(_, p)| p.remote() == remote)
            .map(|(&id, _)| id)
            .collect();
        for id in stale {
            self.drop_pending_ping(id);
        }
        self.return_routes.retain_values(|r| *r != remote);
        self.syncs.remove(&remote);
        let mut gone = Vec::new();
        self.table.retain(|p| {
            if p.remote == remote && !p.indexed {
                gone.push(p.peer_id);
                false
            } else {
                true
            }
        });
        for peer_id in gone {
            self.emit(Event::Disconnection {
                peer_id,
                reason: DisconnectReason::Forgotten,
            });
        }
    }

    /// The open links (as the host numbered them), in order.
    pub fn links(&self) -> impl Iterator<Item = u64> + '_ {
        self.links.keys().copied()
    }

    /// Whether `remote` is a link the host said is open.
    pub(crate) fn is_open_link(&self, remote: Remote) -> bool {
        matches!(remote, Remote::Link(l) if self.links.contains_key(&l))
    }

    /// The NAT type a connection from `remote` is recorded with: what the
    /// peer said, or, over an open link (where there is no NAT between the
    /// two), `UNRESTRICTED` when it said nothing.
    pub(crate) fn connection_nat(&self, remote: Remote, said: Option<NatType>) -> Option<NatType> {
        match said.filter(|n| n.is_valid()) {
            Some(n) => Some(n),
            None if self.is_open_link(remote) => Some(NatType::UNRESTRICTED),
            None => None,
        }
    }

    /// Connection Pings to the neighbour on `link`: one per subcluster we
    /// are in (its `subclusterId` header announces it), or one plain when
    /// we are in none.
    pub(crate) fn greet_link(&mut self, now: Instant, link: u64) {
        let mut msg = Ping::heartbeat(
            &self.peer_id_hex,
            self.nat,
            self.uptime as f64,
            self.wall_ms(now),
        );
        msg.set_is_connection(true);
        let subs: Vec<([u8; 32], [u8; 32])> = self.subclusters.keys().copied().collect();
        let remote = Remote::Link(link);
        if subs.is_empty() {
            if let Some(p) = self.ping_packet(&msg, None) {
                self.send_packet(SocketId::Main, remote, &p);
            }
            return;
        }
        for (cid, scid) in subs {
            let Some(mut p) = self.ping_packet(&msg, Some(&scid)) else {
                continue;
            };
            if p.set(Field::ClusterId, &cid).is_err() {
                continue;
            }
            self.send_packet(SocketId::Main, remote, &p);
        }
    }

    /// Every fresh, connected neighbour on an open link seen in `cluster`
    /// that the packet did not come from: a link carries every packet of
    /// its neighbour's cluster (links are few, and the only way into an
    /// island).
    pub(crate) fn add_link_members(
        &self,
        now: Instant,
        cluster: &[u8],
        ignore: &[Remote],
        targets: &mut Vec<usize>,
    ) {
        let fresh = self.config.keepalive_ms.saturating_mul(4);
        for (i, p) in self.table.iter().enumerate() {
            if p.connected
                && self.is_open_link(p.remote)
                && p.in_cluster(cluster)
                && !ignore.contains(&p.remote)
                && p.silent_for(now).is_some_and(|s| s <= fresh)
                && !targets.contains(&i)
            {
                targets.push(i);
            }
        }
    }

    /// Greets every open link (each tick, and after a join).
    pub(crate) fn greet_links(&mut self, now: Instant) {
        let links: Vec<u64> = self.links.keys().copied().collect();
        for l in links {
            self.greet_link(now, l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Event, Instant, Peer, Remote, SocketId};
    use crate::crypto::identity::create_shared_key;
    use alloc::vec::Vec;

    /// A phone with no Internet (no NAT type, no address), in cluster 1.
    fn phone(id: u8) -> Peer {
        let config = Config::new(&alloc::format!("{id:02x}").repeat(32), Some([1; 32]));
        Peer::new(config, Instant::ZERO, [id; 32]).unwrap()
    }

    /// Delivers what `a` sends to link `la` to `b` (which knows it as
    /// link `lb`), and the other way, until both are quiet.
    fn shuttle(now: Instant, a: &mut Peer, la: u64, b: &mut Peer, lb: u64) -> usize {
        let mut n = 0;
        for _ in 0..32 {
            let mut moved = false;
            while let Some(t) = a.poll_transmit(now) {
                if t.remote == Remote::Link(la) {
                    b.handle_datagram(now, SocketId::Main, Remote::Link(lb), &t.bytes);
                    moved = true;
                    n += 1;
                }
            }
            while let Some(t) = b.poll_transmit(now) {
                if t.remote == Remote::Link(lb) {
                    a.handle_datagram(now, SocketId::Main, Remote::Link(la), &t.bytes);
                    moved = true;
                    n += 1;
                }
            }
            if !moved {
                break;
            }
        }
        n
    }

    /// Two phones on one link (a's link 1 is b's link 9), greeted.
    fn linked_pair() -> (Peer, Peer, Instant) {
        let (mut a, mut b) = (phone(0xa1), phone(0xb2));
        let now = Instant::from_millis(10);
        a.link_up(now, 1);
        b.link_up(now, 9);
        shuttle(now, &mut a, 1, &mut b, 9);
        (a, b, now)
    }

    #[test]
    fn link_up_connects_two_phones_and_announces_subclusters() {
        let (mut a, mut b) = (phone(0xa1), phone(0xb2));
        let key = create_shared_key("island").unwrap();
        let scid = a.join(Instant::ZERO, &key).unwrap();
        b.join(Instant::ZERO, &key).unwrap();
        let now = Instant::from_millis(10);
        a.link_up(now, 1);
        b.link_up(now, 9);
        assert!(shuttle(now, &mut a, 1, &mut b, 9) > 0);
        let pb = a.peer(&b.peer_id()).expect("a knows b");
        assert_eq!(pb.remote, Remote::Link(1));
        assert!(pb.connected);
        assert!(pb.in_subcluster(&[1; 32], &scid));
        let pa = b.peer(&a.peer_id()).expect("b knows a");
        assert!(pa.connected && pa.in_subcluster(&[1; 32], &scid));
        let joined = |p: &mut Peer| {
            core::iter::from_fn(|| p.poll_event())
                .filter(|e| matches!(e, Event::Join { .. }))
                .count()
        };
        assert!(joined(&mut a) >= 1 && joined(&mut b) >= 1);
    }

    #[test]
    fn link_down_forgets_the_neighbour_and_sends_nothing_more() {
        let (mut a, mut b, now) = linked_pair();
        assert!(a.peer(&b.peer_id()).is_some());
        // Something is queued for the link when it goes.
        a.link_up(now, 1);
        a.link_down(now, 1);
        assert!(a.peer(&b.peer_id()).is_none());
        assert_eq!(a.links().count(), 0);
        assert!(core::iter::from_fn(|| a.poll_transmit(now)).all(|t| t.remote != Remote::Link(1)));
        // Ticks later: nothing to the link.
        for s in 1..5u64 {
            let t = Instant::from_millis(s * 30_000);
            a.handle_timeout(t);
            assert!(core::iter::from_fn(|| a.poll_transmit(t)).all(|t| t.remote != Remote::Link(1)));
        }
        // A datagram on the closed link does not connect a NAT-less peer.
        b.link_up(now, 9);
        let greeting: Vec<_> = core::iter::from_fn(|| b.poll_transmit(now)).collect();
        for t in greeting {
            a.handle_datagram(now, SocketId::Main, Remote::Link(1), &t.bytes);
        }
        assert!(a.peer(&b.peer_id()).is_none_or(|p| !p.connected));
    }

    #[test]
    fn links_are_bounded_under_a_flood() {
        let mut a = phone(0xa1);
        let max = a.config.limits.max_links;
        for l in 0..10_000u64 {
            a.link_up(Instant::from_millis(l), l);
            while a.poll_transmit(Instant::ZERO).is_some() {}
        }
        assert_eq!(a.links().count() as u64, max);
        assert_eq!(
            a.metrics().evicted(super::Eviction::LinkRefused),
            10_000 - max
        );
        // One goes down: a new one fits.
        a.link_down(Instant::ZERO, 3);
        a.link_up(Instant::ZERO, 50_000);
        assert!(a.links().any(|l| l == 50_000));
    }

    #[test]
    fn a_link_neighbour_also_heard_over_udp_stays_on_the_link() {
        let (mut a, b, now) = linked_pair();
        let ping = crate::wire::control::Ping::nat_announcement(
            &b.peer_id().to_hex(),
            Some(crate::nat::NatType::UNRESTRICTED),
            0.0,
            0.0,
            0.0,
        );
        let bytes = ping.to_packet().unwrap().encode().unwrap();
        let udp = Remote::Udp("192.0.2.8:4000".parse().unwrap());
        a.handle_datagram(now, SocketId::Main, udp, &bytes);
        assert_eq!(a.peer(&b.peer_id()).unwrap().remote, Remote::Link(1));
        // Once the link is gone, UDP reaches it again.
        a.link_down(now, 1);
        a.handle_datagram(now, SocketId::Main, udp, &bytes);
        assert_eq!(a.peer(&b.peer_id()).unwrap().remote, udp);
    }
}
