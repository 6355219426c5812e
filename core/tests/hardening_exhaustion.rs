//! Resource exhaustion (issue 10): floods of unique publishes, of pings
//! from 10⁵ spoofed addresses, of chain fragments that never complete, of
//! queries and of sync requests. For each: every table stays at its cap
//! (from the config), a single flooding remote is held to its quota, and
//! legitimate traffic from other peers still gets through — measured and
//! printed (`cargo test --test hardening_exhaustion -- --nocapture`).
//!
//! Each flood is 10⁵ datagrams in a release build. A debug build (plain
//! `cargo test`) runs a fifth of that, so the suite stays fast unoptimized;
//! `STREAMRELAY_FLOOD=n` sets the size either way.

mod peer_support;

use std::time::Instant as Clock;

use peer_support::data::*;
use peer_support::*;
use streamrelay::cache::summarize;
use streamrelay::crypto::identity::sha256;
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, DropReason, Event, Eviction, Instant, Limits, Occupancy, Peer, PublishOptions, Remote,
    SocketId, Timings,
};
use streamrelay::wire::control::{Ping, Pong, QueryQuestion};
use streamrelay::wire::{Field, Packet, PacketType};

/// Datagrams per flood.
fn flood_size() -> u32 {
    std::env::var("STREAMRELAY_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            20_000
        } else {
            100_000
        })
}

/// The i-th spoofed source: a distinct IPv4 address for every i < 2²⁴.
fn spoofed(i: u32) -> Remote {
    Remote::Udp(std::net::SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + (i & 0x00ff_ffff))),
        2000 + (i % 50_000) as u16,
    ))
}

/// The one remote that floods from a single address.
const FLOODER: &str = "192.0.2.66:6666";
const ME: &str = "203.0.113.1:1001";
/// The legitimate peers: (id, address).
const LEGIT: [(u8, &str); 3] = [
    (2, "203.0.113.2:1002"),
    (3, "203.0.113.3:1003"),
    (4, "203.0.113.4:1004"),
];

/// A member of the test subcluster connected to the three legitimate peers.
fn victim(f: impl FnOnce(&mut Config)) -> Peer {
    let mut p = data_peer(1, ME, f);
    p.join(Instant::ZERO, &shared()).unwrap();
    for (n, a) in LEGIT {
        connect(&mut p, Instant::ZERO, n, a);
    }
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// Every bounded structure within the limits.
fn assert_bounded(o: &Occupancy, l: &Limits) {
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
}

/// Delivers `bytes` and keeps the queues empty, as a host does; returns the
/// transmits and the events.
fn feed(p: &mut Peer, now: Instant, from: Remote, bytes: &[u8]) -> (Vec<Remote>, Vec<Event>) {
    p.handle_datagram(now, SocketId::Main, from, bytes);
    let tx = drain_transmits(p, now)
        .into_iter()
        .map(|t| t.remote)
        .collect();
    (tx, drain_events(p))
}

fn delivered(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Packet { .. }))
        .count()
}

