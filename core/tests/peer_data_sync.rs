//! Cache reconciliation between two peers (spec §7.8).

mod peer_support;

use std::collections::BTreeSet;

use peer_support::data::*;
use peer_support::*;
use streamrelay::peer::{DropReason, Instant, Peer, SocketId};
use streamrelay::wire::{Field, Packet, PacketType};

const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";

fn ids(p: &Peer) -> BTreeSet<Vec<u8>> {
    p.cached_ids().map(|k| k.to_vec()).collect()
}

fn quiet(n: u8, addr: &str) -> Peer {
    data_peer(n, addr, |c| c.auto_sync = false)
}

#[test]
fn two_caches_reconcile() {
    let packets: Vec<Packet> = (0..6u64)
        .map(|i| event_packets("e", &[i as u8; 20], 30 + i).remove(0))
        .collect();
    let mut m = Mesh::new();
    let a = m.add("A", A, quiet(1, A));
    let b = m.add("B", B, quiet(2, B));
    for (i, p) in packets.iter().enumerate() {
        m.peer(a).handle_datagram(
            Instant(1),
            SocketId::Main,
            udp("198.51.100.9:9"),
            &frame(p, 1),
        );
        if i % 3 == 0 {
            m.peer(b).handle_datagram(
                Instant(1),
                SocketId::Main,
                udp("198.51.100.9:9"),
                &frame(p, 1),
            );
        }
    }
    m.link(a, b, Instant(2));
    assert_eq!((ids(m.peer(a)).len(), ids(m.peer(b)).len()), (6, 2));
    m.peer(a).sync(Instant(10), &id(2)).unwrap();
    let log = m.pump(Instant(10));
    insta::assert_snapshot!(log);
    assert_eq!(ids(m.peer(a)), ids(m.peer(b)));
    assert_eq!(ids(m.peer(b)).len(), 6);
    assert!(m.peer(a).metrics().sync_packets_sent >= 4);
    // Once equal, a sync ends at the root.
    m.peer(b).sync(Instant(20), &id(1)).unwrap();
    let log = m.pump(Instant(20));
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.contains("SyncFinished"));
}

#[test]
fn first_contact_syncs_both_ways() {
    let packets: Vec<Packet> = (0..5u64)
        .map(|i| event_packets("e", &[i as u8; 20], 40 + i).remove(0))
        .collect();
    let mut m = Mesh::new();
    let a = m.add("A", A, data_peer(1, A, |_| {}));
    let b = m.add("B", B, data_peer(2, B, |_| {}));
    for (i, p) in packets.iter().enumerate() {
        let to = if i < 3 { a } else { b };
        m.peer(to).handle_datagram(
            Instant(1),
            SocketId::Main,
            udp("198.51.100.9:9"),
            &frame(p, 1),
        );
    }
    // A connection Ping from A to B: B answers, and both sides start a sync.
    let ping = streamrelay::wire::control::Ping::nat_announcement(
        &hex_id(1),
        Some(streamrelay::nat::NatType::UNRESTRICTED),
        0.0,
        0.0,
        0.0,
    );
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    m.peer(b)
        .handle_datagram(Instant(5), SocketId::Main, udp(A), &pk.encode().unwrap());
    m.pump(Instant(5));
    assert_eq!(ids(m.peer(a)).len(), 5);
    assert_eq!(ids(m.peer(a)), ids(m.peer(b)));
}

#[test]
fn malformed_summaries_are_dropped() {
    let mut b = quiet(2, B);
    connect(&mut b, Instant(0), 1, A);
    for msg in [&[0u8][..], &[65, 1, 2], &[0; 25], &[0; 21]] {
        let mut p = Packet::new(PacketType::Sync);
        p.message = msg.to_vec();
        b.handle_datagram(Instant(1), SocketId::Main, udp(A), &p.encode().unwrap());
    }
    // The last (21 bytes: empty prefix, a 20-byte hash that is not the
    // empty cache's) is well formed: B, with nothing, has nothing to send.
    assert_eq!(b.metrics().dropped(DropReason::Malformed), 3);
    assert!(drain_transmits(&mut b, Instant(1)).is_empty());
    // From a stranger (perhaps spoofed), not even looked at.
    let mut p = Packet::new(PacketType::Sync);
    p.message = vec![0; 21];
    b.handle_datagram(
        Instant(2),
        SocketId::Main,
        udp("192.0.2.1:1"),
        &p.encode().unwrap(),
    );
    assert_eq!(b.metrics().dropped(DropReason::Unsolicited), 1);
}
