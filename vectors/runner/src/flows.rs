//! Flow vectors (`streamrelay-flows/1`, see `vectors/README.md`): the
//! transcript of one `Peer` — its config and seed, then a timed sequence of
//! inputs (datagrams, timeouts, host commands), each with exactly what the
//! Peer must answer (the command's result, the transmits with their bytes,
//! the events, the next timeout).
//!
//! [`step`] runs one input and returns its expected outputs as JSON; the
//! generator (`cargo run -p streamrelay-vectors --example flows`) records
//! with it, [`replay`] runs a recorded flow through a fresh Peer and
//! compares every step.

use std::net::SocketAddr;

use streamrelay::crypto::identity::{create_key_pair, create_shared_key};
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Behaviour, Config, Event, Expiry, Fanout, FanoutPolicy, Instant, Introducer, Limits, Peer,
    PeerId, Profile, PublishOptions, RateQuotas, Remote, SocketId, Timings,
};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::json::{JsObject, JsValue};

use crate::js::hex;
use crate::read::{self, Read};
use crate::{jsv::stringify, Outcome};

/// The format tag of a flow file.
pub const FORMAT: &str = "streamrelay-flows/1";

fn obj(entries: Vec<(&str, JsValue)>) -> JsValue {
    let mut o = JsObject::new();
    for (k, v) in entries {
        o.insert(k, v);
    }
    JsValue::Object(o)
}

fn s(x: &str) -> JsValue {
    JsValue::from(x)
}

fn n(x: impl Into<f64>) -> JsValue {
    JsValue::Number(x.into())
}

fn h(b: &[u8]) -> JsValue {
    s(&hex(b))
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> JsValue) -> JsValue {
    v.map_or(JsValue::Null, f)
}

// ---------------------------------------------------------------------------
// Config

/// A config field that converts to and from JSON.
trait Json: Sized {
    fn to_json(&self) -> JsValue;
    fn from_json(v: &JsValue, path: &str) -> Read<Self>;
}

fn integer(v: &JsValue, path: &str, max: f64) -> Read<f64> {
    let x = read::number(v, path)?;
    if x.fract() == 0.0 && (0.0..=max).contains(&x) {
        Ok(x)
    } else {
        Err(read::bad(
            path,
            format!("expected an integer 0..={max}, found {x}"),
        ))
    }
}

macro_rules! json_int {
    ($($t:ty),*) => {$(
        impl Json for $t {
            fn to_json(&self) -> JsValue {
                JsValue::Number(*self as f64)
            }
            fn from_json(v: &JsValue, path: &str) -> Read<Self> {
                // JSON numbers are exact up to 2^53.
                let max = (<$t>::MAX as f64).min(9_007_199_254_740_991.0);
                Ok(integer(v, path, max)? as $t)
            }
        }
    )*};
}
json_int!(u16, u32, u64, usize);

impl Json for bool {
    fn to_json(&self) -> JsValue {
        JsValue::Bool(*self)
    }
    fn from_json(v: &JsValue, path: &str) -> Read<Self> {
        read::boolean(v, path)
    }
}

impl<T: Json> Json for Option<T> {
    fn to_json(&self) -> JsValue {
        opt(self.as_ref(), T::to_json)
    }
    fn from_json(v: &JsValue, path: &str) -> Read<Self> {
        match v {
            JsValue::Null => Ok(None),
            v => T::from_json(v, path).map(Some),
        }
    }
}

impl Json for FanoutPolicy {
    fn to_json(&self) -> JsValue {
        s(match self {
            FanoutPolicy::Random => "random",
            FanoutPolicy::Weighted => "weighted",
        })
    }
    fn from_json(v: &JsValue, path: &str) -> Read<Self> {
        match read::text(v, path)?.as_str() {
            "random" => Ok(FanoutPolicy::Random),
            "weighted" => Ok(FanoutPolicy::Weighted),
            other => Err(read::bad(path, format!("unknown fanout policy {other:?}"))),
        }
    }
}

/// Every field of a config struct, once: JSON key and Rust field. A key
/// left out of a flow keeps the value of `$start` (the reference profile's).
macro_rules! json_struct {
    ($t:ty { $($key:literal => $($field:ident).+),* $(,)? }) => {
        json_struct!($t = (<$t>::default()) { $($key => $($field).+),* });
    };
    ($t:ty = ($start:expr) { $($key:literal => $($field:ident).+),* $(,)? }) => {
        impl Json for $t {
            fn to_json(&self) -> JsValue {
                obj(vec![$(($key, Json::to_json(&self.$($field).+))),*])
            }
            fn from_json(v: &JsValue, path: &str) -> Read<Self> {
                let mut out = $start;
                let o = v.as_object().ok_or_else(|| read::bad(path, "expected an object"))?;
                for (k, x) in o.iter() {
                    let k = k.to_string_lossy();
                    let at = format!("{path}.{k}");
                    match k.as_ref() {
                        $($key => out.$($field).+ = Json::from_json(x, &at)?,)*
                        _ => return Err(read::bad(&at, "unknown key")),
                    }
                }
                Ok(out)
            }
        }
    };
}

