//! Scenarios as data: a TOML file describes the population, churn, NATs,
//! links, partitions and workload of a run. Every field has a default, so a
//! scenario only states what it changes. The built-in scenarios
//! (`sim/scenarios/*.toml`) are embedded in the binary.

use serde::{Deserialize, Serialize};
pub use streamrelay::peer::{Behaviour, Profile};

/// What a scenario runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A network of peers with churn and a publish/query workload.
    #[default]
    Network,
    /// Connection success for every pair of NAT behaviours.
    NatMatrix,
}

/// A scenario (one TOML file).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Short name (`figure-a`).
    pub name: String,
    /// One line on what it shows.
    pub description: String,
    /// Network run or NAT matrix.
    pub kind: Kind,
    /// What the published reference reports, for the summary table.
    pub published: Published,
    /// Peers, roles and churn.
    pub population: Population,
    /// NAT behaviours and their mix.
    pub nat: NatMix,
    /// Links: latency, jitter, loss, reordering, duplication.
    pub network: Network,
    /// Partitions that heal.
    pub partition: Vec<Partition>,
    /// Publishes and queries.
    pub workload: Workload,
    /// Protocol settings handed to every peer.
    pub protocol: Protocol,
    /// The NAT matrix (kind = "nat-matrix").
    pub matrix: Matrix,
    /// Sampling for plots.
    pub output: Output,
    /// An offline island of phones on Bluetooth-like links (off unless
    /// `island.phones` > 0).
    pub island: Island,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "custom".into(),
            description: String::new(),
            kind: Kind::Network,
            published: Published::default(),
            population: Population::default(),
            nat: NatMix::default(),
            network: Network::default(),
            partition: Vec::new(),
            workload: Workload::default(),
            protocol: Protocol::default(),
            matrix: Matrix::default(),
            output: Output::default(),
            island: Island::default(),
        }
    }
}

/// An island: phones with no Internet, linked to some neighbours over
/// Bluetooth-like links (a bandwidth-limited queue per direction, latency,
/// range churn), one of them (the bridge) also on the Internet now and then.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Island {
    /// Phones in the island (0: no island).
    pub phones: u32,
    /// Extra links per phone beyond the ring that keeps the island
    /// connected: each phone links to this many others of the nearest
    /// (by position on the ring, within `reach`).
    pub extra_links: u32,
    /// How far (ring positions) an extra link may reach.
    pub reach: u32,
    /// Link bandwidth per direction (bytes/s; BLE: ~20 000).
    pub bandwidth_bytes_per_s: u64,
    /// Link latency (ms, one way).
    pub latency_ms: u64,
    /// At most this much backlog per direction (ms of bandwidth); more is
    /// dropped.
    pub max_backlog_ms: u64,
    /// Range churn: a link stays up for an exponential time of this mean
    /// (ms; 0: links never go down) …
    pub link_up_mean_ms: u64,
    /// … and down for an exponential time of this mean (ms).
    pub link_down_mean_ms: u64,
    /// The bridge (phone 0) is on the Internet first at this time (ms; 0:
    /// never, the island has no bridge) …
    pub bridge_first_ms: u64,
    /// … for this long (ms) …
    pub bridge_up_ms: u64,
    /// … every this many ms.
    pub bridge_every_ms: u64,
    /// Messages published inside the island (by phones in turn, phone 0
    /// last), the first at this time (ms) …
    pub publish_at_ms: u64,
    /// … this many …
    pub messages: u32,
    /// … this far apart (ms).
    pub publish_every_ms: u64,
}

impl Default for Island {
    fn default() -> Self {
        Island {
            phones: 0,
            extra_links: 1,
            reach: 3,
            bandwidth_bytes_per_s: 20_000,
            latency_ms: 30,
            max_backlog_ms: 10_000,
            link_up_mean_ms: 0,
            link_down_mean_ms: 20_000,
            bridge_first_ms: 0,
            bridge_up_ms: 30_000,
            bridge_every_ms: 120_000,
            publish_at_ms: 10_000,
            messages: 0,
            publish_every_ms: 5_000,
        }
    }
}

/// Numbers the reference publishes for this scenario (shown beside ours).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Published {
    /// Fraction of subscribers reached before any query.
    pub delivered_before_query: Option<f64>,
    /// Fraction reached after queries.
    pub delivered_after_query: Option<f64>,
    /// Mean time to delivery (ms).
    pub mean_delivery_ms: Option<f64>,
    /// Average cost per peer in megabytes.
    pub mb_per_peer: Option<f64>,
    /// Network change (%), as the reference states it.
    pub network_change_pct: Option<f64>,
    /// Where the numbers come from.
    pub source: String,
}

