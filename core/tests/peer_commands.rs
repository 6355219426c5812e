//! Host commands and hooks: the firewall, link remotes, disconnect, close,
//! introducers added at run time, and the data-plane hook point.

mod peer_support;

use peer_support::*;
use streamrelay::nat::NatType;
use streamrelay::peer::{DropReason, Event, Instant, Peer, PeerError, Remote, SocketId};
use streamrelay::wire::control::{Ping, Pong};
use streamrelay::wire::{Packet, PacketRef, PacketType};

fn ready() -> Peer {
    let mut c = with_introducers(config(1), &[(200, "198.51.100.1:9001")]);
    c.nat_type = Some(NatType::PORT_RESTRICTED);
    c.public_address = Some("203.0.113.5:40000".parse().unwrap());
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// A peer restored from a snapshot that says port-restricted (its config
/// has no static type).
fn restored_port_restricted() -> Peer {
    let c = with_introducers(config(1), &[(200, "198.51.100.1:9001")]);
    let bytes = {
        let mut known = c.clone();
        known.nat_type = Some(NatType::PORT_RESTRICTED);
        known.public_address = Some("203.0.113.5:40000".parse().unwrap());
        Peer::new(known, Instant::ZERO, [1; 32])
            .unwrap()
            .snapshot(Instant::ZERO)
    };
    Peer::restore(c, Instant::ZERO, [1; 32], &bytes).unwrap()
}

fn p5(n: u8) -> Vec<u8> {
    Ping::nat_announcement(&hex_id(n), Some(NatType::ADDR_RESTRICTED), 0.0, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap()
}

/// Pongs among the transmits (a first contact also starts a Sync).
fn pongs(t: &[streamrelay::peer::Transmit]) -> usize {
    t.iter().filter(|t| t.bytes[4] == 2).count()
}

#[test]
fn firewall_vetoes_after_the_rate_limit() {
    let mut p = ready();
    p.set_firewall(Some(Box::new(
        |pk: &PacketRef<'_>, r: &Remote, _: SocketId| {
            pk.packet_type != PacketType::Ping || *r != udp("192.0.2.66:1")
        },
    )));
    p.handle_datagram(Instant(1), SocketId::Main, udp("192.0.2.66:1"), &p5(9));
    assert!(drain_transmits(&mut p, Instant(1)).is_empty());
    assert_eq!(p.metrics().dropped(DropReason::Firewall), 1);
    p.handle_datagram(Instant(1), SocketId::Main, udp("192.0.2.67:1"), &p5(9));
    assert_eq!(pongs(&drain_transmits(&mut p, Instant(1))), 1);
    p.set_firewall(None);
    p.handle_datagram(Instant(1), SocketId::Main, udp("192.0.2.66:1"), &p5(8));
    assert_eq!(pongs(&drain_transmits(&mut p, Instant(1))), 1);
}

#[test]
fn link_remotes_ping_and_connect() {
    let mut p = ready();
    let link = Remote::Link(42);
    p.handle_datagram(Instant(1), SocketId::Main, link, &p5(9));
    let t = drain_transmits(&mut p, Instant(1));
    // The Sync of first contact, and the Pong.
    assert_eq!(t.len(), 2);
    assert_eq!(pongs(&t), 1);
    assert!(t.iter().any(|t| t.bytes[4] == PacketType::Sync as u8));
    assert!(t.iter().all(|t| t.remote == link));
    let pong = t.iter().find(|t| t.bytes[4] == 2).unwrap();
    let pong = Pong::parse(PacketRef::decode(&pong.bytes).unwrap().message).unwrap();
    assert_eq!(pong.address(), None, "a link has no address to report");
    let evs = drain_events(&mut p);
    assert!(matches!(
        evs.as_slice(),
        [Event::Connection {
            remote: Remote::Link(42),
            ..
        }]
    ));
    // Heartbeats reach it over the link.
    p.handle_timeout(Instant(30_000));
    assert!(drain_transmits(&mut p, Instant(30_000))
        .iter()
        .any(|t| t.remote == link));
    // A plain ping over a link gets a Pong without port or address.
    let hb = Ping::heartbeat(&hex_id(8), None, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap();
    p.handle_datagram(Instant(30_001), SocketId::Main, Remote::Link(43), &hb);
    let t = drain_transmits(&mut p, Instant(30_001));
    let pong = Pong::parse(PacketRef::decode(&t[0].bytes).unwrap().message).unwrap();
    assert_eq!((pong.port(), pong.address()), (None, None));
}

#[test]
fn disconnect_forgets_the_nat_type() {
    // A peer that knew its type (restored from a snapshot) forgets it and
    // starts reflection again at the next tick.
    let mut p = restored_port_restricted();
    assert_eq!(p.nat_type(), Some(NatType::PORT_RESTRICTED));
    drain_events(&mut p);
    p.disconnect(Instant(1));
    let evs = drain_events(&mut p);
    assert_eq!(
        evs,
        vec![Event::NatChange {
            old: Some(NatType::PORT_RESTRICTED),
            new: None
        }]
    );
    p.handle_timeout(Instant(1));
    let sent = drain_transmits(&mut p, Instant(1));
    // Bootstrap (P2, isConnection without natType) and the heartbeat.
    assert_eq!(sent.len(), 2, "{sent:?}");
    // A static type stays.
    let mut q = ready();
    q.disconnect(Instant(5));
    assert_eq!(q.nat_type(), Some(NatType::PORT_RESTRICTED));
}

#[test]
fn close_stops_everything() {
    let mut p = ready();
    p.handle_datagram(Instant(1), SocketId::Main, udp("192.0.2.7:1"), &p5(9));
    p.close(Instant(2));
    assert!(
        drain_transmits(&mut p, Instant(2)).is_empty(),
        "queued datagrams are discarded"
    );
    let evs = drain_events(&mut p);
    assert!(matches!(evs.last(), Some(Event::Closed)));
    assert_eq!(p.poll_timeout(), None);
    p.handle_datagram(Instant(3), SocketId::Main, udp("192.0.2.7:1"), &p5(9));
    p.handle_timeout(Instant(100_000));
    assert!(drain_transmits(&mut p, Instant(3)).is_empty());
    assert_eq!(p.metrics().dropped(DropReason::Closed), 1);
    assert_eq!(
        p.join(
            Instant(4),
            &streamrelay::crypto::identity::create_shared_key("x").unwrap()
        ),
        Err(PeerError::Closed)
    );
}

#[test]
fn add_introducer_at_run_time() {
    let mut p = ready();
    p.add_introducer(id(201), udp("198.51.100.2:9002")).unwrap();
    assert_eq!(
        p.add_introducer(id(1), udp("198.51.100.3:1")),
        Err(PeerError::OwnId)
    );
    p.handle_timeout(Instant(30_000));
    let t = drain_transmits(&mut p, Instant(30_000));
    assert!(t.iter().any(|x| x.remote == udp("198.51.100.2:9002")));
    assert!(p.peer(&id(201)).unwrap().indexed);
}

#[test]
fn data_plane_packets_reach_their_flows() {
    let mut p = ready();
    for t in [
        PacketType::Publish,
        PacketType::Stream,
        PacketType::Sync,
        PacketType::Query,
    ] {
        let pk = Packet::new(t);
        p.handle_datagram(
            Instant(1),
            SocketId::Main,
            udp("192.0.2.7:1"),
            &pk.encode().unwrap(),
        );
    }
    // Default packets are no good to any flow: a Publish whose id is not
    // its message's hash, a Stream to no one, a Sync from a stranger, a
    // Query that is neither a question nor an answer we route.
    assert_eq!(p.metrics().dropped(DropReason::DataPlaneUnhandled), 0);
    assert_eq!(p.metrics().dropped(DropReason::Forged), 1);
    assert_eq!(p.metrics().dropped(DropReason::Invalid), 1);
    assert_eq!(p.metrics().dropped(DropReason::Unsolicited), 2);
    for t in [
        PacketType::Publish,
        PacketType::Stream,
        PacketType::Sync,
        PacketType::Query,
    ] {
        assert_eq!(p.metrics().received(t), 1);
    }
    // Before the NAT type is known they are dropped earlier (as the reference).
    let mut fresh = Peer::new(config(2), Instant::ZERO, [2; 32]).unwrap();
    fresh.handle_datagram(
        Instant(1),
        SocketId::Main,
        udp("192.0.2.7:1"),
        &Packet::new(PacketType::Publish).encode().unwrap(),
    );
    assert_eq!(fresh.metrics().dropped(DropReason::NotReady), 1);
}

#[test]
fn same_seed_same_run() {
    // Randomness is an input: two peers with the same seed and inputs send
    // the same bytes.
    let run = || {
        let mut c = with_introducers(
            config(1),
            &[(200, "198.51.100.1:9001"), (201, "198.51.100.2:9002")],
        );
        c.wall_clock_offset_ms = 1;
        let mut p = Peer::new(c, Instant::ZERO, [9; 32]).unwrap();
        let mut out = Vec::new();
        for t in [0u64, 512, 1_280, 30_000] {
            p.handle_timeout(Instant(t));
            out.extend(drain_transmits(&mut p, Instant(t)));
        }
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn a_peer_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<Peer>();
    send::<streamrelay::peer::Transmit>();
    send::<Event>();
}

#[test]
fn network_changed_reflects_at_once_and_rejoins() {
    // A peer that knew its type forgets it, pings the introducer for
    // reflection now (not at the next tick), and after a static type
    // (nothing to discover) sends its Joins at once.
    let mut p = restored_port_restricted();
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p.network_changed(Instant(10));
    assert_eq!(p.nat_type(), None);
    assert!(
        !drain_transmits(&mut p, Instant(10)).is_empty(),
        "reflection (or its bootstrap) starts at once"
    );
    let mut q = ready();
    q.join(
        Instant(1),
        &streamrelay::crypto::identity::create_shared_key("s").unwrap(),
    )
    .unwrap();
    drain_transmits(&mut q, Instant(1));
    let clock = q.clock();
    q.network_changed(Instant(2));
    assert_eq!(q.nat_type(), Some(NatType::PORT_RESTRICTED));
    assert_eq!(q.clock(), clock + 1, "the Join went out again");
}
