//! The sans-IO Peer: the protocol's state machine (spec §6).
//!
//! The host owns the sockets and the clock. It feeds datagrams
//! ([`Peer::handle_datagram`]) and timer ticks ([`Peer::handle_timeout`]),
//! sends what [`Peer::poll_transmit`] returns, acts on
//! [`Peer::poll_event`], and calls `handle_timeout` again at
//! [`Peer::poll_timeout`]. Randomness comes from a seed, so a run with the
//! same inputs replays exactly.
//!
//! One module per flow:
//!
//! | module | flow |
//! |---|---|
//! | `receive` | the receive pipeline: decode, version, rate limit, firewall, dispatch by type (§6.5) |
//! | `tick` | the keepalive tick (main loop, re-joins) and timer dispatch (§6.4) |
//! | `shared` | helpers of every flow: queueing datagrams and events, randomness |
//! | `ping` | Ping/Pong, retries, the heartbeat (§6.7) |
//! | `reflection` | NAT discovery with two introducers and the probe socket (§6.8) |
//! | `join` | joins, subcluster membership, rendezvous, multicast (§6.9, §7.5) |
//! | `link` | links: host-defined channels to one neighbour (Bluetooth), their members and bridging |
//! | `intro` | introductions, the strategy table, hole punching, the spray (§6.10) |
//! | `pool` | the hard-NAT socket pool |
//! | `table` | connections, the peer table and its expiry (§6.11) |
//! | `ratelimit` | per-remote quotas (§6.12) |
//! | `gate` | duplicate suppression and return routes (§6.14, §6.15) |
//! | `snapshot` | persistence (§6.17) |
//! | `data` | where the data plane (Publish, Stream, Sync, Query) plugs in |
//! | `publish` | publishing, receiving a Publish, delivery, expiry (§7.1, §7.4, §7.7) |
//! | `store` | the packet cache and its summaries (§7.7, §7.8) |
//! | `relay` | multicasting cached packets; the weighted fanout (§7.5) |
//! | `chains` | chains reassembled from the cache; missing-link queries (§7.3) |
//! | `query` | questions, answers, return routes (§7.9) |
//! | `sync` | cache reconciliation (§7.8) |
//! | `stream` | point-to-point streams and their relay (§7.6) |
//!
//! ```
//! use streamrelay::peer::{Config, Event, Instant, Peer, Remote, SocketId};
//! use streamrelay::nat::NatType;
//!
//! // An introducer on a public address.
//! let mut config = Config::new(&"aa".repeat(32), None);
//! config.indexed = true;
//! config.nat_type = Some(NatType::UNRESTRICTED);
//! let mut peer = Peer::new(config, Instant::ZERO, [7; 32]).unwrap();
//! assert!(matches!(peer.poll_event(), Some(Event::Ready { .. })));
//!
//! // Someone pings it: it answers with a Pong on the same socket.
//! let ping = streamrelay::wire::control::Ping::heartbeat(&"bb".repeat(32), None, 0.0, 0.0);
//! let bytes = ping.to_packet().unwrap().encode().unwrap();
//! let from = Remote::Udp("192.0.2.7:4000".parse().unwrap());
//! peer.handle_datagram(Instant::from_millis(5), SocketId::Main, from, &bytes);
//! let t = peer.poll_transmit(Instant::from_millis(5)).unwrap();
//! assert_eq!((t.socket, t.remote), (SocketId::Main, from));
//! assert_eq!(t.bytes[4], 2); // a Pong
//! ```

