//! Codec micro-benchmarks: `PacketRef::decode`, `encode_into` and
//! `compute_packet_id` on representative packets.
//!
//! The packets are built here with the `Packet` API from the inputs of the
//! spec's §2.8/§2.9 examples (plus a 1421-byte Publish with every field at its
//! maximum). They are the same bytes as `bench/packets.json`, which
//! `bench/node/make-packets.mjs` builds with the reference and from which
//! `bench/node/codec-bench.mjs` times the reference; the bench checks that the
//! two agree before measuring, so both sides always time identical bytes.
//!
//! Run: `cargo bench -p streamrelay --bench codec` (about a minute).
//! `bench/compare-codec.sh` runs it next to the reference and prints ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use streamrelay::wire::json::{self, JsValue};
use streamrelay::wire::{compute_packet_id, Field, Packet, PacketRef, PacketType};

/// §2.8: SHA-256("example-cluster").
const CLUSTER_ID: &str = "dd3b93cd8a3869b3342cd1d042b7aad4a31f84f1b4a623d13784e19ee6f89f78";
/// §2.8: Ed25519 public key of the "example-shared-secret" subcluster.
const SUBCLUSTER_ID: &str = "6a72ca18c6fcbb6313fbd3a7cbb8307e1fd5aaae85679eb776b996616d029f29";
/// §2.8: SHA-256("greeting").
const USR1_GREETING: &str = "18f6b0200b6fd32ce4e85b6c841f72247964195b8e1cd7c52e046dc51e48f779";
/// §2.9: `createId("example-peer")`.
const PEER_ID: &str = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";

/// Name of the packet whose encode is also timed with a default packetId
/// (so the encoder hashes, rule (a)). Same name in `bench/packets.json`.
const HASH_VARIANT: &str = "join-381";

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn sha256(b: &[u8]) -> [u8; 32] {
    compute_packet_id(&[], b, &[])
}

fn set(p: &mut Packet, f: Field, v: &[u8]) {
    p.set(f, v).expect("field fits");
}

/// The benchmark packets, each with its packetId still at the default `00`
/// when the reference would compute it (rule (a)). In the same order as
/// `bench/packets.json`.
fn build_packets() -> Vec<(&'static str, Packet)> {
    let cluster = hex(CLUSTER_ID);
    let subcluster = hex(SUBCLUSTER_ID);

    // §2.9 Ping (P1 heartbeat keys), 256 bytes.
    let mut ping = Packet::new(PacketType::Ping);
    set(&mut ping, Field::ClusterId, &cluster);
    ping.message = format!(
        r#"{{"requesterPeerId":"{PEER_ID}","natType":7,"uptime":60000,"timestamp":1700000000000}}"#
    )
    .into_bytes();

    // §2.9 Join (J1 keys), 381 bytes.
    let mut join = Packet::new(PacketType::Join);
    join.clock = 7;
    set(&mut join, Field::ClusterId, &cluster);
    set(&mut join, Field::SubclusterId, &subcluster);
    join.message = format!(
        r#"{{"requesterPeerId":"{PEER_ID}","natType":7,"address":"203.0.113.5","port":40000,"key":"3TuTzYo4abM0LNHQQreq1KMfhPG0piPRN4Thnub4n3g=:anLKGMb8u2MT+9Ony7gwfh/Vqq6FZ563drmWYW0Cnyk="}}"#
    )
    .into_bytes();

    // §2.8 Publish, 184 bytes.
    let mut publish = Packet::new(PacketType::Publish);
    set(&mut publish, Field::ClusterId, &cluster);
    set(&mut publish, Field::SubclusterId, &subcluster);
    set(&mut publish, Field::Usr1, &hex(USR1_GREETING));
    publish.message = b"hello".to_vec();

    // A Publish with every variable field at its maximum: 1421 bytes. The
    // packetId is set (rule (b): SHA-256 of the message), as a real publish.
    let mut max = Packet::new(PacketType::Publish);
    max.clock = 3;
    max.hops = 2;
    let message: Vec<u8> = (0..1024u32).map(|i| (i * 31 + 7) as u8).collect();
    let sig: Vec<u8> = (0..64u32).map(|i| (i * 13 + 5) as u8).collect();
    set(&mut max, Field::ClusterId, &cluster);
    set(&mut max, Field::SubclusterId, &subcluster);
    set(&mut max, Field::PreviousId, &sha256(b"previous"));
    set(&mut max, Field::PacketId, &sha256(&message));
    set(&mut max, Field::NextId, &sha256(b"next"));
    set(&mut max, Field::Usr1, &hex(USR1_GREETING));
    set(&mut max, Field::Usr2, &sha256(b"publisher"));
    set(&mut max, Field::Usr3, &sha256(b"usr3"));
    set(&mut max, Field::Usr4, &sha256(b"usr4"));
    set(&mut max, Field::Sig, &sig);
    max.message = message;

    // §2.9 default Sync, 87 bytes.
    let sync = Packet::new(PacketType::Sync);

    vec![
        ("ping-256", ping),
        ("join-381", join),
        ("publish-184", publish),
        ("publish-1421", max),
        ("sync-87", sync),
    ]
}

