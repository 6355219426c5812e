//! What a run measures, and averages over seeds.
//!
//! Definitions:
//!
//! * A subscriber is **eligible** for a message if it was online with its
//!   NAT type known at some moment between the publish and the query phase
//!   (it could have received the message); its delivery time is counted
//!   from the later of the publish and that moment.
//! * A subscriber is **live** if it is still online, NAT type known, when
//!   the query phase starts (at the end of a run without one): the
//!   "correct processes" of broadcast reliability.
//! * **delivered_before_query**: live eligible subscribers that got the
//!   message before the query phase ÷ live eligible subscribers.
//! * **delivered_after_query**: live eligible subscribers that had it at the
//!   end of the run ÷ live eligible subscribers.
//! * **delivered_before_query_settled**: the same as before-query, for the
//!   live subscribers that became eligible at least 1 s ([`SETTLE_MS`])
//!   before the query phase (one that is ready 30 ms before it cannot have
//!   the message yet, whatever the protocol).
//! * **delivered_before_query_all**: the same as before-query, counting
//!   every eligible subscriber, also those that left (or fell asleep)
//!   before the query phase, possibly milliseconds after the publish.
//! * **bytes per peer**: UDP payload bytes sent by the non-introducer peers
//!   ÷ the peers that were ever online; **data bytes** count only Publish,
//!   Stream, Sync and Query datagrams (the cost of spreading messages);
//!   `mb_per_peer` is data bytes per peer in megabytes (10^6 bytes).
//! * **redundancy**: Plumtree's relative message redundancy,
//!   `m / (n - 1) - 1`, where `m` is the number of Publish datagrams of the
//!   message that reached a peer and `n` the number of peers that received
//!   it, the publisher included (0 means every peer got it exactly once).
//! * **network change**: (arrivals + departures, wakes and sleeps included)
//!   ÷ the time-averaged number of online peers, in percent; **connection
//!   change** counts the overlay's link events instead (connections and
//!   disconnections ÷ mean online).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use streamrelay::peer::{DropReason, Metrics};

use crate::nat::NetDrop;
use crate::world::{Role, World};

/// One point of the time series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Time (ms).
    pub t: u64,
    /// Peers online (introducers excluded).
    pub online: u32,
    /// Arrivals so far (wakes included).
    pub joins: u32,
    /// Departures so far (sleeps included).
    pub leaves: u32,
    /// Online subscribers eligible for the first message that have it.
    pub reached: u32,
    /// Online subscribers eligible for the first message.
    pub eligible: u32,
}

/// How long before the query phase a subscriber must have become eligible
/// to count in `delivered_before_query_settled` (ms).
pub const SETTLE_MS: u64 = 1000;

/// Counters gathered while a run goes.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    /// Per message: Publish datagrams that reached a peer.
    pub arrivals: Vec<u64>,
    /// Per message: peers that received it (publisher excluded).
    pub receivers: Vec<u64>,
    net_drops: BTreeMap<NetDrop, u64>,
    peer_drops: [u64; DropReason::COUNT],
    /// Datagrams handed to the network.
    pub datagrams_sent: u64,
    /// Datagrams sent by type byte (0: not a packet, e.g. the spray's `01`).
    pub sent_by_type: [u64; 9],
    /// Bytes sent by type byte.
    pub bytes_by_type: [u64; 9],
    /// Datagrams handed to a peer.
    pub datagrams_delivered: u64,
    /// Datagrams held back (reordered).
    pub reordered: u64,
    /// Datagrams duplicated.
    pub duplicated: u64,
    joins: u32,
    leaves: u32,
    wakes: u32,
    sleeps: u32,
    /// `Event::Connection`s.
    pub connections: u64,
    /// … of which through a proxy.
    pub proxied_connections: u64,
    /// `Event::Disconnection`s.
    pub disconnections: u64,
    /// Queries sent.
    pub queries: u64,
    ready: u64,
    ready_correct: u64,
    series: Vec<Sample>,
    /// Events processed.
    pub events: u64,
    traversals: u64,
    origin_joins: u64,
    peer_counters: BTreeMap<&'static str, u64>,
}

impl Collector {
    /// For `n_msgs` messages.
    pub fn new(n_msgs: usize) -> Self {
        Collector {
            arrivals: vec![0; n_msgs],
            receivers: vec![0; n_msgs],
            ..Collector::default()
        }
    }

    /// A datagram the network dropped.
    pub fn net_drop(&mut self, d: NetDrop) {
        *self.net_drops.entry(d).or_insert(0) += 1;
    }

