//! The ready host in C: `sr_node_*`, a `Node` (crate `streamrelay-node`)
//! that owns the UDP sockets, one loop thread and a state file.
//!
//! Build it with a builder handle (`sr_node_builder_new`, setters,
//! `sr_node_start`); the Peer's own settings come from an `SrConfig`
//! (`sr_node_builder_set_config`). Read events with `sr_node_next_event`,
//! from your own poll loop through `sr_node_event_fd` (readable while
//! events may be queued) or after a callback (`sr_node_builder_set_event_callback`).
//!
//! Unlike a peer handle, a node handle is thread-safe: every `sr_node_*`
//! call may come from any thread, at the same time as others (commands
//! never return `SR_STATUS_BUSY`). Events are read by one thread at a time.

use core::ffi::{c_int, c_void};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamrelay::crypto::identity::{KeyPair, SharedKey};
use streamrelay::peer::{Config, Event, PeerId};
use streamrelay_node::{Node, NodeBuilder, NodeError, NodeEvent};

use crate::event::{describe, SrEvent, SrEventData, SrEventKind};
use crate::handle::{free, guard, register, with, with_shared, Header, Object, SrConfig};
use crate::node_status::NodeStatus;
use crate::status::SrStatus;
use crate::types::{
    array32, bytes_in, check_out, copy_out, get, put, put_sized, struct_size, text_in, SrBytes,
    SrRemote, SrSocketId,
};

/// `sr_node_next_event`'s `timeout_ms` that waits until an event comes or
/// the node is closed.
pub const SR_NODE_WAIT_FOREVER: u32 = u32::MAX;

/// Called on the node's loop thread when its event queue goes from empty to
/// non-empty, with the `context` given to
/// `sr_node_builder_set_event_callback`. It must return quickly and must not
/// call any `sr_node_*` function (the node is locked meanwhile): wake your
/// own loop and read the events from there.
pub type SrNodeEventCallback = Option<unsafe extern "C" fn(context: *mut c_void)>;

/// Settings for `sr_node_start`. Made by `sr_node_builder_new`, released by
/// `sr_node_builder_free`; `sr_node_start` copies it, so it can be reused or
/// freed at once. Same thread rules as `SrConfig`.
pub struct SrNodeBuilder {
    header: Header,
    state: core::cell::UnsafeCell<BuilderState>,
}

/// A running node: UDP sockets, a loop thread, a state file. Made by
/// `sr_node_start`, released by `sr_node_free` (which closes it first).
/// Thread-safe: any thread may call any `sr_node_*` function on it, at the
/// same time as others.
pub struct SrNode {
    header: Header,
    state: core::cell::UnsafeCell<NodeState>,
}

/// A host's callback and its context (the host vouches that both may be
/// used from the loop thread: see `sr_node_builder_set_event_callback`).
#[derive(Clone, Copy)]
struct Callback {
    f: unsafe extern "C" fn(*mut c_void),
    context: *mut c_void,
}

// SAFETY: the context pointer is never dereferenced here, only passed back
// to the host's callback; the header tells the host that the callback runs
// on the node's loop thread, so the host makes (f, context) usable there.
unsafe impl Send for Callback {}
// SAFETY: as above: nothing is shared through `&Callback` but the copy of
// two values the host promised are usable from another thread.
unsafe impl Sync for Callback {}

#[derive(Clone, Default)]
pub(crate) struct BuilderState {
    config: Option<Config>,
    peer_id: Option<PeerId>,
    signing_seed: Option<[u8; 32]>,
    bind: Option<SocketAddr>,
    state_file: Option<PathBuf>,
    save_interval_ms: Option<u64>,
    event_capacity: Option<usize>,
    seed: Option<[u8; 32]>,
    callback: Option<Callback>,
}

/// What a node handle holds.
pub(crate) struct NodeState {
    node: Node,
    /// The reader's side: the last event handed to C (borrowed fields point
    /// into it) and the wake-up fd.
    reader: Arc<Mutex<Reader>>,
    #[cfg(unix)]
    signal: Arc<Signal>,
}

struct Reader {
    event: Option<NodeEvent>,
    sockets: Vec<SrSocketId>,
    /// `Event::Closed` was handed out: the queue is finished.
    closed: bool,
}

impl Drop for NodeState {
    fn drop(&mut self) {
        // Other threads may hold clones mid-call: close explicitly (saves
        // the state file, ends the loop, wakes every waiting reader).
        let _ = self.node.close();
    }
}

