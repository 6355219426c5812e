//! Fuzz the chain reassembler (`crypto::event::Reassembler`), structure
//! aware: genuine packets of two sealed chains and a lone event, pushed in
//! any order, duplicated, with fuzzed header fields and byte mutations, mixed
//! with raw datagrams and expiry, under small limits.
//!
//! * Nothing panics; `pending_chains` and `pending_bytes` stay within the
//!   limits after every push.
//! * Every event that comes out (`receive` → `Ok(Some(_))`) carries one of
//!   the genuine payloads, and a verified one is signed by the genuine
//!   publisher: mutations can lose an event, never forge one.
//! * Whatever raw bytes, expiries and genuine packets came before, a chain
//!   that has not completed yet completes when all its genuine packets are
//!   pushed (twice, so a conflicting fragment held from before is replaced
//!   on the second pass). Not when a mutated copy of one of its packets
//!   came first: a head's `clusterId`, `subclusterId`, `usr1`, `usr2` and
//!   `sig` are outside its packetId (spec §2.5), so a tampered head takes
//!   the chain's place and completes it as an event that does not unpack;
//!   the genuine head is then a duplicate, as it is at the Peer's gate
//!   (first copy wins, spec §10.9; docs/compat.md#security).
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::event::{pack_event, EventArgs, Reassembler, ReassemblyLimits};
use streamrelay::crypto::identity::{create_key_pair, create_shared_key, KeyPair, SubclusterKeys};
use streamrelay::wire::PacketRef;

struct Fixture {
    keys: SubclusterKeys,
    signer: KeyPair,
    /// Encoded packets of each message: chain A, chain B, lone C.
    messages: Vec<Vec<Vec<u8>>>,
    payloads: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = SubclusterKeys::from_shared_key(&create_shared_key("fuzz-chains").unwrap());
        let signer = create_key_pair("publisher").unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let payloads: Vec<Vec<u8>> = vec![
            (0..3000u32).map(|i| (i * 7) as u8).collect(),
            (0..1100u32).map(|i| (i * 3) as u8).collect(),
            b"lone".to_vec(),
        ];
        let messages = payloads
            .iter()
            .map(|m| {
                pack_event(
                    &EventArgs::new(&[0xc1; 32], "e", m),
                    &keys,
                    &signer,
                    1,
                    &mut rng,
                )
                .unwrap()
                .iter()
                .map(|p| p.encode().unwrap())
                .collect()
            })
            .collect();
        Fixture {
            keys,
            signer,
            messages,
            payloads,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Op {
    Genuine {
        message: u8,
        packet: u8,
    },
    Mutated {
        message: u8,
        packet: u8,
        index: Option<i32>,
        mutations: Vec<(u16, u8)>,
        truncate: Option<u16>,
    },
    Raw(Vec<u8>),
    Expire {
        after_ms: u32,
        max_age_ms: u32,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    max_chains: u8,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let limits = ReassemblyLimits {
        max_chains: 1 + usize::from(input.max_chains % 4),
        max_bytes: 8192,
    };
    let mut r = Reassembler::new(limits);
    let mut now = 0u64;
    let mut completed = [false; 3];
    let mut tampered = [false; 3];
    let push = |r: &mut Reassembler, bytes: &[u8], now: u64, completed: &mut [bool; 3]| {
        let Ok(p) = PacketRef::decode(bytes) else {
            return;
        };
        if let Ok(Some(ev)) = r.receive(&p, now, &f.keys) {
            let k = f
                .payloads
                .iter()
                .position(|m| *m == ev.payload)
                .unwrap_or_else(|| panic!("a made-up event came out: {ev:?}"));
            completed[k] = true;
            if ev.verified {
                assert_eq!(ev.publisher[..], f.signer.public_key()[..]);
            }
        }
        assert!(r.pending_chains() <= limits.max_chains);
        assert!(r.pending_bytes() <= limits.max_bytes);
    };
    for op in input.ops.iter().take(200) {
        match op {
            Op::Genuine { message, packet } => {
                let m = &f.messages[usize::from(*message) % 3];
                push(
                    &mut r,
                    &m[usize::from(*packet) % m.len()],
                    now,
                    &mut completed,
                );
            }
            Op::Mutated {
                message,
                packet,
                index,
                mutations,
                truncate,
            } => {
                let m = &f.messages[usize::from(*message) % 3];
                tampered[usize::from(*message) % 3] = true;
                let mut b = m[usize::from(*packet) % m.len()].clone();
                if let Some(i) = index {
                    b[15..19].copy_from_slice(&i.to_be_bytes());
                }
                for (at, v) in mutations.iter().take(8) {
                    let n = b.len();
                    b[usize::from(*at) % n] = *v;
                }
                if let Some(n) = truncate {
                    let n = usize::from(*n) % (b.len() + 1);
                    b.truncate(n);
                }
                push(&mut r, &b, now, &mut completed);
            }
            Op::Raw(b) => push(&mut r, b, now, &mut completed),
            Op::Expire {
                after_ms,
                max_age_ms,
            } => {
                now += u64::from(*after_ms);
                r.expire(now, u64::from(*max_age_ms));
                assert!(r.pending_chains() <= limits.max_chains);
            }
        }
    }
    // The chains that did not complete still can.
    for k in 0..2 {
        if completed[k] || tampered[k] {
            continue;
        }
        for _ in 0..2 {
            for b in &f.messages[k] {
                push(&mut r, b, now, &mut completed);
            }
        }
        assert!(
            completed[k],
            "genuine chain {k} did not complete after the fuzzed prefix"
        );
    }
});