/// The packets of `bench/packets.json` as (name, bytes), if the file exists.
fn packets_json() -> Option<Vec<(String, Vec<u8>)>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/packets.json");
    let text = std::fs::read(path).ok()?;
    let v = json::parse(&text).expect("bench/packets.json is JSON");
    let list = v
        .get("packets")
        .and_then(JsValue::as_array)
        .expect("bench/packets.json: packets[]");
    Some(
        list.iter()
            .map(|p| {
                let name = p.get("name").and_then(JsValue::as_str).expect("name");
                let h = p.get("hex").and_then(JsValue::as_str).expect("hex");
                (name.to_string(), hex(h))
            })
            .collect(),
    )
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// packetId set: encoding does not hash.
    finalized: Packet,
    /// packetId as built (default `00` for rule-(a) packets).
    as_built: Packet,
}

fn cases() -> Vec<Case> {
    let cases: Vec<Case> = build_packets()
        .into_iter()
        .map(|(name, as_built)| {
            let bytes = as_built.encode().expect("encode");
            let mut finalized = as_built.clone();
            finalized.finalize_packet_id();
            assert_eq!(finalized.encode().unwrap(), bytes, "{name}: finalized");
            assert!(PacketRef::decode(&bytes).is_ok(), "{name}: decodes");
            Case {
                name,
                bytes,
                finalized,
                as_built,
            }
        })
        .collect();
    let expected_len = [256, 381, 184, 1421, 87];
    for (c, n) in cases.iter().zip(expected_len) {
        assert_eq!(c.bytes.len(), n, "{}: frame length", c.name);
    }
    match packets_json() {
        Some(file) => {
            let names: Vec<&str> = file.iter().map(|(n, _)| n.as_str()).collect();
            let ours: Vec<&str> = cases.iter().map(|c| c.name).collect();
            assert_eq!(names, ours, "bench/packets.json lists other packets");
            for (c, (_, b)) in cases.iter().zip(&file) {
                assert!(
                    c.bytes == *b,
                    "{}: Packet API bytes differ from bench/packets.json (the reference's)",
                    c.name
                );
            }
        }
        None => eprintln!("warning: bench/packets.json not found; not cross-checked"),
    }
    cases
}

fn bench_codec(c: &mut Criterion) {
    let cases = cases();

    let mut g = c.benchmark_group("decode");
    for case in &cases {
        g.throughput(Throughput::Bytes(case.bytes.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(case.name), |b| {
            b.iter(|| PacketRef::decode(black_box(&case.bytes)).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("encode");
    let mut out = [0u8; 1421];
    for case in &cases {
        g.throughput(Throughput::Bytes(case.bytes.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(case.name), |b| {
            b.iter(|| {
                black_box(&case.finalized)
                    .encode_into(black_box(&mut out[..]))
                    .unwrap()
            })
        });
    }
    let case = cases.iter().find(|c| c.name == HASH_VARIANT).unwrap();
    assert!(case.as_built.as_ref().packet_id_is_default());
    g.throughput(Throughput::Bytes(case.bytes.len() as u64));
    g.bench_function(
        BenchmarkId::from_parameter(format!("{}-hash", case.name)),
        |b| {
            b.iter(|| {
                black_box(&case.as_built)
                    .encode_into(black_box(&mut out[..]))
                    .unwrap()
            })
        },
    );
    g.finish();

    let mut g = c.benchmark_group("packet_id");
    let message: Vec<u8> = (0..1024u32).map(|i| (i * 31 + 7) as u8).collect();
    let prev = [0u8];
    let next = [0u8];
    g.throughput(Throughput::Bytes(1024));
    g.bench_function(BenchmarkId::from_parameter("message-1024"), |b| {
        b.iter(|| compute_packet_id(black_box(&prev), black_box(&message), black_box(&next)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_codec
}
criterion_main!(benches);
