//! The Peer above the codec: what one datagram or one command costs.
//!
//! | group / id | what |
//! | --- | --- |
//! | `peer/ping` | a heartbeat Ping in, its Pong out (`handle_datagram` + `poll_transmit_into`) |
//! | `peer/publish-200` | `Peer::publish` of 200 B: seal, sign, cache, fanout to 3 peers |
//! | `peer/deliver-200` | a member receives a sealed 200 B Publish: id check, gate, cache, open, verify, `Event::Packet`, relay |
//! | `peer/chain-10240` | a member receives a 10 KiB event as a chain of 11 packets and delivers it (reassembly + open) |
//! | `peer/cache_insert_evict-200` | a Publish at 16 hops (cached, not relayed) into a full cache: insert + evict |
//! | `summary/cache-10000` | `cache::summarize("")` over 10 000 hex keys (the Sync summary, §7.8) |
//!
//! The relay path itself is `benches/relay.rs`. Run:
//! `cargo bench -p streamrelay --bench peer`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use streamrelay::crypto::identity::{create_key_pair, create_shared_key, sha256, SharedKey};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Event, Instant, Peer, PublishOptions, Remote, SocketId};
use streamrelay::wire::control::Ping;
use streamrelay::wire::{Field, Packet, PacketType};

const CLUSTER: [u8; 32] = [0xc1; 32];

fn remote(s: &str) -> Remote {
    Remote::Udp(s.parse().expect("address"))
}

