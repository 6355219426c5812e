//! Messages longer than one packet: the split, reassembly from the cache in
//! any order, forged links, and the query for a missing link.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::create_shared_key;
use streamrelay::crypto::event::{message_to_packets, ChainArgs};
use streamrelay::crypto::identity::{sha256, SubclusterKeys};
use streamrelay::peer::{DropReason, Event, Instant, PublishOptions, SocketId};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";
const C: &str = "203.0.113.3:1003";
const D: &str = "203.0.113.4:1004";

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn a_long_publish_is_split_into_a_chain() {
    let mut a = member(1, A);
    connect(&mut a, Instant(1), 2, B);
    let ids = a
        .publish(
            Instant(10),
            &shared(),
            "long",
            &payload(2000),
            &PublishOptions::new(),
        )
        .unwrap();
    // 2000 + 160 sealed bytes: a head and three fragments, each multicast.
    assert_eq!(ids.len(), 4);
    insta::assert_snapshot!(data_transcript(&mut a, Instant(10)));
}

#[test]
fn chains_reassemble_in_any_order() {
    let packets = event_packets("long", &payload(5000), 11);
    assert_eq!(packets.len(), 7);
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    let order = [6, 2, 4, 0, 5, 1, 3];
    let mut log = String::new();
    for (k, &i) in order.iter().enumerate() {
        let now = Instant(10 + k as u64);
        b.handle_datagram(now, SocketId::Main, udp(A), &frame(&packets[i], 1));
        log.push_str(&format!("<- packet {i}\n"));
        log.push_str(&data_transcript(&mut b, now));
    }
    insta::assert_snapshot!(log);
    // The id of a chain completed by a fragment: SHA-256(head id ‖ bytes).
    let got = packets_of(&mut b);
    assert!(got.is_empty(), "events were drained into the log");
    assert_eq!(b.metrics().delivered, 1);
    assert_eq!(b.metrics().chains_completed, 1);
    assert_eq!(b.occupancy().pending_chains, 0);
}

fn packets_of(p: &mut streamrelay::peer::Peer) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    packets(&drain_events(p))
}

#[test]
fn the_head_last_gives_the_reference_id() {
    let packets = event_packets("long", &payload(3000), 12);
    let mut b = member(2, B);
    for p in packets.iter().rev() {
        b.handle_datagram(Instant(10), SocketId::Main, udp(A), &frame(p, 1));
    }
    let got = packets_of(&mut b);
    assert_eq!(got.len(), 1);
    let sealed: Vec<u8> = packets[1..]
        .iter()
        .flat_map(|p| p.message.clone())
        .collect();
    let mut input = vec![0u8];
    input.extend_from_slice(&sealed);
    assert_eq!(got[0].2, sha256(&input).to_vec());
    assert_eq!(got[0].1, payload(3000));
}

#[test]
fn a_poisoned_fragment_is_dropped_and_the_good_copy_completes_the_chain() {
    let packets = event_packets("long", &payload(3000), 13);
    let mut b = member(2, B);
    // Fragment 2's content, changed under its genuine id, comes first.
    let mut bad = packets[2].clone();
    bad.message[10] ^= 0xff;
    b.handle_datagram(Instant(5), SocketId::Main, udp(D), &frame(&bad, 1));
    assert_eq!(packets.len(), 5);
    for i in [0, 1, 3, 4] {
        b.handle_datagram(Instant(6), SocketId::Main, udp(A), &frame(&packets[i], 1));
    }
    assert!(packets_of(&mut b).is_empty());
    assert_eq!(b.metrics().dropped(DropReason::Forged), 1);
    assert!(
        b.cached(&packets[2].packet_id).is_none(),
        "the poison is gone"
    );
    // The genuine copy is not taken for a duplicate.
    b.handle_datagram(Instant(7), SocketId::Main, udp(A), &frame(&packets[2], 1));
    let got = packets_of(&mut b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, payload(3000));
}

#[test]
fn a_chain_with_forged_links_never_reassembles_into_a_verified_event() {
    // Someone without the key rebuilds a whole chain under our subcluster
    // id, with consistent ids, and sends it: it is reassembled, does not
    // open, and is not kept.
    let intruder = SubclusterKeys::from_shared_key(&create_shared_key("not ours").unwrap());
    let mut forged = event_packets_with("long", &payload(2500), 14, &intruder, &signer(9), |_| {});
    let scid = scid();
    let sealed: Vec<u8> = forged[1..].iter().flat_map(|p| p.message.clone()).collect();
    let mut args = ChainArgs::new(PacketType::Publish);
    args.cluster_id = &CLUSTER;
    args.subcluster_id = &scid;
    args.usr1 = &forged[0].usr1;
    args.usr2 = &forged[0].usr2;
    args.sig = &forged[0].sig;
    forged = message_to_packets(&sealed, &args, WALL as u64).unwrap();
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    for p in &forged {
        b.handle_datagram(Instant(5), SocketId::Main, udp(A), &frame(p, 1));
    }
    let evs = drain_events(&mut b);
    assert!(!evs.iter().any(|e| matches!(e, Event::Packet { .. })));
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, Event::Unopenable { .. }))
            .count(),
        1
    );
    for p in &forged {
        assert!(b.cached(&p.packet_id).is_none());
    }
    // A fragment whose content was changed and whose id was recomputed
    // does not follow the chain: the genuine chain still completes, once.
    let genuine = event_packets("long", &payload(2500), 15);
    let mut odd = genuine[1].clone();
    odd.message[0] ^= 1;
    let id = {
        let mut b = [0u8; 64];
        b[..32].copy_from_slice(&sha256(&genuine[0].packet_id));
        b[32..].copy_from_slice(&sha256(&odd.message));
        sha256(&b)
    };
    odd.set(Field::PacketId, &id).unwrap();
    b.handle_datagram(Instant(6), SocketId::Main, udp(D), &frame(&odd, 1));
    for p in &genuine {
        b.handle_datagram(Instant(7), SocketId::Main, udp(A), &frame(p, 1));
    }
    let got = packets_of(&mut b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, payload(2500));
}

