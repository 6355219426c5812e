//! Fuzz the opening side of the crypto: `box_seal_open` (libsodium's
//! `crypto_box_seal_open`), `ese::open` / `open_unsigned` (the reference's
//! encrypt-sign-encrypt), `verify_from_byte_64`, and `unpack_event`.
//!
//! * Arbitrary bytes never panic any of them and never open.
//! * A genuine sealed message with the fuzzer's bytes XORed into it (and
//!   maybe truncated or extended) opens only if nothing changed, and then
//!   to the original plaintext.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::ese;
use streamrelay::crypto::event::unpack_event;
use streamrelay::crypto::identity::{create_key_pair, create_shared_key, KeyPair, SubclusterKeys};
use streamrelay::crypto::sealed_box::{box_seal, box_seal_open};
use streamrelay::crypto::sign::{sign_from_byte_64, verify_from_byte_64};
use streamrelay::wire::{Field, Packet, PacketType};

struct Fixture {
    keys: SubclusterKeys,
    signer: KeyPair,
    plain: Vec<u8>,
    boxed: Vec<u8>,
    sealed: Vec<u8>,
    unsigned: Vec<u8>,
    sig: [u8; 64],
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys = SubclusterKeys::from_shared_key(&create_shared_key("fuzz-open").unwrap());
        let signer = create_key_pair("publisher").unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let plain: Vec<u8> = (0..150u32).map(|i| (i * 11) as u8).collect();
        let boxed = box_seal(&plain, keys.x25519_public_key(), &mut rng).unwrap();
        let sealed = ese::seal(&plain, &keys, &mut rng).unwrap();
        let unsigned = ese::seal_unsigned(&plain, &keys, &mut rng).unwrap();
        let sig = sign_from_byte_64(&plain, &signer);
        Fixture {
            keys,
            signer,
            plain,
            boxed,
            sealed,
            unsigned,
            sig,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Tampered {
        which: u8,
        xor: Vec<(u16, u8)>,
        truncate: Option<u16>,
        extend: Vec<u8>,
    },
    Signature {
        message: Vec<u8>,
        sig: Vec<u8>,
        key: Vec<u8>,
        tamper: Option<(u16, u8)>,
    },
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let (pk, sk) = (f.keys.x25519_public_key(), f.keys.x25519_secret_key());
    match input {
        Input::Raw(b) => {
            assert!(box_seal_open(&b, pk, sk).is_err(), "random bytes opened");
            assert!(ese::open(&b, &f.keys).is_err(), "random bytes opened");
            let _ = ese::open_unsigned(&b, &f.keys);
            let _ = ese::open_unsigned_reference(&b, &f.keys);
            let mut p = Packet::new(PacketType::Publish);
            p.set(Field::SubclusterId, &f.keys.subcluster_id()).unwrap();
            p.message = b;
            assert!(unpack_event(&p, &f.keys).is_err());
        }
        Input::Tampered {
            which,
            xor,
            truncate,
            extend,
        } => {
            let original = match which % 3 {
                0 => &f.boxed,
                1 => &f.sealed,
                _ => &f.unsigned,
            };
            let mut b = original.clone();
            for (at, v) in xor.iter().take(16) {
                let n = b.len();
                b[usize::from(*at) % n] ^= *v;
            }
            if let Some(n) = truncate {
                b.truncate(usize::from(n) % (b.len() + 1));
            }
            b.extend_from_slice(&extend);
            let same = b == *original;
            let opened = match which % 3 {
                0 => box_seal_open(&b, pk, sk).ok(),
                1 => ese::open(&b, &f.keys).ok(),
                _ => ese::open_unsigned(&b, &f.keys).ok(),
            };
            match opened {
                Some(m) => {
                    assert!(same, "a tampered message opened");
                    assert_eq!(m, f.plain);
                }
                None => assert!(!same, "the genuine message did not open"),
            }
        }
        Input::Signature {
            message,
            sig,
            key,
            tamper,
        } => {
            // Arbitrary inputs: never panic.
            let _ = verify_from_byte_64(&message, &sig, &key);
            // The genuine signature over a tampered plaintext (bytes 64 and
            // on are covered; the first 64 are not, spec §10.21).
            let mut m = f.plain.clone();
            if let Some((at, v)) = tamper {
                let i = usize::from(at) % m.len();
                m[i] ^= v;
            }
            let ok = verify_from_byte_64(&m, &f.sig, &f.signer.public_key()).unwrap();
            assert_eq!(ok, m[64..] == f.plain[64..], "signature verdict");
        }
    }
});
