//! What the host decides: identity, mode, timings, limits and quotas.
//!
//! Defaults follow the reference (§6.2) except where a default would reach
//! out to the world: the reference's built-in list of public introducers is
//! **not** the default (hosts may be gone; docs/compat.md#introducers).

use alloc::string::String;
use alloc::vec::Vec;

use super::addr::{PeerId, Remote};
use crate::crypto::identity::KeyPair;
use crate::nat::NatType;

/// A well-known, publicly reachable peer (the reference's "indexed" peers).
/// Introducers answer reflection requests and introduce joiners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Introducer {
    /// Its id.
    pub peer_id: PeerId,
    /// Where it listens (its main socket).
    pub remote: Remote,
}

/// Each of [`Limits`], [`RateQuotas`], [`Expiry`] and [`Timings`] is one
/// table below: every field once, with its meaning, type and default. The
/// Rust struct and its `Default` are generated here
/// (`config_struct!`); `streamrelay-ffi` generates
/// its UniFFI records and the conversions of its C structs from the same
/// tables. A table calls `$m! { [args] fields { .. } nested .. { .. } }`
/// (the `nested` group is a field that is a struct of its own, flattened
/// as `flat => field` in the faces that have no nesting).
#[doc(hidden)]
#[macro_export]
macro_rules! config_struct {
    (
        [$(#[doc = $sdoc:tt])* $name:ident]
        fields { $( $(#[doc = $doc:tt])* $field:ident : $ty:ident = $default:tt, )* }
        $( nested $(#[doc = $ndoc:tt])* $nest:ident : $nty:path {
            $( $(#[doc = $rdoc:tt])* $flat:ident => $rfield:ident : $rty:ident = $rdefault:tt, )*
        } )?
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            $( $(#[doc = $ndoc])* pub $nest: $nty, )?
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $( $field: $default, )*
                    $( $nest: <$nty>::default(), )?
                }
            }
        }

        $(
            impl Default for $nty {
                fn default() -> Self {
                    Self { $( $rfield: $rdefault, )* }
                }
            }
        )?
    };
}

/// The fields of [`Limits`] (see `config_struct!`).
/// Every value must be at least 1 ([`Config`]'s check).
#[doc(hidden)]
#[macro_export]
macro_rules! limits_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            fields {
                /// Peer-table entries (the reference's soft cap, 256). At the limit the
                /// least recently heard non-introducer entry is evicted.
                max_peers: usize = 256,
                /// Scheduled ping retransmissions (Intro answers are sent 3 times).
                max_pending_pings: usize = 512,
                /// Duplicate-suppression entries.
                max_gate_entries: usize = 8192,
                /// Rate-limit entries (one per remote and traffic class).
                max_rate_entries: usize = 4096,
                /// Return-route entries (used by the Query flow of the data plane).
                max_return_routes: usize = 1024,
                /// Sockets in the hard-NAT pool (256, as the reference).
                pool_size: u16 = 256,
                /// Introductions being worked on at once (fallback timers, traversals).
                max_intros: usize = 64,
                /// Subclusters this peer can be a member of.
                max_subclusters: usize = 64,
                /// Subclusters remembered per remote peer.
                max_clusters_per_peer: usize = 16,
                /// Events waiting for `Peer::poll_event`.
                max_events: usize = 1024,
                /// Datagrams waiting for `Peer::poll_transmit` (a TRAVERSAL_OPEN
                /// spray alone is 1024 datagrams).
                max_transmits: usize = 4096,
                /// Bytes the packet cache may hold: every cached packet counts its
                /// encoded length plus a fixed per-entry overhead
                /// (`CACHE_ENTRY_OVERHEAD`). At the limit the oldest packets are
                /// evicted (the reference's cache is ~16 MB).
                max_cache_bytes: usize = 16000000,
                /// Packets the cache may hold (whatever their size).
                max_cache_packets: usize = 65536,
                /// Own packets remembered as not yet sent to anyone (re-sent each tick).
                max_unpublished: usize = 1024,
                /// Our own questions waiting for answers (app queries and missing-link
                /// queries).
                max_pending_queries: usize = 256,
                /// Ids of events already delivered (so a replay is delivered at most
                /// once while its id is remembered; oldest forgotten first).
                max_delivered: usize = 16384,
                /// Packets and summaries sent in answer to one Sync packet.
                max_sync_sends: usize = 2048,
                /// Packets and summaries sent in answer to all the Syncs from one
                /// address together, per `timings.sync_window_ms`: a token bucket per
                /// address that starts full with this many datagrams and refills at
                /// this many per window (docs/compat.md#amplification). The default,
                /// twice `max_sync_sends`, lets a new peer's first sync (and its next
                /// level) get whole answers; a flood of Syncs from one (possibly
                /// spoofed) table peer's address gets at most this many datagrams a
                /// window back. The buckets are kept for at most `max_peers`
                /// addresses (answers only go to table peers).
                max_sync_sends_per_window: usize = 4096,
                /// Links open at once (`Peer::link_up`): Bluetooth channels and other
                /// host-defined links to one neighbour each. Past it a new link is
                /// refused until one goes down. (A `u64`: the C struct takes it from
                /// its reserved room at the same size on every target.)
                max_links: u64 = 32,
            }
            nested
            /// Chains of our subclusters being reassembled from the cache, and the
            /// stream buffer (chains, bytes). `max_bytes` is also the largest
            /// message (sealed) we reassemble or publish.
            reassembly: $crate::crypto::event::ReassemblyLimits {
                /// Incomplete chains being reassembled at once.
                reassembly_max_chains => max_chains: usize = 64,
                /// Fragment bytes held across them; also the largest sealed message
                /// published or reassembled (1 MiB).
                reassembly_max_bytes => max_bytes: usize = 1048576,
            }
        }
    };
}

limits_table!(
    config_struct
    /// Hard bounds on every table and queue. At a bound the Peer evicts or drops
    /// and counts it in [`Metrics`](super::Metrics); it never grows past it.
    Limits
);

/// The fields of [`RateQuotas`] (see `config_struct!`).
#[doc(hidden)]
#[macro_export]
macro_rules! quotas_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            fields {
                /// Publish and Join ("replicatable") packets from one remote (1024).
                replicatable_per_minute: u32 = 1024,
                /// Every other type from one remote (1 048 576).
                control_per_minute: u32 = 1048576,
                /// Packets in a subcluster we joined (the reference's `rateLimit`,
                /// 32 768, which it stores but never applies; docs/compat.md#rate-limit-quota).
                subcluster_per_minute: u32 = 32768,
            }
        }
    };
}

