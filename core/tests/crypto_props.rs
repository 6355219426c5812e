//! Property tests of `streamrelay::crypto`: seal/open round trips, single-bit
//! flips, event packing through the reassembler in any order, and hostile
//! packets that must never panic.

use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use streamrelay::crypto::ese;
use streamrelay::crypto::event::{pack_event, EventArgs, Reassembler, ReassemblyLimits};
use streamrelay::crypto::identity::{KeyPair, SharedKey, SubclusterKeys};
use streamrelay::crypto::sealed_box::{box_seal, box_seal_open};
use streamrelay::wire::{Packet, PacketRef, PacketType};

fn keys(k: [u8; 32]) -> SubclusterKeys {
    SubclusterKeys::from_shared_key(&SharedKey::from_bytes(k))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ese_round_trip(m in proptest::collection::vec(any::<u8>(), 0..3000), k in any::<[u8; 32]>(), seed in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = keys(k);
        let c = ese::seal(&m, &keys, &mut rng).unwrap();
        prop_assert_eq!(c.len(), m.len() + ese::SEAL_OVERHEAD);
        prop_assert_eq!(ese::open(&c, &keys).unwrap(), m.clone());
        let u = ese::seal_unsigned(&m, &keys, &mut rng).unwrap();
        prop_assert_eq!(ese::open_unsigned(&u, &keys).unwrap(), m);
    }

    #[test]
    fn ese_any_bit_flip_fails(m in proptest::collection::vec(any::<u8>(), 0..200), k in any::<[u8; 32]>(), seed in any::<u64>(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = keys(k);
        let mut c = ese::seal(&m, &keys, &mut rng).unwrap();
        let i = pos.index(c.len());
        c[i] ^= 1 << bit;
        prop_assert!(ese::open(&c, &keys).is_err());
        // Truncated or extended: refused too.
        c[i] ^= 1 << bit;
        prop_assert!(ese::open(&c[..i], &keys).is_err());
        let mut longer = c.clone();
        longer.push(0);
        prop_assert!(ese::open(&longer, &keys).is_err());
    }

    #[test]
    fn box_round_trip_and_bit_flip(m in proptest::collection::vec(any::<u8>(), 0..300), k in any::<[u8; 32]>(), seed in any::<u64>(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = keys(k);
        let (pk, sk) = (keys.x25519_public_key(), keys.x25519_secret_key());
        let mut c = box_seal(&m, pk, &mut rng).unwrap();
        prop_assert_eq!(box_seal_open(&c, pk, sk).unwrap(), m);
        let i = pos.index(c.len());
        c[i] ^= 1 << bit;
        prop_assert!(box_seal_open(&c, pk, sk).is_err());
    }

    #[test]
    fn open_with_other_key_fails(m in proptest::collection::vec(any::<u8>(), 0..100), a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        prop_assume!(a != b);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let c = ese::seal(&m, &keys(a), &mut rng).unwrap();
        prop_assert!(ese::open(&c, &keys(b)).is_err());
    }

    #[test]
    fn open_garbage_never_panics(c in proptest::collection::vec(any::<u8>(), 0..400), k in any::<[u8; 32]>()) {
        let keys = keys(k);
        prop_assert!(ese::open(&c, &keys).is_err());
        let _ = ese::open_unsigned(&c, &keys);
    }

    #[test]
    fn events_reassemble_in_any_order(n in 0usize..5000, seed in any::<u64>(), shuffle in any::<u64>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = keys([3; 32]);
        let me = KeyPair::from_seed(&[4; 32]);
        let payload: Vec<u8> = (0..n).map(|i| (i as u64 ^ seed) as u8).collect();
        let packets = pack_event(&EventArgs::new(&[9; 32], "e", &payload), &keys, &me, 1, &mut rng).unwrap();
        let mut frames: Vec<Vec<u8>> = packets.iter().map(|p| p.encode().unwrap()).collect();
        // Fisher-Yates with a cheap generator.
        let mut x = shuffle | 1;
        for i in (1..frames.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            frames.swap(i, (x % (i as u64 + 1)) as usize);
        }
        // Duplicates are harmless.
        frames.push(frames[0].clone());
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let mut got = Vec::new();
        for f in &frames {
            if let Some(e) = r.receive(&PacketRef::decode(f).unwrap(), 0, &keys).unwrap() {
                got.push(e);
            }
        }
        // One delivery per chain; a lone packet again is the gate's job.
        prop_assert_eq!(got.len(), if packets.len() == 1 { 2 } else { 1 });
        prop_assert_eq!(&got[0].payload, &payload);
        prop_assert!(got[0].verified);
        prop_assert_eq!(r.pending_chains(), 0);
        prop_assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn hostile_chain_packets_never_panic(
        ops in proptest::collection::vec(
            (-2i32..6, 0usize..4, any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..1100)),
            0..60,
        )
    ) {
        // Heads that pass validation (sizes 100, 1124, 2148, 3172), fragments
        // that point at them, lengths that often fit, ids that rarely do.
        let head_msg = |h: usize| format!(r#"{{"meta":{{}},"ts":1,"size":{},"indexes":{}}}"#, 1024 * h + 100, h + 1).into_bytes();
        let keys = keys([5; 32]);
        let mut r = Reassembler::new(ReassemblyLimits { max_chains: 3, max_bytes: 4096 });
        for (index, h, fit, chain_id, mut message) in ops {
            let mut p = Packet::new(PacketType::Publish);
            p.index = index;
            let head = head_msg(h);
            let head_id = streamrelay::crypto::identity::sha256(&head);
            if index == 0 {
                p.message = head;
                p.packet_id = streamrelay::wire::packet::IdField::from_slice(&head_id).unwrap();
            } else {
                if fit {
                    let want = if index as usize <= h { 1024 } else { 100 };
                    message.resize(want, 7);
                }
                message.truncate(1024);
                p.message = message;
                p.previous_id = streamrelay::wire::packet::IdField::from_slice(&head_id).unwrap();
                if chain_id {
                    p.packet_id = streamrelay::wire::packet::IdField::from_slice(&head_id).unwrap();
                }
            }
            let _ = r.receive(&p.as_ref(), 0, &keys);
            prop_assert!(r.pending_chains() <= 3);
            prop_assert!(r.pending_bytes() <= 4096);
        }
    }
}
