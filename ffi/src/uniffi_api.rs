//! The UniFFI face of `libstreamrelay` (Swift and Kotlin, generated in
//! library mode by `scripts/gen-bindings.sh`).
//!
//! The same sans-IO peer as the C ABI, as an object: `Peer` with the core's
//! methods, events as an enum with payloads, errors as one typed exception
//! (`StreamRelayError`), the config as a record, and the key/id helpers.
//! Ids, keys and hashes are byte strings (`Data` / `ByteArray`); a 32-byte
//! argument of another length is `StreamRelayError.InvalidArgument`.
//!
//! No panic crosses the boundary: UniFFI runs every call under
//! `catch_unwind` and turns a panic into its internal error
//! (`UniffiInternalError` in Swift, `InternalException` in Kotlin). A panic
//! while the peer's lock is held poisons the peer: every later call answers
//! `StreamRelayError.Poisoned`.
//!
//! `Peer::native_handle` lends the object to the JNI fast path
//! (`jni_api.rs`): both faces drive one state machine behind one lock.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use streamrelay::crypto::identity::{self as ident, KeyPair as CoreKeyPair, SharedKey};
use streamrelay::crypto::sign;
use streamrelay::nat::{connection_strategy as core_strategy, NatType};
use streamrelay::peer::{
    Config, DisconnectReason as CoreDisconnect, Event, Instant, Introducer as CoreIntroducer,
    Peer as CorePeer, PeerError, PeerId, PublishOptions, Remote as CoreRemote,
    SocketId as CoreSocket, Transmit as CoreTransmit, UnverifiedReason as CoreUnverified,
};
use streamrelay::wire::PacketRef;

// ---------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------

/// Every error of the bindings (a typed exception in Swift and Kotlin).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum StreamRelayError {
    /// An argument is malformed (a 32-byte id of another length, a bad IP
    /// address, ...).
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// The config was refused by the core.
    InvalidConfig {
        /// Why.
        reason: String,
    },
    /// No cluster id is configured (join, publish).
    NoCluster,
    /// Already in the configured maximum of subclusters.
    TooManySubclusters {
        /// The maximum.
        max: u64,
    },
    /// The peer table is full.
    TableFull,
    /// That is this peer's own id.
    OwnId,
    /// The peer is closed.
    Closed,
    /// No signing keys are configured (publish).
    NoSigningKeys,
    /// The message could not be packed (empty event name, ...).
    Pack {
        /// Why.
        reason: String,
    },
    /// Over a size limit.
    TooLarge {
        /// The size given.
        len: u64,
    },
    /// No such peer in the table.
    UnknownPeer,
    /// The packet is not in the cache.
    UnknownPacket,
    /// No route back for that query.
    UnknownQuery,
    /// The same question was just asked.
    DuplicateQuery,
    /// A snapshot that cannot be restored.
    Snapshot {
        /// Why.
        reason: String,
    },
    /// A key could not be made from the seed given.
    Key {
        /// Why.
        reason: String,
    },
    /// A datagram or packet that does not decode.
    Decode {
        /// Why.
        reason: String,
    },
    /// A golden-vector file that cannot be run.
    Vectors {
        /// Why.
        reason: String,
    },
    /// The library was built without this feature.
    Unsupported {
        /// Which feature.
        reason: String,
    },
    /// A panic happened inside this peer earlier; it is unusable.
    Poisoned,
    /// The buffer given is too small (JNI fast path).
    BufferTooSmall {
        /// The length needed.
        needed: u64,
    },
}

impl std::fmt::Display for StreamRelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use StreamRelayError::*;
        match self {
            InvalidArgument { reason } => write!(f, "invalid argument: {reason}"),
            InvalidConfig { reason } => write!(f, "invalid config: {reason}"),
            NoCluster => f.write_str("no cluster id configured"),
            TooManySubclusters { max } => write!(f, "already in {max} subclusters"),
            TableFull => f.write_str("the peer table is full"),
            OwnId => f.write_str("that is this peer's own id"),
            Closed => f.write_str("the peer is closed"),
            NoSigningKeys => f.write_str("no signing keys configured"),
            Pack { reason } => write!(f, "cannot pack: {reason}"),
            TooLarge { len } => write!(f, "{len} bytes is over the limit"),
            UnknownPeer => f.write_str("no such peer in the table"),
            UnknownPacket => f.write_str("the packet is not in the cache"),
            UnknownQuery => f.write_str("no route back for that query"),
            DuplicateQuery => f.write_str("the same question was just asked"),
            Snapshot { reason } => write!(f, "snapshot: {reason}"),
            Key { reason } => write!(f, "key: {reason}"),
            Decode { reason } => write!(f, "decode: {reason}"),
            Vectors { reason } => write!(f, "vectors: {reason}"),
            Unsupported { reason } => write!(f, "unsupported: {reason}"),
            Poisoned => f.write_str("a panic happened inside this peer earlier"),
            BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
        }
    }
}

impl std::error::Error for StreamRelayError {}

