//! Fuzz `Peer::handle_datagram` with arbitrary datagram sequences and
//! arbitrary timing (structure-aware, with `arbitrary`).
//!
//! The peer under test is a member of one subcluster with an UNRESTRICTED
//! NAT on a known address; it knows two introducers and four connected
//! peers. Each input is a sequence of steps: let time pass (milliseconds to
//! hours), deliver a datagram from one of 8 remotes (or a link) on one of
//! its sockets, maybe run the timers. A datagram is raw bytes, a typed
//! control message (Ping, Pong, Intro, Join) with fuzzed fields, or one of
//! a set of genuine packets (events of our subcluster, lone and chained, a
//! publish of another cluster, a Stream, a Sync, a Query, control
//! packets) with fuzzed header fields and byte mutations. Some steps are
//! host commands (publish, query, sync, leave/join, snapshot and restore).
//!
//! Invariants, checked after every step:
//!
//! * nothing panics (and the timers never spin);
//! * every bounded structure stays within its configured limit;
//! * an `Event::Packet` (a verified delivery) carries one of the genuine
//!   payloads, published by the genuine signer: nothing the fuzzer makes up
//!   reaches the app as verified.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::event::{pack_event, EventArgs};
use streamrelay::crypto::identity::{
    create_key_pair, create_shared_key, KeyPair, SharedKey, SubclusterKeys,
};
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, Event, Instant, Introducer, Limits, Peer, PeerId, PublishOptions, Remote, SocketId,
};
use streamrelay::wire::control::{Intro, Join, Ping, Pong, QueryQuestion};
use streamrelay::wire::{Field, Packet};

const CLUSTER: [u8; 32] = [0xc1; 32];
const WALL: i64 = 1_700_000_000_000;
const ME: &str = "203.0.113.1:1001";

fn id(n: u8) -> PeerId {
    PeerId([n; 32])
}

fn addr(i: u8) -> Remote {
    match i % 9 {
        // Connected peers 2..=5.
        k @ 0..=3 => Remote::Udp(format!("203.0.113.{}:100{}", k + 2, k + 2).parse().unwrap()),
        // The introducers.
        4 => Remote::Udp("198.51.100.1:9001".parse().unwrap()),
        5 => Remote::Udp("198.51.100.2:9002".parse().unwrap()),
        // Strangers (one IPv6), and a link.
        6 => Remote::Udp("192.0.2.77:4000".parse().unwrap()),
        7 => Remote::Udp("[2001:db8::7]:4000".parse().unwrap()),
        _ => Remote::Link(7),
    }
}

struct Fixture {
    shared: SharedKey,
    signer: KeyPair,
    me_signer: KeyPair,
    /// Genuine datagrams.
    templates: Vec<Vec<u8>>,
    /// Payloads a verified event may carry.
    genuine: Vec<Vec<u8>>,
    /// Our subcluster's id.
    scid: [u8; 32],
    /// The limits of `config()`.
    limits: Limits,
}

fn config() -> Config {
    let f = fixture_keys();
    let mut c = Config::new(&id(1).to_hex(), Some(CLUSTER));
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some(ME.parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    c.signing_keys = Some(f.1.clone());
    c.keepalive_ms = 5_000;
    // Small tables, so inputs reach their bounds.
    c.limits.max_peers = 16;
    c.limits.max_gate_entries = 64;
    c.limits.max_rate_entries = 16;
    c.limits.max_return_routes = 8;
    c.limits.max_pending_pings = 16;
    c.limits.max_intros = 4;
    c.limits.pool_size = 8;
    c.limits.max_events = 64;
    c.limits.max_transmits = 512;
    c.limits.max_cache_packets = 32;
    c.limits.max_cache_bytes = 40_000;
    c.limits.max_unpublished = 8;
    c.limits.max_pending_queries = 8;
    c.limits.max_delivered = 32;
    c.limits.max_sync_sends = 16;
    c.limits.reassembly.max_chains = 3;
    c.limits.reassembly.max_bytes = 8_192;
    c.timings.spray_ports = 16;
    c.timings.traversal_rounds = 8;
    c.quotas.replicatable_per_minute = 64;
    c.quotas.subcluster_per_minute = 64;
    c.quotas.control_per_minute = 256;
    for (n, i) in [(200u8, 4u8), (201, 5)] {
        c.introducers.push(Introducer {
            peer_id: id(n),
            remote: addr(i),
        });
    }
    c
}

fn fixture_keys() -> &'static (SharedKey, KeyPair) {
    static K: OnceLock<(SharedKey, KeyPair)> = OnceLock::new();
    K.get_or_init(|| {
        (
            create_shared_key("fuzz-peer").unwrap(),
            create_key_pair("me").unwrap(),
        )
    })
}

