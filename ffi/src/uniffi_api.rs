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

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use streamrelay::crypto::identity::{self as ident, KeyPair as CoreKeyPair, SharedKey};
use streamrelay::crypto::sign;
use streamrelay::nat::{connection_strategy as core_strategy, NatType};
use streamrelay::peer::{
    Config, ConfigError, DisconnectReason as CoreDisconnect, DropReason as CoreDrop, Event,
    Firewall, Instant, Introducer as CoreIntroducer, Peer as CorePeer, PeerError, PeerId, Profile,
    PublishOptions as CorePublishOptions, Remote as CoreRemote, RemotePeer as CoreRemotePeer,
    SocketId as CoreSocket, UnverifiedReason as CoreUnverified,
};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::packet::PacketId;
use streamrelay::wire::PacketRef;

use crate::uniffi_config::{PeerExpiry, PeerFanout, PeerLimits, PeerQuotas, PeerTimings};

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
    /// A config limit is zero (every limit must be at least 1).
    ZeroLimit {
        /// Which (the core's name, e.g. "max_peers").
        name: String,
    },
    /// Text that must be JSON (a question, `PublishOptions.meta_json`) is
    /// not, or not the JSON expected.
    InvalidJson {
        /// Why.
        reason: String,
    },
    /// The peer was called from inside its own firewall callback.
    Busy,
    /// A host callback failed (an exception the callback did not declare).
    Callback {
        /// Its description.
        reason: String,
    },
    /// `Node.start`: a socket would not bind, or the node's loop could not
    /// start (the OS refused).
    Io {
        /// Why.
        reason: String,
    },
    /// `Node.save` / `Node.close`: the state file could not be written.
    StateFile {
        /// Why.
        reason: String,
    },
    /// `Node.linkInput` / `Node.removeLink` / ...: no open link with that
    /// id (removed, or closed at end of stream).
    UnknownLink {
        /// The id.
        link: u64,
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
            ZeroLimit { name } => write!(f, "limit {name} must be at least 1"),
            InvalidJson { reason } => write!(f, "invalid JSON: {reason}"),
            Busy => f.write_str("the peer was called from inside its own firewall"),
            Callback { reason } => write!(f, "callback failed: {reason}"),
            Io { reason } => write!(f, "I/O: {reason}"),
            StateFile { reason } => write!(f, "state file: {reason}"),
            UnknownLink { link } => write!(f, "no link {link}"),
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

impl From<ConfigError> for StreamRelayError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::ZeroLimit(name) => StreamRelayError::ZeroLimit {
                name: name.to_string(),
            },
            other => StreamRelayError::InvalidConfig {
                reason: other.to_string(),
            },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for StreamRelayError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        StreamRelayError::Callback { reason: e.reason }
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

pub(crate) type Res<T> = Result<T, StreamRelayError>;

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

/// Which protocol behaviour a peer follows where the protocol leaves room
/// (the core's `Profile`; docs/compat.md#profiles). Both speak the same
/// wire protocol and understand reference peers.
#[uniffi::remote(Enum)]
pub enum Profile {
    /// Reliable delivery at a fraction of the traffic (the default).
    Improved,
    /// The reference (`latica/` 0.6.0-rc.8) decision for decision: for
    /// conformance and comparison.
    Reference,
}

/// Everything the host configures (the core's `Config`). Checked by the
/// core when a `Peer` is made from it: a zero limit is
/// `StreamRelayError.ZeroLimit`, anything else refused
/// `StreamRelayError.InvalidConfig`.
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
    /// Table and queue bounds (`default_limits()`).
    #[uniffi(default)]
    pub limits: PeerLimits,
    /// Per-remote rate quotas (`default_quotas()`).
    #[uniffi(default)]
    pub quotas: PeerQuotas,
    /// Peer expiry (`default_expiry()`).
    #[uniffi(default)]
    pub expiry: PeerExpiry,
    /// Protocol timings (`default_timings()`).
    #[uniffi(default)]
    pub timings: PeerTimings,
    /// Multicast target selection (`default_fanout()`).
    #[uniffi(default)]
    pub fanout: PeerFanout,
    /// Sync with a peer on first contact.
    #[uniffi(default = true)]
    pub auto_sync: bool,
    /// The protocol profile; none is `Profile.improved` (UniFFI has no
    /// enum defaults for records).
    #[uniffi(default = None)]
    pub profile: Option<Profile>,
}

