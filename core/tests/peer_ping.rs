//! Ping/Pong, the heartbeat and the keepalive loop, scripted: datagrams in,
//! transcripts of transmits and events out (insta snapshots).

mod peer_support;

use peer_support::*;
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, DropReason, Event, Instant, Peer, SocketId};
use streamrelay::wire::control::{Ping, Pong};
use streamrelay::wire::{Field, PacketRef, PacketType};

const T: Instant = Instant(1_000);
/// Wall clock = monotonic + this (2023-11-14T22:13:20Z at t = 0).
const WALL: i64 = 1_700_000_000_000;

fn ready_config(n: u8, nat: NatType) -> Config {
    let mut c = config(n);
    c.nat_type = Some(nat);
    c.public_address = Some("203.0.113.5:40000".parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    c
}

fn ping_bytes(msg: &Ping) -> Vec<u8> {
    let mut p = msg.to_packet().unwrap();
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    p.encode().unwrap()
}

fn pong_of(t: &streamrelay::peer::Transmit) -> Pong {
    let p = PacketRef::decode(&t.bytes).unwrap();
    assert_eq!(p.packet_type, PacketType::Pong);
    Pong::parse(p.message).unwrap()
}

#[test]
fn first_tick_before_reflection() {
    let mut c = with_introducers(
        config(1),
        &[(201, "198.51.100.1:9001"), (202, "198.51.100.2:9002")],
    );
    c.wall_clock_offset_ms = WALL;
    let mut peer = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    assert_eq!(peer.poll_timeout(), Some(Instant::ZERO));
    assert!(
        drain_events(&mut peer).is_empty(),
        "not ready before reflection"
    );
    peer.handle_timeout(Instant::ZERO);
    // Bootstrap pings (P2) to the introducers, then the heartbeat (P1) with
    // natType null; a retry of reflection 512 ms later.
    insta::assert_snapshot!(transcript(&mut peer, Instant::ZERO));
    assert_eq!(peer.poll_timeout(), Some(Instant(512)));
    assert_eq!(peer.uptime(), 30_000);
}

#[test]
fn heartbeat_ping_gets_pong() {
    let mut peer = Peer::new(
        ready_config(1, NatType::PORT_RESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    drain_events(&mut peer);
    let from = udp("192.0.2.7:4000");
    let ping = Ping::heartbeat(&hex_id(9), Some(NatType::ADDR_RESTRICTED), 60_000.0, 1.7e12);
    peer.handle_datagram(T, SocketId::Main, from, &ping_bytes(&ping));
    insta::assert_snapshot!(transcript(&mut peer, T));
    // A heartbeat does not connect.
    assert!(peer.peer(&id(9)).is_none());
    assert_eq!(peer.metrics().received(PacketType::Ping), 1);
    assert_eq!(peer.metrics().sent(PacketType::Pong), 1);
}

#[test]
fn pong_before_nat_known_leaves_nat_out() {
    // The reference throws building this Pong (§10.19) and sends nothing.
    let mut peer = Peer::new(config(1), Instant::ZERO, [1; 32]).unwrap();
    let ping = Ping::heartbeat(&hex_id(9), None, 0.0, 0.0);
    peer.handle_datagram(T, SocketId::Main, udp("192.0.2.7:4000"), &ping_bytes(&ping));
    let t = drain_transmits(&mut peer, T);
    assert_eq!(t.len(), 1);
    let pong = pong_of(&t[0]);
    assert_eq!(pong.object().get("natType"), None);
    assert_eq!(pong.port(), Some(4000.0));
    insta::assert_snapshot!(render_transmit(&t[0]));
}

#[test]
fn connection_ping_connects() {
    let mut peer = Peer::new(
        ready_config(1, NatType::PORT_RESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    drain_events(&mut peer);
    let from = udp("192.0.2.7:4000");
    // P5, the NAT announcement.
    let ping = Ping::nat_announcement(
        &hex_id(9),
        Some(NatType::ADDR_RESTRICTED),
        0.0,
        30_000.0,
        1.7e12,
    );
    peer.handle_datagram(T, SocketId::Main, from, &ping_bytes(&ping));
    insta::assert_snapshot!(transcript(&mut peer, T));
    let e = peer.peer(&id(9)).unwrap();
    assert!(e.connected);
    assert_eq!(e.remote, from);
    assert_eq!(e.nat, Some(NatType::ADDR_RESTRICTED));
    assert!(e.in_cluster(&CLUSTER));
}

#[test]
fn reflection_ping_with_probe_port_answers_twice() {
    let mut peer = Peer::new(
        ready_config(1, NatType::UNRESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    drain_events(&mut peer);
    let ping = Ping::reflection(&hex_id(9), "0123456789ab", false, Some(5555), 0.0, 1.7e12);
    peer.handle_datagram(T, SocketId::Main, udp("192.0.2.7:4000"), &ping_bytes(&ping));
    let t = drain_transmits(&mut peer, T);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].socket, SocketId::Main);
    assert_eq!(t[1].socket, SocketId::Probe);
    assert_eq!(t[1].remote, udp("192.0.2.7:5555"));
    assert_eq!(pong_of(&t[1]).port(), Some(5555.0));
    insta::assert_snapshot!(t.iter().map(render_transmit).collect::<Vec<_>>().join("\n"));
}

#[test]
fn probe_stage_one_ping_is_echoed() {
    let mut peer = Peer::new(
        ready_config(1, NatType::UNRESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    let ping = Ping::reflection(&hex_id(9), "0123456789ab", true, None, 0.0, 1.7e12);
    peer.handle_datagram(T, SocketId::Main, udp("192.0.2.7:4001"), &ping_bytes(&ping));
    let t = drain_transmits(&mut peer, T);
    assert_eq!(t.len(), 1);
    let pong = pong_of(&t[0]);
    assert_eq!(pong.is_probe(), Some(true));
    assert_eq!(pong.is_reflection(), Some(true));
    assert_eq!(pong.reflection_id(), Some("0123456789ab"));
    assert_eq!(
        pong.nat_type(),
        None,
        "a reflection answer carries no NAT type"
    );
}

#[test]
fn connection_pong_from_unknown_responder() {
    // The reference throws here when the Pong carries a pingId (§10.44).
    let mut peer = Peer::new(
        ready_config(1, NatType::PORT_RESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    drain_events(&mut peer);
    let mut pong = Pong::new();
    pong.set_requester_peer_id(&hex_id(1))
        .set_responder_peer_id(&hex_id(9))
        .set_nat_type(Some(NatType::PORT_RESTRICTED))
        .set_ping_id("00112233aabb")
        .set_is_connection(true)
        .set_cache_summary_hash("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    let bytes = pong.to_packet().unwrap().encode().unwrap();
    peer.handle_datagram(T, SocketId::Main, udp("192.0.2.7:4000"), &bytes);
    let ev = drain_events(&mut peer);
    assert!(matches!(
        ev.as_slice(),
        [Event::Connection { proxy: None, .. }]
    ));
    assert_eq!(
        peer.peer(&id(9)).unwrap().ping_id.as_deref(),
        Some("00112233aabb")
    );
}

#[test]
fn bad_input_is_counted_not_handled() {
    let mut peer = Peer::new(
        ready_config(1, NatType::PORT_RESTRICTED),
        Instant::ZERO,
        [1; 32],
    )
    .unwrap();
    let from = udp("192.0.2.7:4000");
    // Our own id.
    let own = Ping::heartbeat(&hex_id(1), None, 0.0, 0.0);
    peer.handle_datagram(T, SocketId::Main, from, &ping_bytes(&own));
    // Not a packet; the spray's one byte; a truncated frame.
    peer.handle_datagram(T, SocketId::Main, from, b"hello");
    peer.handle_datagram(T, SocketId::Main, from, &[1]);
    let good = ping_bytes(&Ping::heartbeat(&hex_id(9), None, 0.0, 0.0));
    peer.handle_datagram(T, SocketId::Main, from, &good[..40]);
    // Version 7.
    let mut v7 = Ping::heartbeat(&hex_id(9), None, 0.0, 0.0)
        .to_packet()
        .unwrap();
    v7.version = 7;
    peer.handle_datagram(T, SocketId::Main, from, &v7.encode().unwrap());
    // A pool socket we never opened.
    peer.handle_datagram(T, SocketId::Pool(3), from, &good);
    assert!(drain_transmits(&mut peer, T).is_empty());
    let m = peer.metrics();
    assert_eq!(m.dropped(DropReason::Own), 1);
    assert_eq!(m.dropped(DropReason::Malformed), 3);
    assert_eq!(m.dropped(DropReason::Version), 1);
    assert_eq!(m.dropped(DropReason::UnknownSocket), 1);
    assert_eq!(m.datagrams_in, 6);
}

#[test]
fn keepalive_loop() {
    let mut c = ready_config(1, NatType::PORT_RESTRICTED);
    c.keepalive_ms = 1_000;
    let mut peer = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    drain_events(&mut peer);
    // One connected peer that keeps answering.
    let from = udp("192.0.2.7:4000");
    let ping = Ping::nat_announcement(&hex_id(9), Some(NatType::ADDR_RESTRICTED), 0.0, 0.0, 0.0);
    peer.handle_datagram(Instant::ZERO, SocketId::Main, from, &ping_bytes(&ping));
    drain_transmits(&mut peer, Instant::ZERO);
    drain_events(&mut peer);
    let mut ticks = Vec::new();
    for _ in 0..4 {
        let t = peer.poll_timeout().unwrap();
        peer.handle_timeout(t);
        let sent = drain_transmits(&mut peer, t);
        ticks.push((t.as_millis(), sent.len()));
        assert!(sent.iter().all(|x| x.remote == from && x.bytes[4] == 1));
        // It answers each heartbeat.
        let mut pong = Pong::new();
        pong.set_requester_peer_id(&hex_id(1))
            .set_responder_peer_id(&hex_id(9))
            .set_nat_type(Some(NatType::ADDR_RESTRICTED));
        let b = pong.to_packet().unwrap().encode().unwrap();
        peer.handle_datagram(t.add_ms(20), SocketId::Main, from, &b);
    }
    // A tick every keepalive; each heartbeats the one peer.
    assert_eq!(ticks, vec![(0, 1), (1000, 1), (2000, 1), (3000, 1)]);
    assert_eq!(peer.uptime(), 4_000);
    assert!(peer.peer(&id(9)).unwrap().connected);
    assert!(drain_events(&mut peer).is_empty());
}
