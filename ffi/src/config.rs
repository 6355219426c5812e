//! The config builder: `sr_config_new`, setters, `sr_config_free`.

use streamrelay::crypto::identity::KeyPair;
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, Expiry, Fanout, FanoutPolicy, Introducer, Limits, RateQuotas, Timings,
};

use crate::handle::{free, guard, register, with, SrConfig};
use crate::status::SrStatus;
use crate::types::{array32, bytes_in, get, peer_id_in, put, put_sized, struct_size, SrRemote};

/// Table and queue bounds (`Config.limits`). Extensible: set `struct_size`
/// to `sizeof(SrLimits)` before `sr_config_get_limits` /
/// `sr_config_set_limits`. Every value must be at least 1 (checked by
/// `sr_peer_new`), except `max_sync_sends_per_window`, where 0 keeps the
/// configured value (so a caller built against a header from before that
/// field, which zeroed the reserved room, changes nothing).
///
/// Fields are added by taking them from `reserved`: `sizeof(SrLimits)` never
/// changes, so every `struct_size` a caller ever set stays valid.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrLimits {
    /// `sizeof(SrLimits)`, set by the caller.
    pub struct_size: u32,
    /// Sockets in the hard-NAT pool (256).
    pub pool_size: u16,
    /// Zero.
    pub reserved0: u16,
    /// Peer-table entries (256).
    pub max_peers: usize,
    /// Scheduled ping retransmissions (512).
    pub max_pending_pings: usize,
    /// Duplicate-suppression entries (8192).
    pub max_gate_entries: usize,
    /// Rate-limit entries (4096).
    pub max_rate_entries: usize,
    /// Return-route entries (1024).
    pub max_return_routes: usize,
    /// Introductions worked on at once (64).
    pub max_intros: usize,
    /// Subclusters this peer can be a member of (64).
    pub max_subclusters: usize,
    /// Subclusters remembered per remote peer (16).
    pub max_clusters_per_peer: usize,
    /// Events waiting for `sr_peer_poll_event` (1024).
    pub max_events: usize,
    /// Datagrams waiting for `sr_peer_poll_transmit` (4096).
    pub max_transmits: usize,
    /// Bytes the packet cache may hold (16000000).
    pub max_cache_bytes: usize,
    /// Packets the cache may hold (65536).
    pub max_cache_packets: usize,
    /// Own packets remembered as not yet sent to anyone (1024).
    pub max_unpublished: usize,
    /// Our own questions waiting for answers (256).
    pub max_pending_queries: usize,
    /// Ids of events already delivered, against replays (16384).
    pub max_delivered: usize,
    /// Packets and summaries sent in answer to one Sync packet (2048).
    pub max_sync_sends: usize,
    /// Incomplete chains being reassembled at once (64).
    pub reassembly_max_chains: usize,
    /// Fragment bytes held across them; also the largest sealed message
    /// published or reassembled (1048576).
    pub reassembly_max_bytes: usize,
    /// Packets and summaries sent in answer to all the Syncs from one
    /// address per `SrTimings.sync_window_ms` (a token bucket per address,
    /// 4096). 0 in `sr_config_set_limits`: keep the configured value. Was
    /// `reserved[0]`.
    pub max_sync_sends_per_window: usize,
    /// Links open at once (32). 0 in `sr_config_set_limits`: keep the
    /// configured value. Was `reserved[0]`.
    pub max_links: u64,
    /// Zero: room to grow.
    pub reserved: [u64; 6],
}

// `sizeof(SrLimits)` is fixed (the size before `max_sync_sends_per_window`
// was taken from `reserved`): a field is added by taking it from
// `reserved`.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<SrLimits>() == 216);
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<SrLimits>() == 144);

