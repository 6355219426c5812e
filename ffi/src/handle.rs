//! Opaque handles: a registry of live handles, exclusive access per call,
//! poisoning after a panic, and the `catch_unwind` guard of every entry
//! point.
//!
//! A handle is a `Box` leaked to C. Its address (with its type's magic) is
//! recorded in `LIVE` when it is made and removed when it is freed, so a
//! pointer C hands back is looked up before it is dereferenced: garbage, a
//! freed handle or a handle of the other type is refused without touching
//! memory. While a call runs, the handle's `busy` flag is set (taken under
//! the registry lock, so `free` cannot race it): an overlapping call from
//! another thread or a re-entrant call gets `SR_STATUS_BUSY` instead of a
//! second `&mut` to the state.

use std::cell::UnsafeCell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use streamrelay::peer::Config;

use crate::peer::PeerState;
use crate::status::SrStatus;

/// Live handles: (hidden address, magic of its type).
static LIVE: Mutex<BTreeSet<(usize, u64)>> = Mutex::new(BTreeSet::new());

/// Addresses are stored XOR this, so that a leak checker (LeakSanitizer,
/// valgrind) scanning the registry does not take it for a pointer: a handle
/// the host never frees is then reported as the leak it is.
const HIDE: usize = 0x5a5a_5a5a_5a5a_5a5a_u64 as usize;

/// The registry key of a handle.
fn key<O: Object>(ptr: *const O) -> (usize, u64) {
    ((ptr as usize) ^ HIDE, O::MAGIC)
}

fn live() -> MutexGuard<'static, BTreeSet<(usize, u64)>> {
    // Nothing panics while holding the lock, but a poisoned lock still
    // guards a consistent set.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every handle starts with.
pub(crate) struct Header {
    magic: u64,
    busy: AtomicBool,
    poisoned: AtomicBool,
}

/// A peer: the protocol state machine for one identity. Made by
/// `sr_peer_new` or `sr_peer_restore`, released by `sr_peer_free`.
///
/// Thread safety: a handle may be used from any thread (it is `Send`), but
/// not from two at once (it is not `Sync`): guard it with a lock. A call
/// that overlaps another on the same handle returns `SR_STATUS_BUSY`.
pub struct SrPeer {
    header: Header,
    state: UnsafeCell<PeerState>,
}

/// A peer's configuration, built before `sr_peer_new`. Made by
/// `sr_config_new`, released by `sr_config_free`. `sr_peer_new` copies it,
/// so it can be reused or freed at once. Same thread rules as `SrPeer`.
pub struct SrConfig {
    header: Header,
    state: UnsafeCell<Config>,
}

// The header promises that a handle may move between threads: what it holds
// must be `Send`.
const _: () = {
    fn send<T: Send>() {}
    fn assert_handles_hold_send_state() {
        send::<streamrelay::peer::Peer>();
        send::<Config>();
    }
    let _ = assert_handles_hold_send_state;
};

/// The handle types.
pub(crate) trait Object: Sized {
    /// Tells the types apart in the registry.
    const MAGIC: u64;
    type State;
    fn make(header: Header, state: Self::State) -> Self;
    fn header(&self) -> &Header;
    fn state(&self) -> &UnsafeCell<Self::State>;
}

impl Object for SrPeer {
    const MAGIC: u64 = u64::from_be_bytes(*b"SRPEER\x00\x01");
    type State = PeerState;
    fn make(header: Header, state: PeerState) -> Self {
        SrPeer {
            header,
            state: UnsafeCell::new(state),
        }
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn state(&self) -> &UnsafeCell<PeerState> {
        &self.state
    }
}

impl Object for SrConfig {
    const MAGIC: u64 = u64::from_be_bytes(*b"SRCONF\x00\x01");
    type State = Config;
    fn make(header: Header, state: Config) -> Self {
        SrConfig {
            header,
            state: UnsafeCell::new(state),
        }
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn state(&self) -> &UnsafeCell<Config> {
        &self.state
    }
}

/// Runs an entry point's body: a panic becomes `SR_STATUS_PANIC`, an `Err`
/// its status.
pub(crate) fn guard(f: impl FnOnce() -> Result<SrStatus, SrStatus>) -> SrStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(s)) | Ok(Err(s)) => s,
        Err(_) => SrStatus::Panic,
    }
}

/// Leaks a new handle to C and records it as live.
pub(crate) fn register<O: Object>(state: O::State) -> *mut O {
    let header = Header {
        magic: O::MAGIC,
        busy: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
    };
    let ptr = Box::into_raw(Box::new(O::make(header, state)));
    live().insert(key(ptr));
    ptr
}

/// The live handle `ptr` of type `O`, looked up in the registry `live`
/// (whose lock the caller holds): garbage, freed and wrong-type handles are
/// refused without being dereferenced.
///
/// # Safety
/// The caller keeps the handle from being freed for as long as it uses the
/// reference (it holds the registry lock, or the handle's `busy` flag).
unsafe fn lookup<'a, O: Object>(
    live: &BTreeSet<(usize, u64)>,
    ptr: *const O,
) -> Result<&'a O, SrStatus> {
    if !live.contains(&key(ptr)) {
        return Err(SrStatus::InvalidHandle);
    }
    // SAFETY: the registry holds exactly the addresses `register` leaked
    // and `free` has not yet taken back; `free` removes an address under the
    // registry lock (held by the caller) before it deallocates, and refuses
    // a busy handle. So `ptr` points to a live `O` now, and the caller keeps
    // it live for `'a`.
    let obj = unsafe { &*ptr };
    if obj.header().magic != O::MAGIC {
        return Err(SrStatus::InvalidHandle);
    }
    Ok(obj)
}