impl PeerConfig {
    fn to_core(&self) -> Res<Config> {
        let id = id32("peer_id", &self.peer_id)?;
        let cluster = self
            .cluster_id
            .as_deref()
            .map(|c| id32("cluster_id", c))
            .transpose()?;
        let profile = self.profile.unwrap_or_default();
        let mut c = Config::with_profile(&PeerId(id).to_hex(), cluster, profile);
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
        c.limits = self.limits.to_core()?;
        c.quotas = self.quotas.to_core()?;
        c.expiry = self.expiry.to_core()?;
        c.timings = self.timings.to_core()?;
        c.fanout = self.fanout.to_core()?;
        c.auto_sync = self.auto_sync;
        Ok(c)
    }
}

/// A config with every optional field at its default (the core's).
#[uniffi::export]
pub fn peer_config(peer_id: Vec<u8>) -> PeerConfig {
    let d = Config::new("", None);
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
        limits: PeerLimits::from_core(&d.limits),
        quotas: PeerQuotas::from_core(&d.quotas),
        expiry: PeerExpiry::from_core(&d.expiry),
        timings: PeerTimings::from_core(&d.timings),
        fanout: PeerFanout::from_core(&d.fanout),
        auto_sync: d.auto_sync,
        profile: None,
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

/// A field of a core [`Event`] as the bindings carry it: ids and keys as
/// bytes, NAT types and strategies as their numbers, addresses as text,
/// errors as their message.
pub trait EventField {
    /// The type in Swift and Kotlin.
    type Face;
    /// The value as the bindings carry it.
    fn to_face(self) -> Self::Face;
}

macro_rules! event_field {
    ($($t:ty => $f:ty, |$v:ident| $e:expr;)*) => {$(
        impl EventField for $t {
            type Face = $f;
            fn to_face(self) -> $f {
                let $v = self;
                $e
            }
        }
    )*};
}

event_field! {
    u8 => u8, |v| v;
    u16 => u16, |v| v;
    u32 => u32, |v| v;
    i32 => i32, |v| v;
    bool => bool, |v| v;
    String => String, |v| v;
    [u8; 32] => Vec<u8>, |v| v.to_vec();
    streamrelay::wire::packet::IdField => Vec<u8>, |v| v.to_vec();
    PeerId => Vec<u8>, |v| v.0.to_vec();
    NatType => u8, |v| v.0;
    std::net::IpAddr => String, |v| v.to_string();
    streamrelay::nat::Strategy => u8, |v| v as u8;
    streamrelay::crypto::OpenError => String, |v| v.to_string();
    CoreRemote => Remote, |v| Remote::from_core(&v);
    CoreSocket => SocketId, |v| SocketId::from_core(v);
    CoreDisconnect => DisconnectReason, |v| match v {
        CoreDisconnect::Missing => DisconnectReason::Missing,
        CoreDisconnect::Forgotten => DisconnectReason::Forgotten,
        CoreDisconnect::Evicted => DisconnectReason::Evicted,
    };
    CoreUnverified => UnverifiedReason, |v| match v {
        CoreUnverified::BadSignature => UnverifiedReason::BadSignature,
        CoreUnverified::BadPublisherKey => UnverifiedReason::BadPublisherKey,
    };
}

impl<T: EventField> EventField for Option<T> {
    type Face = Option<T::Face>;
    fn to_face(self) -> Self::Face {
        self.map(T::to_face)
    }
}

impl<T: EventField> EventField for Vec<T> {
    type Face = Vec<T::Face>;
    fn to_face(self) -> Self::Face {
        self.into_iter().map(T::to_face).collect()
    }
}

fn pid(p: &PeerId) -> Vec<u8> {
    p.0.to_vec()
}

/// The bindings' event enum, made from the core's table
/// (`streamrelay::events_table!`): the same variants, fields and docs, each
/// field as [`EventField`] carries it, and `Other` for an event this build
/// of the bindings does not know.
macro_rules! peer_event {
    (
        [$(#[doc = $doc:tt])* $name:ident]
        $( $(#[doc = $vdoc:tt])* $variant:ident $({
            $( $(#[doc = $fdoc:tt])* $field:ident : $ty:ty, )*
        })?, )*
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant $({
                $( $(#[doc = $fdoc])* $field: <$ty as EventField>::Face, )*
            })?, )*
            /// An event this version of the bindings does not know.
            Other {
                /// Its debug form.
                description: String,
            },
        }

        impl $name {
            fn from_core(e: Event) -> Self {
                match e {
                    $( Event::$variant $({ $($field,)* })? => $name::$variant $({
                        $( $field: EventField::to_face($field), )*
                    })?, )*
                    #[allow(unreachable_patterns)]
                    other => $name::Other {
                        description: format!("{other:?}"),
                    },
                }
            }
        }
    };
}

streamrelay::events_table!(
    peer_event
    /// What the peer tells the host (`poll_event`).
    PeerEvent
);

// ---------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------

/// A core counter enum for the bindings, made from the core's table
/// (`streamrelay::drop_reasons_table!`, `streamrelay::evictions_table!`):
/// same variants, same order, and the array that maps the core's index to
/// it.
macro_rules! mirror_enum {
    ([$(#[doc = $doc:tt])* $name:ident, $all:ident] $( $(#[doc = $vdoc:tt])* $variant:ident = $n:tt, )*) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)*
        }

        const $all: &[$name] = &[$($name::$variant,)*];
    };
}

streamrelay::drop_reasons_table!(
    mirror_enum
    /// Why a datagram or packet was dropped (the core's `DropReason`, same
    /// order).
    DropReason, DROP_REASONS
);

streamrelay::evictions_table!(
    mirror_enum
    /// Why a table entry was evicted or refused (the core's `Eviction`, same
    /// order).
    Eviction, EVICTIONS
);

/// A drop counter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DropCount {
    /// Why.
    pub reason: DropReason,
    /// How many.
    pub count: u64,
}

/// An eviction counter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EvictionCount {
    /// What.
    pub eviction: Eviction,
    /// How many.
    pub count: u64,
}

/// The peer's counters (the core's `Metrics`).
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
    /// Packets received, by packet type (index 0: not a packet; 1 Ping …
    /// 8 Query).
    pub received_by_type: Vec<u64>,
    /// Packets sent, by packet type (as `received_by_type`).
    pub sent_by_type: Vec<u64>,
    /// Drops, one entry per reason (every reason, in `DropReason` order).
    pub drops: Vec<DropCount>,
    /// Evictions, one entry per kind (every kind, in `Eviction` order).
    pub evictions: Vec<EvictionCount>,
    /// Hard-NAT traversals that connected.
    pub traversals_succeeded: u64,
    /// Hard-NAT traversals that ran out of rounds.
    pub traversals_exhausted: u64,
    /// Connections that fell back to the introducer as proxy.
    pub proxy_fallbacks: u64,
    /// Packets cached.
    pub cached: u64,
    /// Cached packets expired.
    pub expired: u64,
    /// Expired packets re-broadcast.
    pub rebroadcast: u64,
    /// Messages that opened but did not verify.
    pub unverified: u64,
    /// Messages that did not open.
    pub unopenable: u64,
    /// Chains reassembled.
    pub chains_completed: u64,
    /// Missing-link queries sent.
    pub link_queries: u64,
    /// Queries answered from the cache.
    pub queries_answered: u64,
    /// Answers passed on towards their askers.
    pub answers_forwarded: u64,
    /// Syncs started.
    pub syncs_started: u64,
    /// Packets and summaries sent in answer to Syncs.
    pub sync_packets_sent: u64,
    /// Streams relayed for others.
    pub streams_relayed: u64,
}

impl PeerMetrics {
    fn from_core(m: &streamrelay::peer::Metrics) -> Self {
        PeerMetrics {
            datagrams_in: m.datagrams_in,
            dropped: m.total_dropped(),
            published: m.published,
            delivered: m.delivered,
            relayed: m.relayed,
            received_by_type: m.received_by_type.to_vec(),
            sent_by_type: m.sent_by_type.to_vec(),
            drops: DROP_REASONS
                .iter()
                .zip(m.drops)
                .map(|(&reason, count)| DropCount { reason, count })
                .collect(),
            evictions: EVICTIONS
                .iter()
                .zip(m.evictions)
                .map(|(&eviction, count)| EvictionCount { eviction, count })
                .collect(),
            traversals_succeeded: m.traversals_succeeded,
            traversals_exhausted: m.traversals_exhausted,
            proxy_fallbacks: m.proxy_fallbacks,
            cached: m.cached,
            expired: m.expired,
            rebroadcast: m.rebroadcast,
            unverified: m.unverified,
            unopenable: m.unopenable,
            chains_completed: m.chains_completed,
            link_queries: m.link_queries,
            queries_answered: m.queries_answered,
            answers_forwarded: m.answers_forwarded,
            syncs_started: m.syncs_started,
            sync_packets_sent: m.sync_packets_sent,
            streams_relayed: m.streams_relayed,
        }
    }
}

/// How full each bounded structure is (the core's `Occupancy`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerOccupancy {
    /// Peer-table entries.
    pub peers: u64,
    /// Scheduled ping retransmissions.
    pub pending_pings: u64,
    /// Gate entries.
    pub gate: u64,
    /// Rate-limit entries.
    pub rates: u64,
    /// Return routes.
    pub return_routes: u64,
    /// Introductions in progress.
    pub intros: u64,
    /// Open pool sockets.
    pub pool_sockets: u64,
    /// Queued events.
    pub events: u64,
    /// Queued transmits.
    pub transmits: u64,
    /// Pending timers.
    pub timers: u64,
    /// Cached packets.
    pub cache_packets: u64,
    /// Bytes the cache is charged.
    pub cache_bytes: u64,
    /// Own packets not yet sent to anyone.
    pub unpublished: u64,
    /// Our questions waiting for answers.
    pub pending_queries: u64,
    /// Chains of our subclusters being reassembled.
    pub pending_chains: u64,
    /// Chains in the stream buffer.
    pub stream_chains: u64,
    /// Fragment bytes in the stream buffer.
    pub stream_bytes: u64,
    /// Remembered delivered ids.
    pub delivered: u64,
    /// Remembered unopenable or unverified messages.
    pub rejected: u64,
}

/// A subcluster: (cluster id, subcluster id), 32 bytes each.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Subcluster {
    /// The cluster.
    pub cluster_id: Vec<u8>,
    /// The subcluster.
    pub subcluster_id: Vec<u8>,
}

