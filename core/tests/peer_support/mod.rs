//! Shared by the `peer_*` tests: identities, packet builders, transcript
//! rendering, and a small deterministic network with NAT boxes.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, Event, Instant, Introducer, Peer, PeerId, Remote, SocketId, Transmit,
};
use streamrelay::wire::json::parse;
use streamrelay::wire::{Field, PacketRef};

pub mod data;

pub const CLUSTER: [u8; 32] = [0xc1; 32];

pub fn id(n: u8) -> PeerId {
    PeerId([n; 32])
}

pub fn hex_id(n: u8) -> String {
    id(n).to_hex()
}

pub fn udp(s: &str) -> Remote {
    Remote::Udp(s.parse().unwrap())
}

pub fn config(n: u8) -> Config {
    Config::reference(&hex_id(n), Some(CLUSTER))
}

/// An introducer config on a public address.
pub fn introducer_config(n: u8, addr: &str) -> Config {
    let mut c = Config::reference(&hex_id(n), None);
    c.indexed = true;
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some(addr.parse().unwrap());
    c
}

pub fn with_introducers(mut c: Config, list: &[(u8, &str)]) -> Config {
    for (n, a) in list {
        c.introducers.push(Introducer {
            peer_id: id(*n),
            remote: udp(a),
        });
    }
    c
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Short names for the ids used in tests, so transcripts stay readable.
pub fn name_ids(s: &str) -> String {
    let mut out = s.to_string();
    for n in 0..=255u8 {
        let h = hex_id(n);
        if out.contains(&h) {
            out = out.replace(&h, &format!("<peer{n}>"));
        }
    }
    out
}

/// One line per transmit: socket, destination, and the decoded packet
/// (non-default header fields, JSON message).
pub fn render_transmit(t: &Transmit) -> String {
    let mut s = format!("{:?} -> {}: ", t.socket, t.remote);
    s.push_str(&render_bytes(&t.bytes));
    name_ids(&s)
}

pub fn render_bytes(b: &[u8]) -> String {
    let mut s = String::new();
    let Ok(p) = PacketRef::decode(b) else {
        return format!("raw {}", hex(b));
    };
    write!(s, "{}", p.packet_type).unwrap();
    if p.clock != 1 {
        write!(s, " clock={}", p.clock).unwrap();
    }
    if p.hops != 0 {
        write!(s, " hops={}", p.hops).unwrap();
    }
    for (f, v) in Field::VARIABLE.iter().zip(p.fields()) {
        if v == [0] || *f == Field::Message || *f == Field::PacketId {
            continue;
        }
        let shown = if *f == Field::Usr1 {
            String::from_utf8_lossy(v).into_owned()
        } else if v.iter().all(|&x| x == v[0]) && v.len() > 1 {
            format!("[{:02x};{}]", v[0], v.len())
        } else {
            hex(v)
        };
        write!(s, " {}={}", f.name(), shown).unwrap();
    }
    match parse(p.message) {
        Ok(j) if p.message_is_json() => write!(s, " {}", j.stringify()).unwrap(),
        _ => write!(s, " message={}", hex(p.message)).unwrap(),
    }
    s
}

pub fn drain_transmits(p: &mut Peer, now: Instant) -> Vec<Transmit> {
    let mut v = Vec::new();
    while let Some(t) = p.poll_transmit(now) {
        v.push(t);
    }
    v
}

pub fn drain_events(p: &mut Peer) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(e) = p.poll_event() {
        v.push(e);
    }
    v
}

/// Transmits and events as text, for insta.
pub fn transcript(p: &mut Peer, now: Instant) -> String {
    let mut s = String::new();
    for t in drain_transmits(p, now) {
        writeln!(s, "tx {}", render_transmit(&t)).unwrap();
    }
    for e in drain_events(p) {
        writeln!(s, "ev {}", render_event(&e)).unwrap();
    }
    s
}

/// An event as one line, ids shortened, byte arrays in hex.
pub fn render_event(e: &Event) -> String {
    match e {
        Event::Join {
            cluster_id,
            subcluster_id,
            peer_id,
        } => format!(
            "Join {{ cluster_id: {}…, subcluster_id: {}…, peer_id: {} }}",
            &hex(cluster_id)[..8],
            &hex(subcluster_id)[..8],
            name_ids(&peer_id.to_hex())
        ),
        Event::OpenPoolSockets { sockets } | Event::ClosePoolSockets { sockets }
            if sockets.len() > 4 =>
        {
            let kind = if matches!(e, Event::OpenPoolSockets { .. }) {
                "OpenPoolSockets"
            } else {
                "ClosePoolSockets"
            };
            format!(
                "{kind} {{ {} sockets: {:?} … {:?} }}",
                sockets.len(),
                sockets[0],
                sockets[sockets.len() - 1]
            )
        }
        other => {
            let mut s = format!("{other:?}");
            for n in 0..=255u8 {
                let short = format!("PeerId({:02x}{:02x}{:02x}{:02x}…)", n, n, n, n);
                s = s.replace(&short, &format!("<peer{n}>"));
            }
            s
        }
    }
}

