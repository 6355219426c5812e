//! The discrete-event world: hosts running `Peer`s behind NAT boxes, a
//! virtual clock, one event queue ordered by (time, sequence number), and
//! one seeded generator.
//!
//! A run has two phases. **Planning** draws the whole population from the
//! generator before anything happens (who arrives when, for how long, as
//! what role, behind which NAT, with which seed), so two fan-out policies
//! run with the same seed face the same population. **Simulation** then pops
//! events in order: datagram arrivals, peer timers (each host keeps one
//! wake-up at the time its `Peer::poll_timeout` asks for), arrivals and
//! departures, sleeps and wakes, publishes, the query phase, partitions,
//! and samples for the plots. Latency, jitter, loss, reordering,
//! duplication and NAT port allocation are drawn as datagrams are sent.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use streamrelay::crypto::identity::{create_key_pair, create_shared_key, subcluster_id, SharedKey};
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, DropReason, Event, Instant, Introducer, Peer, PeerId, PublishOptions, Remote, SocketId,
};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::PacketType;

use crate::metrics::{Collector, RunResult};
use crate::nat::{NatBox, NetDrop};
use crate::plane::{Ctx, FanoutPolicy, ModelPeer, Out};
use crate::queue::EventQueue;
use crate::rng::SimRng;
use crate::scenario::{NatKind, PlaneKind, Scenario};

/// What a host does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A static, public, indexed peer.
    Introducer,
    /// Publishes the workload's messages (a member of the topic).
    Publisher,
    /// A member of the topic: the messages are for it.
    Subscriber,
    /// A member of another subcluster of the same cluster: relays only.
    Bystander,
}

/// One planned session: online from `start` until `end` (`None`: to the
/// end of the run); `sleep` says whether it ends in sleep (snapshot) rather
/// than a departure for good.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    /// Arrival (or wake) time.
    pub start: u64,
    /// Departure (or sleep) time.
    pub end: Option<u64>,
    /// Ends by going to sleep.
    pub sleep: bool,
}

/// A simulated device.
pub struct Host {
    /// Its role.
    pub role: Role,
    /// The NAT it sits behind.
    pub kind: NatKind,
    /// Its NAT box (site).
    pub site: u32,
    /// Its own address (private behind a NAT, public when open).
    pub ip: Ipv4Addr,
    config: Config,
    seed: [u8; 32],
    /// Planned sessions.
    pub sessions: Vec<Session>,
    session: usize,
    peer: Option<Box<Peer>>,
    snapshot: Option<Vec<u8>>,
    model: ModelPeer,
    sockets: BTreeMap<SocketId, u16>,
    ports: BTreeMap<u16, SocketId>,
    next_port: u16,
    fixed_main_port: Option<u16>,
    wake: Option<u64>,
    /// Whether it is online now.
    pub online: bool,
    /// Whether its NAT type is known in this session.
    pub ready: bool,
    /// Bytes it sent (all datagrams, UDP payload).
    pub bytes_out: u64,
    /// Bytes of data-plane packets (Publish, Sync, Query) it sent.
    pub data_bytes_out: u64,
    /// Datagrams it sent.
    pub datagrams_out: u64,
    /// Bytes it sent from `output.steady_from_ms` on.
    pub steady_bytes_out: u64,
    /// Times the host woke for `handle_timeout` from `output.steady_from_ms` on.
    pub steady_wakeups: u64,
    /// Milliseconds it was online from `output.steady_from_ms` on.
    pub steady_online_ms: u64,
    /// Since when it is online (this session).
    online_since: u64,
    /// Bytes it received.
    pub bytes_in: u64,
    /// Per message: when it became able to receive it (ready and online at
    /// or after the publish, before the query phase).
    pub eligible: Vec<Option<u64>>,
    /// Per message: first delivery to the app.
    pub delivered: Vec<Option<u64>>,
    /// Per message: the message reached this host at all (as a relay too).
    pub got: Vec<bool>,
    /// Whether it was ever online.
    pub participated: bool,
    /// Online and ready when the query phase began.
    pub at_query: bool,
}

impl Host {
    /// Its peer, when online.
    pub fn peer(&self) -> Option<&Peer> {
        self.peer.as_deref()
    }

    /// Its data-plane model.
    pub fn model(&self) -> &ModelPeer {
        &self.model
    }

    /// Packets in its cache (the Peer's, or the model's).
    pub fn cache_len(&self, plane: PlaneKind) -> usize {
        match plane {
            PlaneKind::Core => self.peer().map_or(0, |p| p.occupancy().cache_packets),
            PlaneKind::Model => self.model.cache_len(),
        }
    }
}

#[derive(Debug)]
enum Ev {
    Dgram {
        to: SocketAddrV4,
        from: SocketAddrV4,
        bytes: Vec<u8>,
        lan: bool,
    },
    Timer(u32),
    Arrive(u32),
    Depart(u32),
    Publish(u32),
    QueryPhase,
    Sample,
    PartitionStart(usize),
    PartitionHeal,
    Sweep,
}

/// The plaintext a publisher sends: a recognisable text padded to the
/// scenario's size.
pub fn message_bytes(k: u32, size: usize) -> Vec<u8> {
    let mut m = format!("streamrelay-sim message {k};").into_bytes();
    m.resize(size.max(m.len()), b'.');
    m
}

