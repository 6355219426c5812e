//! Two Nodes and two introducers exchange subcluster messages over real UDP
//! on loopback (IPv4 through dual-stack introducers, and IPv6).

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use streamrelay::crypto::identity::{create_shared_key, SharedKey};
use streamrelay::peer::Event;
use streamrelay_node::Node;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Two introducers and two peers in one subcluster, both ready.
struct Net {
    introducers: [Node; 2],
    a: Node,
    b: Node,
    room: SharedKey,
}

fn network(intro_ip: IpAddr, peer_ip: IpAddr, loopback: IpAddr) -> Net {
    let introducers = [introducer(intro_ip), introducer(intro_ip)];
    let [i1, i2] = &introducers;
    let a = peer(peer_ip, loopback, &[i1, i2]).start().unwrap();
    let b = peer(peer_ip, loopback, &[i1, i2]).start().unwrap();
    let room = create_shared_key("room").unwrap();
    a.join(&room).unwrap();
    b.join(&room).unwrap();
    for n in [&a, &b] {
        let ready = wait_for(n, WAIT, |e| matches!(e, Event::Ready { .. }));
        let Some(Event::Ready { address, .. }) = ready else {
            panic!("not ready: {:?}", n.status().nat);
        };
        // Through a dual-stack introducer an IPv4 peer must still learn
        // an IPv4 address, not `::ffff:127.0.0.1`.
        assert_eq!(address, Some(loopback));
    }
    Net {
        introducers,
        a,
        b,
        room,
    }
}

fn exchange(intro_ip: IpAddr, peer_ip: IpAddr, loopback: IpAddr) -> (Node, Node) {
    let Net {
        introducers,
        a,
        b,
        room,
    } = network(intro_ip, peer_ip, loopback);
    let ids = b.publish(&room, "greeting", b"hello from b").unwrap();
    let got = wait_for(&a, WAIT, |e| matches!(e, Event::Packet { .. }));
    let Some(Event::Packet {
        payload, packet_id, ..
    }) = got
    else {
        panic!("a got nothing: {:?} / {:?}", a.status(), b.status());
    };
    assert_eq!(payload, b"hello from b");
    assert_eq!(packet_id, ids[0]);
    a.publish(&room, "greeting", b"and from a").unwrap();
    let got = wait_for(&b, WAIT, |e| matches!(e, Event::Packet { .. }));
    assert!(
        matches!(&got, Some(Event::Packet { payload, .. }) if payload == b"and from a"),
        "{got:?}"
    );
    let s = a.status();
    assert!(s.datagrams_in > 0 && s.datagrams_out > 0 && s.bytes_in > 0);
    assert!(s.peers.iter().any(|p| p.peer_id == b.peer_id()), "{s:?}");
    assert_eq!(s.public_endpoint.map(|e| e.ip()), Some(loopback));
    for n in introducers {
        n.close().unwrap();
    }
    (a, b)
}

#[test]
fn ipv4_peers_through_dual_stack_introducers() {
    let (a, b) = exchange(
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    );
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn ipv6_loopback() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let (a, b) = exchange(v6, v6, v6);
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn close_ends_the_event_stream() {
    let n = introducer(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let other = n.clone();
    n.close().unwrap();
    assert!(matches!(
        other.close(),
        Err(streamrelay_node::NodeError::Closed)
    ));
    let mut last = None;
    while let Some(ev) = other.next_event(Some(Duration::from_secs(5))) {
        last = Some(ev);
    }
    assert_eq!(last, Some(streamrelay_node::NodeEvent::Peer(Event::Closed)));
    assert!(matches!(
        other.join(&create_shared_key("x").unwrap()),
        Err(streamrelay_node::NodeError::Closed)
    ));
}

#[test]
fn network_changed_rediscovers_and_still_delivers() {
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let Net {
        introducers,
        a,
        b,
        room,
    } = network(lo, lo, lo);
    a.network_changed();
    // The NAT type is forgotten, then found again by a new reflection.
    assert!(wait_for(&a, WAIT, |e| matches!(
        e,
        Event::NatChange { new: None, .. }
    ))
    .is_some());
    assert!(
        wait_for(&a, WAIT, |e| matches!(
            e,
            Event::NatChange { new: Some(_), .. }
        ))
        .is_some(),
        "no new reflection: {:?}",
        a.status().nat
    );
    b.publish(&room, "after", b"moved").unwrap();
    let got = wait_for(&a, WAIT, |e| matches!(e, Event::Packet { .. }));
    assert!(
        matches!(&got, Some(Event::Packet { payload, .. }) if payload == b"moved"),
        "{got:?}"
    );
    let [i1, i2] = introducers;
    for n in [a, b, i1, i2] {
        n.close().unwrap();
    }
}