/// Runs every due timer up to `until` (inclusive), stepping from deadline to
/// deadline, and returns the transcript with times.
pub fn run_timers(p: &mut Peer, until: Instant) -> String {
    let mut s = String::new();
    while let Some(t) = p.poll_timeout() {
        if t > until {
            break;
        }
        p.handle_timeout(t);
        let part = transcript(p, t);
        if !part.is_empty() {
            writeln!(s, "@{}", t.as_millis()).unwrap();
            s.push_str(&part);
        }
    }
    s
}

// -------------------------------------------------------------------------
// The network model
// -------------------------------------------------------------------------

/// NAT behaviours (RFC 4787 terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NatKind {
    /// Endpoint-independent mapping and filtering (full cone): type 31.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering: 15.
    AddrRestricted,
    /// Endpoint-independent mapping, address-and-port-dependent filtering: 7.
    PortRestricted,
    /// Endpoint-dependent mapping and filtering (symmetric): 5.
    Symmetric,
}

impl NatKind {
    pub fn expected(self) -> NatType {
        match self {
            NatKind::FullCone => NatType::UNRESTRICTED,
            NatKind::AddrRestricted => NatType::ADDR_RESTRICTED,
            NatKind::PortRestricted => NatType::PORT_RESTRICTED,
            NatKind::Symmetric => NatType::ENDPOINT_RESTRICTED,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            NatKind::FullCone => "full-cone(31)",
            NatKind::AddrRestricted => "addr-restr(15)",
            NatKind::PortRestricted => "port-restr(7)",
            NatKind::Symmetric => "symmetric(5)",
        }
    }

    pub const ALL: [NatKind; 4] = [
        NatKind::FullCone,
        NatKind::AddrRestricted,
        NatKind::PortRestricted,
        NatKind::Symmetric,
    ];
}

#[derive(Clone, Debug)]
struct Mapping {
    host: usize,
    local_port: u16,
    /// Symmetric NATs map per destination.
    dest: Option<SocketAddr>,
    contacted: BTreeSet<SocketAddr>,
}

#[derive(Clone, Debug)]
struct NatBox {
    kind: NatKind,
    public_ip: IpAddr,
    ei: BTreeMap<(usize, u16), u16>,
    ed: BTreeMap<(usize, u16, SocketAddr), u16>,
    by_port: BTreeMap<u16, Mapping>,
}

pub struct Host {
    pub name: String,
    pub peer: Peer,
    pub ip: IpAddr,
    nat: Option<usize>,
    sockets: BTreeMap<SocketId, u16>,
    by_port: BTreeMap<u16, SocketId>,
    next_port: u16,
    pub events: Vec<(u64, Event)>,
    pub sent: u64,
    /// Switched off: its timers do not run, datagrams to it are lost and it
    /// sends nothing (see [`Net::set_offline`]).
    pub offline: bool,
}

#[derive(Clone, Debug)]
struct Datagram {
    from: SocketAddr,
    to: SocketAddr,
    bytes: Vec<u8>,
}

/// A deterministic network: hosts on public IPs or behind NAT boxes,
/// datagrams delivered after a latency (plus seeded jitter), no loss.
pub struct Net {
    pub now: u64,
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub hosts: Vec<Host>,
    nats: Vec<NatBox>,
    queue: BTreeMap<(u64, u64), Datagram>,
    seq: u64,
    rng: ChaCha8Rng,
    pub delivered: u64,
    pub filtered: u64,
}

impl Net {
    pub fn new(seed: u64) -> Self {
        Net {
            now: 0,
            latency_ms: 15,
            jitter_ms: 5,
            hosts: Vec::new(),
            nats: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            delivered: 0,
            filtered: 0,
        }
    }

    fn seed32(&mut self) -> [u8; 32] {
        let mut s = [0u8; 32];
        self.rng.fill_bytes(&mut s);
        s
    }

