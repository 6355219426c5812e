//! Ed25519 signatures.
//!
//! * [`sign_from_byte_64`] / [`verify_from_byte_64`]: the reference's
//!   `Encryption.sign` / `Encryption.verify` (spec §4.6), which sign only
//!   `message[64..]`. Needed to interoperate (`api.js` puts this signature in
//!   every event's `sig` field), **not** a safe signature: the first 64 bytes
//!   are not covered, and every message of 64 bytes or less gets the same
//!   signature (docs/compat.md#sign-from-byte-64).
//! * [`sign_message`] / [`verify_message`]: a plain detached signature over
//!   the whole message, for our own new uses.
//!
//! Verification is libsodium's `crypto_sign_verify_detached` (1.0.18):
//! canonical `S`, no small-order `R` or public key, a canonical public-key
//! encoding, and the cofactorless equation compared on encodings
//! (`ed25519-dalek`'s `verify_strict` plus the canonical-key check).

use ed25519_dalek::{Signature, Signer, VerifyingKey};

use super::identity::KeyPair;
use super::{KEY_BYTES, SIGNATURE_BYTES};

/// Why a signature check could not even run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The public key is not 32 bytes (the reference throws here; `api.js`
    /// then drops the event with an `unverified` event).
    #[error("invalid public key length: {0} bytes, expected 32")]
    InvalidPublicKeyLength(usize),
}

/// The reference's `Encryption.sign(b, sk)`: a detached Ed25519 signature
/// over `message[64..]` (empty when the message has 64 bytes or fewer).
pub fn sign_from_byte_64(message: &[u8], keys: &KeyPair) -> [u8; SIGNATURE_BYTES] {
    sign_message(message.get(SIGNATURE_BYTES..).unwrap_or(&[]), keys)
}

/// The reference's `Encryption.verify(b, sig, pk)`: `Ok(false)` when `sig`
/// is not 64 bytes (checked first, as the reference does); an error when the
/// public key is not 32 bytes; otherwise whether `sig` is a valid signature
/// of `message[64..]`.
pub fn verify_from_byte_64(
    message: &[u8],
    signature: &[u8],
    public_key: &[u8],
) -> Result<bool, SignError> {
    let Ok(sig) = <&[u8; SIGNATURE_BYTES]>::try_from(signature) else {
        return Ok(false);
    };
    let pk: &[u8; KEY_BYTES] = public_key
        .try_into()
        .map_err(|_| SignError::InvalidPublicKeyLength(public_key.len()))?;
    Ok(verify_message(
        message.get(SIGNATURE_BYTES..).unwrap_or(&[]),
        sig,
        pk,
    ))
}

/// A detached Ed25519 signature over the whole message
/// (`crypto_sign_detached`).
pub fn sign_message(message: &[u8], keys: &KeyPair) -> [u8; SIGNATURE_BYTES] {
    keys.signing_key().sign(message).to_bytes()
}

/// libsodium 1.0.18 `crypto_sign_verify_detached(sig, message, pk) == 0`.
pub fn verify_message(
    message: &[u8],
    signature: &[u8; SIGNATURE_BYTES],
    public_key: &[u8; KEY_BYTES],
) -> bool {
    // libsodium refuses a non-canonical key encoding (y ≥ p); dalek reduces it.
    if !is_canonical_point_encoding(public_key) {
        return false;
    }
    let Ok(vk) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    vk.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// libsodium's `ge25519_is_canonical`: the y coordinate (sign bit masked)
/// is below p = 2²⁵⁵ − 19.
fn is_canonical_point_encoding(s: &[u8; 32]) -> bool {
    let top = s[31] & 0x7f == 0x7f && s[1..31].iter().all(|&b| b == 0xff);
    !(top && s[0] >= 0xed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::identity::create_key_pair;

    #[test]
    fn byte_64_quirk() {
        let kp = create_key_pair("signer").unwrap();
        let pk = kp.public_key();
        let short_a = [1u8; 10];
        let short_b = [2u8; 64];
        // Every message of 64 bytes or less shares one signature.
        assert_eq!(
            sign_from_byte_64(&short_a, &kp),
            sign_from_byte_64(&short_b, &kp)
        );
        assert_eq!(sign_from_byte_64(&short_a, &kp), sign_message(b"", &kp));
        // The first 64 bytes are not covered.
        let mut m = [9u8; 100];
        let sig = sign_from_byte_64(&m, &kp);
        m[0] ^= 0xff;
        assert_eq!(verify_from_byte_64(&m, &sig, &pk), Ok(true));
        m[64] ^= 0xff;
        assert_eq!(verify_from_byte_64(&m, &sig, &pk), Ok(false));
        // Length rules: sig first, then the key.
        assert_eq!(verify_from_byte_64(&m, &sig[..63], &[0]), Ok(false));
        assert_eq!(
            verify_from_byte_64(&m, &sig, &[0]),
            Err(SignError::InvalidPublicKeyLength(1))
        );
    }

    #[test]
    fn whole_message() {
        let kp = create_key_pair("signer").unwrap();
        let pk = kp.public_key();
        let sig = sign_message(b"hello", &kp);
        assert!(verify_message(b"hello", &sig, &pk));
        assert!(!verify_message(b"hellp", &sig, &pk));
        let mut bad = sig;
        bad[63] |= 0xf0; // S not canonical
        assert!(!verify_message(b"hello", &bad, &pk));
        // Non-canonical encoding of a key.
        let mut nc = [0xffu8; 32];
        nc[0] = 0xee;
        nc[31] = 0x7f;
        assert!(!verify_message(b"hello", &sig, &nc));
    }
}
