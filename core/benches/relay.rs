//! The relay path of the data plane: a Publish that is not for us arrives
//! and goes through decode → id check → gate → cache → fanout → transmits
//! (three copies with `hops + 1`), as `Peer::handle_datagram` and
//! `poll_transmit_into` run it (the host's buffer, so the Peer reuses its
//! own: no allocation per packet). The cache and the gate start full, so every
//! packet also evicts (the steady state of a busy relay).
//!
//! Run: `cargo bench -p streamrelay --bench relay`.

use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use streamrelay::crypto::identity::sha256;
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Instant, Peer, Remote, SocketId};
use streamrelay::wire::control::Ping;
use streamrelay::wire::{Field, Packet, PacketType};

fn remote(s: &str) -> Remote {
    Remote::Udp(s.parse().expect("address"))
}

/// A unique Publish (its packetId is the SHA-256 of its message, as every
/// publisher makes it) of someone else's subcluster.
fn publish(i: u64, size: usize) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Publish);
    let mut m = vec![0u8; size];
    m[..8].copy_from_slice(&i.to_be_bytes());
    p.set(Field::ClusterId, &[0xc2; 32]).expect("fits");
    p.set(Field::SubclusterId, &[0x5c; 32]).expect("fits");
    p.set(Field::Usr1, &[1; 32]).expect("fits");
    p.set(Field::Usr2, &[2; 32]).expect("fits");
    p.set(Field::Sig, &[3; 64]).expect("fits");
    p.set(Field::PacketId, &sha256(&m)).expect("fits");
    p.message = m;
    p.hops = 1;
    p.encode().expect("encodes")
}

/// A relay with eight fresh peers, its cache and gate already full.
fn relay(size: usize) -> (Peer, u64) {
    let mut c = Config::new(&"07".repeat(32), Some([0xc1; 32]));
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some("203.0.113.7:1007".parse().expect("address"));
    c.limit_exempt = true;
    c.limits.max_cache_bytes = 4_000_000;
    let mut p = Peer::new(c, Instant::ZERO, [7; 32]).expect("config");
    p.handle_timeout(Instant::ZERO);
    for k in 1..=8u8 {
        let ping = Ping::nat_announcement(
            &format!("{k:02x}").repeat(32),
            Some(NatType::UNRESTRICTED),
            0.0,
            0.0,
            0.0,
        );
        let mut pk = ping.to_packet().expect("ping");
        pk.set(Field::ClusterId, &[0xc1; 32]).expect("fits");
        let from = remote(&format!("203.0.113.{k}:100{k}"));
        p.handle_datagram(
            Instant(1),
            SocketId::Main,
            from,
            &pk.encode().expect("ping"),
        );
    }
    let src = remote("198.51.100.9:9");
    let mut i = 0;
    while p.occupancy().gate < 8192 || p.metrics().evictions.iter().sum::<u64>() == 0 {
        p.handle_datagram(Instant(2), SocketId::Main, src, &publish(i, size));
        i += 1;
    }
    while p.poll_transmit(Instant(2)).is_some() {}
    while p.poll_event().is_some() {}
    (p, i)
}

fn bench_relay(c: &mut Criterion) {
    let src = remote("198.51.100.9:9");
    let mut g = c.benchmark_group("relay");
    g.throughput(Throughput::Elements(1));
    for size in [200usize, 1024] {
        let (mut peer, first) = relay(size);
        let next = Cell::new(first);
        let mut buf = [0u8; 1500];
        g.bench_function(format!("publish_not_for_us_{size}B"), |b| {
            b.iter_batched(
                || {
                    let i = next.get();
                    next.set(i + 1);
                    publish(i, size)
                },
                |bytes| {
                    peer.handle_datagram(Instant(3), SocketId::Main, src, &bytes);
                    let mut n = 0;
                    while let Ok(Some((_, _, len))) = peer.poll_transmit_into(Instant(3), &mut buf)
                    {
                        n += black_box(len);
                    }
                    n
                },
                BatchSize::SmallInput,
            )
        });
        assert!(peer.metrics().relayed > 0);
    }
    // A copy we already have: decode, id check, gate hit.
    let (mut peer, first) = relay(200);
    let seen = publish(first - 1, 200);
    g.bench_function("duplicate_200B", |b| {
        b.iter(|| {
            peer.handle_datagram(Instant(3), SocketId::Main, src, black_box(&seen));
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_relay
}
criterion_main!(benches);