mod addr;
mod chains;
mod config;
mod data;
mod events;
mod firewall;
mod gate;
mod intro;
mod join;
mod link;
mod metrics;
mod ordmap;
mod ping;
mod pool;
mod publish;
mod query;
mod ratelimit;
mod receive;
mod reflection;
mod relay;
mod shared;
mod snapshot;
mod store;
mod stream;
mod sync;
mod table;
mod tick;
mod time;
mod timers;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub use addr::{PeerId, Remote, SocketId};
pub use config::{
    Behaviour, Config, ConfigError, Expiry, Fanout, FanoutPolicy, Introducer, Limits, Profile,
    RateQuotas, Timings,
};
pub use events::{BufferTooSmall, DisconnectReason, Event, Transmit, UnverifiedReason};
pub use firewall::Firewall;
pub use metrics::{DropReason, Eviction, Metrics};
pub use publish::PublishOptions;
pub use snapshot::SnapshotError;
pub use store::CACHE_ENTRY_OVERHEAD;
pub use table::RemotePeer;
pub use time::Instant;

use crate::crypto::event::{PackError, Reassembler};
use crate::crypto::identity::{SharedKey, SubclusterKeys};
use crate::nat::{NatType, Strategy};
use crate::wire::packet::{IdField, PacketId};
use crate::wire::PacketType;
use chains::Chains;
use gate::{AgeingMap, GateKey};
use intro::IntroAttempt;
use ping::PendingPing;
use pool::SocketPool;
use query::Asked;
use ratelimit::RateLimiter;
use reflection::Reflection;
use store::{IdSet, PacketStore};
use timers::{Timer, Timers};

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// `join` needs a cluster id (an introducer has none).
    #[error("no cluster id configured")]
    NoCluster,
    /// `limits.max_subclusters` reached.
    #[error("already in {0} subclusters, the configured maximum")]
    TooManySubclusters(usize),
    /// The peer table is full of introducers.
    #[error("the peer table is full")]
    TableFull,
    /// `add_introducer` with our own id.
    #[error("that is this peer's own id")]
    OwnId,
    /// After `close()`.
    #[error("the peer is closed")]
    Closed,
    /// `publish` / `stream` need `Config::signing_keys`.
    #[error("no signing keys configured")]
    NoSigningKeys,
    /// The event could not be packed.
    #[error(transparent)]
    Pack(PackError),
    /// A payload (or question, or answer) over the limit
    /// (`limits.reassembly.max_bytes` for a sealed event, 1024 bytes for a
    /// question).
    #[error("{0} bytes is over the limit")]
    TooLarge(usize),
    /// No peer with that id in the table.
    #[error("no such peer in the table")]
    UnknownPeer,
    /// `PublishOptions::parent` is not in the cache.
    #[error("the parent packet is not in the cache")]
    UnknownPacket,
    /// No return route for that query id (it expired, or never came).
    #[error("no route back for that query")]
    UnknownQuery,
    /// The same question was asked within the last tick.
    #[error("the same question was just asked")]
    DuplicateQuery,
}

/// A subcluster we are a member of.
#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub(crate) shared_key: SharedKey,
    /// The subcluster's keys (derived once).
    pub(crate) keys: SubclusterKeys,
    /// Whether a Join went out for it yet (joins wait for the NAT type).
    pub(crate) announced: bool,
    /// Ticks to let pass before the next re-join while too few members
    /// are connected (`Behaviour::rejoin_below_members`).
    pub(crate) rejoin_wait: u8,
    /// The wait after the next re-join: 0, 1, 2, 4 … 16 ticks, back to 0 once
    /// enough members are connected.
    pub(crate) rejoin_backoff: u8,
}

/// How full each bounded structure is (for monitoring and the flood tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Occupancy {
    /// Peer-table entries.
    pub peers: usize,
    /// Scheduled ping retransmissions.
    pub pending_pings: usize,
    /// Gate entries.
    pub gate: usize,
    /// Rate-limit entries.
    pub rates: usize,
    /// Return routes.
    pub return_routes: usize,
    /// Introductions in progress.
    pub intros: usize,
    /// Open pool sockets (free, active or owned by a connection).
    pub pool_sockets: usize,
    /// Queued events.
    pub events: usize,
    /// Queued transmits.
    pub transmits: usize,
    /// Pending timers.
    pub timers: usize,
    /// Cached packets.
    pub cache_packets: usize,
    /// Bytes the cache is charged (see [`Limits::max_cache_bytes`]).
    pub cache_bytes: usize,
    /// Own packets not yet sent to anyone.
    pub unpublished: usize,
    /// Our questions waiting for answers.
    pub pending_queries: usize,
    /// Chains of our subclusters being reassembled.
    pub pending_chains: usize,
    /// Chains in the stream buffer.
    pub stream_chains: usize,
    /// Fragment bytes in the stream buffer.
    pub stream_bytes: usize,
    /// Remembered delivered ids.
    pub delivered: usize,
    /// Remembered unopenable or unverified messages.
    pub rejected: usize,
}

