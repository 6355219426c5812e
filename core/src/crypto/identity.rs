//! Seeds to keys and ids (spec §4.1–§4.3), as `Encryption.createKeyPair`,
//! `createSharedKey`, `createClusterId`, `createId` and the `sha256` helper
//! of the reference, plus libsodium's Ed25519 → X25519 conversions.
//!
//! ```
//! use streamrelay::crypto::identity::*;
//!
//! let shared = create_shared_key("example-shared-secret").unwrap();
//! assert_eq!(shared.as_bytes()[..4], [0xe6, 0xd9, 0x49, 0xcf]);
//! // subclusterId = public key of the key pair seeded by the shared key,
//! // which is also the key pair of the string seed itself (spec §4.2).
//! assert_eq!(subcluster_id(&shared), create_key_pair("example-shared-secret").unwrap().public_key());
//! assert_eq!(
//!     create_id("abc").unwrap(),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! assert_eq!(create_key_pair(&[0u8; 31][..]), Err(KeyError::InvalidSeedLength(31)));
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use sha2::digest::generic_array::GenericArray;
use sha2::{Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::{KEY_BYTES, SECRET_KEY_BYTES};
use crate::wire::json::JsValue;

/// Why a key could not be made or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A byte seed for a key pair must be exactly 32 bytes (the reference
    /// throws "invalid seed length").
    #[error("invalid seed length: {0} bytes, expected 32")]
    InvalidSeedLength(usize),
    /// An empty string seed. The reference treats it as "no seed" and uses
    /// 32 random bytes; we refuse it (docs/compat.md#empty-seed).
    #[error("empty seed: pass a non-empty seed, or generate a random key")]
    EmptySeed,
    /// A public key that is not 32 bytes.
    #[error("invalid public key length: {0} bytes, expected 32")]
    InvalidPublicKeyLength(usize),
    /// An Ed25519 public key libsodium's `crypto_sign_ed25519_pk_to_curve25519`
    /// refuses: not a curve point, of small order, or not in the prime-order
    /// subgroup.
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
    /// A secret key that is not 64 bytes (seed ‖ public key), or whose public
    /// half does not belong to its seed.
    #[error("invalid Ed25519 secret key: expected 64 bytes seed ‖ matching public key")]
    InvalidSecretKey,
}

/// A seed as the reference accepts it: a string (hashed as UTF-8) or bytes.
#[derive(Clone, Copy)]
pub enum Seed<'a> {
    /// A JavaScript string; its UTF-8 bytes are hashed.
    Text(&'a str),
    /// A `Uint8Array`.
    Bytes(&'a [u8]),
}

impl fmt::Debug for Seed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seed::Text(s) => write!(f, "Seed::Text(<{} bytes>)", s.len()),
            Seed::Bytes(b) => write!(f, "Seed::Bytes(<{} bytes>)", b.len()),
        }
    }
}

impl<'a> From<&'a str> for Seed<'a> {
    fn from(s: &'a str) -> Self {
        Seed::Text(s)
    }
}
impl<'a> From<&'a String> for Seed<'a> {
    fn from(s: &'a String) -> Self {
        Seed::Text(s)
    }
}
impl<'a> From<&'a [u8]> for Seed<'a> {
    fn from(b: &'a [u8]) -> Self {
        Seed::Bytes(b)
    }
}
impl<'a, const N: usize> From<&'a [u8; N]> for Seed<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Seed::Bytes(b)
    }
}
impl<'a> From<&'a Vec<u8>> for Seed<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Seed::Bytes(b)
    }
}
impl<'a> From<&'a SharedKey> for Seed<'a> {
    fn from(k: &'a SharedKey) -> Self {
        Seed::Bytes(k.as_bytes())
    }
}

impl<'a> Seed<'a> {
    /// The bytes that get hashed, or `EmptySeed` for the empty string (which
    /// the reference replaces by random bytes).
    fn bytes(self) -> Result<&'a [u8], KeyError> {
        match self {
            Seed::Text("") => Err(KeyError::EmptySeed),
            Seed::Text(s) => Ok(s.as_bytes()),
            Seed::Bytes(b) => Ok(b),
        }
    }
}

/// libsodium `crypto_generichash(32, m)`: unkeyed BLAKE2b with a 32-byte
/// output (a parameter of BLAKE2b, not BLAKE2b-512 cut short).
pub fn blake2b_256(m: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(m).into()
}