impl From<PeerError> for StreamRelayError {
    fn from(e: PeerError) -> Self {
        use StreamRelayError as E;
        match e {
            PeerError::NoCluster => E::NoCluster,
            PeerError::TooManySubclusters(n) => E::TooManySubclusters { max: n as u64 },
            PeerError::TableFull => E::TableFull,
            PeerError::OwnId => E::OwnId,
            PeerError::Closed => E::Closed,
            PeerError::NoSigningKeys => E::NoSigningKeys,
            PeerError::Pack(p) => E::Pack {
                reason: p.to_string(),
            },
            PeerError::TooLarge(n) => E::TooLarge { len: n as u64 },
            PeerError::UnknownPeer => E::UnknownPeer,
            PeerError::UnknownPacket => E::UnknownPacket,
            PeerError::UnknownQuery => E::UnknownQuery,
            PeerError::DuplicateQuery => E::DuplicateQuery,
        }
    }
}

fn invalid(message: impl Into<String>) -> StreamRelayError {
    StreamRelayError::InvalidArgument {
        reason: message.into(),
    }
}

fn key_err(e: impl std::fmt::Display) -> StreamRelayError {
    StreamRelayError::Key {
        reason: e.to_string(),
    }
}

type Res<T> = Result<T, StreamRelayError>;

fn id32(what: &str, b: &[u8]) -> Res<[u8; 32]> {
    b.try_into()
        .map_err(|_| invalid(format!("{what} must be 32 bytes, got {}", b.len())))
}

// ---------------------------------------------------------------------
// Addresses, sockets, datagrams
// ---------------------------------------------------------------------

/// Where a datagram comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Remote {
    /// A UDP endpoint: `ip` is an IPv4 or IPv6 literal ("127.0.0.1", "::1").
    Udp {
        /// The address.
        ip: String,
        /// The port.
        port: u16,
    },
    /// A host-defined link with no IP address.
    Link {
        /// What it means is up to the host.
        id: u64,
    },
}

impl Remote {
    pub(crate) fn from_core(r: &CoreRemote) -> Self {
        match r {
            CoreRemote::Udp(a) => Remote::Udp {
                ip: a.ip().to_string(),
                port: a.port(),
            },
            CoreRemote::Link(n) => Remote::Link { id: *n },
        }
    }

    pub(crate) fn to_core(&self) -> Res<CoreRemote> {
        Ok(match self {
            Remote::Udp { ip, port } => {
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| invalid(format!("{ip:?} is not an IP address")))?;
                CoreRemote::Udp(SocketAddr::new(ip, *port))
            }
            Remote::Link { id } => CoreRemote::Link(*id),
        })
    }
}

/// A local socket the host owns for the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SocketId {
    /// The main socket: all normal traffic.
    Main,
    /// The probe socket: NAT discovery only.
    Probe,
    /// A pool socket the peer asked for (`PeerEvent.OpenPoolSockets`).
    Pool {
        /// Its number.
        id: u16,
    },
}

impl SocketId {
    pub(crate) fn from_core(s: CoreSocket) -> Self {
        match s {
            CoreSocket::Main => SocketId::Main,
            CoreSocket::Probe => SocketId::Probe,
            CoreSocket::Pool(id) => SocketId::Pool { id },
        }
    }

    pub(crate) fn to_core(self) -> CoreSocket {
        match self {
            SocketId::Main => CoreSocket::Main,
            SocketId::Probe => CoreSocket::Probe,
            SocketId::Pool { id } => CoreSocket::Pool(id),
        }
    }
}

/// A datagram the host must send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Transmit {
    /// The local socket to send it from.
    pub socket: SocketId,
    /// The destination.
    pub remote: Remote,
    /// The bytes.
    pub bytes: Vec<u8>,
}

// ---------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------

/// An introducer the peer starts from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Introducer {
    /// Its 32-byte peer id.
    pub peer_id: Vec<u8>,
    /// Where it listens.
    pub remote: Remote,
}

/// Everything the host configures (the core's `Config`; limits, quotas and
/// timings keep the core's defaults).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerConfig {
    /// This peer's 32-byte id (`create_id`).
    pub peer_id: Vec<u8>,
    /// The 32-byte cluster id (`create_cluster_id`); needed to join and
    /// publish.
    #[uniffi(default = None)]
    pub cluster_id: Option<Vec<u8>>,
    /// Announce as an introducer (`indexed`).
    #[uniffi(default = false)]
    pub indexed: bool,
    /// A static NAT type (skips discovery), e.g. `NAT_UNRESTRICTED`.
    #[uniffi(default = None)]
    pub nat_type: Option<u8>,
    /// The public endpoint that goes with a static NAT type.
    #[uniffi(default = None)]
    pub public_address: Option<Remote>,
    /// Tick interval (Joins, pings, expiry), ms.
    #[uniffi(default = 30000)]
    pub keepalive_ms: u64,
    /// Offset from the host's monotonic clock to Unix time, ms.
    #[uniffi(default = 0)]
    pub wall_clock_offset_ms: i64,
    /// Introducers to start from.
    #[uniffi(default = [])]
    pub introducers: Vec<Introducer>,
    /// Exempt from the rate limits (tests, trusted links).
    #[uniffi(default = false)]
    pub limit_exempt: bool,
    /// The 64-byte Ed25519 secret key that signs what this peer publishes
    /// (`create_key_pair(...).secret_key`).
    #[uniffi(default = None)]
    pub signing_secret_key: Option<Vec<u8>>,
}