/// One entry of the peer table (the core's `RemotePeer`). Times are on
/// the host's monotonic clock (ms).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RemotePeerInfo {
    /// Its id.
    pub peer_id: Vec<u8>,
    /// Where it was last seen.
    pub remote: Remote,
    /// Its NAT type, if known.
    pub nat: Option<u8>,
    /// An introducer.
    pub indexed: bool,
    /// Connected.
    pub connected: bool,
    /// Last packet from it.
    pub last_update_ms: Option<u64>,
    /// Last request we sent it.
    pub last_request_ms: Option<u64>,
    /// When we last probed it.
    pub probed_ms: Option<u64>,
    /// The introducer relaying for it.
    pub proxy: Option<Vec<u8>>,
    /// The local socket that reaches it.
    pub socket: SocketId,
    /// Subclusters it was seen in.
    pub clusters: Vec<Subcluster>,
    /// Highest Intro clock seen for it.
    pub clock: u32,
    /// Smoothed round-trip time, once measured.
    pub rtt_ms: Option<u32>,
    /// The uptime it reports.
    pub uptime_ms: Option<u64>,
}

impl RemotePeerInfo {
    fn from_core(p: &CoreRemotePeer) -> Self {
        RemotePeerInfo {
            peer_id: pid(&p.peer_id),
            remote: Remote::from_core(&p.remote),
            nat: p.nat.map(|n| n.0),
            indexed: p.indexed,
            connected: p.connected,
            last_update_ms: p.last_update.map(|t| t.as_millis()),
            last_request_ms: p.last_request.map(|t| t.as_millis()),
            probed_ms: p.probed.map(|t| t.as_millis()),
            proxy: p.proxy.as_ref().map(pid),
            socket: SocketId::from_core(p.socket),
            clusters: p
                .clusters
                .iter()
                .map(|(c, s)| Subcluster {
                    cluster_id: c.to_vec(),
                    subcluster_id: s.to_vec(),
                })
                .collect(),
            clock: p.clock,
            rtt_ms: p.rtt_ms,
            uptime_ms: p.uptime_ms,
        }
    }
}

