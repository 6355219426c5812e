//! The tunable parts of the UniFFI `PeerConfig`: limits, rate quotas, peer
//! expiry, timings and fanout, as records whose field defaults are the
//! core's defaults (`defaultLimits()` etc. return them from the core; the
//! binding tests check that the two agree). Sizes are `u64` here and must
//! fit the platform's `usize`. Nothing is validated until `Peer(config:)`:
//! the core's `Config::check` runs there and a refusal comes back as
//! `StreamRelayError.ZeroLimit` or `StreamRelayError.InvalidConfig`.

use streamrelay::crypto::event::ReassemblyLimits;
use streamrelay::peer::{Expiry, Fanout, FanoutPolicy, Limits, RateQuotas, Timings};

use crate::uniffi_api::{Res, StreamRelayError};

/// A `u64` from the bindings as a `usize` (only fails on 32-bit targets).
fn size(name: &str, v: u64) -> Res<usize> {
    usize::try_from(v).map_err(|_| StreamRelayError::InvalidConfig {
        reason: format!("{name} = {v} does not fit this platform"),
    })
}

/// Hard bounds on every table and queue (the core's `Limits`). Every value
/// must be at least 1.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerLimits {
    /// Peer-table entries.
    #[uniffi(default = 256)]
    pub max_peers: u64,
    /// Scheduled ping retransmissions.
    #[uniffi(default = 512)]
    pub max_pending_pings: u64,
    /// Duplicate-suppression entries.
    #[uniffi(default = 8192)]
    pub max_gate_entries: u64,
    /// Rate-limit entries (one per remote and traffic class).
    #[uniffi(default = 4096)]
    pub max_rate_entries: u64,
    /// Return-route entries (queries).
    #[uniffi(default = 1024)]
    pub max_return_routes: u64,
    /// Sockets in the hard-NAT pool.
    #[uniffi(default = 256)]
    pub pool_size: u16,
    /// Introductions worked on at once.
    #[uniffi(default = 64)]
    pub max_intros: u64,
    /// Subclusters this peer can be a member of.
    #[uniffi(default = 64)]
    pub max_subclusters: u64,
    /// Subclusters remembered per remote peer.
    #[uniffi(default = 16)]
    pub max_clusters_per_peer: u64,
    /// Events waiting for `poll_event`.
    #[uniffi(default = 1024)]
    pub max_events: u64,
    /// Datagrams waiting for `poll_transmit`.
    #[uniffi(default = 4096)]
    pub max_transmits: u64,
    /// Bytes the packet cache may hold.
    #[uniffi(default = 16000000)]
    pub max_cache_bytes: u64,
    /// Packets the cache may hold.
    #[uniffi(default = 65536)]
    pub max_cache_packets: u64,
    /// Own packets remembered as not yet sent to anyone.
    #[uniffi(default = 1024)]
    pub max_unpublished: u64,
    /// Our own questions waiting for answers.
    #[uniffi(default = 256)]
    pub max_pending_queries: u64,
    /// Ids of events already delivered (against replays).
    #[uniffi(default = 16384)]
    pub max_delivered: u64,
    /// Packets and summaries sent in answer to one Sync packet.
    #[uniffi(default = 2048)]
    pub max_sync_sends: u64,
    /// Packets and summaries sent in answer to all the Syncs from one
    /// address per `timings.sync_window_ms` (a token bucket per address).
    #[uniffi(default = 4096)]
    pub max_sync_sends_per_window: u64,
    /// Incomplete chains being reassembled at once.
    #[uniffi(default = 64)]
    pub reassembly_max_chains: u64,
    /// Fragment bytes held across them; also the largest sealed message
    /// published or reassembled.
    #[uniffi(default = 1048576)]
    pub reassembly_max_bytes: u64,
}

impl PeerLimits {
    pub(crate) fn from_core(l: &Limits) -> Self {
        PeerLimits {
            max_peers: l.max_peers as u64,
            max_pending_pings: l.max_pending_pings as u64,
            max_gate_entries: l.max_gate_entries as u64,
            max_rate_entries: l.max_rate_entries as u64,
            max_return_routes: l.max_return_routes as u64,
            pool_size: l.pool_size,
            max_intros: l.max_intros as u64,
            max_subclusters: l.max_subclusters as u64,
            max_clusters_per_peer: l.max_clusters_per_peer as u64,
            max_events: l.max_events as u64,
            max_transmits: l.max_transmits as u64,
            max_cache_bytes: l.max_cache_bytes as u64,
            max_cache_packets: l.max_cache_packets as u64,
            max_unpublished: l.max_unpublished as u64,
            max_pending_queries: l.max_pending_queries as u64,
            max_delivered: l.max_delivered as u64,
            max_sync_sends: l.max_sync_sends as u64,
            max_sync_sends_per_window: l.max_sync_sends_per_window as u64,
            reassembly_max_chains: l.reassembly.max_chains as u64,
            reassembly_max_bytes: l.reassembly.max_bytes as u64,
        }
    }

