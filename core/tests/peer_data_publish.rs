//! Publish, receive, relay, the cache and expiry: scripted, with
//! transcripts.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::create_shared_key;
use streamrelay::crypto::identity::SubclusterKeys;
use streamrelay::peer::{
    DropReason, Event, Eviction, Instant, PeerError, PublishOptions, SocketId, UnverifiedReason,
};
use streamrelay::wire::{Field, PacketRef};

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";
const C: &str = "203.0.113.3:1003";
const D: &str = "203.0.113.4:1004";
const E: &str = "203.0.113.5:1005";

#[test]
fn publish_multicasts_to_the_fanout() {
    let mut a = member(1, A);
    for (n, addr) in [(2, B), (3, C), (4, D), (5, E)] {
        connect(&mut a, Instant(1), n, addr);
    }
    let ids = a
        .publish(
            Instant(10),
            &shared(),
            "greeting",
            b"hello world",
            &PublishOptions::new(),
        )
        .unwrap();
    insta::assert_snapshot!(data_transcript(&mut a, Instant(10)));
    assert_eq!(ids.len(), 1);
    // Cached as it went out (hops 1), not echoed to us, nothing left over.
    let cached = PacketRef::decode(a.cached(&ids[0]).unwrap()).unwrap();
    assert_eq!(cached.hops, 1);
    assert_eq!(a.metrics().published, 1);
    assert_eq!(a.unpublished().count(), 0);
}

#[test]
fn publish_needs_signing_keys_and_a_cluster() {
    let mut p = data_peer(1, A, |c| c.signing_keys = None);
    let e = p.publish(Instant(1), &shared(), "x", b"y", &PublishOptions::new());
    assert_eq!(e.unwrap_err(), PeerError::NoSigningKeys);
    let mut p = data_peer(1, A, |c| {
        c.indexed = true;
        c.cluster_id = None;
    });
    let e = p.publish(Instant(1), &shared(), "x", b"y", &PublishOptions::new());
    assert_eq!(e.unwrap_err(), PeerError::NoCluster);
    let mut p = data_peer(1, A, |c| c.limits.reassembly.max_bytes = 1000);
    let e = p.publish(
        Instant(1),
        &shared(),
        "x",
        &[0; 900],
        &PublishOptions::new(),
    );
    assert_eq!(e.unwrap_err(), PeerError::TooLarge(900));
}

#[test]
fn a_member_delivers_and_relays() {
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    connect(&mut b, Instant(1), 4, D);
    let packets = event_packets("greeting", b"hello world", 1);
    b.handle_datagram(Instant(20), SocketId::Main, udp(A), &frame(&packets[0], 1));
    insta::assert_snapshot!(data_transcript(&mut b, Instant(20)));
    assert_eq!(b.metrics().delivered, 1);
    assert_eq!(b.metrics().relayed, 1);
    // The same datagram again: a duplicate (gate), no event, no relay.
    b.handle_datagram(Instant(21), SocketId::Main, udp(C), &frame(&packets[0], 2));
    assert_eq!(data_transcript(&mut b, Instant(21)), "");
    assert_eq!(b.metrics().dropped(DropReason::Duplicate), 1);
}

#[test]
fn a_non_member_caches_and_relays_without_delivering() {
    let mut n = data_peer(7, B, |_| {});
    connect(&mut n, Instant(1), 3, C);
    let packets = event_packets("greeting", b"hello", 2);
    n.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&packets[0], 3));
    let t = drain_transmits(&mut n, Instant(5));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].remote, udp(C));
    assert_eq!(PacketRef::decode(&t[0].bytes).unwrap().hops, 4);
    assert!(drain_events(&mut n).is_empty());
    assert!(n.cached(&packets[0].packet_id).is_some());
}

#[test]
fn sixteen_hops_are_cached_but_not_relayed() {
    let mut n = data_peer(7, B, |_| {});
    connect(&mut n, Instant(1), 3, C);
    let packets = event_packets("greeting", b"hello", 3);
    n.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&packets[0], 16));
    assert!(drain_transmits(&mut n, Instant(5)).is_empty());
    assert!(n.cached(&packets[0].packet_id).is_some());
}