    /// A peer's counters (at departure, and at the end).
    pub fn absorb_peer(&mut self, m: &Metrics, clock: u32) {
        self.origin_joins += u64::from(clock);
        for (a, b) in self.peer_drops.iter_mut().zip(m.drops.iter()) {
            *a += b;
        }
        self.traversals += m.traversals_succeeded;
        for (k, v) in [
            ("published", m.published),
            ("cached", m.cached),
            ("relayed", m.relayed),
            ("delivered", m.delivered),
            ("syncs_started", m.syncs_started),
            ("sync_packets_sent", m.sync_packets_sent),
            ("syncs_received", m.received_by_type[7]),
            ("queries_received", m.received_by_type[8]),
            ("queries_answered", m.queries_answered),
            ("answers_forwarded", m.answers_forwarded),
            ("proxy_fallbacks", m.proxy_fallbacks),
            ("traversals_exhausted", m.traversals_exhausted),
        ] {
            *self.peer_counters.entry(k).or_insert(0) += v;
        }
    }

    /// A session began.
    pub fn on_join(&mut self, _now: u64, woke: bool) {
        self.joins += 1;
        if woke {
            self.wakes += 1;
        }
    }

    /// A session ended.
    pub fn on_leave(&mut self, _now: u64, sleep: bool) {
        self.leaves += 1;
        if sleep {
            self.sleeps += 1;
        }
    }

    /// A peer learnt its NAT type (`correct`: the one its box implies).
    pub fn on_ready(&mut self, correct: bool) {
        self.ready += 1;
        if correct {
            self.ready_correct += 1;
        }
    }

    /// A point of the series.
    pub fn sample(&mut self, t: u64, online: u32, reached: u32, eligible: u32) {
        self.series.push(Sample {
            t,
            online,
            joins: self.joins,
            leaves: self.leaves,
            reached,
            eligible,
        });
    }

