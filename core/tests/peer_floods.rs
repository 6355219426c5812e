//! Every bounded structure, flooded: it stays at its limit, and what did not
//! fit is counted.

mod peer_support;

use peer_support::*;
use streamrelay::crypto::identity::{create_shared_key, subcluster_id};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, DropReason, Eviction, Instant, Peer, PeerError, Remote, SocketId};
use streamrelay::wire::control::{Intro, Join, Ping};
use streamrelay::wire::Field;

const R_ADDR: &str = "198.51.100.1:9001";

fn peer_with(nat: NatType, f: impl FnOnce(&mut Config)) -> Peer {
    let mut c = with_introducers(config(1), &[(200, R_ADDR)]);
    c.nat_type = Some(nat);
    c.public_address = Some("198.51.100.5:40000".parse().unwrap());
    f(&mut c);
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

fn remote(i: u32) -> Remote {
    Remote::Udp(std::net::SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
        1000 + (i % 60000) as u16,
    ))
}

fn peer_hex(i: u32) -> String {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&i.to_be_bytes());
    b[31] = 0xee;
    hex(&b)
}

fn p5(i: u32) -> Vec<u8> {
    let ping = Ping::nat_announcement(&peer_hex(i), Some(NatType::PORT_RESTRICTED), 0.0, 0.0, 0.0);
    ping.to_packet().unwrap().encode().unwrap()
}

fn intro(i: u32, nat: NatType) -> Vec<u8> {
    let msg = Intro::introduce(&peer_hex(i), &hex_id(200), false, nat, "203.0.113.9", 6000);
    let mut p = msg.to_packet().unwrap();
    p.set(Field::Usr1, b"").unwrap();
    p.set(Field::Usr1, b"9999999999999").unwrap();
    p.encode().unwrap()
}

#[test]
fn peer_table() {
    let mut p = peer_with(NatType::UNRESTRICTED, |_| {});
    for i in 0..5_000 {
        p.handle_datagram(Instant(1), SocketId::Main, remote(i), &p5(i));
        drain_transmits(&mut p, Instant(1));
        drain_events(&mut p);
    }
    assert_eq!(p.occupancy().peers, 256);
    assert_eq!(p.metrics().evicted(Eviction::Peer), 5_000 - 255);
    assert!(p.peer(&id(200)).is_some(), "introducers stay");
}

#[test]
fn pending_pings() {
    let mut p = peer_with(NatType::PORT_RESTRICTED, |c| {
        c.limits.max_pending_pings = 8;
        c.limits.max_intros = 1_000;
    });
    for i in 0..100 {
        p.handle_datagram(
            Instant(1),
            SocketId::Main,
            udp(R_ADDR),
            &intro(i, NatType::ADDR_RESTRICTED),
        );
    }
    assert_eq!(p.occupancy().pending_pings, 8);
    assert_eq!(p.metrics().evicted(Eviction::PendingPing), 92);
    // Evicted pings took their timers with them.
    assert!(
        p.occupancy().timers <= 8 * 2 + 100 + 2,
        "{:?}",
        p.occupancy()
    );
}

#[test]
fn intros() {
    let mut p = peer_with(NatType::PORT_RESTRICTED, |c| c.limits.max_intros = 4);
    for i in 0..100 {
        p.handle_datagram(
            Instant(1),
            SocketId::Main,
            udp(R_ADDR),
            &intro(i, NatType::ADDR_RESTRICTED),
        );
    }
    assert_eq!(p.occupancy().intros, 4);
    assert_eq!(p.metrics().evicted(Eviction::IntroRefused), 96);
}

#[test]
fn gate() {
    // An introducer gates every Join it sees.
    let mut c = introducer_config(200, R_ADDR);
    c.limits.max_gate_entries = 100;
    let mut r = Peer::new(c, Instant::ZERO, [2; 32]).unwrap();
    let scid = subcluster_id(&create_shared_key("g").unwrap());
    for i in 0..1_000u32 {
        let msg = Join::announce(
            &peer_hex(i),
            Some(NatType::PORT_RESTRICTED),
            "203.0.113.9",
            6000,
            "k",
        );
        let mut pk = msg.to_packet().unwrap();
        pk.set(Field::ClusterId, &CLUSTER).unwrap();
        pk.set(Field::SubclusterId, &scid).unwrap();
        pk.hops = 3;
        r.handle_datagram(Instant(1), SocketId::Main, remote(i), &pk.encode().unwrap());
        drain_transmits(&mut r, Instant(1));
    }
    assert_eq!(r.occupancy().gate, 100);
    assert!(r.metrics().evicted(Eviction::Gate) >= 900);
}