/// A self-pipe made of a datagram socket pair: the loop thread writes a
/// byte when events arrive, the host polls the reading end.
#[cfg(unix)]
struct Signal {
    read: std::os::unix::net::UnixDatagram,
    write: std::os::unix::net::UnixDatagram,
}

#[cfg(unix)]
impl Signal {
    fn new() -> std::io::Result<Signal> {
        let (read, write) = std::os::unix::net::UnixDatagram::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        Ok(Signal { read, write })
    }

    /// Makes the fd readable (a full buffer means it already is).
    fn raise(&self) {
        let _ = self.write.send(&[1]);
    }

    /// Makes the fd not readable.
    fn clear(&self) {
        let mut b = [0u8; 16];
        while self.read.recv(&mut b).is_ok() {}
    }
}

impl Object for SrNodeBuilder {
    const MAGIC: u64 = u64::from_be_bytes(*b"SRNBLD\x00\x01");
    type State = BuilderState;
    fn make(header: Header, state: BuilderState) -> Self {
        SrNodeBuilder {
            header,
            state: core::cell::UnsafeCell::new(state),
        }
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn state(&self) -> &core::cell::UnsafeCell<BuilderState> {
        &self.state
    }
}

impl Object for SrNode {
    const MAGIC: u64 = u64::from_be_bytes(*b"SRNODE\x00\x01");
    type State = NodeState;
    fn make(header: Header, state: NodeState) -> Self {
        SrNode {
            header,
            state: core::cell::UnsafeCell::new(state),
        }
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn state(&self) -> &core::cell::UnsafeCell<NodeState> {
        &self.state
    }
}

// A node handle is reached from several threads at once (`with_shared`).
const _: () = {
    fn sync<T: Sync + Send>() {}
    fn assert_node_state_is_sync() {
        sync::<NodeState>();
    }
    let _ = assert_node_state_is_sync;
};

impl From<NodeError> for SrStatus {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Config(e) => e.into(),
            NodeError::Peer(e) => e.into(),
            NodeError::State { .. } => SrStatus::StateFile,
            NodeError::Closed => SrStatus::Closed,
            NodeError::UnknownLink(_) => SrStatus::UnknownLink,
            NodeError::TooManyLinks { .. } => SrStatus::TableFull,
            _ => SrStatus::Io,
        }
    }
}

fn on_builder(
    b: *mut SrNodeBuilder,
    f: impl FnOnce(&mut BuilderState) -> Result<(), SrStatus>,
) -> SrStatus {
    guard(|| with(b, f).map(|()| SrStatus::Ok))
}

/// The node behind a handle (a clone: the call runs without holding the
/// registry).
fn node_of(node: *const SrNode) -> Result<Node, SrStatus> {
    with_shared(node, |s| s.node.clone())
}

pub(crate) fn on_node(
    node: *const SrNode,
    f: impl FnOnce(&Node) -> Result<SrStatus, SrStatus>,
) -> SrStatus {
    guard(|| f(&node_of(node)?))
}

/// Makes a node builder with the defaults: bind `[::]` (dual stack where
/// the OS allows, else `0.0.0.0`) on a port the OS chooses, no state file,
/// state saved every 60000 ms, 1024 events queued at most, and the Peer's
/// defaults (no cluster: set one with `sr_node_builder_set_config`). Free it
/// with `sr_node_builder_free`.
///
/// # Safety
/// `out_builder` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_new(out_builder: *mut *mut SrNodeBuilder) -> SrStatus {
    guard(|| {
        check_out(out_builder)?;
        let ptr = register::<SrNodeBuilder>(BuilderState::default());
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_builder, ptr) }?;
        Ok(SrStatus::Ok)
    })
}

/// Releases a builder. NULL is a no-op; `SR_STATUS_INVALID_HANDLE` for a
/// pointer that is not a live builder.
///
/// # Safety
/// `builder` must be NULL or a pointer from `sr_node_builder_new` (a stale
/// or garbage pointer is detected and refused, not dereferenced).
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_free(builder: *mut SrNodeBuilder) -> SrStatus {
    guard(|| free(builder))
}

