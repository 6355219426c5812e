//! The C ABI modules of ffi/src (the `extern "C"` entry points behind
//! include/streamrelay.h), compiled as an rlib for the `ffi` fuzz target.
//! The files are ffi/'s own, included by path, so nothing in ffi/ changes
//! and the fuzzer always tests the current sources; the UniFFI and JNI
//! faces of ffi/ are left out (they are not the C ABI, and their
//! dependencies are heavy). Keep the module list in step with
//! ffi/src/lib.rs.
#![allow(missing_docs, unknown_lints, clippy::all)]

#[path = "../../../ffi/src/config.rs"]
mod config;
#[path = "../../../ffi/src/dataplane.rs"]
mod dataplane;
#[path = "../../../ffi/src/event.rs"]
mod event;
#[path = "../../../ffi/src/handle.rs"]
mod handle;
#[path = "../../../ffi/src/inspect.rs"]
mod inspect;
#[path = "../../../ffi/src/keys.rs"]
mod keys;
#[path = "../../../ffi/src/packet.rs"]
mod packet;
#[path = "../../../ffi/src/peer.rs"]
mod peer;
#[path = "../../../ffi/src/status.rs"]
mod status;
#[path = "../../../ffi/src/types.rs"]
mod types;

pub use config::*;
pub use dataplane::*;
pub use event::*;
pub use handle::{sr_live_handles, SrConfig, SrPeer};
pub use inspect::*;
pub use keys::*;
pub use packet::*;
pub use peer::*;
pub use status::*;
pub use types::*;