#[test]
fn rate_table() {
    let mut p = peer_with(NatType::UNRESTRICTED, |c| c.limits.max_rate_entries = 50);
    let ping = Ping::heartbeat(&hex_id(9), None, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap();
    for i in 0..1_000 {
        p.handle_datagram(Instant(1), SocketId::Main, remote(i), &ping);
        drain_transmits(&mut p, Instant(1));
    }
    assert_eq!(p.occupancy().rates, 50);
    assert_eq!(p.metrics().evicted(Eviction::Rate), 950);
    // Idle entries are pruned at a tick two minutes later.
    p.handle_timeout(Instant(150_000));
    assert_eq!(p.occupancy().rates, 0);
}

fn join_from(scid: &[u8; 32], i: u32) -> Vec<u8> {
    let msg = Join::announce(
        &peer_hex(i),
        Some(NatType::PORT_RESTRICTED),
        "203.0.113.9",
        6000,
        "k",
    );
    let mut pk = msg.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.set(Field::SubclusterId, scid).unwrap();
    pk.hops = 3;
    pk.encode().unwrap()
}

#[test]
fn rate_limit_per_remote() {
    let mut p = peer_with(NatType::UNRESTRICTED, |_| {});
    let other = [9u8; 32];
    let from = udp("192.0.2.1:1");
    for i in 0..1_100 {
        p.handle_datagram(Instant(1), SocketId::Main, from, &join_from(&other, i));
        drain_transmits(&mut p, Instant(1));
    }
    // The 1024th Join from one remote in a minute is dropped, and all after.
    assert_eq!(p.metrics().dropped(DropReason::RateLimited), 1_100 - 1_023);
    // Another remote is not affected.
    p.handle_datagram(
        Instant(2),
        SocketId::Main,
        udp("192.0.2.2:1"),
        &join_from(&other, 5_000),
    );
    assert_eq!(p.metrics().dropped(DropReason::RateLimited), 77);
}

#[test]
fn joined_subcluster_has_its_own_quota() {
    // The reference switches limiting off here (§10.65); we apply the
    // subcluster quota.
    let mut p = peer_with(NatType::UNRESTRICTED, |c| {
        c.quotas.subcluster_per_minute = 100
    });
    let key = create_shared_key("mine").unwrap();
    let scid = p.join(Instant(1), &key).unwrap();
    let from = udp("192.0.2.1:1");
    for i in 0..150 {
        p.handle_datagram(Instant(2), SocketId::Main, from, &join_from(&scid, i));
    }
    assert_eq!(p.metrics().dropped(DropReason::RateLimited), 51);
}

#[test]
fn socket_pool() {
    let mut p = peer_with(NatType::ENDPOINT_RESTRICTED, |c| {
        c.limits.pool_size = 16;
        c.limits.max_intros = 64;
    });
    for i in 0..64 {
        p.handle_datagram(
            Instant(1),
            SocketId::Main,
            udp(R_ADDR),
            &intro(i, NatType::PORT_RESTRICTED),
        );
    }
    run_timers(&mut p, Instant(500));
    assert_eq!(p.occupancy().pool_sockets, 16);
    assert!(p.metrics().evicted(Eviction::PoolExhausted) > 1_000);
}

#[test]
fn event_queue() {
    let mut p = peer_with(NatType::UNRESTRICTED, |c| c.limits.max_events = 16);
    for i in 0..100 {
        p.handle_datagram(Instant(1), SocketId::Main, remote(i), &p5(i));
        drain_transmits(&mut p, Instant(1));
    }
    assert_eq!(p.occupancy().events, 16);
    assert_eq!(p.metrics().dropped(DropReason::EventQueueFull), 84);
}

#[test]
fn transmit_queue() {
    let mut p = peer_with(NatType::UNRESTRICTED, |c| c.limits.max_transmits = 16);
    let ping = Ping::heartbeat(&hex_id(9), None, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap();
    for i in 0..100 {
        p.handle_datagram(Instant(1), SocketId::Main, remote(i), &ping);
    }
    assert_eq!(p.occupancy().transmits, 16);
    assert_eq!(p.metrics().dropped(DropReason::TransmitQueueFull), 84);
}

#[test]
fn subclusters() {
    let mut p = peer_with(NatType::UNRESTRICTED, |c| c.limits.max_subclusters = 3);
    for i in 0..3 {
        p.join(
            Instant(1),
            &create_shared_key(format!("s{i}").as_str()).unwrap(),
        )
        .unwrap();
    }
    assert_eq!(
        p.join(Instant(1), &create_shared_key("s9").unwrap()),
        Err(PeerError::TooManySubclusters(3))
    );
    // Joining one we are in again is fine.
    assert!(p
        .join(Instant(1), &create_shared_key("s0").unwrap())
        .is_ok());
}

#[test]
fn everything_at_once_stays_bounded() {
    // Mixed hostile traffic from many sources for a while, ticks included.
    let mut p = peer_with(NatType::ENDPOINT_RESTRICTED, |c| {
        c.keepalive_ms = 1_000;
        c.limits.max_transmits = 256;
    });
    let scid = [7u8; 32];
    for round in 0..20u32 {
        let now = Instant(u64::from(round) * 500);
        for i in 0..300 {
            let k = round * 1_000 + i;
            p.handle_datagram(now, SocketId::Main, remote(k), &p5(k));
            p.handle_datagram(now, SocketId::Main, remote(k), &join_from(&scid, k));
            p.handle_datagram(
                now,
                SocketId::Main,
                udp(R_ADDR),
                &intro(k, NatType::PORT_RESTRICTED),
            );
            p.handle_datagram(now, SocketId::Pool(k as u16), remote(k), &[1]);
        }
        p.handle_timeout(now);
        let o = p.occupancy();
        let l = streamrelay::peer::Limits::default();
        assert!(o.peers <= l.max_peers);
        assert!(o.pending_pings <= l.max_pending_pings);
        assert!(o.gate <= l.max_gate_entries);
        assert!(o.rates <= l.max_rate_entries);
        assert!(o.intros <= l.max_intros);
        assert!(o.pool_sockets <= l.pool_size as usize + l.max_peers);
        assert!(o.events <= l.max_events + 2);
        assert!(o.transmits <= 256);
        assert!(
            o.timers <= 2 * l.max_pending_pings + 2 * l.max_intros + 16,
            "{o:?}"
        );
        drain_transmits(&mut p, now);
    }
}