quotas_table!(
    config_struct
    /// Per-remote packet quotas per one-minute bucket (§6.12).
    RateQuotas
);

/// The fields of [`Expiry`] (see `config_struct!`).
#[doc(hidden)]
#[macro_export]
macro_rules! expiry_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            fields {
                /// After this many keepalives without a packet a peer is *inactive*: it
                /// is no longer offered in introductions.
                inactive: u32 = 1,
                /// After this many it is *missing*: `Event::Disconnection`, and it is no
                /// longer "connected" (a heartbeat answer connects it again).
                missing: u32 = 2,
                /// After this many it is *forgotten*: removed from the table.
                forgotten: u32 = 4,
            }
        }
    };
}

expiry_table!(
    config_struct
    /// How long a peer may stay silent, in multiples of `keepalive`
    /// (docs/compat.md#peer-expiry).
    Expiry
);

/// The fields of [`Timings`] (see `config_struct!`).
#[doc(hidden)]
#[macro_export]
macro_rules! timings_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            fields {
                /// Intro answers (P6) are re-sent at +`ping_retry_ms` and +4×.
                ping_retry_ms: u64 = 500,
                /// Reflection: wait for the second answer, and before finalising.
                probe_wait_ms: u64 = 512,
                /// Reflection stage 1 (probe) timeout.
                probe_timeout_ms: u64 = 1024,
                /// Reflection stage 2 timeout.
                reflection_timeout_ms: u64 = 2048,
                /// Fallback to the introducer as proxy when no connection formed.
                intro_fallback_ms: u64 = 2048,
                /// Hard-NAT traversal: one ping per interval …
                traversal_interval_ms: u64 = 10,
                /// … for at most this many rounds …
                traversal_rounds: u32 = 1024,
                /// … and a pool socket listens this long after it sent.
                pool_socket_hold_ms: u64 = 1024,
                /// Ports sprayed by the easy side of a hard-NAT pair (TRAVERSAL_OPEN).
                spray_ports: u16 = 1024,
                /// An idle pool is closed after this long without a traversal.
                pool_idle_ms: u64 = 30000,
                /// A chain of one of our subclusters that stays incomplete this long
                /// makes us query the network for its first missing link.
                missing_link_ms: u64 = 1000,
                /// Missing-link queries per chain (each waits twice as long as the one
                /// before).
                missing_link_queries: u32 = 3,
                /// An incomplete chain is forgotten after this long (its packets stay
                /// cached; a later packet of it starts over from the cache).
                chain_timeout_ms: u64 = 300000,
                /// A Query whose `usr1` time is older than this is dropped (2048 ms).
                query_freshness_ms: u64 = 2048,
                /// First contact with an address syncs again only after this long (the
                /// reference's `syncWindow`, 6000 ms).
                sync_window_ms: u64 = 6000,
            }
        }
    };
}

