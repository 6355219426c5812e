//! Reflection (NAT discovery) scripted against two fake introducers: the
//! bootstrap, stage 1 on the probe socket, stage 2, finalising, and the
//! reference's deadlocks that we fix.

mod peer_support;

use peer_support::*;
use streamrelay::nat::NatType;
use streamrelay::peer::{Event, Instant, Peer, Remote, SocketId, Transmit};
use streamrelay::wire::control::{Ping, Pong};
use streamrelay::wire::{PacketRef, PacketType};

const I1: &str = "198.51.100.1:9001";
const I1_PROBE: &str = "198.51.100.1:9101";
const I2: &str = "198.51.100.2:9002";
const I2_PROBE: &str = "198.51.100.2:9102";
const WALL: i64 = 1_700_000_000_000;

fn new_peer() -> Peer {
    let mut c = with_introducers(config(1), &[(201, I1), (202, I2)]);
    c.wall_clock_offset_ms = WALL;
    Peer::new(c, Instant::ZERO, [3; 32]).unwrap()
}

fn plain_pong(responder: u8) -> Vec<u8> {
    let mut p = Pong::new();
    p.set_requester_peer_id(&hex_id(1))
        .set_responder_peer_id(&hex_id(responder))
        .set_nat_type(Some(NatType::UNRESTRICTED));
    p.to_packet().unwrap().encode().unwrap()
}

fn reflection_pong(responder: u8, rid: &str, address: &str, port: u16, probe: bool) -> Vec<u8> {
    let mut p = Pong::new();
    p.set_cache_size(0.0)
        .set_uptime(0.0)
        .set_responder_peer_id(&hex_id(responder))
        .set_requester_peer_id(&hex_id(1))
        .set_port(port as f64);
    if probe {
        p.set_is_probe(true);
    }
    p.set_address(address)
        .set_reflection_id(rid)
        .set_is_reflection(true)
        .set_cache_summary_hash("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    p.to_packet().unwrap().encode().unwrap()
}

fn reflection_id(t: &Transmit) -> String {
    let p = PacketRef::decode(&t.bytes).unwrap();
    assert_eq!(p.packet_type, PacketType::Ping);
    Ping::parse(p.message)
        .unwrap()
        .reflection_id()
        .unwrap()
        .to_string()
}

/// Ticks, the introducers answer the heartbeat, and at 512 ms stage 1
/// begins. Returns the stage-1 reflection id.
fn to_stage_one(peer: &mut Peer, log: &mut String) -> String {
    peer.handle_timeout(Instant::ZERO);
    log.push_str("@0\n");
    log.push_str(&transcript(peer, Instant::ZERO));
    peer.handle_datagram(Instant(20), SocketId::Main, udp(I1), &plain_pong(201));
    peer.handle_datagram(Instant(25), SocketId::Main, udp(I2), &plain_pong(202));
    assert!(drain_transmits(peer, Instant(25)).is_empty());
    assert_eq!(peer.poll_timeout(), Some(Instant(512)));
    peer.handle_timeout(Instant(512));
    let t = drain_transmits(peer, Instant(512));
    log.push_str("@512\n");
    for x in &t {
        log.push_str(&format!("tx {}\n", render_transmit(x)));
    }
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].socket, SocketId::Probe);
    reflection_id(&t[0])
}

/// Stage 1 answered at 540 ms (probe port 6000): returns stage 2's
/// transmits.
fn to_stage_two(peer: &mut Peer) -> Vec<Transmit> {
    let rid = to_stage_one(peer, &mut String::new());
    peer.handle_datagram(
        Instant(540),
        SocketId::Probe,
        udp(I1),
        &reflection_pong(201, &rid, "203.0.113.5", 6000, true),
    );
    drain_transmits(peer, Instant(540))
}

/// Stage 2's answers on the main socket: I1 sees 203.0.113.5:40000 at
/// 560 ms, I2 sees `address:port` at 561 ms.
fn main_answers(peer: &mut Peer, rid2: &str, address: &str, port: u16) {
    peer.handle_datagram(
        Instant(560),
        SocketId::Main,
        udp(I1),
        &reflection_pong(201, rid2, "203.0.113.5", 40000, false),
    );
    peer.handle_datagram(
        Instant(561),
        SocketId::Main,
        udp(I2),
        &reflection_pong(202, rid2, address, port, false),
    );
}