/// The Peer's settings (cluster id, introducers, introducer mode, NAT type,
/// keepalive, limits, timings, ...), copied from `config`. Not taken from
/// it: the peer id and the signing keys (the node's identity: see
/// `sr_node_builder_set_peer_id`) and the wall-clock offset (the node keeps
/// it current itself).
///
/// # Safety
/// `builder` must be NULL or a builder handle; `config` NULL or a config
/// handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_config(
    builder: *mut SrNodeBuilder,
    config: *const SrConfig,
) -> SrStatus {
    guard(|| {
        let config = with(config, |c| Ok(c.clone()))?;
        with(builder, |b| {
            b.config = Some(config);
            Ok(SrStatus::Ok)
        })
    })
}

/// The node's peer id (32 bytes). Default: the state file's, else a new
/// random one. Set it for an introducer whose id others are given.
///
/// # Safety
/// `builder` must be NULL or a builder handle; `peer_id` must point to
/// `peer_id_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_peer_id(
    builder: *mut SrNodeBuilder,
    peer_id: *const u8,
    peer_id_len: usize,
) -> SrStatus {
    on_builder(builder, |b| {
        // SAFETY: the caller's contract for `peer_id`.
        b.peer_id = Some(PeerId(unsafe { array32(peer_id, peer_id_len) }?));
        Ok(())
    })
}

/// The 32-byte seed of the key pair that signs what the node publishes
/// (`sr_create_key_pair`'s seed). Default: the state file's, else new.
///
/// # Safety
/// `builder` must be NULL or a builder handle; `seed` must point to
/// `seed_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_signing_seed(
    builder: *mut SrNodeBuilder,
    seed: *const u8,
    seed_len: usize,
) -> SrStatus {
    on_builder(builder, |b| {
        // SAFETY: the caller's contract for `seed`.
        b.signing_seed = Some(unsafe { array32(seed, seed_len) }?);
        Ok(())
    })
}

/// Where the main socket binds: a UDP `SrRemote` (IPv4 or IPv6 address and
/// port; port 0: the OS chooses). The probe and pool sockets bind the same
/// address on ports the OS chooses. NULL restores the default (`[::]`).
///
/// # Safety
/// `builder` must be NULL or a builder handle; `address` NULL or valid for
/// reading an `SrRemote`.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_bind(
    builder: *mut SrNodeBuilder,
    address: *const SrRemote,
) -> SrStatus {
    on_builder(builder, |b| {
        b.bind = if address.is_null() {
            None
        } else {
            // SAFETY: non-NULL; readable (caller); plain integers.
            Some(unsafe { get(address) }?.to_socket_addr()?)
        };
        Ok(())
    })
}

/// The state file (a UTF-8 path, not NUL-terminated; length 0 clears it):
/// read at start (identity, peers, subclusters, cache, unpublished
/// packets), written atomically while running and at close. It holds
/// secret keys (mode 0600).
///
/// # Safety
/// `builder` must be NULL or a builder handle; `path` must point to
/// `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_state_file(
    builder: *mut SrNodeBuilder,
    path: *const u8,
    path_len: usize,
) -> SrStatus {
    on_builder(builder, |b| {
        // SAFETY: the caller's contract for `path`.
        let p = unsafe { text_in(path, path_len) }?;
        if p.contains('\0') {
            return Err(SrStatus::InvalidArgument);
        }
        b.state_file = (!p.is_empty()).then(|| PathBuf::from(p));
        Ok(())
    })
}

/// How often the state file is written while running, in ms (60000; at
/// least 100).
///
/// # Safety
/// `builder` must be NULL or a builder handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_save_interval_ms(
    builder: *mut SrNodeBuilder,
    interval_ms: u64,
) -> SrStatus {
    on_builder(builder, |b| {
        b.save_interval_ms = Some(interval_ms);
        Ok(())
    })
}

/// Events held for the host before new ones are dropped and counted (1024;
/// at least 1). `SR_EVENT_KIND_CLOSED` always gets in, last.
///
/// # Safety
/// `builder` must be NULL or a builder handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_event_capacity(
    builder: *mut SrNodeBuilder,
    capacity: usize,
) -> SrStatus {
    on_builder(builder, |b| {
        b.event_capacity = Some(capacity);
        Ok(())
    })
}

/// The Peer's random seed (32 bytes; default: from the OS). Fixed seeds are
/// for tests.
///
/// # Safety
/// `builder` must be NULL or a builder handle; `seed` must point to
/// `seed_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_seed(
    builder: *mut SrNodeBuilder,
    seed: *const u8,
    seed_len: usize,
) -> SrStatus {
    on_builder(builder, |b| {
        // SAFETY: the caller's contract for `seed`.
        b.seed = Some(unsafe { array32(seed, seed_len) }?);
        Ok(())
    })
}