/// Our public endpoint, as reflection (or the config) says.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublicEndpoint {
    /// The address, once known.
    pub address: Option<String>,
    /// The port, once known.
    pub port: Option<u16>,
}

/// Options of `Peer.publish` and `Peer.stream` (the core's
/// `PublishOptions`); every field defaults to none.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublishOptions {
    /// Cache lifetime in ms, capped at 6 h (none: 6 h).
    #[uniffi(default = None)]
    pub ttl_ms: Option<u32>,
    /// Publish in this cluster (32 bytes) instead of the configured one.
    #[uniffi(default = None)]
    pub cluster_id: Option<Vec<u8>>,
    /// The chain head's `meta`, as JSON text (used only when the message is
    /// split into a chain; none: `{}`).
    #[uniffi(default = None)]
    pub meta_json: Option<String>,
    /// Chain after this cached packet (its packet id).
    #[uniffi(default = None)]
    pub parent: Option<Vec<u8>>,
    /// `nextId` of the last packet.
    #[uniffi(default = None)]
    pub next_id: Option<Vec<u8>>,
}

fn packet_id(what: &str, b: &[u8]) -> Res<PacketId> {
    PacketId::from_slice(b).map_err(|_| invalid(format!("{what} is over 32 bytes")))
}

impl PublishOptions {
    fn to_core(&self) -> Res<CorePublishOptions> {
        let mut o = CorePublishOptions::new();
        o.ttl = self.ttl_ms;
        o.cluster_id = self
            .cluster_id
            .as_deref()
            .map(|c| id32("cluster_id", c))
            .transpose()?;
        o.meta = self
            .meta_json
            .as_deref()
            .map(|m| {
                streamrelay::wire::json::parse(m.as_bytes()).map_err(|e| {
                    StreamRelayError::InvalidJson {
                        reason: e.to_string(),
                    }
                })
            })
            .transpose()?;
        o.parent = self
            .parent
            .as_deref()
            .map(|p| packet_id("parent", p))
            .transpose()?;
        o.next_id = self
            .next_id
            .as_deref()
            .map(|p| packet_id("next_id", p))
            .transpose()?;
        Ok(o)
    }
}