/// A duration distribution (lifetimes, sleeps).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dist {
    /// `exponential`, `fixed`, `uniform` (min..max), `pareto` (mean, shape)
    /// or `forever`.
    pub dist: String,
    /// Mean (ms).
    pub mean_ms: f64,
    /// Lower bound (ms): draws are clamped up to it.
    pub min_ms: f64,
    /// Upper bound (ms) for `uniform`, and a clamp for the others (0: none).
    pub max_ms: f64,
    /// Pareto shape (> 1).
    pub shape: f64,
}

impl Default for Dist {
    fn default() -> Self {
        Dist {
            dist: "forever".into(),
            mean_ms: 0.0,
            min_ms: 0.0,
            max_ms: 0.0,
            shape: 2.0,
        }
    }
}

impl Dist {
    /// One draw (ms); `None` for `forever`.
    pub fn draw(&self, rng: &mut crate::rng::SimRng) -> Option<u64> {
        let v = match self.dist.as_str() {
            "forever" | "" => return None,
            "fixed" => self.mean_ms,
            "uniform" => self.min_ms + rng.unit() * (self.max_ms - self.min_ms).max(0.0),
            "pareto" => {
                // Pareto with the given mean: scale xm = mean (a-1)/a.
                let a = self.shape.max(1.01);
                let xm = self.mean_ms * (a - 1.0) / a;
                xm / (1.0 - rng.unit()).powf(1.0 / a)
            }
            _ => rng.exp(self.mean_ms),
        };
        let mut v = v.max(self.min_ms);
        if self.max_ms > 0.0 {
            v = v.min(self.max_ms);
        }
        Some(v.max(1.0) as u64)
    }

    /// Checked at load time.
    fn check(&self, what: &str) -> Result<(), String> {
        match self.dist.as_str() {
            "forever" | "" | "fixed" | "uniform" | "pareto" | "exponential" => Ok(()),
            d => Err(format!("{what}: unknown distribution {d:?}")),
        }
    }
}

/// Who takes part and how long they stay.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Population {
    /// Introducers: static, public, indexed, always online.
    pub introducers: u32,
    /// Peers online at the start (they arrive spread over `ramp_ms`).
    pub initial: u32,
    /// Arrival spread of the initial peers (ms).
    pub ramp_ms: u64,
    /// Poisson arrivals per second after the ramp.
    pub arrival_rate_per_s: f64,
    /// Arrivals happen in `[arrivals_from_ms, arrivals_until_ms)`.
    pub arrivals_from_ms: u64,
    /// End of arrivals (0: the end of the run).
    pub arrivals_until_ms: u64,
    /// At most this many distinct peers (0: no cap). Introducers not counted.
    pub max_peers: u32,
    /// Fraction of peers that subscribe to the published topic.
    pub subscriber_fraction: f64,
    /// Session length of a peer (publisher and introducers excepted).
    pub lifetime: Dist,
    /// When a session ends, the fraction of peers that go to sleep (a
    /// backgrounded mobile app: snapshot now, restore on wake) instead of
    /// leaving for good.
    pub sleep_fraction: f64,
    /// How long a sleeper sleeps.
    pub sleep: Dist,
    /// Whether the publisher stays online for the whole run.
    pub publisher_immortal: bool,
    /// Whether the publisher is on a public address (else it draws a NAT).
    pub publisher_public: bool,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            introducers: 2,
            initial: 16,
            ramp_ms: 1000,
            arrival_rate_per_s: 0.0,
            arrivals_from_ms: 0,
            arrivals_until_ms: 0,
            max_peers: 0,
            subscriber_fraction: 0.5,
            lifetime: Dist::default(),
            sleep_fraction: 0.0,
            sleep: Dist {
                dist: "exponential".into(),
                mean_ms: 10_000.0,
                ..Dist::default()
            },
            publisher_immortal: true,
            publisher_public: false,
        }
    }
}

/// NAT behaviours (RFC 4787 terms) a host can sit behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NatKind {
    /// No NAT: a public, static address (reflection finds UNRESTRICTED).
    Open,
    /// Endpoint-independent mapping and filtering: 31.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering: 15.
    AddrRestricted,
    /// Endpoint-independent mapping, address-and-port-dependent filtering: 7.
    PortRestricted,
    /// Endpoint-dependent mapping and filtering, random ports ("hard"): 5.
    Symmetric,
}