/// SHA-256.
pub fn sha256(m: &[u8]) -> [u8; 32] {
    Sha256::digest(m).into()
}

/// An Ed25519 key pair (libsodium `crypto_sign_seed_keypair`). The secret
/// is zeroised on drop; `Debug` shows only the public key.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_key", &HexBytes(&self.public_key()))
            .finish_non_exhaustive()
    }
}

impl PartialEq for KeyPair {
    fn eq(&self, other: &Self) -> bool {
        // dalek compares the secret halves in constant time.
        self.signing == other.signing
    }
}
impl Eq for KeyPair {}

impl KeyPair {
    /// The key pair of a 32-byte seed.
    pub fn from_seed(seed: &[u8; KEY_BYTES]) -> Self {
        KeyPair {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// A random key pair (the reference's `createKeyPair()` with no seed).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = Zeroizing::new([0u8; KEY_BYTES]);
        rng.fill_bytes(&mut seed[..]);
        Self::from_seed(&seed)
    }

    /// From libsodium's 64-byte secret key (seed ‖ public key). libsodium
    /// signs with whatever public half it is given; we refuse a public half
    /// that does not belong to the seed (it could only make bad signatures).
    pub fn from_secret_key(secret_key: &[u8]) -> Result<Self, KeyError> {
        if secret_key.len() != SECRET_KEY_BYTES {
            return Err(KeyError::InvalidSecretKey);
        }
        let mut seed = Zeroizing::new([0u8; KEY_BYTES]);
        seed.copy_from_slice(&secret_key[..KEY_BYTES]);
        let kp = Self::from_seed(&seed);
        if kp.public_key()[..] != secret_key[KEY_BYTES..] {
            return Err(KeyError::InvalidSecretKey);
        }
        Ok(kp)
    }

    /// The 32-byte Ed25519 public key (`publicKey`).
    pub fn public_key(&self) -> [u8; KEY_BYTES] {
        self.signing.verifying_key().to_bytes()
    }

    /// The 32-byte seed.
    pub fn seed(&self) -> Zeroizing<[u8; KEY_BYTES]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// libsodium's 64-byte secret key, seed ‖ public key (`privateKey`).
    pub fn secret_key(&self) -> Zeroizing<[u8; SECRET_KEY_BYTES]> {
        let mut sk = Zeroizing::new([0u8; SECRET_KEY_BYTES]);
        sk[..KEY_BYTES].copy_from_slice(&self.signing.to_bytes());
        sk[KEY_BYTES..].copy_from_slice(&self.public_key());
        sk
    }

    /// The X25519 secret key (`crypto_sign_ed25519_sk_to_curve25519`).
    pub fn x25519_secret_key(&self) -> Zeroizing<[u8; KEY_BYTES]> {
        seed_to_x25519(&self.signing.to_bytes())
    }

    /// The X25519 public key (`crypto_sign_ed25519_pk_to_curve25519` of
    /// [`public_key`](Self::public_key); never fails for a derived key).
    pub fn x25519_public_key(&self) -> [u8; KEY_BYTES] {
        self.signing.verifying_key().to_montgomery().to_bytes()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

/// A subcluster's shared secret (32 bytes), zeroised on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedKey([u8; KEY_BYTES]);

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedKey(<secret>)")
    }
}

impl Drop for SharedKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl SharedKey {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        SharedKey(bytes)
    }

    /// 32 random bytes (the reference's `createSharedKey()` with no seed).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut k = SharedKey([0; KEY_BYTES]);
        rng.fill_bytes(&mut k.0);
        k
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

/// `Encryption.createKeyPair(seed)`: a string seed is first turned into
/// BLAKE2b-256 of its UTF-8; a byte seed must be exactly 32 bytes.
pub fn create_key_pair<'a>(seed: impl Into<Seed<'a>>) -> Result<KeyPair, KeyError> {
    match seed.into() {
        Seed::Bytes(b) => {
            let seed: &[u8; KEY_BYTES] = b
                .try_into()
                .map_err(|_| KeyError::InvalidSeedLength(b.len()))?;
            Ok(KeyPair::from_seed(seed))
        }
        text => {
            let seed = Zeroizing::new(blake2b_256(text.bytes()?));
            Ok(KeyPair::from_seed(&seed))
        }
    }
}

