//! The ready host for Swift and Kotlin: `Node` (crate `streamrelay-node`)
//! as a UniFFI object.
//!
//! A child module of `uniffi_api`, so it reuses that face's records and
//! conversions (`PeerConfig`, `PeerEvent`, `Remote`, `StreamRelayError`)
//! instead of mirroring them again. The status record comes from the table
//! in `node_status.rs`, shared with the C face.
//!
//! What waits is `async` (`save`, `shutdown`: Swift `async`, Kotlin
//! `suspend`): the blocking work runs on a thread of its own and the
//! foreign executor is never blocked. Events reach the host through a
//! `NodeListener` (`subscribe`), called on a thread of the node's; the
//! hand-written `Node+Events.swift` and `NodeEvents.kt` turn it into an
//! `AsyncStream` and a `Flow`.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use streamrelay::crypto::identity::KeyPair as CoreKeyPair;
use streamrelay::peer::{Event, PeerId};
use streamrelay::wire::control::QueryQuestion;
use streamrelay_node::{
    LinkId, LinkWriter as CoreLinkWriter, Node as CoreNode, NodeError, NodeEvent as CoreNodeEvent,
};

use super::{id32, invalid, PeerConfig, PeerEvent, Remote, Res, StreamRelayError};
use crate::node_status::NodeStatus;

impl From<NodeError> for StreamRelayError {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Config(e) => e.into(),
            NodeError::Peer(e) => e.into(),
            NodeError::Closed => StreamRelayError::Closed,
            NodeError::UnknownLink(l) => StreamRelayError::UnknownLink { link: l.0 },
            NodeError::TooManyLinks { .. } => StreamRelayError::TableFull,
            NodeError::State { .. } => StreamRelayError::StateFile {
                reason: e.to_string(),
            },
            other => StreamRelayError::Io {
                reason: other.to_string(),
            },
        }
    }
}

/// How to start a `Node`. Only `config` is required.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NodeOptions {
    /// The Peer's settings (cluster id, introducers, introducer mode, NAT
    /// type, keepalive, limits, ...). Not taken from it: `peer_id` and
    /// `signing_secret_key` (the node's identity: `peer_id` and
    /// `signing_seed` below, else the state file's, else new) and
    /// `wall_clock_offset_ms` (the node keeps it current).
    pub config: PeerConfig,
    /// The node's 32-byte peer id (default: the state file's, else new).
    #[uniffi(default = None)]
    pub peer_id: Option<Vec<u8>>,
    /// The 32-byte seed of its signing key pair (default: the state
    /// file's, else new).
    #[uniffi(default = None)]
    pub signing_seed: Option<Vec<u8>>,
    /// The IP address to bind ("127.0.0.1", "::"); default `::`, dual
    /// stack where the OS allows, else `0.0.0.0`.
    #[uniffi(default = None)]
    pub bind_ip: Option<String>,
    /// The main socket's port (0: the OS chooses).
    #[uniffi(default = 0)]
    pub port: u16,
    /// The state file: read at start, written atomically every
    /// `save_interval_ms` and at close. It holds secret keys (mode 0600).
    /// On iOS and Android put it in the app's private files directory.
    #[uniffi(default = None)]
    pub state_file: Option<String>,
    /// How often the state file is written while running (ms).
    #[uniffi(default = 60000)]
    pub save_interval_ms: u64,
    /// Events held before new ones are dropped and counted
    /// (`NodeStatus.events_dropped`).
    #[uniffi(default = 1024)]
    pub event_capacity: u32,
}

/// What a `Node` tells the application.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
// Nearly every event is a Peer event (and a UniFFI enum cannot box it).
#[allow(clippy::large_enum_variant)]
pub enum NodeEvent {
    /// An event of the Peer (pool-socket events never come: the node
    /// handles them). `PeerEvent.Closed` is the last event.
    Peer {
        /// The event.
        event: PeerEvent,
    },
    /// Something the node could not do and carried on without (a pool
    /// socket that would not bind, a state file that could not be written).
    Error {
        /// What and why.
        message: String,
    },
    /// A link ended (end of stream, an error, `remove_link`).
    LinkClosed {
        /// Its id.
        link: u64,
        /// Why.
        reason: String,
    },
}