impl NatKind {
    /// Every kind, easiest first.
    pub const ALL: [NatKind; 5] = [
        NatKind::Open,
        NatKind::FullCone,
        NatKind::AddrRestricted,
        NatKind::PortRestricted,
        NatKind::Symmetric,
    ];

    /// The NAT type reflection should find behind it.
    pub fn expected(self) -> streamrelay::nat::NatType {
        use streamrelay::nat::NatType;
        match self {
            NatKind::Open | NatKind::FullCone => NatType::UNRESTRICTED,
            NatKind::AddrRestricted => NatType::ADDR_RESTRICTED,
            NatKind::PortRestricted => NatType::PORT_RESTRICTED,
            NatKind::Symmetric => NatType::ENDPOINT_RESTRICTED,
        }
    }

    /// Name as in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            NatKind::Open => "open",
            NatKind::FullCone => "full-cone",
            NatKind::AddrRestricted => "addr-restricted",
            NatKind::PortRestricted => "port-restricted",
            NatKind::Symmetric => "symmetric",
        }
    }

    /// Endpoint-dependent mapping.
    pub fn is_hard(self) -> bool {
        self == NatKind::Symmetric
    }
}

/// Port allocation of a NAT box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortAllocation {
    /// A random free port for every new mapping.
    #[default]
    Random,
    /// The next free port after the last one handed out.
    Sequential,
    /// The host's own port if free, else random (endpoint-independent NATs
    /// only; a symmetric NAT always allocates randomly).
    Preserve,
}

/// The NAT mix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatMix {
    /// Weight of public hosts.
    pub open: f64,
    /// Weight of full-cone NATs.
    pub full_cone: f64,
    /// Weight of address-restricted NATs.
    pub addr_restricted: f64,
    /// Weight of port-restricted NATs.
    pub port_restricted: f64,
    /// Weight of symmetric ("hard") NATs.
    pub symmetric: f64,
    /// A mapping (and the filter state it carries) lapses after this long
    /// without an outbound datagram.
    pub mapping_timeout_ms: u64,
    /// Probability that a NAT box hairpins (loops a datagram sent to its own
    /// public address back inside).
    pub hairpin: f64,
    /// Hosts sharing one NAT box (a household, an office).
    pub hosts_per_nat: u32,
    /// How NAT boxes choose public ports.
    pub port_allocation: PortAllocation,
}

impl Default for NatMix {
    fn default() -> Self {
        NatMix {
            open: 0.1,
            full_cone: 0.2,
            addr_restricted: 0.2,
            port_restricted: 0.3,
            symmetric: 0.2,
            mapping_timeout_ms: 120_000,
            hairpin: 0.0,
            hosts_per_nat: 1,
            port_allocation: PortAllocation::Random,
        }
    }
}

impl NatMix {
    /// Weights in [`NatKind::ALL`] order.
    pub fn weights(&self) -> [f64; 5] {
        [
            self.open,
            self.full_cone,
            self.addr_restricted,
            self.port_restricted,
            self.symmetric,
        ]
    }
}

/// Bursty loss: a two-state Gilbert–Elliott chain per host access link,
/// stepped once per datagram crossing it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Burst {
    /// Good → bad per datagram.
    pub p_enter: f64,
    /// Bad → good per datagram.
    pub p_leave: f64,
    /// Loss in the good state.
    pub loss_good: f64,
    /// Loss in the bad state.
    pub loss_bad: f64,
}

/// Link behaviour.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// Core one-way latency between any two hosts (ms).
    pub latency_ms: u64,
    /// Each host draws an access latency uniform in `0..=access_latency_ms`;
    /// a link's latency is core + both ends' access latencies.
    pub access_latency_ms: u64,
    /// Per-datagram extra delay, uniform in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Uniform loss probability per datagram.
    pub loss: f64,
    /// Bursty loss (off when `p_enter` is 0).
    pub burst: Burst,
    /// Probability that a datagram is held back (reordered) …
    pub reorder: f64,
    /// … by up to this long (ms).
    pub reorder_ms: u64,
    /// Probability that a datagram arrives twice.
    pub duplicate: f64,
    /// Latency between hosts behind the same NAT box (ms).
    pub lan_latency_ms: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency_ms: 20,
            access_latency_ms: 30,
            jitter_ms: 5,
            loss: 0.0,
            burst: Burst::default(),
            reorder: 0.0,
            reorder_ms: 40,
            duplicate: 0.0,
            lan_latency_ms: 1,
        }
    }
}

