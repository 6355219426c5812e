//! libsodium's anonymous sealed boxes, `crypto_box_seal` and
//! `crypto_box_seal_open` (spec §4.1), byte for byte:
//!
//! ```text
//! seal(m, pk):  (epk, esk) = fresh X25519 key pair
//!               nonce      = BLAKE2b-192(epk ‖ pk)
//!               out        = epk ‖ XSalsa20-Poly1305(key = HSalsa20(X25519(esk, pk), 0¹⁶), nonce, m)
//!                            (the box is MAC (16) ‖ ciphertext; 48 bytes of overhead)
//! ```
//!
//! Built from curve25519-dalek (X25519 with the clamped, *unreduced*
//! scalar, as RFC 7748 and libsodium compute it) and `crypto_secretbox`
//! (HSalsa20, XSalsa20-Poly1305). We do not use the `crypto_box` crate's
//! `unseal`: it reduces the secret scalar modulo the group order, which gives
//! a different shared secret than libsodium for an ephemeral key with a
//! small-order component, and it accepts a small-order ephemeral key (an
//! all-zero shared secret) that libsodium refuses. See
//! docs/compat.md#sealed-box-exact.

use alloc::vec::Vec;

use blake2::digest::consts::U24;
use blake2::{Blake2b, Digest};
use crypto_secretbox::aead::generic_array::GenericArray;
use crypto_secretbox::{AeadInPlace, Kdf, KeyInit, Nonce, Tag, XSalsa20Poly1305};
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::KEY_BYTES;

/// `crypto_box_SEALBYTES`: ephemeral public key (32) + MAC (16).
pub const SEAL_OVERHEAD: usize = 48;
const MAC_BYTES: usize = 16;

/// Why a sealed box could not be made or opened. Opening never says more
/// than "it failed" about the contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BoxError {
    /// Shorter than the 48 bytes of overhead.
    #[error("sealed box too short: {0} bytes, at least 48 needed")]
    TooShort(usize),
    /// The other side's X25519 key has small order, so the shared secret
    /// would be all zeros (libsodium refuses it on both seal and open).
    #[error("X25519 public key of small order")]
    WeakKey,
    /// The MAC does not verify: tampered, truncated, or not for this key.
    #[error("sealed box does not open with this key")]
    Forged,
}

/// The box key `HSalsa20(X25519(secret, public), 0¹⁶)`
/// (`crypto_box_beforenm`); fails like libsodium when the X25519 result is
/// all zeros.
fn before(
    public: &[u8; KEY_BYTES],
    secret: &[u8; KEY_BYTES],
) -> Result<XSalsa20Poly1305, BoxError> {
    let shared = Zeroizing::new(MontgomeryPoint(*public).mul_clamped(*secret).to_bytes());
    if shared.iter().all(|&b| b == 0) {
        return Err(BoxError::WeakKey);
    }
    let key = Zeroizing::new(XSalsa20Poly1305::kdf(
        GenericArray::from_slice(&shared[..]),
        &GenericArray::default(),
    ));
    Ok(XSalsa20Poly1305::new(&key))
}

fn seal_nonce(epk: &[u8], recipient: &[u8]) -> Nonce {
    let mut h = Blake2b::<U24>::new();
    h.update(epk);
    h.update(recipient);
    h.finalize()
}

/// `crypto_box_seal(message, recipient)`: `|message| + 48` bytes. Fails only
/// for a recipient key of small order.
pub fn box_seal(
    message: &[u8],
    recipient: &[u8; KEY_BYTES],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, BoxError> {
    let mut esk = Zeroizing::new([0u8; KEY_BYTES]);
    rng.fill_bytes(&mut esk[..]);
    seal_with_ephemeral(message, recipient, &esk)
}

/// [`box_seal`] with a given ephemeral secret (deterministic; for tests and
/// vectors only: an ephemeral key must never be reused).
pub fn seal_with_ephemeral(
    message: &[u8],
    recipient: &[u8; KEY_BYTES],
    ephemeral_secret: &[u8; KEY_BYTES],
) -> Result<Vec<u8>, BoxError> {
    let epk = MontgomeryPoint::mul_base_clamped(*ephemeral_secret).to_bytes();
    let cipher = before(recipient, ephemeral_secret)?;
    let nonce = seal_nonce(&epk, recipient);
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + message.len());
    out.extend_from_slice(&epk);
    out.extend_from_slice(&[0; MAC_BYTES]);
    out.extend_from_slice(message);
    let tag = cipher
        .encrypt_in_place_detached(&nonce, b"", &mut out[SEAL_OVERHEAD..])
        .map_err(|_| BoxError::Forged)?;
    out[KEY_BYTES..SEAL_OVERHEAD].copy_from_slice(&tag);
    Ok(out)
}

/// `crypto_box_seal_open(sealed, recipient_public, recipient_secret)`.
/// As in libsodium, `recipient_public` only enters the nonce: passing a key
/// that does not belong to the secret makes the box fail to open.
pub fn box_seal_open(
    sealed: &[u8],
    recipient_public: &[u8; KEY_BYTES],
    recipient_secret: &[u8; KEY_BYTES],
) -> Result<Vec<u8>, BoxError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(BoxError::TooShort(sealed.len()));
    }
    let (epk, rest) = sealed.split_at(KEY_BYTES);
    let (mac, ct) = rest.split_at(MAC_BYTES);
    let mut epk_arr = [0u8; KEY_BYTES];
    epk_arr.copy_from_slice(epk);
    let cipher = before(&epk_arr, recipient_secret)?;
    let nonce = seal_nonce(epk, recipient_public);
    let mut out = ct.to_vec();
    cipher
        .decrypt_in_place_detached(&nonce, b"", &mut out, Tag::from_slice(mac))
        .map_err(|_| BoxError::Forged)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn round_trip_and_failures() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = [7u8; 32];
        let pk = MontgomeryPoint::mul_base_clamped(sk).to_bytes();
        for n in [0usize, 1, 100] {
            let m: Vec<u8> = (0..n as u8).collect();
            let c = box_seal(&m, &pk, &mut rng).unwrap();
            assert_eq!(c.len(), n + SEAL_OVERHEAD);
            assert_eq!(box_seal_open(&c, &pk, &sk).unwrap(), m);
            let mut t = c.clone();
            t[c.len() - 1] ^= 1;
            assert_eq!(box_seal_open(&t, &pk, &sk), Err(BoxError::Forged));
            assert_eq!(
                box_seal_open(&c[..47], &pk, &sk),
                Err(BoxError::TooShort(47))
            );
        }
        // Small-order keys: 0 and 1.
        assert_eq!(box_seal(b"x", &[0; 32], &mut rng), Err(BoxError::WeakKey));
        let mut c = box_seal(b"x", &pk, &mut rng).unwrap();
        c[..32].copy_from_slice(&[0; 32]);
        assert_eq!(box_seal_open(&c, &pk, &sk), Err(BoxError::WeakKey));
    }
}