timings_table!(
    config_struct
    /// Protocol timings in milliseconds (reference values by default, §6.2).
    Timings
);

/// A limit's value as a count (every limit is a `usize` or a `u16`).
trait Count {
    fn count(self) -> usize;
}

impl Count for usize {
    fn count(self) -> usize {
        self
    }
}

impl Count for u64 {
    fn count(self) -> usize {
        usize::try_from(self).unwrap_or(usize::MAX)
    }
}

impl Count for u16 {
    fn count(self) -> usize {
        usize::from(self)
    }
}

/// The names and values of every limit, for the zero check.
macro_rules! limit_values {
    (
        [$l:ident]
        fields { $( $(#[doc = $doc:tt])* $field:ident : $ty:ident = $default:tt, )* }
        nested $(#[doc = $ndoc:tt])* $nest:ident : $nty:path {
            $( $(#[doc = $rdoc:tt])* $flat:ident => $rfield:ident : $rty:ident = $rdefault:tt, )*
        }
    ) => {
        [
            $( (stringify!($field), Count::count($l.$field)), )*
            $( (concat!(stringify!($nest), ".", stringify!($rfield)), $l.$nest.$rfield), )*
        ]
    };
}

/// How a multicast picks its random targets (spec §7.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FanoutPolicy {
    /// The reference: a uniform shuffle of the fresh candidates.
    #[default]
    Random,
    /// The protocol design's MaxProp-style choice, which the reference does
    /// not implement: candidates are drawn without replacement with weight
    /// `availability / distance`, where distance is the smoothed round-trip
    /// time between our Ping and its Pong and availability grows with the
    /// uptime the peer reports (see [`Fanout`]).
    Weighted,
}

/// Fanout selection (spec §7.5): `peers` candidates chosen by `policy`,
/// then the reference's rules (an introducer if none was chosen, a member of
/// the packet's cluster first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fanout {
    /// Random (the reference) or weighted.
    pub policy: FanoutPolicy,
    /// How many candidates the policy picks (3).
    pub peers: usize,
    /// Distance assumed for a peer whose round-trip time was never measured
    /// (ms).
    pub unknown_rtt_ms: u32,
    /// Uptime at which a peer's availability is one half: availability is
    /// `uptime / (uptime + half)`, at least 1/20 (ms).
    pub uptime_half_ms: u64,
}

impl Default for Fanout {
    fn default() -> Self {
        Fanout {
            policy: FanoutPolicy::Random,
            peers: 3,
            unknown_rtt_ms: 250,
            uptime_half_ms: 600_000,
        }
    }
}

/// Which protocol behaviour a Peer follows where the protocol leaves room.
///
/// Both profiles put the same bytes on the wire for the same decisions and
/// understand each other and the reference; they differ in what a peer
/// chooses to send. docs/compat.md#profiles lists every switch with its
/// measured effect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Profile {
    /// Reliable delivery at a fraction of the traffic ([`Behaviour::improved`]).
    #[default]
    Improved,
    /// The reference (`latica/` 0.6.0-rc.8) as it behaves, decision for
    /// decision ([`Behaviour::reference`]): for conformance and comparison.
    Reference,
}

impl Profile {
    /// The behaviour switches of this profile.
    pub fn behaviour(self) -> Behaviour {
        match self {
            Profile::Improved => Behaviour::improved(),
            Profile::Reference => Behaviour::reference(),
        }
    }

    /// Its name (`improved`, `reference`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::Improved => "improved",
            Profile::Reference => "reference",
        }
    }

    /// The profile of a name (`default` is `improved`).
    pub fn from_name(s: &str) -> Option<Profile> {
        match s {
            "improved" | "default" => Some(Profile::Improved),
            "reference" => Some(Profile::Reference),
            _ => None,
        }
    }
}