/// A partition: from `at_ms` to `heal_ms` the hosts are split into two
/// groups (a `fraction` of them on side B, chosen at random; introducers
/// stay on side A) and nothing crosses between them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Partition {
    /// Start (ms).
    pub at_ms: u64,
    /// Heal (ms).
    pub heal_ms: u64,
    /// Share of hosts cut off.
    pub fraction: f64,
}

/// What the application does.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// When the publisher publishes (ms).
    pub publish_at_ms: u64,
    /// Messages published (one every `publish_every_ms`).
    pub messages: u32,
    /// Gap between messages (ms).
    pub publish_every_ms: u64,
    /// Plaintext size of each message (bytes; sealing adds 160).
    pub message_bytes: usize,
    /// When subscribers that still miss a message query for it (ms; 0: no
    /// queries).
    pub query_at_ms: u64,
    /// The app asks again this many times for what is still missing …
    pub query_retries: u32,
    /// … this long apart (ms).
    pub query_retry_ms: u64,
    /// End of the run (ms).
    pub end_ms: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            publish_at_ms: 5_000,
            messages: 1,
            publish_every_ms: 1_000,
            message_bytes: 64,
            query_at_ms: 0,
            query_retries: 0,
            query_retry_ms: 2_500,
            end_ms: 20_000,
        }
    }
}

/// Who runs the data plane (publish, relay, cache, sync, query).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaneKind {
    /// The core's `Peer` (what ships).
    #[default]
    Core,
    /// The simulator's model of spec §7 beside each Peer, with switchable
    /// the core's data-plane switches, to cross-check the core.
    Model,
}

impl PlaneKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            PlaneKind::Core => "core",
            PlaneKind::Model => "model",
        }
    }
}

/// Protocol settings for every peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocol {
    /// Tick period (ms).
    pub keepalive_ms: u64,
    /// Fan-out policies to run side by side (same seed): `random` (the
    /// reference's) and `weighted` (distance/availability).
    pub policies: Vec<String>,
    /// Peer-table size limit.
    pub max_peers: usize,
    /// Who runs the data plane.
    pub plane: PlaneKind,
    /// Random targets per multicast (0: the core's default, 3).
    pub fanout_peers: usize,
    /// Safety valve: a run stops (and says so) when more events than this
    /// wait at once, rather than exhausting memory in a traffic storm.
    pub max_events_in_flight: usize,
    /// The core's protocol profile for every peer: `improved` (the
    /// default) or `reference` (the protocol as the reference runs it).
    pub profile: Profile,
    /// Single behaviour switches over the profile's
    /// (`protocol.behaviour.heartbeat_peers = 8`): the names and types of
    /// the core's `Behaviour`.
    pub behaviour: toml::Table,
}

impl Protocol {
    /// The core behaviour every peer gets: the profile's switches with the
    /// scenario's overrides.
    pub fn resolved_behaviour(&self) -> Result<Behaviour, String> {
        let mut v = serde_json::to_value(self.profile.behaviour()).map_err(|e| e.to_string())?;
        let over = serde_json::to_value(&self.behaviour).map_err(|e| e.to_string())?;
        if let (Some(base), Some(over)) = (v.as_object_mut(), over.as_object()) {
            for (k, x) in over {
                base.insert(k.clone(), x.clone());
            }
        }
        serde_json::from_value(v).map_err(|e| format!("protocol.behaviour: {e}"))
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            keepalive_ms: 30_000,
            policies: vec!["random".into(), "weighted".into()],
            max_peers: 256,
            plane: PlaneKind::Core,
            fanout_peers: 0,
            max_events_in_flight: 8_000_000,
            profile: Profile::Improved,
            behaviour: toml::Table::new(),
        }
    }
}

/// The NAT matrix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matrix {
    /// Kinds on each axis.
    pub kinds: Vec<NatKind>,
    /// Trials (seeds) per pair.
    pub trials: u32,
    /// How long a pair may take (ms).
    pub timeout_ms: u64,
}

impl Default for Matrix {
    fn default() -> Self {
        Matrix {
            kinds: NatKind::ALL.to_vec(),
            trials: 4,
            timeout_ms: 40_000,
        }
    }
}

