//! Links for the C node: byte streams (a Bluetooth L2CAP channel, a Unix
//! socketpair) that carry datagrams to and from `SR_REMOTE_KIND_LINK`
//! remotes as frames (`docs/link-framing.md`).
//!
//! Two shapes: `sr_node_add_link_fd` hands the node a connected stream
//! socket that it polls itself; `sr_node_add_link_writer` is for channels
//! the application reads and writes (the application pushes what it reads
//! with `sr_node_link_input`, the node writes through a callback).

use core::ffi::{c_int, c_void};

use streamrelay_node::{LinkId, LinkWriter};

use crate::node_c::{on_node, SrNode};
use crate::status::SrStatus;
use crate::types::{bytes_in, check_out, put};

/// Called by the node to write a pushed link's frames: write a prefix of
/// `bytes[0..len]` to the channel and return its length (0 to `len`);
/// what is not taken stays queued and is offered again at the next turn of
/// the node's loop, or at once after `sr_node_link_writable`. It runs on the
/// node's loop thread (or the thread of an `sr_node_*` call) with the node
/// locked: it must not call any `sr_node_*` function and should not block.
pub type SrLinkWriteCallback =
    Option<unsafe extern "C" fn(context: *mut c_void, bytes: *const u8, len: usize) -> usize>;

struct CWriter {
    f: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> usize,
    context: *mut c_void,
}

// SAFETY: the context is only handed back to the host's callback, which the
// header says may run on the node's loop thread: the host made the pair
// usable there.
unsafe impl Send for CWriter {}

impl LinkWriter for CWriter {
    fn write(&mut self, bytes: &[u8]) -> usize {
        // SAFETY: the host's callback with its own context, and a buffer
        // valid for `len` bytes during the call.
        let n = unsafe { (self.f)(self.context, bytes.as_ptr(), bytes.len()) };
        n.min(bytes.len())
    }
}

/// Hands the node a link: `fd` is a connected stream socket (an L2CAP
/// socket, one end of a `socketpair(AF_UNIX, SOCK_STREAM)`, TCP) whose
/// other end speaks the same framing. On `SR_STATUS_OK` the node owns `fd`
/// (it works on a duplicate and has closed `fd`; do not use or close it),
/// makes it non-blocking, polls it on its loop thread, and closes it at
/// `sr_node_remove_link`, at end of stream or on an error; `*out_link` is
/// the link's id, the `link_id` of `SR_REMOTE_KIND_LINK` remotes in the
/// node's events and peer table. On any other status the caller still owns
/// `fd`. `SR_STATUS_TABLE_FULL` when the node has its maximum of links (16)
/// open; `SR_STATUS_INVALID_ARGUMENT` for a negative `fd` or on a platform
/// without file descriptors.
///
/// ```c
/// int sv[2];
/// socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
/// uint64_t la, lb;
/// sr_node_add_link_fd(a, sv[0], &la);
/// sr_node_add_link_fd(b, sv[1], &lb);
/// ```
///
/// # Safety
/// `node` must be NULL or a node handle; `out_link` valid for writing;
/// `fd` an open descriptor the caller owns.
#[no_mangle]
pub unsafe extern "C" fn sr_node_add_link_fd(
    node: *const SrNode,
    fd: c_int,
    out_link: *mut u64,
) -> SrStatus {
    on_node(node, |n| {
        check_out(out_link)?;
        #[cfg(unix)]
        {
            use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
            if fd < 0 {
                return Err(SrStatus::InvalidArgument);
            }
            // SAFETY: the caller owns `fd`, open for the duration of this call.
            let dup = unsafe { BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .map_err(|_| SrStatus::InvalidArgument)?;
            let link = n.add_link(dup)?;
            // SAFETY: checked; writable (caller).
            unsafe { put(out_link, link.0) }?;
            // SAFETY: the caller handed `fd` over on success; the node
            // works on its duplicate.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Ok(SrStatus::Ok)
        }
        #[cfg(not(unix))]
        {
            let _ = (n, fd);
            Err(SrStatus::InvalidArgument)
        }
    })
}

/// Hands the node a link whose bytes the application moves (a channel
/// with input and output streams): push what the channel yields with
/// `sr_node_link_input`; the node writes frames with `write(context, ..)`
/// (see `SrLinkWriteCallback`). `*out_link` is the link's id.
/// `SR_STATUS_NULL_ARGUMENT` without a callback; `SR_STATUS_TABLE_FULL`
/// when the node has its maximum of links open.
///
/// # Safety
/// `node` must be NULL or a node handle; `out_link` valid for writing;
/// `write` and `context` usable from any thread until the link is removed
/// or the node freed.
#[no_mangle]
pub unsafe extern "C" fn sr_node_add_link_writer(
    node: *const SrNode,
    write: SrLinkWriteCallback,
    context: *mut c_void,
    out_link: *mut u64,
) -> SrStatus {
    on_node(node, |n| {
        check_out(out_link)?;
        let f = write.ok_or(SrStatus::NullArgument)?;
        let link = n.add_link_writer(CWriter { f, context })?;
        // SAFETY: checked; writable (caller).
        unsafe { put(out_link, link.0) }?;
        Ok(SrStatus::Ok)
    })
}

/// Bytes read from a pushed link's channel (any amount, split anywhere):
/// the frames they complete go to the Peer now, and what it answers is
/// written through the link's callbacks. Garbage is skipped and counted
/// (`sr_node_status_json`, `links[].skipped_bytes`).
/// `SR_STATUS_UNKNOWN_LINK` if the link is not open.
///
/// # Safety
/// `node` must be NULL or a node handle; `bytes` NULL with `len` 0, or
/// `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_link_input(
    node: *const SrNode,
    link: u64,
    bytes: *const u8,
    len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contract for `bytes`.
        let bytes = unsafe { bytes_in(bytes, len) }?;
        n.link_input(LinkId(link), bytes)?;
        Ok(SrStatus::Ok)
    })
}

/// A pushed link's channel has room again: the node writes what it has
/// queued now. `SR_STATUS_UNKNOWN_LINK` if the link is not open.
///
/// # Safety
/// `node` must be NULL or a node handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_link_writable(node: *const SrNode, link: u64) -> SrStatus {
    on_node(node, |n| {
        n.link_writable(LinkId(link))?;
        Ok(SrStatus::Ok)
    })
}

/// Closes a link (and its descriptor, for an fd link).
/// `SR_STATUS_UNKNOWN_LINK` if it was not open.
///
/// # Safety
/// `node` must be NULL or a node handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_remove_link(node: *const SrNode, link: u64) -> SrStatus {
    on_node(node, |n| {
        if n.remove_link(LinkId(link)) {
            Ok(SrStatus::Ok)
        } else {
            Err(SrStatus::UnknownLink)
        }
    })
}
