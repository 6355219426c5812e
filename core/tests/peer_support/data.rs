//! Shared by the `peer_data_*` tests: members with signing keys, events
//! packed the reference's way, and short renderings of data-plane traffic
//! (sealed messages are random-looking, so transcripts show their length
//! and a hash prefix instead of the bytes).

use std::fmt::Write as _;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::event::{pack_event, EventArgs};
use streamrelay::crypto::identity::{
    create_key_pair, create_shared_key, sha256, KeyPair, SharedKey, SubclusterKeys,
};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Event, Instant, Peer, SocketId, Transmit};
use streamrelay::wire::control::Ping;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

use super::{drain_events, drain_transmits, hex, hex_id, name_ids, render_event, udp, CLUSTER};

/// The wall clock the test peers run at (ms).
pub const WALL: i64 = 1_700_000_000_000;

/// The subcluster of these tests.
pub fn shared() -> SharedKey {
    create_shared_key("data-plane-tests").unwrap()
}

pub fn sub_keys() -> SubclusterKeys {
    SubclusterKeys::from_shared_key(&shared())
}

pub fn scid() -> [u8; 32] {
    sub_keys().subcluster_id()
}

/// A publisher's personal key pair.
pub fn signer(n: u8) -> KeyPair {
    create_key_pair(format!("signer-{n}").as_str()).unwrap()
}