impl NodeEvent {
    fn from_core(e: CoreNodeEvent) -> Self {
        match e {
            CoreNodeEvent::Peer(ev) => NodeEvent::Peer {
                event: PeerEvent::from_core(ev),
            },
            CoreNodeEvent::Error(message) => NodeEvent::Error { message },
            CoreNodeEvent::LinkClosed { link, reason } => NodeEvent::LinkClosed {
                link: link.0,
                reason,
            },
            other => NodeEvent::Error {
                message: format!("{other:?}"),
            },
        }
    }
}

/// Where a node writes a pushed link's frames (`Node.addLinkWriter`): the
/// output side of a Bluetooth channel (`CBL2CAPChannel.outputStream`,
/// `BluetoothSocket.outputStream`). Called on a thread of the node's with
/// the node locked: it must not call the node, and should not block long.
#[uniffi::export(with_foreign)]
pub trait LinkWriter: Send + Sync {
    /// Write a prefix of `bytes` to the channel; return its length (0 to
    /// `bytes.len`). What is not taken stays queued and is offered again
    /// at the node's next turn, or at once after `Node.linkWritable`.
    fn write(&self, bytes: Vec<u8>) -> u64;
}

/// The foreign writer as the node crate's.
struct ForeignWriter(Arc<dyn LinkWriter>);

impl CoreLinkWriter for ForeignWriter {
    fn write(&mut self, bytes: &[u8]) -> usize {
        let n = self.0.write(bytes.to_vec());
        usize::try_from(n).unwrap_or(usize::MAX).min(bytes.len())
    }
}

/// Receives a node's events (`Node.subscribe`), on a thread of the node's,
/// one at a time, in order. `PeerEvent.Closed` is the last call. It may
/// call the node.
#[uniffi::export(with_foreign)]
pub trait NodeListener: Send + Sync {
    /// The next event.
    fn on_event(&self, event: NodeEvent);
}

/// A running Stream Relay peer on UDP sockets: it owns the sockets, one
/// loop thread and a state file (the ready host; `Peer` is the sans-IO
/// state machine for hosts that own their loop). Thread-safe. Closing (or
/// dropping the last reference) saves the state file.
#[derive(uniffi::Object)]
pub struct Node {
    node: CoreNode,
    listener: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        // The listener thread holds a handle too: close explicitly, which
        // also ends that thread.
        let _ = self.node.close();
    }
}

/// A future that completes with what `f` returns, `f` running on a thread
/// of its own: an `async` method that blocks (fsync, joining the loop
/// thread) without blocking the foreign executor. `None` when `f` could
/// not run (no thread to be had) or panicked.
fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Blocking<T> {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        done: false,
        waker: None,
    }));
    let finish = |slot: &Mutex<Slot<T>>, v: Option<T>| {
        let waker = {
            let mut s = slot.lock().unwrap_or_else(|e| e.into_inner());
            s.value = v;
            s.done = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    };
    let theirs = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("streamrelay-node-call".into())
        .spawn(move || {
            let v = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
            finish(&theirs, v);
        });
    if spawned.is_err() {
        finish(&slot, None);
    }
    Blocking { slot }
}

struct Slot<T> {
    value: Option<T>,
    done: bool,
    waker: Option<Waker>,
}

