//! The C ABI of `libstreamrelay` (`include/streamrelay.h`, generated from
//! this crate by cbindgen).
//!
//! Thin by design: every function converts C arguments into the core's
//! types, calls one method of `streamrelay::peer::Peer` (or a key helper),
//! and converts the answer back. No protocol logic lives here.
//!
//! Conventions (those of rustls-ffi):
//!
//! - every fallible function returns an `SrStatus`; results go through
//!   out-pointers; a buffer is always followed by its length;
//! - objects are opaque handles made by `sr_*_new` and released by
//!   `sr_*_free`; every pointer is checked for NULL, and every handle is
//!   looked up in a registry of live handles before it is touched, so a
//!   garbage, freed or wrong-type handle is refused with
//!   `SR_STATUS_INVALID_HANDLE` instead of being dereferenced;
//! - no panic crosses the boundary: each body runs under `catch_unwind` and
//!   a panic comes back as `SR_STATUS_PANIC` (the handle it happened in is
//!   then poisoned);
//! - structs that may grow start with `struct_size`, which the caller sets
//!   to `sizeof` the struct, and end with reserved bytes.
//!
//! The lists this crate shares with the core (limits, timings, quotas,
//! expiry, drop reasons, evictions, events) are the core's tables: the
//! UniFFI types and conversions are generated from them, and the C structs
//! and enums, written out for cbindgen, are checked against them when the
//! crate compiles (docs/one-place.md).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

// The modules in the order the header presents them.
mod status;

mod types;

mod handle;

mod config;

mod peer;

mod dataplane;

mod event;

mod inspect;

mod keys;

mod packet;

mod node_status;

mod node_c;

mod node_link;

#[cfg(feature = "vectors")]
mod vectors;

// The UniFFI face (Swift, Kotlin) and the JNI fast path. cbindgen does not
// see them: UniFFI's symbols come from macros, and the JNI functions are
// `extern "system"` (include/streamrelay.h stays the C ABI only). Both are
// behind the default feature `bindings`; a C-only build leaves them out.
#[cfg(feature = "bindings")]
uniffi::setup_scaffolding!("streamrelay");

#[cfg(feature = "bindings")]
pub mod uniffi_api;

#[cfg(feature = "bindings")]
pub mod uniffi_config;

#[cfg(feature = "bindings")]
mod jni_api;

pub use status::*;

pub use types::*;

pub use handle::{sr_live_handles, SrConfig, SrPeer};

pub use config::*;

pub use peer::*;

pub use dataplane::*;

pub use event::*;

pub use inspect::*;

pub use keys::*;

pub use packet::*;

pub use node_c::*;

#[cfg(feature = "vectors")]
pub use vectors::*;

/// Major version of the library (semantic versioning).
pub const SR_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const SR_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const SR_VERSION_PATCH: u32 = 0;
/// Version of the C ABI described by this header. It changes whenever a
/// function, a struct layout or a constant changes incompatibly; compare it
/// with `sr_abi_version` at run time.
pub const SR_ABI_VERSION: u32 = 3;

/// The library's version as a static NUL-terminated string ("0.1.0"); never
/// NULL, never to be freed.
#[no_mangle]
pub extern "C" fn sr_version() -> *const core::ffi::c_char {
    static V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

/// The C ABI version the library was built with (`SR_ABI_VERSION` of its
/// header).
#[no_mangle]
pub extern "C" fn sr_abi_version() -> u32 {
    SR_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package() {
        let v = format!("{SR_VERSION_MAJOR}.{SR_VERSION_MINOR}.{SR_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: sr_version returns a static NUL-terminated string.
        let s = unsafe { core::ffi::CStr::from_ptr(sr_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }
}
