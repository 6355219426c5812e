//! Queries across three peers: A asks, B passes the question on and
//! remembers the way back, C answers; the answer retraces the route.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::peer::{DropReason, Event, Instant, PeerError, SocketId};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::json::JsValue;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";
const C: &str = "203.0.113.3:1003";

/// A (member) — B — C, C holding `packet` in its cache.
fn line(packet: &Packet) -> Mesh {
    let mut m = Mesh::new();
    let a = m.add("A", A, member(1, A));
    let b = m.add("B", B, data_peer(2, B, |_| {}));
    let c = m.add("C", C, data_peer(3, C, |_| {}));
    m.peer(c).handle_datagram(
        Instant(1),
        SocketId::Main,
        udp("198.51.100.9:9"),
        &frame(packet, 2),
    );
    drain_transmits(m.peer(c), Instant(1));
    m.link(a, b, Instant(2));
    m.link(b, c, Instant(2));
    m
}

#[test]
fn an_answer_follows_the_return_route() {
    let packet = event_packets("wanted", b"found it", 21).remove(0);
    let mut m = line(&packet);
    let qid = m
        .peer(0)
        .query(
            Instant(10),
            &QueryQuestion::for_packet(&hex(&packet.packet_id)),
        )
        .unwrap();
    let log = m.pump(Instant(10));
    insta::assert_snapshot!(log);
    assert_eq!(qid.len(), 32);
    // The asker got the packet as an answer, and as the Publish it is.
    assert!(log.contains("A ev Answer"));
    assert!(log.contains("A ev Packet"));
    let cached = PacketRef::decode(m.peer(0).cached(&packet.packet_id).unwrap()).unwrap();
    assert_eq!(cached.packet_type, PacketType::Publish);
    // Answering did not change C's cached packet (the reference turns it
    // into a Query, §10.72).
    let c = PacketRef::decode(m.peer(2).cached(&packet.packet_id).unwrap()).unwrap();
    assert_eq!(c.packet_type, PacketType::Publish);
    assert_eq!((c.usr3, c.usr4), (&[0][..], &[0][..]));
    assert_eq!(m.peer(2).metrics().queries_answered, 1);
    assert_eq!(m.peer(1).metrics().answers_forwarded, 1);
    // The same question at once again is refused (the gate).
    let again = m.peer(0).query(
        Instant(11),
        &QueryQuestion::for_packet(&hex(&packet.packet_id)),
    );
    assert_eq!(again.unwrap_err(), PeerError::DuplicateQuery);
}

#[test]
fn the_host_answers_what_the_cache_cannot() {
    let packet = event_packets("x", b"unrelated", 22).remove(0);
    let mut m = line(&packet);
    let mut q = QueryQuestion::default();
    q.0.insert("question", JsValue::from("the time?"));
    let qid = m.peer(0).query(Instant(10), &q).unwrap();
    let mut log = m.pump(Instant(10));
    // C's host got it as an Event::Query and answers.
    let ids = m.peer(2).answer(Instant(12), &qid, b"noon").unwrap();
    assert_eq!(ids.len(), 1);
    log.push_str("-- C answers\n");
    log.push_str(&m.pump(Instant(12)));
    insta::assert_snapshot!(log);
    assert!(log.contains("A ev Answer") && log.contains("msg=\"noon\""));
    // A route only lives a while.
    for t in [30_000, 60_000, 90_000] {
        m.peer(2).handle_timeout(Instant(t));
    }
    assert_eq!(
        m.peer(2)
            .answer(Instant(90_001), &qid, b"late")
            .unwrap_err(),
        PeerError::UnknownQuery
    );
}

#[test]
fn stale_and_unsolicited_queries_are_dropped() {
    let mut b = data_peer(2, B, |_| {});
    let mut q = Packet::new(PacketType::Query);
    q.message = br#"{"packetId":"00"}"#.to_vec();
    q.set(Field::Usr1, format!("{}", WALL - 5000).as_bytes())
        .unwrap();
    q.set(Field::Usr3, &[7; 32]).unwrap();
    q.set(Field::Usr4, b"1").unwrap();
    b.handle_datagram(Instant(0), SocketId::Main, udp(A), &q.encode().unwrap());
    assert_eq!(b.metrics().dropped(DropReason::Stale), 1);
    // An answer nobody asked for and no route knows.
    q.set(Field::Usr1, b"x").unwrap();
    q.set(Field::Usr4, b"2").unwrap();
    b.handle_datagram(Instant(0), SocketId::Main, udp(A), &q.encode().unwrap());
    assert_eq!(b.metrics().dropped(DropReason::Unsolicited), 1);
    assert!(drain_events(&mut b)
        .iter()
        .all(|e| !matches!(e, Event::Query { .. })));
}

#[test]
fn an_answer_whose_event_hash_reads_as_a_number_is_not_stale() {
    // The reference parses an answer's usr1 (the answered packet's event
    // hash) as a time; one whose first byte is an ASCII digit reads as a
    // tiny number and the answer is dropped as stale. Not here.
    let name = (0..1000)
        .map(|i| format!("event-{i}"))
        .find(|n| streamrelay::crypto::identity::sha256(n.as_bytes())[0].is_ascii_digit())
        .unwrap();
    let packet = event_packets(&name, b"digits", 23).remove(0);
    assert!(packet.usr1[0].is_ascii_digit());
    let mut m = line(&packet);
    m.peer(0)
        .query(
            Instant(10),
            &QueryQuestion::for_packet(&hex(&packet.packet_id)),
        )
        .unwrap();
    let log = m.pump(Instant(10));
    assert!(log.contains("A ev Packet"), "{log}");
}