json_struct!(Limits {
    "maxPeers" => max_peers, "maxPendingPings" => max_pending_pings,
    "maxGateEntries" => max_gate_entries, "maxRateEntries" => max_rate_entries,
    "maxReturnRoutes" => max_return_routes, "poolSize" => pool_size,
    "maxIntros" => max_intros, "maxSubclusters" => max_subclusters,
    "maxClustersPerPeer" => max_clusters_per_peer, "maxEvents" => max_events,
    "maxTransmits" => max_transmits, "maxCacheBytes" => max_cache_bytes,
    "maxCachePackets" => max_cache_packets, "maxUnpublished" => max_unpublished,
    "maxPendingQueries" => max_pending_queries, "maxDelivered" => max_delivered,
    "maxSyncSends" => max_sync_sends, "maxSyncSendsPerWindow" => max_sync_sends_per_window,
    "maxLinks" => max_links,
    "reassemblyMaxChains" => reassembly.max_chains, "reassemblyMaxBytes" => reassembly.max_bytes,
});
json_struct!(RateQuotas {
    "replicatablePerMinute" => replicatable_per_minute,
    "controlPerMinute" => control_per_minute,
    "subclusterPerMinute" => subcluster_per_minute,
});
json_struct!(Expiry { "inactive" => inactive, "missing" => missing, "forgotten" => forgotten });
json_struct!(Timings {
    "pingRetryMs" => ping_retry_ms, "probeWaitMs" => probe_wait_ms,
    "probeTimeoutMs" => probe_timeout_ms, "reflectionTimeoutMs" => reflection_timeout_ms,
    "introFallbackMs" => intro_fallback_ms, "traversalIntervalMs" => traversal_interval_ms,
    "traversalRounds" => traversal_rounds, "poolSocketHoldMs" => pool_socket_hold_ms,
    "sprayPorts" => spray_ports, "poolIdleMs" => pool_idle_ms,
    "missingLinkMs" => missing_link_ms, "missingLinkQueries" => missing_link_queries,
    "chainTimeoutMs" => chain_timeout_ms, "queryFreshnessMs" => query_freshness_ms,
    "syncWindowMs" => sync_window_ms,
});
json_struct!(Fanout {
    "policy" => policy, "peers" => peers, "unknownRttMs" => unknown_rtt_ms,
    "uptimeHalfMs" => uptime_half_ms,
});
json_struct!(Behaviour = (Behaviour::reference()) {
    "relayRendezvousReplies" => relay_rendezvous_replies, "joinRelayHops" => join_relay_hops,
    "uniqueSyncIds" => unique_sync_ids, "syncWithIntroducers" => sync_with_introducers,
    "rediscoverOnRestore" => rediscover_on_restore, "stopAnsweredRetries" => stop_answered_retries,
    "rejoinBelowMembers" => rejoin_below_members, "heartbeatPeers" => heartbeat_peers,
    "heartbeatIntroducers" => heartbeat_introducers,
    "targetedIntroductions" => targeted_introductions, "singleTraversal" => single_traversal,
    "traversalRounds" => traversal_rounds,
    "syncOnSummaryMismatch" => sync_on_summary_mismatch,
    "followMovedPeers" => follow_moved_peers,
    "detectNetworkChange" => detect_network_change,
    "fanoutSubclusterMembers" => fanout_subcluster_members,
    "freshPoolSockets" => fresh_pool_sockets,
});

/// A flow's config. `signingSeed` names the publisher keys as
/// `createKeyPair(signingSeed)` (the key itself is never written).
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// The Peer's config.
    pub config: Config,
    /// The string the signing keys derive from.
    pub signing_seed: Option<String>,
}

fn remote_json(r: &Remote) -> JsValue {
    s(&r.to_string())
}

fn read_remote(v: &JsValue, path: &str) -> Read<Remote> {
    let t = read::text(v, path)?;
    if let Some(n) = t.strip_prefix("link:") {
        return n
            .parse()
            .map(Remote::Link)
            .map_err(|_| read::bad(path, format!("bad link {t:?}")));
    }
    t.parse::<SocketAddr>()
        .map(Remote::Udp)
        .map_err(|_| read::bad(path, format!("not ip:port or link:N: {t:?}")))
}

fn socket_json(s_: SocketId) -> JsValue {
    s(&match s_ {
        SocketId::Main => "main".to_string(),
        SocketId::Probe => "probe".to_string(),
        SocketId::Pool(n) => format!("pool:{n}"),
    })
}