impl PeerConfig {
    fn to_core(&self) -> Res<Config> {
        let id = id32("peer_id", &self.peer_id)?;
        let cluster = self
            .cluster_id
            .as_deref()
            .map(|c| id32("cluster_id", c))
            .transpose()?;
        let mut c = Config::new(&PeerId(id).to_hex(), cluster);
        c.indexed = self.indexed;
        c.nat_type = self.nat_type.map(NatType);
        c.public_address = match &self.public_address {
            None => None,
            Some(r) => Some(
                r.to_core()?
                    .udp()
                    .ok_or_else(|| invalid("public_address must be a UDP endpoint"))?,
            ),
        };
        c.keepalive_ms = self.keepalive_ms;
        c.wall_clock_offset_ms = self.wall_clock_offset_ms;
        for i in &self.introducers {
            c.introducers.push(CoreIntroducer {
                peer_id: PeerId(id32("introducer peer_id", &i.peer_id)?),
                remote: i.remote.to_core()?,
            });
        }
        c.limit_exempt = self.limit_exempt;
        c.signing_keys = match &self.signing_secret_key {
            None => None,
            Some(sk) => Some(CoreKeyPair::from_secret_key(sk).map_err(key_err)?),
        };
        Ok(c)
    }
}

/// A config with every optional field at its default.
#[uniffi::export]
pub fn peer_config(peer_id: Vec<u8>) -> PeerConfig {
    PeerConfig {
        peer_id,
        cluster_id: None,
        indexed: false,
        nat_type: None,
        public_address: None,
        keepalive_ms: 30_000,
        wall_clock_offset_ms: 0,
        introducers: Vec::new(),
        limit_exempt: false,
        signing_secret_key: None,
    }
}

// ---------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------

/// Why a peer left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DisconnectReason {
    /// Silent too long.
    Missing,
    /// Forgotten after a longer silence.
    Forgotten,
    /// Evicted to make room.
    Evicted,
}

/// Why a message was not verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UnverifiedReason {
    /// The signature does not verify.
    BadSignature,
    /// The publisher key is malformed.
    BadPublisherKey,
}

/// What the peer tells the host (`poll_event`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PeerEvent {
    /// The NAT type and public endpoint are known.
    Ready {
        /// NAT type, if known.
        nat: Option<u8>,
        /// Public IP, if known.
        address: Option<String>,
        /// Public port, if known.
        port: Option<u16>,
    },
    /// The NAT type changed.
    NatChange {
        /// Before.
        old: Option<u8>,
        /// After.
        new: Option<u8>,
    },
    /// A peer is reachable.
    Connection {
        /// Its id.
        peer_id: Vec<u8>,
        /// Where.
        remote: Remote,
        /// Its NAT type.
        nat: u8,
        /// The peer relaying for it, if any.
        proxy: Option<Vec<u8>>,
        /// The local socket that reaches it.
        socket: SocketId,
    },
    /// A peer left the table.
    Disconnection {
        /// Its id.
        peer_id: Vec<u8>,
        /// Why.
        reason: DisconnectReason,
    },
    /// A peer joined one of our subclusters.
    Join {
        /// Cluster.
        cluster_id: Vec<u8>,
        /// Subcluster.
        subcluster_id: Vec<u8>,
        /// Who.
        peer_id: Vec<u8>,
    },
    /// An introducer introduced a peer.
    Intro {
        /// The peer.
        peer_id: Vec<u8>,
        /// Where it is.
        remote: Remote,
        /// Its NAT type.
        nat: u8,
        /// Who introduced it.
        introducer: Vec<u8>,
        /// The connection strategy (`STRATEGY_*` numbers, 0-4).
        strategy: u8,
        /// A rendezvous introduction.
        rendezvous: bool,
    },
    /// Open these pool sockets (hard-NAT traversal).
    OpenPoolSockets {
        /// Which.
        sockets: Vec<SocketId>,
    },
    /// Close these pool sockets.
    ClosePoolSockets {
        /// Which.
        sockets: Vec<SocketId>,
    },
    /// The peer is closed.
    Closed,
    /// A message of one of our subclusters, opened and verified.
    Packet {
        /// Cluster.
        cluster_id: Vec<u8>,
        /// Subcluster.
        subcluster_id: Vec<u8>,
        /// SHA-256 of the event name.
        event_hash: Vec<u8>,
        /// The plaintext.
        payload: Vec<u8>,
        /// Its packet id.
        packet_id: Vec<u8>,
        /// The chain head, for a reassembled chain.
        head_id: Option<Vec<u8>>,
        /// The publisher's signing key.
        publisher: Vec<u8>,
        /// Hops it travelled.
        hops: u32,
        /// The neighbour it came from.
        from: Remote,
        /// The peer that streamed it, for a Stream.
        stream_from: Option<Vec<u8>>,
    },
    /// A message whose signature does not verify.
    Unverified {
        /// Cluster.
        cluster_id: Vec<u8>,
        /// Subcluster.
        subcluster_id: Vec<u8>,
        /// SHA-256 of the event name.
        event_hash: Vec<u8>,
        /// The plaintext.
        payload: Vec<u8>,
        /// Its packet id.
        packet_id: Vec<u8>,
        /// The claimed publisher key.
        publisher: Vec<u8>,
        /// Why.
        reason: UnverifiedReason,
        /// The neighbour it came from.
        from: Remote,
        /// The peer that streamed it, for a Stream.
        stream_from: Option<Vec<u8>>,
    },
    /// A message of our subcluster that does not open.
    Unopenable {
        /// Cluster.
        cluster_id: Vec<u8>,
        /// Subcluster.
        subcluster_id: Vec<u8>,
        /// SHA-256 of the event name.
        event_hash: Vec<u8>,
        /// Its packet id.
        packet_id: Vec<u8>,
        /// Why.
        error: String,
        /// The neighbour it came from.
        from: Remote,
        /// The peer that streamed it, for a Stream.
        stream_from: Option<Vec<u8>>,
    },
    /// A query from the network.
    Query {
        /// Its id.
        query_id: Vec<u8>,
        /// The question.
        question: Vec<u8>,
        /// Who asked.
        from: Remote,
    },
    /// An answer to one of our queries.
    Answer {
        /// The query.
        query_id: Vec<u8>,
        /// The packet answered.
        packet_id: Vec<u8>,
        /// Its index.
        index: i32,
        /// The message.
        message: Vec<u8>,
        /// Who answered.
        from: Remote,
    },
    /// A sync with a neighbour finished.
    SyncFinished {
        /// The neighbour.
        remote: Remote,
        /// The summary prefix.
        prefix: String,
    },
    /// An event this version of the bindings does not know.
    Other {
        /// Its debug form.
        description: String,
    },
}

