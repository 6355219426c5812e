//! `Node` and its builder; the loop thread.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use mio::{Events, Interest, Poll, Registry, Waker};
use streamrelay::crypto::identity::{KeyPair, SharedKey};
use streamrelay::link::framing::FramingConfig;
use streamrelay::nat::NatType;
use streamrelay::peer::{
    BufferTooSmall, Config, ConfigError, Event, Instant, Introducer, Peer, PeerError, PeerId,
    Profile, PublishOptions, Remote, SocketId,
};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::packet::{IdField, PacketId};

use crate::events::{EventQueue, NodeEvent, Notify};
use crate::links::{Health, Io, Link, LinkId, LinkWriter};
use crate::sockets::{self, canonical, Sockets};
use crate::state;
use crate::status::{NodeDrops, Status};

/// Datagrams read from one socket per turn before the others get theirs.
const RECV_BATCH: usize = 256;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;
/// Reads from one link per turn before the others get theirs.
const LINK_BATCH: usize = 16;

/// Why a Node call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The Peer refused the config.
    #[error("config: {0}")]
    Config(#[from] ConfigError),
    /// A socket would not bind.
    #[error("bind {addr}: {source}")]
    Bind {
        /// What we tried to bind.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The poll or the loop thread could not be set up.
    #[error("event loop: {0}")]
    Io(#[from] std::io::Error),
    /// The Peer refused a command.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// The state file could not be written.
    #[error("state {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The Node is closed.
    #[error("the node is closed")]
    Closed,
    /// No open link has this number.
    #[error("no link {}", .0 .0)]
    UnknownLink(LinkId),
    /// [`NodeBuilder::max_links`] links are open.
    #[error("too many links (at most {max})")]
    TooManyLinks {
        /// The limit.
        max: usize,
    },
}

/// Builds a [`Node`]: every setting has a default except the cluster.
///
/// ```no_run
/// use streamrelay_node::Node;
/// let node = Node::builder()
///     .cluster_seed("my app")
///     .port(0)
///     .state_file("/tmp/my-app.state")
///     .start()?;
/// # Ok::<(), streamrelay_node::NodeError>(())
/// ```
pub struct NodeBuilder {
    config: Config,
    peer_id: Option<PeerId>,
    signing_seed: Option<[u8; 32]>,
    bind: IpAddr,
    port: u16,
    state_file: Option<PathBuf>,
    save_interval: Duration,
    event_capacity: usize,
    notify: Option<Notify>,
    seed: Option<[u8; 32]>,
    link_framing: FramingConfig,
    link_queue_bytes: usize,
    max_links: usize,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

impl Default for NodeBuilder {
    fn default() -> Self {
        NodeBuilder {
            // The id is chosen at `start` (given, from the state file, or new).
            config: Config::new("", None),
            peer_id: None,
            signing_seed: None,
            bind: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port: 0,
            state_file: None,
            save_interval: Duration::from_secs(60),
            event_capacity: 1024,
            notify: None,
            seed: None,
            link_framing: FramingConfig::default(),
            link_queue_bytes: 64 * 1024,
            max_links: 16,
        }
    }
}

impl NodeBuilder {
    /// The application network, as a 32-byte id.
    pub fn cluster_id(mut self, id: [u8; 32]) -> Self {
        self.config.cluster_id = Some(id);
        self
    }

    /// The application network, as `createClusterId(seed)` derives it.
    pub fn cluster_seed(self, seed: &str) -> Self {
        match streamrelay::crypto::identity::create_cluster_id(seed) {
            Ok(id) => self.cluster_id(id),
            Err(_) => self,
        }
    }

    /// This node's peer id (default: the state file's, else a random one).
    pub fn peer_id(mut self, id: PeerId) -> Self {
        self.peer_id = Some(id);
        self
    }

    /// The key pair that signs what we publish (default: the state file's,
    /// else a new one).
    pub fn signing_keys(mut self, keys: &KeyPair) -> Self {
        self.signing_seed = Some(*keys.seed());
        self
    }

    /// An introducer to bootstrap from (repeatable).
    pub fn introducer(mut self, peer_id: PeerId, addr: SocketAddr) -> Self {
        self.config.introducers.push(Introducer {
            peer_id,
            remote: Remote::Udp(canonical(addr)),
        });
        self
    }

    /// Act as an introducer ("indexed" peer).
    pub fn indexed(mut self, yes: bool) -> Self {
        self.config.indexed = yes;
        self
    }

    /// A NAT type known in advance (reflection is skipped). Unless the
    /// config names one, the public endpoint is the main socket's address
    /// when it is bound to a specific IP.
    pub fn nat_type(mut self, nat: NatType) -> Self {
        self.config.nat_type = Some(nat);
        self
    }

    /// Tick period in ms (the reference's default is 30 000).
    pub fn keepalive_ms(mut self, ms: u64) -> Self {
        self.config.keepalive_ms = ms;
        self
    }

    /// The protocol profile (default: [`Profile::Improved`]).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.behaviour = profile.behaviour();
        self
    }

    /// Any other setting of the Peer's [`Config`] (limits, timings, ...).
    /// The Node sets the peer id, the signing keys and the wall-clock
    /// offset itself.
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// The address to bind (default `[::]`, dual stack where the OS allows,
    /// else `0.0.0.0`). The probe and pool sockets bind the same address.
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The main socket's port (default 0: the OS chooses).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Where the state is kept: read at start, written atomically every
    /// [`save_interval`](Self::save_interval) and at close. It holds secret
    /// keys (mode 0600).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// How often the state file is written while running (default 60 s).
    pub fn save_interval(mut self, every: Duration) -> Self {
        self.save_interval = every.max(Duration::from_millis(100));
        self
    }

    /// Events held for the application before new ones are dropped and
    /// counted (default 1024; see [`NodeEvent`]).
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n.max(1);
        self
    }

    /// Called on the loop thread when the event queue goes from empty to
    /// non-empty. It runs with the Node locked: it must not call the Node
    /// (that would deadlock); wake your own loop and return, and read the
    /// events from there.
    pub fn on_event(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.notify = Some(Box::new(f));
        self
    }

    /// The Peer's random seed (default: from the OS). Fixed seeds are for
    /// tests.
    pub fn seed(mut self, seed: [u8; 32]) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The largest datagram a link frame carries (default 2048, which
    /// holds any datagram the Peer sends; both ends of a link should
    /// agree). See `docs/link-framing.md`.
    pub fn link_max_frame(mut self, bytes: usize) -> Self {
        self.link_framing.max_frame = bytes.clamp(1, usize::from(u16::MAX));
        self
    }

    /// Framed bytes queued per link before new datagrams are dropped and
    /// counted (default 64 KiB: about 3 s of a 20 KB/s Bluetooth link).
    pub fn link_queue_bytes(mut self, bytes: usize) -> Self {
        self.link_queue_bytes = bytes;
        self
    }

    /// Links open at once (default 16); [`Node::add_link`] refuses more.
    pub fn max_links(mut self, n: usize) -> Self {
        self.max_links = n;
        self
    }

    /// Binds the sockets, restores the state file if there is one, and
    /// starts the loop thread.
    pub fn start(self) -> Result<Node, NodeError> {
        Node::start(self)
    }
}

/// A running Stream Relay peer on UDP sockets. Cloning gives another
/// handle to the same node; it closes (saving its state) when
/// [`close`](Node::close) is called or the last handle is dropped.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("peer_id", &self.shared.inner.peer_id)
            .finish_non_exhaustive()
    }
}