    fn add_host(&mut self, name: &str, config: Config, ip: IpAddr, nat: Option<usize>) -> usize {
        let seed = self.seed32();
        let peer = Peer::new(config, Instant(self.now), seed).unwrap();
        let mut h = Host {
            name: name.into(),
            peer,
            ip,
            nat,
            sockets: BTreeMap::new(),
            by_port: BTreeMap::new(),
            next_port: 40000,
            events: Vec::new(),
            sent: 0,
            offline: false,
        };
        for s in [SocketId::Main, SocketId::Probe] {
            let p = h.next_port;
            h.next_port += 1;
            h.sockets.insert(s, p);
            h.by_port.insert(p, s);
        }
        self.hosts.push(h);
        let i = self.hosts.len() - 1;
        self.drain(i);
        i
    }

    /// A host on a public IP (its main socket at `port`).
    pub fn add_public(&mut self, name: &str, config: Config, addr: SocketAddr) -> usize {
        let i = self.add_host(name, config, addr.ip(), None);
        let h = &mut self.hosts[i];
        let old = h.sockets[&SocketId::Main];
        h.by_port.remove(&old);
        h.sockets.insert(SocketId::Main, addr.port());
        h.by_port.insert(addr.port(), SocketId::Main);
        i
    }

    /// A host behind its own NAT box of `kind` with public IP `public_ip`.
    pub fn add_natted(
        &mut self,
        name: &str,
        config: Config,
        kind: NatKind,
        public_ip: IpAddr,
    ) -> usize {
        self.nats.push(NatBox {
            kind,
            public_ip,
            ei: BTreeMap::new(),
            ed: BTreeMap::new(),
            by_port: BTreeMap::new(),
        });
        let n = self.nats.len() - 1;
        let private = IpAddr::V4(Ipv4Addr::new(10, 0, (n / 250) as u8, (n % 250 + 1) as u8));
        self.add_host(name, config, private, Some(n))
    }

    fn alloc_public_port(&mut self, n: usize) -> u16 {
        loop {
            let p = 1024 + (self.rng.next_u32() % (65536 - 1024)) as u16;
            if !self.nats[n].by_port.contains_key(&p) {
                return p;
            }
        }
    }

    /// The source address a datagram from host `h` local `port` to `to` gets.
    fn outbound(&mut self, h: usize, port: u16, to: SocketAddr) -> SocketAddr {
        let Some(n) = self.hosts[h].nat else {
            return SocketAddr::new(self.hosts[h].ip, port);
        };
        let kind = self.nats[n].kind;
        let public = if kind == NatKind::Symmetric {
            match self.nats[n].ed.get(&(h, port, to)) {
                Some(&p) => p,
                None => {
                    let p = self.alloc_public_port(n);
                    self.nats[n].ed.insert((h, port, to), p);
                    self.nats[n].by_port.insert(
                        p,
                        Mapping {
                            host: h,
                            local_port: port,
                            dest: Some(to),
                            contacted: BTreeSet::new(),
                        },
                    );
                    p
                }
            }
        } else {
            match self.nats[n].ei.get(&(h, port)) {
                Some(&p) => p,
                None => {
                    let p = self.alloc_public_port(n);
                    self.nats[n].ei.insert((h, port), p);
                    self.nats[n].by_port.insert(
                        p,
                        Mapping {
                            host: h,
                            local_port: port,
                            dest: None,
                            contacted: BTreeSet::new(),
                        },
                    );
                    p
                }
            }
        };
        if let Some(m) = self.nats[n].by_port.get_mut(&public) {
            m.contacted.insert(to);
        }
        SocketAddr::new(self.nats[n].public_ip, public)
    }

    /// Where an inbound datagram ends up: (host, socket), or None if dropped.
    fn inbound(&self, d: &Datagram) -> Option<(usize, SocketId)> {
        for (i, h) in self.hosts.iter().enumerate() {
            if h.nat.is_none() && h.ip == d.to.ip() {
                return h.by_port.get(&d.to.port()).map(|s| (i, *s));
            }
        }
        let n = self.nats.iter().position(|n| n.public_ip == d.to.ip())?;
        let nb = &self.nats[n];
        let m = nb.by_port.get(&d.to.port())?;
        let ok = match nb.kind {
            NatKind::FullCone => true,
            NatKind::AddrRestricted => m.contacted.iter().any(|c| c.ip() == d.from.ip()),
            NatKind::PortRestricted => m.contacted.contains(&d.from),
            NatKind::Symmetric => m.dest == Some(d.from),
        };
        if !ok {
            return None;
        }
        let h = &self.hosts[m.host];
        h.by_port.get(&m.local_port).map(|s| (m.host, *s))
    }

    /// Takes a host off the network (or puts it back): while offline its
    /// timers do not run and datagrams to it are lost.
    pub fn set_offline(&mut self, h: usize, offline: bool) {
        self.hosts[h].offline = offline;
    }