fn pid(p: &PeerId) -> Vec<u8> {
    p.0.to_vec()
}

impl PeerEvent {
    fn from_core(e: Event) -> Self {
        let nat = |n: Option<NatType>| n.map(|n| n.0);
        let opt = |p: Option<PeerId>| p.map(|p| pid(&p));
        match e {
            Event::Ready {
                nat: n,
                address,
                port,
            } => PeerEvent::Ready {
                nat: nat(n),
                address: address.map(|a| a.to_string()),
                port,
            },
            Event::NatChange { old, new } => PeerEvent::NatChange {
                old: nat(old),
                new: nat(new),
            },
            Event::Connection {
                peer_id,
                remote,
                nat,
                proxy,
                socket,
            } => PeerEvent::Connection {
                peer_id: pid(&peer_id),
                remote: Remote::from_core(&remote),
                nat: nat.0,
                proxy: opt(proxy),
                socket: SocketId::from_core(socket),
            },
            Event::Disconnection { peer_id, reason } => PeerEvent::Disconnection {
                peer_id: pid(&peer_id),
                reason: match reason {
                    CoreDisconnect::Missing => DisconnectReason::Missing,
                    CoreDisconnect::Forgotten => DisconnectReason::Forgotten,
                    CoreDisconnect::Evicted => DisconnectReason::Evicted,
                },
            },
            Event::Join {
                cluster_id,
                subcluster_id,
                peer_id,
            } => PeerEvent::Join {
                cluster_id: cluster_id.to_vec(),
                subcluster_id: subcluster_id.to_vec(),
                peer_id: pid(&peer_id),
            },
            Event::Intro {
                peer_id,
                remote,
                nat,
                introducer,
                strategy,
                rendezvous,
            } => PeerEvent::Intro {
                peer_id: pid(&peer_id),
                remote: Remote::from_core(&remote),
                nat: nat.0,
                introducer: pid(&introducer),
                strategy: strategy as u8,
                rendezvous,
            },
            Event::OpenPoolSockets { sockets } => PeerEvent::OpenPoolSockets {
                sockets: sockets.into_iter().map(SocketId::from_core).collect(),
            },
            Event::ClosePoolSockets { sockets } => PeerEvent::ClosePoolSockets {
                sockets: sockets.into_iter().map(SocketId::from_core).collect(),
            },
            Event::Closed => PeerEvent::Closed,
            Event::Packet {
                cluster_id,
                subcluster_id,
                event_hash,
                payload,
                packet_id,
                head_id,
                publisher,
                hops,
                from,
                stream_from,
            } => PeerEvent::Packet {
                cluster_id: cluster_id.to_vec(),
                subcluster_id: subcluster_id.to_vec(),
                event_hash: event_hash.to_vec(),
                payload,
                packet_id: packet_id.to_vec(),
                head_id: head_id.map(|h| h.to_vec()),
                publisher: publisher.to_vec(),
                hops,
                from: Remote::from_core(&from),
                stream_from: opt(stream_from),
            },
            Event::Unverified {
                cluster_id,
                subcluster_id,
                event_hash,
                payload,
                packet_id,
                publisher,
                reason,
                from,
                stream_from,
            } => PeerEvent::Unverified {
                cluster_id: cluster_id.to_vec(),
                subcluster_id: subcluster_id.to_vec(),
                event_hash: event_hash.to_vec(),
                payload,
                packet_id: packet_id.to_vec(),
                publisher: publisher.to_vec(),
                reason: match reason {
                    CoreUnverified::BadSignature => UnverifiedReason::BadSignature,
                    CoreUnverified::BadPublisherKey => UnverifiedReason::BadPublisherKey,
                },
                from: Remote::from_core(&from),
                stream_from: opt(stream_from),
            },
            Event::Unopenable {
                cluster_id,
                subcluster_id,
                event_hash,
                packet_id,
                error,
                from,
                stream_from,
            } => PeerEvent::Unopenable {
                cluster_id: cluster_id.to_vec(),
                subcluster_id: subcluster_id.to_vec(),
                event_hash: event_hash.to_vec(),
                packet_id: packet_id.to_vec(),
                error: error.to_string(),
                from: Remote::from_core(&from),
                stream_from: opt(stream_from),
            },
            Event::Query {
                query_id,
                question,
                from,
            } => PeerEvent::Query {
                query_id: query_id.to_vec(),
                question,
                from: Remote::from_core(&from),
            },
            Event::Answer {
                query_id,
                packet_id,
                index,
                message,
                from,
            } => PeerEvent::Answer {
                query_id: query_id.to_vec(),
                packet_id: packet_id.to_vec(),
                index,
                message,
                from: Remote::from_core(&from),
            },
            Event::SyncFinished { remote, prefix } => PeerEvent::SyncFinished {
                remote: Remote::from_core(&remote),
                prefix,
            },
            #[allow(unreachable_patterns)]
            other => PeerEvent::Other {
                description: format!("{other:?}"),
            },
        }
    }
}