/// The config of [`data_peer`].
pub fn data_config(n: u8, addr: &str) -> Config {
    let mut c = super::config(n);
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some(addr.parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    c.signing_keys = Some(signer(n));
    c
}

/// A peer with a known NAT type and public address, signing keys, and the
/// test wall clock; its first tick already ran.
pub fn data_peer(n: u8, addr: &str, f: impl FnOnce(&mut Config)) -> Peer {
    let mut c = data_config(n, addr);
    f(&mut c);
    let mut p = Peer::new(c, Instant::ZERO, [n; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// A member of the test subcluster.
pub fn member(n: u8, addr: &str) -> Peer {
    let mut p = data_peer(n, addr, |_| {});
    p.join(Instant::ZERO, &shared()).unwrap();
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// Makes peer `n` at `addr` a connected, fresh entry of `p` (it sends a
/// connection Ping, P5), and drops what `p` sends back (the Pong and the
/// Sync of first contact).
pub fn connect(p: &mut Peer, now: Instant, n: u8, addr: &str) {
    let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    p.handle_datagram(now, SocketId::Main, udp(addr), &pk.encode().unwrap());
    drain_transmits(p, now);
    drain_events(p);
}

/// The packets `api.js` `emit(name, payload)` publishes, signed by
/// `signer(9)` and sealed with randomness from `seed`.
pub fn event_packets(name: &str, payload: &[u8], seed: u64) -> Vec<Packet> {
    event_packets_with(name, payload, seed, &sub_keys(), &signer(9), |_| {})
}

pub fn event_packets_with(
    name: &str,
    payload: &[u8],
    seed: u64,
    keys: &SubclusterKeys,
    signing: &KeyPair,
    f: impl FnOnce(&mut EventArgs<'_>),
) -> Vec<Packet> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut args = EventArgs::new(&CLUSTER, name, payload);
    f(&mut args);
    pack_event(&args, keys, signing, WALL as u64, &mut rng).unwrap()
}

pub fn frame(p: &Packet, hops: u32) -> Vec<u8> {
    let mut p = p.clone();
    p.hops = hops;
    p.encode().unwrap()
}

fn short(b: &[u8]) -> String {
    if b == [0] {
        return "00".into();
    }
    let h = hex(b);
    if h.len() > 8 {
        format!("{}…", &h[..8])
    } else {
        h
    }
}

fn printable(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| (0x20..0x7f).contains(&c))
}

fn bytes_summary(b: &[u8]) -> String {
    if printable(b) && b.len() <= 160 {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        format!("<{}B {}>", b.len(), short(&sha256(b)))
    }
}

/// One line for a data-plane datagram.
pub fn render_data(b: &[u8]) -> String {
    let Ok(p) = PacketRef::decode(b) else {
        return format!("raw {}", short(b));
    };
    let mut s = String::new();
    write!(s, "{}", p.packet_type).unwrap();
    if p.hops != 0 {
        write!(s, " hops={}", p.hops).unwrap();
    }
    if p.index != -1 {
        write!(s, " index={}", p.index).unwrap();
    }
    if p.clock != 1 {
        write!(s, " clock={}", p.clock).unwrap();
    }
    if p.ttl != 21_600_000 {
        write!(s, " ttl={}", p.ttl).unwrap();
    }
    write!(s, " pid={}", short(p.packet_id)).unwrap();
    for (name, v) in [
        ("cluster", p.cluster_id),
        ("scid", p.subcluster_id),
        ("prev", p.previous_id),
        ("next", p.next_id),
        ("usr1", p.usr1),
        ("usr2", p.usr2),
        ("usr3", p.usr3),
        ("usr4", p.usr4),
    ] {
        if v == [0] {
            continue;
        }
        if printable(v) && v.iter().all(u8::is_ascii_digit) {
            write!(s, " {name}={:?}", String::from_utf8_lossy(v)).unwrap();
        } else {
            write!(s, " {name}={}", short(v)).unwrap();
        }
    }
    if p.packet_type == PacketType::Sync {
        write!(s, " summary={}", hex(p.message)).unwrap();
    } else {
        write!(s, " msg={}", bytes_summary(p.message)).unwrap();
    }
    name_ids(&s)
}

pub fn render_data_transmit(t: &Transmit) -> String {
    format!("{:?} -> {}: {}", t.socket, t.remote, render_data(&t.bytes))
}

/// One line for an event (data-plane events shortened).
pub fn render_data_event(e: &Event) -> String {
    let s = match e {
        Event::Packet {
            event_hash,
            payload,
            packet_id,
            head_id,
            publisher,
            hops,
            from,
            stream_from,
            ..
        } => format!(
            "Packet event={} payload={} pid={} head={} publisher={} hops={hops} from={from}{}",
            short(event_hash),
            bytes_summary(payload),
            short(packet_id),
            head_id.as_ref().map_or("-".into(), |h| short(h)),
            short(publisher),
            stream_from.map_or(String::new(), |p| format!(" stream_from={}", p.to_hex())),
        ),
        Event::Unverified {
            event_hash,
            payload,
            packet_id,
            reason,
            from,
            ..
        } => format!(
            "Unverified event={} payload={} pid={} reason={reason:?} from={from}",
            short(event_hash),
            bytes_summary(payload),
            short(packet_id)
        ),
        Event::Unopenable {
            event_hash,
            packet_id,
            error,
            from,
            ..
        } => format!(
            "Unopenable event={} pid={} error={error} from={from}",
            short(event_hash),
            short(packet_id)
        ),
        Event::Query {
            query_id,
            question,
            from,
        } => format!(
            "Query qid={} question={} from={from}",
            short(query_id),
            bytes_summary(question)
        ),
        Event::Answer {
            query_id,
            packet_id,
            index,
            message,
            from,
        } => format!(
            "Answer qid={} pid={} index={index} msg={} from={from}",
            short(query_id),
            short(packet_id),
            bytes_summary(message)
        ),
        Event::SyncFinished { remote, prefix } => {
            format!("SyncFinished remote={remote} prefix={prefix:?}")
        }
        other => render_event(other),
    };
    name_ids(&s)
}

/// Transmits of the data plane (types 5-8; pings, pongs, intros and
/// joins are left out) and every event, data-plane style.
pub fn data_transcript(p: &mut Peer, now: Instant) -> String {
    let mut s = String::new();
    for t in drain_transmits(p, now) {
        if (1..=4).contains(&t.bytes.get(4).copied().unwrap_or(0)) {
            continue;
        }
        writeln!(s, "tx {}", render_data_transmit(&t)).unwrap();
    }
    for e in drain_events(p) {
        writeln!(s, "ev {}", render_data_event(&e)).unwrap();
    }
    s
}

/// Runs the due timers up to `until`, data-plane transcript with times.
pub fn run_data_timers(p: &mut Peer, until: Instant) -> String {
    let mut s = String::new();
    while let Some(t) = p.poll_timeout() {
        if t > until {
            break;
        }
        p.handle_timeout(t);
        let part = data_transcript(p, t);
        if !part.is_empty() {
            writeln!(s, "@{}", t.as_millis()).unwrap();
            s.push_str(&part);
        }
    }
    s
}

/// The `Event::Packet`s among `events`: (event hash, payload, packetId).
pub fn packets(events: &[Event]) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Packet {
                event_hash,
                payload,
                packet_id,
                ..
            } => Some((event_hash.to_vec(), payload.clone(), packet_id.to_vec())),
            _ => None,
        })
        .collect()
}

/// Peers wired to each other by address, datagrams delivered at once: a
/// scripted network for transcripts of multi-peer exchanges.
pub struct Mesh {
    pub peers: Vec<(String, streamrelay::peer::Remote, Peer)>,
}

impl Mesh {
    pub fn new() -> Self {
        Mesh { peers: Vec::new() }
    }

    pub fn add(&mut self, name: &str, addr: &str, p: Peer) -> usize {
        self.peers.push((name.into(), udp(addr), p));
        self.peers.len() - 1
    }

    pub fn peer(&mut self, i: usize) -> &mut Peer {
        &mut self.peers[i].2
    }

    fn name_of(&self, r: &streamrelay::peer::Remote) -> String {
        self.peers
            .iter()
            .find(|(_, a, _)| a == r)
            .map_or_else(|| r.to_string(), |(n, _, _)| n.clone())
    }

    /// Delivers everything queued until the network is quiet; the data
    /// plane's datagrams and every peer's events, as text.
    pub fn pump(&mut self, now: Instant) -> String {
        let mut log = String::new();
        for _ in 0..10_000 {
            let mut any = false;
            for i in 0..self.peers.len() {
                let from = self.peers[i].1;
                let sent = drain_transmits(&mut self.peers[i].2, now);
                for e in drain_events(&mut self.peers[i].2) {
                    if matches!(
                        e,
                        Event::Connection { .. } | Event::Disconnection { .. } | Event::Join { .. }
                    ) {
                        continue;
                    }
                    writeln!(log, "{} ev {}", self.peers[i].0, render_data_event(&e)).unwrap();
                }
                for t in sent {
                    any = true;
                    if !(1..=4).contains(&t.bytes[4]) {
                        writeln!(
                            log,
                            "{} -> {}: {}",
                            self.peers[i].0,
                            self.name_of(&t.remote),
                            render_data(&t.bytes)
                        )
                        .unwrap();
                    }
                    if let Some(j) = self.peers.iter().position(|(_, a, _)| *a == t.remote) {
                        self.peers[j]
                            .2
                            .handle_datagram(now, SocketId::Main, from, &t.bytes);
                    }
                }
            }
            if !any {
                return log;
            }
        }
        panic!("the mesh never went quiet");
    }

    /// Makes `a` and `b` connected entries of each other (a connection
    /// Ping each way), quietly.
    pub fn link(&mut self, a: usize, b: usize, now: Instant) {
        for (x, y) in [(a, b), (b, a)] {
            let id = self.peers[x].2.peer_id().to_hex();
            let ping = Ping::nat_announcement(&id, Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
            let mut pk = ping.to_packet().unwrap();
            pk.set(Field::ClusterId, &CLUSTER).unwrap();
            let from = self.peers[x].1;
            self.peers[y]
                .2
                .handle_datagram(now, SocketId::Main, from, &pk.encode().unwrap());
            drain_transmits(&mut self.peers[y].2, now);
            drain_events(&mut self.peers[y].2);
        }
    }
}