/// A callback run on the node's loop thread when its event queue goes from
/// empty to non-empty (see `SrNodeEventCallback`: it must not call the
/// node). NULL removes it. `context` is passed back as is; the host makes
/// sure it is usable from that thread until `sr_node_free` returns.
///
/// # Safety
/// `builder` must be NULL or a builder handle; `callback`, when set, must
/// be safe to call from another thread with `context`.
#[no_mangle]
pub unsafe extern "C" fn sr_node_builder_set_event_callback(
    builder: *mut SrNodeBuilder,
    callback: SrNodeEventCallback,
    context: *mut c_void,
) -> SrStatus {
    on_builder(builder, |b| {
        b.callback = callback.map(|f| Callback { f, context });
        Ok(())
    })
}

impl BuilderState {
    fn node_builder(&self, notify: impl Fn() + Send + Sync + 'static) -> NodeBuilder {
        let mut nb = Node::builder();
        if let Some(c) = &self.config {
            let c = c.clone();
            nb = nb.configure(move |dst| {
                *dst = Config {
                    // The node's identity, not the config's.
                    peer_id: std::mem::take(&mut dst.peer_id),
                    signing_keys: dst.signing_keys.take(),
                    ..c
                }
            });
        }
        if let Some(id) = self.peer_id {
            nb = nb.peer_id(id);
        }
        if let Some(seed) = &self.signing_seed {
            nb = nb.signing_keys(&KeyPair::from_seed(seed));
        }
        let bind = self
            .bind
            .unwrap_or(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0));
        nb = nb.bind(bind.ip()).port(bind.port());
        if let Some(p) = &self.state_file {
            nb = nb.state_file(p.clone());
        }
        if let Some(ms) = self.save_interval_ms {
            nb = nb.save_interval(Duration::from_millis(ms));
        }
        if let Some(n) = self.event_capacity {
            nb = nb.event_capacity(n);
        }
        if let Some(s) = self.seed {
            nb = nb.seed(s);
        }
        nb.on_event(notify)
    }
}

/// Starts a node: binds its sockets, restores the state file if there is
/// one, and starts its loop thread. The builder stays the caller's.
///
/// Returns `SR_STATUS_INVALID_CONFIG` (the Peer refused the config: no
/// cluster id for a peer that is not an introducer, a zero limit, ...) or
/// `SR_STATUS_IO` (a socket would not bind, the loop could not start).
///
/// # Safety
/// `builder` must be NULL or a builder handle; `out_node` valid for writing
/// a pointer.
#[no_mangle]
pub unsafe extern "C" fn sr_node_start(
    builder: *mut SrNodeBuilder,
    out_node: *mut *mut SrNode,
) -> SrStatus {
    guard(|| {
        let b = with(builder, |b| Ok(b.clone()))?;
        check_out(out_node)?;
        #[cfg(unix)]
        let signal = Arc::new(Signal::new().map_err(|_| SrStatus::Io)?);
        #[cfg(unix)]
        let raise = signal.clone();
        let callback = b.callback;
        let notify = move || {
            #[cfg(unix)]
            raise.raise();
            if let Some(cb) = callback {
                // SAFETY: the host's callback with its context, on the loop
                // thread, as `sr_node_builder_set_event_callback` promised.
                unsafe { (cb.f)(cb.context) };
            }
        };
        let node = b.node_builder(notify).start()?;
        let state = NodeState {
            node,
            reader: Arc::new(Mutex::new(Reader {
                event: None,
                sockets: Vec::new(),
                closed: false,
            })),
            #[cfg(unix)]
            signal,
        };
        let ptr = register::<SrNode>(state);
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_node, ptr) }?;
        Ok(SrStatus::Ok)
    })
}

/// Closes the node (as `sr_node_close`, if it is not closed yet) and
/// releases it; events and byte fields it lent become invalid. NULL is a
/// no-op. `SR_STATUS_INVALID_HANDLE` for a pointer that is not a live node
/// (a double free is refused, not performed). Calls still running on
/// other threads finish safely (with `SR_STATUS_CLOSED` or an event they
/// already took); later ones get `SR_STATUS_INVALID_HANDLE`.
///
/// # Safety
/// `node` must be NULL or a pointer from `sr_node_start`.
#[no_mangle]
pub unsafe extern "C" fn sr_node_free(node: *mut SrNode) -> SrStatus {
    guard(|| free(node))
}