/// Which message a delivered plaintext is.
pub fn message_index(payload: &[u8]) -> Option<usize> {
    let rest = payload.strip_prefix(b"streamrelay-sim message ")?;
    let end = rest.iter().position(|&b| b == b';')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// The cluster every simulated app is in.
pub const CLUSTER: [u8; 32] = [0x5a; 32];

const PUBLIC_BASE: u32 = u32::from_be_bytes([100, 64, 0, 0]);
const PRIVATE_BASE: u32 = u32::from_be_bytes([10, 0, 0, 0]);
const INTRODUCER_PORT: u16 = 10_000;

fn box_ip(b: u32) -> Ipv4Addr {
    Ipv4Addr::from(PUBLIC_BASE + 1 + b)
}

fn host_private_ip(h: u32) -> Ipv4Addr {
    Ipv4Addr::from(PRIVATE_BASE + 1 + h)
}

/// A simulation of one scenario with one seed and one policy.
pub struct World {
    scn: Scenario,
    policy: FanoutPolicy,
    /// Who runs the data plane.
    pub plane: PlaneKind,
    /// The core behaviour every peer runs (profile and overrides).
    behaviour: crate::scenario::Behaviour,
    /// Virtual time (ms).
    pub now: u64,
    rng: SimRng,
    queue: EventQueue<Ev>,
    /// Set when the run was stopped early (a traffic storm that would not
    /// fit in memory).
    pub aborted: Option<String>,
    scratch_events: Vec<Event>,
    scratch_transmits: Vec<streamrelay::peer::Transmit>,
    /// Hosts, introducers first.
    pub hosts: Vec<Host>,
    /// NAT boxes (sites).
    pub boxes: Vec<NatBox>,
    box_access_ms: Vec<u64>,
    box_bad: Vec<bool>,
    topic_key: SharedKey,
    topic: [u8; 32],
    lobby_key: SharedKey,
    /// Per message: its packetId once published.
    pub message_ids: Vec<Option<[u8; 32]>>,
    /// Per message: publish time.
    pub published_at: Vec<Option<u64>>,
    pid_index: BTreeMap<[u8; 32], usize>,
    /// What the run measured.
    pub stats: Collector,
    end: u64,
    events_processed: u64,
}

impl World {
    /// Plans the population of `scn` with `seed` and sets up the run.
    pub fn new(scn: &Scenario, seed: u64, policy: FanoutPolicy) -> World {
        let mut w = World::new_empty(scn, policy);
        let mut rng = SimRng::new(seed);
        w.plan(&mut rng);
        w.rng = rng;
        w
    }

    fn new_empty(scn: &Scenario, policy: FanoutPolicy) -> World {
        let topic_key = create_shared_key("streamrelay-sim topic").expect("static seed");
        let lobby_key = create_shared_key("streamrelay-sim lobby").expect("static seed");
        let topic = subcluster_id(&topic_key);
        let n_msgs = scn.workload.messages as usize;
        World {
            scn: scn.clone(),
            policy,
            plane: scn.protocol.plane,
            behaviour: scn
                .protocol
                .resolved_behaviour()
                .expect("checked when the scenario was loaded"),
            now: 0,
            rng: SimRng::new(0),
            queue: EventQueue::new(),
            aborted: None,
            scratch_events: Vec::new(),
            scratch_transmits: Vec::new(),
            hosts: Vec::new(),
            boxes: Vec::new(),
            box_access_ms: Vec::new(),
            box_bad: Vec::new(),
            topic_key,
            topic,
            lobby_key,
            message_ids: vec![None; n_msgs],
            published_at: vec![None; n_msgs],
            pid_index: BTreeMap::new(),
            stats: Collector::new(n_msgs),
            end: scn.workload.end_ms,
            events_processed: 0,
        }
    }

    // -----------------------------------------------------------------
    // Planning
    // -----------------------------------------------------------------

    fn new_box(&mut self, rng: &mut SimRng, kind: NatKind) -> u32 {
        let b = self.boxes.len() as u32;
        let hairpin = kind != NatKind::Open && rng.chance(self.scn.nat.hairpin);
        self.boxes.push(NatBox::new(
            kind,
            box_ip(b),
            hairpin,
            self.scn.nat.mapping_timeout_ms,
            self.scn.nat.port_allocation,
        ));
        self.box_access_ms
            .push(rng.range(0, self.scn.network.access_latency_ms));
        self.box_bad.push(false);
        b
    }

    fn plan_introducers(&mut self, rng: &mut SimRng) -> Vec<Introducer> {
        let scn = self.scn.clone();
        let n_msgs = scn.workload.messages as usize;
        let mut intro_list = Vec::new();
        for _ in 0..scn.population.introducers {
            let id = PeerId(rng.bytes32());
            let seed = rng.bytes32();
            let b = self.new_box(rng, NatKind::Open);
            let ip = self.boxes[b as usize].public_ip;
            let addr = SocketAddr::V4(SocketAddrV4::new(ip, INTRODUCER_PORT));
            let mut c = Config::new(&id.to_hex(), None);
            c.behaviour = self.behaviour.clone();
            c.indexed = true;
            c.nat_type = Some(NatType::UNRESTRICTED);
            c.public_address = Some(addr);
            c.keepalive_ms = scn.protocol.keepalive_ms;
            c.limits.max_peers = scn.protocol.max_peers;
            c.fanout.policy = self.policy.core();
            intro_list.push(Introducer {
                peer_id: id,
                remote: Remote::Udp(addr),
            });
            self.push_host(
                Role::Introducer,
                NatKind::Open,
                b,
                c,
                seed,
                vec![Session {
                    start: 0,
                    end: None,
                    sleep: false,
                }],
                Some(INTRODUCER_PORT),
                n_msgs,
            );
        }
        intro_list
    }

    fn site_for(
        &mut self,
        rng: &mut SimRng,
        kind: NatKind,
        shared: &mut BTreeMap<NatKind, u32>,
    ) -> u32 {
        let per = self.scn.nat.hosts_per_nat;
        if kind == NatKind::Open || per <= 1 {
            return self.new_box(rng, kind);
        }
        match shared.get(&kind) {
            Some(&b) if (self.boxes[b as usize].hosts.len() as u32) < per => b,
            _ => {
                let b = self.new_box(rng, kind);
                shared.insert(kind, b);
                b
            }
        }
    }

    fn plan_peer(
        &mut self,
        rng: &mut SimRng,
        intro_list: &[Introducer],
        role: Role,
        kind: NatKind,
        site: u32,
        sessions: Vec<Session>,
    ) {
        let id = PeerId(rng.bytes32());
        let seed = rng.bytes32();
        let mut c = Config::new(&id.to_hex(), Some(CLUSTER));
        c.behaviour = self.behaviour.clone();
        c.introducers = intro_list.to_vec();
        c.keepalive_ms = self.scn.protocol.keepalive_ms;
        c.limits.max_peers = self.scn.protocol.max_peers;
        c.fanout.policy = self.policy.core();
        c.auto_sync = self.plane == PlaneKind::Core;
        if self.scn.protocol.fanout_peers > 0 {
            c.fanout.peers = self.scn.protocol.fanout_peers;
        }
        if role == Role::Publisher {
            c.signing_keys = Some(create_key_pair(&seed).expect("32-byte seed"));
        }
        let n_msgs = self.scn.workload.messages as usize;
        self.push_host(role, kind, site, c, seed, sessions, None, n_msgs);
    }

    fn plan(&mut self, rng: &mut SimRng) {
        let scn = self.scn.clone();
        let pop = &scn.population;
        let end = scn.workload.end_ms;
        let intro_list = self.plan_introducers(rng);
        // Arrival times of ordinary peers: the publisher first, the initial
        // population over the ramp, then Poisson arrivals.
        let mut arrivals: Vec<u64> = vec![0];
        for _ in 0..pop.initial {
            arrivals.push(rng.range(0, pop.ramp_ms));
        }
        if pop.arrival_rate_per_s > 0.0 {
            let until = if pop.arrivals_until_ms == 0 {
                end
            } else {
                pop.arrivals_until_ms.min(end)
            };
            let mut t = pop.arrivals_from_ms.max(pop.ramp_ms) as f64;
            loop {
                t += rng.exp(1000.0 / pop.arrival_rate_per_s);
                if t >= until as f64 {
                    break;
                }
                arrivals.push(t as u64);
            }
        }
        arrivals[1..].sort_unstable();
        if pop.max_peers > 0 {
            arrivals.truncate(pop.max_peers as usize);
        }
        let weights = scn.nat.weights();
        let mut shared: BTreeMap<NatKind, u32> = BTreeMap::new();
        for (i, &start) in arrivals.iter().enumerate() {
            let role = if i == 0 {
                Role::Publisher
            } else if rng.chance(pop.subscriber_fraction) {
                Role::Subscriber
            } else {
                Role::Bystander
            };
            let kind = if role == Role::Publisher && pop.publisher_public {
                NatKind::Open
            } else {
                NatKind::ALL[rng.weighted(&weights)]
            };
            let site = self.site_for(rng, kind, &mut shared);
            let mut sessions = Vec::new();
            let mut s = start;
            loop {
                let life = if role == Role::Publisher && pop.publisher_immortal {
                    None
                } else {
                    pop.lifetime.draw(rng)
                };
                let e = life.map(|l| s + l).filter(|&e| e < end);
                let sleep = e.is_some() && rng.chance(pop.sleep_fraction);
                sessions.push(Session {
                    start: s,
                    end: e,
                    sleep,
                });
                match (e, sleep) {
                    (Some(e), true) => {
                        let d = pop.sleep.draw(rng).unwrap_or(u64::MAX / 4);
                        s = e.saturating_add(d.max(1));
                        if s >= end {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            self.plan_peer(rng, &intro_list, role, kind, site, sessions);
        }
    }

    /// A world with the scenario's introducers and exactly these peers
    /// (kind, role, sessions), each behind its own NAT box; for the NAT
    /// matrix and for tests.
    pub fn with_peers(
        scn: &Scenario,
        seed: u64,
        policy: FanoutPolicy,
        peers: &[(NatKind, Role, Vec<Session>)],
    ) -> World {
        let mut w = World::new_empty(scn, policy);
        let mut rng = SimRng::new(seed);
        let intro_list = w.plan_introducers(&mut rng);
        let mut shared = BTreeMap::new();
        for (kind, role, sessions) in peers {
            let site = w.site_for(&mut rng, *kind, &mut shared);
            w.plan_peer(&mut rng, &intro_list, *role, *kind, site, sessions.clone());
        }
        w.rng = rng;
        w
    }

    #[allow(clippy::too_many_arguments)]
    fn push_host(
        &mut self,
        role: Role,
        kind: NatKind,
        site: u32,
        config: Config,
        seed: [u8; 32],
        sessions: Vec<Session>,
        fixed_main_port: Option<u16>,
        n_msgs: usize,
    ) {
        let h = self.hosts.len() as u32;
        let ip = if kind == NatKind::Open {
            self.boxes[site as usize].public_ip
        } else {
            host_private_ip(h)
        };
        self.boxes[site as usize].hosts.push(h);
        let member = match role {
            Role::Publisher | Role::Subscriber => Some(self.topic),
            _ => None,
        };
        self.hosts.push(Host {
            role,
            kind,
            site,
            ip,
            config,
            seed,
            sessions,
            session: 0,
            peer: None,
            snapshot: None,
            model: ModelPeer::new(member),
            sockets: BTreeMap::new(),
            ports: BTreeMap::new(),
            next_port: 40_000,
            fixed_main_port,
            wake: None,
            online: false,
            ready: false,
            bytes_out: 0,
            data_bytes_out: 0,
            datagrams_out: 0,
            steady_bytes_out: 0,
            steady_wakeups: 0,
            steady_online_ms: 0,
            online_since: 0,
            bytes_in: 0,
            eligible: vec![None; n_msgs],
            delivered: vec![None; n_msgs],
            got: vec![false; n_msgs],
            participated: false,
            at_query: false,
        });
    }

    // -----------------------------------------------------------------
    // The event loop
    // -----------------------------------------------------------------

    fn push(&mut self, t: u64, ev: Ev) {
        self.queue.push(t, ev);
    }

    /// Runs the scenario to its end and returns what it measured.
    pub fn run(mut self) -> RunResult {
        self.start();
        self.run_until(self.end);
        self.finish()
    }

    /// The run's end (ms).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Schedules the planned events (arrivals, workload, partitions,
    /// samples).
    pub fn start(&mut self) {
        for h in 0..self.hosts.len() {
            let s = self.hosts[h].sessions[0].start;
            self.push(s, Ev::Arrive(h as u32));
        }
        let w = self.scn.workload.clone();
        for k in 0..w.messages {
            self.push(
                w.publish_at_ms + u64::from(k) * w.publish_every_ms,
                Ev::Publish(k),
            );
        }
        if w.query_at_ms > 0 {
            for i in 0..=u64::from(w.query_retries) {
                self.push(w.query_at_ms + i * w.query_retry_ms, Ev::QueryPhase);
            }
        }
        for (i, p) in self.scn.partition.clone().iter().enumerate() {
            self.push(p.at_ms, Ev::PartitionStart(i));
            self.push(p.heal_ms, Ev::PartitionHeal);
        }
        self.push(0, Ev::Sample);
        self.push(30_000, Ev::Sweep);
    }

    /// Processes every event due at or before `until`.
    pub fn run_until(&mut self, until: u64) {
        if self.aborted.is_some() {
            return;
        }
        let cap = self.scn.protocol.max_events_in_flight;
        while let Some((t, ev)) = self.queue.pop_until(until) {
            self.now = t;
            self.events_processed += 1;
            self.handle(ev);
            if self.queue.len() > cap {
                self.aborted = Some(format!(
                    "more than {cap} events in flight at {} ms: a traffic storm; run stopped",
                    self.now
                ));
                return;
            }
        }
        self.now = self.now.max(until);
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Dgram {
                to,
                from,
                bytes,
                lan,
            } => self.arrive_datagram(to, from, bytes, lan),
            Ev::Timer(h) => {
                let h = h as usize;
                if self.hosts[h].wake == Some(self.now) {
                    self.hosts[h].wake = None;
                    if self.now >= self.scn.output.steady_from_ms {
                        self.hosts[h].steady_wakeups += 1;
                    }
                    let now = Instant(self.now);
                    if let Some(p) = self.hosts[h].peer.as_mut() {
                        p.handle_timeout(now);
                    }
                    self.pump(h);
                }
            }
            Ev::Arrive(h) => self.arrive(h as usize),
            Ev::Depart(h) => self.depart(h as usize),
            Ev::Publish(k) => self.publish(k as usize),
            Ev::QueryPhase => self.query_phase(),
            Ev::Sample => {
                self.sample();
                let next = self.now + self.scn.output.sample_ms;
                if next <= self.end {
                    self.push(next, Ev::Sample);
                }
            }
            Ev::PartitionStart(i) => {
                let frac = self.scn.partition[i].fraction;
                for b in 0..self.boxes.len() {
                    let intro = self.boxes[b]
                        .hosts
                        .iter()
                        .any(|&h| self.hosts[h as usize].role == Role::Introducer);
                    self.boxes[b].side = u8::from(!intro && self.rng.chance(frac));
                }
            }
            Ev::PartitionHeal => {
                for b in &mut self.boxes {
                    b.side = 0;
                }
            }
            Ev::Sweep => {
                let now = self.now;
                for b in &mut self.boxes {
                    b.sweep(now);
                }
                self.push(now + 30_000, Ev::Sweep);
            }
        }
    }

    // -----------------------------------------------------------------
    // Churn
    // -----------------------------------------------------------------

    fn bind(&mut self, h: usize, s: SocketId) {
        let host = &mut self.hosts[h];
        let port = match (s, host.fixed_main_port) {
            (SocketId::Main, Some(p)) => p,
            (SocketId::Probe, Some(p)) => p + 1,
            _ => loop {
                let p = host.next_port;
                host.next_port = if p >= 65_000 { 30_000 } else { p + 1 };
                if !host.ports.contains_key(&p) {
                    break p;
                }
            },
        };
        host.sockets.insert(s, port);
        host.ports.insert(port, s);
    }

    fn arrive(&mut self, h: usize) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let sess = host.sessions[host.session];
        let mut seed = host.seed;
        seed[31] ^= host.session as u8;
        seed[30] ^= (host.session >> 8) as u8;
        let peer = match host.snapshot.take() {
            Some(snap) => Peer::restore(host.config.clone(), Instant(now), seed, &snap).ok(),
            None => None,
        };
        let woke = peer.is_some();
        let peer = match peer {
            Some(p) => p,
            None => Peer::new(host.config.clone(), Instant(now), seed).expect("valid config"),
        };
        let peer = Box::new(peer);
        host.peer = Some(peer);
        host.online = true;
        host.online_since = now;
        host.ready = false;
        host.participated = true;
        host.model.restart();
        let role = host.role;
        if role != Role::Introducer {
            self.stats.on_join(now, woke);
        }
        self.bind(h, SocketId::Main);
        self.bind(h, SocketId::Probe);
        let key = match role {
            Role::Publisher | Role::Subscriber => Some(self.topic_key.clone()),
            Role::Bystander => Some(self.lobby_key.clone()),
            Role::Introducer => None,
        };
        if let (Some(k), Some(p)) = (key, self.hosts[h].peer.as_mut()) {
            let _ = p.join(Instant(now), &k);
        }
        if let Some(e) = sess.end {
            self.push(e, Ev::Depart(h as u32));
        }
        self.pump(h);
    }

    fn depart(&mut self, h: usize) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let sess = host.sessions[host.session];
        let Some(peer) = host.peer.take() else {
            return;
        };
        self.stats.absorb_peer(peer.metrics(), peer.clock());
        let from = host.online_since.max(self.scn.output.steady_from_ms);
        host.steady_online_ms += now.saturating_sub(from);
        if sess.sleep {
            host.snapshot = Some(peer.snapshot(Instant(now)));
        }
        host.online = false;
        host.ready = false;
        host.wake = None;
        host.sockets.clear();
        host.ports.clear();
        host.session += 1;
        let next = host.sessions.get(host.session).map(|s| s.start);
        self.stats.on_leave(now, sess.sleep);
        if let Some(t) = next {
            self.push(t, Ev::Arrive(h as u32));
        }
    }

    // -----------------------------------------------------------------
    // Peers
    // -----------------------------------------------------------------

    /// Drains a host's events and datagrams, then re-arms its wake-up.
    fn pump(&mut self, h: usize) {
        let now = Instant(self.now);
        loop {
            let mut evs = std::mem::take(&mut self.scratch_events);
            let mut txs = std::mem::take(&mut self.scratch_transmits);
            {
                let Some(p) = self.hosts[h].peer.as_mut() else {
                    self.scratch_events = evs;
                    self.scratch_transmits = txs;
                    return;
                };
                while let Some(e) = p.poll_event() {
                    evs.push(e);
                }
                while let Some(t) = p.poll_transmit(now) {
                    txs.push(t);
                }
            }
            if evs.is_empty() && txs.is_empty() {
                self.scratch_events = evs;
                self.scratch_transmits = txs;
                break;
            }
            for e in evs.drain(..) {
                self.on_event(h, e);
            }
            for t in txs.drain(..) {
                self.send(h, t.socket, t.remote, t.bytes);
            }
            self.scratch_events = evs;
            self.scratch_transmits = txs;
        }
        let t = self.hosts[h]
            .peer
            .as_ref()
            .and_then(|p| p.poll_timeout())
            .map(|t| t.as_millis().max(self.now));
        if t != self.hosts[h].wake {
            self.hosts[h].wake = t;
            if let Some(t) = t {
                self.push(t, Ev::Timer(h as u32));
            }
        }
    }

    fn on_event(&mut self, h: usize, e: Event) {
        match e {
            Event::OpenPoolSockets { sockets } => {
                for s in sockets {
                    self.bind(h, s);
                }
            }
            Event::ClosePoolSockets { sockets } => {
                let host = &mut self.hosts[h];
                for s in sockets {
                    if let Some(p) = host.sockets.remove(&s) {
                        host.ports.remove(&p);
                    }
                }
            }
            Event::Ready { nat: Some(n), .. } => {
                let first = !self.hosts[h].ready;
                self.hosts[h].ready = true;
                if self.hosts[h].role != Role::Introducer {
                    if first {
                        let expected = self.hosts[h].kind.expected();
                        self.stats.on_ready(n == expected);
                        self.became_ready(h);
                    }
                    // Every Ready: the endpoint may have changed. (The
                    // core syncs by itself; the model is told.)
                    if self.behaviour.sync_with_introducers && self.plane == PlaneKind::Model {
                        self.sync_introducers(h);
                    }
                }
            }
            Event::Connection {
                remote,
                socket,
                proxy,
                ..
            } => {
                self.stats.connections += 1;
                if proxy.is_some() {
                    self.stats.proxied_connections += 1;
                }
                if self.plane == PlaneKind::Model {
                    let mut out = Out::default();
                    self.with_model(h, &mut out, |m, cx, out| {
                        m.on_connection(cx, socket, remote, proxy, out)
                    });
                    self.apply(h, out);
                }
            }
            Event::Disconnection { .. } => self.stats.disconnections += 1,
            Event::Packet {
                subcluster_id,
                payload,
                ..
            } if subcluster_id == self.topic => {
                if let Some(k) = message_index(&payload) {
                    self.delivered(h, k);
                }
            }
            _ => {}
        }
    }

    /// Runs `f` on host `h`'s data-plane model with its context.
    fn with_model(
        &mut self,
        h: usize,
        out: &mut Out,
        f: impl FnOnce(&mut ModelPeer, &mut Ctx<'_>, &mut Out),
    ) {
        let keepalive_ms = self.scn.protocol.keepalive_ms;
        let host = &mut self.hosts[h];
        let Some(peer) = host.peer.as_deref() else {
            return;
        };
        let mut cx = Ctx {
            now: self.now,
            peer,
            rng: &mut self.rng,
            policy: self.policy,
            keepalive_ms,
            behaviour: &self.behaviour,
        };
        f(&mut host.model, &mut cx, out);
    }

    /// Acts on what the model produced.
    fn apply(&mut self, h: usize, out: Out) {
        for pid in out.delivered {
            if let Some(&k) = self.pid_index.get(&pid) {
                self.delivered(h, k);
            }
        }
        for (s, r, b) in out.sends {
            self.send(h, s, r, b);
        }
    }

    /// The model plane: sync with every introducer once the NAT type is
    /// known (`Behaviour::sync_with_introducers`; the core does it itself).
    fn sync_introducers(&mut self, h: usize) {
        let mut out = Out::default();
        self.with_model(h, &mut out, |m, cx, out| m.sync_introducers(cx, out));
        self.apply(h, out);
    }

    fn delivered(&mut self, h: usize, k: usize) {
        let host = &mut self.hosts[h];
        if k < host.delivered.len() && host.delivered[k].is_none() {
            host.delivered[k] = Some(self.now);
        }
    }

    /// A Publish datagram of message `k` reached host `h` (for redundancy).
    fn count_arrival(&mut self, h: usize, bytes: &[u8]) {
        let Ok(p) = streamrelay::wire::PacketRef::decode(bytes) else {
            return;
        };
        let pid = p.effective_packet_id();
        let mut key = [0u8; 32];
        let n = pid.len().min(32);
        key[..n].copy_from_slice(&pid[..n]);
        if let Some(&k) = self.pid_index.get(&key) {
            self.stats.arrivals[k] += 1;
            if !self.hosts[h].got[k] {
                self.hosts[h].got[k] = true;
                self.stats.receivers[k] += 1;
            }
        }
    }

    fn became_ready(&mut self, h: usize) {
        if self.hosts[h].role != Role::Subscriber {
            return;
        }
        let cutoff = self.query_cutoff();
        for k in 0..self.published_at.len() {
            if let Some(t) = self.published_at[k] {
                if self.now >= t && self.now < cutoff && self.hosts[h].eligible[k].is_none() {
                    self.hosts[h].eligible[k] = Some(self.now);
                }
            }
        }
    }

    fn query_cutoff(&self) -> u64 {
        if self.scn.workload.query_at_ms > 0 {
            self.scn.workload.query_at_ms
        } else {
            self.end + 1
        }
    }

    fn publish(&mut self, k: usize) {
        let Some(h) = self.hosts.iter().position(|x| x.role == Role::Publisher) else {
            return;
        };
        if !self.hosts[h].online {
            return;
        }
        let msg = message_bytes(k as u32, self.scn.workload.message_bytes);
        let topic = self.topic;
        let mut out = Out::default();
        let mut pid = None;
        match self.plane {
            PlaneKind::Model => {
                let mut sealed = msg;
                sealed.extend(std::iter::repeat_n(0u8, 160));
                self.with_model(h, &mut out, |m, cx, out| {
                    pid = Some(m.publish(cx, CLUSTER, topic, sealed, out));
                });
            }
            PlaneKind::Core => {
                let now = Instant(self.now);
                let key = self.topic_key.clone();
                if let Some(p) = self.hosts[h].peer.as_mut() {
                    if let Ok(ids) = p.publish(now, &key, "sim", &msg, &PublishOptions::new()) {
                        if let Some(first) = ids.first() {
                            let mut a = [0u8; 32];
                            let n = first.len().min(32);
                            a[..n].copy_from_slice(&first[..n]);
                            pid = Some(a);
                        }
                    }
                }
            }
        }
        let Some(pid) = pid else { return };
        self.message_ids[k] = Some(pid);
        self.published_at[k] = Some(self.now);
        self.pid_index.insert(pid, k);
        self.hosts[h].got[k] = true;
        let cutoff = self.query_cutoff();
        if self.now < cutoff {
            for host in &mut self.hosts {
                if host.role == Role::Subscriber && host.online && host.ready {
                    host.eligible[k] = Some(self.now);
                }
            }
        }
        self.apply(h, out);
        self.pump(h);
    }

    fn query_phase(&mut self) {
        for h in 0..self.hosts.len() {
            let host = &self.hosts[h];
            if host.role != Role::Subscriber || !host.online || !host.ready {
                continue;
            }
            if self.now == self.scn.workload.query_at_ms {
                self.hosts[h].at_query = true;
            } else if !self.hosts[h].at_query {
                // Live is decided at the first query phase.
                continue;
            }
            for k in 0..self.message_ids.len() {
                let Some(pid) = self.message_ids[k] else {
                    continue;
                };
                if self.hosts[h].delivered[k].is_some() || self.hosts[h].eligible[k].is_none() {
                    continue;
                }
                self.stats.queries += 1;
                match self.plane {
                    PlaneKind::Model => {
                        let mut out = Out::default();
                        self.with_model(h, &mut out, |m, cx, out| m.query(cx, CLUSTER, &pid, out));
                        self.apply(h, out);
                    }
                    PlaneKind::Core => {
                        let now = Instant(self.now);
                        let q =
                            QueryQuestion::for_packet(&streamrelay::crypto::identity::to_hex(&pid));
                        if let Some(p) = self.hosts[h].peer.as_mut() {
                            let _ = p.query(now, &q);
                        }
                    }
                }
            }
            self.pump(h);
        }
    }

    fn sample(&mut self) {
        let online = self
            .hosts
            .iter()
            .filter(|h| h.online && h.role != Role::Introducer)
            .count() as u32;
        let (mut reached, mut eligible) = (0u32, 0u32);
        for h in &self.hosts {
            if h.role == Role::Subscriber
                && h.online
                && h.eligible.first().copied().flatten().is_some()
            {
                eligible += 1;
                if h.delivered[0].is_some() {
                    reached += 1;
                }
            }
        }
        self.stats.sample(self.now, online, reached, eligible);
    }

    // -----------------------------------------------------------------
    // The network
    // -----------------------------------------------------------------

    fn box_of(&self, ip: Ipv4Addr) -> Option<usize> {
        let v = u32::from(ip);
        if v <= PUBLIC_BASE {
            return None;
        }
        let b = (v - PUBLIC_BASE - 1) as usize;
        (b < self.boxes.len()).then_some(b)
    }

    fn private_host(&self, ip: Ipv4Addr) -> Option<usize> {
        let v = u32::from(ip);
        if v <= PRIVATE_BASE || v > PRIVATE_BASE + 0x00ff_ffff {
            return None;
        }
        let h = (v - PRIVATE_BASE - 1) as usize;
        (h < self.hosts.len() && self.hosts[h].kind != NatKind::Open).then_some(h)
    }

    /// One crossing of a site's access link: the Gilbert–Elliott chain
    /// steps, and says whether the datagram is lost.
    fn burst_lost(&mut self, b: usize) -> bool {
        let g = &self.scn.network.burst;
        if g.p_enter <= 0.0 {
            return false;
        }
        let (p_enter, p_leave, lg, lb) = (g.p_enter, g.p_leave, g.loss_good, g.loss_bad);
        let bad = self.box_bad[b];
        self.box_bad[b] = if bad {
            !self.rng.chance(p_leave)
        } else {
            self.rng.chance(p_enter)
        };
        self.rng.chance(if self.box_bad[b] { lb } else { lg })
    }

    fn send(&mut self, h: usize, socket: SocketId, remote: Remote, bytes: Vec<u8>) {
        let now = self.now;
        let ty = PacketType::peek(&bytes);
        let is_data = matches!(
            ty,
            Some(PacketType::Publish | PacketType::Stream | PacketType::Sync | PacketType::Query)
        );
        {
            let host = &mut self.hosts[h];
            host.bytes_out += bytes.len() as u64;
            host.datagrams_out += 1;
            if now >= self.scn.output.steady_from_ms {
                host.steady_bytes_out += bytes.len() as u64;
            }
            if is_data {
                host.data_bytes_out += bytes.len() as u64;
            }
        }
        self.stats.datagrams_sent += 1;
        // Index 0: not a packet (the spray's one byte, or no known type).
        let ty = ty.map_or(0, |t| t as usize);
        self.stats.sent_by_type[ty] += 1;
        self.stats.bytes_by_type[ty] += bytes.len() as u64;
        let Remote::Udp(SocketAddr::V4(to)) = remote else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let Some(&lport) = self.hosts[h].sockets.get(&socket) else {
            self.stats.net_drop(NetDrop::NoSocket);
            return;
        };
        let src_box = self.hosts[h].site as usize;
        let net = self.scn.network.clone();
        // A private destination: only reachable on the same LAN.
        if let Some(dh) = self.private_host(*to.ip()) {
            if self.hosts[dh].site as usize == src_box {
                let from = SocketAddrV4::new(self.hosts[h].ip, lport);
                let t = now + net.lan_latency_ms;
                self.push(
                    t,
                    Ev::Dgram {
                        to,
                        from,
                        bytes,
                        lan: true,
                    },
                );
            } else {
                self.stats.net_drop(NetDrop::Unroutable);
            }
            return;
        }
        let Some(dst_box) = self.box_of(*to.ip()) else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let from_port = self.boxes[src_box].outbound(&mut self.rng, now, h as u32, lport, to);
        let from = SocketAddrV4::new(self.boxes[src_box].public_ip, from_port);
        let latency = if dst_box == src_box {
            if self.boxes[src_box].kind != NatKind::Open && !self.boxes[src_box].hairpin {
                self.stats.net_drop(NetDrop::NoHairpin);
                return;
            }
            net.lan_latency_ms
        } else {
            if self.boxes[src_box].side != self.boxes[dst_box].side {
                self.stats.net_drop(NetDrop::Partition);
                return;
            }
            if self.rng.chance(net.loss) {
                self.stats.net_drop(NetDrop::Loss);
                return;
            }
            if self.burst_lost(src_box) || self.burst_lost(dst_box) {
                self.stats.net_drop(NetDrop::BurstLoss);
                return;
            }
            net.latency_ms + self.box_access_ms[src_box] + self.box_access_ms[dst_box]
        };
        let jitter = |rng: &mut SimRng| {
            if net.jitter_ms > 0 {
                rng.range(0, net.jitter_ms)
            } else {
                0
            }
        };
        let mut t = now + latency + jitter(&mut self.rng);
        if self.rng.chance(net.reorder) {
            t += self.rng.range(1, net.reorder_ms.max(1));
            self.stats.reordered += 1;
        }
        if self.rng.chance(net.duplicate) {
            self.stats.duplicated += 1;
            let t2 = t + 1 + jitter(&mut self.rng);
            self.push(
                t2,
                Ev::Dgram {
                    to,
                    from,
                    bytes: bytes.clone(),
                    lan: false,
                },
            );
        }
        self.push(
            t,
            Ev::Dgram {
                to,
                from,
                bytes,
                lan: false,
            },
        );
    }

    /// What-if (core plane): the sender puts its peer id in a Sync's
    /// `previousId`, which the Sync flow does not read, so that its
    /// packetId, SHA-256(previousId ‖ summary ‖ nextId), is its own: a
    /// receiver then gates Syncs per (sender, summary), not per summary.
    fn arrive_datagram(&mut self, to: SocketAddrV4, from: SocketAddrV4, bytes: Vec<u8>, lan: bool) {
        let now = self.now;
        let (h, port) = if lan {
            match self.private_host(*to.ip()) {
                Some(h) => (h, to.port()),
                None => {
                    self.stats.net_drop(NetDrop::Unroutable);
                    return;
                }
            }
        } else {
            let Some(b) = self.box_of(*to.ip()) else {
                self.stats.net_drop(NetDrop::Unroutable);
                return;
            };
            if self.boxes[b].kind == NatKind::Open {
                (self.boxes[b].hosts[0] as usize, to.port())
            } else {
                match self.boxes[b].inbound(now, from, to.port()) {
                    Ok(i) => (i.host as usize, i.port),
                    Err(e) => {
                        self.stats.net_drop(e);
                        return;
                    }
                }
            }
        };
        if !self.hosts[h].online {
            self.stats.net_drop(NetDrop::HostOffline);
            return;
        }
        let Some(&socket) = self.hosts[h].ports.get(&port) else {
            self.stats.net_drop(NetDrop::NoSocket);
            return;
        };
        self.stats.datagrams_delivered += 1;
        self.hosts[h].bytes_in += bytes.len() as u64;
        let remote = Remote::Udp(SocketAddr::V4(from));
        let ty = PacketType::peek(&bytes);
        let data = matches!(
            ty,
            Some(PacketType::Publish | PacketType::Sync | PacketType::Query)
        );
        // With the model plane the Peer never sees the data plane's packets
        // (its own data plane would relay and answer them too).
        let model = data && self.plane == PlaneKind::Model;
        if !model {
            if let Some(p) = self.hosts[h].peer.as_mut() {
                p.handle_datagram(Instant(now), socket, remote, &bytes);
            }
        }
        if ty == Some(PacketType::Publish) {
            self.count_arrival(h, &bytes);
        }
        if model {
            let mut out = Out::default();
            self.with_model(h, &mut out, |m, cx, out| {
                m.on_datagram(cx, socket, remote, &bytes, out)
            });
            self.apply(h, out);
        }
        self.pump(h);
    }

    // -----------------------------------------------------------------
    // The end
    // -----------------------------------------------------------------

    /// What the run measured (call after running it).
    pub fn finish(mut self) -> RunResult {
        let steady_from = self.scn.output.steady_from_ms;
        let end = self.now;
        for h in &mut self.hosts {
            if h.online {
                let from = h.online_since.max(steady_from);
                h.steady_online_ms += end.saturating_sub(from);
            }
        }
        for h in &self.hosts {
            if let Some(p) = h.peer() {
                self.stats.absorb_peer(p.metrics(), p.clock());
            }
        }
        let mut stats = std::mem::replace(&mut self.stats, Collector::new(0));
        stats.events = self.events_processed;
        stats.finish(&self)
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scn
    }

    /// The policy.
    pub fn policy(&self) -> FanoutPolicy {
        self.policy
    }

    /// Whether a drop reason is an artefact of the model data plane (the
    /// Peer counts Publish/Sync/Query as unhandled while the model handles
    /// them).
    pub fn is_model_artifact(&self, r: DropReason) -> bool {
        self.plane == PlaneKind::Model && r == DropReason::DataPlaneUnhandled
    }
}
