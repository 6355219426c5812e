//! Identity, signatures and encryption, byte-compatible with the reference's
//! `latica/encryption.js` (libsodium 1.0.18 underneath) and with the way
//! `latica/api.js` packs events (spec §4, §7.1–§7.3).
//!
//! * [`identity`]: seeds to keys (`createKeyPair`, `createSharedKey`,
//!   `createClusterId`, `createId`), subcluster ids, Ed25519 → X25519.
//! * [`sealed_box`]: libsodium's anonymous `crypto_box_seal` /
//!   `crypto_box_seal_open`.
//! * [`ese`]: the reference's encrypt-sign-encrypt `seal` / `open`, and its
//!   `sealUnsigned` / `openUnsigned`.
//! * [`sign`]: the reference's signature over `message[64..]`, and a correct
//!   whole-message signature for new uses.
//! * [`event`]: `api.js` event packing, chains (split and reassembly), and
//!   unpacking into [`event::ReceivedEvent`]s.
//!
//! Nothing here reads a clock or an OS random source: time (`now_ms`) and
//! randomness (`&mut impl CryptoRngCore`) are parameters. Secret material is
//! zeroised on drop. Every fallible operation returns a typed error; hostile
//! input (truncated, tampered, forged, wrong key) never panics.
//!
//! Where we deliberately differ from the reference, `docs/compat.md`
//! (section "Crypto") says so; the item docs name the entry.
//!
//! ```
//! use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! use streamrelay::crypto::{ese, identity::{create_shared_key, SubclusterKeys}};
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(7); // any CryptoRngCore
//! let shared = create_shared_key("example-shared-secret").unwrap();
//! let keys = SubclusterKeys::from_shared_key(&shared);
//! assert_eq!(
//!     keys.subcluster_id()[..4],
//!     [0x6a, 0x72, 0xca, 0x18], // spec §4.2
//! );
//! let sealed = ese::seal(b"hello", &keys, &mut rng).unwrap();
//! assert_eq!(sealed.len(), 5 + ese::SEAL_OVERHEAD);
//! assert_eq!(ese::open(&sealed, &keys).unwrap(), b"hello");
//! ```

pub mod ese;
pub mod event;
pub mod identity;
pub mod sealed_box;
pub mod sign;

pub use ese::OpenError;
pub use event::{
    pack_event, unpack_event, Assembled, ChainArgs, ChainParent, EventArgs, PackError, Reassembler,
    ReassemblyError, ReassemblyLimits, ReceiveError, ReceivedEvent, UnpackError,
};
pub use identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, subcluster_id, KeyError,
    KeyPair, Seed, SharedKey, SubclusterKeys,
};
pub use sealed_box::BoxError;
pub use sign::SignError;

/// Ed25519 public key, X25519 public key and seed length.
pub const KEY_BYTES: usize = 32;
/// libsodium's Ed25519 secret key: seed ‖ public key.
pub const SECRET_KEY_BYTES: usize = 64;
/// Ed25519 signature length (`crypto_sign_BYTES`).
pub const SIGNATURE_BYTES: usize = 64;
