//! The reference's `Encryption.seal` / `open` (encrypt, sign, encrypt; spec
//! §4.4) and `sealUnsigned` / `openUnsigned` (§4.5), with the subcluster key
//! pair `(pk, sk)` and its X25519 conversions:
//!
//! ```text
//! seal(m):  c1  = box_seal(m, X(pk))             |m| + 48
//!           s   = Ed25519_sign(c1, sk)           over the whole of c1
//!           out = box_seal(s ‖ c1, X(pk))        |m| + 160
//! ```
//!
//! The signing key is the *shared* subcluster key: the signature proves
//! membership, not authorship (spec §10.23).

use alloc::vec::Vec;

use super::identity::SubclusterKeys;
use super::sealed_box::{box_seal, box_seal_open, BoxError};
use super::sign::{sign_message, verify_message};
use super::SIGNATURE_BYTES;

/// Bytes [`seal`] adds: two sealed boxes (2 × 48) and a signature (64).
pub const SEAL_OVERHEAD: usize = 160;
/// Bytes [`seal_unsigned`] adds: two sealed boxes.
pub const SEAL_UNSIGNED_OVERHEAD: usize = 96;
/// The largest plaintext whose [`seal`] fits one packet (1024 − 160); a
/// longer one is split into a chain.
pub const MAX_SINGLE_PACKET_PLAINTEXT: usize = 864;

/// Why [`open`] failed. The reference throws in all three cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// A sealed box (outer or inner) does not open with the subcluster key.
    #[error("cannot open sealed box: {0}")]
    Box(#[from] BoxError),
    /// The outer box holds 64 bytes or less (`EMALFORMED`).
    #[error("EMALFORMED")]
    Malformed,
    /// The inner signature does not verify (`ENOTVERIFIED`).
    #[error("ENOTVERIFIED")]
    NotVerified,
}

/// `Encryption.seal(message, keys)`: `|message| + 160` bytes.
pub fn seal(
    message: &[u8],
    keys: &SubclusterKeys,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Vec<u8>, BoxError> {
    let pk = keys.x25519_public_key();
    let c1 = box_seal(message, pk, rng)?;
    let sig = sign_message(&c1, keys.key_pair());
    let mut inner = Vec::with_capacity(SIGNATURE_BYTES + c1.len());
    inner.extend_from_slice(&sig);
    inner.extend_from_slice(&c1);
    box_seal(&inner, pk, rng)
}

/// `Encryption.open(message, keys)`.
pub fn open(sealed: &[u8], keys: &SubclusterKeys) -> Result<Vec<u8>, OpenError> {
    let (pk, sk) = (keys.x25519_public_key(), keys.x25519_secret_key());
    let inner = box_seal_open(sealed, pk, sk)?;
    if inner.len() <= SIGNATURE_BYTES {
        return Err(OpenError::Malformed);
    }
    let (sig, c1) = inner.split_at(SIGNATURE_BYTES);
    let mut s = [0u8; SIGNATURE_BYTES];
    s.copy_from_slice(sig);
    if !verify_message(c1, &s, &keys.subcluster_id()) {
        return Err(OpenError::NotVerified);
    }
    Ok(box_seal_open(c1, pk, sk)?)
}

/// `Encryption.sealUnsigned(message, keys)`: two nested sealed boxes,
/// `|message| + 96` bytes, no signature.
pub fn seal_unsigned(
    message: &[u8],
    keys: &SubclusterKeys,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Vec<u8>, BoxError> {
    let pk = keys.x25519_public_key();
    let inner = box_seal(message, pk, rng)?;
    box_seal(&inner, pk, rng)
}

/// `Encryption.openUnsigned(message, keys)` exactly as the reference does it:
/// it removes **one** layer, so on the output of [`seal_unsigned`] it
/// returns the inner sealed box (`|m| + 48` bytes), not `m` (spec §4.5,
/// §10.20; docs/compat.md#open-unsigned). Use [`open_unsigned`] to get `m`.
pub fn open_unsigned_reference(sealed: &[u8], keys: &SubclusterKeys) -> Result<Vec<u8>, BoxError> {
    box_seal_open(sealed, keys.x25519_public_key(), keys.x25519_secret_key())
}

/// The inverse of [`seal_unsigned`]: removes both layers and returns the
/// plaintext.
pub fn open_unsigned(sealed: &[u8], keys: &SubclusterKeys) -> Result<Vec<u8>, BoxError> {
    let inner = open_unsigned_reference(sealed, keys)?;
    open_unsigned_reference(&inner, keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::identity::{create_shared_key, KeyPair};
    use crate::crypto::sealed_box::SEAL_OVERHEAD as BOX;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn keys(s: &str) -> SubclusterKeys {
        SubclusterKeys::from_shared_key(&create_shared_key(s).unwrap())
    }

    #[test]
    fn sizes_and_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let k = keys("a");
        for (n, want) in [(0, 160), (864, 1024), (865, 1025)] {
            let m = alloc::vec![0x5a; n];
            let c = seal(&m, &k, &mut rng).unwrap();
            assert_eq!(c.len(), want);
            assert_eq!(open(&c, &k).unwrap(), m);
        }
        assert_eq!(
            open(&seal(b"x", &k, &mut rng).unwrap(), &keys("b")),
            Err(OpenError::Box(BoxError::Forged))
        );
    }

    #[test]
    fn malformed_and_not_verified() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let k = keys("a");
        let pk = k.x25519_public_key();
        // 64 bytes inside the outer box: EMALFORMED.
        let c = box_seal(&[0; 64], pk, &mut rng).unwrap();
        assert_eq!(open(&c, &k), Err(OpenError::Malformed));
        // A signature by someone else: ENOTVERIFIED.
        let other = KeyPair::from_seed(&[9; 32]);
        let c1 = box_seal(b"hi", pk, &mut rng).unwrap();
        let mut inner = sign_message(&c1, &other).to_vec();
        inner.extend_from_slice(&c1);
        let c = box_seal(&inner, pk, &mut rng).unwrap();
        assert_eq!(open(&c, &k), Err(OpenError::NotVerified));
    }

    #[test]
    fn unsigned_pair() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let k = keys("a");
        let c = seal_unsigned(b"hello", &k, &mut rng).unwrap();
        assert_eq!(c.len(), 5 + SEAL_UNSIGNED_OVERHEAD);
        // The reference's openUnsigned: 5 bytes seal to 101, open to 53.
        let one = open_unsigned_reference(&c, &k).unwrap();
        assert_eq!(one.len(), 5 + BOX);
        assert_eq!(open_unsigned(&c, &k).unwrap(), b"hello");
    }
}