#[test]
fn forged_packets_never_reach_the_app_as_verified() {
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    let good = event_packets("greeting", b"the genuine article", 4).remove(0);

    // 1. Content changed under the genuine id: refused before the gate, so
    // the genuine packet still gets in afterwards.
    let mut tampered = good.clone();
    let at = 200 % tampered.message.len();
    tampered.message[at] ^= 1;
    b.handle_datagram(Instant(2), SocketId::Main, udp(A), &frame(&tampered, 1));
    assert_eq!(b.metrics().dropped(DropReason::Forged), 1);

    // 2. Tampered sealed message with a matching id: it does not open.
    let mut id = tampered.clone();
    id.set(
        Field::PacketId,
        &streamrelay::crypto::identity::sha256(&id.message),
    )
    .unwrap();
    b.handle_datagram(Instant(3), SocketId::Main, udp(A), &frame(&id, 1));

    // 3. Sealed with another subcluster's key, claiming ours.
    let other = SubclusterKeys::from_shared_key(&create_shared_key("intruders").unwrap());
    let mut wrong =
        event_packets_with("greeting", b"let me in", 5, &other, &signer(9), |_| {}).remove(0);
    wrong.set(Field::SubclusterId, &scid()).unwrap();
    b.handle_datagram(Instant(4), SocketId::Main, udp(A), &frame(&wrong, 1));

    // 4. A genuine seal with someone else's signature key claimed.
    let mut resigned = event_packets("greeting", b"signed by nine", 6).remove(0);
    resigned.set(Field::Usr2, &signer(8).public_key()).unwrap();
    b.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&resigned, 1));

    // 5. A publisher key that is not a key at all.
    let mut nokey = event_packets("greeting", &[7; 100], 7).remove(0);
    nokey.set(Field::Usr2, &[1, 2, 3]).unwrap();
    b.handle_datagram(Instant(6), SocketId::Main, udp(A), &frame(&nokey, 1));

    // Then the genuine one.
    b.handle_datagram(Instant(7), SocketId::Main, udp(A), &frame(&good, 1));
    let evs = drain_events(&mut b);
    let lines: Vec<String> = evs.iter().map(render_data_event).collect();
    insta::assert_snapshot!(lines.join("\n"));
    let good_ones: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e, Event::Packet { .. }))
        .collect();
    assert_eq!(good_ones.len(), 1);
    assert!(matches!(
        evs.iter()
            .filter(|e| matches!(e, Event::Unverified { .. }))
            .count(),
        2
    ));
    assert!(evs.iter().any(|e| matches!(
        e,
        Event::Unverified {
            reason: UnverifiedReason::BadPublisherKey,
            ..
        }
    )));
    // None of the bad ones is kept or passed on; the genuine one is.
    let relayed: Vec<_> = drain_transmits(&mut b, Instant(7))
        .into_iter()
        .filter(|t| t.bytes[4] == 5)
        .map(|t| PacketRef::decode(&t.bytes).unwrap().packet_id.to_vec())
        .collect();
    assert_eq!(relayed, vec![good.packet_id.to_vec()]);
    for p in [&id, &wrong, &resigned, &nokey] {
        assert!(b.cached(&p.packet_id).is_none());
    }
    assert_eq!(b.metrics().dropped(DropReason::Unauthentic), 4);
}