/// What a peer chooses to send, switch by switch. Every switch is
/// wire-compatible: a reference peer sees only traffic it is spared.
/// [`Behaviour::reference`] turns every one off.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Behaviour {
    /// A rendezvous reply (J3) is relayed on like any Join (the reference:
    /// each one floods the cluster with introductions at every hop, so the
    /// Join and Intro traffic of a network grows with the cube of its
    /// size). Off: only the rendezvous peer it is addressed to acts on it.
    pub relay_rendezvous_replies: bool,
    /// A Join is relayed on only while it arrived with fewer hops than this
    /// (the reference: 16, a flood of the whole network per Join). With 1,
    /// a Join reaches the joiner's fanout, each of which introduces the
    /// joiner to a few of its own peers: the cost of a Join no longer grows
    /// with the network.
    pub join_relay_hops: u32,
    /// A Sync's packetId is unique per sender (our id in its unused
    /// `previousId`). The reference's Syncs from every newcomer with the
    /// same cache have the same id, so a peer answers only the first one
    /// of them per two ticks (its gate).
    pub unique_sync_ids: bool,
    /// Sync with every introducer each time reflection succeeds: they hold
    /// the most complete caches.
    pub sync_with_introducers: bool,
    /// A restored peer rediscovers its NAT type and public endpoint at its
    /// first tick (its sockets are usually new) instead of announcing the
    /// old endpoint until a keepalive passes in silence.
    pub rediscover_on_restore: bool,
    /// An introduction's ping (P6, sent at 0, +500 and +2000 ms) is not
    /// sent again once the peer is connected.
    pub stop_answered_retries: bool,
    /// At a tick, a subcluster is joined again only while fewer than this
    /// many of its members are connected (0: every tick, the reference).
    pub rejoin_below_members: usize,
    /// The heartbeat pings at most this many non-introducer peers a tick,
    /// leaving out those that pinged us within the last keepalive (their
    /// ping and our pong already kept both NAT mappings open). Members of
    /// our subclusters go first, then the nearest. `None`: everyone (the
    /// reference).
    pub heartbeat_peers: Option<usize>,
    /// The heartbeat pings this many introducers a tick, those that
    /// answered most recently first (`None`: all, the reference). One
    /// keeps us introducible to newcomers.
    pub heartbeat_introducers: Option<usize>,
    /// A Join's introductions go to members of the Join's subcluster
    /// first, and among them to peers the joiner can reach directly (the
    /// reference: any three connected peers, so a joiner in a global
    /// network rarely meets its own subcluster, and hard-NAT pairs spend a
    /// birthday traversal where an easy peer would have done).
    pub targeted_introductions: bool,
    /// A hard-NAT traversal that ran out of rounds falls back to the proxy
    /// (the reference's shared attempt counter starts a whole second
    /// traversal).
    pub single_traversal: bool,
    /// Hard-NAT traversal rounds (one P7 each, every
    /// `timings.traversal_interval_ms`); `None`: `timings.traversal_rounds`.
    /// 256 probes against the 1024 sprayed ports connect about 98% of the
    /// time (birthday bound); the reference sends up to 1024 (and 2048).
    pub traversal_rounds: Option<u32>,
    /// A heartbeat Pong whose `cacheSummaryHash` differs from ours starts a
    /// Sync with its sender, at most once per `timings.sync_window_ms` per
    /// address (the reference only logs the hash and syncs on first contact
    /// alone, so a packet lost on every path is never asked for again).
    pub sync_on_summary_mismatch: bool,
    /// A known peer seen at a new address is followed there: its heartbeat
    /// Ping from the new address moves its entry (as a connection Ping
    /// already does), and a connected peer that reappears at a new address
    /// is synced with, for what it missed while its old address was dead
    /// (the reference syncs on first contact only).
    pub follow_moved_peers: bool,
    /// A heartbeat Pong that reports us at another IP than the same peer
    /// reported before is a change of network: the NAT type is rediscovered
    /// at once and every subcluster is joined again from the new endpoint
    /// (the reference notices only after a keepalive without any answer).
    pub detect_network_change: bool,
    /// A relayed packet also goes to up to this many connected members of
    /// its subcluster that the fanout did not pick (the reference: 0; its
    /// three random peers and one member of the cluster leave a subscriber
    /// few peers know about unreached until a later sync).
    pub fanout_subcluster_members: usize,
    /// A pool socket whose listening time is over is replaced (closed and a
    /// new one opened: a new local port, so a new mapping in a symmetric
    /// NAT) before it sends another traversal probe. The reference reuses
    /// it, and on a real symmetric NAT only a socket's first probe draws a
    /// new external port, which caps birthday success near 98%
    /// (tests/natlab/README.md, finding 4).
    pub fresh_pool_sockets: bool,
}