fn hex_id(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn shared() -> SharedKey {
    create_shared_key("bench-subcluster").expect("key")
}

fn peer(n: u8, f: impl FnOnce(&mut Config)) -> Peer {
    let mut c = Config::new(&hex_id(n), Some(CLUSTER));
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some(format!("203.0.113.{n}:100{n}").parse().expect("address"));
    c.limit_exempt = true;
    c.signing_keys = Some(create_key_pair(&format!("bench-{n}")).expect("keys"));
    f(&mut c);
    let mut p = Peer::new(c, Instant::ZERO, [n; 32]).expect("config");
    p.handle_timeout(Instant::ZERO);
    drain(&mut p);
    p
}

fn drain(p: &mut Peer) -> usize {
    let mut buf = [0u8; 1500];
    let mut n = 0;
    while let Ok(Some((_, _, len))) = p.poll_transmit_into(Instant(1), &mut buf) {
        n += len;
    }
    while p.poll_event().is_some() {}
    n
}

fn ping_from(n: u8) -> Vec<u8> {
    let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().expect("ping");
    pk.set(Field::ClusterId, &CLUSTER).expect("fits");
    pk.encode().expect("ping")
}

/// Makes peer `n` a fresh, connected entry of `p`.
fn connect(p: &mut Peer, n: u8) {
    let from = remote(&format!("203.0.113.{n}:100{n}"));
    p.handle_datagram(Instant(1), SocketId::Main, from, &ping_from(n));
    drain(p);
}

/// A publisher and a member of the same subcluster, each with three other
/// fresh peers to relay to.
fn pair() -> (Peer, Peer) {
    let key = shared();
    let mut publisher = peer(1, |_| {});
    let mut member = peer(2, |_| {});
    publisher.join(Instant(1), &key).expect("join");
    member.join(Instant(1), &key).expect("join");
    for n in 3..6 {
        connect(&mut publisher, n);
        connect(&mut member, n);
    }
    drain(&mut publisher);
    drain(&mut member);
    (publisher, member)
}

/// The publisher's clock: a chain head carries the wall time (`ts`), so two
/// chains of the same size published in the same millisecond share a head.
static CLOCK: AtomicU64 = AtomicU64::new(2);

/// The frames of one event, as the publisher cached them.
fn publish_frames(p: &mut Peer, payload: &[u8]) -> Vec<Vec<u8>> {
    let now = Instant(CLOCK.fetch_add(1, Ordering::Relaxed));
    let ids = p
        .publish(now, &shared(), "bench", payload, &PublishOptions::new())
        .expect("publish");
    drain(p);
    ids.iter()
        .map(|id| p.cached(id).expect("cached").to_vec())
        .collect()
}

fn deliver(m: &mut Peer, frames: &[Vec<u8>]) -> usize {
    let from = remote("203.0.113.1:1001");
    for f in frames {
        m.handle_datagram(Instant(3), SocketId::Main, from, f);
    }
    let mut delivered = 0;
    while let Some(e) = m.poll_event() {
        if let Event::Packet { payload, .. } = e {
            delivered += payload.len();
        }
    }
    drain(m);
    delivered
}

fn bench_peer(c: &mut Criterion) {
    let mut g = c.benchmark_group("peer");
    g.throughput(Throughput::Elements(1));

    // A heartbeat Ping answered with a Pong.
    {
        let mut p = peer(7, |_| {});
        connect(&mut p, 8);
        let from = remote("203.0.113.8:1008");
        let ping = ping_from(8);
        let mut buf = [0u8; 1500];
        g.bench_function("ping", |b| {
            b.iter(|| {
                p.handle_datagram(Instant(2), SocketId::Main, from, black_box(&ping));
                let mut n = 0;
                while let Ok(Some((_, _, len))) = p.poll_transmit_into(Instant(2), &mut buf) {
                    n += len;
                }
                while p.poll_event().is_some() {}
                n
            })
        });
    }

    // Publish and deliver, with the crypto.
    let (mut publisher, mut member) = pair();
    let payload = vec![0x5a; 200];
    g.bench_function("publish-200", |b| {
        b.iter(|| {
            let ids = publisher
                .publish(
                    Instant(2),
                    &shared(),
                    "bench",
                    black_box(&payload),
                    &PublishOptions::new(),
                )
                .expect("publish");
            drain(&mut publisher);
            ids.len()
        })
    });
    let check = publish_frames(&mut publisher, &payload);
    assert_eq!(deliver(&mut member, &check), 200, "the member delivers");
    g.bench_function("deliver-200", |b| {
        b.iter_batched(
            || publish_frames(&mut publisher, &payload),
            |frames| deliver(&mut member, &frames),
            BatchSize::SmallInput,
        )
    });

    // A 10 KiB event: a chain of packets, reassembled and opened.
    let big = vec![0xa5; 10 * 1024];
    let check = publish_frames(&mut publisher, &big);
    assert!(check.len() > 1, "a chain");
    assert_eq!(
        deliver(&mut member, &check),
        big.len(),
        "the chain is delivered"
    );
    g.bench_function("chain-10240", |b| {
        b.iter_batched(
            || publish_frames(&mut publisher, &big),
            |frames| deliver(&mut member, &frames),
            BatchSize::SmallInput,
        )
    });

    // Cache insert + evict: Publishes at 16 hops are cached, not relayed.
    {
        let mut p = peer(9, |c| c.limits.max_cache_packets = 10_000);
        let from = remote("198.51.100.9:9");
        let mut i = 0u64;
        let mut next = || {
            i += 1;
            other_publish(i, 200, 16)
        };
        for _ in 0..12_000 {
            p.handle_datagram(Instant(2), SocketId::Main, from, &next());
        }
        assert_eq!(p.occupancy().cache_packets, 10_000);
        g.bench_function("cache_insert_evict-200", |b| {
            b.iter_batched(
                &mut next,
                |f| p.handle_datagram(Instant(2), SocketId::Main, from, &f),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    // Sync summaries (§7.8).
    let mut g = c.benchmark_group("summary");
    let keys: Vec<String> = (0..10_000u32)
        .map(|i| {
            sha256(&i.to_be_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect();
    g.bench_function("cache-10000", |b| {
        b.iter(|| streamrelay::cache::summarize("", keys.iter().map(|k| k.as_bytes())).hash)
    });
    g.finish();
}

/// A unique Publish of someone else's subcluster.
fn other_publish(i: u64, size: usize, hops: u32) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Publish);
    let mut m = vec![0u8; size];
    m[..8].copy_from_slice(&i.to_be_bytes());
    p.set(Field::ClusterId, &[0xc2; 32]).expect("fits");
    p.set(Field::SubclusterId, &[0x5c; 32]).expect("fits");
    p.set(Field::PacketId, &sha256(&m)).expect("fits");
    p.message = m;
    p.hops = hops;
    p.encode().expect("encodes")
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_peer
}
criterion_main!(benches);