/// The Query the peer sent for a missing link: (query id, asked id).
fn question(t: &[u8]) -> (Vec<u8>, String) {
    let p = PacketRef::decode(t).unwrap();
    assert_eq!(p.packet_type, PacketType::Query);
    let q = QueryQuestion::parse(p.message).unwrap();
    (p.usr3.to_vec(), q.packet_id().unwrap().to_string())
}

/// A cached packet as an answer to `qid` (what the holder sends).
fn answer(p: &Packet, qid: &[u8]) -> Vec<u8> {
    let mut a = p.clone();
    a.packet_type = PacketType::Query;
    a.hops = 1;
    a.set(Field::Usr3, qid).unwrap();
    a.set(Field::Usr4, b"2").unwrap();
    a.encode().unwrap()
}

#[test]
fn a_missing_link_is_queried_and_the_answer_completes_the_chain() {
    let packets = event_packets("long", &payload(3800), 16);
    assert_eq!(packets.len(), 5);
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    for i in [0, 1, 3, 4] {
        b.handle_datagram(Instant(10), SocketId::Main, udp(A), &frame(&packets[i], 1));
    }
    drain_transmits(&mut b, Instant(10));
    // Nothing for a second, then the question for fragment 2 (the one
    // fragment 1 points to) goes to the fanout.
    assert_eq!(b.poll_timeout(), Some(Instant(1010)));
    let mut log = run_data_timers(&mut b, Instant(1010));
    let sent = drain_transmits(&mut b, Instant(1010));
    assert!(sent.is_empty());
    // Replay the run to get the question's bytes (the log drained them).
    let mut b2 = member(2, B);
    connect(&mut b2, Instant(1), 3, C);
    for i in [0, 1, 3, 4] {
        b2.handle_datagram(Instant(10), SocketId::Main, udp(A), &frame(&packets[i], 1));
    }
    drain_transmits(&mut b2, Instant(10));
    b2.handle_timeout(Instant(1010));
    let q = drain_transmits(&mut b2, Instant(1010));
    assert_eq!(q.len(), 1);
    let (qid, asked) = question(&q[0].bytes);
    assert_eq!(asked, hex(&packets[2].packet_id));

    // A wrong answer (another packet) is refused; the right one completes.
    let wrong = answer(&packets[3], &qid);
    b2.handle_datagram(Instant(1100), SocketId::Main, udp(C), &wrong);
    assert_eq!(b2.metrics().dropped(DropReason::Forged), 1);
    b2.handle_datagram(
        Instant(1200),
        SocketId::Main,
        udp(C),
        &answer(&packets[2], &qid),
    );
    log.push_str("<- answer from C\n");
    log.push_str(&data_transcript(&mut b2, Instant(1200)));
    insta::assert_snapshot!(log);
    assert_eq!(b2.metrics().delivered, 1);
    assert_eq!(b2.metrics().link_queries, 1);
    // The answer is cached as the Publish it was.
    let cached = PacketRef::decode(b2.cached(&packets[2].packet_id).unwrap()).unwrap();
    assert_eq!(cached.packet_type, PacketType::Publish);
    assert_eq!(cached.usr3, [0]);
    assert_eq!(b2.occupancy().pending_chains, 0);
}

#[test]
fn queries_for_a_missing_head_and_retries_then_gives_up() {
    let packets = event_packets("long", &payload(2200), 17);
    let mut b = member(2, B);
    connect(&mut b, Instant(1), 3, C);
    for p in &packets[1..] {
        b.handle_datagram(Instant(10), SocketId::Main, udp(A), &frame(p, 1));
    }
    drain_transmits(&mut b, Instant(10));
    let mut asked = Vec::new();
    for t in [1010, 3010, 7010, 15010, 40_000] {
        b.handle_timeout(Instant(t));
        for x in drain_transmits(&mut b, Instant(t)) {
            if x.bytes[4] == PacketType::Query as u8 {
                let p = PacketRef::decode(&x.bytes).unwrap();
                asked.push((t, String::from_utf8_lossy(p.message).into_owned()));
            }
        }
    }
    let head = hex(&packets[0].packet_id);
    assert_eq!(
        asked,
        vec![
            (1010, format!(r#"{{"packetId":"{head}"}}"#)),
            (3010, format!(r#"{{"packetId":"{head}","retry":1}}"#)),
            (7010, format!(r#"{{"packetId":"{head}","retry":2}}"#)),
        ]
    );
    // The head still completes it when it comes (a sync, a late relay).
    b.handle_datagram(
        Instant(50_000),
        SocketId::Main,
        udp(A),
        &frame(&packets[0], 1),
    );
    assert_eq!(packets_of(&mut b).len(), 1);
}
