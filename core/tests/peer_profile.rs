//! The improved profile (the default): each `Behaviour` switch does what it
//! says, and the reference profile does not (the reference's own behaviour
//! is pinned by the other peer_* tests, which run `Config::reference`).

mod peer_support;

use peer_support::*;
use streamrelay::crypto::identity::{create_shared_key, subcluster_id};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Instant, Peer, Profile, SocketId, Transmit};
use streamrelay::wire::control::{Intro, Join, Ping, Pong};
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const WALL: i64 = 1_700_000_000_000;
const R_ADDR: &str = "198.51.100.1:9001";
const ME: &str = "203.0.113.5:40000";

fn key() -> streamrelay::crypto::identity::SharedKey {
    create_shared_key("profile-tests").unwrap()
}

fn member(n: u8, profile: Profile) -> Peer {
    let mut c = Config::with_profile(&hex_id(n), Some(CLUSTER), profile);
    c = with_introducers(c, &[(200, R_ADDR)]);
    c.nat_type = Some(NatType::PORT_RESTRICTED);
    c.public_address = Some(ME.parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    let mut p = Peer::new(c, Instant::ZERO, [n; 32]).unwrap();
    // The first tick (due at once), so that later ticks are the
    // keepalive's.
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

fn addr(n: u8) -> String {
    format!("203.0.113.{n}:5000")
}

/// A connection ping from `n` in our subcluster: `n` becomes a connected
/// member.
fn connect(p: &mut Peer, now: Instant, n: u8) {
    let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.set(Field::SubclusterId, &subcluster_id(&key())).unwrap();
    p.handle_datagram(now, SocketId::Main, udp(&addr(n)), &pk.encode().unwrap());
    drain_transmits(p, now);
    drain_events(p);
}

fn types(ts: &[Transmit]) -> Vec<u8> {
    ts.iter().map(|t| t.bytes[4]).collect()
}

fn j1_from(n: u8, hops: u32) -> Vec<u8> {
    let sa: std::net::SocketAddr = addr(n).parse().unwrap();
    let msg = Join::announce(
        &hex_id(n),
        Some(NatType::UNRESTRICTED),
        &sa.ip().to_string(),
        sa.port(),
        "k",
    );
    let mut p = msg.to_packet().unwrap();
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    p.set(Field::SubclusterId, &subcluster_id(&key())).unwrap();
    p.hops = hops;
    p.clock = 3;
    p.encode().unwrap()
}

#[test]
fn config_new_is_the_improved_profile() {
    let c = Config::new(&hex_id(1), Some(CLUSTER));
    assert_eq!(c.behaviour, Profile::Improved.behaviour());
    assert_ne!(c.behaviour, Profile::Reference.behaviour());
    assert_eq!(Profile::from_name("default"), Some(Profile::Improved));
    assert_eq!(Profile::from_name("reference"), Some(Profile::Reference));
    assert_eq!(Profile::from_name("x"), None);
}

#[test]
fn a_join_from_its_joiner_is_not_relayed_on() {
    for (profile, relayed) in [(Profile::Improved, false), (Profile::Reference, true)] {
        let mut p = member(1, profile);
        p.join(Instant(1), &key()).unwrap();
        for n in 20..26 {
            connect(&mut p, Instant(2), n);
        }
        drain_transmits(&mut p, Instant(2));
        p.handle_datagram(Instant(10), SocketId::Main, udp(&addr(9)), &j1_from(9, 1));
        let out = types(&drain_transmits(&mut p, Instant(10)));
        assert!(
            out.contains(&(PacketType::Intro as u8)),
            "{profile:?}: introduces"
        );
        assert_eq!(
            out.contains(&(PacketType::Join as u8)),
            relayed,
            "{profile:?}: {out:?}"
        );
    }
}

#[test]
fn a_relayed_rendezvous_reply_is_left_alone() {
    let mut p = member(1, Profile::Improved);
    p.join(Instant(1), &key()).unwrap();
    for n in 20..24 {
        connect(&mut p, Instant(2), n);
    }
    let mut j3 = Join::new();
    j3.set_requester_peer_id(&hex_id(9))
        .set_nat_type(Some(NatType::UNRESTRICTED))
        .set_address("203.0.113.9")
        .set_port(5000.0)
        .set_rendezvous_requester_peer_id(&hex_id(8));
    let mut pk: Packet = j3.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.set(Field::SubclusterId, &subcluster_id(&key())).unwrap();
    pk.hops = 3;
    p.handle_datagram(
        Instant(10),
        SocketId::Main,
        udp(&addr(20)),
        &pk.encode().unwrap(),
    );
    assert!(drain_transmits(&mut p, Instant(10)).is_empty());
}

#[test]
fn introductions_prefer_members_of_the_joiners_subcluster() {
    let mut p = member(1, Profile::Improved);
    p.join(Instant(1), &key()).unwrap();
    // Ten connected peers, three of them in the joiner's subcluster.
    for n in 30..37 {
        let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
        let mut pk = ping.to_packet().unwrap();
        pk.set(Field::ClusterId, &CLUSTER).unwrap();
        p.handle_datagram(
            Instant(2),
            SocketId::Main,
            udp(&addr(n)),
            &pk.encode().unwrap(),
        );
    }
    for n in 20..23 {
        connect(&mut p, Instant(2), n);
    }
    drain_transmits(&mut p, Instant(2));
    p.handle_datagram(Instant(10), SocketId::Main, udp(&addr(9)), &j1_from(9, 1));
    let to_members: Vec<String> = drain_transmits(&mut p, Instant(10))
        .iter()
        .filter(|t| t.bytes[4] == PacketType::Intro as u8)
        .filter_map(|t| {
            let pk = PacketRef::decode(&t.bytes).ok()?;
            let i = Intro::parse(pk.message).ok()?;
            // intro1 goes to the joiner and names the member it meets.
            (t.remote == udp(&addr(9))).then(|| i.requester_peer_id().unwrap().to_string())
        })
        .collect();
    assert_eq!(to_members.len(), 3, "{to_members:?}");
    for m in &to_members {
        assert!([20u8, 21, 22].iter().any(|n| hex_id(*n) == *m), "{m}");
    }
}

#[test]
fn syncs_carry_the_senders_id_so_their_ids_differ() {
    let mut ids = Vec::new();
    for n in [1u8, 2] {
        let mut p = member(n, Profile::Improved);
        connect(&mut p, Instant(2), 20);
        p.sync(Instant(3), &id(20)).unwrap();
        let sync = drain_transmits(&mut p, Instant(3))
            .into_iter()
            .find(|t| t.bytes[4] == PacketType::Sync as u8)
            .unwrap();
        let pk = PacketRef::decode(&sync.bytes).unwrap();
        assert_eq!(pk.previous_id, &id(n).0[..]);
        ids.push(pk.effective_packet_id().to_vec());
    }
    assert_ne!(ids[0], ids[1], "two empty caches, two packetIds");
    // The reference: the same id for the same (empty) summary.
    let mut refs = Vec::new();
    for n in [1u8, 2] {
        let mut p = member(n, Profile::Reference);
        connect(&mut p, Instant(2), 20);
        drain_transmits(&mut p, Instant(2));
        p.sync(Instant(3), &id(20)).unwrap();
        let sync = drain_transmits(&mut p, Instant(3))
            .into_iter()
            .find(|t| t.bytes[4] == PacketType::Sync as u8)
            .unwrap();
        refs.push(
            PacketRef::decode(&sync.bytes)
                .unwrap()
                .effective_packet_id()
                .to_vec(),
        );
    }
    assert_eq!(refs[0], refs[1]);
}

#[test]
fn the_heartbeat_is_bounded_and_skips_peers_that_pinged_us() {
    let mut p = member(1, Profile::Improved);
    p.join(Instant(1), &key()).unwrap();
    for n in 20..32 {
        connect(&mut p, Instant(2), n);
    }
    // Peer 20 sends its own heartbeat: we answer it and need not ping it.
    let hb = Ping::heartbeat(&hex_id(20), Some(NatType::UNRESTRICTED), 0.0, 0.0);
    p.handle_datagram(
        Instant(29_000),
        SocketId::Main,
        udp(&addr(20)),
        &hb.to_packet().unwrap().encode().unwrap(),
    );
    drain_transmits(&mut p, Instant(29_000));
    p.handle_timeout(Instant(30_000));
    let pings: Vec<Transmit> = drain_transmits(&mut p, Instant(30_000))
        .into_iter()
        .filter(|t| t.bytes[4] == PacketType::Ping as u8)
        .collect();
    let k = Profile::Improved.behaviour().heartbeat_peers.unwrap();
    // One introducer, and k peers less the one that pinged us.
    assert_eq!(pings.len(), 1 + k - 1, "{}", pings.len());
    assert!(pings.iter().any(|t| t.remote == udp(R_ADDR)));
    assert!(!pings.iter().any(|t| t.remote == udp(&addr(20))));
    // The reference pings all 13.
    let mut r = member(1, Profile::Reference);
    for n in 20..32 {
        connect(&mut r, Instant(2), n);
    }
    r.handle_timeout(Instant(30_000));
    let n = drain_transmits(&mut r, Instant(30_000))
        .iter()
        .filter(|t| t.bytes[4] == PacketType::Ping as u8)
        .count();
    assert_eq!(n, 13);
}

#[test]
fn an_answered_introduction_is_not_pinged_again() {
    for (profile, pings) in [(Profile::Improved, 1), (Profile::Reference, 3)] {
        let mut p = member(1, profile);
        // R introduces peer 9 (port-restricted: we ping it directly).
        let pong = {
            let mut m = Pong::new();
            m.set_requester_peer_id(&hex_id(1))
                .set_responder_peer_id(&hex_id(200))
                .set_nat_type(Some(NatType::UNRESTRICTED));
            m.to_packet().unwrap().encode().unwrap()
        };
        p.handle_datagram(Instant(1), SocketId::Main, udp(R_ADDR), &pong);
        let intro = Intro::introduce(
            &hex_id(9),
            &hex_id(200),
            false,
            NatType::PORT_RESTRICTED,
            "203.0.113.9",
            5000,
        );
        let mut ik = intro.to_packet().unwrap();
        ik.set(Field::ClusterId, &CLUSTER).unwrap();
        ik.set(Field::Usr1, format!("{WALL}").as_bytes()).unwrap();
        p.handle_datagram(
            Instant(2),
            SocketId::Main,
            udp(R_ADDR),
            &ik.encode().unwrap(),
        );
        let mut sent = drain_transmits(&mut p, Instant(2))
            .iter()
            .filter(|t| t.remote == udp(&addr(9)) && t.bytes[4] == PacketType::Ping as u8)
            .count();
        // Peer 9 answers the first ping with a connection Pong.
        let mut cp = Pong::new();
        cp.set_requester_peer_id(&hex_id(1))
            .set_responder_peer_id(&hex_id(9))
            .set_nat_type(Some(NatType::PORT_RESTRICTED))
            .set_is_connection(true);
        p.handle_datagram(
            Instant(60),
            SocketId::Main,
            udp(&addr(9)),
            &cp.to_packet().unwrap().encode().unwrap(),
        );
        for t in [600u64, 2100, 2600] {
            p.handle_timeout(Instant(t));
            sent += drain_transmits(&mut p, Instant(t))
                .iter()
                .filter(|t| t.remote == udp(&addr(9)) && t.bytes[4] == PacketType::Ping as u8)
                .count();
        }
        assert_eq!(sent, pings, "{profile:?}");
    }
}

#[test]
fn a_restored_peer_finds_its_endpoint_again() {
    for (profile, kept) in [(Profile::Improved, false), (Profile::Reference, true)] {
        let mut c = Config::with_profile(&hex_id(1), Some(CLUSTER), profile);
        c = with_introducers(c, &[(200, R_ADDR)]);
        let mut p = Peer::new(c.clone(), Instant::ZERO, [1; 32]).unwrap();
        // Pretend reflection found a type (through a restore of a snapshot
        // that has one: take it from a peer with a static type).
        let mut s = c.clone();
        s.nat_type = Some(NatType::PORT_RESTRICTED);
        s.public_address = Some(ME.parse().unwrap());
        let q = Peer::new(s, Instant::ZERO, [1; 32]).unwrap();
        let snap = q.snapshot(Instant(5));
        drop(p.snapshot(Instant(5)));
        p = Peer::restore(c, Instant(10), [1; 32], &snap).unwrap();
        assert_eq!(p.nat_type().is_some(), kept, "{profile:?}");
    }
}

#[test]
fn rejoins_wait_for_too_few_members_and_back_off() {
    // Enough members: no Join at the tick.
    let mut p = member(1, Profile::Improved);
    p.join(Instant(1), &key()).unwrap();
    for n in 20..23 {
        connect(&mut p, Instant(2), n);
    }
    drain_transmits(&mut p, Instant(2));
    p.handle_timeout(Instant(30_000));
    let out = types(&drain_transmits(&mut p, Instant(30_000)));
    assert!(!out.contains(&(PacketType::Join as u8)), "{out:?}");
    // None: Joins at ticks 1, 2, 4, 7, 12 (waits of 0, 1, 2, 4 ticks), not
    // each tick.
    let mut lone = member(2, Profile::Improved);
    lone.join(Instant(1), &key()).unwrap();
    let before = lone.clock();
    let mut at = Vec::new();
    for tick in 1..=12u64 {
        let now = Instant(tick * 30_000);
        // The introducer answers each heartbeat (so it stays a fanout target).
        lone.handle_timeout(now);
        drain_transmits(&mut lone, now);
        if lone.clock() > before + at.len() as u32 {
            at.push(tick);
        }
    }
    assert_eq!(at, vec![1, 2, 4, 7, 12]);
    let _ = before;
}

/// A heartbeat Pong from `n` (as `Peer::heartbeat` gets them): it saw us at
/// `seen`, and its cache summary hash is `hash`.
fn heartbeat_pong(n: u8, seen: &str, hash: &str) -> Vec<u8> {
    let sa: std::net::SocketAddr = seen.parse().unwrap();
    let mut pong = Pong::new();
    pong.set_responder_peer_id(&hex_id(n))
        .set_requester_peer_id(&hex_id(1))
        .set_address(&sa.ip().to_string())
        .set_port(f64::from(sa.port()))
        .set_nat_type(Some(NatType::UNRESTRICTED))
        .set_cache_summary_hash(hash);
    let mut pk = pong.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.set(Field::SubclusterId, &subcluster_id(&key())).unwrap();
    pk.encode().unwrap()
}

#[test]
fn a_pong_with_another_cache_summary_starts_a_sync_once_a_window() {
    for (profile, syncs) in [(Profile::Improved, 1), (Profile::Reference, 0)] {
        let mut p = member(1, profile);
        connect(&mut p, Instant(1), 20);
        p.sync(Instant(1), &streamrelay::peer::PeerId([20; 32]))
            .ok();
        drain_transmits(&mut p, Instant(1));
        let ours = p.cache_summary_hash().to_string();
        let mut sent = 0;
        // Twice within one sync window: one Sync; the same hash: none.
        for (t, hash) in [
            (10_000, "f".repeat(40)),
            (11_000, "e".repeat(40)),
            (12_000, ours),
        ] {
            let now = Instant(t);
            p.handle_datagram(
                now,
                SocketId::Main,
                udp(&addr(20)),
                &heartbeat_pong(20, ME, &hash),
            );
            sent += types(&drain_transmits(&mut p, now))
                .iter()
                .filter(|&&t| t == PacketType::Sync as u8)
                .count();
        }
        assert_eq!(sent, syncs, "{profile:?}");
    }
}

#[test]
fn a_peer_reporting_us_at_a_new_ip_means_we_moved() {
    for (profile, rejoins) in [(Profile::Improved, true), (Profile::Reference, false)] {
        let mut p = member(1, profile);
        p.join(Instant(1), &key()).unwrap();
        connect(&mut p, Instant(2), 20);
        drain_transmits(&mut p, Instant(2));
        let hash = p.cache_summary_hash().to_string();
        // It sees us where we think we are, twice; then at the same IP on
        // another port (a symmetric NAT's way): nothing happens. Then at
        // another IP: we moved.
        let seen = [(3, ME, false), (4, ME, false), (5, "203.0.113.5:1", false)];
        for (t, at, moved) in seen.into_iter().chain([(6, "198.51.100.77:1", rejoins)]) {
            let now = Instant(t);
            let pong = heartbeat_pong(20, at, &hash);
            p.handle_datagram(now, SocketId::Main, udp(&addr(20)), &pong);
            let out = types(&drain_transmits(&mut p, now));
            let joined = out.contains(&(PacketType::Join as u8));
            assert_eq!(joined, moved, "{profile:?} at {at}: {out:?}");
        }
    }
}

#[test]
fn a_known_peer_heartbeating_from_a_new_address_is_followed_and_synced() {
    for (profile, follows) in [(Profile::Improved, true), (Profile::Reference, false)] {
        let mut p = member(1, profile);
        connect(&mut p, Instant(1), 20);
        let ping = Ping::heartbeat(&hex_id(20), Some(NatType::UNRESTRICTED), 0.0, 0.0);
        let bytes = ping.to_packet().unwrap().encode().unwrap();
        let moved = udp("198.51.100.20:7000");
        p.handle_datagram(Instant(10_000), SocketId::Main, moved, &bytes);
        let out = drain_transmits(&mut p, Instant(10_000));
        let at = p
            .peers()
            .iter()
            .find(|e| e.peer_id.0 == [20; 32])
            .unwrap()
            .remote;
        assert_eq!(at == moved, follows, "{profile:?}");
        let synced = out
            .iter()
            .any(|t| t.remote == moved && t.bytes[4] == PacketType::Sync as u8);
        assert_eq!(synced, follows, "{profile:?}");
    }
}

#[test]
fn a_v4_mapped_sender_learns_its_ipv4_address() {
    for profile in [Profile::Improved, Profile::Reference] {
        let mut p = member(1, profile);
        let ping = Ping::heartbeat(&hex_id(20), Some(NatType::UNRESTRICTED), 0.0, 0.0);
        let bytes = ping.to_packet().unwrap().encode().unwrap();
        let mapped = udp("[::ffff:203.0.113.14]:7000");
        p.handle_datagram(Instant(5), SocketId::Main, mapped, &bytes);
        let out = drain_transmits(&mut p, Instant(5));
        let pong = out
            .iter()
            .find(|t| t.bytes[4] == PacketType::Pong as u8)
            .unwrap();
        let pr = PacketRef::decode(&pong.bytes).unwrap();
        let pong = Pong::parse(pr.message).unwrap();
        assert_eq!(pong.address(), Some("203.0.113.14"), "{profile:?}");
    }
}