#[test]
fn a_replay_is_delivered_at_most_once() {
    let mut b = member(2, B);
    let p = event_packets_with("tick", b"once", 8, &sub_keys(), &signer(9), |a| {
        a.ttl = Some(60_000)
    })
    .remove(0);
    b.handle_datagram(Instant(10), SocketId::Main, udp(A), &frame(&p, 1));
    assert_eq!(packets(&drain_events(&mut b)).len(), 1);
    // Its TTL runs out (the tick at 90 s) and the gate forgets it: a later
    // copy is cached again, but not delivered again.
    for t in (30_000..=240_000).step_by(30_000) {
        b.handle_timeout(Instant(t));
    }
    assert!(b.cached(&p.packet_id).is_none());
    assert_eq!(b.metrics().expired, 1);
    b.handle_datagram(Instant(250_000), SocketId::Main, udp(C), &frame(&p, 5));
    assert!(b.cached(&p.packet_id).is_some());
    assert!(packets(&drain_events(&mut b)).is_empty());
    assert_eq!(b.metrics().delivered, 1);
}

#[test]
fn expiry_multicasts_once_more_then_forgets() {
    let mut n = data_peer(7, B, |_| {});
    connect(&mut n, Instant(1), 3, C);
    connect(&mut n, Instant(1), 4, D);
    let p = event_packets_with("tick", b"short-lived", 9, &sub_keys(), &signer(9), |a| {
        a.ttl = Some(60_000)
    })
    .remove(0);
    let spent = event_packets_with("tick", b"spent", 10, &sub_keys(), &signer(9), |a| {
        a.ttl = Some(60_000)
    })
    .remove(0);
    n.handle_datagram(Instant(100), SocketId::Main, udp(A), &frame(&p, 2));
    n.handle_datagram(Instant(100), SocketId::Main, udp(A), &frame(&spent, 16));
    let mut log = data_transcript(&mut n, Instant(100));
    log.push_str(&run_data_timers(&mut n, Instant(95_000)));
    insta::assert_snapshot!(log);
    assert!(n.cached(&p.packet_id).is_none());
    assert!(n.cached(&spent.packet_id).is_none());
    assert_eq!(n.metrics().expired, 2);
    assert_eq!(n.metrics().rebroadcast, 1);
}

#[test]
fn the_cache_evicts_the_oldest() {
    let mut n = data_peer(7, B, |c| c.limits.max_cache_packets = 3);
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let p = event_packets("e", &[i as u8; 10], 100 + i).remove(0);
        n.handle_datagram(Instant(10 + i), SocketId::Main, udp(A), &frame(&p, 1));
        ids.push(p.packet_id.to_vec());
    }
    let kept: Vec<Vec<u8>> = n.cached_ids().map(|k| k.to_vec()).collect();
    assert_eq!(kept, ids[2..].to_vec());
    assert_eq!(n.metrics().evicted(Eviction::Cache), 2);
}

#[test]
fn unpublished_packets_go_out_on_first_contact() {
    let mut a = member(1, A);
    let ids = a
        .publish(
            Instant(5),
            &shared(),
            "e",
            b"waiting",
            &PublishOptions::new(),
        )
        .unwrap();
    assert_eq!(a.unpublished().count(), 1);
    assert!(drain_transmits(&mut a, Instant(5)).is_empty());
    let ping = streamrelay::wire::control::Ping::nat_announcement(
        &hex_id(2),
        Some(streamrelay::nat::NatType::UNRESTRICTED),
        0.0,
        0.0,
        0.0,
    );
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    a.handle_datagram(Instant(9), SocketId::Main, udp(B), &pk.encode().unwrap());
    let sent: Vec<_> = drain_transmits(&mut a, Instant(9))
        .into_iter()
        .filter(|t| t.bytes[4] == 5)
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        PacketRef::decode(&sent[0].bytes).unwrap().packet_id,
        &ids[0][..]
    );
    assert_eq!(a.unpublished().count(), 0);
}

#[test]
fn the_same_seed_publishes_the_same_bytes() {
    let run = || {
        let mut a = member(1, A);
        connect(&mut a, Instant(1), 2, B);
        a.publish(
            Instant(5),
            &shared(),
            "e",
            &[7; 2000],
            &PublishOptions::new(),
        )
        .unwrap();
        drain_transmits(&mut a, Instant(5))
    };
    let (x, y) = (run(), run());
    assert_eq!(x.len(), 4);
    assert_eq!(x, y);
}