fn publish_options(o: Option<PublishOptions>) -> Res<CorePublishOptions> {
    o.map_or_else(|| Ok(CorePublishOptions::new()), |o| o.to_core())
}

fn ids_out(ids: Vec<PacketId>) -> Vec<Vec<u8>> {
    ids.into_iter().map(|i| i.to_vec()).collect()
}

/// The host's veto over inbound packets (`Peer.set_firewall`): called for
/// every packet that decoded and passed its rate limit (not for the probe
/// socket), inside `handle_datagram` and on its thread. Return true to
/// handle the packet, false to drop it (counted as `DropReason.Firewall`).
///
/// **Fails closed**: a thrown error (declared or not) or a panic drops the
/// packet, as a false answer would, and the peer carries on. Calling back
/// into the same peer from `allow` throws `StreamRelayError.Busy`.
#[uniffi::export(with_foreign)]
pub trait PeerFirewall: Send + Sync {
    /// Whether to handle `packet`, which came from `remote` on `socket`.
    fn allow(
        &self,
        packet: PacketInfo,
        remote: Remote,
        socket: SocketId,
    ) -> Result<bool, StreamRelayError>;
}

thread_local! {
    /// The peer (its lock's address) whose firewall runs on this thread.
    static IN_FIREWALL: Cell<usize> = const { Cell::new(0) };
}

/// Marks a peer as inside its firewall for the guard's life.
struct InFirewall(usize);

impl InFirewall {
    fn enter(peer: usize) -> Self {
        InFirewall(IN_FIREWALL.with(|c| c.replace(peer)))
    }
}

impl Drop for InFirewall {
    fn drop(&mut self) {
        IN_FIREWALL.with(|c| c.set(self.0));
    }
}

/// A foreign `PeerFirewall` as the core's `Firewall`.
struct ForeignFirewall {
    firewall: Arc<dyn PeerFirewall>,
    /// The address of the peer's lock (the re-entrancy check).
    peer: usize,
}

impl Firewall for ForeignFirewall {
    fn allow(&mut self, packet: &PacketRef<'_>, remote: &CoreRemote, socket: CoreSocket) -> bool {
        let info = PacketInfo::from_ref(packet);
        let remote = Remote::from_core(remote);
        let socket = SocketId::from_core(socket);
        let _inside = InFirewall::enter(self.peer);
        // Fail closed: an error or a panic drops the packet.
        matches!(
            catch_unwind(AssertUnwindSafe(|| self
                .firewall
                .allow(info, remote, socket))),
            Ok(Ok(true))
        )
    }
}

/// A Stream Relay peer: a sans-IO state machine. Feed it datagrams
/// (`handle_datagram`) and timer ticks (`handle_timeout` when
/// `poll_timeout` says), send what `poll_transmit` returns, act on
/// `poll_event`. Times are ms on the host's monotonic clock. Thread-safe:
/// calls are serialized by a lock.
#[derive(uniffi::Object)]
pub struct Peer {
    pub(crate) cell: Mutex<CorePeer>,
}