    pub(crate) fn to_core(&self) -> Res<Limits> {
        Ok(Limits {
            max_peers: size("max_peers", self.max_peers)?,
            max_pending_pings: size("max_pending_pings", self.max_pending_pings)?,
            max_gate_entries: size("max_gate_entries", self.max_gate_entries)?,
            max_rate_entries: size("max_rate_entries", self.max_rate_entries)?,
            max_return_routes: size("max_return_routes", self.max_return_routes)?,
            pool_size: self.pool_size,
            max_intros: size("max_intros", self.max_intros)?,
            max_subclusters: size("max_subclusters", self.max_subclusters)?,
            max_clusters_per_peer: size("max_clusters_per_peer", self.max_clusters_per_peer)?,
            max_events: size("max_events", self.max_events)?,
            max_transmits: size("max_transmits", self.max_transmits)?,
            max_cache_bytes: size("max_cache_bytes", self.max_cache_bytes)?,
            max_cache_packets: size("max_cache_packets", self.max_cache_packets)?,
            max_unpublished: size("max_unpublished", self.max_unpublished)?,
            max_pending_queries: size("max_pending_queries", self.max_pending_queries)?,
            max_delivered: size("max_delivered", self.max_delivered)?,
            max_sync_sends: size("max_sync_sends", self.max_sync_sends)?,
            max_sync_sends_per_window: size(
                "max_sync_sends_per_window",
                self.max_sync_sends_per_window,
            )?,
            reassembly: ReassemblyLimits {
                max_chains: size("reassembly_max_chains", self.reassembly_max_chains)?,
                max_bytes: size("reassembly_max_bytes", self.reassembly_max_bytes)?,
            },
        })
    }
}

/// Per-remote packet quotas per one-minute bucket (the core's
/// `RateQuotas`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerQuotas {
    /// Publish and Join packets from one remote.
    #[uniffi(default = 1024)]
    pub replicatable_per_minute: u32,
    /// Every other type from one remote.
    #[uniffi(default = 1048576)]
    pub control_per_minute: u32,
    /// Packets in a subcluster we joined.
    #[uniffi(default = 32768)]
    pub subcluster_per_minute: u32,
}

impl PeerQuotas {
    pub(crate) fn from_core(q: &RateQuotas) -> Self {
        PeerQuotas {
            replicatable_per_minute: q.replicatable_per_minute,
            control_per_minute: q.control_per_minute,
            subcluster_per_minute: q.subcluster_per_minute,
        }
    }

    pub(crate) fn to_core(&self) -> RateQuotas {
        RateQuotas {
            replicatable_per_minute: self.replicatable_per_minute,
            control_per_minute: self.control_per_minute,
            subcluster_per_minute: self.subcluster_per_minute,
        }
    }
}

/// How long a peer may stay silent, in keepalives (the core's `Expiry`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerExpiry {
    /// No longer offered in introductions.
    #[uniffi(default = 1)]
    pub inactive: u32,
    /// `PeerEvent.Disconnection` (missing), no longer connected.
    #[uniffi(default = 2)]
    pub missing: u32,
    /// Removed from the table.
    #[uniffi(default = 4)]
    pub forgotten: u32,
}

impl PeerExpiry {
    pub(crate) fn from_core(e: &Expiry) -> Self {
        PeerExpiry {
            inactive: e.inactive,
            missing: e.missing,
            forgotten: e.forgotten,
        }
    }

    pub(crate) fn to_core(&self) -> Expiry {
        Expiry {
            inactive: self.inactive,
            missing: self.missing,
            forgotten: self.forgotten,
        }
    }
}

/// Protocol timings in ms (the core's `Timings`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerTimings {
    /// Intro answers are re-sent at +this and +4×.
    #[uniffi(default = 500)]
    pub ping_retry_ms: u64,
    /// Reflection: wait for the second answer, and before finalising.
    #[uniffi(default = 512)]
    pub probe_wait_ms: u64,
    /// Reflection stage 1 timeout.
    #[uniffi(default = 1024)]
    pub probe_timeout_ms: u64,
    /// Reflection stage 2 timeout.
    #[uniffi(default = 2048)]
    pub reflection_timeout_ms: u64,
    /// Fall back to the introducer as proxy after this long.
    #[uniffi(default = 2048)]
    pub intro_fallback_ms: u64,
    /// Hard-NAT traversal: one ping per interval …
    #[uniffi(default = 10)]
    pub traversal_interval_ms: u64,
    /// … for at most this many rounds.
    #[uniffi(default = 1024)]
    pub traversal_rounds: u32,
    /// A pool socket listens this long after it sent.
    #[uniffi(default = 1024)]
    pub pool_socket_hold_ms: u64,
    /// Ports sprayed by the easy side of a hard-NAT pair.
    #[uniffi(default = 1024)]
    pub spray_ports: u16,
    /// An idle pool is closed after this long.
    #[uniffi(default = 30000)]
    pub pool_idle_ms: u64,
    /// A chain of ours incomplete this long makes us query for its first
    /// missing link.
    #[uniffi(default = 1000)]
    pub missing_link_ms: u64,
    /// Missing-link queries per chain.
    #[uniffi(default = 3)]
    pub missing_link_queries: u32,
    /// An incomplete chain is forgotten after this long.
    #[uniffi(default = 300000)]
    pub chain_timeout_ms: u64,
    /// A Query older than this is dropped.
    #[uniffi(default = 2048)]
    pub query_freshness_ms: u64,
    /// First contact with an address syncs again only after this long.
    #[uniffi(default = 6000)]
    pub sync_window_ms: u64,
}