// ---------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------

/// What the lock guards: the core's state machine and a datagram the JNI
/// fast path could not hand over (its buffer was too small).
pub(crate) struct PeerCell {
    pub(crate) peer: CorePeer,
    pub(crate) held: Option<CoreTransmit>,
}

impl PeerCell {
    /// The next datagram: the held one first.
    pub(crate) fn next_transmit(&mut self, now: u64) -> Option<CoreTransmit> {
        self.held
            .take()
            .or_else(|| self.peer.poll_transmit(Instant(now)))
    }
}

/// A few counters of the peer (the core's `Metrics`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerMetrics {
    /// Datagrams handed to `handle_datagram`.
    pub datagrams_in: u64,
    /// Datagrams dropped, all reasons.
    pub dropped: u64,
    /// Messages published.
    pub published: u64,
    /// Messages delivered as `PeerEvent.Packet`.
    pub delivered: u64,
    /// Packets relayed for others.
    pub relayed: u64,
}

/// A Stream Relay peer: a sans-IO state machine. Feed it datagrams
/// (`handle_datagram`) and timer ticks (`handle_timeout` when
/// `poll_timeout` says), send what `poll_transmit` returns, act on
/// `poll_event`. Times are ms on the host's monotonic clock. Thread-safe:
/// calls are serialized by a lock.
#[derive(uniffi::Object)]
pub struct Peer {
    pub(crate) cell: Mutex<PeerCell>,
}

impl Peer {
    pub(crate) fn lock(&self) -> Res<MutexGuard<'_, PeerCell>> {
        self.cell.lock().map_err(|_| StreamRelayError::Poisoned)
    }
}

fn seed32(seed: &[u8]) -> Res<[u8; 32]> {
    id32("seed", seed)
}

fn shared_key(k: &[u8]) -> Res<SharedKey> {
    Ok(SharedKey::from_bytes(id32("shared_key", k)?))
}

#[uniffi::export]
impl Peer {
    /// A peer from `config` at `now_ms`, with a 32-byte `seed` from the
    /// host's CSPRNG (every random choice derives from it). Nothing is sent
    /// until the first `handle_timeout`, due at `now_ms`.
    #[uniffi::constructor]
    pub fn new(config: PeerConfig, now_ms: u64, seed: Vec<u8>) -> Res<Arc<Self>> {
        let c = config.to_core()?;
        let peer = CorePeer::new(c, Instant(now_ms), seed32(&seed)?).map_err(|e| {
            StreamRelayError::InvalidConfig {
                reason: e.to_string(),
            }
        })?;
        Ok(Arc::new(Peer {
            cell: Mutex::new(PeerCell { peer, held: None }),
        }))
    }

    /// A peer from a `snapshot` and the config naming the same peer id.
    #[uniffi::constructor]
    pub fn restore(
        config: PeerConfig,
        now_ms: u64,
        seed: Vec<u8>,
        snapshot: Vec<u8>,
    ) -> Res<Arc<Self>> {
        let c = config.to_core()?;
        let peer =
            CorePeer::restore(c, Instant(now_ms), seed32(&seed)?, &snapshot).map_err(|e| {
                StreamRelayError::Snapshot {
                    reason: e.to_string(),
                }
            })?;
        Ok(Arc::new(Peer {
            cell: Mutex::new(PeerCell { peer, held: None }),
        }))
    }

    /// A datagram arrived on `socket` from `remote`. Bad input is dropped
    /// and counted (`metrics`), not an error.
    pub fn handle_datagram(
        &self,
        now_ms: u64,
        socket: SocketId,
        remote: Remote,
        bytes: Vec<u8>,
    ) -> Res<()> {
        let remote = remote.to_core()?;
        self.lock()?
            .peer
            .handle_datagram(Instant(now_ms), socket.to_core(), remote, &bytes);
        Ok(())
    }

    /// Fires the timers due at `now_ms`.
    pub fn handle_timeout(&self, now_ms: u64) -> Res<()> {
        self.lock()?.peer.handle_timeout(Instant(now_ms));
        Ok(())
    }

    /// When `handle_timeout` is due next (ms); none after `close`.
    pub fn poll_timeout(&self) -> Res<Option<u64>> {
        Ok(self.lock()?.peer.poll_timeout().map(|t| t.as_millis()))
    }