/// The non-zero drop counters.
fn drops(p: &Peer) -> String {
    let m = p.metrics();
    DropReason::ALL
        .iter()
        .filter(|r| m.dropped(**r) > 0)
        .map(|r| format!("{r:?} {}", m.dropped(*r)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of measurements.
fn report(
    p: &Peer,
    name: &str,
    n: u32,
    elapsed: std::time::Duration,
    legit: (usize, usize),
    extra: &str,
) {
    println!(
        "{name}: {n} flood datagrams in {elapsed:.2?} ({:.2} µs each); legitimate: {}/{} got through ({:.1} %); {extra}; drops: {}",
        elapsed.as_secs_f64() * 1e6 / f64::from(n.max(1)),
        legit.0,
        legit.1,
        100.0 * legit.0 as f64 / legit.1.max(1) as f64,
        drops(p),
    );
}

/// A unique Publish of another cluster that passes the id check.
fn foreign_publish(i: u32, size: usize) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Publish);
    let mut m = vec![0x55u8; size];
    m[..4].copy_from_slice(&i.to_be_bytes());
    p.set(Field::ClusterId, &[0xc2; 32]).unwrap();
    p.set(Field::SubclusterId, &[0x5d; 32]).unwrap();
    p.set(Field::PacketId, &sha256(&m)).unwrap();
    p.message = m;
    p.hops = 1;
    p.encode().unwrap()
}

/// Genuine events of our subcluster, one per legitimate datagram slot.
fn genuine_events(count: usize, seed: u64) -> Vec<Vec<u8>> {
    (0..count)
        .map(|k| {
            let payload = format!("legit event {k}");
            frame(
                &event_packets("legit", payload.as_bytes(), seed + k as u64).remove(0),
                1,
            )
        })
        .collect()
}

#[test]
fn a_flood_of_unique_publishes() {
    let n = flood_size();
    let mut p = victim(|c| c.limits.max_cache_bytes = 2_000_000);
    let limits = Limits {
        max_cache_bytes: 2_000_000,
        ..Limits::default()
    };
    let legit = genuine_events(60, 1000);
    let every = (n as usize / legit.len()).max(1);
    let (mut legit_sent, mut legit_ok, mut from_flooder) = (0, 0, 0u32);
    let clock = Clock::now();
    for i in 0..n {
        // Within one minute: half from one address (held to 1024 a minute),
        // half from spoofed addresses (20 each, under the quota).
        let now = Instant(10 + u64::from(i) * 50_000 / u64::from(n));
        let from = if i % 2 == 0 {
            from_flooder += 1;
            udp(FLOODER)
        } else {
            spoofed(i % 5_000)
        };
        feed(
            &mut p,
            now,
            from,
            &foreign_publish(i, 200 + (i as usize % 800)),
        );
        if i as usize % every == 0 && legit_sent < legit.len() {
            let (_, a) = LEGIT[legit_sent % 3];
            let (_, ev) = feed(&mut p, now, udp(a), &legit[legit_sent]);
            legit_sent += 1;
            legit_ok += delivered(&ev);
        }
        if i % 1000 == 0 {
            assert_bounded(&p.occupancy(), &limits);
        }
    }
    let elapsed = clock.elapsed();
    let m = p.metrics();
    let o = p.occupancy();
    let limited = m.dropped(DropReason::RateLimited);
    report(
        &p,
        "unique publishes",
        n,
        elapsed,
        (legit_ok, legit_sent),
        &format!(
            "flooder sent {from_flooder}, accepted {}, rate-limited {limited}; cache {} packets / {} bytes of {} (evicted {}); gate {}",
            u64::from(from_flooder) - limited,
            o.cache_packets,
            o.cache_bytes,
            limits.max_cache_bytes,
            m.evicted(Eviction::Cache),
            o.gate,
        ),
    );
    assert_bounded(&o, &limits);
    // The flooder's quota: 1024 Publish a minute, the 1024th and later
    // refused.
    assert_eq!(limited, u64::from(from_flooder) - 1023);
    assert!(m.evicted(Eviction::Cache) > 0, "the cache was filled");
    assert_eq!(legit_ok, legit_sent, "every legitimate event delivered");
}

fn p5_from(i: u32) -> Vec<u8> {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_be_bytes());
    id[31] = 0xaa;
    let ping = Ping::nat_announcement(&hex(&id), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.encode().unwrap()
}

fn heartbeat_from(n: u8, k: u32) -> Vec<u8> {
    Ping::heartbeat(&hex_id(n), Some(NatType::UNRESTRICTED), f64::from(k), 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap()
}

#[test]
fn pings_from_100k_spoofed_addresses() {
    // 10⁵ even in debug: pings are cheap.
    let n: u32 = std::env::var("STREAMRELAY_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // A per-address quota for control packets well under the reference's
    // 2²⁰ a minute, so that the flooding address meets it.
    let mut p = victim(|c| c.quotas.control_per_minute = 4096);
    // The legitimate peers answer our heartbeat: a round trip proves their
    // address (a spoofed source cannot answer).
    p.handle_timeout(Instant(30_000));
    drain_transmits(&mut p, Instant(30_000));
    for (n, a) in LEGIT {
        let mut pong = Pong::new();
        pong.set_requester_peer_id(&hex_id(1))
            .set_responder_peer_id(&hex_id(n))
            .set_address("203.0.113.1")
            .set_port(1001.0)
            .set_nat_type(Some(NatType::UNRESTRICTED));
        feed(
            &mut p,
            Instant(30_020),
            udp(a),
            &pong.to_packet().unwrap().encode().unwrap(),
        );
        assert!(p.peer(&id(n)).unwrap().rtt_ms.is_some());
    }
    let limits = Limits::default();
    let (mut legit_sent, mut legit_ok, mut legit_in_table) = (0usize, 0usize, 0usize);
    let (mut flooder_sent, mut flooder_answered) = (0u32, 0u32);
    let mut spoofed_answers = 0u64;
    let clock = Clock::now();
    for i in 0..n {
        // Still within the first minute (the quota's bucket).
        let now = Instant(30_100 + u64::from(i) * 25_000 / u64::from(n));
        // Connection pings (they make table entries) from spoofed sources,
        // and heartbeats from one address.
        if i % 4 == 0 {
            flooder_sent += 1;
            let (tx, _) = feed(&mut p, now, udp(FLOODER), &heartbeat_from(66, i));
            flooder_answered += tx.iter().filter(|r| **r == udp(FLOODER)).count() as u32;
        } else {
            let (tx, _) = feed(&mut p, now, spoofed(i), &p5_from(i));
            spoofed_answers += tx.len() as u64;
        }
        if i % 500 == 0 {
            let (n, a) = LEGIT[(i / 500) as usize % 3];
            let (tx, _) = feed(&mut p, now, udp(a), &heartbeat_from(n, i));
            legit_sent += 1;
            legit_ok += usize::from(tx.contains(&udp(a)));
            legit_in_table += usize::from(p.peer(&id(n)).is_some());
        }
        if i % 1000 == 0 {
            assert_bounded(&p.occupancy(), &limits);
        }
    }
    let elapsed = clock.elapsed();
    let m = p.metrics();
    let o = p.occupancy();
    report(
        &p,
        "pings from spoofed addresses",
        n,
        elapsed,
        (legit_ok, legit_sent),
        &format!(
            "legitimate peers in the table right after their ping {legit_in_table}/{legit_sent}; \
             flooder sent {flooder_sent}, answered {flooder_answered}; {spoofed_answers} datagrams to spoofed \
             sources ({:.2} per ping); table {} of {} (evicted {}); rates {} of {} (evicted {})",
            spoofed_answers as f64 / f64::from(n - flooder_sent),
            o.peers,
            limits.max_peers,
            m.evicted(Eviction::Peer),
            o.rates,
            limits.max_rate_entries,
            m.evicted(Eviction::Rate),
        ),
    );
    assert_bounded(&o, &limits);
    assert_eq!(o.peers, limits.max_peers);
    // The flooder: 4095 answered, the rest refused.
    assert_eq!(flooder_answered, 4095);
    assert_eq!(
        m.dropped(DropReason::RateLimited),
        u64::from(flooder_sent - 4095)
    );
    // Every legitimate ping answered, and its sender (back) in the table.
    assert_eq!(legit_ok, legit_sent);
    assert_eq!(legit_in_table, legit_sent);
    // At most a Pong and a Sync (first contact) per spoofed ping: no
    // amplification in datagram count.
    assert!(spoofed_answers <= 2 * u64::from(n - flooder_sent));
}

/// A fragment (index ≥ 1) of a chain whose head never comes, in our
/// subcluster (Publish), or a Stream to us.
fn orphan_fragment(i: u32, scid: &[u8; 32], t: PacketType) -> Vec<u8> {
    let mut p = Packet::new(t);
    let mut head = [0u8; 32];
    head[..4].copy_from_slice(&i.to_be_bytes());
    let head = sha256(&head);
    let mut m = vec![0x77u8; 1024];
    m[..4].copy_from_slice(&i.to_be_bytes());
    p.index = 1 + (i % 3) as i32;
    p.set(Field::ClusterId, &CLUSTER).unwrap();
    p.set(Field::SubclusterId, scid).unwrap();
    p.set(Field::PreviousId, &head).unwrap();
    p.set(Field::PacketId, &sha256(&m)).unwrap();
    if t == PacketType::Stream {
        p.set(Field::Usr3, &id(1).0).unwrap();
        p.set(Field::Usr4, &id(2 + (i % 3) as u8).0).unwrap();
    }
    p.message = m;
    p.hops = 1;
    p.encode().unwrap()
}

#[test]
fn chain_fragments_that_never_complete() {
    let n = flood_size();
    let cap = 2_000_000;
    let mut p = victim(|c| {
        c.limits.max_cache_bytes = cap;
        c.limit_exempt = true;
    });
    let limits = Limits {
        max_cache_bytes: cap,
        ..Limits::default()
    };
    let scid = scid();
    // Legitimate: a 3-KB chain (head and 4 fragments) now and then. (Sizes
    // differ: a head is `{"meta","ts","size","indexes"}` and its id the
    // hash of that, so two chains of one size and time share a head id.)
    let chains: Vec<Vec<Vec<u8>>> = (0..12)
        .map(|k| {
            event_packets("chain", &vec![k as u8; 3000 + k as usize], 2000 + k)
                .iter()
                .map(|q| frame(q, 1))
                .collect()
        })
        .collect();
    let every = (n as usize / chains.len()).max(1);
    let (mut legit_sent, mut legit_ok) = (0usize, 0usize);
    let mut max_timers = 0;
    let clock = Clock::now();
    let mut now = Instant(10);
    for i in 0..n {
        now = Instant(10 + u64::from(i) * 20);
        let t = if i % 2 == 0 {
            PacketType::Publish
        } else {
            PacketType::Stream
        };
        // Streams come from table peers (strangers' are refused anyway).
        let from = if t == PacketType::Stream {
            udp(LEGIT[i as usize % 3].1)
        } else {
            spoofed(i)
        };
        feed(&mut p, now, from, &orphan_fragment(i, &scid, t));
        if i as usize % every == every / 2 && legit_sent < chains.len() {
            let mut got = 0;
            for f in &chains[legit_sent] {
                got += delivered(&feed(&mut p, now, udp(LEGIT[0].1), f).1);
            }
            legit_sent += 1;
            legit_ok += got;
        }
        if i % 2000 == 0 {
            // The timers: missing-link queries, chain expiry, ticks.
            p.handle_timeout(now);
            drain_transmits(&mut p, now);
            drain_events(&mut p);
            let o = p.occupancy();
            max_timers = max_timers.max(o.timers);
            assert_bounded(&o, &limits);
        }
    }
    let elapsed = clock.elapsed();
    p.handle_timeout(now);
    drain_transmits(&mut p, now);
    let m = p.metrics();
    let o = p.occupancy();
    report(
        &p,
        "chain fragments that never complete",
        n,
        elapsed,
        (legit_ok, legit_sent),
        &format!(
            "pending chains {} (cap {}), stream buffer {} chains / {} bytes (caps {} / {}), chains evicted {}, \
             link queries {}, pending questions {} (cap {}), timers peak {max_timers}, cache {} bytes of {cap}",
            o.pending_chains,
            limits.reassembly.max_chains,
            o.stream_chains,
            o.stream_bytes,
            limits.reassembly.max_chains,
            limits.reassembly.max_bytes,
            m.evicted(Eviction::Chain),
            m.link_queries,
            o.pending_queries,
            limits.max_pending_queries,
            o.cache_bytes,
        ),
    );
    assert_bounded(&o, &limits);
    assert!(m.evicted(Eviction::Chain) > 0);
    assert!(
        max_timers < 4 * limits.reassembly.max_chains + 64,
        "{max_timers} timers"
    );
    assert_eq!(legit_ok, legit_sent, "every legitimate chain delivered");
}

fn question(i: u32, wall: i64, want: &str) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Query);
    // A question's id is the hash of its text (§2.5): the same question
    // twice within a tick is a duplicate, so each asker's differs.
    let mut q = QueryQuestion::for_packet(want);
    q.0.insert("n", streamrelay::wire::json::JsValue::Number(f64::from(i)));
    p.message = q.to_json().into_bytes();
    p.set(Field::Usr1, wall.to_string().as_bytes()).unwrap();
    let mut qid = [0u8; 32];
    qid[..4].copy_from_slice(&i.to_be_bytes());
    qid[31] = 0x99;
    p.set(Field::Usr3, &qid).unwrap();
    p.set(Field::Usr4, b"1").unwrap();
    p.encode().unwrap()
}

#[test]
fn a_flood_of_queries() {
    let n = flood_size();
    let mut p = victim(|c| c.quotas.control_per_minute = 4096);
    let limits = Limits::default();
    // Something cached that the legitimate peers ask for.
    let ids = p
        .publish(
            Instant(1),
            &shared(),
            "x",
            b"asked for",
            &PublishOptions::new(),
        )
        .unwrap();
    drain_transmits(&mut p, Instant(1));
    let want = hex(&ids[0]);
    let (mut legit_sent, mut legit_ok) = (0usize, 0usize);
    let (mut flooder_sent, mut flooder_relayed) = (0u32, 0u64);
    let mut relayed = 0u64;
    let clock = Clock::now();
    for i in 0..n {
        let now = Instant(10 + u64::from(i) * 50_000 / u64::from(n));
        let wall = WALL + now.as_millis() as i64;
        let q = question(i, wall, &hex(&sha256(&i.to_be_bytes())));
        if i % 4 == 0 {
            flooder_sent += 1;
            flooder_relayed += feed(&mut p, now, udp(FLOODER), &q).0.len() as u64;
        } else {
            relayed += feed(&mut p, now, spoofed(i), &q).0.len() as u64;
        }
        if i % 500 == 0 {
            let (_, a) = LEGIT[(i / 500) as usize % 3];
            let (tx, _) = feed(&mut p, now, udp(a), &question(n + i, wall, &want));
            legit_sent += 1;
            legit_ok += usize::from(tx == [udp(a)]);
        }
        if i % 1000 == 0 {
            p.handle_timeout(now);
            drain_transmits(&mut p, now);
            drain_events(&mut p);
            assert_bounded(&p.occupancy(), &limits);
        }
    }
    let elapsed = clock.elapsed();
    let m = p.metrics();
    let o = p.occupancy();
    report(
        &p,
        "queries",
        n,
        elapsed,
        (legit_ok, legit_sent),
        &format!(
            "flooder sent {flooder_sent}, relayed {flooder_relayed} copies, rate-limited {}; \
             spoofed questions relayed {relayed} copies, answered 0; return routes {} (cap {}, evicted {}); gate {}; \
             queries answered {}",
            m.dropped(DropReason::RateLimited),
            o.return_routes,
            limits.max_return_routes,
            m.evicted(Eviction::ReturnRoute),
            o.gate,
            m.queries_answered,
        ),
    );
    assert_bounded(&o, &limits);
    assert_eq!(
        m.dropped(DropReason::RateLimited),
        u64::from(flooder_sent - 4095)
    );
    // Only the legitimate peers' questions were answered (strangers' are
    // relayed, never answered: no cached packet goes to a spoofed address).
    assert_eq!(m.queries_answered as usize, legit_ok);
    assert_eq!(legit_ok, legit_sent);
}

fn sync_request(i: u32, prefix: &str) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Sync);
    // A summary that differs from ours: a key (64 hex) we do not have.
    let k = hex(&sha256(&i.to_be_bytes()));
    p.message = summarize(prefix, [k.as_bytes()]).encode();
    p.set(Field::Usr4, b"0").unwrap();
    p.encode().unwrap()
}