/// Copies the node's peer id (32 bytes) into `out_id` (at least 32 bytes).
///
/// # Safety
/// `node` must be NULL or a node handle; `out_id` must point to
/// `out_id_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_get_id(
    node: *const SrNode,
    out_id: *mut u8,
    out_id_len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contract for `out_id`.
        unsafe { copy_out(out_id, out_id_len, &n.peer_id().0) }?;
        Ok(SrStatus::Ok)
    })
}

/// Where the main socket is bound (address and port).
///
/// # Safety
/// `node` must be NULL or a node handle; `out_address` valid for writing an
/// `SrRemote`.
#[no_mangle]
pub unsafe extern "C" fn sr_node_local_address(
    node: *const SrNode,
    out_address: *mut SrRemote,
) -> SrStatus {
    on_node(node, |n| {
        check_out(out_address)?;
        // SAFETY: checked; writable (caller).
        unsafe { put(out_address, SrRemote::from_socket_addr(&n.local_addr())) }?;
        Ok(SrStatus::Ok)
    })
}

/// Joins the subcluster of the 32-byte `shared_key` (`sr_create_shared_key`)
/// and copies its id (32 bytes) into `out_subcluster_id` unless that is NULL.
///
/// Returns `SR_STATUS_NO_CLUSTER`, `SR_STATUS_TOO_MANY_SUBCLUSTERS` or
/// `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `node` must be NULL or a node handle; `shared_key` must point to
/// `shared_key_len` readable bytes; `out_subcluster_id` NULL or 32 writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_join(
    node: *const SrNode,
    shared_key: *const u8,
    shared_key_len: usize,
    out_subcluster_id: *mut u8,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contract for `shared_key`.
        let key = SharedKey::from_bytes(unsafe { array32(shared_key, shared_key_len) }?);
        let id = n.join(&key)?;
        if !out_subcluster_id.is_null() {
            // SAFETY: the caller's contract: 32 writable bytes.
            unsafe { copy_out(out_subcluster_id, 32, &id) }?;
        }
        Ok(SrStatus::Ok)
    })
}

/// Leaves the subcluster `subcluster_id` (32 bytes). `SR_STATUS_EMPTY` when
/// the node was not in it.
///
/// # Safety
/// `node` must be NULL or a node handle; `subcluster_id` must point to
/// `subcluster_id_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_leave(
    node: *const SrNode,
    subcluster_id: *const u8,
    subcluster_id_len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contract for `subcluster_id`.
        let id = unsafe { array32(subcluster_id, subcluster_id_len) }?;
        Ok(if n.leave(id) {
            SrStatus::Ok
        } else {
            SrStatus::Empty
        })
    })
}

/// Publishes `payload` as the event `event_name` (UTF-8, not
/// NUL-terminated) to the subcluster of the 32-byte `shared_key`, joining
/// it first if needed. A publish that reaches nobody yet is kept (and saved
/// in the state file) and sent when peers come.
///
/// Returns `SR_STATUS_NO_CLUSTER`, `SR_STATUS_TOO_LARGE`,
/// `SR_STATUS_PACK_FAILED` (e.g. an empty event name) or `SR_STATUS_CLOSED`
/// when refused.
///
/// # Safety
/// `node` must be NULL or a node handle; each buffer must point to its
/// length of readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_publish(
    node: *const SrNode,
    shared_key: *const u8,
    shared_key_len: usize,
    event_name: *const u8,
    event_name_len: usize,
    payload: *const u8,
    payload_len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contracts for the three buffers.
        let (key, name, payload) = unsafe {
            (
                SharedKey::from_bytes(array32(shared_key, shared_key_len)?),
                text_in(event_name, event_name_len)?,
                bytes_in(payload, payload_len)?,
            )
        };
        n.publish(&key, name, payload)?;
        Ok(SrStatus::Ok)
    })
}

/// Streams `payload` as the event `event_name` to one peer of the table
/// (32-byte `to`), sealed with the subcluster key of `shared_key`.
///
/// Returns `SR_STATUS_UNKNOWN_PEER` and the errors of `sr_node_publish`.
///
/// # Safety
/// As `sr_node_publish`; `to` must point to `to_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_stream(
    node: *const SrNode,
    to: *const u8,
    to_len: usize,
    shared_key: *const u8,
    shared_key_len: usize,
    event_name: *const u8,
    event_name_len: usize,
    payload: *const u8,
    payload_len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contracts for the four buffers.
        let (to, key, name, payload) = unsafe {
            (
                PeerId(array32(to, to_len)?),
                SharedKey::from_bytes(array32(shared_key, shared_key_len)?),
                text_in(event_name, event_name_len)?,
                bytes_in(payload, payload_len)?,
            )
        };
        n.stream(&to, &key, name, payload)?;
        Ok(SrStatus::Ok)
    })
}