    /// The next datagram to send, oldest first.
    pub fn poll_transmit(&self, now_ms: u64) -> Res<Option<Transmit>> {
        Ok(self.lock()?.next_transmit(now_ms).map(|t| Transmit {
            socket: SocketId::from_core(t.socket),
            remote: Remote::from_core(&t.remote),
            bytes: t.bytes,
        }))
    }

    /// The next event, oldest first.
    pub fn poll_event(&self) -> Res<Option<PeerEvent>> {
        Ok(self.lock()?.peer.poll_event().map(PeerEvent::from_core))
    }

    /// Joins the subcluster of the 32-byte `shared_key` in the configured
    /// cluster; returns its 32-byte subcluster id.
    pub fn join(&self, now_ms: u64, shared_key: Vec<u8>) -> Res<Vec<u8>> {
        let k = self::shared_key(&shared_key)?;
        Ok(self.lock()?.peer.join(Instant(now_ms), &k)?.to_vec())
    }

    /// `join` in another cluster.
    pub fn join_in(&self, now_ms: u64, cluster_id: Vec<u8>, shared_key: Vec<u8>) -> Res<Vec<u8>> {
        let c = id32("cluster_id", &cluster_id)?;
        let k = self::shared_key(&shared_key)?;
        Ok(self.lock()?.peer.join_in(Instant(now_ms), c, &k)?.to_vec())
    }

    /// Stops re-joining a subcluster; true when the peer was in it.
    pub fn leave(&self, cluster_id: Vec<u8>, subcluster_id: Vec<u8>) -> Res<bool> {
        let c = id32("cluster_id", &cluster_id)?;
        let s = id32("subcluster_id", &subcluster_id)?;
        Ok(self.lock()?.peer.leave(c, s))
    }

    /// Adds an introducer.
    pub fn add_introducer(&self, peer_id: Vec<u8>, remote: Remote) -> Res<()> {
        let id = PeerId(id32("peer_id", &peer_id)?);
        let r = remote.to_core()?;
        Ok(self.lock()?.peer.add_introducer(id, r)?)
    }

    /// Publishes `payload` as event `event_name` to the subcluster of
    /// `shared_key`; returns the packet ids, head first.
    pub fn publish(
        &self,
        now_ms: u64,
        shared_key: Vec<u8>,
        event_name: String,
        payload: Vec<u8>,
    ) -> Res<Vec<Vec<u8>>> {
        let k = self::shared_key(&shared_key)?;
        let ids = self.lock()?.peer.publish(
            Instant(now_ms),
            &k,
            &event_name,
            &payload,
            &PublishOptions::new(),
        )?;
        Ok(ids.into_iter().map(|i| i.to_vec()).collect())
    }

    /// Starts a Sync with a peer in the table.
    pub fn sync(&self, now_ms: u64, peer_id: Vec<u8>) -> Res<()> {
        let id = PeerId(id32("peer_id", &peer_id)?);
        Ok(self.lock()?.peer.sync(Instant(now_ms), &id)?)
    }

    /// Sends a Join for every subcluster now.
    pub fn reconnect(&self, now_ms: u64) -> Res<()> {
        self.lock()?.peer.reconnect(Instant(now_ms));
        Ok(())
    }

    /// Forgets the NAT type and discovers it again.
    pub fn disconnect(&self, now_ms: u64) -> Res<()> {
        self.lock()?.peer.disconnect(Instant(now_ms));
        Ok(())
    }

    /// Stops the peer (queues `PeerEvent.Closed`); closing twice is harmless.
    pub fn close(&self, now_ms: u64) -> Res<()> {
        let mut c = self.lock()?;
        c.held = None;
        c.peer.close(Instant(now_ms));
        Ok(())
    }

    /// Updates the offset from the monotonic clock to Unix time (ms).
    pub fn set_wall_clock_offset(&self, offset_ms: i64) -> Res<()> {
        self.lock()?.peer.set_wall_clock_offset(offset_ms);
        Ok(())
    }

    /// This peer's 32-byte id.
    pub fn peer_id(&self) -> Res<Vec<u8>> {
        Ok(self.lock()?.peer.peer_id().0.to_vec())
    }

    /// The NAT type, once known.
    pub fn nat_type(&self) -> Res<Option<u8>> {
        Ok(self.lock()?.peer.nat_type().map(|n| n.0))
    }

    /// The Lamport clock.
    pub fn clock(&self) -> Res<u32> {
        Ok(self.lock()?.peer.clock())
    }

    /// The ids of the peers in the table.
    pub fn peer_ids(&self) -> Res<Vec<Vec<u8>>> {
        Ok(self
            .lock()?
            .peer
            .peers()
            .iter()
            .map(|p| p.peer_id.0.to_vec())
            .collect())
    }

    /// A cached packet's bytes.
    pub fn cached(&self, packet_id: Vec<u8>) -> Res<Option<Vec<u8>>> {
        Ok(self.lock()?.peer.cached(&packet_id).map(<[u8]>::to_vec))
    }

    /// Counters.
    pub fn metrics(&self) -> Res<PeerMetrics> {
        let c = self.lock()?;
        let m = c.peer.metrics();
        Ok(PeerMetrics {
            datagrams_in: m.datagrams_in,
            dropped: m.total_dropped(),
            published: m.published,
            delivered: m.delivered,
            relayed: m.relayed,
        })
    }

