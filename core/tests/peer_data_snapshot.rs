//! Persistence of the data plane: the cache (with each packet's age), the
//! unpublished packets and the delivered ids survive a snapshot.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::peer::{Instant, Peer, PublishOptions, SocketId};
use streamrelay::wire::PacketRef;

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";

#[test]
fn the_cache_unpublished_and_delivered_ids_survive_a_restart() {
    let mut a = member(1, A);
    let own = a
        .publish(
            Instant(10),
            &shared(),
            "e",
            b"not sent yet",
            &PublishOptions::new(),
        )
        .unwrap();
    let seen = event_packets("x", b"seen before", 70).remove(0);
    a.handle_datagram(Instant(20), SocketId::Main, udp(B), &frame(&seen, 1));
    let brief = event_packets_with("x", b"brief", 71, &sub_keys(), &signer(9), |a| {
        a.ttl = Some(60_000)
    })
    .remove(0);
    a.handle_datagram(Instant(30), SocketId::Main, udp(B), &frame(&brief, 1));
    assert_eq!(packets(&drain_events(&mut a)).len(), 2);

    let bytes = a.snapshot(Instant(1000));
    let mut b = Peer::restore(data_config(1, A), Instant(5000), [9; 32], &bytes).unwrap();
    drain_events(&mut b);
    let ids = |p: &Peer| p.cached_ids().map(|k| k.to_vec()).collect::<Vec<_>>();
    assert_eq!(ids(&b), ids(&a), "same packets, oldest first");
    for id in a.cached_ids() {
        assert_eq!(a.cached(id), b.cached(id));
    }
    let unpublished: Vec<Vec<u8>> = b.unpublished().map(|k| k.to_vec()).collect();
    assert_eq!(unpublished, vec![own[0].to_vec()]);
    assert_eq!(b.cache_summary_hash(), {
        a.handle_timeout(Instant(30_000));
        a.cache_summary_hash().to_string()
    });

    // Ages were kept: the brief packet (970 ms old at the snapshot) expires
    // in the first tick after 60 s more.
    b.handle_timeout(Instant(5000));
    b.handle_timeout(Instant(35_000));
    assert!(b.cached(&brief.packet_id).is_some());
    b.handle_timeout(Instant(65_000));
    assert!(b.cached(&brief.packet_id).is_none());
    // Once the gate forgot it too, a replay of it is cached again, but not
    // delivered again.
    b.handle_timeout(Instant(95_000));
    b.handle_datagram(Instant(95_001), SocketId::Main, udp(B), &frame(&brief, 3));
    assert!(b.cached(&brief.packet_id).is_some());
    assert!(packets(&drain_events(&mut b)).is_empty());
    // Still a member: something new is delivered.
    let fresh = event_packets("x", b"new", 72).remove(0);
    b.handle_datagram(Instant(95_002), SocketId::Main, udp(B), &frame(&fresh, 1));
    assert_eq!(packets(&drain_events(&mut b)).len(), 1);
    // The unpublished packet goes out at the first contact.
    drain_transmits(&mut b, Instant(95_002));
    let ping = streamrelay::wire::control::Ping::nat_announcement(
        &hex_id(2),
        Some(streamrelay::nat::NatType::UNRESTRICTED),
        0.0,
        0.0,
        0.0,
    );
    b.handle_datagram(
        Instant(95_003),
        SocketId::Main,
        udp(B),
        &ping.to_packet().unwrap().encode().unwrap(),
    );
    let sent: Vec<Vec<u8>> = drain_transmits(&mut b, Instant(95_003))
        .into_iter()
        .filter(|t| t.bytes[4] == 5)
        .map(|t| PacketRef::decode(&t.bytes).unwrap().packet_id.to_vec())
        .collect();
    assert!(sent.contains(&own[0].to_vec()));
    assert_eq!(b.unpublished().count(), 0);
}

#[test]
fn restoring_bounds_the_cache_by_the_new_config() {
    let mut a = data_peer(1, A, |_| {});
    for i in 0..20u64 {
        let p = event_packets("x", &[i as u8; 8], 80 + i).remove(0);
        a.handle_datagram(Instant(10 + i), SocketId::Main, udp(B), &frame(&p, 16));
    }
    let bytes = a.snapshot(Instant(100));
    let mut c = data_config(1, A);
    c.limits.max_cache_packets = 5;
    let b = Peer::restore(c, Instant(0), [9; 32], &bytes).unwrap();
    let kept: Vec<Vec<u8>> = b.cached_ids().map(|k| k.to_vec()).collect();
    let newest: Vec<Vec<u8>> = a.cached_ids().skip(15).map(|k| k.to_vec()).collect();
    assert_eq!(kept, newest);
}