/// Protocol timings in milliseconds (`Config.timings`). Extensible, as
/// `SrLimits`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrTimings {
    /// `sizeof(SrTimings)`, set by the caller.
    pub struct_size: u32,
    /// Hard-NAT traversal: at most this many rounds (1024).
    pub traversal_rounds: u32,
    /// Ports sprayed by the easy side of a hard-NAT pair (1024).
    pub spray_ports: u16,
    /// Zero.
    pub reserved0: [u16; 3],
    /// Intro answers are re-sent at +this and +4× (500).
    pub ping_retry_ms: u64,
    /// Reflection: wait for the second answer, and before finalising (512).
    pub probe_wait_ms: u64,
    /// Reflection stage 1 timeout (1024).
    pub probe_timeout_ms: u64,
    /// Reflection stage 2 timeout (2048).
    pub reflection_timeout_ms: u64,
    /// Fall back to the introducer as proxy after this long (2048).
    pub intro_fallback_ms: u64,
    /// Hard-NAT traversal: one ping per interval (10).
    pub traversal_interval_ms: u64,
    /// A pool socket listens this long after it sent (1024).
    pub pool_socket_hold_ms: u64,
    /// An idle pool is closed after this long (30000).
    pub pool_idle_ms: u64,
    /// A chain of ours incomplete this long makes us query for its first
    /// missing link (1000).
    pub missing_link_ms: u64,
    /// An incomplete chain is forgotten after this long (300000).
    pub chain_timeout_ms: u64,
    /// A Query older than this is dropped (2048).
    pub query_freshness_ms: u64,
    /// First contact with an address syncs again only after this long
    /// (6000).
    pub sync_window_ms: u64,
    /// Missing-link queries per chain (3).
    pub missing_link_queries: u32,
    /// Zero.
    pub reserved1: u32,
    /// Zero: room to grow.
    pub reserved: [u64; 8],
}

/// Per-remote packet quotas per one-minute bucket (`Config.quotas`).
/// Extensible, as `SrLimits`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrRateQuotas {
    /// `sizeof(SrRateQuotas)`, set by the caller.
    pub struct_size: u32,
    /// Publish and Join packets from one remote (1024).
    pub replicatable_per_minute: u32,
    /// Every other type from one remote (1048576).
    pub control_per_minute: u32,
    /// Packets in a subcluster we joined (32768).
    pub subcluster_per_minute: u32,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

/// Peer expiry in multiples of the keepalive (`Config.expiry`). Extensible,
/// as `SrLimits`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrExpiry {
    /// `sizeof(SrExpiry)`, set by the caller.
    pub struct_size: u32,
    /// Silent this many keepalives: no longer offered in introductions (1).
    pub inactive: u32,
    /// Silent this many: a disconnection event (2).
    pub missing: u32,
    /// Silent this many: removed from the table (4).
    pub forgotten: u32,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

/// Values of `SrFanout::policy`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrFanoutPolicy {
    /// The reference: a uniform shuffle of the fresh candidates.
    Random = 0,
    /// Weighted by availability / distance (round-trip time and uptime).
    Weighted = 1,
}

/// How a multicast picks its targets (`Config.fanout`). Extensible, as
/// `SrLimits`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrFanout {
    /// `sizeof(SrFanout)`, set by the caller.
    pub struct_size: u32,
    /// One of `SR_FANOUT_POLICY_*` (random).
    pub policy: u32,
    /// How many candidates the policy picks (3).
    pub peers: usize,
    /// Uptime at which a peer's availability is one half, ms (600000).
    pub uptime_half_ms: u64,
    /// Distance assumed for a peer whose round-trip time was never measured,
    /// ms (250).
    pub unknown_rtt_ms: u32,
    /// Zero.
    pub reserved0: u32,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

/// Runs `f` on the config behind `config`.
fn on_config(
    config: *mut SrConfig,
    f: impl FnOnce(&mut Config) -> Result<(), SrStatus>,
) -> SrStatus {
    guard(|| with(config, f).map(|()| SrStatus::Ok))
}