    /// The peer as bytes for `Peer.restore` (holds the subcluster keys:
    /// store it as a secret).
    pub fn snapshot(&self, now_ms: u64) -> Res<Vec<u8>> {
        Ok(self.lock()?.peer.snapshot(Instant(now_ms)))
    }

    /// Lends this peer to the JNI fast path (`dev.streamrelay.NativeDatagrams`):
    /// an opaque handle holding a strong reference, to pass to
    /// `NativeDatagrams(handle)`, which releases it on `close()`. Both faces
    /// then drive this one state machine, serialized by its lock.
    pub fn native_handle(self: Arc<Self>) -> u64 {
        Arc::into_raw(self) as usize as u64
    }
}

// ---------------------------------------------------------------------
// Keys, ids, helpers
// ---------------------------------------------------------------------

/// A seed for the key helpers: text (UTF-8) or raw bytes, as the
/// reference's `Encryption.create*` take them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Seed {
    /// A string.
    Text {
        /// The text.
        text: String,
    },
    /// Bytes.
    Bytes {
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl Seed {
    fn core(&self) -> ident::Seed<'_> {
        match self {
            Seed::Text { text } => ident::Seed::Text(text),
            Seed::Bytes { bytes } => ident::Seed::Bytes(bytes),
        }
    }
}

/// An Ed25519 key pair.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyPair {
    /// 32 bytes.
    pub public_key: Vec<u8>,
    /// 64 bytes (seed ‖ public key), libsodium's form.
    pub secret_key: Vec<u8>,
}

/// `Encryption.createKeyPair(seed)`.
#[uniffi::export]
pub fn create_key_pair(seed: Seed) -> Res<KeyPair> {
    let kp = ident::create_key_pair(seed.core()).map_err(key_err)?;
    Ok(KeyPair {
        public_key: kp.public_key().to_vec(),
        secret_key: kp.secret_key().to_vec(),
    })
}

/// `Encryption.createSharedKey(seed)`: 32 bytes.
#[uniffi::export]
pub fn create_shared_key(seed: Seed) -> Res<Vec<u8>> {
    Ok(ident::create_shared_key(seed.core())
        .map_err(key_err)?
        .as_bytes()
        .to_vec())
}

/// `Encryption.createClusterId(value)`: 32 bytes.
#[uniffi::export]
pub fn create_cluster_id(seed: Seed) -> Res<Vec<u8>> {
    Ok(ident::create_cluster_id(seed.core())
        .map_err(key_err)?
        .to_vec())
}

/// `Encryption.createId(value)`: a 32-byte peer id.
#[uniffi::export]
pub fn create_id(seed: Seed) -> Res<Vec<u8>> {
    let hex = ident::create_id(seed.core()).map_err(key_err)?;
    Ok(PeerId::from_hex(&hex)
        .ok_or_else(|| key_err("createId made no id"))?
        .0
        .to_vec())
}

/// The subcluster id of a 32-byte shared key.
#[uniffi::export]
pub fn subcluster_id(shared_key: Vec<u8>) -> Res<Vec<u8>> {
    Ok(ident::subcluster_id(&self::shared_key(&shared_key)?).to_vec())
}

/// SHA-256.
#[uniffi::export]
pub fn sha256(data: Vec<u8>) -> Vec<u8> {
    ident::sha256(&data).to_vec()
}

/// Lower-case hex.
#[uniffi::export]
pub fn to_hex(data: Vec<u8>) -> String {
    ident::to_hex(&data)
}

/// Hex (either case) to bytes.
#[uniffi::export]
pub fn from_hex(hex: String) -> Res<Vec<u8>> {
    let b = hex.as_bytes();
    if b.len() % 2 != 0 {
        return Err(invalid("odd number of hex digits"));
    }
    b.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            match (d(p[0]), d(p[1])) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(invalid("not a hex digit")),
            }
        })
        .collect()
}

/// Ed25519 signature of `message` with a 64-byte secret key.
#[uniffi::export]
pub fn sign(message: Vec<u8>, secret_key: Vec<u8>) -> Res<Vec<u8>> {
    let kp = CoreKeyPair::from_secret_key(&secret_key).map_err(key_err)?;
    Ok(sign::sign_message(&message, &kp).to_vec())
}

/// Verifies an Ed25519 signature; false for a malformed key or signature.
#[uniffi::export]
pub fn verify(message: Vec<u8>, signature: Vec<u8>, public_key: Vec<u8>) -> bool {
    match (
        <[u8; 64]>::try_from(signature.as_slice()),
        <[u8; 32]>::try_from(public_key.as_slice()),
    ) {
        (Ok(s), Ok(k)) => sign::verify_message(&message, &s, &k),
        _ => false,
    }
}

/// `connectionStrategy(local, remote)` (`STRATEGY_*`, 0-4); a missing NAT
/// type is the reference's null.
#[uniffi::export]
pub fn connection_strategy(local: Option<u8>, remote: Option<u8>) -> u8 {
    core_strategy(local.map(NatType), remote.map(NatType)) as u8
}

/// The reference's name of a NAT type ("UNRESTRICTED", ..., "UNKNOWN").
#[uniffi::export]
pub fn nat_type_name(nat: u8) -> String {
    NatType(nat).name().to_string()
}

/// `isValidPeerId`: 64 hex digits.
#[uniffi::export]
pub fn is_valid_peer_id(value: String) -> bool {
    streamrelay::id::is_valid_peer_id(&value)
}