impl Behaviour {
    /// The reference's behaviour: every switch off.
    pub fn reference() -> Self {
        Behaviour {
            relay_rendezvous_replies: true,
            join_relay_hops: crate::wire::packet::MAX_HOPS,
            unique_sync_ids: false,
            sync_with_introducers: false,
            rediscover_on_restore: false,
            stop_answered_retries: false,
            rejoin_below_members: 0,
            heartbeat_peers: None,
            heartbeat_introducers: None,
            targeted_introductions: false,
            single_traversal: false,
            traversal_rounds: None,
            sync_on_summary_mismatch: false,
            follow_moved_peers: false,
            detect_network_change: false,
            fanout_subcluster_members: 0,
            fresh_pool_sockets: false,
        }
    }

    /// The default: every switch on.
    pub fn improved() -> Self {
        Behaviour {
            relay_rendezvous_replies: false,
            join_relay_hops: 1,
            unique_sync_ids: true,
            sync_with_introducers: true,
            rediscover_on_restore: true,
            stop_answered_retries: true,
            rejoin_below_members: 3,
            heartbeat_peers: Some(5),
            heartbeat_introducers: Some(1),
            targeted_introductions: true,
            single_traversal: true,
            traversal_rounds: Some(256),
            sync_on_summary_mismatch: true,
            follow_moved_peers: true,
            detect_network_change: true,
            fanout_subcluster_members: 4,
            fresh_pool_sockets: true,
        }
    }
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour::improved()
    }
}

/// Everything the host configures.
///
/// ```
/// use streamrelay::peer::{Config, PeerId, Remote, Introducer};
/// let mut config = Config::new(&"ab".repeat(32), Some([7; 32]));
/// config.introducers.push(Introducer {
///     peer_id: PeerId([1; 32]),
///     remote: Remote::Udp("127.0.0.1:9000".parse().unwrap()),
/// });
/// assert_eq!(config.keepalive_ms, 30_000);
/// assert!(config.limits.pool_size == 256);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This peer's id: 64 hex digits (checked by `Peer::new`).
    pub peer_id: String,
    /// The application network (32 bytes); required unless `indexed`.
    pub cluster_id: Option<[u8; 32]>,
    /// Introducer mode: no reflection, no cluster needed, ready at once.
    pub indexed: bool,
    /// A NAT type known in advance (an introducer on a public address). When
    /// set, reflection is skipped (docs/compat.md#static-nat).
    pub nat_type: Option<NatType>,
    /// This peer's public endpoint, when known in advance (with `nat_type`).
    pub public_address: Option<core::net::SocketAddr>,
    /// Tick period, and the unit of every expiry (30 000 ms).
    pub keepalive_ms: u64,
    /// Milliseconds to add to the monotonic `now` to get the wall clock the
    /// wire carries (Unix ms). The host keeps it current with
    /// [`Peer::set_wall_clock_offset`](super::Peer::set_wall_clock_offset).
    pub wall_clock_offset_ms: i64,
    /// Bootstrap peers (default: none).
    pub introducers: Vec<Introducer>,
    /// Skip rate limiting (the reference's `limitExempt`).
    pub limit_exempt: bool,
    /// Table and queue bounds.
    pub limits: Limits,
    /// Rate-limit quotas.
    pub quotas: RateQuotas,
    /// Peer expiry.
    pub expiry: Expiry,
    /// Protocol timings.
    pub timings: Timings,
    /// The publisher's personal Ed25519 key pair (`api.js` `signingKeys`):
    /// `usr2` of what we publish or stream is its public key and `sig` its
    /// signature over the plaintext. Needed by
    /// [`Peer::publish`](super::Peer::publish) and
    /// [`Peer::stream`](super::Peer::stream).
    pub signing_keys: Option<KeyPair>,
    /// Multicast target selection.
    pub fanout: Fanout,
    /// Sync with a peer on first contact (what `api.js` sets up through the
    /// `onConnection` hook, §6.11).
    pub auto_sync: bool,
    /// What the peer chooses to send where the protocol leaves room
    /// (default: [`Profile::Improved`]; see [`Config::with_profile`]).
    pub behaviour: Behaviour,
}

