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
//!
//! One job per file: `plan` (the population), `churn` (arrivals,
//! departures, sleep and wake), `pump` (driving each `Peer`), `workload`
//! (publishes, queries, samples), `network` (the network model); this
//! file holds the types, the event loop and its dispatch.

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
pub use island::IslandReport;

mod churn;
mod island;
mod network;
mod plan;
mod pump;
mod workload;

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
    /// No Internet: its UDP datagrams go nowhere (an island phone; the
    /// bridge while it is off the Internet).
    pub no_udp: bool,
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
    LinkDgram {
        link: u32,
        to: u32,
        bytes: Vec<u8>,
    },
    LinkUp(u32),
    LinkDown(u32),
    Bridge(bool),
    IslandPublish(u32),
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

/// Messages in a run: the publisher's, then the island's.
fn total_messages(scn: &Scenario) -> usize {
    scn.workload.messages as usize + scn.island.messages as usize
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
    /// The island, when the scenario has one.
    island: Option<Box<island::IslandWorld>>,
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
        let n_msgs = total_messages(scn);
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
            island: None,
        }
    }

    // -----------------------------------------------------------------
    // Planning
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
        self.start_island();
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
            Ev::LinkDgram { link, to, bytes } => self.arrive_link(link, to, bytes),
            Ev::LinkUp(l) => self.set_link(l as usize, true),
            Ev::LinkDown(l) => self.set_link(l as usize, false),
            Ev::Bridge(up) => self.set_bridge(up),
            Ev::IslandPublish(j) => self.island_publish(j as usize),
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
        let island = self.island_report();
        let mut stats = std::mem::replace(&mut self.stats, Collector::new(0));
        stats.events = self.events_processed;
        let mut r = stats.finish(&self);
        r.island = island;
        r
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