#[test]
fn discovers_addr_restricted() {
    let mut peer = new_peer();
    let mut log = String::new();
    let rid = to_stage_one(&mut peer, &mut log);
    // Stage 1 answer on the probe socket: the probe socket's public port.
    let a = Instant(540);
    peer.handle_datagram(
        a,
        SocketId::Probe,
        udp(I1),
        &reflection_pong(201, &rid, "203.0.113.5", 6000, true),
    );
    let t = drain_transmits(&mut peer, a);
    log.push_str(&format!("@{}\n", a.as_millis()));
    for x in &t {
        log.push_str(&format!("tx {}\n", render_transmit(x)));
    }
    assert_eq!(t.len(), 2, "stage 2 asks both introducers");
    let rid2 = reflection_id(&t[0]);
    // Both see the same public port (endpoint-independent mapping), and only
    // the introducer the probe socket talked to gets through to it (known
    // IP): ADDR_RESTRICTED.
    let b = Instant(570);
    peer.handle_datagram(
        b,
        SocketId::Main,
        udp(I1),
        &reflection_pong(201, &rid2, "203.0.113.5", 40000, false),
    );
    peer.handle_datagram(
        b,
        SocketId::Probe,
        udp(I1_PROBE),
        &reflection_pong(201, &rid2, "203.0.113.5", 6000, false),
    );
    peer.handle_datagram(
        b.add_ms(5),
        SocketId::Main,
        udp(I2),
        &reflection_pong(202, &rid2, "203.0.113.5", 40000, false),
    );
    assert!(drain_transmits(&mut peer, b).is_empty());
    log.push_str(&run_timers(&mut peer, Instant(2_000)));
    insta::assert_snapshot!(log);
    assert_eq!(peer.nat_type(), Some(NatType::ADDR_RESTRICTED));
    assert_eq!(
        peer.public_endpoint(),
        (Some("203.0.113.5".parse().unwrap()), Some(40000))
    );
}

#[test]
fn classification_by_who_answers_the_probe() {
    // (main ports equal?, probe answers from) -> expected type
    let cases: &[(bool, &[&str], NatType)] = &[
        (true, &[I1_PROBE, I2_PROBE], NatType::UNRESTRICTED),
        (true, &[I1_PROBE], NatType::ADDR_RESTRICTED),
        (true, &[], NatType::PORT_RESTRICTED),
        (false, &[], NatType::ENDPOINT_RESTRICTED),
        (false, &[I1_PROBE], NatType(13)),
        // Only the stranger got through: that takes an "allow any" filter
        // (the reference, counting answers, would say known-IP).
        (true, &[I2_PROBE], NatType::UNRESTRICTED),
    ];
    for (same_port, probes, want) in cases {
        let mut peer = new_peer();
        let rid2 = reflection_id(&to_stage_two(&mut peer)[0]);
        let p2 = if *same_port { 40000 } else { 40001 };
        main_answers(&mut peer, &rid2, "203.0.113.5", p2);
        for (i, from) in probes.iter().enumerate() {
            let who = if from.starts_with("198.51.100.1") {
                201
            } else {
                202
            };
            peer.handle_datagram(
                Instant(562 + i as u64),
                SocketId::Probe,
                udp(from),
                &reflection_pong(who, &rid2, "203.0.113.5", 6000, false),
            );
        }
        run_timers(&mut peer, Instant(2_000));
        assert_eq!(peer.nat_type(), Some(*want), "{same_port} {probes:?}");
    }
}

#[test]
fn disagreeing_addresses_restart_instead_of_stalling() {
    // The reference returns early on the second answer and never clears its
    // reflection id: discovery stops for good (§10.37).
    let mut peer = new_peer();
    let rid2 = reflection_id(&to_stage_two(&mut peer)[0]);
    main_answers(&mut peer, &rid2, "203.0.113.99", 40000);
    assert_eq!(peer.nat_type(), None);
    // A retry is scheduled and starts over at stage 1 with a new probe.
    let next = peer.poll_timeout().unwrap();
    assert!(
        next > Instant(561) && next <= Instant(561 + 4096),
        "{next:?}"
    );
    peer.handle_timeout(next);
    let t = drain_transmits(&mut peer, next);
    assert!(
        t.iter().any(|x| x.socket == SocketId::Probe),
        "a new stage-1 probe"
    );
}

#[test]
fn duplicate_answer_from_the_same_introducer_is_not_a_second_opinion() {
    let mut peer = new_peer();
    let rid2 = reflection_id(&to_stage_two(&mut peer)[0]);
    let pong = reflection_pong(201, &rid2, "203.0.113.5", 40000, false);
    peer.handle_datagram(Instant(560), SocketId::Main, udp(I1), &pong);
    peer.handle_datagram(Instant(561), SocketId::Main, udp(I1), &pong);
    // The first-responder timer (512 ms) fires: no second opinion, start over.
    run_timers(&mut peer, Instant(1_100));
    assert_eq!(peer.nat_type(), None);
}