/// Asks the network a question (`question_json`, a JSON object such as
/// `{"packetId":"<hex>"}`); answers come as `SR_EVENT_KIND_ANSWER` with
/// the query id, copied to `out_query_id` (at least `SR_MAX_ID_LEN` bytes)
/// and its length to `out_query_id_len_written`.
///
/// Returns `SR_STATUS_INVALID_JSON`, `SR_STATUS_TOO_LARGE`,
/// `SR_STATUS_DUPLICATE_QUERY`, `SR_STATUS_BUFFER_TOO_SMALL` (checked before
/// anything is sent) or `SR_STATUS_CLOSED`.
///
/// # Safety
/// `node` must be NULL or a node handle; `question_json` must point to
/// `question_json_len` readable bytes; `out_query_id` to `out_query_id_len`
/// writable bytes; `out_query_id_len_written` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_node_query(
    node: *const SrNode,
    question_json: *const u8,
    question_json_len: usize,
    out_query_id: *mut u8,
    out_query_id_len: usize,
    out_query_id_len_written: *mut usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contracts, forwarded.
        unsafe {
            crate::dataplane::query_io(
                question_json,
                question_json_len,
                out_query_id,
                out_query_id_len,
                out_query_id_len_written,
                |q| Ok(n.query(q)?),
            )
        }
    })
}

/// Starts a cache Sync with a peer of the table (32-byte `peer_id`).
///
/// Returns `SR_STATUS_UNKNOWN_PEER` or `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `node` must be NULL or a node handle; `peer_id` must point to
/// `peer_id_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_node_sync(
    node: *const SrNode,
    peer_id: *const u8,
    peer_id_len: usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: the caller's contract for `peer_id`.
        let id = PeerId(unsafe { array32(peer_id, peer_id_len) }?);
        n.sync(&id)?;
        Ok(SrStatus::Ok)
    })
}

/// Copies `bytes` out with the caller-buffer contract: the length needed
/// always goes to `out_len`; `SR_STATUS_BUFFER_TOO_SMALL` when `cap` is
/// less (nothing copied; `out` may then be NULL).
///
/// # Safety
/// `out` NULL or `cap` writable bytes; `out_len` valid for writing.
unsafe fn sized_out(
    bytes: &[u8],
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<SrStatus, SrStatus> {
    check_out(out_len)?;
    // SAFETY: checked; writable (caller).
    unsafe { put(out_len, bytes.len()) }?;
    if cap < bytes.len() {
        return Err(SrStatus::BufferTooSmall);
    }
    if !bytes.is_empty() {
        // SAFETY: the caller's contract for `out`.
        unsafe { copy_out(out, cap, bytes) }?;
    }
    Ok(SrStatus::Ok)
}

/// The Peer's state as bytes (what the state file holds after the node's
/// header): `sr_peer_restore` reads it. Its length always goes to
/// `out_len`; `SR_STATUS_BUFFER_TOO_SMALL` when `buf_len` is less (call
/// again with a larger buffer; `buf` may be NULL to ask the size).
///
/// # Safety
/// `node` must be NULL or a node handle; `buf` NULL or `buf_len` writable
/// bytes; `out_len` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_node_snapshot(
    node: *const SrNode,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> SrStatus {
    on_node(node, |n| {
        // SAFETY: forwarded contract.
        unsafe { sized_out(&n.snapshot(), buf, buf_len, out_len) }
    })
}

/// Writes the state file now (atomically). `SR_STATUS_EMPTY` when the node
/// has none; `SR_STATUS_STATE_FILE` when it could not be written. Blocks
/// for the write and its fsync.
///
/// # Safety
/// `node` must be NULL or a node handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_save(node: *const SrNode) -> SrStatus {
    on_node(node, |n| {
        Ok(if n.save()? {
            SrStatus::Ok
        } else {
            SrStatus::Empty
        })
    })
}

