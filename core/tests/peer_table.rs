//! The peer table: connections, expiry (inactive / missing / forgotten as
//! multiples of keepalive), eviction at the size limit.

mod peer_support;

use peer_support::*;
use streamrelay::crypto::identity::{create_shared_key, subcluster_id};
use streamrelay::nat::NatType;
use streamrelay::peer::{DisconnectReason, Event, Eviction, Instant, Peer, SocketId};
use streamrelay::wire::control::{Join, Ping, Pong};
use streamrelay::wire::{Field, PacketRef, PacketType};

const K: u64 = 1_000;

fn peer_with(f: impl FnOnce(&mut streamrelay::peer::Config)) -> Peer {
    let mut c = with_introducers(config(1), &[(200, "198.51.100.1:9001")]);
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some("198.51.100.5:40000".parse().unwrap());
    c.keepalive_ms = K;
    f(&mut c);
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

fn connect(p: &mut Peer, now: Instant, n: u8) {
    let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::PORT_RESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    p.handle_datagram(
        now,
        SocketId::Main,
        udp(&format!("203.0.113.{n}:5000")),
        &pk.encode().unwrap(),
    );
    drain_transmits(p, now);
}

fn heartbeat_answer(p: &mut Peer, now: Instant, n: u8) {
    let mut pong = Pong::new();
    pong.set_requester_peer_id(&hex_id(1))
        .set_responder_peer_id(&hex_id(n))
        .set_nat_type(Some(NatType::PORT_RESTRICTED));
    p.handle_datagram(
        now,
        SocketId::Main,
        udp(&format!("203.0.113.{n}:5000")),
        &pong.to_packet().unwrap().encode().unwrap(),
    );
}

/// Ticks until `t` inclusive; returns the events with their tick.
fn tick_until(p: &mut Peer, t: u64) -> Vec<(u64, Event)> {
    let mut out = Vec::new();
    while let Some(at) = p.poll_timeout() {
        if at.as_millis() > t {
            break;
        }
        p.handle_timeout(at);
        drain_transmits(p, at);
        out.extend(drain_events(p).into_iter().map(|e| (at.as_millis(), e)));
    }
    out
}

#[test]
fn silent_peer_goes_missing_then_is_forgotten() {
    let mut p = peer_with(|_| {});
    connect(&mut p, Instant(10), 9);
    assert!(matches!(
        drain_events(&mut p).as_slice(),
        [Event::Connection { .. }]
    ));
    let evs = tick_until(&mut p, 10 * K);
    let got: Vec<String> = evs
        .iter()
        .map(|(t, e)| format!("@{t} {}", render_event(e)))
        .collect();
    // Heard at 10: missing once silent > 2 K (tick 3000), forgotten once
    // silent > 4 K (tick 5000). The introducer never expires.
    insta::assert_snapshot!(got.join("\n"));
    assert!(p.peer(&id(9)).is_none());
    assert!(p.peer(&id(200)).is_some());
}

#[test]
fn a_missing_peer_that_answers_is_connected_again() {
    let mut p = peer_with(|_| {});
    connect(&mut p, Instant(10), 9);
    drain_events(&mut p);
    let evs = tick_until(&mut p, 3 * K);
    assert!(matches!(
        evs.as_slice(),
        [(
            3000,
            Event::Disconnection {
                reason: DisconnectReason::Missing,
                ..
            }
        )]
    ));
    assert!(!p.peer(&id(9)).unwrap().connected);
    heartbeat_answer(&mut p, Instant(3_020), 9);
    let evs = drain_events(&mut p);
    assert!(
        matches!(evs.as_slice(), [Event::Connection { .. }]),
        "{evs:?}"
    );
    assert!(p.peer(&id(9)).unwrap().connected);
    // And it stays while it keeps answering.
    for t in [4_020, 5_020, 6_020] {
        tick_until(&mut p, t - 20);
        heartbeat_answer(&mut p, Instant(t), 9);
    }
    assert!(drain_events(&mut p).is_empty());
}

#[test]
fn inactive_peers_are_not_introduced() {
    // An introducer with Q connected: a Join while Q is fresh introduces Q;
    // once Q has been silent for more than a keepalive it does not.
    let mut r = Peer::new(
        {
            let mut c = introducer_config(200, "198.51.100.1:9001");
            c.keepalive_ms = K;
            c
        },
        Instant::ZERO,
        [2; 32],
    )
    .unwrap();
    r.handle_timeout(Instant::ZERO);
    connect(&mut r, Instant(10), 7);
    let scid = subcluster_id(&create_shared_key("t").unwrap());
    let join = |n: u8, port: u16| {
        let msg = Join::announce(
            &hex_id(n),
            Some(NatType::PORT_RESTRICTED),
            &format!("203.0.113.{n}"),
            port,
            "k",
        );
        let mut pk = msg.to_packet().unwrap();
        pk.set(Field::ClusterId, &CLUSTER).unwrap();
        pk.set(Field::SubclusterId, &scid).unwrap();
        // Relayed (hop 2), so the joiner itself does not become a peer.
        pk.hops = 2;
        pk.encode().unwrap()
    };
    let intros = |r: &mut Peer, now| {
        drain_transmits(r, now)
            .iter()
            .filter(|t| PacketRef::decode(&t.bytes).unwrap().packet_type == PacketType::Intro)
            .count()
    };
    r.handle_datagram(
        Instant(500),
        SocketId::Main,
        udp("203.0.113.8:5000"),
        &join(8, 5000),
    );
    assert_eq!(intros(&mut r, Instant(500)), 2);
    r.handle_datagram(
        Instant(1_500),
        SocketId::Main,
        udp("203.0.113.6:5000"),
        &join(6, 5000),
    );
    assert_eq!(
        intros(&mut r, Instant(1_500)),
        0,
        "Q silent for 1490 ms > keepalive"
    );
}

#[test]
fn full_table_evicts_the_least_recently_heard() {
    let mut p = peer_with(|c| c.limits.max_peers = 3);
    connect(&mut p, Instant(10), 7);
    connect(&mut p, Instant(20), 8);
    heartbeat_answer(&mut p, Instant(30), 7);
    drain_events(&mut p);
    // Table: introducer, 7 (heard at 30), 8 (heard at 20). A new peer
    // evicts 8, never the introducer.
    connect(&mut p, Instant(40), 9);
    let evs: Vec<String> = drain_events(&mut p).iter().map(render_event).collect();
    insta::assert_snapshot!(evs.join("\n"));
    assert_eq!(p.peers().len(), 3);
    assert!(p.peer(&id(8)).is_none());
    assert_eq!(p.metrics().evicted(Eviction::Peer), 1);
}

#[test]
fn a_table_of_introducers_refuses_newcomers() {
    let mut p = peer_with(|c| c.limits.max_peers = 1);
    connect(&mut p, Instant(10), 7);
    assert!(p.peer(&id(7)).is_none());
    assert_eq!(p.metrics().evicted(Eviction::PeerRefused), 1);
    assert_eq!(
        p.add_introducer(id(50), udp("198.51.100.50:1")),
        Err(streamrelay::peer::PeerError::TableFull)
    );
}