/// `Encryption.createSharedKey(seed)` = BLAKE2b-256 of the string's UTF-8 or
/// of the bytes (any length, empty included).
pub fn create_shared_key<'a>(seed: impl Into<Seed<'a>>) -> Result<SharedKey, KeyError> {
    Ok(SharedKey(blake2b_256(seed.into().bytes()?)))
}

/// `Encryption.createClusterId(seed)` = SHA-256 of the string's UTF-8 or of
/// the bytes (32 bytes).
pub fn create_cluster_id<'a>(seed: impl Into<Seed<'a>>) -> Result<[u8; 32], KeyError> {
    Ok(sha256(seed.into().bytes()?))
}

/// `Encryption.createId(seed)` = lowercase hex SHA-256 (peer ids).
pub fn create_id<'a>(seed: impl Into<Seed<'a>>) -> Result<String, KeyError> {
    Ok(to_hex(&sha256(seed.into().bytes()?)))
}

/// The subclusterId of a shared key: the Ed25519 public key of the key pair
/// seeded by it (spec §4.2).
pub fn subcluster_id(shared_key: &SharedKey) -> [u8; KEY_BYTES] {
    #[cfg(all(fuzzing, feature = "std"))]
    return SubclusterKeys::from_shared_key(shared_key).subcluster_id();
    #[allow(unreachable_code)]
    KeyPair::from_seed(shared_key.as_bytes()).public_key()
}

/// libsodium `crypto_sign_ed25519_pk_to_curve25519`: the birational map
/// u = (1 + y) / (1 − y). Like libsodium 1.0.18 it refuses a key that does
/// not decode or has small order, and a key with a torsion component of
/// order 4 or 8. libsodium's subgroup check (`ge25519_is_on_main_subgroup`:
/// the x of l·P is zero) also lets through a key whose torsion component has
/// order 2, and so do we (docs/compat.md#pk-to-curve25519). A non-canonical
/// y (y ≥ p) is reduced, as libsodium does.
pub fn ed25519_pk_to_x25519(public_key: &[u8]) -> Result<[u8; KEY_BYTES], KeyError> {
    let bytes: [u8; KEY_BYTES] = public_key
        .try_into()
        .map_err(|_| KeyError::InvalidPublicKeyLength(public_key.len()))?;
    let point = CompressedEdwardsY(bytes)
        .decompress()
        .ok_or(KeyError::InvalidPublicKey)?;
    // l·P has x = 0 iff l·P is the identity or the point of order 2, iff
    // 2·P is torsion-free.
    if point.is_small_order() || !(point + point).is_torsion_free() {
        return Err(KeyError::InvalidPublicKey);
    }
    Ok(point.to_montgomery().to_bytes())
}

/// libsodium `crypto_sign_ed25519_sk_to_curve25519`: the first 32 bytes of
/// SHA-512(seed), clamped. Takes libsodium's 64-byte secret key (only the
/// seed half is used, as libsodium does).
pub fn ed25519_sk_to_x25519(secret_key: &[u8]) -> Result<Zeroizing<[u8; KEY_BYTES]>, KeyError> {
    if secret_key.len() != SECRET_KEY_BYTES {
        return Err(KeyError::InvalidSecretKey);
    }
    let mut seed = Zeroizing::new([0u8; KEY_BYTES]);
    seed.copy_from_slice(&secret_key[..KEY_BYTES]);
    Ok(seed_to_x25519(&seed))
}

fn seed_to_x25519(seed: &[u8; KEY_BYTES]) -> Zeroizing<[u8; KEY_BYTES]> {
    let mut h = Zeroizing::new([0u8; 64]);
    let mut hasher = Sha512::new();
    hasher.update(seed);
    hasher.finalize_into(GenericArray::from_mut_slice(&mut h[..]));
    let mut x = Zeroizing::new([0u8; KEY_BYTES]);
    x.copy_from_slice(&h[..KEY_BYTES]);
    x[0] &= 248;
    x[31] &= 127;
    x[31] |= 64;
    x
}

/// A subcluster's key pair with its X25519 conversions precomputed: what
/// `seal`/`open` and event packing need. Every member derives the same keys
/// from the shared key (spec §4.2).
#[derive(Clone)]
pub struct SubclusterKeys {
    key_pair: KeyPair,
    x_public: [u8; KEY_BYTES],
    x_secret: Zeroizing<[u8; KEY_BYTES]>,
}