impl PeerTimings {
    pub(crate) fn from_core(t: &Timings) -> Self {
        PeerTimings {
            ping_retry_ms: t.ping_retry_ms,
            probe_wait_ms: t.probe_wait_ms,
            probe_timeout_ms: t.probe_timeout_ms,
            reflection_timeout_ms: t.reflection_timeout_ms,
            intro_fallback_ms: t.intro_fallback_ms,
            traversal_interval_ms: t.traversal_interval_ms,
            traversal_rounds: t.traversal_rounds,
            pool_socket_hold_ms: t.pool_socket_hold_ms,
            spray_ports: t.spray_ports,
            pool_idle_ms: t.pool_idle_ms,
            missing_link_ms: t.missing_link_ms,
            missing_link_queries: t.missing_link_queries,
            chain_timeout_ms: t.chain_timeout_ms,
            query_freshness_ms: t.query_freshness_ms,
            sync_window_ms: t.sync_window_ms,
        }
    }

    pub(crate) fn to_core(&self) -> Timings {
        Timings {
            ping_retry_ms: self.ping_retry_ms,
            probe_wait_ms: self.probe_wait_ms,
            probe_timeout_ms: self.probe_timeout_ms,
            reflection_timeout_ms: self.reflection_timeout_ms,
            intro_fallback_ms: self.intro_fallback_ms,
            traversal_interval_ms: self.traversal_interval_ms,
            traversal_rounds: self.traversal_rounds,
            pool_socket_hold_ms: self.pool_socket_hold_ms,
            spray_ports: self.spray_ports,
            pool_idle_ms: self.pool_idle_ms,
            missing_link_ms: self.missing_link_ms,
            missing_link_queries: self.missing_link_queries,
            chain_timeout_ms: self.chain_timeout_ms,
            query_freshness_ms: self.query_freshness_ms,
            sync_window_ms: self.sync_window_ms,
        }
    }
}

/// Multicast target selection (the core's `Fanout`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerFanout {
    /// `false`: the reference's uniform shuffle of the fresh candidates;
    /// `true`: weighted by availability / distance (round-trip time and
    /// uptime).
    #[uniffi(default = false)]
    pub weighted: bool,
    /// How many candidates the policy picks.
    #[uniffi(default = 3)]
    pub peers: u64,
    /// Distance assumed for a peer whose round-trip time was never
    /// measured (ms).
    #[uniffi(default = 250)]
    pub unknown_rtt_ms: u32,
    /// Uptime at which a peer's availability is one half (ms).
    #[uniffi(default = 600000)]
    pub uptime_half_ms: u64,
}

impl PeerFanout {
    pub(crate) fn from_core(f: &Fanout) -> Self {
        PeerFanout {
            weighted: f.policy == FanoutPolicy::Weighted,
            peers: f.peers as u64,
            unknown_rtt_ms: f.unknown_rtt_ms,
            uptime_half_ms: f.uptime_half_ms,
        }
    }

    pub(crate) fn to_core(&self) -> Res<Fanout> {
        Ok(Fanout {
            policy: if self.weighted {
                FanoutPolicy::Weighted
            } else {
                FanoutPolicy::Random
            },
            peers: size("fanout.peers", self.peers)?,
            unknown_rtt_ms: self.unknown_rtt_ms,
            uptime_half_ms: self.uptime_half_ms,
        })
    }
}

/// The core's default limits.
#[uniffi::export]
pub fn default_limits() -> PeerLimits {
    PeerLimits::from_core(&Limits::default())
}

/// The core's default rate quotas.
#[uniffi::export]
pub fn default_quotas() -> PeerQuotas {
    PeerQuotas::from_core(&RateQuotas::default())
}

/// The core's default peer expiry.
#[uniffi::export]
pub fn default_expiry() -> PeerExpiry {
    PeerExpiry::from_core(&Expiry::default())
}

/// The core's default timings.
#[uniffi::export]
pub fn default_timings() -> PeerTimings {
    PeerTimings::from_core(&Timings::default())
}

/// The core's default fanout.
#[uniffi::export]
pub fn default_fanout() -> PeerFanout {
    PeerFanout::from_core(&Fanout::default())
}
