//! Streams: straight to a peer, through a relay, several at once.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::event::EventArgs;
use streamrelay::peer::{DropReason, Event, Instant, PeerError, PublishOptions, SocketId};
use streamrelay::wire::{Packet, PacketRef, PacketType};

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";
const R: &str = "203.0.113.9:1009";

/// Stream packets from peer `from` to peer `to`, signed by `signer(9)`.
fn stream_packets(from: u8, to: u8, payload: &[u8], seed: u64) -> Vec<Packet> {
    let (t, f) = (id(to).0, id(from).0);
    event_packets_with(
        "chat",
        payload,
        seed,
        &sub_keys(),
        &signer(9),
        |a: &mut EventArgs<'_>| {
            a.packet_type = PacketType::Stream;
            a.usr3 = Box::leak(Box::new(t));
            a.usr4 = Box::leak(Box::new(f));
        },
    )
}

#[test]
fn a_stream_goes_straight_to_its_peer() {
    let mut m = Mesh::new();
    let a = m.add("A", A, member(1, A));
    let b = m.add("B", B, member(2, B));
    m.link(a, b, Instant(1));
    let ids = m
        .peer(a)
        .stream(
            Instant(5),
            &id(2),
            &shared(),
            "chat",
            b"just for you",
            &PublishOptions::new(),
        )
        .unwrap();
    assert_eq!(ids.len(), 1);
    let log = m.pump(Instant(5));
    insta::assert_snapshot!(log);
    assert!(log.contains("stream_from=<peer1>"));
    // Not cached, not multicast.
    assert!(m.peer(b).cached(&ids[0]).is_none());
    assert_eq!(
        m.peer(a)
            .stream(
                Instant(6),
                &id(7),
                &shared(),
                "chat",
                b"?",
                &PublishOptions::new()
            )
            .unwrap_err(),
        PeerError::UnknownPeer
    );
}

#[test]
fn concurrent_streams_and_late_heads_are_not_lost() {
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 1, A);
    let one = stream_packets(1, 2, &vec![1; 2500], 50);
    let two = stream_packets(1, 2, &vec![2; 3500], 51);
    // Interleaved, fragments before heads (the reference clears its whole
    // stream buffer on every head and loses both).
    let mut order: Vec<&Packet> = Vec::new();
    for i in (0..5).rev() {
        if let Some(p) = two.get(i) {
            order.push(p);
        }
        if let Some(p) = one.get(i) {
            order.push(p);
        }
    }
    for p in order {
        b.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(p, 0));
    }
    let got = packets(&drain_events(&mut b));
    let payloads: Vec<Vec<u8>> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(payloads.len(), 2);
    assert!(payloads.contains(&vec![1; 2500]) && payloads.contains(&vec![2; 3500]));
    assert_eq!(b.occupancy().stream_chains, 0);
    assert!(
        drain_transmits(&mut b, Instant(5)).is_empty(),
        "streams are not relayed"
    );
}

#[test]
fn a_relay_passes_streams_on_once() {
    let mut r = data_peer(9, R, |_| {});
    connect(&mut r, Instant(1), 2, B);
    let p = stream_packets(1, 2, b"via the relay", 52).remove(0);
    r.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&p, 0));
    let t = drain_transmits(&mut r, Instant(5));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].remote, udp(B));
    assert_eq!(PacketRef::decode(&t[0].bytes).unwrap().hops, 1);
    // Bounced back at us: not again (gated), and never back to its source.
    r.handle_datagram(Instant(6), SocketId::Main, udp(A), &frame(&p, 1));
    assert!(drain_transmits(&mut r, Instant(6)).is_empty());
    assert_eq!(r.metrics().dropped(DropReason::Duplicate), 1);
    let q = stream_packets(1, 2, b"from B itself", 53).remove(0);
    r.handle_datagram(Instant(7), SocketId::Main, udp(B), &frame(&q, 0));
    assert!(drain_transmits(&mut r, Instant(7)).is_empty());
    let lost = stream_packets(1, 77, b"to nobody", 54).remove(0);
    r.handle_datagram(Instant(8), SocketId::Main, udp(A), &frame(&lost, 0));
    assert_eq!(r.metrics().dropped(DropReason::Unroutable), 2);
    assert_eq!(r.metrics().streams_relayed, 1);
    // At 16 hops it stops.
    let far = stream_packets(1, 2, b"far", 55).remove(0);
    r.handle_datagram(Instant(9), SocketId::Main, udp(A), &frame(&far, 16));
    assert!(drain_transmits(&mut r, Instant(9)).is_empty());
}

#[test]
fn streams_from_strangers_or_other_subclusters_are_dropped() {
    let mut b = member(2, B);
    let p = stream_packets(1, 2, b"who am I", 56).remove(0);
    b.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&p, 0));
    let mut n = data_peer(3, B, |_| {});
    connect(&mut n, Instant(1), 1, A);
    let q = stream_packets(1, 3, b"not your group", 57).remove(0);
    n.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(&q, 0));
    for peer in [&mut b, &mut n] {
        assert_eq!(peer.metrics().dropped(DropReason::NotMember), 1);
        assert!(!drain_events(peer)
            .iter()
            .any(|e| matches!(e, Event::Packet { .. })));
    }
}