fn read_socket(v: &JsValue, path: &str) -> Read<SocketId> {
    let t = read::text(v, path)?;
    match t.as_str() {
        "main" => Ok(SocketId::Main),
        "probe" => Ok(SocketId::Probe),
        other => other
            .strip_prefix("pool:")
            .and_then(|n| n.parse().ok())
            .map(SocketId::Pool)
            .ok_or_else(|| read::bad(path, format!("unknown socket {other:?}"))),
    }
}

fn id32(v: &JsValue, path: &str) -> Read<[u8; 32]> {
    let b = read::bytes(v, path)?;
    b.try_into()
        .map_err(|b: Vec<u8>| read::bad(path, format!("expected 32 bytes, found {}", b.len())))
}

impl FlowConfig {
    /// The config as written in a flow: every field of the core's
    /// `Config` (profile defaults included), so nothing is implied.
    pub fn to_json(&self) -> JsValue {
        let c = &self.config;
        obj(vec![
            ("peerId", s(&c.peer_id)),
            ("clusterId", opt(c.cluster_id, |x| h(&x))),
            ("indexed", JsValue::Bool(c.indexed)),
            ("natType", opt(c.nat_type, |x| n(x.0))),
            (
                "publicAddress",
                opt(c.public_address, |a| s(&a.to_string())),
            ),
            ("keepaliveMs", n(c.keepalive_ms as f64)),
            ("wallClockOffsetMs", n(c.wall_clock_offset_ms as f64)),
            (
                "introducers",
                JsValue::Array(
                    c.introducers
                        .iter()
                        .map(|i| {
                            obj(vec![
                                ("peerId", s(&i.peer_id.to_hex())),
                                ("remote", remote_json(&i.remote)),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("limitExempt", JsValue::Bool(c.limit_exempt)),
            ("signingSeed", opt(self.signing_seed.as_deref(), s)),
            ("autoSync", JsValue::Bool(c.auto_sync)),
            ("limits", c.limits.to_json()),
            ("quotas", c.quotas.to_json()),
            ("expiry", c.expiry.to_json()),
            ("timings", c.timings.to_json()),
            ("fanout", c.fanout.to_json()),
            ("behaviour", c.behaviour.to_json()),
        ])
    }

    /// Reads a flow's config: the keys present override the `reference`
    /// profile's defaults (a flow file writes them all).
    pub fn from_json(v: &JsValue, path: &str) -> Read<FlowConfig> {
        let peer_id = read::field(v, "peerId", path, read::text)?;
        let mut c = Config::with_profile(&peer_id, None, Profile::Reference);
        let mut signing_seed = None;
        let o = v
            .as_object()
            .ok_or_else(|| read::bad(path, "expected an object"))?;
        for (k, x) in o.iter() {
            let k = k.to_string_lossy();
            let at = format!("{path}.{k}");
            let null = *x == JsValue::Null;
            match k.as_ref() {
                "peerId" => {}
                "clusterId" => c.cluster_id = if null { None } else { Some(id32(x, &at)?) },
                "indexed" => c.indexed = read::boolean(x, &at)?,
                "natType" => {
                    c.nat_type = Option::<u16>::from_json(x, &at)?
                        .map(|t| u8::try_from(t).map(NatType))
                        .transpose()
                        .map_err(|_| read::bad(&at, "a NAT type is 0..=255"))?
                }
                "publicAddress" => {
                    c.public_address = if null {
                        None
                    } else {
                        let t = read::text(x, &at)?;
                        Some(t.parse().map_err(|_| read::bad(&at, "not ip:port"))?)
                    }
                }
                "keepaliveMs" => c.keepalive_ms = u64::from_json(x, &at)?,
                "wallClockOffsetMs" => {
                    let v = read::number(x, &at)?;
                    if v.fract() != 0.0 || v.abs() > 9_007_199_254_740_991.0 {
                        return Err(read::bad(&at, "expected an integer"));
                    }
                    c.wall_clock_offset_ms = v as i64;
                }
                "introducers" => {
                    c.introducers.clear();
                    for (i, e) in read::array(x, &at)?.iter().enumerate() {
                        let p = format!("{at}[{i}]");
                        let id = read::field(e, "peerId", &p, read::text)?;
                        c.introducers.push(Introducer {
                            peer_id: PeerId::from_hex(&id).ok_or_else(|| {
                                read::bad(&format!("{p}.peerId"), "not a peer id")
                            })?,
                            remote: read::field(e, "remote", &p, read_remote)?,
                        });
                    }
                }
                "limitExempt" => c.limit_exempt = read::boolean(x, &at)?,
                "signingSeed" => {
                    signing_seed = if null {
                        None
                    } else {
                        Some(read::text(x, &at)?)
                    }
                }
                "autoSync" => c.auto_sync = read::boolean(x, &at)?,
                "limits" => c.limits = Limits::from_json(x, &at)?,
                "quotas" => c.quotas = RateQuotas::from_json(x, &at)?,
                "expiry" => c.expiry = Expiry::from_json(x, &at)?,
                "timings" => c.timings = Timings::from_json(x, &at)?,
                "fanout" => c.fanout = Fanout::from_json(x, &at)?,
                "behaviour" => c.behaviour = Behaviour::from_json(x, &at)?,
                _ => return Err(read::bad(&at, "unknown key")),
            }
        }
        if let Some(seed) = &signing_seed {
            c.signing_keys =
                Some(create_key_pair(seed.as_str()).map_err(|e| Outcome::Fail(e.to_string()))?);
        }
        Ok(FlowConfig {
            config: c,
            signing_seed,
        })
    }
}

// ---------------------------------------------------------------------------
// Inputs and outputs

/// One input to the Peer.
#[derive(Clone, Debug)]
pub enum Input {
    /// `handle_datagram(now, socket, remote, bytes)`.
    Datagram {
        /// The local socket it arrived on.
        socket: SocketId,
        /// Its sender.
        remote: Remote,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// `handle_timeout(now)`.
    Timeout,
    /// `join(now, createSharedKey(seed))`.
    Join {
        /// The shared key's seed string.
        shared_key_seed: String,
    },
    /// `publish(now, createSharedKey(seed), eventName, payload, {ttl})`.
    Publish {
        /// The shared key's seed string.
        shared_key_seed: String,
        /// The event name.
        event_name: String,
        /// The payload.
        payload: Vec<u8>,
        /// `opts.ttl`.
        ttl: Option<u32>,
    },
    /// `stream(now, peerId, createSharedKey(seed), eventName, payload, {})`.
    Stream {
        /// The receiver.
        peer_id: PeerId,
        /// The shared key's seed string.
        shared_key_seed: String,
        /// The event name.
        event_name: String,
        /// The payload.
        payload: Vec<u8>,
    },
    /// `query(now, {"packetId": hex})`.
    Query {
        /// The packet asked for (hex).
        packet_id: String,
    },
    /// `sync(now, peerId)`.
    Sync {
        /// The peer.
        peer_id: PeerId,
    },
    /// `snapshot(now)`: its bytes are the step's result.
    Snapshot,
    /// The Peer is dropped and `Peer::restore(config, now, seed, bytes)`
    /// takes its place.
    Restore {
        /// The seed of the restored Peer.
        seed: [u8; 32],
        /// The snapshot.
        bytes: Vec<u8>,
    },
    /// `disconnect(now)`.
    Disconnect,
    /// `reconnect(now)`.
    Reconnect,
    /// `close(now)`.
    Close,
}

impl Input {
    /// As written in a flow.
    pub fn to_json(&self) -> JsValue {
        let k = |kind: &str, mut rest: Vec<(&str, JsValue)>| {
            rest.insert(0, ("kind", s(kind)));
            obj(rest)
        };
        match self {
            Input::Datagram {
                socket,
                remote,
                bytes,
            } => k(
                "datagram",
                vec![
                    ("socket", socket_json(*socket)),
                    ("remote", remote_json(remote)),
                    ("hex", h(bytes)),
                ],
            ),
            Input::Timeout => k("timeout", vec![]),
            Input::Join { shared_key_seed } => {
                k("join", vec![("sharedKeySeed", s(shared_key_seed))])
            }
            Input::Publish {
                shared_key_seed,
                event_name,
                payload,
                ttl,
            } => k(
                "publish",
                vec![
                    ("sharedKeySeed", s(shared_key_seed)),
                    ("eventName", s(event_name)),
                    ("payload", h(payload)),
                    ("ttl", opt(*ttl, n)),
                ],
            ),
            Input::Stream {
                peer_id,
                shared_key_seed,
                event_name,
                payload,
            } => k(
                "stream",
                vec![
                    ("peerId", s(&peer_id.to_hex())),
                    ("sharedKeySeed", s(shared_key_seed)),
                    ("eventName", s(event_name)),
                    ("payload", h(payload)),
                ],
            ),
            Input::Query { packet_id } => k("query", vec![("packetId", s(packet_id))]),
            Input::Sync { peer_id } => k("sync", vec![("peerId", s(&peer_id.to_hex()))]),
            Input::Snapshot => k("snapshot", vec![]),
            Input::Restore { seed, bytes } => {
                k("restore", vec![("seed", h(seed)), ("snapshot", h(bytes))])
            }
            Input::Disconnect => k("disconnect", vec![]),
            Input::Reconnect => k("reconnect", vec![]),
            Input::Close => k("close", vec![]),
        }
    }

    /// Reads an input (a key its kind does not have is a format error).
    pub fn from_json(v: &JsValue, path: &str) -> Read<Input> {
        let input = Input::read(v, path)?;
        let known = input.to_json();
        if let Some(o) = v.as_object() {
            for (k, _) in o.iter() {
                let k = k.to_string_lossy();
                if known.get(&k).is_none() {
                    return Err(read::bad(
                        &format!("{path}.{k}"),
                        "unknown key for this input",
                    ));
                }
            }
        }
        Ok(input)
    }

    fn read(v: &JsValue, path: &str) -> Read<Input> {
        let kind = read::field(v, "kind", path, read::text)?;
        let text = |key: &str| read::field(v, key, path, read::text);
        Ok(match kind.as_str() {
            "datagram" => Input::Datagram {
                socket: read::field(v, "socket", path, read_socket)?,
                remote: read::field(v, "remote", path, read_remote)?,
                bytes: read::field(v, "hex", path, read::bytes)?,
            },
            "timeout" => Input::Timeout,
            "join" => Input::Join {
                shared_key_seed: text("sharedKeySeed")?,
            },
            "publish" => Input::Publish {
                shared_key_seed: text("sharedKeySeed")?,
                event_name: text("eventName")?,
                payload: read::field(v, "payload", path, read::bytes)?,
                ttl: read::opt(v, "ttl", path, Option::<u32>::from_json)?.flatten(),
            },
            "stream" => Input::Stream {
                peer_id: PeerId::from_hex(&text("peerId")?)
                    .ok_or_else(|| read::bad(&format!("{path}.peerId"), "not a peer id"))?,
                shared_key_seed: text("sharedKeySeed")?,
                event_name: text("eventName")?,
                payload: read::field(v, "payload", path, read::bytes)?,
            },
            "query" => Input::Query {
                packet_id: text("packetId")?,
            },
            "sync" => Input::Sync {
                peer_id: PeerId::from_hex(&text("peerId")?)
                    .ok_or_else(|| read::bad(&format!("{path}.peerId"), "not a peer id"))?,
            },
            "snapshot" => Input::Snapshot,
            "restore" => Input::Restore {
                seed: read::field(v, "seed", path, id32)?,
                bytes: read::field(v, "snapshot", path, read::bytes)?,
            },
            "disconnect" => Input::Disconnect,
            "reconnect" => Input::Reconnect,
            "close" => Input::Close,
            other => {
                return Err(read::bad(
                    &format!("{path}.kind"),
                    format!("unknown input {other:?}"),
                ))
            }
        })
    }
}

fn shared(seed: &str) -> Result<streamrelay::crypto::identity::SharedKey, String> {
    create_shared_key(seed).map_err(|e| e.to_string())
}

fn err(e: impl std::fmt::Display) -> JsValue {
    obj(vec![("error", s(&e.to_string()))])
}

fn ids(v: &[streamrelay::wire::packet::PacketId]) -> JsValue {
    JsValue::Array(v.iter().map(|i| h(i)).collect())
}

/// Runs one input at `now` on `peer` (a `Restore` replaces it) and returns
/// what the flow expects of that step: `{result?, transmits, events,
/// timeout}`.
pub fn step(peer: &mut Peer, config: &Config, now: Instant, input: &Input) -> JsValue {
    let result: Option<JsValue> = match input {
        Input::Datagram {
            socket,
            remote,
            bytes,
        } => {
            peer.handle_datagram(now, *socket, *remote, bytes);
            None
        }
        Input::Timeout => {
            peer.handle_timeout(now);
            None
        }
        Input::Join { shared_key_seed } => Some(
            match shared(shared_key_seed)
                .and_then(|k| peer.join(now, &k).map_err(|e| e.to_string()))
            {
                Ok(scid) => obj(vec![("subclusterId", h(&scid))]),
                Err(e) => err(e),
            },
        ),
        Input::Publish {
            shared_key_seed,
            event_name,
            payload,
            ttl,
        } => {
            let mut o = PublishOptions::new();
            o.ttl = *ttl;
            Some(
                match shared(shared_key_seed).and_then(|k| {
                    peer.publish(now, &k, event_name, payload, &o)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(v) => obj(vec![("packetIds", ids(&v))]),
                    Err(e) => err(e),
                },
            )
        }
        Input::Stream {
            peer_id,
            shared_key_seed,
            event_name,
            payload,
        } => Some(
            match shared(shared_key_seed).and_then(|k| {
                peer.stream(
                    now,
                    peer_id,
                    &k,
                    event_name,
                    payload,
                    &PublishOptions::new(),
                )
                .map_err(|e| e.to_string())
            }) {
                Ok(v) => obj(vec![("packetIds", ids(&v))]),
                Err(e) => err(e),
            },
        ),
        Input::Query { packet_id } => Some(
            match peer.query(now, &QueryQuestion::for_packet(packet_id)) {
                Ok(q) => obj(vec![("queryId", h(&q))]),
                Err(e) => err(e),
            },
        ),
        Input::Sync { peer_id } => Some(match peer.sync(now, peer_id) {
            Ok(()) => obj(vec![]),
            Err(e) => err(e),
        }),
        Input::Snapshot => Some(obj(vec![("snapshot", h(&peer.snapshot(now)))])),
        Input::Restore { seed, bytes } => {
            Some(match Peer::restore(config.clone(), now, *seed, bytes) {
                Ok(p) => {
                    *peer = p;
                    obj(vec![])
                }
                Err(e) => err(e),
            })
        }
        Input::Disconnect => {
            peer.disconnect(now);
            None
        }
        Input::Reconnect => {
            peer.reconnect(now);
            None
        }
        Input::Close => {
            peer.close(now);
            None
        }
    };
    let mut transmits = Vec::new();
    while let Some(t) = peer.poll_transmit(now) {
        transmits.push(obj(vec![
            ("socket", socket_json(t.socket)),
            ("remote", remote_json(&t.remote)),
            ("hex", h(&t.bytes)),
        ]));
    }
    let mut events = Vec::new();
    while let Some(e) = peer.poll_event() {
        events.push(event_json(&e));
    }
    let mut out = Vec::new();
    if let Some(r) = result {
        out.push(("result", r));
    }
    out.push(("transmits", JsValue::Array(transmits)));
    out.push(("events", JsValue::Array(events)));
    out.push((
        "timeout",
        opt(peer.poll_timeout(), |t| n(t.as_millis() as f64)),
    ));
    obj(out)
}

fn nat(t: Option<NatType>) -> JsValue {
    opt(t, |x| n(x.0))
}

fn pid(p: &PeerId) -> JsValue {
    s(&p.to_hex())
}

/// The fields every subcluster delivery event has.
fn delivery<'a>(
    cluster_id: &[u8],
    subcluster_id: &[u8],
    event_hash: &[u8],
    packet_id: &[u8],
    from: &Remote,
    stream_from: &Option<PeerId>,
) -> Vec<(&'a str, JsValue)> {
    vec![
        ("clusterId", h(cluster_id)),
        ("subclusterId", h(subcluster_id)),
        ("eventHash", h(event_hash)),
        ("packetId", h(packet_id)),
        ("from", remote_json(from)),
        ("streamFrom", opt(stream_from.as_ref(), pid)),
    ]
}

/// An event as written in a flow: `{"type": name, …fields}`, byte fields
/// in hex, remotes as `ip:port`, sockets as `main` / `probe` / `pool:N`.
pub fn event_json(e: &Event) -> JsValue {
    let ev = |t: &str, mut rest: Vec<(&str, JsValue)>| {
        rest.insert(0, ("type", s(t)));
        obj(rest)
    };
    match e {
        Event::Ready {
            nat: t,
            address,
            port,
        } => ev(
            "Ready",
            vec![
                ("nat", nat(*t)),
                ("address", opt(*address, |a| s(&a.to_string()))),
                ("port", opt(*port, n)),
            ],
        ),
        Event::NatChange { old, new } => {
            ev("NatChange", vec![("old", nat(*old)), ("new", nat(*new))])
        }
        Event::Connection {
            peer_id,
            remote,
            nat: t,
            proxy,
            socket,
        } => ev(
            "Connection",
            vec![
                ("peerId", pid(peer_id)),
                ("remote", remote_json(remote)),
                ("nat", n(t.0)),
                ("proxy", opt(proxy.as_ref(), pid)),
                ("socket", socket_json(*socket)),
            ],
        ),
        Event::Disconnection { peer_id, reason } => ev(
            "Disconnection",
            vec![
                ("peerId", pid(peer_id)),
                ("reason", s(&format!("{reason:?}"))),
            ],
        ),
        Event::Join {
            cluster_id,
            subcluster_id,
            peer_id,
        } => ev(
            "Join",
            vec![
                ("clusterId", h(cluster_id)),
                ("subclusterId", h(subcluster_id)),
                ("peerId", pid(peer_id)),
            ],
        ),
        Event::Intro {
            peer_id,
            remote,
            nat: t,
            introducer,
            strategy,
            rendezvous,
        } => ev(
            "Intro",
            vec![
                ("peerId", pid(peer_id)),
                ("remote", remote_json(remote)),
                ("nat", n(t.0)),
                ("introducer", pid(introducer)),
                ("strategy", n(*strategy as u8)),
                ("rendezvous", JsValue::Bool(*rendezvous)),
            ],
        ),
        Event::OpenPoolSockets { sockets } | Event::ClosePoolSockets { sockets } => ev(
            if matches!(e, Event::OpenPoolSockets { .. }) {
                "OpenPoolSockets"
            } else {
                "ClosePoolSockets"
            },
            vec![(
                "sockets",
                JsValue::Array(sockets.iter().map(|x| socket_json(*x)).collect()),
            )],
        ),
        Event::Closed => ev("Closed", vec![]),
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
        } => {
            let mut f = delivery(
                cluster_id,
                subcluster_id,
                event_hash,
                packet_id,
                from,
                stream_from,
            );
            f.extend([
                ("payload", h(payload)),
                ("headId", opt(head_id.as_ref(), |x| h(x))),
                ("publisher", h(publisher)),
                ("hops", n(*hops)),
            ]);
            ev("Packet", f)
        }
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
        } => {
            let mut f = delivery(
                cluster_id,
                subcluster_id,
                event_hash,
                packet_id,
                from,
                stream_from,
            );
            f.extend([
                ("payload", h(payload)),
                ("publisher", h(publisher)),
                ("reason", s(&format!("{reason:?}"))),
            ]);
            ev("Unverified", f)
        }
        Event::Unopenable {
            cluster_id,
            subcluster_id,
            event_hash,
            packet_id,
            error,
            from,
            stream_from,
        } => {
            let mut f = delivery(
                cluster_id,
                subcluster_id,
                event_hash,
                packet_id,
                from,
                stream_from,
            );
            f.push(("error", s(&error.to_string())));
            ev("Unopenable", f)
        }
        Event::Query {
            query_id,
            question,
            from,
        } => ev(
            "Query",
            vec![
                ("queryId", h(query_id)),
                ("question", h(question)),
                ("from", remote_json(from)),
            ],
        ),
        Event::Answer {
            query_id,
            packet_id,
            index,
            message,
            from,
        } => ev(
            "Answer",
            vec![
                ("queryId", h(query_id)),
                ("packetId", h(packet_id)),
                ("index", n(*index)),
                ("message", h(message)),
                ("from", remote_json(from)),
            ],
        ),
        Event::SyncFinished { remote, prefix } => ev(
            "SyncFinished",
            vec![("remote", remote_json(remote)), ("prefix", s(prefix))],
        ),
        other => ev("Unknown", vec![("debug", s(&format!("{other:?}")))]),
    }
}

// ---------------------------------------------------------------------------
// Replay

/// Replays one flow (`{name, config, seed, start, steps}`): a fresh Peer
/// from the config and seed at `start`, then every step's input at its
/// `at`, each compared with its `expect`.
pub fn replay(flow: &JsValue) -> Outcome {
    match replay_inner(flow) {
        Ok(()) => Outcome::Pass,
        Err(o) => o,
    }
}

/// A key outside `keys` is a format error.
fn only_keys(v: &JsValue, keys: &[&str], path: &str) -> Result<(), Outcome> {
    let o = v
        .as_object()
        .ok_or_else(|| read::bad(path, "expected an object"))?;
    for (k, _) in o.iter() {
        let k = k.to_string_lossy();
        if !keys.contains(&k.as_ref()) {
            return Err(read::bad(&format!("{path}.{k}"), "unknown key"));
        }
    }
    Ok(())
}

fn replay_inner(flow: &JsValue) -> Result<(), Outcome> {
    only_keys(
        flow,
        &["name", "note", "config", "seed", "start", "steps"],
        "flow",
    )?;
    let fc = read::field(flow, "config", "flow", FlowConfig::from_json)?;
    let seed = read::field(flow, "seed", "flow", id32)?;
    let start = read::field(flow, "start", "flow", u64::from_json)?;
    let steps = read::field(flow, "steps", "flow", read::array)?;
    // The inputs are read before the Peer runs: a format error is never a
    // half-replayed flow.
    let mut inputs = Vec::with_capacity(steps.len());
    for (i, st) in steps.iter().enumerate() {
        let p = format!("steps[{i}]");
        only_keys(st, &["at", "input", "expect"], &p)?;
        let at = read::field(st, "at", &p, u64::from_json)?;
        let input = read::field(st, "input", &p, Input::from_json)?;
        let expect = read::req(st, "expect", &p)?;
        inputs.push((at, input, expect));
    }
    let mut peer = Peer::new(fc.config.clone(), Instant(start), seed)
        .map_err(|e| Outcome::Fail(format!("Peer::new refused the config: {e}")))?;
    let mut last = start;
    for (i, (at, input, expect)) in inputs.into_iter().enumerate() {
        if at < last {
            return Err(read::bad(&format!("steps[{i}].at"), "time goes backwards"));
        }
        last = at;
        let ours = step(&mut peer, &fc.config, Instant(at), &input);
        compare(
            &ours,
            expect,
            &format!("steps[{i}] (at {at}, {})", input_name(&input)),
        )?;
    }
    Ok(())
}

fn input_name(i: &Input) -> String {
    match Input::to_json(i).get("kind").and_then(JsValue::as_str) {
        Some(k) => k.to_string(),
        None => "?".into(),
    }
}

/// Compares a step's outputs with its expectation, naming the first
/// difference.
fn compare(ours: &JsValue, expect: &JsValue, at: &str) -> Result<(), Outcome> {
    only_keys(
        expect,
        &["result", "transmits", "events", "timeout"],
        &format!("{at}.expect"),
    )?;
    for key in ["result", "transmits", "events", "timeout"] {
        let (o, e) = (ours.get(key), expect.get(key));
        if key != "result" && e.is_none() {
            return Err(read::bad(&format!("{at}.expect.{key}"), "missing"));
        }
        if stringify_opt(o) == stringify_opt(e) {
            continue;
        }
        let detail = match (o.and_then(JsValue::as_array), e.and_then(JsValue::as_array)) {
            (Some(a), Some(b)) => {
                let k = a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| stringify(x) != stringify(y));
                match k {
                    Some(k) => format!(
                        "{key}[{k}]: ours {} expected {}",
                        stringify(&a[k]),
                        stringify(&b[k])
                    ),
                    None => format!("{key}: ours {} entries, expected {}", a.len(), b.len()),
                }
            }
            _ => format!(
                "{key}: ours {} expected {}",
                stringify_opt(o),
                stringify_opt(e)
            ),
        };
        return Err(Outcome::Fail(format!("{at}: {detail}")));
    }
    Ok(())
}

fn stringify_opt(v: Option<&JsValue>) -> String {
    v.map_or_else(|| "absent".into(), stringify)
}

/// The transmits of a step's outputs (as [`step`] wrote them).
pub fn transmits_of(expect: &JsValue) -> Vec<(SocketId, Remote, Vec<u8>)> {
    let list = expect
        .get("transmits")
        .and_then(JsValue::as_array)
        .unwrap_or_default();
    list.iter()
        .filter_map(|t| {
            Some((
                read::field(t, "socket", "t", read_socket).ok()?,
                read::field(t, "remote", "t", read_remote).ok()?,
                read::field(t, "hex", "t", read::bytes).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snake(camel: &str) -> String {
        let mut s = String::new();
        for c in camel.chars() {
            if c.is_ascii_uppercase() {
                s.push('_');
                s.push(c.to_ascii_lowercase());
            } else {
                s.push(c);
            }
        }
        s
    }

    /// The field names of a struct's `Debug` text (nested structs' too).
    fn debug_fields(text: &str) -> std::collections::BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .filter_map(|w| w.strip_suffix(':'))
            .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .map(String::from)
            .collect()
    }

    /// Every field of every config struct is written, and reads back to the
    /// same config, in both profiles (a field the JSON forgets would keep
    /// the reference profile's value and fail here for the improved one).
    #[test]
    fn a_config_goes_through_json_and_back_whole() {
        for profile in [Profile::Reference, Profile::Improved] {
            let mut c = Config::with_profile(&"ab".repeat(32), Some([7; 32]), profile);
            c.nat_type = Some(NatType(7));
            c.public_address = Some("203.0.113.5:40000".parse().unwrap());
            c.introducers.push(Introducer {
                peer_id: PeerId([1; 32]),
                remote: Remote::Udp("198.51.100.1:9000".parse().unwrap()),
            });
            c.signing_keys = Some(create_key_pair("k").unwrap());
            let fc = FlowConfig {
                config: c.clone(),
                signing_seed: Some("k".into()),
            };
            let json = fc.to_json();
            let back = FlowConfig::from_json(&json, "config").unwrap();
            assert_eq!(
                format!("{:?}", back.config),
                format!("{c:?}"),
                "{profile:?}"
            );
            for (name, debug) in [
                ("limits", format!("{:?}", c.limits)),
                ("quotas", format!("{:?}", c.quotas)),
                ("expiry", format!("{:?}", c.expiry)),
                ("timings", format!("{:?}", c.timings)),
                ("fanout", format!("{:?}", c.fanout)),
                ("behaviour", format!("{:?}", c.behaviour)),
            ] {
                let mut want = debug_fields(&debug);
                want.remove("reassembly");
                let o = json.get(name).and_then(JsValue::as_object).unwrap();
                let have: std::collections::BTreeSet<String> = o
                    .keys()
                    .map(|k| snake(&k.to_string_lossy()).replace("reassembly_", ""))
                    .collect();
                assert_eq!(have, want, "{name}: the JSON and the struct differ");
            }
        }
    }
}