/// The conversions between one of the core's config structs and its C
/// struct, generated from the core's table (`streamrelay::limits_table!`
/// and its siblings). The C struct is written out above for cbindgen; a
/// field of the table that the C struct lacks (or the other way round) does
/// not compile. `extra` fills the C struct's padding and reserved room.
macro_rules! c_face {
    (
        [$core:ident <=> $c:ident, $to_c:ident, $from_c:ident, extra { $($extra:ident : $val:expr),* }]
        fields { $( $(#[doc = $doc:tt])* $field:ident : $ty:ident = $default:tt, )* }
        $( nested $(#[doc = $ndoc:tt])* $nest:ident : $nty:path {
            $( $(#[doc = $rdoc:tt])* $flat:ident => $rfield:ident : $rty:ident = $rdefault:tt, )*
        } )?
    ) => {
        fn $to_c(v: &$core, struct_size: u32) -> $c {
            $c {
                struct_size,
                $( $extra: $val, )*
                $( $field: v.$field, )*
                $($( $flat: v.$nest.$rfield, )*)?
            }
        }

        fn $from_c(c: &$c) -> $core {
            $core {
                $( $field: c.$field, )*
                $( $nest: {
                    type Nested = $nty;
                    Nested { $( $rfield: c.$flat, )* }
                }, )?
            }
        }
    };
}

streamrelay::limits_table!(c_face Limits <=> SrLimits, limits_to_c, limits_from_c, extra { reserved0: 0, reserved: [0; 6] });
streamrelay::timings_table!(c_face Timings <=> SrTimings, timings_to_c, timings_from_c, extra { reserved0: [0; 3], reserved1: 0, reserved: [0; 8] });
streamrelay::quotas_table!(c_face RateQuotas <=> SrRateQuotas, quotas_to_c, quotas_from_c, extra { reserved: [0; 4] });
streamrelay::expiry_table!(c_face Expiry <=> SrExpiry, expiry_to_c, expiry_from_c, extra { reserved: [0; 4] });

/// Makes a config for the peer `peer_id` (32 bytes) with the reference's
/// defaults: no cluster, not an introducer, NAT type found by reflection,
/// keepalive 30000 ms, no introducers. Free it with `sr_config_free`.
///
/// Returns `SR_STATUS_INVALID_ARGUMENT` if `peer_id_len` is not 32.
///
/// # Safety
/// `peer_id` must point to `peer_id_len` readable bytes; `out_config` must
/// be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn sr_config_new(
    peer_id: *const u8,
    peer_id_len: usize,
    out_config: *mut *mut SrConfig,
) -> SrStatus {
    guard(|| {
        crate::types::check_out(out_config)?;
        // SAFETY: the caller's contract for `peer_id`.
        let id = unsafe { peer_id_in(peer_id, peer_id_len) }?;
        let ptr = register::<SrConfig>(Config::new(&id.to_hex(), None));
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_config, ptr) }?;
        Ok(SrStatus::Ok)
    })
}

/// Releases a config. NULL is a no-op. Returns `SR_STATUS_INVALID_HANDLE`
/// for a pointer that is not a live config, `SR_STATUS_BUSY` if a call on it
/// is still running.
///
/// # Safety
/// `config` must be NULL or a pointer obtained from `sr_config_new` (a stale
/// or garbage pointer is detected and refused, not dereferenced).
#[no_mangle]
pub unsafe extern "C" fn sr_config_free(config: *mut SrConfig) -> SrStatus {
    guard(|| free(config))
}

/// Sets the cluster id (32 bytes): the application network. Required unless
/// the peer is an introducer.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `cluster_id`
/// must point to `cluster_id_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_cluster_id(
    config: *mut SrConfig,
    cluster_id: *const u8,
    cluster_id_len: usize,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `cluster_id`.
        c.cluster_id = Some(unsafe { array32(cluster_id, cluster_id_len) }?);
        Ok(())
    })
}

/// Introducer mode: no reflection, no cluster needed, ready at once.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_indexed(config: *mut SrConfig, indexed: bool) -> SrStatus {
    on_config(config, |c| {
        c.indexed = indexed;
        Ok(())
    })
}

/// A NAT type known in advance (`SR_NAT_TYPE_*`, or any valid 5-bit type);
/// 0 clears it (the default: found by reflection). With a static NAT type,
/// reflection is skipped; `sr_peer_new` refuses an invalid one.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_nat_type(config: *mut SrConfig, nat_type: u8) -> SrStatus {
    on_config(config, |c| {
        c.nat_type = (nat_type != 0).then_some(NatType(nat_type));
        Ok(())
    })
}

/// This peer's public endpoint when known in advance (with a static NAT
/// type). It must be a UDP remote; NULL clears it.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `address` NULL
/// or valid for reading an `SrRemote`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_public_address(
    config: *mut SrConfig,
    address: *const SrRemote,
) -> SrStatus {
    on_config(config, |c| {
        c.public_address = if address.is_null() {
            None
        } else {
            // SAFETY: non-NULL; readable (caller); SrRemote is plain integers.
            Some(unsafe { get(address) }?.to_socket_addr()?)
        };
        Ok(())
    })
}

/// The tick period in ms, and the unit of every expiry (30000; at least 1,
/// checked by `sr_peer_new`).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_keepalive_ms(
    config: *mut SrConfig,
    keepalive_ms: u64,
) -> SrStatus {
    on_config(config, |c| {
        c.keepalive_ms = keepalive_ms;
        Ok(())
    })
}