/// Clears `busy` when the call ends, panicking or not.
struct BusyGuard<'a>(&'a AtomicBool);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Exclusive access to the state of the live handle `ptr` for the length of
/// `f`. A panic in `f` leaves the handle poisoned.
pub(crate) fn with<O: Object, R>(
    ptr: *const O,
    f: impl FnOnce(&mut O::State) -> Result<R, SrStatus>,
) -> Result<R, SrStatus> {
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    let obj: &O = {
        let live = live();
        // SAFETY: `free` refuses a busy handle, and we hold `busy` from
        // here until `_busy` drops, so `obj` stays live while it is used.
        let obj = unsafe { lookup(&live, ptr) }?;
        if obj.header().busy.swap(true, Ordering::Acquire) {
            return Err(SrStatus::Busy);
        }
        obj
    };
    let _busy = BusyGuard(&obj.header().busy);
    let poisoned = &obj.header().poisoned;
    if poisoned.load(Ordering::Relaxed) {
        return Err(SrStatus::Poisoned);
    }
    // Stays set if `f` unwinds.
    poisoned.store(true, Ordering::Relaxed);
    // SAFETY: `busy` was false and we set it, so no other call holds a
    // reference to the state until `_busy` drops at the end of this function;
    // the `&mut` does not outlive it.
    let state = unsafe { &mut *obj.state().get() };
    let r = f(state);
    poisoned.store(false, Ordering::Relaxed);
    r
}

/// Shared access to the live handle `ptr` whose state is itself
/// thread-safe (a node): no `busy` flag, so calls from several threads
/// proceed together. `f` runs under the registry lock, so `free` cannot
/// release the handle meanwhile: keep it short (clone what the call needs).
/// A handle used this way is never given to `with`.
pub(crate) fn with_shared<O: Object, R>(
    ptr: *const O,
    f: impl FnOnce(&O::State) -> R,
) -> Result<R, SrStatus>
where
    O::State: Sync,
{
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    let live = live();
    // SAFETY: `obj` is used only while we hold the registry lock.
    let obj = unsafe { lookup(&live, ptr) }?;
    if obj.header().poisoned.load(Ordering::Relaxed) {
        return Err(SrStatus::Poisoned);
    }
    // SAFETY: handles of this type are only reached through this function
    // (never `with`), so nothing holds a `&mut` to the state; the state is
    // `Sync`, so shared references from several threads are sound.
    let state = unsafe { &*obj.state().get() };
    Ok(f(state))
}

/// Releases a handle. NULL is a no-op (`SR_STATUS_OK`); a poisoned handle
/// is released; a busy one is refused.
pub(crate) fn free<O: Object>(ptr: *mut O) -> Result<SrStatus, SrStatus> {
    if ptr.is_null() {
        return Ok(SrStatus::Ok);
    }
    {
        let mut live = live();
        if !live.contains(&key(ptr)) {
            return Err(SrStatus::InvalidHandle);
        }
        // SAFETY: registered, so `ptr` points to a live `O` (see `with`).
        let obj = unsafe { &*ptr };
        if obj.header().busy.swap(true, Ordering::Acquire) {
            return Err(SrStatus::Busy);
        }
        live.remove(&key(ptr));
    }
    // SAFETY: `ptr` came from `Box::into_raw` in `register`; it is no longer
    // in the registry and no call holds it (we took `busy`), so nothing can
    // reach it again: this is the one place that takes the Box back.
    drop(unsafe { Box::from_raw(ptr) });
    Ok(SrStatus::Ok)
}

/// The number of live handles (tests: every handle made was freed).
#[no_mangle]
pub extern "C" fn sr_live_handles() -> usize {
    guard_value(|| live().len()).unwrap_or(0)
}

/// `catch_unwind` for functions that return a value instead of a status.
pub(crate) fn guard_value<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_freed_handles_are_refused() {
        let p = register::<SrConfig>(Config::new(&"ab".repeat(32), None));
        assert_eq!(with(p, |_| Ok(())), Ok(()));
        // The wrong type at a live address.
        assert_eq!(
            with(p as *const SrPeer, |_| Ok(())),
            Err(SrStatus::InvalidHandle)
        );
        assert_eq!(free(p), Ok(SrStatus::Ok));
        assert_eq!(with(p, |_| Ok(())), Err(SrStatus::InvalidHandle));
        assert_eq!(free(p), Err(SrStatus::InvalidHandle));
        let garbage = 0x1000 as *mut SrConfig;
        assert_eq!(with(garbage, |_| Ok(())), Err(SrStatus::InvalidHandle));
        assert_eq!(free::<SrConfig>(std::ptr::null_mut()), Ok(SrStatus::Ok));
    }

    #[test]
    fn reentry_is_busy_and_a_panic_poisons() {
        let p = register::<SrConfig>(Config::new(&"ab".repeat(32), None));
        let inner = with(p, |_| Ok(with(p, |_| Ok(())))).unwrap();
        assert_eq!(inner, Err(SrStatus::Busy));
        let s = guard(|| with(p, |_| -> Result<SrStatus, SrStatus> { panic!("test") }));
        assert_eq!(s, SrStatus::Panic);
        assert_eq!(with(p, |_| Ok(())), Err(SrStatus::Poisoned));
        assert_eq!(free(p), Ok(SrStatus::Ok));
    }
}
