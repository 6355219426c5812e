//! Snapshot → restore: the restarted peer has the same identity, peers and
//! state, and carries on talking to the same network.

mod peer_support;

use peer_support::*;
use proptest::prelude::*;
use std::net::IpAddr;
use streamrelay::crypto::identity::create_shared_key;
use streamrelay::peer::{Instant, Peer, SnapshotError};
use streamrelay::wire::PacketType;

#[test]
fn restored_peer_carries_on() {
    let mut net = Net::new(7);
    let intros = two_introducers(&mut net);
    let ca = with_introducers(config(1), &intros);
    let a = net.add_natted(
        "a",
        ca.clone(),
        NatKind::PortRestricted,
        "203.0.113.10".parse::<IpAddr>().unwrap(),
    );
    let b = net.add_natted(
        "b",
        with_introducers(config(2), &intros),
        NatKind::AddrRestricted,
        "203.0.113.20".parse::<IpAddr>().unwrap(),
    );
    let key = create_shared_key("snap").unwrap();
    net.with_peer(a, |p, now| p.join(now, &key).unwrap());
    net.run_until(3_000);
    net.with_peer(b, |p, now| p.join(now, &key).unwrap());
    assert!(net.run_while(20_000, |n| outcome(n, a, b) == Outcome::Direct));

    let before = &net.hosts[a].peer;
    let now = Instant(net.now);
    let bytes = before.snapshot(now);
    let (nat, endpoint, clock, uptime) = (
        before.nat_type(),
        before.public_endpoint(),
        before.clock(),
        before.uptime(),
    );
    let peers: Vec<_> = before
        .peers()
        .iter()
        .map(|p| (p.peer_id, p.remote, p.connected))
        .collect();
    let subs: Vec<_> = before.subclusters().collect();

    // The host restarts: same config, a new seed. (Ages are stored
    // relative to the snapshot, so a host clock that restarted would do.)
    let restored = Peer::restore(ca, now, [99; 32], &bytes).unwrap();
    assert_eq!(restored.peer_id(), id(1));
    assert_eq!(restored.nat_type(), nat);
    assert_eq!(restored.public_endpoint(), endpoint);
    assert_eq!(restored.clock(), clock);
    assert_eq!(restored.uptime(), uptime);
    assert_eq!(restored.subclusters().collect::<Vec<_>>(), subs);
    let after: Vec<_> = restored
        .peers()
        .iter()
        .map(|p| (p.peer_id, p.remote, p.connected))
        .collect();
    assert_eq!(after, peers);
    // The same bytes again (nothing lost in the round trip).
    assert_eq!(restored.snapshot(now), bytes);

    net.hosts[a].peer = restored;
    let sent_before = net.hosts[b].peer.metrics().received(PacketType::Ping);
    net.run_until(net.now + 65_000);
    // A kept heartbeating B, B kept answering, both still connected, and A
    // re-joined with its clock moving on.
    assert!(net.hosts[b].peer.metrics().received(PacketType::Ping) > sent_before);
    assert_eq!(outcome(&net, a, b), Outcome::Direct);
    assert!(net.hosts[a].peer.clock() > clock);
    // It did not have to rediscover its NAT (no new NatChange after restore).
    assert_eq!(net.hosts[a].peer.nat_type(), nat);
}

#[test]
fn restore_refuses_another_identity_and_bad_bytes() {
    let c1 = config(1);
    let p = Peer::new(c1.clone(), Instant::ZERO, [0; 32]).unwrap();
    let bytes = p.snapshot(Instant(5));
    assert_eq!(
        Peer::restore(config(2), Instant::ZERO, [0; 32], &bytes).unwrap_err(),
        SnapshotError::IdentityMismatch
    );
    assert_eq!(
        Peer::restore(c1.clone(), Instant::ZERO, [0; 32], b"nope").unwrap_err(),
        SnapshotError::Malformed
    );
    let mut v3 = bytes.clone();
    v3[6] = 3;
    assert_eq!(
        Peer::restore(c1.clone(), Instant::ZERO, [0; 32], &v3).unwrap_err(),
        SnapshotError::Version(3)
    );
    for n in 0..bytes.len() {
        assert!(Peer::restore(c1.clone(), Instant::ZERO, [0; 32], &bytes[..n]).is_err());
    }
}

proptest! {
    #[test]
    fn restore_never_panics(mutations in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let c = config(1);
        let mut p = Peer::new(c.clone(), Instant::ZERO, [0; 32]).unwrap();
        p.add_introducer(id(9), udp("198.51.100.9:1")).unwrap();
        p.join(Instant::ZERO, &create_shared_key("x").unwrap()).unwrap();
        let mut bytes = p.snapshot(Instant(5));
        for (i, b) in mutations {
            let n = bytes.len();
            bytes[i % n] = b;
        }
        bytes.extend(tail);
        let _ = Peer::restore(c, Instant(1), [0; 32], &bytes);
    }
}