    fn drain(&mut self, h: usize) {
        let now = Instant(self.now);
        while let Some(ev) = self.hosts[h].peer.poll_event() {
            match &ev {
                Event::OpenPoolSockets { sockets } => {
                    for s in sockets {
                        let host = &mut self.hosts[h];
                        let p = host.next_port;
                        host.next_port = host.next_port.wrapping_add(1).max(1024);
                        host.sockets.insert(*s, p);
                        host.by_port.insert(p, *s);
                    }
                }
                Event::ClosePoolSockets { sockets } => {
                    for s in sockets {
                        let host = &mut self.hosts[h];
                        if let Some(p) = host.sockets.remove(s) {
                            host.by_port.remove(&p);
                        }
                    }
                }
                _ => {}
            }
            self.hosts[h].events.push((self.now, ev));
        }
        while let Some(t) = self.hosts[h].peer.poll_transmit(now) {
            if self.hosts[h].offline {
                continue;
            }
            self.hosts[h].sent += 1;
            let Remote::Udp(to) = t.remote else { continue };
            let Some(&port) = self.hosts[h].sockets.get(&t.socket) else {
                continue;
            };
            let from = self.outbound(h, port, to);
            let jitter = if self.jitter_ms > 0 {
                self.rng.next_u64() % (self.jitter_ms + 1)
            } else {
                0
            };
            self.seq += 1;
            self.queue.insert(
                (self.now + self.latency_ms + jitter, self.seq),
                Datagram {
                    from,
                    to,
                    bytes: t.bytes,
                },
            );
        }
    }

    /// One event (a delivery or a timer); false when nothing is left before
    /// `limit`.
    pub fn step(&mut self, limit: u64) -> bool {
        let next_dg = self.queue.first_key_value().map(|(k, _)| k.0);
        let next_timer = self
            .hosts
            .iter()
            .filter(|h| !h.offline)
            .filter_map(|h| h.peer.poll_timeout())
            .map(|t| t.as_millis())
            .min();
        let t = match (next_dg, next_timer) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => return false,
        };
        if t > limit {
            return false;
        }
        self.now = self.now.max(t);
        let now = Instant(self.now);
        if next_dg == Some(t) {
            let (_, d) = self.queue.pop_first().unwrap();
            match self.inbound(&d) {
                Some((h, _)) if self.hosts[h].offline => self.filtered += 1,
                Some((h, s)) => {
                    self.delivered += 1;
                    self.hosts[h]
                        .peer
                        .handle_datagram(now, s, Remote::Udp(d.from), &d.bytes);
                    self.drain(h);
                }
                None => self.filtered += 1,
            }
            return true;
        }
        for h in 0..self.hosts.len() {
            if self.hosts[h].offline {
                continue;
            }
            if self.hosts[h].peer.poll_timeout().is_some_and(|x| x <= now) {
                self.hosts[h].peer.handle_timeout(now);
                self.drain(h);
            }
        }
        true
    }

    pub fn run_until(&mut self, until: u64) {
        while self.step(until) {}
        self.now = self.now.max(until);
    }

    /// Runs until `done` holds (checked after every step) or `until`.
    pub fn run_while(&mut self, until: u64, mut done: impl FnMut(&Net) -> bool) -> bool {
        while self.step(until) {
            if done(self) {
                return true;
            }
        }
        done(self)
    }

    pub fn with_peer<R>(&mut self, h: usize, f: impl FnOnce(&mut Peer, Instant) -> R) -> R {
        let now = Instant(self.now);
        let r = f(&mut self.hosts[h].peer, now);
        self.drain(h);
        r
    }
}

/// How two peers ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Each has the other as a direct connection.
    Direct,
    /// At least one reaches the other only through an introducer.
    Proxy,
    /// Not connected.
    None,
}

pub fn outcome(net: &Net, a: usize, b: usize) -> Outcome {
    let ida = net.hosts[a].peer.peer_id();
    let idb = net.hosts[b].peer.peer_id();
    let ab = net.hosts[a].peer.peer(&idb).filter(|e| e.connected);
    let ba = net.hosts[b].peer.peer(&ida).filter(|e| e.connected);
    match (ab, ba) {
        (Some(x), Some(y)) if x.proxy.is_none() && y.proxy.is_none() => Outcome::Direct,
        (None, None) => Outcome::None,
        _ => Outcome::Proxy,
    }
}

/// Two introducers on public addresses, plus their (id, addr) list.
pub fn two_introducers(net: &mut Net) -> Vec<(u8, &'static str)> {
    let list: Vec<(u8, &'static str)> =
        vec![(201, "198.51.100.1:9001"), (202, "198.51.100.2:9002")];
    for (n, a) in &list {
        let c = introducer_config(*n, a);
        net.add_public(&format!("intro{n}"), c, a.parse().unwrap());
    }
    list
}
