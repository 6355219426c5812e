//! Keys and ids from seeds (the reference's `Encryption.create*`).

use streamrelay::crypto::identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, subcluster_id, Seed,
    SharedKey,
};
use streamrelay::peer::PeerId;

use crate::handle::guard;
use crate::status::SrStatus;
use crate::types::{array32, bytes_in, copy_out, text_in};

/// How a seed is read.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrSeedKind {
    /// A string (UTF-8, not NUL-terminated; the length says where it ends):
    /// hashed as the reference hashes a JavaScript string. The empty string
    /// is refused (`SR_STATUS_INVALID_KEY`).
    Text = 0,
    /// Bytes (the reference's `Uint8Array`).
    Bytes = 1,
}

/// # Safety
/// `seed` must point to `seed_len` readable bytes.
unsafe fn seed_in<'a>(kind: u32, seed: *const u8, seed_len: usize) -> Result<Seed<'a>, SrStatus> {
    match kind {
        // SAFETY: the caller's contract for `seed`.
        k if k == SrSeedKind::Text as u32 => Ok(Seed::Text(unsafe { text_in(seed, seed_len) }?)),
        // SAFETY: the caller's contract for `seed`.
        k if k == SrSeedKind::Bytes as u32 => Ok(Seed::Bytes(unsafe { bytes_in(seed, seed_len) }?)),
        _ => Err(SrStatus::InvalidArgument),
    }
}

/// Checks a 32-byte output buffer before any work.
fn out32(out: *mut u8, out_len: usize) -> Result<(), SrStatus> {
    if out.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if out_len < 32 {
        return Err(SrStatus::BufferTooSmall);
    }
    Ok(())
}

/// `createKeyPair(seed)`: an Ed25519 key pair. A text seed is hashed first
/// (BLAKE2b-256); a byte seed must be exactly 32 bytes. Writes the public
/// key (32 bytes) and libsodium's secret key (64 bytes: seed then public
/// key). `SR_STATUS_BUFFER_TOO_SMALL` when an output is shorter.
///
/// # Safety
/// `seed` must point to `seed_len` readable bytes; each out buffer to its
/// length of writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_create_key_pair(
    seed_kind: u32,
    seed: *const u8,
    seed_len: usize,
    out_public_key: *mut u8,
    out_public_key_len: usize,
    out_secret_key: *mut u8,
    out_secret_key_len: usize,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `seed`.
        let seed = unsafe { seed_in(seed_kind, seed, seed_len) }?;
        out32(out_public_key, out_public_key_len)?;
        if out_secret_key.is_null() {
            return Err(SrStatus::NullArgument);
        }
        if out_secret_key_len < 64 {
            return Err(SrStatus::BufferTooSmall);
        }
        let kp = create_key_pair(seed)?;
        // SAFETY: the caller's contracts for both buffers.
        unsafe {
            copy_out(out_public_key, out_public_key_len, &kp.public_key())?;
            copy_out(out_secret_key, out_secret_key_len, &kp.secret_key()[..])?;
        }
        Ok(SrStatus::Ok)
    })
}

/// `createSharedKey(seed)`: a subcluster's 32-byte shared secret (BLAKE2b-256
/// of the seed).
///
/// # Safety
/// `seed` must point to `seed_len` readable bytes; `out_key` to
/// `out_key_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_create_shared_key(
    seed_kind: u32,
    seed: *const u8,
    seed_len: usize,
    out_key: *mut u8,
    out_key_len: usize,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `seed`.
        let seed = unsafe { seed_in(seed_kind, seed, seed_len) }?;
        out32(out_key, out_key_len)?;
        let key = create_shared_key(seed)?;
        // SAFETY: the caller's contract for `out_key`.
        unsafe { copy_out(out_key, out_key_len, key.as_bytes()) }?;
        Ok(SrStatus::Ok)
    })
}

/// `createClusterId(seed)`: a 32-byte cluster id (SHA-256 of the seed).
///
/// # Safety
/// As `sr_create_shared_key`.
#[no_mangle]
pub unsafe extern "C" fn sr_create_cluster_id(
    seed_kind: u32,
    seed: *const u8,
    seed_len: usize,
    out_cluster_id: *mut u8,
    out_cluster_id_len: usize,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `seed`.
        let seed = unsafe { seed_in(seed_kind, seed, seed_len) }?;
        out32(out_cluster_id, out_cluster_id_len)?;
        let id = create_cluster_id(seed)?;
        // SAFETY: the caller's contract for `out_cluster_id`.
        unsafe { copy_out(out_cluster_id, out_cluster_id_len, &id) }?;
        Ok(SrStatus::Ok)
    })
}

/// `createId(seed)`: a peer id (SHA-256 of the seed) as 32 bytes; its wire
/// form is the 64 lower-case hex digits of these bytes.
///
/// # Safety
/// As `sr_create_shared_key`.
#[no_mangle]
pub unsafe extern "C" fn sr_create_id(
    seed_kind: u32,
    seed: *const u8,
    seed_len: usize,
    out_peer_id: *mut u8,
    out_peer_id_len: usize,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `seed`.
        let seed = unsafe { seed_in(seed_kind, seed, seed_len) }?;
        out32(out_peer_id, out_peer_id_len)?;
        let id = PeerId::from_hex(&create_id(seed)?).ok_or(SrStatus::Panic)?;
        // SAFETY: the caller's contract for `out_peer_id`.
        unsafe { copy_out(out_peer_id, out_peer_id_len, &id.0) }?;
        Ok(SrStatus::Ok)
    })
}

/// The subcluster id of a 32-byte shared key: the Ed25519 public key of the
/// key pair it seeds (what `sr_peer_join` returns).
///
/// # Safety
/// `shared_key` must point to `shared_key_len` readable bytes;
/// `out_subcluster_id` to `out_subcluster_id_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_subcluster_id(
    shared_key: *const u8,
    shared_key_len: usize,
    out_subcluster_id: *mut u8,
    out_subcluster_id_len: usize,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `shared_key`.
        let key = SharedKey::from_bytes(unsafe { array32(shared_key, shared_key_len) }?);
        out32(out_subcluster_id, out_subcluster_id_len)?;
        // SAFETY: the caller's contract for `out_subcluster_id`.
        unsafe {
            copy_out(
                out_subcluster_id,
                out_subcluster_id_len,
                &subcluster_id(&key),
            )
        }?;
        Ok(SrStatus::Ok)
    })
}