/// The protocol state machine. See the [module documentation](self).
pub struct Peer {
    config: Config,
    peer_id: PeerId,
    peer_id_hex: String,
    nat: Option<NatType>,
    address: Option<IpAddr>,
    port: Option<u16>,
    uptime: u64,
    clock: u32,
    /// Last Ping, Pong or Join received (local liveness, §6.1).
    last_update: Option<Instant>,
    closing: bool,
    wall_offset: i64,
    rng: ChaCha20Rng,
    table: Vec<RemotePeer>,
    subclusters: BTreeMap<([u8; 32], [u8; 32]), Membership>,
    gate: AgeingMap<GateKey, ()>,
    /// Query id → where the question came from (fed by the data plane).
    return_routes: AgeingMap<crate::wire::packet::IdField, Remote>,
    rates: RateLimiter,
    reflection: Reflection,
    pending_pings: BTreeMap<u32, PendingPing>,
    next_ping: u32,
    intros: BTreeMap<u32, IntroAttempt>,
    next_intro: u32,
    pool: SocketPool,
    timers: Timers,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    metrics: Metrics,
    firewall: Option<Box<dyn Firewall>>,
    /// Root cache summary hash (40 hex), sent in Pings and Pongs; computed
    /// at each tick (docs/compat.md#summary-hash-per-tick).
    summary_hash: String,
    /// The packet cache.
    store: PacketStore,
    /// Sealed-message hashes and chain-head ids already delivered.
    delivered: IdSet,
    /// Unopenable sealed messages, and unverified copies, already reported.
    rejected: IdSet,
    /// Chains of our subclusters being reassembled.
    chains: Chains,
    /// The stream buffer.
    streams: Reassembler,
    /// Our questions: query id → why we asked.
    my_queries: AgeingMap<IdField, Asked>,
    /// Own packets that reached nobody yet → when published.
    unpublished: BTreeMap<IdField, Instant>,
    /// Address → wall time of the last sync we sent it (`syncs`).
    syncs: BTreeMap<Remote, f64>,
    /// Address → what it may still get in answer to Syncs (a token
    /// bucket, docs/compat.md#amplification).
    sync_budgets: sync::SyncBudgets,
    /// What the last `Event::Ready` said.
    announced: Option<(Option<NatType>, Option<IpAddr>, Option<u16>)>,
    /// Transmit buffers the host gave back ([`Peer::recycle`],
    /// [`Peer::poll_transmit_into`]), reused for relayed copies.
    spare_buffers: Vec<Vec<u8>>,
    /// Scratch lists of the fanout (kept to avoid allocating per packet).
    fanout_scratch: Scratch,
    /// Open links (`link_up` .. `link_down`), at most `limits.max_links`.
    links: BTreeMap<u64, link::LinkState>,
}

/// Reusable scratch space of the relay path.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) candidates: Vec<usize>,
    pub(crate) targets: Vec<usize>,
    pub(crate) weights: Vec<(usize, f64)>,
}

/// How many returned transmit buffers a Peer keeps for reuse.
const MAX_SPARE_BUFFERS: usize = 64;

impl core::fmt::Debug for Peer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Peer")
            .field("peer_id", &self.peer_id)
            .field("nat", &self.nat)
            .field("address", &self.address)
            .field("port", &self.port)
            .field("peers", &self.table.len())
            .finish_non_exhaustive()
    }
}