/// Tells the node the network changed (an interface went away or came
/// back, another Wi-Fi, a handover): sockets bound to an address that is
/// gone are bound again, reflection runs again at once and every subcluster
/// is joined again. A socket the OS reclaimed while its address stayed (iOS
/// does this to suspended apps) is not re-bound: start a new node from the
/// state file instead.
/// Call it from the platform's hook (netlink, `NWPathMonitor`,
/// `ConnectivityManager.NetworkCallback`). Does not block.
///
/// # Safety
/// `node` must be NULL or a node handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_network_changed(node: *const SrNode) -> SrStatus {
    on_node(node, |n| {
        n.network_changed();
        Ok(SrStatus::Ok)
    })
}

/// Stops the node: writes the state file, closes the Peer and every socket,
/// ends the loop thread (waits for it) and queues `SR_EVENT_KIND_CLOSED`
/// last; events queued before stay readable. `SR_STATUS_STATE_FILE` when
/// the state could not be written (the node is closed all the same),
/// `SR_STATUS_CLOSED` when it was closed already. Other calls then return
/// `SR_STATUS_CLOSED` (commands) or still work (status, events).
///
/// # Safety
/// `node` must be NULL or a node handle.
#[no_mangle]
pub unsafe extern "C" fn sr_node_close(node: *const SrNode) -> SrStatus {
    on_node(node, |n| {
        n.close()?;
        Ok(SrStatus::Ok)
    })
}

/// The node's status as one JSON object (UTF-8, not NUL-terminated):
/// `peer_id`, `nat`, `public_endpoint`, `local`, `probe`, `pool_sockets`,
/// `peers` (each `peer_id`, `address`, `nat`, `connected`, `indexed`,
/// `proxy`, `rtt_ms`), `datagrams_in`, `bytes_in`, `datagrams_out`,
/// `bytes_out`, `wakeups`, `node_drops` and `peer_drops` (each `reason`,
/// `count`), `events_dropped`, `events_queued`, `state_saves`,
/// `published`, `delivered`, `relayed`, `restore_error`; ids in hex,
/// addresses as "ip:port", unknown values `null`. New keys may be added.
/// Buffer contract as `sr_node_snapshot`.
///
/// # Safety
/// `node` must be NULL or a node handle; `buf` NULL or `buf_len` writable
/// bytes; `out_len` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_node_status_json(
    node: *const SrNode,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> SrStatus {
    on_node(node, |n| {
        let json = NodeStatus::of(n).to_json();
        // SAFETY: forwarded contract.
        unsafe { sized_out(json.as_bytes(), buf, buf_len, out_len) }
    })
}

/// A file descriptor that is readable while events may be queued: put it
/// in your own `poll`/`epoll`/`kqueue` loop and, when it is readable, call
/// `sr_node_next_event` with timeout 0 until it returns
/// `SR_STATUS_EMPTY` (which also makes the fd not readable) or
/// `SR_STATUS_CLOSED`. The node owns it: do not read, write or close it; it
/// is valid until `sr_node_free`. `SR_STATUS_INVALID_ARGUMENT` on a
/// platform without one (not Unix): use the callback there.
///
/// # Safety
/// `node` must be NULL or a node handle; `out_fd` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_node_event_fd(node: *const SrNode, out_fd: *mut c_int) -> SrStatus {
    guard(|| {
        check_out(out_fd)?;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let fd = with_shared(node, |s| s.signal.read.as_raw_fd())?;
            // SAFETY: checked; writable (caller).
            unsafe { put(out_fd, fd) }?;
            Ok(SrStatus::Ok)
        }
        #[cfg(not(unix))]
        {
            with_shared(node, |_| ())?;
            Err(SrStatus::InvalidArgument)
        }
    })
}

/// Values of `SrNodeEvent::kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrNodeEventKind {
    /// `event` is set: an event of the Peer (as `sr_peer_poll_event`
    /// describes them; pool-socket events never come, the node handles
    /// them). `SR_EVENT_KIND_CLOSED` is the last one.
    Peer = 1,
    /// `error` is set: something the node could not do and carried on
    /// without (a pool socket that would not bind, a state file that could
    /// not be written), as UTF-8 text.
    Error = 2,
    /// `link_id` is set: that link ended (end of stream, an error, or
    /// `sr_node_remove_link`) and the node closed its descriptor; `error`
    /// says why, as UTF-8 text.
    LinkClosed = 3,
}