impl Config {
    /// A config with the improved profile, the reference's timings and
    /// limits, and no introducers.
    pub fn new(peer_id: &str, cluster_id: Option<[u8; 32]>) -> Self {
        Config::with_profile(peer_id, cluster_id, Profile::Improved)
    }

    /// A config that behaves as the reference does, decision for decision.
    pub fn reference(peer_id: &str, cluster_id: Option<[u8; 32]>) -> Self {
        Config::with_profile(peer_id, cluster_id, Profile::Reference)
    }

    /// A config of the given profile.
    ///
    /// ```
    /// use streamrelay::peer::{Config, Profile};
    /// let c = Config::with_profile(&"ab".repeat(32), Some([7; 32]), Profile::Reference);
    /// assert_eq!(c.behaviour.join_relay_hops, 16);
    /// assert_eq!(Config::new(&"ab".repeat(32), Some([7; 32])).behaviour.join_relay_hops, 1);
    /// ```
    pub fn with_profile(peer_id: &str, cluster_id: Option<[u8; 32]>, profile: Profile) -> Self {
        Config {
            peer_id: peer_id.into(),
            cluster_id,
            indexed: false,
            nat_type: None,
            public_address: None,
            keepalive_ms: 30_000,
            wall_clock_offset_ms: 0,
            introducers: Vec::new(),
            limit_exempt: false,
            limits: Limits::default(),
            quotas: RateQuotas::default(),
            expiry: Expiry::default(),
            timings: Timings::default(),
            signing_keys: None,
            fanout: Fanout::default(),
            auto_sync: true,
            behaviour: profile.behaviour(),
        }
    }
}

/// Why a config is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `peer_id` is not 64 hex digits.
    #[error("invalid peer id: expected 64 hex digits")]
    InvalidPeerId,
    /// A non-introducer needs a cluster id.
    #[error("a cluster id is required unless the peer is indexed")]
    MissingClusterId,
    /// `keepalive_ms` must be positive.
    #[error("keepalive must be at least 1 ms")]
    ZeroKeepalive,
    /// A static NAT type must be a valid one (bits 0 and 2 set).
    #[error("static NAT type {0} is not valid")]
    InvalidNatType(u8),
    /// A limit of zero would make the peer useless.
    #[error("limit {0} must be at least 1")]
    ZeroLimit(&'static str),
    /// Too many introducers for the peer table.
    #[error("{0} introducers do not fit a peer table of {1}")]
    TooManyIntroducers(usize, usize),
}

impl Config {
    pub(crate) fn check(&self) -> Result<PeerId, ConfigError> {
        let id = PeerId::from_hex(&self.peer_id).ok_or(ConfigError::InvalidPeerId)?;
        if !self.indexed && self.cluster_id.is_none() {
            return Err(ConfigError::MissingClusterId);
        }
        if self.keepalive_ms == 0 {
            return Err(ConfigError::ZeroKeepalive);
        }
        if let Some(n) = self.nat_type {
            if !n.is_valid() {
                return Err(ConfigError::InvalidNatType(n.0));
            }
        }
        let l = &self.limits;
        for (name, v) in limits_table!(limit_values l) {
            if v == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if self.introducers.len() > l.max_peers {
            return Err(ConfigError::TooManyIntroducers(
                self.introducers.len(),
                l.max_peers,
            ));
        }
        Ok(id)
    }
}
