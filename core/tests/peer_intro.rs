//! Introductions and hole punching, scripted: each strategy of the table,
//! the proxy fallback, the easy side's spray and the hard side's socket pool.

mod peer_support;

use std::collections::BTreeSet;

use peer_support::*;
use streamrelay::nat::{NatType, Strategy};
use streamrelay::peer::{Config, DropReason, Event, Eviction, Instant, Peer, SocketId};
use streamrelay::wire::control::{Intro, Ping};
use streamrelay::wire::{Field, PacketRef};

const WALL: i64 = 1_700_000_000_000;
const R_ADDR: &str = "198.51.100.1:9001";
const T_ADDR: &str = "203.0.113.9:6000";

fn peer_with(nat: NatType, tweak: impl FnOnce(&mut Config)) -> Peer {
    let mut c = with_introducers(config(1), &[(200, R_ADDR)]);
    c.nat_type = Some(nat);
    c.public_address = Some("203.0.113.5:40000".parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    tweak(&mut c);
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    // The first tick (a heartbeat to the introducer) out of the way.
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

fn peer(nat: NatType) -> Peer {
    peer_with(nat, |_| {})
}

fn intro_bytes(target: u8, nat: NatType, addr: &str, now: Instant) -> Vec<u8> {
    let sa: std::net::SocketAddr = addr.parse().unwrap();
    let msg = Intro::introduce(
        &hex_id(target),
        &hex_id(200),
        false,
        nat,
        &sa.ip().to_string(),
        sa.port(),
    );
    let mut p = msg.to_packet().unwrap();
    p.hops = 2;
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    p.set(Field::SubclusterId, &[0x5c; 32]).unwrap();
    let wall = (now.as_millis() as i64 + WALL).to_string();
    p.set(Field::Usr1, wall.as_bytes()).unwrap();
    p.encode().unwrap()
}

/// At 100 ms the introducer introduces peer 9 at T_ADDR with NAT type
/// `nat`; returns that time.
fn intro_at_100(p: &mut Peer, nat: NatType) -> Instant {
    let t0 = Instant(100);
    p.handle_datagram(
        t0,
        SocketId::Main,
        udp(R_ADDR),
        &intro_bytes(9, nat, T_ADDR, t0),
    );
    t0
}

fn connection_ping(from: u8, nat: NatType) -> Vec<u8> {
    let ping = Ping::intro_answer(
        Some(nat),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        &hex_id(from),
        0.0,
        0.0,
    );
    ping.to_packet().unwrap().encode().unwrap()
}

#[test]
fn direct_pings_three_times_then_falls_back_to_proxy() {
    let mut p = peer(NatType::PORT_RESTRICTED);
    let t0 = intro_at_100(&mut p, NatType::ADDR_RESTRICTED);
    let mut log = format!("@100\n{}", transcript(&mut p, t0));
    log.push_str(&run_timers(&mut p, Instant(2_500)));
    insta::assert_snapshot!(log);
    let e = p.peer(&id(9)).unwrap();
    assert_eq!(e.proxy, Some(id(200)));
    assert_eq!(p.metrics().proxy_fallbacks, 1);
}

#[test]
fn an_answer_connects_directly_and_the_fallback_stays_quiet() {
    let mut p = peer(NatType::PORT_RESTRICTED);
    let t0 = intro_at_100(&mut p, NatType::ADDR_RESTRICTED);
    drain_transmits(&mut p, t0);
    drain_events(&mut p);
    // The target's own P6 arrives (from the port it really uses).
    p.handle_datagram(
        Instant(150),
        SocketId::Main,
        udp("203.0.113.9:6001"),
        &connection_ping(9, NatType::ADDR_RESTRICTED),
    );
    let log = transcript(&mut p, Instant(150));
    assert!(
        log.contains("isConnection\":true"),
        "connection Pong: {log}"
    );
    assert!(log.contains("Connection { peer_id: <peer9>, remote: Udp(203.0.113.9:6001)"));
    run_timers(&mut p, Instant(3_000));
    assert!(drain_events(&mut p).is_empty());
    assert_eq!(p.peer(&id(9)).unwrap().proxy, None);
    assert_eq!(p.metrics().proxy_fallbacks, 0);
}

#[test]
fn proxy_strategy_connects_through_the_introducer_and_still_pings() {
    let mut p = peer(NatType::ENDPOINT_RESTRICTED);
    let t0 = intro_at_100(&mut p, NatType::ENDPOINT_RESTRICTED);
    insta::assert_snapshot!(transcript(&mut p, t0));
    assert_eq!(p.peer(&id(9)).unwrap().proxy, Some(id(200)));
    // A direct packet from it later makes it direct.
    p.handle_datagram(
        Instant(300),
        SocketId::Main,
        udp(T_ADDR),
        &connection_ping(9, NatType::ENDPOINT_RESTRICTED),
    );
    let evs = drain_events(&mut p);
    assert!(
        matches!(evs.as_slice(), [Event::Connection { proxy: None, .. }]),
        "{evs:?}"
    );
}

#[test]
fn traversal_open_sprays_distinct_ports() {
    let mut p = peer(NatType::PORT_RESTRICTED);
    let t0 = intro_at_100(&mut p, NatType::ENDPOINT_RESTRICTED);
    let sent = drain_transmits(&mut p, t0);
    assert_eq!(sent.len(), 1024);
    let ports: BTreeSet<u16> = sent
        .iter()
        .map(|t| {
            assert_eq!(t.socket, SocketId::Main);
            assert_eq!(t.bytes, vec![1]);
            let a = t.remote.udp().unwrap();
            assert_eq!(a.ip().to_string(), "203.0.113.9");
            a.port()
        })
        .collect();
    assert_eq!(ports.len(), 1024, "distinct");
    assert!(*ports.first().unwrap() >= 1024);
    let evs = drain_events(&mut p);
    assert!(matches!(
        evs.as_slice(),
        [Event::Intro {
            strategy: Strategy::TraversalOpen,
            ..
        }]
    ));
    assert_eq!(p.metrics().sent_by_type[0], 1024);
    // A second Intro for another target sprays fresh ports.
    p.handle_datagram(
        t0,
        SocketId::Main,
        udp(R_ADDR),
        &intro_bytes(8, NatType::ENDPOINT_RESTRICTED, T_ADDR, t0),
    );
    let again: BTreeSet<u16> = drain_transmits(&mut p, t0)
        .iter()
        .map(|t| t.remote.udp().unwrap().port())
        .collect();
    assert_ne!(again, ports);
}

#[test]
fn spray_only_for_an_intro_from_a_known_peer() {
    let mut p = peer(NatType::PORT_RESTRICTED);
    let t0 = Instant(100);
    // Anyone can send an Intro; a spray is a 1024x amplifier.
    p.handle_datagram(
        t0,
        SocketId::Main,
        udp("192.0.2.66:1234"),
        &intro_bytes(9, NatType::ENDPOINT_RESTRICTED, T_ADDR, t0),
    );
    assert!(drain_transmits(&mut p, t0).is_empty());
    assert_eq!(p.metrics().dropped(DropReason::Invalid), 1);
}

#[test]
fn traversal_connect_uses_the_pool() {
    let mut p = peer(NatType::ENDPOINT_RESTRICTED);
    let t0 = intro_at_100(&mut p, NatType::PORT_RESTRICTED);
    let mut log = format!("@100\n{}", transcript(&mut p, t0));
    log.push_str(&run_timers(&mut p, Instant(150)));
    insta::assert_snapshot!("traversal_rounds", log);
    // The latest P7's socket is listening.
    p.handle_timeout(Instant(160));
    let last = drain_transmits(&mut p, Instant(160));
    assert_eq!(last.len(), 1);
    let SocketId::Pool(sock) = last[0].socket else {
        panic!("{:?}", last[0].socket)
    };
    // A reply from elsewhere is refused (the reference takes anything, §10.41).
    p.handle_datagram(
        Instant(170),
        SocketId::Pool(sock),
        udp("192.0.2.66:6000"),
        &[1],
    );
    assert_eq!(p.metrics().dropped(DropReason::Invalid), 1);
    assert!(drain_events(&mut p).is_empty());
    // The target's spray byte lands on it: connected through that socket,
    // P8 goes back on it, a new socket replaces it in the pool.
    p.handle_datagram(Instant(171), SocketId::Pool(sock), udp(T_ADDR), &[1]);
    let log = transcript(&mut p, Instant(171)).replace(&format!("Pool({sock})"), "Pool(<won>)");
    insta::assert_snapshot!("traversal_success", log);
    let e = p.peer(&id(9)).unwrap();
    assert_eq!(e.socket, SocketId::Pool(sock));
    assert_eq!(p.metrics().traversals_succeeded, 1);
    // The rounds stopped: nothing more goes out before the next tick.
    let rest = run_timers(&mut p, Instant(1_000));
    assert!(rest.is_empty(), "{rest}");
    // Pings to it now use its socket.
    p.handle_timeout(Instant(30_000));
    let hb: Vec<_> = drain_transmits(&mut p, Instant(30_000))
        .into_iter()
        .filter(|t| t.remote == udp(T_ADDR))
        .collect();
    assert_eq!(hb.len(), 1);
    assert_eq!(hb[0].socket, SocketId::Pool(sock));
}

#[test]
fn traversal_exhaustion_repeats_once_then_proxies() {
    let mut p = peer_with(NatType::ENDPOINT_RESTRICTED, |c| {
        c.timings.traversal_rounds = 3;
        c.timings.pool_idle_ms = 5_000;
        c.limits.pool_size = 4;
    });
    let t0 = intro_at_100(&mut p, NatType::PORT_RESTRICTED);
    let mut log = format!("@100\n{}", transcript(&mut p, t0));
    log.push_str(&run_timers(&mut p, Instant(10_000)));
    insta::assert_snapshot!(log);
    assert_eq!(p.metrics().traversals_exhausted, 2);
    assert_eq!(p.peer(&id(9)).unwrap().proxy, Some(id(200)));
    assert_eq!(p.occupancy().pool_sockets, 0, "the idle pool was closed");
}

#[test]
fn intro_gates() {
    let mut p = peer(NatType::PORT_RESTRICTED);
    let t0 = Instant(100);
    let b = intro_bytes(9, NatType::ADDR_RESTRICTED, T_ADDR, t0);
    p.handle_datagram(t0, SocketId::Main, udp(R_ADDR), &b);
    drain_transmits(&mut p, t0);
    // The same Intro, the same target via another Intro, a stale Intro, an
    // Intro about ourselves.
    p.handle_datagram(t0, SocketId::Main, udp(R_ADDR), &b);
    let mut other = PacketRef::decode(&b).unwrap().to_packet();
    other.hops = 3;
    other.set(Field::PacketId, &[0]).unwrap();
    other.set(Field::Usr1, b"1700000000099").unwrap();
    p.handle_datagram(t0, SocketId::Main, udp(R_ADDR), &other.encode().unwrap());
    p.handle_datagram(
        Instant(100_000),
        SocketId::Main,
        udp(R_ADDR),
        &intro_bytes(8, NatType::ADDR_RESTRICTED, T_ADDR, Instant(50_000)),
    );
    p.handle_datagram(
        t0,
        SocketId::Main,
        udp(R_ADDR),
        &intro_bytes(1, NatType::ADDR_RESTRICTED, T_ADDR, t0),
    );
    assert!(drain_transmits(&mut p, Instant(100_000)).is_empty());
    let m = p.metrics();
    assert_eq!(m.dropped(DropReason::Duplicate), 2);
    assert_eq!(m.dropped(DropReason::Stale), 1);
    assert_eq!(m.dropped(DropReason::Own), 1);
}

#[test]
fn a_small_pool_runs_out() {
    let mut p = peer_with(NatType::ENDPOINT_RESTRICTED, |c| c.limits.pool_size = 2);
    intro_at_100(&mut p, NatType::PORT_RESTRICTED);
    run_timers(&mut p, Instant(200));
    // Two sockets held for 1024 ms each: after two rounds nothing is free.
    assert!(p.metrics().evicted(Eviction::PoolExhausted) >= 8);
    let pool_sends = drain_transmits(&mut p, Instant(200));
    let _ = pool_sends;
    assert_eq!(p.occupancy().pool_sockets, 2);
}

#[test]
fn fresh_pool_sockets_probe_from_new_sockets() {
    // Two sockets, each listening 20 ms after a probe, one probe every 10
    // ms: from the third round on every free socket has sent before.
    let run = |fresh: bool| {
        let mut p = peer_with(NatType::ENDPOINT_RESTRICTED, |c| {
            c.limits.pool_size = 2;
            c.timings.pool_socket_hold_ms = 20;
            c.timings.traversal_rounds = 8;
            c.behaviour.fresh_pool_sockets = fresh;
        });
        let t0 = intro_at_100(&mut p, NatType::PORT_RESTRICTED);
        let (mut open, mut probes) = (BTreeSet::new(), Vec::new());
        let mut now = t0;
        loop {
            for e in drain_events(&mut p) {
                match e {
                    Event::OpenPoolSockets { sockets } => open.extend(sockets),
                    Event::ClosePoolSockets { sockets } => {
                        for s in sockets {
                            open.remove(&s);
                        }
                    }
                    _ => {}
                }
            }
            for t in drain_transmits(&mut p, now) {
                if let SocketId::Pool(_) = t.socket {
                    assert!(open.contains(&t.socket), "{:?} was not open", t.socket);
                    probes.push(t.socket);
                }
            }
            match p.poll_timeout() {
                Some(t) if t <= Instant(200) => {
                    now = t;
                    p.handle_timeout(t);
                }
                _ => break,
            }
        }
        let distinct: BTreeSet<_> = probes.iter().collect();
        (probes.len(), distinct.len(), open.len())
    };
    let (sent, distinct, open) = run(true);
    assert!(sent >= 6, "{sent} probes");
    assert_eq!(distinct, sent, "every probe from a socket of its own");
    assert!(open <= 2, "replaced sockets were closed: {open} open");
    let (sent, distinct, _) = run(false);
    assert!(
        distinct < sent,
        "the reference reuses: {distinct} of {sent}"
    );
}