/// Milliseconds to add to the monotonic `now` to get the wall clock (Unix
/// ms) that goes on the wire (0).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_wall_clock_offset_ms(
    config: *mut SrConfig,
    offset_ms: i64,
) -> SrStatus {
    on_config(config, |c| {
        c.wall_clock_offset_ms = offset_ms;
        Ok(())
    })
}

/// Skips rate limiting (the reference's `limitExempt`).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_limit_exempt(
    config: *mut SrConfig,
    limit_exempt: bool,
) -> SrStatus {
    on_config(config, |c| {
        c.limit_exempt = limit_exempt;
        Ok(())
    })
}

/// Adds a bootstrap introducer: its peer id (32 bytes) and where it
/// listens.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `peer_id` must
/// point to `peer_id_len` readable bytes; `remote` must be valid for reading
/// an `SrRemote`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_add_introducer(
    config: *mut SrConfig,
    peer_id: *const u8,
    peer_id_len: usize,
    remote: *const SrRemote,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `peer_id`.
        let peer_id = unsafe { peer_id_in(peer_id, peer_id_len) }?;
        // SAFETY: the caller's contract for `remote`; plain integers.
        let remote = unsafe { get(remote) }?.to_remote()?;
        c.introducers.push(Introducer { peer_id, remote });
        Ok(())
    })
}

/// Reads the limits (defaults until set) into `out_limits`, whose
/// `struct_size` the caller set.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `out_limits`
/// valid for reading and writing an `SrLimits`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_get_limits(
    config: *mut SrConfig,
    out_limits: *mut SrLimits,
) -> SrStatus {
    on_config(config, |c| {
        let l = &c.limits;
        // SAFETY: the caller's contract for `out_limits`.
        unsafe { put_sized(out_limits, |struct_size| limits_to_c(l, struct_size)) }
    })
}

/// Sets every limit from `limits` (start from `sr_config_get_limits`). A
/// zero `max_sync_sends_per_window` or `max_links` keeps the configured value.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `limits` valid
/// for reading an `SrLimits`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_limits(
    config: *mut SrConfig,
    limits: *const SrLimits,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `limits`; all fields are integers.
        let l = unsafe { struct_size(limits).and_then(|_| get(limits)) }?;
        let keep = c.limits.max_sync_sends_per_window;
        let keep_links = c.limits.max_links;
        c.limits = limits_from_c(&l);
        // 0 (an older caller's zeroed reserved room): kept as configured.
        if l.max_sync_sends_per_window == 0 {
            c.limits.max_sync_sends_per_window = keep;
        }
        if l.max_links == 0 {
            c.limits.max_links = keep_links;
        }
        Ok(())
    })
}

/// Reads the timings into `out_timings` (`struct_size` set by the caller).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `out_timings`
/// valid for reading and writing an `SrTimings`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_get_timings(
    config: *mut SrConfig,
    out_timings: *mut SrTimings,
) -> SrStatus {
    on_config(config, |c| {
        let t = &c.timings;
        // SAFETY: the caller's contract for `out_timings`.
        unsafe { put_sized(out_timings, |struct_size| timings_to_c(t, struct_size)) }
    })
}

/// Sets every timing from `timings` (start from `sr_config_get_timings`).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `timings` valid
/// for reading an `SrTimings`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_timings(
    config: *mut SrConfig,
    timings: *const SrTimings,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `timings`; all fields are integers.
        let t = unsafe { struct_size(timings).and_then(|_| get(timings)) }?;
        c.timings = timings_from_c(&t);
        Ok(())
    })
}

/// Reads the rate quotas into `out_quotas` (`struct_size` set by the
/// caller).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `out_quotas`
/// valid for reading and writing an `SrRateQuotas`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_get_quotas(
    config: *mut SrConfig,
    out_quotas: *mut SrRateQuotas,
) -> SrStatus {
    on_config(config, |c| {
        let q = &c.quotas;
        // SAFETY: the caller's contract for `out_quotas`.
        unsafe { put_sized(out_quotas, |struct_size| quotas_to_c(q, struct_size)) }
    })
}

/// Sets the rate quotas from `quotas`.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `quotas` valid
/// for reading an `SrRateQuotas`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_quotas(
    config: *mut SrConfig,
    quotas: *const SrRateQuotas,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `quotas`; all fields are integers.
        let q = unsafe { struct_size(quotas).and_then(|_| get(quotas)) }?;
        c.quotas = quotas_from_c(&q);
        Ok(())
    })
}