/// The NAT type numbers the config and events use.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NatTypes {
    /// Unknown (0).
    pub unknown: u8,
    /// Unrestricted (31).
    pub unrestricted: u8,
    /// Address-restricted (15).
    pub addr_restricted: u8,
    /// Port-restricted (7).
    pub port_restricted: u8,
    /// Endpoint-restricted (5).
    pub endpoint_restricted: u8,
}

/// The NAT type numbers.
#[uniffi::export]
pub fn nat_types() -> NatTypes {
    NatTypes {
        unknown: NatType::UNKNOWN.0,
        unrestricted: NatType::UNRESTRICTED.0,
        addr_restricted: NatType::ADDR_RESTRICTED.0,
        port_restricted: NatType::PORT_RESTRICTED.0,
        endpoint_restricted: NatType::ENDPOINT_RESTRICTED.0,
    }
}

/// A decoded frame's header and fields (byte fields as they are on the
/// wire).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PacketInfo {
    /// Packet type (1 Ping ... 8 Query).
    pub packet_type: u8,
    /// Wire version.
    pub version: u16,
    /// Lamport clock.
    pub clock: u32,
    /// Hops.
    pub hops: u32,
    /// Chain index.
    pub index: i32,
    /// Cache TTL.
    pub ttl: u32,
    /// Cluster id.
    pub cluster_id: Vec<u8>,
    /// Subcluster id.
    pub subcluster_id: Vec<u8>,
    /// Previous id.
    pub previous_id: Vec<u8>,
    /// Packet id.
    pub packet_id: Vec<u8>,
    /// Next id.
    pub next_id: Vec<u8>,
    /// usr1.
    pub usr1: Vec<u8>,
    /// usr2.
    pub usr2: Vec<u8>,
    /// usr3.
    pub usr3: Vec<u8>,
    /// usr4.
    pub usr4: Vec<u8>,
    /// The message.
    pub message: Vec<u8>,
    /// The signature field.
    pub sig: Vec<u8>,
}

/// Decodes a frame, validating control messages (types 1-4) as the
/// reference does.
#[uniffi::export]
pub fn decode_packet(bytes: Vec<u8>) -> Res<PacketInfo> {
    let p = PacketRef::decode(&bytes).map_err(|e| StreamRelayError::Decode {
        reason: e.to_string(),
    })?;
    Ok(PacketInfo {
        packet_type: p.packet_type as u8,
        version: p.version,
        clock: p.clock,
        hops: p.hops,
        index: p.index,
        ttl: p.ttl,
        cluster_id: p.cluster_id.to_vec(),
        subcluster_id: p.subcluster_id.to_vec(),
        previous_id: p.previous_id.to_vec(),
        packet_id: p.packet_id.to_vec(),
        next_id: p.next_id.to_vec(),
        usr1: p.usr1.to_vec(),
        usr2: p.usr2.to_vec(),
        usr3: p.usr3.to_vec(),
        usr4: p.usr4.to_vec(),
        message: p.message.to_vec(),
        sig: p.sig.to_vec(),
    })
}

/// The library's version ("0.1.0").
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

// ---------------------------------------------------------------------
// Golden vectors
// ---------------------------------------------------------------------

/// Totals of a golden-vector run.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VectorReport {
    /// Cases that matched the reference.
    pub passed: u64,
    /// Cases that did not.
    pub failed: u64,
    /// Documented deviations (docs/compat.md).
    pub deviations: u64,
    /// Cases left out by `only`.
    pub not_selected: u64,
    /// One line per failure and deviation.
    pub lines: Vec<String>,
}

/// Runs the cases of a golden-vector file (its bytes, `format`
/// `latica-oracle-vectors/1`) through the core, as `streamrelay vectors
/// check` does. `only` keeps the kinds starting with one of its prefixes
/// (empty: all). Needs the library built with the cargo feature `vectors`
/// (the test builds are); otherwise `StreamRelayError.Unsupported`.
#[uniffi::export]
pub fn vectors_check(file: Vec<u8>, only: Vec<String>) -> Res<VectorReport> {
    vectors_check_impl(&file, &only)
}

#[cfg(feature = "vectors")]
fn vectors_check_impl(file: &[u8], only: &[String]) -> Res<VectorReport> {
    let r = streamrelay_vectors::check_bytes(file, "vectors", only).map_err(|e| {
        StreamRelayError::Vectors {
            reason: e.to_string(),
        }
    })?;
    Ok(VectorReport {
        passed: r.passed as u64,
        failed: r.failed as u64,
        deviations: r.deviations as u64,
        not_selected: r.not_selected as u64,
        lines: r.lines,
    })
}

#[cfg(not(feature = "vectors"))]
fn vectors_check_impl(_file: &[u8], _only: &[String]) -> Res<VectorReport> {
    Err(StreamRelayError::Unsupported {
        reason: "built without the cargo feature `vectors`".into(),
    })
}

/// Whether this build can run golden vectors (`vectors_check`).
#[uniffi::export]
pub fn has_vectors() -> bool {
    cfg!(feature = "vectors")
}

/// Test hook: panics inside the library, to show that a panic comes back
/// as an error (UniFFI's internal error), never as a crash. Never call it
/// outside tests.
#[uniffi::export]
pub fn debug_panic(message: String) -> Res<()> {
    panic!("debug_panic: {message}")
}