    /// The result of the run.
    pub fn finish(self, w: &World) -> RunResult {
        let scn = w.scenario();
        let cutoff = if scn.workload.query_at_ms > 0 {
            scn.workload.query_at_ms
        } else {
            scn.workload.end_ms + 1
        };
        let query_phase = scn.workload.query_at_ms > 0;
        let (mut eligible, mut before_all) = (0u64, 0u64);
        let (mut live, mut before, mut after) = (0u64, 0u64, 0u64);
        let (mut settled, mut settled_before) = (0u64, 0u64);
        let mut lat: Vec<u64> = Vec::new();
        let mut subs = 0u32;
        for h in &w.hosts {
            if h.role != Role::Subscriber {
                continue;
            }
            if h.participated {
                subs += 1;
            }
            // Live: still online (NAT type known) when the query phase
            // starts, or at the end of a run without one.
            let alive = if query_phase {
                h.at_query
            } else {
                h.online && h.ready
            };
            for k in 0..h.eligible.len() {
                let Some(e) = h.eligible[k] else { continue };
                eligible += 1;
                let d = h.delivered[k];
                let early = d.is_some_and(|d| d < cutoff);
                if early {
                    before_all += 1;
                    lat.push(d.unwrap_or(e).saturating_sub(e));
                }
                if alive {
                    live += 1;
                    if early {
                        before += 1;
                    }
                    if e + SETTLE_MS <= cutoff {
                        settled += 1;
                        if early {
                            settled_before += 1;
                        }
                    }
                    if d.is_some() {
                        after += 1;
                    }
                }
            }
        }
        lat.sort_unstable();
        let pct = |q: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((q * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1;
            lat[i] as f64
        };
        let mean = if lat.is_empty() {
            0.0
        } else {
            lat.iter().sum::<u64>() as f64 / lat.len() as f64
        };
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };

        let peers: Vec<&crate::world::Host> = w
            .hosts
            .iter()
            .filter(|h| h.role != Role::Introducer && h.participated)
            .collect();
        let n_peers = peers.len().max(1) as f64;
        let bytes_total: u64 = w.hosts.iter().map(|h| h.bytes_out).sum();
        let peer_bytes: u64 = peers.iter().map(|h| h.bytes_out).sum();
        let data_bytes: u64 = peers.iter().map(|h| h.data_bytes_out).sum();
        let mut per_peer: Vec<u64> = peers.iter().map(|h| h.bytes_out).collect();
        per_peer.sort_unstable();
        let steady_s: f64 = peers
            .iter()
            .map(|h| h.steady_online_ms as f64 / 1000.0)
            .sum();
        let per_s = |x: u64| {
            if steady_s > 0.0 {
                x as f64 / steady_s
            } else {
                0.0
            }
        };
        let steady_bytes_per_peer_s = per_s(peers.iter().map(|h| h.steady_bytes_out).sum());
        let steady_wakeups_per_peer_min =
            60.0 * per_s(peers.iter().map(|h| h.steady_wakeups).sum());
        let introducer_bytes: u64 = w
            .hosts
            .iter()
            .filter(|h| h.role == Role::Introducer)
            .map(|h| h.bytes_out)
            .sum();

        let mut rmr = Vec::new();
        for k in 0..self.arrivals.len() {
            if self.receivers[k] > 0 {
                rmr.push(self.arrivals[k] as f64 / self.receivers[k] as f64 - 1.0);
            }
        }
        let redundancy = if rmr.is_empty() {
            0.0
        } else {
            rmr.iter().sum::<f64>() / rmr.len() as f64
        };

        let caches: Vec<usize> = w
            .hosts
            .iter()
            .filter(|h| h.role != Role::Introducer && h.online)
            .map(|h| h.cache_len(w.plane))
            .collect();
        let cache_mean = if caches.is_empty() {
            0.0
        } else {
            caches.iter().sum::<usize>() as f64 / caches.len() as f64
        };
        let cache_max = w
            .hosts
            .iter()
            .map(|h| match w.plane {
                crate::scenario::PlaneKind::Model => h.model().cache_peak,
                crate::scenario::PlaneKind::Core => h.cache_len(w.plane),
            })
            .max()
            .unwrap_or(0) as u64;

        let mean_online = if self.series.is_empty() {
            0.0
        } else {
            self.series.iter().map(|s| s.online as f64).sum::<f64>() / self.series.len() as f64
        };
        let mut drops = BTreeMap::new();
        for (d, n) in &self.net_drops {
            drops.insert(format!("net:{}", d.name()), *n);
        }
        for r in DropReason::ALL {
            let n = self.peer_drops[r as usize];
            // The Peer counts the data plane's packets as unhandled while
            // the simulator's model handles them: not a drop.
            if n > 0 && !w.is_model_artifact(r) {
                drops.insert(format!("peer:{r:?}"), n);
            }
        }

        RunResult {
            island: None,
            scenario: scn.name.clone(),
            seed: 0,
            policy: w.policy().name().into(),
            plane: w.plane.name().into(),
            peers: peers.len() as u32,
            subscribers: subs,
            subscribers_eligible: eligible,
            subscribers_live: live,
            delivered_before_query: ratio(before, live),
            delivered_after_query: ratio(after, live),
            delivered_before_query_all: ratio(before_all, eligible),
            delivered_before_query_settled: ratio(settled_before, settled),
            mean_delivery_ms: mean,
            p50_delivery_ms: pct(0.5),
            p99_delivery_ms: pct(0.99),
            bytes_total,
            bytes_per_peer: peer_bytes as f64 / n_peers,
            bytes_per_peer_p50: per_peer.get(per_peer.len() / 2).copied().unwrap_or(0),
            bytes_per_peer_max: per_peer.last().copied().unwrap_or(0),
            introducer_bytes,
            data_bytes_per_peer: data_bytes as f64 / n_peers,
            mb_per_peer: data_bytes as f64 / n_peers / 1e6,
            redundancy,
            drops,
            cache_mean,
            cache_max,
            joins: self.joins,
            leaves: self.leaves,
            wakes: self.wakes,
            sleeps: self.sleeps,
            mean_online,
            network_change_pct: if mean_online > 0.0 {
                (self.joins + self.leaves) as f64 / mean_online * 100.0
            } else {
                0.0
            },
            connection_change_pct: if mean_online > 0.0 {
                (self.connections + self.disconnections) as f64 / mean_online * 100.0
            } else {
                0.0
            },
            connections: self.connections,
            proxied_connections: self.proxied_connections,
            disconnections: self.disconnections,
            traversals: self.traversals,
            origin_joins: self.origin_joins,
            peer_counters: self
                .peer_counters
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            queries: self.queries,
            nat_correct: ratio(self.ready_correct, self.ready),
            datagrams_sent: self.datagrams_sent,
            sent_by_type: type_map(&self.sent_by_type),
            bytes_by_type: type_map(&self.bytes_by_type),
            datagrams_delivered: self.datagrams_delivered,
            reordered: self.reordered,
            duplicated: self.duplicated,
            events: self.events,
            aborted: w.aborted.clone(),
            series: self.series,
            steady_bytes_per_peer_s,
            steady_wakeups_per_peer_min,
        }
    }
}