struct Blocking<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Blocking<T> {
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if s.done {
            return Poll::Ready(s.value.take());
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

fn gone() -> StreamRelayError {
    StreamRelayError::Io {
        reason: "the node's worker thread could not run".into(),
    }
}

#[uniffi::export]
impl Node {
    /// Binds the sockets, restores the state file if there is one, and
    /// starts the loop thread. Throws `InvalidConfig`/`ZeroLimit` (the Peer
    /// refused the config), `Io` (a socket would not bind) or
    /// `InvalidArgument`.
    #[uniffi::constructor]
    pub fn start(options: NodeOptions) -> Res<Arc<Self>> {
        let mut config = options.config.to_core()?;
        let mut b = CoreNode::builder();
        if let Some(id) = &options.peer_id {
            b = b.peer_id(PeerId(id32("peer_id", id)?));
        }
        if let Some(seed) = &options.signing_seed {
            b = b.signing_keys(&CoreKeyPair::from_seed(&id32("signing_seed", seed)?));
        }
        let ip: IpAddr = match &options.bind_ip {
            None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            Some(s) => s
                .parse()
                .map_err(|_| invalid(format!("{s:?} is not an IP address")))?,
        };
        b = b.bind(ip).port(options.port);
        if let Some(p) = &options.state_file {
            b = b.state_file(p);
        }
        b = b
            .save_interval(Duration::from_millis(options.save_interval_ms))
            .event_capacity(options.event_capacity as usize);
        b = b.configure(move |dst| {
            config.peer_id = std::mem::take(&mut dst.peer_id);
            config.signing_keys = dst.signing_keys.take();
            *dst = config;
        });
        Ok(Arc::new(Node {
            node: b.start()?,
            listener: Mutex::new(None),
        }))
    }

    /// Our 32-byte peer id.
    pub fn peer_id(&self) -> Vec<u8> {
        self.node.peer_id().0.to_vec()
    }

    /// The public key that signs what we publish (32 bytes).
    pub fn public_key(&self) -> Vec<u8> {
        self.node.public_key().to_vec()
    }

    /// Where the main socket is bound.
    pub fn local_address(&self) -> Remote {
        Remote::from_core(&streamrelay::peer::Remote::Udp(self.node.local_addr()))
    }

    /// Joins the subcluster of the 32-byte `shared_key`; returns its id.
    pub fn join(&self, shared_key: Vec<u8>) -> Res<Vec<u8>> {
        Ok(self.node.join(&super::shared_key(&shared_key)?)?.to_vec())
    }

    /// Leaves a subcluster (its 32-byte id); `true` if we were in it.
    pub fn leave(&self, subcluster_id: Vec<u8>) -> Res<bool> {
        Ok(self.node.leave(id32("subcluster_id", &subcluster_id)?))
    }

    /// Publishes `payload` as `event_name` to the subcluster of
    /// `shared_key` (joining it first if needed); returns the packet ids.
    /// A publish that reaches nobody yet is kept (and saved) until it does.
    pub fn publish(
        &self,
        shared_key: Vec<u8>,
        event_name: String,
        payload: Vec<u8>,
    ) -> Res<Vec<Vec<u8>>> {
        let ids = self
            .node
            .publish(&super::shared_key(&shared_key)?, &event_name, &payload)?;
        Ok(ids.iter().map(|i| i.to_vec()).collect())
    }

    /// Streams an event to one peer of the table.
    pub fn stream(
        &self,
        to: Vec<u8>,
        shared_key: Vec<u8>,
        event_name: String,
        payload: Vec<u8>,
    ) -> Res<Vec<Vec<u8>>> {
        let to = PeerId(id32("to", &to)?);
        let ids = self
            .node
            .stream(&to, &super::shared_key(&shared_key)?, &event_name, &payload)?;
        Ok(ids.iter().map(|i| i.to_vec()).collect())
    }

    /// Asks the network a question (a JSON object such as
    /// `{"packetId":"<hex>"}`); answers come as `PeerEvent.Answer`. Returns
    /// the query id.
    pub fn query(&self, question_json: String) -> Res<Vec<u8>> {
        let q = QueryQuestion::parse(question_json.as_bytes()).map_err(|e| {
            StreamRelayError::InvalidJson {
                reason: format!("{e:?}"),
            }
        })?;
        Ok(self.node.query(&q)?.to_vec())
    }

    /// Reconciles caches with a peer of the table.
    pub fn sync(&self, peer_id: Vec<u8>) -> Res<()> {
        Ok(self.node.sync(&PeerId(id32("peer_id", &peer_id)?))?)
    }

    /// The Peer's state as bytes (`Peer.restore` reads it).
    pub fn snapshot(&self) -> Vec<u8> {
        self.node.snapshot()
    }

    /// Writes the state file now (atomically); `false` without one.
    pub async fn save(&self) -> Res<bool> {
        let node = self.node.clone();
        blocking(move || node.save().map_err(StreamRelayError::from))
            .await
            .ok_or_else(gone)?
    }

    /// Tell the node the network changed (`NWPathMonitor`,
    /// `ConnectivityManager.NetworkCallback`): sockets bound to an address
    /// that is gone are bound again, reflection runs again, every
    /// subcluster is joined again. Sockets iOS reclaimed from a suspended
    /// app keep their address and are not re-bound: after a suspension,
    /// `shutdown()` and start a new node from the state file.
    pub fn network_changed(&self) {
        self.node.network_changed();
    }

    /// Hands the node a link whose bytes the application moves: a
    /// Bluetooth L2CAP channel's streams (`CBL2CAPChannel` on Apple,
    /// `BluetoothSocket` from `createL2capChannel` on Android). Read the
    /// input stream and pass what it yields to `link_input`; the node
    /// writes frames through `writer`. Returns the link's id (the
    /// `Remote.Link` of its peers). Throws `TableFull` when the node has
    /// its maximum of links (16) open.
    pub fn add_link_writer(&self, writer: Arc<dyn LinkWriter>) -> Res<u64> {
        Ok(self.node.add_link_writer(ForeignWriter(writer))?.0)
    }

    /// Bytes read from a pushed link's input stream (any amount, split
    /// anywhere). Garbage is skipped and counted (`NodeStatus.links`).
    pub fn link_input(&self, link: u64, bytes: Vec<u8>) -> Res<()> {
        Ok(self.node.link_input(LinkId(link), &bytes)?)
    }

    /// A pushed link's output stream has room again
    /// (`NSStreamEvent.hasSpaceAvailable`): write what is queued now.
    pub fn link_writable(&self, link: u64) -> Res<()> {
        Ok(self.node.link_writable(LinkId(link))?)
    }

    /// Hands the node a connected stream socket's file descriptor (a Unix
    /// socketpair, an L2CAP socket): the node polls it itself. On success
    /// the node owns it (it works on a duplicate and has closed `fd`); on
    /// an error the caller still owns it. Throws `InvalidArgument` for a
    /// negative `fd` or where there are no file descriptors.
    pub fn add_link_fd(&self, fd: i32) -> Res<u64> {
        #[cfg(unix)]
        {
            use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
            if fd < 0 {
                return Err(invalid("fd: negative"));
            }
            // SAFETY: the caller owns `fd`, open for the duration of this call.
            let dup = unsafe { BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .map_err(|e| invalid(format!("fd: {e}")))?;
            let link = self.node.add_link(dup)?;
            // SAFETY: handed over on success; the node works on its duplicate.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Ok(link.0)
        }
        #[cfg(not(unix))]
        {
            let _ = fd;
            Err(invalid("fd: no file descriptors on this platform"))
        }
    }

    /// Closes a link (its descriptor too, for `add_link_fd`). `false` if it
    /// was not open.
    pub fn remove_link(&self, link: u64) -> bool {
        self.node.remove_link(LinkId(link))
    }

    /// Counters and the peer table.
    pub fn status(&self) -> NodeStatus {
        NodeStatus::of(&self.node)
    }

    /// Stops the node (`Node::close` in Rust, `sr_node_close` in C; named
    /// `shutdown` here because Kotlin's `close()` is `AutoCloseable`'s,
    /// which frees the object and, if it was not shut down, closes it
    /// without waiting): saves the state file, closes the Peer and every
    /// socket, ends the loop thread; `PeerEvent.Closed` is the last event.
    /// Throws `StateFile` when the state could not be written (closed all
    /// the same), `Closed` when it was closed already.
    pub async fn shutdown(&self) -> Res<()> {
        let node = self.node.clone();
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        blocking(move || {
            let r = node.close().map_err(StreamRelayError::from);
            // The listener ends after `Closed`: wait for it, so that every
            // event was delivered when close returns.
            if let Some(t) = listener {
                if t.thread().id() != std::thread::current().id() {
                    let _ = t.join();
                }
            }
            r
        })
        .await
        .ok_or_else(gone)?
    }

    /// Delivers every event to `listener`, in order, on a thread of the
    /// node's, until `PeerEvent.Closed` (the last call). One listener per
    /// node: a second `subscribe` throws `InvalidArgument`. Events that
    /// came before are delivered first (they wait in the queue).
    pub fn subscribe(&self, listener: Arc<dyn NodeListener>) -> Res<()> {
        let mut slot = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(invalid("this node already has a listener"));
        }
        let node = self.node.clone();
        let t = std::thread::Builder::new()
            .name("streamrelay-node-events".into())
            .spawn(move || {
                while let Some(ev) = node.next_event(None) {
                    let last = matches!(ev, CoreNodeEvent::Peer(Event::Closed));
                    // A listener that throws or panics must not end the
                    // stream for the events after it.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        listener.on_event(NodeEvent::from_core(ev))
                    }));
                    if last {
                        break;
                    }
                }
            })
            .map_err(|e| StreamRelayError::Io {
                reason: e.to_string(),
            })?;
        *slot = Some(t);
        Ok(())
    }

    /// The next event, waiting up to `timeout_ms` (for hosts that poll
    /// rather than `subscribe`); `None` at the timeout or once the node is
    /// closed and every event was read. Blocks the calling thread.
    pub fn next_event(&self, timeout_ms: u64) -> Option<NodeEvent> {
        self.node
            .next_event(Some(Duration::from_millis(timeout_ms)))
            .map(NodeEvent::from_core)
    }
}