#[test]
fn stage_one_timeout_goes_on_without_probe_port() {
    let mut peer = new_peer();
    let _ = to_stage_one(&mut peer, &mut String::new());
    // Junk on the probe socket does not end stage 1 (the reference cancels
    // the timer on any datagram, §10.38).
    peer.handle_datagram(Instant(600), SocketId::Probe, udp(I1), b"junk");
    assert_eq!(peer.poll_timeout(), Some(Instant(512 + 1024)));
    peer.handle_timeout(Instant(1536));
    let t = drain_transmits(&mut peer, Instant(1536));
    assert_eq!(t.len(), 2);
    for x in &t {
        let p = PacketRef::decode(&x.bytes).unwrap();
        let ping = Ping::parse(p.message).unwrap();
        assert_eq!(ping.is_reflection(), Some(true));
        assert_eq!(ping.probe_external_port(), None);
    }
}

#[test]
fn not_enough_introducers_backs_off() {
    let mut peer = new_peer();
    peer.handle_timeout(Instant::ZERO);
    drain_transmits(&mut peer, Instant::ZERO);
    // Nobody answers: bootstrap pings again at 512, then 768 ms later, ...
    let mut times = Vec::new();
    for _ in 0..4 {
        let t = peer.poll_timeout().unwrap();
        peer.handle_timeout(t);
        let sent = drain_transmits(&mut peer, t);
        assert_eq!(sent.len(), 2);
        times.push(t.as_millis());
    }
    assert_eq!(
        times,
        vec![512, 512 + 768, 512 + 768 + 1024, 512 + 768 + 1024 + 1280]
    );
}

#[test]
fn reflection_answers_for_another_round_are_ignored() {
    let mut peer = new_peer();
    let rid = to_stage_one(&mut peer, &mut String::new());
    peer.handle_datagram(
        Instant(540),
        SocketId::Probe,
        udp(I1),
        &reflection_pong(201, "ffffffffffff", "203.0.113.5", 1, true),
    );
    assert!(drain_transmits(&mut peer, Instant(540)).is_empty());
    peer.handle_datagram(
        Instant(541),
        SocketId::Main,
        udp(I1),
        &reflection_pong(201, &rid, "not-an-ip", 40000, false),
    );
    assert!(drain_events(&mut peer)
        .iter()
        .all(|e| !matches!(e, Event::NatChange { .. })));
    let _ = Remote::Link(0);
}

/// `reflection_repeats` (finding 5 of the NAT lab): the stage-2 question
/// goes out again at `probe_wait_ms / 3` and `2/3` (2 repeats), and an
/// answer to a repetition on the probe socket counts when the first was
/// lost.
/// The reference profile asks once and, with that answer lost, settles on a
/// stricter filter than the NAT has.
#[test]
fn a_lost_probe_answer_is_asked_again() {
    for repeat in [false, true] {
        let repeats = if repeat { 2 } else { 0 };
        let mut c = with_introducers(config(1), &[(201, I1), (202, I2)]);
        c.wall_clock_offset_ms = WALL;
        c.behaviour.reflection_repeats = repeats;
        let mut peer = Peer::new(c, Instant::ZERO, [3; 32]).unwrap();
        let first = to_stage_two(&mut peer);
        assert_eq!(first.len(), 2, "stage 2 asks both introducers");
        let rid2 = reflection_id(&first[0]);
        // Both main answers arrive; the full-cone NAT's probe answers were
        // both lost.
        main_answers(&mut peer, &rid2, "203.0.113.5", 40000);
        let at = Instant(540 + 512 / 3);
        peer.handle_timeout(at);
        let again = drain_transmits(&mut peer, at);
        if !repeat {
            assert!(again.is_empty(), "the reference asks once: {again:?}");
            run_timers(&mut peer, Instant(3_000));
            assert_eq!(peer.nat_type(), Some(NatType::PORT_RESTRICTED));
            continue;
        }
        assert_eq!(again.len(), 2, "asked again: {again:?}");
        for t in &again {
            assert_eq!(t.socket, SocketId::Main);
            assert_eq!(reflection_id(t), rid2, "the same round");
            assert!(first.iter().all(|f| f.bytes != t.bytes), "a new packet");
        }
        // The second repetition goes out too, then none: the round is over
        // once it is finalised.
        let at2 = Instant(540 + 2 * (512 / 3));
        assert_eq!(peer.poll_timeout(), Some(at2));
        peer.handle_timeout(at2);
        assert_eq!(drain_transmits(&mut peer, at2).len(), 2);
        // The answers to the probe socket get through this time.
        for (who, from) in [(201, I1_PROBE), (202, I2_PROBE)] {
            peer.handle_datagram(
                at2.add_ms(10),
                SocketId::Probe,
                udp(from),
                &reflection_pong(who, &rid2, "203.0.113.5", 6000, false),
            );
        }
        run_timers(&mut peer, Instant(3_000));
        assert_eq!(peer.nat_type(), Some(NatType::UNRESTRICTED));
    }
}