impl fmt::Debug for SubclusterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubclusterKeys")
            .field("subcluster_id", &HexBytes(&self.subcluster_id()))
            .finish_non_exhaustive()
    }
}

impl SubclusterKeys {
    /// `createKeyPair(sharedKey)` and its X25519 conversions.
    pub fn from_shared_key(shared_key: &SharedKey) -> Self {
        #[cfg(all(fuzzing, feature = "std"))]
        return fuzz_memo::from_shared_key(shared_key);
        #[allow(unreachable_code)]
        Self::from_key_pair(KeyPair::from_seed(shared_key.as_bytes()))
    }

    /// Any Ed25519 key pair used as a box key (the reference's `bus.seal`
    /// defaults to the user's signing keys).
    pub fn from_key_pair(key_pair: KeyPair) -> Self {
        let x_secret = key_pair.x25519_secret_key();
        // X(a·B) = a·X(B): equal to converting the Ed25519 public key, and
        // it cannot fail for a key derived from a seed.
        let x_public = MontgomeryPoint::mul_base_clamped(*x_secret).to_bytes();
        SubclusterKeys {
            key_pair,
            x_public,
            x_secret,
        }
    }

    /// The subclusterId: the Ed25519 public key.
    pub fn subcluster_id(&self) -> [u8; KEY_BYTES] {
        self.key_pair.public_key()
    }

    /// The Ed25519 key pair.
    pub fn key_pair(&self) -> &KeyPair {
        &self.key_pair
    }

    /// X25519 public key (the sealed-box recipient).
    pub fn x25519_public_key(&self) -> &[u8; KEY_BYTES] {
        &self.x_public
    }

    /// X25519 secret key.
    pub fn x25519_secret_key(&self) -> &[u8; KEY_BYTES] {
        &self.x_secret
    }
}

/// Fuzz builds only (`cfg(fuzzing)`, set by cargo-fuzz): the subcluster
/// keys of the last few shared keys, so a fuzz input that joins, re-joins or
/// restores a Peer does not pay two base-point multiplications each time.
/// The derivation is a pure function of the shared key: the result is the
/// same bytes, only sooner.
#[cfg(all(fuzzing, feature = "std"))]
mod fuzz_memo {
    use super::{KeyPair, SharedKey, SubclusterKeys};
    use std::cell::RefCell;
    use std::vec::Vec;

    const ENTRIES: usize = 8;

    std::thread_local! {
        static MEMO: RefCell<Vec<(SharedKey, SubclusterKeys)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn from_shared_key(shared_key: &SharedKey) -> SubclusterKeys {
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if let Some((_, k)) = m.iter().find(|(s, _)| s == shared_key) {
                return k.clone();
            }
            let keys = SubclusterKeys::from_key_pair(KeyPair::from_seed(shared_key.as_bytes()));
            if m.len() == ENTRIES {
                m.remove(0);
            }
            m.push((shared_key.clone(), keys.clone()));
            keys
        })
    }
}