/// Reads the expiry into `out_expiry` (`struct_size` set by the caller).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `out_expiry`
/// valid for reading and writing an `SrExpiry`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_get_expiry(
    config: *mut SrConfig,
    out_expiry: *mut SrExpiry,
) -> SrStatus {
    on_config(config, |c| {
        let e = &c.expiry;
        // SAFETY: the caller's contract for `out_expiry`.
        unsafe { put_sized(out_expiry, |struct_size| expiry_to_c(e, struct_size)) }
    })
}

/// Sets the expiry from `expiry`.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `expiry` valid
/// for reading an `SrExpiry`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_expiry(
    config: *mut SrConfig,
    expiry: *const SrExpiry,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `expiry`; all fields are integers.
        let e = unsafe { struct_size(expiry).and_then(|_| get(expiry)) }?;
        c.expiry = expiry_from_c(&e);
        Ok(())
    })
}

/// The publisher's Ed25519 key pair, as libsodium's 64-byte secret key
/// (seed then public key, what `sr_create_key_pair` writes): `usr2` of what
/// this peer publishes or streams is its public key and `sig` its signature.
/// Needed by `sr_peer_publish` and `sr_peer_stream`. NULL (with length 0)
/// removes them. A secret key whose public half does not belong to its seed
/// is `SR_STATUS_INVALID_KEY`.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `secret_key`
/// must point to `secret_key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_signing_keys(
    config: *mut SrConfig,
    secret_key: *const u8,
    secret_key_len: usize,
) -> SrStatus {
    on_config(config, |c| {
        c.signing_keys = if secret_key.is_null() && secret_key_len == 0 {
            None
        } else {
            // SAFETY: the caller's contract for `secret_key`.
            let sk = unsafe { bytes_in(secret_key, secret_key_len) }?;
            if sk.len() != 64 {
                return Err(SrStatus::InvalidArgument);
            }
            Some(KeyPair::from_secret_key(sk)?)
        };
        Ok(())
    })
}

/// Sync with a peer on first contact (true, the default).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_auto_sync(
    config: *mut SrConfig,
    auto_sync: bool,
) -> SrStatus {
    on_config(config, |c| {
        c.auto_sync = auto_sync;
        Ok(())
    })
}

/// Reads the fanout settings into `out_fanout` (`struct_size` set by the
/// caller).
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `out_fanout`
/// valid for reading and writing an `SrFanout`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_get_fanout(
    config: *mut SrConfig,
    out_fanout: *mut SrFanout,
) -> SrStatus {
    on_config(config, |c| {
        let f = &c.fanout;
        let policy = match f.policy {
            FanoutPolicy::Random => SrFanoutPolicy::Random,
            FanoutPolicy::Weighted => SrFanoutPolicy::Weighted,
        };
        // SAFETY: the caller's contract for `out_fanout`.
        unsafe {
            put_sized(out_fanout, |struct_size| SrFanout {
                struct_size,
                policy: policy as u32,
                peers: f.peers,
                uptime_half_ms: f.uptime_half_ms,
                unknown_rtt_ms: f.unknown_rtt_ms,
                reserved0: 0,
                reserved: [0; 4],
            })
        }
    })
}

/// Sets the fanout from `fanout`; an unknown policy is
/// `SR_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `fanout` valid
/// for reading an `SrFanout`.
#[no_mangle]
pub unsafe extern "C" fn sr_config_set_fanout(
    config: *mut SrConfig,
    fanout: *const SrFanout,
) -> SrStatus {
    on_config(config, |c| {
        // SAFETY: the caller's contract for `fanout`; all fields are integers.
        let f = unsafe { struct_size(fanout).and_then(|_| get(fanout)) }?;
        let policy = match f.policy {
            p if p == SrFanoutPolicy::Random as u32 => FanoutPolicy::Random,
            p if p == SrFanoutPolicy::Weighted as u32 => FanoutPolicy::Weighted,
            _ => return Err(SrStatus::InvalidArgument),
        };
        c.fanout = Fanout {
            policy,
            peers: f.peers,
            unknown_rtt_ms: f.unknown_rtt_ms,
            uptime_half_ms: f.uptime_half_ms,
        };
        Ok(())
    })
}
