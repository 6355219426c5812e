//! Crypto micro-benchmarks (spec §4): the encrypt-sign-encrypt `seal` /
//! `open` (§4.4), libsodium's sealed box alone, the reference's byte-64
//! signature, and `pack_event` (seal + sign + chain split, §4.7/§7.1).
//!
//! Every benchmark is in the criterion group `crypto`, named `<op>-<bytes>`:
//!
//! | id | what |
//! | --- | --- |
//! | `seal-100`, `seal-864` | `ese::seal` (864 B = the single-packet maximum) |
//! | `open-100`, `open-864` | `ese::open` of the above |
//! | `box_seal-1024`, `box_seal_open-1024` | `sealed_box::box_seal` / `box_seal_open` |
//! | `sign-1024`, `verify-1024` | `sign::sign_from_byte_64` / `verify_from_byte_64` |
//! | `pack-1024`, `pack-10240` | `event::pack_event` of a 1 KiB / 10 KiB payload |
//!
//! Keys are the spec's "example-shared-secret" subcluster; randomness is a
//! seeded `ChaCha20Rng`, so runs are repeatable. Each operation is checked
//! (round trip, signature verifies) before it is timed.
//!
//! Run: `cargo bench -p streamrelay --bench crypto` (about 40 s).
//! `bench/crypto/compare-crypto.sh` runs it next to native libsodium
//! (`bench/crypto/sodium_bench.c`) and prints ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::event::{pack_event, EventArgs};
use streamrelay::crypto::identity::{
    create_cluster_id, create_key_pair, create_shared_key, SubclusterKeys,
};
use streamrelay::crypto::{ese, sealed_box, sign};

/// The seal/open sizes: a small message and the single-packet maximum.
const SEAL_SIZES: [usize; 2] = [100, ese::MAX_SINGLE_PACKET_PLAINTEXT];
/// box_seal / sign / verify message size.
const KB: usize = 1024;
/// pack_event payload sizes: sealed to 1184 B (head + 2 fragments) and
/// 10400 B (head + 11 fragments).
const PACK_SIZES: [usize; 2] = [1024, 10 * 1024];

/// Deterministic, non-constant plaintext (same bytes as sodium_bench.c).
fn message(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) + 7) as u8).collect()
}

fn bench_crypto(c: &mut Criterion) {
    let shared = create_shared_key("example-shared-secret").unwrap();
    let keys = SubclusterKeys::from_shared_key(&shared);
    assert_eq!(keys.subcluster_id()[..4], [0x6a, 0x72, 0xca, 0x18]); // §4.2
    let publisher = create_key_pair("bench-publisher").unwrap();
    let cluster = create_cluster_id("example-cluster").unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);

    let mut g = c.benchmark_group("crypto");

    // §4.4 encrypt-sign-encrypt.
    for n in SEAL_SIZES {
        let m = message(n);
        let sealed = ese::seal(&m, &keys, &mut rng).unwrap();
        assert_eq!(sealed.len(), n + ese::SEAL_OVERHEAD);
        assert_eq!(ese::open(&sealed, &keys).unwrap(), m);

        g.throughput(Throughput::Bytes(n as u64));
        g.bench_function(format!("seal-{n}"), |b| {
            b.iter(|| ese::seal(black_box(&m), &keys, &mut rng).unwrap())
        });
        g.bench_function(format!("open-{n}"), |b| {
            b.iter(|| ese::open(black_box(&sealed), &keys).unwrap())
        });
    }

    // Plain sealed box (one layer).
    {
        let m = message(KB);
        let (pk, sk) = (keys.x25519_public_key(), keys.x25519_secret_key());
        let sealed = sealed_box::box_seal(&m, pk, &mut rng).unwrap();
        assert_eq!(sealed_box::box_seal_open(&sealed, pk, sk).unwrap(), m);

        g.throughput(Throughput::Bytes(KB as u64));
        g.bench_function(format!("box_seal-{KB}"), |b| {
            b.iter(|| sealed_box::box_seal(black_box(&m), pk, &mut rng).unwrap())
        });
        g.bench_function(format!("box_seal_open-{KB}"), |b| {
            b.iter(|| sealed_box::box_seal_open(black_box(&sealed), pk, sk).unwrap())
        });
    }

    // The reference's signature over message[64..].
    {
        let m = message(KB);
        let kp = keys.key_pair();
        let pk = kp.public_key();
        let sig = sign::sign_from_byte_64(&m, kp);
        assert_eq!(sign::verify_from_byte_64(&m, &sig, &pk), Ok(true));

        g.throughput(Throughput::Bytes(KB as u64));
        g.bench_function(format!("sign-{KB}"), |b| {
            b.iter(|| sign::sign_from_byte_64(black_box(&m), kp))
        });
        g.bench_function(format!("verify-{KB}"), |b| {
            b.iter(|| sign::verify_from_byte_64(black_box(&m), black_box(&sig), &pk).unwrap())
        });
    }

    // pack_event: sha256(name), sign the plaintext with the publisher's key,
    // ese::seal with the subcluster keys, split into a chain.
    for n in PACK_SIZES {
        let payload = message(n);
        let args = EventArgs::new(&cluster, "greeting", &payload);
        let now_ms = 1_700_000_000_000;
        let packets = pack_event(&args, &keys, &publisher, now_ms, &mut rng).unwrap();
        let sealed_len = n + ese::SEAL_OVERHEAD;
        assert_eq!(packets.len(), 1 + sealed_len.div_ceil(1024));

        g.throughput(Throughput::Bytes(n as u64));
        g.bench_function(format!("pack-{n}"), |b| {
            b.iter(|| pack_event(black_box(&args), &keys, &publisher, now_ms, &mut rng).unwrap())
        });
    }

    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_crypto
}
criterion_main!(benches);