/// Sampling.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// Time-series sampling period (ms).
    pub sample_ms: u64,
    /// The steady-state metrics (`steady_bytes_per_peer_s`,
    /// `steady_wakeups_per_peer_min`) count from this time on.
    pub steady_from_ms: u64,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            sample_ms: 250,
            steady_from_ms: 0,
        }
    }
}

/// The built-in scenarios: (name, TOML text).
pub const BUILTIN: [(&str, &str); 5] = [
    ("figure-a", include_str!("../scenarios/figure-a.toml")),
    ("ratio", include_str!("../scenarios/ratio.toml")),
    ("nat-matrix", include_str!("../scenarios/nat-matrix.toml")),
    ("scale", include_str!("../scenarios/scale.toml")),
    ("idle", include_str!("../scenarios/idle.toml")),
];

impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        let s: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| Scenario::from_toml(t).expect("built-in scenarios parse"))
    }

    /// A built-in scenario by name, or a TOML file, with `key=value`
    /// overrides (`population.initial=50`, `protocol.profile=reference`,
    /// `protocol.behaviour.join_relay_hops=2`; the
    /// value is TOML, a bare word is taken as a string).
    pub fn load(name_or_path: &str, overrides: &[String]) -> Result<Scenario, String> {
        let text = match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, t)) => (*t).to_string(),
            None => std::fs::read_to_string(name_or_path).map_err(|e| {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                format!(
                    "{name_or_path}: {e} (built-in scenarios: {})",
                    names.join(", ")
                )
            })?,
        };
        let mut table: toml::Table =
            toml::from_str(&text).map_err(|e| format!("{name_or_path}: {e}"))?;
        for s in overrides {
            let (key, value) = s
                .split_once('=')
                .ok_or_else(|| format!("override {s:?}: expected KEY=VALUE"))?;
            let value: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
                Ok(mut t) => t.remove("v").unwrap_or(toml::Value::Boolean(false)),
                Err(_) => toml::Value::String(value.to_string()),
            };
            let parts: Vec<&str> = key.trim().split('.').collect();
            let mut cur = &mut table;
            for p in &parts[..parts.len() - 1] {
                let entry = cur
                    .entry(p.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                cur = entry
                    .as_table_mut()
                    .ok_or_else(|| format!("override {s:?}: {p} is not a table"))?;
            }
            cur.insert(parts[parts.len() - 1].to_string(), value);
        }
        let s: Scenario = table
            .try_into()
            .map_err(|e: toml::de::Error| format!("{name_or_path}: {e}"))?;
        s.check()?;
        Ok(s)
    }

    /// The scenario as TOML (every field, defaults included).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Sanity checks that serde cannot express.
    pub fn check(&self) -> Result<(), String> {
        self.protocol.resolved_behaviour()?;
        self.population.lifetime.check("population.lifetime")?;
        self.population.sleep.check("population.sleep")?;
        let i = &self.island;
        if i.phones > 0 && (i.bandwidth_bytes_per_s == 0 || i.bridge_every_ms < i.bridge_up_ms) {
            return Err(
                "island: bandwidth_bytes_per_s must be positive and bridge_every_ms at least bridge_up_ms"
                    .into(),
            );
        }
        let p = &self.population;
        if self.kind == Kind::Network && p.introducers == 0 {
            return Err("population.introducers must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&p.subscriber_fraction) {
            return Err("population.subscriber_fraction must be in [0, 1]".into());
        }
        if self.nat.weights().iter().all(|w| *w <= 0.0) {
            return Err("nat: at least one weight must be positive".into());
        }
        if self.nat.hosts_per_nat == 0 {
            return Err("nat.hosts_per_nat must be at least 1".into());
        }
        if self.workload.end_ms == 0 {
            return Err("workload.end_ms must be positive".into());
        }
        for pol in &self.protocol.policies {
            crate::plane::FanoutPolicy::parse(pol)?;
        }
        if self.protocol.policies.is_empty() {
            return Err("protocol.policies: name at least one".into());
        }
        if self.output.sample_ms == 0 {
            return Err("output.sample_ms must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN {
            let s = Scenario::builtin(name).unwrap();
            assert_eq!(s.name, name);
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(Scenario::from_toml("nmae = \"x\"").is_err());
        assert!(Scenario::from_toml("[population]\nlifetime = { dist = \"weird\" }").is_err());
    }
}