/// Queues a datagram (bounded: at the limit it is dropped and counted).
/// A free function over the two fields, so a caller can queue while it
/// borrows another part of the Peer (the cache).
pub(crate) fn queue_transmit(
    transmits: &mut VecDeque<Transmit>,
    metrics: &mut Metrics,
    max: usize,
    t: Transmit,
) {
    if transmits.len() >= max {
        metrics.drop(DropReason::TransmitQueueFull);
        return;
    }
    // Index 0: not a packet (the Peer sends no packet of an unknown type).
    let ty = PacketType::peek(&t.bytes).map_or(0, |p| p as usize);
    if ty < metrics.sent_by_type.len() {
        metrics.sent_by_type[ty] += 1;
    }
    transmits.push_back(t);
}

/// Guards `handle_timeout` against a timer that keeps re-arming at `now`.
const MAX_TIMERS_PER_CALL: usize = 1 << 16;

impl Peer {
    /// A new peer. Nothing is sent until the host calls
    /// [`handle_timeout`](Self::handle_timeout) (the first tick is due at
    /// `now`). An introducer (or a peer with a static NAT type) queues
    /// [`Event::Ready`] at once.
    pub fn new(config: Config, now: Instant, seed: [u8; 32]) -> Result<Peer, ConfigError> {
        let peer_id = config.check()?;
        let limits = config.limits.clone();
        let mut table = Vec::new();
        for i in &config.introducers {
            if i.peer_id != peer_id && !table.iter().any(|p: &RemotePeer| p.peer_id == i.peer_id) {
                table.push(RemotePeer::introducer(i.peer_id, i.remote));
            }
        }
        let summary_hash =
            crate::crypto::identity::to_hex(&crate::cache::summarize("", core::iter::empty()).hash);
        // Keys of the maps' hash indexes (not drawn from `rng`, whose sequence
        // the seed alone fixes).
        let map_seed = |k: u64| {
            u64::from_le_bytes([
                seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7],
            ]) ^ u64::from_le_bytes([
                seed[8], seed[9], seed[10], seed[11], seed[12], seed[13], seed[14], seed[15],
            ])
            .rotate_left(17)
                ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        };
        let mut peer = Peer {
            peer_id,
            peer_id_hex: peer_id.to_hex(),
            nat: config.nat_type,
            address: config.public_address.map(|a| a.ip()),
            port: config.public_address.map(|a| a.port()),
            uptime: 0,
            clock: 0,
            last_update: None,
            closing: false,
            wall_offset: config.wall_clock_offset_ms,
            rng: ChaCha20Rng::from_seed(seed),
            table,
            subclusters: BTreeMap::new(),
            gate: AgeingMap::new(limits.max_gate_entries, map_seed(1)),
            return_routes: AgeingMap::new(limits.max_return_routes, map_seed(2)),
            rates: RateLimiter::new(limits.max_rate_entries),
            reflection: Reflection::default(),
            pending_pings: BTreeMap::new(),
            next_ping: 0,
            intros: BTreeMap::new(),
            next_intro: 0,
            pool: SocketPool::default(),
            timers: Timers::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            metrics: Metrics::default(),
            firewall: None,
            summary_hash,
            store: PacketStore::new(
                limits.max_cache_bytes,
                limits.max_cache_packets,
                map_seed(3),
            ),
            delivered: IdSet::new(limits.max_delivered),
            rejected: IdSet::new(limits.max_delivered),
            chains: Chains::default(),
            streams: Reassembler::new(limits.reassembly),
            my_queries: AgeingMap::new(limits.max_pending_queries, map_seed(4)),
            unpublished: BTreeMap::new(),
            syncs: BTreeMap::new(),
            sync_budgets: sync::SyncBudgets::default(),
            announced: None,
            spare_buffers: Vec::new(),
            fanout_scratch: Scratch::default(),
            links: BTreeMap::new(),
            config,
        };
        peer.timers.add(now, Timer::Tick);
        if peer.config.indexed || peer.config.nat_type.is_some() {
            peer.announce_ready();
        }
        Ok(peer)
    }

    // ---------------------------------------------------------------
    // Inputs
    // ---------------------------------------------------------------

    /// A datagram arrived on `socket` from `remote`. Never panics; anything
    /// that is not a packet we can use is dropped and counted in
    /// [`metrics`](Self::metrics).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        bytes: &[u8],
    ) {
        self.metrics.datagrams_in += 1;
        if self.closing {
            self.metrics.drop(DropReason::Closed);
            return;
        }
        match socket {
            SocketId::Main => self.receive(now, socket, remote, bytes),
            SocketId::Probe => self.on_probe_datagram(now, remote, bytes),
            SocketId::Pool(id) => self.on_pool_datagram(now, id, remote, bytes),
        }
    }

    /// Timers whose deadline is `now` or earlier fire, in deadline order.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closing {
            return;
        }
        for _ in 0..MAX_TIMERS_PER_CALL {
            let Some(t) = self.timers.pop_due(now) else {
                return;
            };
            self.fire(now, t);
        }
    }

    // ---------------------------------------------------------------
    // Outputs
    // ---------------------------------------------------------------

    /// The next datagram to send, in FIFO order.
    ///
    /// Giving the `Transmit` back with [`recycle`](Self::recycle) once it is
    /// sent lets the Peer reuse its buffer (the relay path then allocates
    /// nothing); [`poll_transmit_into`](Self::poll_transmit_into) does that
    /// by itself.
    pub fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next datagram to send, copied into `buf`: its socket, remote and
    /// length (`Ok(None)` when nothing is queued). The Peer keeps the buffer
    /// it was in for reuse, so a host that sends this way makes the relay
    /// path allocation-free in steady state.
    ///
    /// The caller's buffer is the contract (as quinn's and boringtun's): a
    /// datagram longer than `buf` is not lost. It stays first in the queue
    /// and [`BufferTooSmall`] says how many bytes it needs; call again with
    /// a buffer that large. A buffer of
    /// [`MAX_FRAME_BYTES`](crate::wire::packet::MAX_FRAME_BYTES) (1500)
    /// holds any datagram the Peer sends.
    ///
    /// ```
    /// # use streamrelay::peer::{BufferTooSmall, Config, Instant, Peer, Remote, SocketId};
    /// # use streamrelay::nat::NatType;
    /// # let mut config = Config::new(&"aa".repeat(32), None);
    /// # config.indexed = true;
    /// # config.nat_type = Some(NatType::UNRESTRICTED);
    /// # let mut peer = Peer::new(config, Instant::ZERO, [7; 32]).unwrap();
    /// # let ping = streamrelay::wire::control::Ping::heartbeat(&"bb".repeat(32), None, 0.0, 0.0);
    /// # let bytes = ping.to_packet().unwrap().encode().unwrap();
    /// # let from = Remote::Udp("192.0.2.7:4000".parse().unwrap());
    /// peer.handle_datagram(Instant::from_millis(5), SocketId::Main, from, &bytes);
    /// let now = Instant::from_millis(5);
    /// // Too small: nothing is lost, the Peer says what it needs.
    /// let Err(BufferTooSmall { needed }) = peer.poll_transmit_into(now, &mut [0u8; 4]) else {
    ///     panic!("a Pong is longer than 4 bytes")
    /// };
    /// let mut buf = vec![0u8; needed];
    /// let (socket, remote, n) = peer.poll_transmit_into(now, &mut buf).unwrap().unwrap();
    /// assert_eq!((socket, remote, n), (SocketId::Main, from, needed));
    /// assert_eq!(buf[4], 2); // a Pong
    /// assert_eq!(peer.poll_transmit_into(now, &mut buf), Ok(None));
    /// ```
    pub fn poll_transmit_into(
        &mut self,
        _now: Instant,
        buf: &mut [u8],
    ) -> Result<Option<(SocketId, Remote, usize)>, BufferTooSmall> {
        let Some(t) = self.transmits.front() else {
            return Ok(None);
        };
        let n = t.bytes.len();
        let Some(out) = buf.get_mut(..n) else {
            return Err(BufferTooSmall { needed: n });
        };
        out.copy_from_slice(&t.bytes);
        let Some(t) = self.transmits.pop_front() else {
            return Ok(None);
        };
        let (socket, remote) = (t.socket, t.remote);
        self.recycle(t);
        Ok(Some((socket, remote, n)))
    }

    /// Gives a sent [`Transmit`] back so its buffer can carry a later
    /// datagram (up to 64 are kept; the rest are freed). Optional.
    pub fn recycle(&mut self, t: Transmit) {
        self.recycle_buffer(t.bytes);
    }

    /// Like [`recycle`](Self::recycle), with the bytes alone.
    pub fn recycle_buffer(&mut self, bytes: Vec<u8>) {
        if self.spare_buffers.len() < MAX_SPARE_BUFFERS && bytes.capacity() > 0 {
            self.spare_buffers.push(bytes);
        }
    }

    /// A buffer holding a copy of `bytes`: a recycled one when there is
    /// one (no allocation if it is large enough), else a new one.
    pub(crate) fn buffer_from(spare: &mut Vec<Vec<u8>>, bytes: &[u8]) -> Vec<u8> {
        match spare.pop() {
            Some(mut b) => {
                b.clear();
                b.extend_from_slice(bytes);
                b
            }
            None => bytes.to_vec(),
        }
    }

    /// The next event for the host.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next (`None`
    /// after `close`).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing {
            return None;
        }
        self.timers.next()
    }

    // ---------------------------------------------------------------
    // Commands
    // ---------------------------------------------------------------

    /// Joins the subcluster of `shared_key` in the configured cluster and
    /// returns its id. The Join goes out now if the NAT type and public
    /// endpoint are known, else as soon as they are; it is repeated every
    /// tick (§6.9).
    ///
    /// ```
    /// use streamrelay::crypto::identity::create_shared_key;
    /// use streamrelay::nat::NatType;
    /// use streamrelay::peer::{Config, Instant, Peer};
    ///
    /// let mut config = Config::new(&"ab".repeat(32), Some([1; 32]));
    /// config.nat_type = Some(NatType::PORT_RESTRICTED);
    /// config.public_address = Some("203.0.113.5:40000".parse().unwrap());
    /// let mut peer = Peer::new(config, Instant::ZERO, [0; 32]).unwrap();
    /// let key = create_shared_key("my subcluster").unwrap();
    /// let subcluster_id = peer.join(Instant::ZERO, &key).unwrap();
    /// assert_eq!(peer.subclusters().next(), Some(([1; 32], subcluster_id)));
    /// assert_eq!(peer.clock(), 1); // a Join went out (to nobody yet: no peers)
    /// ```
    pub fn join(&mut self, now: Instant, shared_key: &SharedKey) -> Result<[u8; 32], PeerError> {
        let cid = self.config.cluster_id.ok_or(PeerError::NoCluster)?;
        self.join_in(now, cid, shared_key)
    }

    /// [`join`](Self::join) in another cluster (the reference's
    /// `args.clusterId`).
    pub fn join_in(
        &mut self,
        now: Instant,
        cluster_id: [u8; 32],
        shared_key: &SharedKey,
    ) -> Result<[u8; 32], PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let scid = crate::crypto::identity::subcluster_id(shared_key);
        let key = (cluster_id, scid);
        if !self.subclusters.contains_key(&key)
            && self.subclusters.len() >= self.config.limits.max_subclusters
        {
            return Err(PeerError::TooManySubclusters(self.subclusters.len()));
        }
        let keys = match self.subclusters.get(&key) {
            Some(m) => m.keys.clone(),
            None => SubclusterKeys::from_shared_key(shared_key),
        };
        self.subclusters.insert(
            key,
            Membership {
                shared_key: shared_key.clone(),
                keys,
                announced: false,
                rejoin_wait: 0,
                rejoin_backoff: 0,
            },
        );
        self.send_join(now, cluster_id, scid);
        self.greet_links(now);
        Ok(scid)
    }

    /// Stops re-joining a subcluster. `true` if we were in it.
    pub fn leave(&mut self, cluster_id: [u8; 32], subcluster_id: [u8; 32]) -> bool {
        self.subclusters
            .remove(&(cluster_id, subcluster_id))
            .is_some()
    }

    /// Adds an introducer (`addIndexedPeer`). An existing entry with that id
    /// becomes an introducer at `remote`.
    pub fn add_introducer(&mut self, peer_id: PeerId, remote: Remote) -> Result<(), PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        if peer_id == self.peer_id {
            return Err(PeerError::OwnId);
        }
        if let Some(p) = self.peer_mut(&peer_id) {
            p.indexed = true;
            p.remote = remote;
            p.nat = Some(NatType::UNRESTRICTED);
            return Ok(());
        }
        if self.table.len() >= self.config.limits.max_peers {
            let victim = self
                .table
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.indexed)
                .min_by_key(|(_, p)| p.last_update.unwrap_or(Instant::ZERO))
                .map(|(i, _)| i)
                .ok_or(PeerError::TableFull)?;
            let p = self.table.remove(victim);
            self.metrics.evict(Eviction::Peer);
            self.release_dedicated_socket(p.socket);
            self.emit(Event::Disconnection {
                peer_id: p.peer_id,
                reason: DisconnectReason::Evicted,
            });
        }
        self.table.push(RemotePeer::introducer(peer_id, remote));
        Ok(())
    }

    /// Sends a Join for every subcluster now (`reconnect`).
    pub fn reconnect(&mut self, now: Instant) {
        let keys: Vec<([u8; 32], [u8; 32])> = self.subclusters.keys().copied().collect();
        for (cid, scid) in keys {
            self.send_join(now, cid, scid);
        }
    }

    /// Forgets the NAT type and starts discovery again at the next tick
    /// (`disconnect`). A static NAT type stays.
    pub fn disconnect(&mut self, now: Instant) {
        let _ = now;
        self.reset_reflection();
        let old = self.nat;
        self.nat = self.config.nat_type;
        if old != self.nat {
            self.emit(Event::NatChange { old, new: self.nat });
        }
    }

    /// The host's network changed (another Wi-Fi, a cellular handover, a
    /// socket bound again, the device woke on another network):
    /// [`disconnect`](Self::disconnect), then start reflection now rather
    /// than at the next tick, and send every Join again as soon as
    /// reflection says where we are (a peer that moved is otherwise found
    /// only by its next periodic Join). A static NAT type stays, and its
    /// Joins go out at once. With `Behaviour::detect_network_change` the
    /// peer also calls this itself when a peer reports it at a new IP.
    pub fn network_changed(&mut self, now: Instant) {
        if self.closing {
            return;
        }
        self.disconnect(now);
        for m in self.subclusters.values_mut() {
            m.announced = false;
        }
        for p in &mut self.table {
            p.reported_ip = None;
        }
        if self.nat.is_some() {
            self.reconnect(now);
        } else {
            self.request_reflection(now);
        }
    }

    /// Stops the peer: every timer is cancelled, queued datagrams are
    /// discarded, pool sockets are released, and [`Event::Closed`] is queued.
    pub fn close(&mut self, _now: Instant) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.timers.clear();
        self.pending_pings.clear();
        self.intros.clear();
        self.transmits.clear();
        let sockets = self.pool.close_all();
        if !sockets.is_empty() {
            self.emit(Event::ClosePoolSockets { sockets });
        }
        self.emit(Event::Closed);
    }

    /// Installs (or removes) the host's firewall.
    pub fn set_firewall(&mut self, firewall: Option<Box<dyn Firewall>>) {
        self.firewall = firewall;
    }

    /// Updates the offset from the monotonic clock to the wall clock (Unix
    /// ms) used for the timestamps that go on the wire.
    pub fn set_wall_clock_offset(&mut self, offset_ms: i64) {
        self.wall_offset = offset_ms;
    }

    // ---------------------------------------------------------------
    // Inspection
    // ---------------------------------------------------------------

    /// Our id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Our NAT type, once known.
    pub fn nat_type(&self) -> Option<NatType> {
        self.nat
    }

    /// Our public address and port, as reflection (or config) says.
    pub fn public_endpoint(&self) -> (Option<IpAddr>, Option<u16>) {
        (self.address, self.port)
    }

    /// The Join clock (§7.11).
    pub fn clock(&self) -> u32 {
        self.clock
    }

    /// Uptime as the protocol counts it (keepalive per tick).
    pub fn uptime(&self) -> u64 {
        self.uptime
    }

    /// The peer table.
    pub fn peers(&self) -> &[RemotePeer] {
        &self.table
    }

    /// One table entry.
    pub fn peer(&self, id: &PeerId) -> Option<&RemotePeer> {
        self.table.iter().find(|p| p.peer_id == *id)
    }

    /// The subclusters we are in, as (clusterId, subclusterId).
    pub fn subclusters(&self) -> impl Iterator<Item = ([u8; 32], [u8; 32])> + '_ {
        self.subclusters.keys().copied()
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How full each bounded structure is.
    pub fn occupancy(&self) -> Occupancy {
        Occupancy {
            peers: self.table.len(),
            pending_pings: self.pending_pings.len(),
            gate: self.gate.len(),
            rates: self.rates.len(),
            return_routes: self.return_routes.len(),
            intros: self.intros.len(),
            pool_sockets: self.pool.open_count(),
            events: self.events.len(),
            transmits: self.transmits.len(),
            timers: self.timers.len(),
            cache_packets: self.store.len(),
            cache_bytes: self.store.bytes(),
            unpublished: self.unpublished.len(),
            pending_queries: self.my_queries.len(),
            pending_chains: self.chains.len(),
            stream_chains: self.streams.pending_chains(),
            stream_bytes: self.streams.pending_bytes(),
            delivered: self.delivered.len(),
            rejected: self.rejected.len(),
        }
    }

    /// A cached packet's encoding (as it would be sent on: `hops` is what it
    /// last went out with), by packetId.
    pub fn cached(&self, packet_id: &[u8]) -> Option<&[u8]> {
        self.store.get(packet_id).map(|e| &e.frame[..])
    }

    /// The cached packetIds, oldest first.
    pub fn cached_ids(&self) -> impl Iterator<Item = &PacketId> + '_ {
        self.store.iter_oldest_first().map(|(k, _)| k)
    }

    /// Own packets not yet sent to anyone.
    pub fn unpublished(&self) -> impl Iterator<Item = &PacketId> + '_ {
        self.unpublished.keys()
    }

    /// The root cache summary hash we announce (40 hex digits), as of the
    /// last tick.
    pub fn cache_summary_hash(&self) -> &str {
        &self.summary_hash
    }

    /// Recomputes the root summary hash (the reference computes it for each
    /// Ping and Pong; once a tick bounds the cost, docs/compat.md).
    pub(crate) fn refresh_summary_hash(&mut self, now: Instant) {
        let after =
            (now.as_millis() as i64).saturating_sub(i64::from(crate::wire::packet::DEFAULT_TTL));
        let s = self.store.summarize(b"", after);
        self.summary_hash = crate::crypto::identity::to_hex(&s.hash);
    }

    /// The strategy this peer uses towards a remote of NAT type `remote`:
    /// `nat::connection_strategy(our type, remote)`, the very call the
    /// Intro flow makes.
    pub fn strategy_towards(&self, remote: Option<NatType>) -> Strategy {
        crate::nat::connection_strategy(self.nat, remote)
    }
}
