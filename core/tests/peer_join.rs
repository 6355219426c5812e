//! Joins, introductions on a Join, rendezvous and relaying, scripted.

mod peer_support;

use peer_support::*;
use streamrelay::crypto::identity::{create_shared_key, subcluster_id};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, DropReason, Event, Instant, Peer, SocketId};
use streamrelay::wire::control::{Join, Ping, Pong};
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const WALL: i64 = 1_700_000_000_000;
const R_ADDR: &str = "198.51.100.1:9001";
const Q_ADDR: &str = "203.0.113.7:5000";
const J_ADDR: &str = "203.0.113.9:6000";
const M_ADDR: &str = "203.0.113.11:7000";

fn scid() -> [u8; 32] {
    subcluster_id(&create_shared_key("join-tests").unwrap())
}

fn introducer() -> Peer {
    let mut c = introducer_config(200, R_ADDR);
    c.wall_clock_offset_ms = WALL;
    let mut p = Peer::new(c, Instant::ZERO, [5; 32]).unwrap();
    drain_events(&mut p);
    p
}

fn member(n: u8, addr: &str, nat: NatType) -> Peer {
    let mut c: Config = with_introducers(config(n), &[(200, R_ADDR)]);
    c.nat_type = Some(nat);
    c.public_address = Some(addr.parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    let mut p = Peer::new(c, Instant::ZERO, [n; 32]).unwrap();
    drain_events(&mut p);
    p
}

/// P5 from `n` at `addr`: makes it a connected peer of the receiver.
fn announce(p: &mut Peer, now: Instant, n: u8, addr: &str, nat: NatType) {
    let ping = Ping::nat_announcement(&hex_id(n), Some(nat), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    p.handle_datagram(now, SocketId::Main, udp(addr), &pk.encode().unwrap());
    drain_transmits(p, now);
    drain_events(p);
}

fn j1(n: u8, addr: &str, nat: u8, hops: u32) -> Packet {
    let sa: std::net::SocketAddr = addr.parse().unwrap();
    let msg = Join::announce(
        &hex_id(n),
        Some(NatType(nat)),
        &sa.ip().to_string(),
        sa.port(),
        "k",
    );
    let mut p = msg.to_packet().unwrap();
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    p.set(Field::SubclusterId, &scid()).unwrap();
    p.hops = hops;
    p.clock = 3;
    p
}

#[test]
fn join_multicasts_j1_every_tick() {
    let mut peer = member(1, "203.0.113.5:40000", NatType::PORT_RESTRICTED);
    peer.handle_timeout(Instant::ZERO);
    drain_transmits(&mut peer, Instant::ZERO);
    // The introducer answers, so it is a fresh fanout candidate.
    let mut pong = Pong::new();
    pong.set_requester_peer_id(&hex_id(1))
        .set_responder_peer_id(&hex_id(200))
        .set_nat_type(Some(NatType::UNRESTRICTED));
    peer.handle_datagram(
        Instant(10),
        SocketId::Main,
        udp(R_ADDR),
        &pong.to_packet().unwrap().encode().unwrap(),
    );
    let key = create_shared_key("join-tests").unwrap();
    assert_eq!(peer.join(Instant(20), &key).unwrap(), scid());
    let mut log = transcript(&mut peer, Instant(20));
    log.push_str(&run_timers(&mut peer, Instant(30_000)));
    insta::assert_snapshot!(log);
    assert_eq!(peer.clock(), 2);
}

#[test]
fn introducer_introduces_and_relays() {
    let mut r = introducer();
    announce(&mut r, Instant(10), 7, Q_ADDR, NatType::PORT_RESTRICTED);
    let bytes = j1(9, J_ADDR, 7, 1).encode().unwrap();
    r.handle_datagram(Instant(100), SocketId::Main, udp(J_ADDR), &bytes);
    // intro2 to Q about J, intro1 to J about Q, then the Join relayed with
    // rendezvous data (R is UNRESTRICTED and this is hop 1); J sent it
    // itself, so J is now connected.
    insta::assert_snapshot!(transcript(&mut r, Instant(100)));
    assert!(r.peer(&id(9)).unwrap().connected);
    // The same Join again is a duplicate.
    r.handle_datagram(Instant(110), SocketId::Main, udp(J_ADDR), &bytes);
    assert!(drain_transmits(&mut r, Instant(110)).is_empty());
    assert_eq!(r.metrics().dropped(DropReason::Duplicate), 1);
}

#[test]
fn member_answers_a_stamped_join() {
    let mut m = member(11, M_ADDR, NatType::ADDR_RESTRICTED);
    let key = create_shared_key("join-tests").unwrap();
    m.join(Instant(1), &key).unwrap();
    drain_transmits(&mut m, Instant(1));
    let mut j2 = j1(9, J_ADDR, 7, 2);
    let mut msg = Join::parse(&j2.message).unwrap();
    msg.set_rendezvous_address("198.51.100.1")
        .set_rendezvous_port(9001.0)
        .set_rendezvous_type(Some(NatType::UNRESTRICTED))
        .set_rendezvous_peer_id(&hex_id(200))
        .set_rendezvous_deadline((WALL + 30_000) as f64);
    j2.message = msg.to_json().into_bytes();
    m.handle_datagram(
        Instant(100),
        SocketId::Main,
        udp(R_ADDR),
        &j2.encode().unwrap(),
    );
    // J3 goes straight to the rendezvous peer, with rendezvousPeerId
    // (docs/compat.md#rendezvous-reply); the host hears of the new member.
    let log = transcript(&mut m, Instant(100));
    insta::assert_snapshot!(log);
    assert!(log.contains("rendezvousPeerId"));
    assert!(log.contains("ev Join"));
}

#[test]
fn rendezvous_peer_makes_the_targeted_introduction() {
    let mut r = introducer();
    announce(&mut r, Instant(10), 9, J_ADDR, NatType::PORT_RESTRICTED);
    announce(&mut r, Instant(11), 11, M_ADDR, NatType::ADDR_RESTRICTED);
    announce(&mut r, Instant(12), 7, Q_ADDR, NatType::PORT_RESTRICTED);
    let sa: std::net::SocketAddr = M_ADDR.parse().unwrap();
    let mut j3 = Join::new();
    j3.set_requester_peer_id(&hex_id(11))
        .set_nat_type(Some(NatType::ADDR_RESTRICTED))
        .set_address(&sa.ip().to_string())
        .set_port(sa.port() as f64)
        .set_rendezvous_type(Some(NatType::PORT_RESTRICTED))
        .set_rendezvous_requester_peer_id(&hex_id(9))
        .set_rendezvous_peer_id(&hex_id(200));
    let mut pk = j3.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.set(Field::SubclusterId, &scid()).unwrap();
    r.handle_datagram(
        Instant(100),
        SocketId::Main,
        udp(M_ADDR),
        &pk.encode().unwrap(),
    );
    let log = transcript(&mut r, Instant(100));
    // Exactly the pair J <-> M is introduced (Q is not), isRendezvous true.
    insta::assert_snapshot!(log);
    assert!(!log.contains("<peer7>\",\"responderPeerId"));
}

#[test]
fn join_fields_are_checked_before_use() {
    let mut r = introducer();
    announce(&mut r, Instant(10), 7, Q_ADDR, NatType::PORT_RESTRICTED);
    // A Join is never validated by the reference: an invalid NAT type makes
    // it throw building the Intro. Here: no Intro, counted.
    let mut bad = j1(9, J_ADDR, 2, 1);
    bad.message = bad.message.clone();
    r.handle_datagram(
        Instant(100),
        SocketId::Main,
        udp(J_ADDR),
        &bad.encode().unwrap(),
    );
    let t = drain_transmits(&mut r, Instant(100));
    assert!(t
        .iter()
        .all(|x| PacketRef::decode(&x.bytes).unwrap().packet_type == PacketType::Join));
    assert_eq!(r.metrics().dropped(DropReason::Invalid), 1);
    // A cluster id that is not 32 bytes: dropped.
    let mut short = j1(9, J_ADDR, 7, 1);
    short.set(Field::ClusterId, &[1, 2, 3]).unwrap();
    short.message.push(b' ');
    r.handle_datagram(
        Instant(101),
        SocketId::Main,
        udp(J_ADDR),
        &short.encode().unwrap(),
    );
    assert!(drain_transmits(&mut r, Instant(101)).is_empty());
    assert_eq!(r.metrics().dropped(DropReason::Invalid), 2);
}

#[test]
fn stale_rendezvous_is_dropped() {
    let mut m = member(11, M_ADDR, NatType::ADDR_RESTRICTED);
    let mut j2 = j1(9, J_ADDR, 7, 2);
    let mut msg = Join::parse(&j2.message).unwrap();
    msg.set_rendezvous_deadline((WALL - 1) as f64);
    j2.message = msg.to_json().into_bytes();
    m.handle_datagram(
        Instant(100),
        SocketId::Main,
        udp(R_ADDR),
        &j2.encode().unwrap(),
    );
    assert!(drain_transmits(&mut m, Instant(100)).is_empty());
    assert_eq!(m.metrics().dropped(DropReason::Stale), 1);
}

#[test]
fn join_before_the_nat_type_is_known_waits() {
    let mut c = with_introducers(config(1), &[(200, R_ADDR)]);
    c.wall_clock_offset_ms = WALL;
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    let key = create_shared_key("join-tests").unwrap();
    // The reference returns before recording the subcluster here; we
    // record it and send the Join when ready (docs/compat.md#join-before-ready).
    p.join(Instant::ZERO, &key).unwrap();
    assert!(drain_transmits(&mut p, Instant::ZERO).is_empty());
    assert_eq!(p.subclusters().count(), 1);
    assert!(!drain_events(&mut p)
        .iter()
        .any(|e| matches!(e, Event::Join { .. })));
}