#[test]
fn a_flood_of_sync_requests() {
    let n = flood_size();
    let mut p = victim(|c| {
        c.quotas.control_per_minute = 4096;
        c.limits.max_sync_sends = 64;
        c.limits.max_sync_sends_per_window = 128;
    });
    let limits = Limits {
        max_sync_sends: 64,
        max_sync_sends_per_window: 128,
        ..Limits::default()
    };
    let window_ms = Timings::default().sync_window_ms;
    // 300 cached packets.
    for k in 0..300u32 {
        p.publish(
            Instant(1),
            &shared(),
            "c",
            &k.to_be_bytes(),
            &PublishOptions::new(),
        )
        .unwrap();
    }
    drain_transmits(&mut p, Instant(1));
    let (mut legit_sent, mut legit_ok) = (0usize, 0usize);
    let (mut known_sent, mut known_answers) = (0u32, 0u64);
    let mut to_strangers = 0u64;
    let clock = Clock::now();
    for i in 0..n {
        let now = Instant(10 + u64::from(i) * 50_000 / u64::from(n));
        if i % 4 == 0 {
            // From a table peer's address (it may be spoofed: UDP sources
            // are not authenticated).
            known_sent += 1;
            known_answers += feed(&mut p, now, udp(LEGIT[2].1), &sync_request(i, ""))
                .0
                .len() as u64;
        } else {
            to_strangers += feed(&mut p, now, spoofed(i), &sync_request(i, "")).0.len() as u64;
        }
        if i % 500 == 0 {
            let (_, a) = LEGIT[(i / 500) as usize % 2];
            let (tx, _) = feed(&mut p, now, udp(a), &sync_request(n + i, ""));
            legit_sent += 1;
            legit_ok += usize::from(!tx.is_empty() && tx.iter().all(|r| *r == udp(a)));
        }
        if i % 1000 == 0 {
            assert_bounded(&p.occupancy(), &limits);
        }
    }
    let elapsed = clock.elapsed();
    let m = p.metrics();
    let o = p.occupancy();
    report(
        &p,
        "sync requests",
        n,
        elapsed,
        (legit_ok, legit_sent),
        &format!(
            "to spoofed strangers: {to_strangers} datagrams ({} refused as unsolicited); \
             from one table peer's address: {known_sent} requests, {known_answers} datagrams back \
             ({:.2} per request, at most {} each and {} per {} ms), rate-limited {}, \
             over budget {}",
            m.dropped(DropReason::Unsolicited),
            known_answers as f64 / f64::from(known_sent),
            limits.max_sync_sends,
            limits.max_sync_sends_per_window,
            window_ms,
            m.dropped(DropReason::RateLimited),
            m.dropped(DropReason::SyncBudget),
        ),
    );
    assert_bounded(&o, &limits);
    assert_eq!(to_strangers, 0, "nothing goes to a stranger");
    // 4096 a minute from that address, its connection ping included.
    assert_eq!(
        m.dropped(DropReason::RateLimited),
        u64::from(known_sent - 4094)
    );
    // However many Syncs come from that (spoofable) address, what goes
    // back to it is bounded over time: one full bucket, then the refill
    // (`max_sync_sends_per_window` per `sync_window_ms`) over the 50 s the
    // flood lasts (docs/compat.md#amplification).
    let per_window = limits.max_sync_sends_per_window as u64;
    let bound = per_window + 50_000 * per_window / window_ms;
    assert!(
        known_answers <= bound,
        "{known_answers} datagrams back, bound {bound}"
    );
    // Not a trickle either: the budget is used.
    assert!(known_answers >= bound / 2, "{known_answers}");
    assert!(m.dropped(DropReason::SyncBudget) > 0);
    assert_eq!(legit_ok, legit_sent);
}