/// One node event. Set `struct_size` to `sizeof(SrNodeEvent)` before
/// `sr_node_next_event`. Pointer fields (in `event` and `error`) borrow
/// from the node handle and stay valid until the next `sr_node_next_event`
/// on it or `sr_node_free`; copy what you keep.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SrNodeEvent {
    /// `sizeof(SrNodeEvent)`, set by the caller.
    pub struct_size: u32,
    /// Which of `event` and `error` is set.
    pub kind: SrNodeEventKind,
    /// `SR_NODE_EVENT_KIND_PEER`: the event (its `struct_size` is set by
    /// the library).
    pub event: SrEvent,
    /// `SR_NODE_EVENT_KIND_ERROR`: what went wrong;
    /// `SR_NODE_EVENT_KIND_LINK_CLOSED`: why the link closed.
    pub error: SrBytes,
    /// `SR_NODE_EVENT_KIND_LINK_CLOSED`: the link's id.
    pub link_id: u64,
    /// Zero: room to grow.
    pub reserved: [u64; 3],
}

/// The next event, waiting up to `timeout_ms` (0: do not wait;
/// `SR_NODE_WAIT_FOREVER`: until one comes or the node is closed), into
/// `out_event` (whose `struct_size` the caller set).
///
/// Returns `SR_STATUS_OK` (an event), `SR_STATUS_EMPTY` (none within the
/// timeout), `SR_STATUS_CLOSED` (the node is closed and every event was
/// read) or `SR_STATUS_BUSY` (another thread is reading events from this
/// node: read them from one thread).
///
/// # Safety
/// `node` must be NULL or a node handle; `out_event` valid for reading and
/// writing an `SrNodeEvent`.
#[no_mangle]
pub unsafe extern "C" fn sr_node_next_event(
    node: *const SrNode,
    timeout_ms: u32,
    out_event: *mut SrNodeEvent,
) -> SrStatus {
    guard(|| {
        #[cfg(unix)]
        let (n, reader, signal) = with_shared(node, |s| {
            (s.node.clone(), s.reader.clone(), s.signal.clone())
        })?;
        #[cfg(not(unix))]
        let (n, reader) = with_shared(node, |s| (s.node.clone(), s.reader.clone()))?;
        // Validate before taking the event off the queue.
        // SAFETY: the caller's contract for `out_event`.
        unsafe { struct_size(out_event) }?;
        let mut r = match reader.try_lock() {
            Ok(r) => r,
            Err(std::sync::TryLockError::WouldBlock) => return Err(SrStatus::Busy),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        if r.closed {
            return Err(SrStatus::Closed);
        }
        let mut ev = n.try_next_event();
        if ev.is_none() {
            // Clear the fd, then look again: an event queued after the
            // first look raised it again or is seen now (no lost wake-up).
            #[cfg(unix)]
            signal.clear();
            ev = match timeout_ms {
                0 => n.try_next_event(),
                SR_NODE_WAIT_FOREVER => n.next_event(None),
                ms => n.next_event(Some(Duration::from_millis(ms.into()))),
            };
        }
        let Some(ev) = ev else {
            return Ok(SrStatus::Empty);
        };
        let r = &mut *r;
        let ev = r.event.insert(ev);
        // The `event` member of a node event that is not a Peer event.
        let no_event = || SrEvent {
            struct_size: core::mem::size_of::<SrEvent>() as u32,
            kind: SrEventKind::Unknown,
            data: SrEventData { reserved: [0; 48] },
        };
        let mut link_id = 0;
        let (kind, event, error) = match ev {
            NodeEvent::Peer(pe) => {
                r.closed = matches!(pe, Event::Closed);
                let (k, data) = describe(pe, &mut r.sockets);
                let event = SrEvent {
                    struct_size: core::mem::size_of::<SrEvent>() as u32,
                    kind: k,
                    data,
                };
                (SrNodeEventKind::Peer, event, SrBytes::of(&[]))
            }
            NodeEvent::Error(text) => (
                SrNodeEventKind::Error,
                no_event(),
                SrBytes::of(text.as_bytes()),
            ),
            NodeEvent::LinkClosed { link, reason } => {
                link_id = link.0;
                (
                    SrNodeEventKind::LinkClosed,
                    no_event(),
                    SrBytes::of(reason.as_bytes()),
                )
            }
            // A newer node's event this ABI cannot describe.
            _ => (SrNodeEventKind::Peer, no_event(), SrBytes::of(&[])),
        };
        // SAFETY: checked by `struct_size` above; writable (caller).
        unsafe {
            put_sized(out_event, |struct_size| SrNodeEvent {
                struct_size,
                kind,
                event,
                error,
                link_id,
                reserved: [0; 3],
            })
        }?;
        Ok(SrStatus::Ok)
    })
}