impl Peer {
    pub(crate) fn lock(&self) -> Res<MutexGuard<'_, CorePeer>> {
        if IN_FIREWALL.with(Cell::get) == self.lock_addr() {
            // The lock is held further up this thread's stack: waiting for
            // it would deadlock.
            return Err(StreamRelayError::Busy);
        }
        self.cell.lock().map_err(|_| StreamRelayError::Poisoned)
    }

    fn lock_addr(&self) -> usize {
        std::ptr::from_ref(&self.cell) as usize
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
        let peer = CorePeer::new(c, Instant(now_ms), seed32(&seed)?)?;
        Ok(Arc::new(Peer {
            cell: Mutex::new(peer),
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
            cell: Mutex::new(peer),
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
            .handle_datagram(Instant(now_ms), socket.to_core(), remote, &bytes);
        Ok(())
    }

    /// Fires the timers due at `now_ms`.
    pub fn handle_timeout(&self, now_ms: u64) -> Res<()> {
        self.lock()?.handle_timeout(Instant(now_ms));
        Ok(())
    }

    /// When `handle_timeout` is due next (ms); none after `close`.
    pub fn poll_timeout(&self) -> Res<Option<u64>> {
        Ok(self.lock()?.poll_timeout().map(|t| t.as_millis()))
    }

    /// The next datagram to send, oldest first.
    pub fn poll_transmit(&self, now_ms: u64) -> Res<Option<Transmit>> {
        Ok(self
            .lock()?
            .poll_transmit(Instant(now_ms))
            .map(|t| Transmit {
                socket: SocketId::from_core(t.socket),
                remote: Remote::from_core(&t.remote),
                bytes: t.bytes,
            }))
    }

    /// The next event, oldest first.
    pub fn poll_event(&self) -> Res<Option<PeerEvent>> {
        Ok(self.lock()?.poll_event().map(PeerEvent::from_core))
    }

    /// Joins the subcluster of the 32-byte `shared_key` in the configured
    /// cluster; returns its 32-byte subcluster id.
    pub fn join(&self, now_ms: u64, shared_key: Vec<u8>) -> Res<Vec<u8>> {
        let k = self::shared_key(&shared_key)?;
        Ok(self.lock()?.join(Instant(now_ms), &k)?.to_vec())
    }

    /// `join` in another cluster.
    pub fn join_in(&self, now_ms: u64, cluster_id: Vec<u8>, shared_key: Vec<u8>) -> Res<Vec<u8>> {
        let c = id32("cluster_id", &cluster_id)?;
        let k = self::shared_key(&shared_key)?;
        Ok(self.lock()?.join_in(Instant(now_ms), c, &k)?.to_vec())
    }

    /// Stops re-joining a subcluster; true when the peer was in it.
    pub fn leave(&self, cluster_id: Vec<u8>, subcluster_id: Vec<u8>) -> Res<bool> {
        let c = id32("cluster_id", &cluster_id)?;
        let s = id32("subcluster_id", &subcluster_id)?;
        Ok(self.lock()?.leave(c, s))
    }

    /// Adds an introducer.
    pub fn add_introducer(&self, peer_id: Vec<u8>, remote: Remote) -> Res<()> {
        let id = PeerId(id32("peer_id", &peer_id)?);
        let r = remote.to_core()?;
        Ok(self.lock()?.add_introducer(id, r)?)
    }

    /// Publishes `payload` as event `event_name` to the subcluster of
    /// `shared_key`: sealed, signed with the config's signing key, split
    /// into a chain when it does not fit one packet, cached and multicast
    /// (kept and re-sent while it reaches nobody). Returns the packet ids,
    /// head first. Throws `NoSigningKeys`, `NoCluster`, `TooLarge`, `Pack`
    /// (e.g. an empty event name), `UnknownPacket` (`options.parent`),
    /// `InvalidJson` (`options.meta_json`) or `Closed`.
    #[uniffi::method(default(options = None))]
    pub fn publish(
        &self,
        now_ms: u64,
        shared_key: Vec<u8>,
        event_name: String,
        payload: Vec<u8>,
        options: Option<PublishOptions>,
    ) -> Res<Vec<Vec<u8>>> {
        let k = self::shared_key(&shared_key)?;
        let o = publish_options(options)?;
        let ids = self
            .lock()?
            .publish(Instant(now_ms), &k, &event_name, &payload, &o)?;
        Ok(ids_out(ids))
    }

    /// Streams an event to one peer of the table (`peer_id`, 32 bytes):
    /// packed and sealed like a publish, sent to it (or its proxy) only.
    /// It receives it as `PeerEvent.Packet` with `stream_from` set. Throws
    /// `UnknownPeer` when it is not in the table, and as `publish`.
    #[uniffi::method(default(options = None))]
    pub fn stream(
        &self,
        now_ms: u64,
        peer_id: Vec<u8>,
        shared_key: Vec<u8>,
        event_name: String,
        payload: Vec<u8>,
        options: Option<PublishOptions>,
    ) -> Res<Vec<Vec<u8>>> {
        let to = PeerId(id32("peer_id", &peer_id)?);
        let k = self::shared_key(&shared_key)?;
        let o = publish_options(options)?;
        let ids = self
            .lock()?
            .stream(Instant(now_ms), &to, &k, &event_name, &payload, &o)?;
        Ok(ids_out(ids))
    }

    /// Asks the network: `question_json` is a JSON object
    /// (`{"packetId":"<hex>"}` asks for one cached packet). Answers come as
    /// `PeerEvent.Answer` with the returned query id. With no connections
    /// the question goes nowhere, but the id is still returned. Throws
    /// `InvalidJson`, `TooLarge` (over 1024 bytes), `DuplicateQuery` or
    /// `Closed`.
    pub fn query(&self, now_ms: u64, question_json: String) -> Res<Vec<u8>> {
        let q = QueryQuestion::parse(question_json.as_bytes()).map_err(|e| {
            StreamRelayError::InvalidJson {
                reason: e.to_string(),
            }
        })?;
        Ok(self.lock()?.query(Instant(now_ms), &q)?.to_vec())
    }

    /// Answers a question received as `PeerEvent.Query` (its `query_id`):
    /// `message` goes back along the question's return route. Returns the
    /// packet ids. Throws `UnknownQuery` when the route expired (or never
    /// existed), `TooLarge`, `Pack` or `Closed`.
    pub fn answer(&self, now_ms: u64, query_id: Vec<u8>, message: Vec<u8>) -> Res<Vec<Vec<u8>>> {
        let ids = self.lock()?.answer(Instant(now_ms), &query_id, &message)?;
        Ok(ids_out(ids))
    }

    /// Starts a Sync with a peer in the table.
    pub fn sync(&self, now_ms: u64, peer_id: Vec<u8>) -> Res<()> {
        let id = PeerId(id32("peer_id", &peer_id)?);
        Ok(self.lock()?.sync(Instant(now_ms), &id)?)
    }

    /// Sends a Join for every subcluster now.
    pub fn reconnect(&self, now_ms: u64) -> Res<()> {
        self.lock()?.reconnect(Instant(now_ms));
        Ok(())
    }

    /// Forgets the NAT type and discovers it again.
    pub fn disconnect(&self, now_ms: u64) -> Res<()> {
        self.lock()?.disconnect(Instant(now_ms));
        Ok(())
    }

    /// Stops the peer (queues `PeerEvent.Closed`); closing twice is harmless.
    pub fn close(&self, now_ms: u64) -> Res<()> {
        self.lock()?.close(Instant(now_ms));
        Ok(())
    }

    /// Installs the host's firewall (`None` removes it). See
    /// `PeerFirewall`: it fails closed.
    pub fn set_firewall(&self, firewall: Option<Arc<dyn PeerFirewall>>) -> Res<()> {
        let peer = self.lock_addr();
        let fw = firewall
            .map(|firewall| Box::new(ForeignFirewall { firewall, peer }) as Box<dyn Firewall>);
        self.lock()?.set_firewall(fw);
        Ok(())
    }

    /// Updates the offset from the monotonic clock to Unix time (ms).
    pub fn set_wall_clock_offset(&self, offset_ms: i64) -> Res<()> {
        self.lock()?.set_wall_clock_offset(offset_ms);
        Ok(())
    }

    /// This peer's 32-byte id.
    pub fn peer_id(&self) -> Res<Vec<u8>> {
        Ok(self.lock()?.peer_id().0.to_vec())
    }

    /// The NAT type, once known.
    pub fn nat_type(&self) -> Res<Option<u8>> {
        Ok(self.lock()?.nat_type().map(|n| n.0))
    }

    /// The Lamport clock.
    pub fn clock(&self) -> Res<u32> {
        Ok(self.lock()?.clock())
    }

    /// Our public address and port, as reflection (or the config) says.
    pub fn public_endpoint(&self) -> Res<PublicEndpoint> {
        let (address, port) = self.lock()?.public_endpoint();
        Ok(PublicEndpoint {
            address: address.map(|a| a.to_string()),
            port,
        })
    }

    /// Uptime as the protocol counts it (ms).
    pub fn uptime(&self) -> Res<u64> {
        Ok(self.lock()?.uptime())
    }

    /// The peer table.
    pub fn peers(&self) -> Res<Vec<RemotePeerInfo>> {
        Ok(self
            .lock()?
            .peers()
            .iter()
            .map(RemotePeerInfo::from_core)
            .collect())
    }

    /// One table entry, by its 32-byte id.
    pub fn peer(&self, peer_id: Vec<u8>) -> Res<Option<RemotePeerInfo>> {
        let id = PeerId(id32("peer_id", &peer_id)?);
        Ok(self.lock()?.peer(&id).map(RemotePeerInfo::from_core))
    }

    /// The subclusters this peer is in.
    pub fn subclusters(&self) -> Res<Vec<Subcluster>> {
        Ok(self
            .lock()?
            .subclusters()
            .map(|(c, s)| Subcluster {
                cluster_id: c.to_vec(),
                subcluster_id: s.to_vec(),
            })
            .collect())
    }

    /// How full each bounded structure is.
    pub fn occupancy(&self) -> Res<PeerOccupancy> {
        let o = self.lock()?.occupancy();
        let n = |v: usize| v as u64;
        Ok(PeerOccupancy {
            peers: n(o.peers),
            pending_pings: n(o.pending_pings),
            gate: n(o.gate),
            rates: n(o.rates),
            return_routes: n(o.return_routes),
            intros: n(o.intros),
            pool_sockets: n(o.pool_sockets),
            events: n(o.events),
            transmits: n(o.transmits),
            timers: n(o.timers),
            cache_packets: n(o.cache_packets),
            cache_bytes: n(o.cache_bytes),
            unpublished: n(o.unpublished),
            pending_queries: n(o.pending_queries),
            pending_chains: n(o.pending_chains),
            stream_chains: n(o.stream_chains),
            stream_bytes: n(o.stream_bytes),
            delivered: n(o.delivered),
            rejected: n(o.rejected),
        })
    }

    /// The cached packet ids, oldest first.
    pub fn cached_ids(&self) -> Res<Vec<Vec<u8>>> {
        Ok(self.lock()?.cached_ids().map(|i| i.to_vec()).collect())
    }

    /// Own packets not yet sent to anyone.
    pub fn unpublished_ids(&self) -> Res<Vec<Vec<u8>>> {
        Ok(self.lock()?.unpublished().map(|i| i.to_vec()).collect())
    }

    /// The root cache summary hash announced (40 hex digits), as of the
    /// last tick.
    pub fn cache_summary_hash(&self) -> Res<String> {
        Ok(self.lock()?.cache_summary_hash().to_string())
    }

    /// The connection strategy (`STRATEGY_*`, 0-4) this peer uses towards
    /// a remote of NAT type `remote`.
    pub fn strategy_towards(&self, remote: Option<u8>) -> Res<u8> {
        Ok(self.lock()?.strategy_towards(remote.map(NatType)) as u8)
    }

    /// The ids of the peers in the table.
    pub fn peer_ids(&self) -> Res<Vec<Vec<u8>>> {
        Ok(self
            .lock()?
            .peers()
            .iter()
            .map(|p| p.peer_id.0.to_vec())
            .collect())
    }

    /// A cached packet's bytes.
    pub fn cached(&self, packet_id: Vec<u8>) -> Res<Option<Vec<u8>>> {
        Ok(self.lock()?.cached(&packet_id).map(<[u8]>::to_vec))
    }

    /// Counters.
    pub fn metrics(&self) -> Res<PeerMetrics> {
        Ok(PeerMetrics::from_core(self.lock()?.metrics()))
    }

    /// One drop counter.
    pub fn dropped(&self, reason: DropReason) -> Res<u64> {
        let i = DROP_REASONS.iter().position(|r| *r == reason).unwrap_or(0);
        Ok(self.lock()?.metrics().dropped(CoreDrop::ALL[i]))
    }

    /// The peer as bytes for `Peer.restore` (holds the subcluster keys:
    /// store it as a secret).
    pub fn snapshot(&self, now_ms: u64) -> Res<Vec<u8>> {
        Ok(self.lock()?.snapshot(Instant(now_ms)))
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
    Ok(PacketInfo::from_ref(&p))
}

impl PacketInfo {
    fn from_ref(p: &PacketRef<'_>) -> Self {
        PacketInfo {
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
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_follow_the_core_order() {
        for (r, core) in DROP_REASONS.iter().zip(CoreDrop::ALL) {
            assert_eq!(format!("{r:?}"), format!("{core:?}"));
        }
    }
}

// The ready host (`Node`): a child module, so it reuses this face's
// records and conversions.
#[path = "node_uniffi.rs"]
mod node_uniffi;