fn type_map(v: &[u64; 9]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for (i, n) in v.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let name = streamrelay::wire::PacketType::from_u8(i as u8)
            .map(|t| t.name())
            .unwrap_or("raw");
        m.insert(name.to_string(), *n);
    }
    m
}

/// Everything one run measured. Deterministic: the same scenario, seed and
/// policy give the same value, field for field (wall time is reported
/// elsewhere).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Fan-out policy.
    pub policy: String,
    /// Who ran the data plane: `model` (the simulator's, spec §7) or `core`.
    pub plane: String,
    /// Distinct peers that were online (introducers excluded).
    pub peers: u32,
    /// Distinct subscribers that were online.
    pub subscribers: u32,
    /// (subscriber, message) pairs that were eligible.
    pub subscribers_eligible: u64,
    /// … of which the subscriber was still online at the query phase.
    pub subscribers_live: u64,
    /// See the module documentation.
    pub delivered_before_query: f64,
    /// See the module documentation.
    pub delivered_after_query: f64,
    /// See the module documentation.
    pub delivered_before_query_all: f64,
    /// See the module documentation.
    pub delivered_before_query_settled: f64,
    /// Mean time to delivery (ms), deliveries before the query phase.
    pub mean_delivery_ms: f64,
    /// Median.
    pub p50_delivery_ms: f64,
    /// 99th percentile.
    pub p99_delivery_ms: f64,
    /// All bytes sent, introducers included.
    pub bytes_total: u64,
    /// Bytes sent per peer (introducers excluded).
    pub bytes_per_peer: f64,
    /// Median bytes sent by a peer.
    pub bytes_per_peer_p50: u64,
    /// Most bytes sent by one peer.
    pub bytes_per_peer_max: u64,
    /// Bytes the introducers sent.
    pub introducer_bytes: u64,
    /// Data-plane bytes sent per peer.
    pub data_bytes_per_peer: f64,
    /// The same in megabytes.
    pub mb_per_peer: f64,
    /// Relative message redundancy (Plumtree).
    pub redundancy: f64,
    /// Dropped datagrams by cause (`net:*` the network, `peer:*` the Peer).
    pub drops: BTreeMap<String, u64>,
    /// Mean cached packets per online peer at the end.
    pub cache_mean: f64,
    /// Largest cache seen.
    pub cache_max: u64,
    /// Sessions begun (wakes included).
    pub joins: u32,
    /// Sessions ended (sleeps included).
    pub leaves: u32,
    /// Wakes from sleep.
    pub wakes: u32,
    /// Sleeps.
    pub sleeps: u32,
    /// Time-averaged online peers.
    pub mean_online: f64,
    /// (joins + leaves) ÷ mean online, %.
    pub network_change_pct: f64,
    /// (`Event::Connection`s + `Event::Disconnection`s) ÷ mean online, %:
    /// churn of the overlay's links rather than of its members.
    pub connection_change_pct: f64,
    /// `Event::Connection`s.
    pub connections: u64,
    /// … through a proxy.
    pub proxied_connections: u64,
    /// `Event::Disconnection`s.
    pub disconnections: u64,
    /// Hard-NAT traversals that succeeded.
    pub traversals: u64,
    /// Joins multicast by their joiners (the Join clocks).
    pub origin_joins: u64,
    /// The Peers' own data-plane counters, summed (`Metrics`).
    pub peer_counters: BTreeMap<String, u64>,
    /// Queries sent.
    pub queries: u64,
    /// Share of peers whose reflected NAT type matched their box.
    pub nat_correct: f64,
    /// Datagrams sent.
    pub datagrams_sent: u64,
    /// Datagrams sent by packet type (`raw`: not a packet).
    pub sent_by_type: BTreeMap<String, u64>,
    /// Bytes sent by packet type.
    pub bytes_by_type: BTreeMap<String, u64>,
    /// Datagrams that reached a socket.
    pub datagrams_delivered: u64,
    /// Datagrams reordered.
    pub reordered: u64,
    /// Datagrams duplicated.
    pub duplicated: u64,
    /// Events processed.
    pub events: u64,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// Time series (network size, subscribers reached).
    pub series: Vec<Sample>,
    /// Bytes a peer sends per second online, from `output.steady_from_ms`
    /// on (all peers' bytes over all their online seconds).
    pub steady_bytes_per_peer_s: f64,
    /// Times a peer's host wakes for `handle_timeout` per minute online,
    /// from `output.steady_from_ms` on.
    pub steady_wakeups_per_peer_min: f64,
    /// The island's measurements (scenarios with `[island]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub island: Option<crate::world::IslandReport>,
}