/// What the reference's `sha256(value)` helper is given.
#[derive(Clone, Copy, Debug)]
pub enum HashInput<'a> {
    /// A string: hashed as UTF-8.
    Str(&'a str),
    /// A `Uint8Array` / `Buffer`: hashed as is (empty included: an empty
    /// typed array is truthy in JavaScript).
    Bytes(&'a [u8]),
    /// Any other JavaScript value: objects, arrays and `null` are hashed as
    /// their `JSON.stringify` text (so `null` hashes `"null"`); a string is
    /// hashed as [`HashInput::Str`].
    Json(&'a JsValue),
}

/// The reference's `sha256(value, { bytes: true })` (`latica/packets.js`,
/// the node code path). `None` where the reference hashes nothing: a falsy
/// value (`""`, `0`, `false`, `NaN`) makes it return 32 *random* bytes
/// (spec §10.25), and a non-zero number or `true` makes node's
/// `hash.update` throw.
pub fn reference_sha256(input: HashInput<'_>) -> Option<[u8; 32]> {
    match input {
        HashInput::Str("") => None,
        HashInput::Str(s) => Some(sha256(s.as_bytes())),
        HashInput::Bytes(b) => Some(sha256(b)),
        HashInput::Json(JsValue::String(s)) => {
            let s = s.to_string_lossy();
            (!s.is_empty()).then(|| sha256(s.as_bytes()))
        }
        HashInput::Json(JsValue::Number(_) | JsValue::Bool(_)) => None,
        HashInput::Json(v) => Some(sha256(v.stringify().as_bytes())),
    }
}

/// Lowercase hex.
pub fn to_hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

struct HexBytes<'a>(&'a [u8]);
impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn spec_vectors() {
        let shared = create_shared_key("example-shared-secret").unwrap();
        assert_eq!(
            shared.as_bytes().to_vec(),
            hex("e6d949cf4240eedf0090118cb652bd2d3dfae979f3c6beacf45265f9376dce10")
        );
        let pk = hex("6a72ca18c6fcbb6313fbd3a7cbb8307e1fd5aaae85679eb776b996616d029f29");
        assert_eq!(subcluster_id(&shared).to_vec(), pk);
        assert_eq!(create_key_pair(&shared).unwrap().public_key().to_vec(), pk);
        assert_eq!(
            create_key_pair("example-shared-secret")
                .unwrap()
                .public_key()
                .to_vec(),
            pk
        );
        assert_eq!(
            create_cluster_id("example-cluster").unwrap().to_vec(),
            hex("dd3b93cd8a3869b3342cd1d042b7aad4a31f84f1b4a623d13784e19ee6f89f78")
        );
        assert_eq!(
            create_id("example-peer").unwrap(),
            "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f"
        );
    }

    #[test]
    fn seeds() {
        assert_eq!(create_key_pair(""), Err(KeyError::EmptySeed));
        assert_eq!(create_shared_key("").unwrap_err(), KeyError::EmptySeed);
        assert_eq!(
            create_key_pair(&[1u8; 33]),
            Err(KeyError::InvalidSeedLength(33))
        );
        assert_eq!(
            create_key_pair(&[] as &[u8]),
            Err(KeyError::InvalidSeedLength(0))
        );
        // Empty bytes are hashed (a Uint8Array(0) is truthy).
        assert_eq!(
            create_shared_key(&[] as &[u8]).unwrap().as_bytes().to_vec(),
            hex("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        );
    }

    #[test]
    fn secret_key_layout_and_conversions() {
        let kp = create_key_pair("x").unwrap();
        let sk = kp.secret_key();
        assert_eq!(&sk[32..], &kp.public_key());
        assert_eq!(KeyPair::from_secret_key(&sk[..]).unwrap(), kp);
        let mut bad = *sk;
        bad[40] ^= 1;
        assert_eq!(
            KeyPair::from_secret_key(&bad),
            Err(KeyError::InvalidSecretKey)
        );
        assert_eq!(
            ed25519_pk_to_x25519(&kp.public_key()).unwrap(),
            kp.x25519_public_key()
        );
        assert_eq!(
            *ed25519_sk_to_x25519(&sk[..]).unwrap(),
            *kp.x25519_secret_key()
        );
        let keys = SubclusterKeys::from_key_pair(kp.clone());
        assert_eq!(keys.x25519_public_key(), &kp.x25519_public_key());
        // Identity, order 2 and a non-point are refused.
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(ed25519_pk_to_x25519(&id), Err(KeyError::InvalidPublicKey));
        let mut m1 = [0xffu8; 32];
        m1[0] = 0xec;
        m1[31] = 0x7f;
        assert_eq!(ed25519_pk_to_x25519(&m1), Err(KeyError::InvalidPublicKey));
        assert_eq!(
            ed25519_pk_to_x25519(&[1; 31]),
            Err(KeyError::InvalidPublicKeyLength(31))
        );
    }

    #[test]
    fn sha256_helper() {
        use crate::wire::json::JsObject;
        assert_eq!(reference_sha256(HashInput::Str("")), None);
        assert_eq!(
            reference_sha256(HashInput::Str("abc")),
            Some(sha256(b"abc"))
        );
        assert_eq!(reference_sha256(HashInput::Bytes(b"")), Some(sha256(b"")));
        assert_eq!(
            reference_sha256(HashInput::Json(&JsValue::Object(JsObject::new()))),
            Some(sha256(b"{}"))
        );
        assert_eq!(
            reference_sha256(HashInput::Json(&JsValue::Null)),
            Some(sha256(b"null"))
        );
        assert_eq!(
            reference_sha256(HashInput::Json(&JsValue::Number(0.0))),
            None
        );
    }
}