/// Owned by the handles: its drop closes the node.
struct Shared {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Shared by the handles and the loop thread.
struct Inner {
    core: Mutex<Core>,
    waker: Waker,
    events: EventQueue,
    peer_id: PeerId,
    public_key: [u8; 32],
    restore_error: Option<String>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl Shared {
    fn close(&self) -> Result<(), NodeError> {
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(handle) = handle else {
            return Err(NodeError::Closed);
        };
        self.inner.lock().close_requested = true;
        let _ = self.inner.waker.wake();
        if handle.thread().id() != std::thread::current().id() {
            let _ = handle.join();
        }
        self.inner
            .lock()
            .close_result
            .take()
            .unwrap_or(Err(NodeError::Closed))
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The state the loop thread and the commands share.
struct Core {
    peer: Peer,
    sockets: Sockets,
    registry: Registry,
    start: StdInstant,
    readable: BTreeSet<SocketId>,
    recv_buf: Vec<u8>,
    send_buf: Vec<u8>,
    state_file: Option<PathBuf>,
    signing_seed: [u8; 32],
    save_interval: Duration,
    next_save: StdInstant,
    close_requested: bool,
    close_result: Option<Result<(), NodeError>>,
    net_changed: bool,
    counters: Counters,
    links: BTreeMap<u64, Link>,
    link_ready: BTreeSet<u64>,
    next_link: u64,
    link_framing: FramingConfig,
    link_queue_bytes: usize,
    max_links: usize,
    links_closed: u64,
    frame_buf: Vec<u8>,
}

#[derive(Default)]
struct Counters {
    datagrams_in: u64,
    bytes_in: u64,
    datagrams_out: u64,
    bytes_out: u64,
    wakeups: u64,
    state_saves: u64,
    drops: NodeDrops,
}

/// OS entropy (32 bytes).
fn entropy() -> Result<[u8; 32], NodeError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b)
        .map_err(|e| NodeError::Io(std::io::Error::other(e.to_string())))?;
    Ok(b)
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

impl Node {
    /// A builder with every default (see [`NodeBuilder`]).
    pub fn builder() -> NodeBuilder {
        NodeBuilder::default()
    }

    fn start(b: NodeBuilder) -> Result<Node, NodeError> {
        let start = StdInstant::now();
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Waker::new(poll.registry(), sockets::WAKER)?;
        let sockets =
            Sockets::open(b.bind, b.port, &registry).map_err(|source| NodeError::Bind {
                addr: SocketAddr::new(b.bind, b.port),
                source,
            })?;

        // Identity: given, else the state file's, else new.
        let mut restore_error = None;
        let saved = match &b.state_file {
            None => None,
            Some(p) => match state::read(p) {
                Ok(Some(bytes)) => match state::decode(&bytes) {
                    Some(s) => Some(s),
                    None => {
                        restore_error = Some(format!("state {}: not a state file", p.display()));
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    restore_error = Some(format!("state {}: {e}", p.display()));
                    None
                }
            },
        };
        let peer_id = match (b.peer_id, saved.as_ref().and_then(|s| s.peer_id)) {
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => PeerId(entropy()?),
        };
        let signing_seed = match (b.signing_seed, saved.as_ref().and_then(|s| s.signing_seed)) {
            (Some(s), _) | (None, Some(s)) => s,
            (None, None) => entropy()?,
        };
        let keys = KeyPair::from_seed(&signing_seed);
        let public_key = keys.public_key();
        let mut config = b.config;
        config.peer_id = peer_id.to_hex();
        config.signing_keys = Some(keys);
        // `now` counts from `start`; the wire carries Unix ms.
        config.wall_clock_offset_ms = unix_ms();
        if config.nat_type.is_some()
            && config.public_address.is_none()
            && !sockets.main.local.ip().is_unspecified()
        {
            // A static NAT type means we know how we are reached: here.
            config.public_address = Some(sockets.main.local);
        }
        let seed = match b.seed {
            Some(s) => s,
            None => entropy()?,
        };
        let now = Instant::ZERO;
        let restored =
            saved.and_then(
                |s| match Peer::restore(config.clone(), now, seed, &s.snapshot) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        if let Some(path) = &b.state_file {
                            restore_error = Some(format!("state {}: {e}", path.display()));
                        }
                        None
                    }
                },
            );
        let peer = match restored {
            Some(p) => p,
            None => Peer::new(config, now, seed)?,
        };
        let core = Core {
            peer,
            sockets,
            registry,
            start,
            readable: BTreeSet::new(),
            recv_buf: vec![0; MAX_DATAGRAM],
            send_buf: vec![0; MAX_DATAGRAM],
            state_file: b.state_file,
            signing_seed,
            save_interval: b.save_interval,
            next_save: start + b.save_interval,
            close_requested: false,
            close_result: None,
            net_changed: false,
            counters: Counters::default(),
            links: BTreeMap::new(),
            link_ready: BTreeSet::new(),
            next_link: 1,
            link_framing: b.link_framing,
            link_queue_bytes: b.link_queue_bytes,
            max_links: b.max_links,
            links_closed: 0,
            frame_buf: Vec::new(),
        };
        let inner = Arc::new(Inner {
            core: Mutex::new(core),
            waker,
            events: EventQueue::new(b.event_capacity, b.notify),
            peer_id,
            public_key,
            restore_error,
        });
        let for_loop = inner.clone();
        let thread = std::thread::Builder::new()
            .name("streamrelay-node".into())
            .spawn(move || run(&for_loop, poll))?;
        Ok(Node {
            shared: Arc::new(Shared {
                inner,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    fn inner(&self) -> &Inner {
        &self.shared.inner
    }

    /// Runs `f` on the Peer under the Node's lock, then wakes the loop so
    /// that what `f` queued goes out at once. Every Peer command is
    /// reachable this way; the methods below are the common ones.
    ///
    /// ```no_run
    /// # let node = streamrelay_node::Node::builder().cluster_seed("x").start().unwrap();
    /// let cached = node.with_peer(|peer, _now| peer.cached_ids().count());
    /// ```
    pub fn with_peer<R>(&self, f: impl FnOnce(&mut Peer, Instant) -> R) -> R {
        let r = {
            let mut core = self.inner().lock();
            let now = core.now();
            f(&mut core.peer, now)
        };
        let _ = self.inner().waker.wake();
        r
    }

    fn command<R>(
        &self,
        f: impl FnOnce(&mut Peer, Instant) -> Result<R, PeerError>,
    ) -> Result<R, NodeError> {
        if self.is_closed() {
            return Err(NodeError::Closed);
        }
        Ok(self.with_peer(f)?)
    }

    fn is_closed(&self) -> bool {
        self.shared
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.inner().peer_id
    }

    /// The public key that signs what we publish (`usr2`).
    pub fn public_key(&self) -> [u8; 32] {
        self.inner().public_key
    }

    /// Why the state file was not restored at start (it was unreadable,
    /// not a state file, or another peer's); the Node then started fresh
    /// and will overwrite it.
    pub fn restore_error(&self) -> Option<&str> {
        self.inner().restore_error.as_deref()
    }

    /// The main socket's local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner().lock().sockets.main.local
    }

    /// Joins the subcluster of `key`; returns its id.
    pub fn join(&self, key: &SharedKey) -> Result<[u8; 32], NodeError> {
        self.command(|p, now| p.join(now, key))
    }

    /// Leaves a subcluster of our cluster. `true` if we were in it.
    pub fn leave(&self, subcluster_id: [u8; 32]) -> bool {
        self.with_peer(|p, _| {
            let cluster = p.subclusters().find(|(_, s)| *s == subcluster_id);
            cluster.is_some_and(|(c, s)| p.leave(c, s))
        })
    }

    /// Publishes `payload` as event `event_name` to the subcluster of `key`
    /// (joining it first if needed). Returns the packet ids; a publish that
    /// reached no peer yet stays unpublished (and in the state file) until
    /// it does.
    pub fn publish(
        &self,
        key: &SharedKey,
        event_name: &str,
        payload: &[u8],
    ) -> Result<Vec<PacketId>, NodeError> {
        self.command(|p, now| {
            let scid = streamrelay::crypto::identity::subcluster_id(key);
            if p.subclusters().all(|(_, s)| s != scid) {
                p.join(now, key)?;
            }
            p.publish(now, key, event_name, payload, &PublishOptions::new())
        })
    }

    /// Streams an event to one peer of our table.
    pub fn stream(
        &self,
        to: &PeerId,
        key: &SharedKey,
        event_name: &str,
        payload: &[u8],
    ) -> Result<Vec<PacketId>, NodeError> {
        self.command(|p, now| p.stream(now, to, key, event_name, payload, &PublishOptions::new()))
    }

    /// Asks the network a question; answers come as
    /// [`Event::Answer`](streamrelay::peer::Event::Answer).
    pub fn query(&self, question: &QueryQuestion) -> Result<IdField, NodeError> {
        self.command(|p, now| p.query(now, question))
    }

    /// Reconciles caches with a peer of our table.
    pub fn sync(&self, peer: &PeerId) -> Result<(), NodeError> {
        self.command(|p, now| p.sync(now, peer))
    }

    /// The Peer's state as bytes (what the state file holds after the
    /// Node's header).
    pub fn snapshot(&self) -> Vec<u8> {
        let core = self.inner().lock();
        let now = core.now();
        core.peer.snapshot(now)
    }

    /// Writes the state file now (atomically). `Ok(false)` without one.
    pub fn save(&self) -> Result<bool, NodeError> {
        self.inner().lock().save()
    }

    /// Tell the Node the network changed (an interface went away or came
    /// back, another Wi-Fi, a handover). Sockets bound to an address that
    /// is gone are bound again (on the wildcard of the same family),
    /// reflection runs again at once and every Join is sent again.
    pub fn network_changed(&self) {
        self.inner().lock().net_changed = true;
        let _ = self.inner().waker.wake();
    }

    /// The next event, waiting up to `timeout` (for ever with `None`).
    /// `None` at the timeout, or once the Node is closed and every event
    /// was read.
    pub fn next_event(&self, timeout: Option<Duration>) -> Option<NodeEvent> {
        self.inner().events.pop(timeout)
    }

    /// The next event if one is queued.
    pub fn try_next_event(&self) -> Option<NodeEvent> {
        self.inner().events.try_pop()
    }

    /// Counters and the peer table.
    pub fn status(&self) -> Status {
        let core = self.inner().lock();
        let (ip, port) = core.peer.public_endpoint();
        let c = &core.counters;
        Status {
            peer_id: self.peer_id(),
            nat: core.peer.nat_type(),
            public_endpoint: ip.zip(port).map(|(ip, port)| SocketAddr::new(ip, port)),
            local: core.sockets.main.local,
            probe: core.sockets.probe.local,
            pool_sockets: core.sockets.pool.len(),
            peers: core.peer.peers().to_vec(),
            datagrams_in: c.datagrams_in,
            bytes_in: c.bytes_in,
            datagrams_out: c.datagrams_out,
            bytes_out: c.bytes_out,
            wakeups: c.wakeups,
            node_drops: c.drops.clone(),
            events_dropped: self.inner().events.dropped(),
            events_queued: self.inner().events.len(),
            state_saves: c.state_saves,
            links: core.links.iter().map(|(id, l)| l.status(*id)).collect(),
            links_closed: core.links_closed,
            metrics: core.peer.metrics().clone(),
        }
    }

    /// Hands the Node a link: a connected stream socket (a Unix
    /// socketpair, an L2CAP socket, TCP) whose other end runs the same
    /// framing. The Node owns the descriptor from now on: it makes it
    /// non-blocking, polls it on its loop, and closes it at
    /// [`remove_link`](Self::remove_link), at end of stream or on an error
    /// ([`NodeEvent::LinkClosed`]). Datagrams from and to
    /// `Remote::Link(id.0)` travel on it as frames.
    ///
    /// ```no_run
    /// use std::os::unix::net::UnixStream;
    /// # let (a, b) = (streamrelay_node::Node::builder().cluster_seed("x").start()?, streamrelay_node::Node::builder().cluster_seed("x").start()?);
    /// let (left, right) = UnixStream::pair()?; // stands in for a Bluetooth channel
    /// let link = a.add_link(left)?;
    /// b.add_link(right)?;
    /// assert!(a.status().links.iter().any(|l| l.id == link));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    pub fn add_link(&self, stream: impl Into<std::os::fd::OwnedFd>) -> Result<LinkId, NodeError> {
        let std = std::os::unix::net::UnixStream::from(stream.into());
        std.set_nonblocking(true)?;
        let stream = mio::net::UnixStream::from_std(std);
        self.add_io(Io::Fd(stream))
    }

    /// Hands the Node a link whose bytes the application moves: it pushes
    /// what it reads with [`link_input`](Self::link_input), and the Node
    /// writes frames through `writer` (see [`LinkWriter`]). For channels
    /// that are input/output streams (`CBL2CAPChannel`, Android's
    /// `BluetoothSocket`).
    ///
    /// ```no_run
    /// use streamrelay_node::LinkWriter;
    /// struct Out(std::sync::mpsc::Sender<Vec<u8>>);
    /// impl LinkWriter for Out {
    ///     fn write(&mut self, bytes: &[u8]) -> usize {
    ///         self.0.send(bytes.to_vec()).map_or(0, |_| bytes.len())
    ///     }
    /// }
    /// # let node = streamrelay_node::Node::builder().cluster_seed("x").start()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let link = node.add_link_writer(Out(tx))?;
    /// // What the channel's input stream yields:
    /// node.link_input(link, &[0xA5, 0x5C])?;
    /// # drop(rx);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_link_writer(&self, writer: impl LinkWriter + 'static) -> Result<LinkId, NodeError> {
        self.add_io(Io::Pushed(Box::new(writer)))
    }

    fn add_io(&self, mut io: Io) -> Result<LinkId, NodeError> {
        if self.is_closed() {
            return Err(NodeError::Closed);
        }
        let id = {
            let mut core = self.inner().lock();
            if core.links.len() >= core.max_links {
                return Err(NodeError::TooManyLinks {
                    max: core.max_links,
                });
            }
            let id = core.next_link;
            if let Io::Fd(s) = &mut io {
                core.registry.register(
                    s,
                    sockets::link_token(id),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                core.link_ready.insert(id);
            }
            core.next_link += 1;
            let link = Link::new(io, core.link_framing, core.link_queue_bytes);
            core.links.insert(id, link);
            let now = core.now();
            core.link_up(now, id);
            id
        };
        let _ = self.inner().waker.wake();
        Ok(LinkId(id))
    }

    /// Bytes read from a pushed link's input stream (any amount, any
    /// split): the frames they complete go to the Peer now. Garbage is
    /// skipped and counted ([`LinkStatus::decoder`](crate::LinkStatus::decoder)).
    ///
    /// ```no_run
    /// # use streamrelay_node::{LinkId, Node};
    /// # fn f(node: &Node, link: LinkId, input: &mut dyn std::io::Read) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut buf = [0u8; 4096];
    /// loop {
    ///     let n = input.read(&mut buf)?; // the channel's input stream
    ///     if n == 0 {
    ///         node.remove_link(link);
    ///         return Ok(());
    ///     }
    ///     node.link_input(link, &buf[..n])?;
    /// }
    /// # }
    /// ```
    pub fn link_input(&self, link: LinkId, bytes: &[u8]) -> Result<(), NodeError> {
        {
            let mut core = self.inner().lock();
            if !core.links.contains_key(&link.0) {
                return Err(NodeError::UnknownLink(link));
            }
            let now = core.now();
            core.link_data(now, link.0, bytes, &self.inner().events);
        }
        let _ = self.inner().waker.wake();
        Ok(())
    }

    /// The platform says a pushed link's output stream has space again:
    /// write what is queued now.
    ///
    /// ```no_run
    /// # fn f(node: &streamrelay_node::Node, link: streamrelay_node::LinkId) -> Result<(), streamrelay_node::NodeError> {
    /// // From the stream's "has space available" callback:
    /// node.link_writable(link)?;
    /// # Ok(()) }
    /// ```
    pub fn link_writable(&self, link: LinkId) -> Result<(), NodeError> {
        let mut core = self.inner().lock();
        if !core.links.contains_key(&link.0) {
            return Err(NodeError::UnknownLink(link));
        }
        core.write_links(&self.inner().events);
        Ok(())
    }

    /// Closes a link (its descriptor too, for [`add_link`](Self::add_link)
    /// links) and queues [`NodeEvent::LinkClosed`]. `false` if there was no
    /// such link.
    ///
    /// ```no_run
    /// # fn f(node: &streamrelay_node::Node, link: streamrelay_node::LinkId) {
    /// // The Bluetooth channel went out of range:
    /// assert!(node.remove_link(link));
    /// assert!(!node.remove_link(link)); // already gone
    /// # }
    /// ```
    pub fn remove_link(&self, link: LinkId) -> bool {
        let found = {
            let mut core = self.inner().lock();
            let found = core.links.contains_key(&link.0);
            if found {
                core.close_link(link.0, "removed".into(), &self.inner().events);
            }
            found
        };
        let _ = self.inner().waker.wake();
        found
    }

    /// Stops the node: writes the state file, closes the Peer and every
    /// socket, ends the loop thread (waits for it), and queues
    /// [`Event::Closed`] last. Events queued before stay readable. An error
    /// says the state could not be written. Later calls return
    /// [`NodeError::Closed`].
    pub fn close(&self) -> Result<(), NodeError> {
        self.shared.close()
    }
}

/// The loop thread: one turn per wake-up, asleep until the Peer's next
/// deadline, a datagram, a command or the next state save.
fn run(inner: &Inner, mut poll: Poll) {
    let mut events = Events::with_capacity(256);
    loop {
        let timeout = {
            let mut core = inner.lock();
            for ev in events.iter() {
                if let Some(id) = sockets::socket_of(ev.token()) {
                    core.readable.insert(id);
                } else if let Some(id) = sockets::link_of(ev.token()) {
                    core.link_ready.insert(id);
                }
            }
            match core.turn(&inner.events) {
                Some(t) => t,
                None => break,
            }
        };
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != ErrorKind::Interrupted {
                // A broken poll would spin; close as cleanly as we can.
                inner.lock().close_requested = true;
                events.clear();
            }
        }
        inner.lock().counters.wakeups += 1;
    }
    inner.events.finish();
}

impl Core {
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    /// One turn: returns how long to sleep (`None` inside: until woken),
    /// or `None` when the node has closed.
    fn turn(&mut self, q: &EventQueue) -> Option<Option<Duration>> {
        let now = self.now();
        if self.close_requested {
            self.finish(now, q);
            return None;
        }
        if std::mem::take(&mut self.net_changed) {
            self.on_network_changed(now, q);
        }
        self.receive(now, q);
        self.service_links(now, q);
        if self.peer.poll_timeout().is_some_and(|t| t <= now) {
            self.peer.handle_timeout(now);
        }
        self.flush(now, q);
        if StdInstant::now() >= self.next_save {
            // The wall clock may have been set since: keep the Peer's Unix
            // timestamps right (reference peers drop stale Intros).
            self.peer
                .set_wall_clock_offset(unix_ms() - now.as_millis() as i64);
            if let Err(e) = self.save() {
                q.push(NodeEvent::Error(e.to_string()));
            }
        }
        if !self.readable.is_empty() || !self.link_ready.is_empty() {
            return Some(Some(Duration::ZERO));
        }
        let peer_deadline = self
            .peer
            .poll_timeout()
            .map(|t| self.start + Duration::from_millis(t.as_millis()));
        let save_deadline = self.state_file.as_ref().map(|_| self.next_save);
        let deadline = match (peer_deadline, save_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(deadline.map(|d| d.saturating_duration_since(StdInstant::now())))
    }

    /// Reads what the readable sockets hold (a batch each).
    fn receive(&mut self, now: Instant, q: &EventQueue) {
        let ready: Vec<SocketId> = self.readable.iter().copied().collect();
        for id in ready {
            let mut drained = false;
            for _ in 0..RECV_BATCH {
                let Some(b) = self.sockets.get(id) else {
                    drained = true;
                    break;
                };
                match b.sock.recv_from(&mut self.recv_buf) {
                    Ok((n, from)) => {
                        self.counters.datagrams_in += 1;
                        self.counters.bytes_in += n as u64;
                        let from = Remote::Udp(canonical(from));
                        self.peer
                            .handle_datagram(now, id, from, &self.recv_buf[..n]);
                        // Pool requests and answers go out before the next
                        // datagram can fill the Peer's queues.
                        self.flush(now, q);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        drained = true;
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => self.counters.drops.recv_failed += 1,
                }
            }
            if drained {
                self.readable.remove(&id);
            }
        }
    }

    /// Acts on the Peer's events (pool sockets here, the rest to the
    /// application), then sends its datagrams. Events first: a transmit may
    /// name a pool socket that an event just asked for.
    fn flush(&mut self, now: Instant, q: &EventQueue) {
        while let Some(ev) = self.peer.poll_event() {
            match ev {
                Event::OpenPoolSockets { sockets } => {
                    for s in sockets {
                        if let SocketId::Pool(i) = s {
                            if let Err(e) = self.sockets.open_pool(i, &self.registry) {
                                q.push(NodeEvent::Error(format!("pool socket: {e}")));
                            }
                        }
                    }
                }
                Event::ClosePoolSockets { sockets } => {
                    for s in sockets {
                        if let SocketId::Pool(i) = s {
                            self.sockets.close_pool(i, &self.registry);
                            self.readable.remove(&s);
                        }
                    }
                }
                other => q.push(NodeEvent::Peer(other)),
            }
        }
        loop {
            let (socket, remote, n) = match self.peer.poll_transmit_into(now, &mut self.send_buf) {
                Ok(Some(t)) => t,
                Ok(None) => break,
                // The Peer keeps the datagram: grow the buffer and take it.
                Err(BufferTooSmall { needed }) => {
                    self.send_buf.resize(needed, 0);
                    continue;
                }
            };
            if let Remote::Link(id) = remote {
                match self.links.get_mut(&id) {
                    Some(link) => link.enqueue(&self.send_buf[..n]),
                    None => self.counters.drops.no_socket += 1,
                }
                continue;
            }
            let (Some(b), Some(to)) = (self.sockets.get(socket), remote.udp()) else {
                self.counters.drops.no_socket += 1;
                continue;
            };
            match b.send(to, &self.send_buf[..n]) {
                Ok(sent) => {
                    self.counters.datagrams_out += 1;
                    self.counters.bytes_out += sent as u64;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.counters.drops.send_would_block += 1
                }
                Err(_) => self.counters.drops.send_failed += 1,
            }
        }
        self.write_links(q);
    }

    /// A link came up: the Peer greets whoever is at its other end.
    fn link_up(&mut self, now: Instant, id: u64) {
        self.peer.link_up(now, id);
    }

    /// Write every link's queue as far as its stream takes it.
    fn write_links(&mut self, q: &EventQueue) {
        let mut closed = Vec::new();
        for (id, link) in &mut self.links {
            if let Health::Closed(reason) = link.write_out() {
                closed.push((*id, reason));
            }
        }
        for (id, reason) in closed {
            self.close_link(id, reason, q);
        }
    }

    /// Forget a link (closing its descriptor) and say so.
    fn close_link(&mut self, id: u64, reason: String, q: &EventQueue) {
        let Some(mut link) = self.links.remove(&id) else {
            return;
        };
        if let Io::Fd(s) = &mut link.io {
            let _ = self.registry.deregister(s);
        }
        self.link_ready.remove(&id);
        self.links_closed += 1;
        // The Peer forgets who was reached only through it.
        self.peer.link_down(self.now(), id);
        q.push(NodeEvent::LinkClosed {
            link: LinkId(id),
            reason,
        });
    }

    /// Bytes from link `id`: each frame they complete goes to the Peer,
    /// and what it answers goes out before the next frame.
    fn link_data(&mut self, now: Instant, id: u64, mut input: &[u8], q: &EventQueue) {
        loop {
            let Some(link) = self.links.get_mut(&id) else {
                return;
            };
            let n = link.decoder.feed(input);
            input = &input[n..];
            loop {
                let Some(link) = self.links.get_mut(&id) else {
                    return;
                };
                let Some(frame) = link.decoder.next_frame() else {
                    break;
                };
                self.frame_buf.clear();
                self.frame_buf.extend_from_slice(frame);
                self.peer
                    .handle_datagram(now, SocketId::Main, Remote::Link(id), &self.frame_buf);
                self.flush(now, q);
            }
            if input.is_empty() {
                return;
            }
        }
    }

    /// Reads what the ready fd links hold (a batch each) and writes what
    /// they have queued.
    fn service_links(&mut self, now: Instant, q: &EventQueue) {
        let ready: Vec<u64> = self.link_ready.iter().copied().collect();
        for id in ready {
            let mut drained = false;
            let mut closed = None;
            for _ in 0..LINK_BATCH {
                let Some(link) = self.links.get_mut(&id) else {
                    drained = true;
                    break;
                };
                match link.read_chunk(&mut self.recv_buf) {
                    Ok(Some(n)) => {
                        let buf = std::mem::take(&mut self.recv_buf);
                        self.link_data(now, id, &buf[..n], q);
                        self.recv_buf = buf;
                    }
                    Ok(None) => {
                        drained = true;
                        break;
                    }
                    Err(reason) => {
                        closed = Some(reason);
                        break;
                    }
                }
            }
            if let Some(reason) = closed {
                self.close_link(id, reason, q);
                continue;
            }
            if drained {
                self.link_ready.remove(&id);
            }
        }
        self.write_links(q);
    }

    fn on_network_changed(&mut self, now: Instant, q: &EventQueue) {
        let ip = self.sockets.bind_ip;
        if !sockets::address_present(ip) {
            let wildcard = if ip.is_ipv4() {
                IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            if let Err(e) = self.sockets.rebind(wildcard, &self.registry) {
                q.push(NodeEvent::Error(format!("rebind {wildcard}: {e}")));
            }
            self.readable.clear();
            // The new sockets may already hold datagrams.
            self.readable.insert(SocketId::Main);
            self.readable.insert(SocketId::Probe);
            self.readable
                .extend(self.sockets.pool.keys().map(|i| SocketId::Pool(*i)));
        }
        self.peer.network_changed(now);
    }

    /// Writes the state file (if there is one) and schedules the next save.
    fn save(&mut self) -> Result<bool, NodeError> {
        self.next_save = StdInstant::now() + self.save_interval;
        let Some(path) = self.state_file.clone() else {
            return Ok(false);
        };
        let now = self.now();
        let bytes = state::encode(
            self.peer.peer_id(),
            Some(&self.signing_seed),
            &self.peer.snapshot(now),
        );
        state::write_atomic(&path, &bytes).map_err(|e| NodeError::State {
            path,
            reason: e.to_string(),
        })?;
        self.counters.state_saves += 1;
        Ok(true)
    }

    /// The last turn: save, close the Peer, close the sockets.
    fn finish(&mut self, now: Instant, q: &EventQueue) {
        let saved = self.save().map(|_| ());
        self.peer.close(now);
        self.flush(now, q);
        let ids: Vec<u16> = self.sockets.pool.keys().copied().collect();
        for i in ids {
            self.sockets.close_pool(i, &self.registry);
        }
        // The links' descriptors close here (the Peer's goodbyes were
        // written above, as far as the streams took them).
        for (_, mut link) in std::mem::take(&mut self.links) {
            if let Io::Fd(s) = &mut link.io {
                let _ = self.registry.deregister(s);
            }
        }
        self.close_result = Some(saved);
    }
}