/// Mean and standard deviation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (population).
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Stat {
    /// Of the values.
    pub fn of(v: impl IntoIterator<Item = f64>) -> Stat {
        let v: Vec<f64> = v.into_iter().collect();
        if v.is_empty() {
            return Stat::default();
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        Stat {
            mean,
            std: var.sqrt(),
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Runs of one policy over several seeds, averaged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario.
    pub scenario: String,
    /// Policy.
    pub policy: String,
    /// Data plane.
    pub plane: String,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Mean over seeds of each run's value.
    pub delivered_before_query: f64,
    /// Mean.
    pub delivered_after_query: f64,
    /// Mean.
    pub delivered_before_query_all: f64,
    /// Mean.
    pub delivered_before_query_settled: f64,
    /// Mean.
    pub mean_delivery_ms: f64,
    /// Mean.
    pub p50_delivery_ms: f64,
    /// Mean.
    pub p99_delivery_ms: f64,
    /// Mean.
    pub bytes_per_peer: f64,
    /// Mean.
    pub data_bytes_per_peer: f64,
    /// Mean.
    pub mb_per_peer: f64,
    /// Mean.
    pub redundancy: f64,
    /// Mean.
    pub peers: f64,
    /// Mean.
    pub mean_online: f64,
    /// Mean.
    pub network_change_pct: f64,
    /// Mean.
    pub connection_change_pct: f64,
    /// Mean.
    pub cache_mean: f64,
    /// Share of runs in which every eligible subscriber got every message
    /// before the query phase.
    pub runs_all_before: f64,
    /// Share of runs with full delivery after queries.
    pub runs_all_after: f64,
    /// Spread of the before-query share over seeds.
    pub before_stat: Stat,
    /// Spread of the after-query share over seeds.
    pub after_stat: Stat,
    /// Drops by cause, summed over runs.
    pub drops: BTreeMap<String, u64>,
    /// Runs stopped early (traffic storms).
    pub aborted_runs: usize,
    /// Mean.
    pub steady_bytes_per_peer_s: f64,
    /// Mean.
    pub steady_wakeups_per_peer_min: f64,
}

impl Summary {
    /// Averages `runs` (one policy).
    pub fn of(runs: &[RunResult]) -> Summary {
        let n = runs.len().max(1) as f64;
        let m = |f: &dyn Fn(&RunResult) -> f64| runs.iter().map(f).sum::<f64>() / n;
        let mut drops = BTreeMap::new();
        for r in runs {
            for (k, v) in &r.drops {
                *drops.entry(k.clone()).or_insert(0) += v;
            }
        }
        Summary {
            scenario: runs.first().map(|r| r.scenario.clone()).unwrap_or_default(),
            policy: runs.first().map(|r| r.policy.clone()).unwrap_or_default(),
            plane: runs.first().map(|r| r.plane.clone()).unwrap_or_default(),
            seeds: runs.iter().map(|r| r.seed).collect(),
            delivered_before_query: m(&|r| r.delivered_before_query),
            delivered_after_query: m(&|r| r.delivered_after_query),
            delivered_before_query_all: m(&|r| r.delivered_before_query_all),
            delivered_before_query_settled: m(&|r| r.delivered_before_query_settled),
            mean_delivery_ms: m(&|r| r.mean_delivery_ms),
            p50_delivery_ms: m(&|r| r.p50_delivery_ms),
            p99_delivery_ms: m(&|r| r.p99_delivery_ms),
            bytes_per_peer: m(&|r| r.bytes_per_peer),
            data_bytes_per_peer: m(&|r| r.data_bytes_per_peer),
            mb_per_peer: m(&|r| r.mb_per_peer),
            redundancy: m(&|r| r.redundancy),
            peers: m(&|r| r.peers as f64),
            mean_online: m(&|r| r.mean_online),
            network_change_pct: m(&|r| r.network_change_pct),
            connection_change_pct: m(&|r| r.connection_change_pct),
            cache_mean: m(&|r| r.cache_mean),
            runs_all_before: m(&|r| f64::from(u8::from(r.delivered_before_query >= 1.0))),
            runs_all_after: m(&|r| f64::from(u8::from(r.delivered_after_query >= 1.0))),
            before_stat: Stat::of(runs.iter().map(|r| r.delivered_before_query)),
            after_stat: Stat::of(runs.iter().map(|r| r.delivered_after_query)),
            drops,
            aborted_runs: runs.iter().filter(|r| r.aborted.is_some()).count(),
            steady_bytes_per_peer_s: m(&|r| r.steady_bytes_per_peer_s),
            steady_wakeups_per_peer_min: m(&|r| r.steady_wakeups_per_peer_min),
        }
    }
}