fn p5(n: u8) -> Vec<u8> {
    let ping = Ping::nat_announcement(&id(n).to_hex(), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.encode().unwrap()
}

fn fresh_peer() -> Peer {
    let f = fixture();
    let mut p = Peer::new(config(), Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    p.join(Instant::ZERO, &f.shared).unwrap();
    for k in 0..4u8 {
        p.handle_datagram(Instant::ZERO, SocketId::Main, addr(k), &p5(k + 2));
    }
    while p.poll_transmit(Instant::ZERO).is_some() {}
    while p.poll_event().is_some() {}
    p
}

/// The peer every input starts from: [`fresh_peer`] built once, its
/// snapshot kept, and a Peer restored from those bytes per input (inputs
/// stay independent and deterministic; the subcluster keys come from the
/// fuzz-build memo in `crypto::identity`, so no input derives keys).
fn prepared() -> Peer {
    static SNAPSHOT: OnceLock<Vec<u8>> = OnceLock::new();
    let snap = SNAPSHOT.get_or_init(|| fresh_peer().snapshot(Instant::ZERO));
    let mut p = Peer::restore(config(), Instant::ZERO, [1; 32], snap)
        .expect("the prepared snapshot restores");
    while p.poll_transmit(Instant::ZERO).is_some() {}
    while p.poll_event().is_some() {}
    p
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (shared, me_signer) = fixture_keys().clone();
        let keys = SubclusterKeys::from_shared_key(&shared);
        let scid = keys.subcluster_id();
        let signer = create_key_pair("publisher").unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut templates = Vec::new();
        let mut genuine = Vec::new();
        let mut events =
            |name: &str, payload: Vec<u8>, cluster: [u8; 32], keys: &SubclusterKeys| {
                let pk = pack_event(
                    &EventArgs::new(&cluster, name, &payload),
                    keys,
                    &signer,
                    WALL as u64,
                    &mut rng,
                )
                .unwrap();
                genuine.push(payload);
                pk.iter().map(|p| p.encode().unwrap()).collect::<Vec<_>>()
            };
        templates.extend(events("short", b"hello".to_vec(), CLUSTER, &keys));
        templates.extend(events(
            "long",
            (0..2600u32).map(|i| i as u8).collect(),
            CLUSTER,
            &keys,
        ));
        let other = SubclusterKeys::from_shared_key(&create_shared_key("other").unwrap());
        templates.extend(events(
            "elsewhere",
            b"not ours".to_vec(),
            [0xc2; 32],
            &other,
        ));
        // Control packets.
        let me = id(1).to_hex();
        let nine = id(9).to_hex();
        let mut ctl = |mut p: Packet| {
            p.set(Field::ClusterId, &CLUSTER).unwrap();
            p.set(Field::SubclusterId, &scid).unwrap();
            templates.push(p.encode().unwrap());
        };
        ctl(
            Ping::heartbeat(&nine, Some(NatType::PORT_RESTRICTED), 1.0, 2.0)
                .to_packet()
                .unwrap(),
        );
        ctl(
            Ping::nat_announcement(&nine, Some(NatType::UNRESTRICTED), 0.0, 1.0, 2.0)
                .to_packet()
                .unwrap(),
        );
        ctl(
            Ping::reflection(&nine, "0123456789ab", false, Some(6000), 1.0, 2.0)
                .to_packet()
                .unwrap(),
        );
        let mut pong = Pong::new();
        pong.set_requester_peer_id(&me)
            .set_responder_peer_id(&id(200).to_hex())
            .set_port(1001.0)
            .set_address("203.0.113.1")
            .set_reflection_id("0123456789ab")
            .set_is_reflection(true);
        ctl(pong.to_packet().unwrap());
        ctl(Intro::introduce(
            &nine,
            &id(200).to_hex(),
            false,
            NatType::PORT_RESTRICTED,
            "203.0.113.9",
            6000,
        )
        .to_packet()
        .unwrap());
        ctl(Intro::introduce(
            &nine,
            &id(200).to_hex(),
            true,
            NatType::ENDPOINT_RESTRICTED,
            "203.0.113.9",
            6000,
        )
        .to_packet()
        .unwrap());
        ctl(Join::announce(
            &nine,
            Some(NatType::PORT_RESTRICTED),
            "203.0.113.9",
            6000,
            "k",
        )
        .to_packet()
        .unwrap());
        // A Sync, a Query and a Stream as a peer sends them.
        let mut c9 = config();
        c9.peer_id = nine.clone();
        c9.public_address = Some("203.0.113.9:1009".parse().unwrap());
        c9.signing_keys = Some(signer.clone());
        let mut p9 = Peer::new(c9, Instant::ZERO, [9; 32]).unwrap();
        p9.handle_timeout(Instant::ZERO);
        p9.join(Instant::ZERO, &shared).unwrap();
        p9.handle_datagram(
            Instant::ZERO,
            SocketId::Main,
            Remote::Udp(ME.parse().unwrap()),
            &p5(1),
        );
        let now = Instant(10);
        let _ = p9.publish(
            now,
            &shared,
            "cached",
            b"in p9's cache",
            &PublishOptions::new(),
        );
        genuine.push(b"in p9's cache".to_vec());
        let _ = p9.sync(now, &id(1));
        let _ = p9.query(now, &QueryQuestion::for_packet(&"ab".repeat(32)));
        let _ = p9.stream(
            now,
            &id(1),
            &shared,
            "direct",
            b"streamed to you",
            &PublishOptions::new(),
        );
        genuine.push(b"streamed to you".to_vec());
        while let Some(t) = p9.poll_transmit(now) {
            if t.bytes.len() > 4 && (5..=8).contains(&t.bytes[4]) {
                templates.push(t.bytes);
            }
        }
        Fixture {
            shared,
            signer,
            me_signer,
            templates,
            genuine,
            scid,
            limits: config().limits,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Wait {
    None,
    Ms(u16),
    Secs(u16),
}

#[derive(Arbitrary, Debug)]
enum Ctl {
    Ping {
        requester: u8,
        nat: u8,
        reflection: bool,
        connection: bool,
        probe: bool,
        id: u8,
        port: u16,
    },
    Pong {
        responder: u8,
        nat: u8,
        reflection: bool,
        connection: bool,
        address: u8,
        port: u16,
        id: u8,
    },
    Intro {
        requester: u8,
        responder: u8,
        rendezvous: bool,
        nat: u8,
        address: u8,
        port: u16,
    },
    Join {
        requester: u8,
        nat: u8,
        address: u8,
        port: u16,
        rendezvous: Option<(u8, u16, u64)>,
    },
}

#[derive(Arbitrary, Debug)]
enum What {
    Raw(Vec<u8>),
    Control {
        msg: Ctl,
        hops: u8,
        ours: bool,
    },
    Template {
        which: u8,
        hops: Option<u32>,
        ttl: Option<u32>,
        clock: Option<u32>,
        index: Option<i32>,
        mutations: Vec<(u16, u8)>,
        truncate: Option<u16>,
    },
    Publish(Vec<u8>),
    Query(u8),
    Sync(u8),
    Rejoin,
    Restore,
}

#[derive(Arbitrary, Debug)]
struct Step {
    wait: Wait,
    from: u8,
    socket: u8,
    what: What,
    tick: bool,
}

fn peer_hex(n: u8) -> String {
    // Mostly the known ids (us included), sometimes junk.
    match n % 16 {
        0..=9 => id([1, 2, 3, 4, 5, 9, 200, 201, 42, 43][n as usize % 16]).to_hex(),
        10 => "ZZ".repeat(32),
        11 => String::new(),
        _ => id(n).to_hex(),
    }
}

fn ip(n: u8) -> String {
    match n % 6 {
        0 => "203.0.113.9".into(),
        1 => "203.0.113.1".into(),
        2 => "::1".into(),
        3 => "not an address".into(),
        4 => "0.0.0.0".into(),
        _ => format!("198.51.100.{n}"),
    }
}

fn nat(n: u8) -> Option<NatType> {
    match n % 7 {
        0 => None,
        1 => Some(NatType::UNRESTRICTED),
        2 => Some(NatType::ADDR_RESTRICTED),
        3 => Some(NatType::PORT_RESTRICTED),
        4 => Some(NatType::ENDPOINT_RESTRICTED),
        _ => Some(NatType(n)),
    }
}

fn control(msg: &Ctl, hops: u8, ours: bool, scid: &[u8; 32]) -> Vec<u8> {
    let rid = |n: u8| format!("{:012x}", n);
    let mut p = match msg {
        Ctl::Ping {
            requester,
            nat: n,
            reflection,
            connection,
            probe,
            id,
            port,
        } => {
            let mut m = Ping::heartbeat(&peer_hex(*requester), nat(*n), 1.0, WALL as f64);
            if *reflection {
                m.set_reflection_id(&rid(*id)).set_is_reflection(true);
            }
            if *connection {
                m.set_is_connection(true).set_ping_id(&rid(*id));
            }
            if *probe {
                m.set_is_probe(true)
                    .set_probe_external_port(f64::from(*port));
            }
            m.to_packet()
        }
        Ctl::Pong {
            responder,
            nat: n,
            reflection,
            connection,
            address,
            port,
            id,
        } => {
            let mut m = Pong::new();
            m.set_requester_peer_id(&id_hex_me())
                .set_responder_peer_id(&peer_hex(*responder))
                .set_nat_type(nat(*n))
                .set_address(&ip(*address))
                .set_port(f64::from(*port));
            if *reflection {
                m.set_is_reflection(true).set_reflection_id(&rid(*id));
            }
            if *connection {
                m.set_is_connection(true).set_ping_id(&rid(*id));
            }
            m.to_packet()
        }
        Ctl::Intro {
            requester,
            responder,
            rendezvous,
            nat: n,
            address,
            port,
        } => Intro::introduce(
            &peer_hex(*requester),
            &peer_hex(*responder),
            *rendezvous,
            nat(*n).unwrap_or(NatType(0)),
            &ip(*address),
            *port,
        )
        .to_packet(),
        Ctl::Join {
            requester,
            nat: n,
            address,
            port,
            rendezvous,
        } => {
            let mut j = Join::announce(&peer_hex(*requester), nat(*n), &ip(*address), *port, "k");
            if let Some((a, p, d)) = rendezvous {
                j.set_rendezvous_address(&ip(*a))
                    .set_rendezvous_port(f64::from(*p))
                    .set_rendezvous_type(Some(NatType::UNRESTRICTED))
                    .set_rendezvous_peer_id(&peer_hex(*a))
                    .set_rendezvous_deadline((WALL as u64).wrapping_add(*d % 100_000) as f64);
            }
            j.to_packet()
        }
    }
    .unwrap();
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    if ours {
        p.set(Field::SubclusterId, scid).unwrap();
    }
    p.hops = u32::from(hops % 20);
    p.encode().unwrap()
}

fn id_hex_me() -> String {
    id(1).to_hex()
}

fn check(p: &Peer, f: &Fixture, own: &[Vec<u8>], events: &mut Vec<Event>) {
    let o = p.occupancy();
    let l = &f.limits;
    assert!(o.peers <= l.max_peers, "{o:?}");
    assert!(o.pending_pings <= l.max_pending_pings, "{o:?}");
    assert!(o.gate <= l.max_gate_entries, "{o:?}");
    assert!(o.rates <= l.max_rate_entries, "{o:?}");
    assert!(o.return_routes <= l.max_return_routes, "{o:?}");
    assert!(o.intros <= l.max_intros, "{o:?}");
    assert!(o.events <= l.max_events, "{o:?}");
    assert!(o.transmits <= l.max_transmits, "{o:?}");
    assert!(o.cache_packets <= l.max_cache_packets, "{o:?}");
    assert!(o.cache_bytes <= l.max_cache_bytes, "{o:?}");
    assert!(o.unpublished <= l.max_unpublished, "{o:?}");
    assert!(o.pending_queries <= l.max_pending_queries, "{o:?}");
    assert!(o.pending_chains <= l.reassembly.max_chains, "{o:?}");
    assert!(o.stream_chains <= l.reassembly.max_chains, "{o:?}");
    assert!(o.stream_bytes <= l.reassembly.max_bytes, "{o:?}");
    assert!(o.delivered <= l.max_delivered, "{o:?}");
    assert!(o.rejected <= l.max_delivered, "{o:?}");
    for e in events.drain(..) {
        if let Event::Packet {
            payload, publisher, ..
        } = &e
        {
            assert!(
                f.genuine.contains(payload) || own.contains(payload),
                "a made-up payload was delivered as verified: {e:?}"
            );
            assert!(
                publisher[..] == f.signer.public_key()[..]
                    || publisher[..] == f.me_signer.public_key()[..],
                "delivered as verified with another publisher: {e:?}"
            );
        }
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let f = fixture();
    let scid = f.scid;
    let mut p = prepared();
    let mut now = 0u64;
    let mut events = Vec::new();
    let mut own = Vec::new();
    for s in steps.iter().take(64) {
        now += match s.wait {
            Wait::None => 0,
            Wait::Ms(ms) => u64::from(ms),
            Wait::Secs(secs) => u64::from(secs) * 1000,
        };
        let t = Instant(now);
        let from = addr(s.from);
        let socket = match s.socket % 8 {
            0..=4 => SocketId::Main,
            5 => SocketId::Probe,
            k => SocketId::Pool(u16::from(s.socket / 8) + u16::from(k == 7) * 300),
        };
        match &s.what {
            What::Raw(b) => p.handle_datagram(t, socket, from, b),
            What::Control { msg, hops, ours } => {
                p.handle_datagram(t, socket, from, &control(msg, *hops, *ours, &scid))
            }
            What::Template {
                which,
                hops,
                ttl,
                clock,
                index,
                mutations,
                truncate,
            } => {
                let mut b = f.templates[usize::from(*which) % f.templates.len()].clone();
                // Header: magic 4, type 1, version 2, clock 4, hops 4, index 4, ttl 4.
                if let Some(c) = clock {
                    b[7..11].copy_from_slice(&c.to_be_bytes());
                }
                if let Some(h) = hops {
                    b[11..15].copy_from_slice(&(h % 32).to_be_bytes());
                }
                if let Some(i) = index {
                    b[15..19].copy_from_slice(&i.to_be_bytes());
                }
                if let Some(x) = ttl {
                    b[19..23].copy_from_slice(&x.to_be_bytes());
                }
                for (at, v) in mutations.iter().take(8) {
                    let n = b.len();
                    b[usize::from(*at) % n] = *v;
                }
                if let Some(n) = truncate {
                    let n = usize::from(*n) % (b.len() + 1);
                    b.truncate(n);
                }
                p.handle_datagram(t, socket, from, &b);
            }
            What::Publish(payload) => {
                let payload: Vec<u8> = payload
                    .iter()
                    .copied()
                    .cycle()
                    .take(payload.len() * 40)
                    .collect();
                if p.publish(t, &f.shared, "own", &payload, &PublishOptions::new())
                    .is_ok()
                {
                    own.push(payload);
                }
            }
            What::Query(n) => {
                let _ = p.query(
                    t,
                    &QueryQuestion::for_packet(&format!("{n:02x}").repeat(32)),
                );
            }
            What::Sync(n) => {
                let _ = p.sync(t, &id(2 + n % 5));
            }
            What::Rejoin => {
                p.leave(CLUSTER, f.scid);
                let _ = p.join(t, &f.shared);
            }
            What::Restore => {
                let snap = p.snapshot(t);
                p = Peer::restore(config(), t, [2; 32], &snap).expect("our own snapshot restores");
            }
        }
        if s.tick {
            p.handle_timeout(t);
        }
        while p.poll_transmit(t).is_some() {}
        while let Some(e) = p.poll_event() {
            events.push(e);
        }
        // Own publishes are not delivered back to us, but a copy of one
        // that comes back is genuine too.
        check(&p, f, &own, &mut events);
    }
});
