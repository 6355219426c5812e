//! Generates the flow vectors (`streamrelay-flows/1`) from the Rust core:
//!
//! ```sh
//! cargo run -p streamrelay-vectors --example flows -- --out vectors/flows.json
//! cargo run -p streamrelay-vectors --example flows -- --check vectors/flows.json
//! ```
//!
//! Each scenario runs a few `Peer`s on a small deterministic network (public
//! addresses, a fixed latency, no loss), plus datagrams a test writes by
//! hand (a remote that is not a Peer: heartbeats, hostile input). Every
//! Peer's transcript becomes one flow, `SCENARIO/NAME`: what another
//! implementation must answer, input by input, when it replays it.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use streamrelay::crypto::identity::{create_cluster_id, create_id, create_key_pair};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Instant, Introducer, Peer, PeerId, Profile, Remote, SocketId};
use streamrelay::wire::control::Ping;
use streamrelay::wire::json::JsValue;
use streamrelay::wire::{Field, Packet, PacketType};
use streamrelay_vectors::flows::{self, FlowConfig, Input};

/// Wall clock = monotonic + this (2023-11-14T22:13:20Z at 0).
const WALL: i64 = 1_700_000_000_000;
/// One-way latency between any two hosts.
const LATENCY_MS: u64 = 20;
/// Every host's main port; the probe socket is the next one, pool socket
/// `n` is `POOL_BASE + n`.
const PORT: u16 = 40_000;
const POOL_BASE: u16 = 50_000;
const SUBCLUSTER: &str = "flows subcluster";

fn cluster() -> [u8; 32] {
    create_cluster_id("streamrelay flows").expect("cluster id")
}

/// A datagram on its way: to node, its socket, from, bytes.
type InFlight = (usize, SocketId, Remote, Vec<u8>);

struct Node {
    name: String,
    peer: Peer,
    fc: FlowConfig,
    seed: [u8; 32],
    start: u64,
    ip: IpAddr,
    steps: Vec<JsValue>,
    /// Switched off: no timers, datagrams to it are lost; its flow ends.
    offline: bool,
}

/// A deterministic network of Peers; every input to a Peer is recorded.
struct Net {
    scenario: String,
    /// The behaviour every Peer of the scenario runs.
    profile: Profile,
    now: u64,
    nodes: Vec<Node>,
    /// (time, seq) → datagram in flight.
    queue: BTreeMap<(u64, u64), InFlight>,
    seq: u64,
}

fn addr(ip: IpAddr, socket: SocketId) -> SocketAddr {
    let port = match socket {
        SocketId::Main => PORT,
        SocketId::Probe => PORT + 1,
        SocketId::Pool(n) => POOL_BASE.wrapping_add(n),
    };
    SocketAddr::new(ip, port)
}

/// A peer id from a name: `createId(name)`.
fn peer_id(name: &str) -> String {
    create_id(name).expect("id")
}

impl Net {
    fn new(scenario: &str) -> Self {
        Net {
            scenario: scenario.into(),
            profile: Profile::Reference,
            now: 0,
            nodes: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
        }
    }

    /// A config on `ip` (main socket `ip:40000`), in the reference profile.
    fn config(name: &str, ip: &str) -> FlowConfig {
        let mut c = Config::with_profile(&peer_id(name), Some(cluster()), Profile::Reference);
        c.wall_clock_offset_ms = WALL;
        c.signing_keys = Some(create_key_pair(name).expect("keys"));
        let _ = ip;
        FlowConfig {
            config: c,
            signing_seed: Some(name.into()),
        }
    }

    fn introducer(name: &str, ip: &str) -> FlowConfig {
        let mut fc = Net::config(name, ip);
        fc.config.indexed = true;
        fc.config.nat_type = Some(NatType::UNRESTRICTED);
        fc.config.public_address = Some(SocketAddr::new(ip.parse().unwrap(), PORT));
        fc
    }

    /// A peer that knows its NAT type and address (no reflection).
    fn ready(name: &str, ip: &str, nat: NatType) -> FlowConfig {
        let mut fc = Net::config(name, ip);
        fc.config.nat_type = Some(nat);
        fc.config.public_address = Some(SocketAddr::new(ip.parse().unwrap(), PORT));
        fc
    }

    fn with_introducers(mut fc: FlowConfig, intros: &[(&str, &str)]) -> FlowConfig {
        for (name, ip) in intros {
            fc.config.introducers.push(Introducer {
                peer_id: PeerId::from_hex(&peer_id(name)).unwrap(),
                remote: Remote::Udp(SocketAddr::new(ip.parse().unwrap(), PORT)),
            });
        }
        fc
    }

    fn add(&mut self, name: &str, ip: &str, mut fc: FlowConfig) -> usize {
        fc.config.behaviour = self.profile.behaviour();
        let seed: [u8; 32] = streamrelay::crypto::identity::sha256(name.as_bytes());
        let peer = Peer::new(fc.config.clone(), Instant(self.now), seed).expect("config");
        self.nodes.push(Node {
            name: name.into(),
            peer,
            fc,
            seed,
            start: self.now,
            ip: ip.parse().unwrap(),
            steps: Vec::new(),
            offline: false,
        });
        // What Peer::new queued (events, a first deadline) comes out at the
        // first input.
        self.nodes.len() - 1
    }

    fn find(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .expect("node")
    }

    /// Runs `input` on node `i` now, records it, routes its transmits.
    fn input(&mut self, i: usize, input: Input) -> JsValue {
        let now = self.now;
        let node = &mut self.nodes[i];
        let config = node.fc.config.clone();
        let expect = flows::step(&mut node.peer, &config, Instant(now), &input);
        let mut rec = JsValue::Object(Default::default());
        if let JsValue::Object(o) = &mut rec {
            o.insert("at", JsValue::Number(now as f64));
            o.insert("input", input.to_json());
            o.insert("expect", expect.clone());
        }
        node.steps.push(rec);
        let from_ip = node.ip;
        for (socket, remote, bytes) in flows::transmits_of(&expect) {
            let Remote::Udp(to) = remote else { continue };
            let target = self.nodes.iter().enumerate().find_map(|(j, n)| {
                [SocketId::Main, SocketId::Probe]
                    .into_iter()
                    .chain((0..256).map(SocketId::Pool))
                    .find(|s| addr(n.ip, *s) == to)
                    .map(|s| (j, s))
            });
            if let Some((j, s)) = target {
                self.seq += 1;
                self.queue.insert(
                    (now + LATENCY_MS, self.seq),
                    (j, s, Remote::Udp(addr(from_ip, socket)), bytes),
                );
            }
        }
        expect
    }

    /// A datagram from a remote that is not a Peer of the network.
    fn inject(&mut self, i: usize, from: &str, bytes: Vec<u8>) {
        self.input(
            i,
            Input::Datagram {
                socket: SocketId::Main,
                remote: Remote::Udp(from.parse().unwrap()),
                bytes,
            },
        );
    }

    /// Runs timers and deliveries up to `until` (inclusive), in time order;
    /// at one instant, timers first (node order), then datagrams (sent order).
    fn run_until(&mut self, until: u64) {
        loop {
            let next_timer = self
                .nodes
                .iter()
                .filter(|n| !n.offline)
                .filter_map(|n| n.peer.poll_timeout().map(|t| t.as_millis()))
                .min();
            let next_dgram = self.queue.keys().next().map(|k| k.0);
            let next = match (next_timer, next_dgram) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            for i in 0..self.nodes.len() {
                if !self.nodes[i].offline
                    && self.nodes[i]
                        .peer
                        .poll_timeout()
                        .is_some_and(|t| t.as_millis() <= self.now)
                {
                    self.input(i, Input::Timeout);
                }
            }
            while let Some((&k, _)) = self.queue.iter().next() {
                if k.0 > self.now {
                    break;
                }
                let (j, socket, remote, bytes) = self.queue.remove(&k).unwrap();
                if !self.nodes[j].offline {
                    self.input(
                        j,
                        Input::Datagram {
                            socket,
                            remote,
                            bytes,
                        },
                    );
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs until `from`, then the named nodes join the subcluster, one
    /// every `gap` ms.
    fn join_all<'a>(&mut self, names: impl Iterator<Item = &'a str>, from: u64, gap: u64) {
        self.run_until(from);
        for (k, name) in names.enumerate() {
            self.now = from + gap * k as u64;
            let i = self.find(name);
            self.input(
                i,
                Input::Join {
                    shared_key_seed: SUBCLUSTER.into(),
                },
            );
        }
    }

    /// Every node's flow, as JSON text (one step per line).
    fn flows(self, out: &mut Vec<String>) {
        for n in self.nodes {
            let mut s = String::new();
            s.push_str(&format!(
                "{{\"name\":{},\"config\":{},\"seed\":\"{}\",\"start\":{},\"steps\":[\n",
                JsValue::from(format!("{}/{}", self.scenario, n.name).as_str()).stringify(),
                n.fc.to_json().stringify(),
                streamrelay_vectors::js::hex(&n.seed),
                n.start
            ));
            let steps: Vec<String> = n.steps.iter().map(|x| x.stringify()).collect();
            s.push_str(&steps.join(",\n"));
            s.push_str("\n]}");
            out.push(s);
        }
    }
}

fn ping_from(requester: &str, nat: Option<NatType>) -> Vec<u8> {
    let mut p = Ping::heartbeat(&peer_id(requester), nat, 60_000.0, WALL as f64)
        .to_packet()
        .unwrap();
    p.set(Field::ClusterId, &cluster()).unwrap();
    p.encode().unwrap()
}

/// Reflection: a peer that does not know its NAT asks two introducers.
fn reflection(out: &mut Vec<String>) {
    let mut net = Net::new("reflection");
    net.add(
        "introducer-1",
        "198.51.100.1",
        Net::introducer("introducer-1", "198.51.100.1"),
    );
    net.add(
        "introducer-2",
        "198.51.100.2",
        Net::introducer("introducer-2", "198.51.100.2"),
    );
    let intros = [
        ("introducer-1", "198.51.100.1"),
        ("introducer-2", "198.51.100.2"),
    ];
    net.add(
        "alice",
        "192.0.2.10",
        Net::with_introducers(Net::config("alice", "192.0.2.10"), &intros),
    );
    net.run_until(4_000);
    net.flows(out);
}

/// Ping/Pong: heartbeats from a remote that is not in the table.
fn ping_pong(out: &mut Vec<String>) {
    let mut net = Net::new("ping-pong");
    let p = net.add(
        "alice",
        "192.0.2.10",
        Net::ready("alice", "192.0.2.10", NatType::PORT_RESTRICTED),
    );
    net.now = 100;
    net.inject(
        p,
        "192.0.2.77:4000",
        ping_from("stranger", Some(NatType::ADDR_RESTRICTED)),
    );
    net.now = 200;
    net.inject(p, "192.0.2.77:4000", ping_from("stranger", None));
    net.run_until(1_000);
    net.flows(out);
}

/// Join and introduction, then publish (a lone packet and a chain), relay,
/// sync, query, snapshot and restore; once in the reference profile and
/// once in the default one (the core's improvements, docs/compat.md).
fn subcluster(out: &mut Vec<String>, profile: Profile) {
    let mut net = Net::new(match profile {
        Profile::Reference => "subcluster",
        Profile::Improved => "default-profile-subcluster",
    });
    net.profile = profile;
    let intro = ("introducer-1", "198.51.100.1");
    net.add(intro.0, intro.1, Net::introducer(intro.0, intro.1));
    let members = [
        ("alice", "192.0.2.10", NatType::UNRESTRICTED),
        ("bob", "192.0.2.11", NatType::PORT_RESTRICTED),
        ("carol", "203.0.113.12", NatType::ADDR_RESTRICTED),
    ];
    for (name, ip, nat) in members {
        net.add(
            name,
            ip,
            Net::with_introducers(Net::ready(name, ip, nat), &[intro]),
        );
    }
    net.join_all(members.iter().map(|m| m.0), 100, 50);
    net.run_until(3_000);
    let alice = net.find("alice");
    let ids = net.input(
        alice,
        Input::Publish {
            shared_key_seed: SUBCLUSTER.into(),
            event_name: "greeting".into(),
            payload: b"hello, flows".to_vec(),
            ttl: None,
        },
    );
    net.run_until(3_500);
    let big: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    net.input(
        alice,
        Input::Publish {
            shared_key_seed: SUBCLUSTER.into(),
            event_name: "blob".into(),
            payload: big,
            ttl: Some(60_000),
        },
    );
    net.run_until(5_000);
    // A late member: joins, syncs with alice, asks for the first packet.
    let dave = net.add(
        "dave",
        "203.0.113.13",
        Net::with_introducers(
            Net::ready("dave", "203.0.113.13", NatType::UNRESTRICTED),
            &[intro],
        ),
    );
    net.run_until(5_500);
    net.input(
        dave,
        Input::Join {
            shared_key_seed: SUBCLUSTER.into(),
        },
    );
    net.run_until(6_500);
    let alice_id = PeerId::from_hex(&peer_id("alice")).unwrap();
    net.input(dave, Input::Sync { peer_id: alice_id });
    net.run_until(7_000);
    let first = ids
        .get("result")
        .and_then(|r| r.get("packetIds"))
        .and_then(JsValue::as_array)
        .and_then(|a| a.first())
        .and_then(JsValue::as_str)
        .expect("alice published")
        .to_string();
    net.input(dave, Input::Query { packet_id: first });
    net.run_until(8_000);
    // bob restarts from a snapshot.
    let bob = net.find("bob");
    let snap = net.input(bob, Input::Snapshot);
    let bytes = snap
        .get("result")
        .and_then(|r| r.get("snapshot"))
        .and_then(JsValue::as_str)
        .map(|h| streamrelay_vectors::js::hex_decode_strict(h).unwrap())
        .expect("a snapshot");
    net.now += 500;
    net.input(
        bob,
        Input::Restore {
            seed: [0xb0; 32],
            bytes,
        },
    );
    net.run_until(10_000);
    net.input(bob, Input::Close);
    net.run_until(10_500);
    net.flows(out);
}

/// Hostile input: nothing here may make the Peer panic, answer, or lose
/// what it holds.
fn hostile(out: &mut Vec<String>) {
    let mut net = Net::new("hostile");
    let p = net.add(
        "alice",
        "192.0.2.10",
        Net::ready("alice", "192.0.2.10", NatType::UNRESTRICTED),
    );
    net.now = 10;
    net.input(
        p,
        Input::Join {
            shared_key_seed: SUBCLUSTER.into(),
        },
    );
    let from = "192.0.2.66:6666";
    let ping = ping_from("mallory", Some(NatType::UNRESTRICTED));
    let mut t = 100;
    let mut send = |net: &mut Net, bytes: Vec<u8>| {
        net.now = t;
        t += 10;
        net.inject(p, from, bytes);
    };
    send(&mut net, Vec::new());
    send(&mut net, vec![0x01]);
    send(&mut net, b"not a packet at all".to_vec());
    let mut bad_magic = ping.clone();
    bad_magic[0] ^= 0xff;
    send(&mut net, bad_magic);
    send(&mut net, ping[..ping.len() / 2].to_vec());
    let mut long_prefix = ping.clone();
    let at = long_prefix.len() - 3;
    long_prefix[at] = 0xff;
    send(&mut net, long_prefix);
    // A Ping whose message is not JSON.
    let mut raw = Packet::new(PacketType::Ping);
    raw.set(Field::ClusterId, &cluster()).unwrap();
    raw.message = b"{\"requesterPeerId\":".to_vec();
    send(&mut net, raw.encode().unwrap());
    // A forged Publish for alice's subcluster: random bytes as the sealed box.
    let scid = streamrelay::crypto::identity::subcluster_id(
        &streamrelay::crypto::identity::create_shared_key(SUBCLUSTER).unwrap(),
    );
    let mut forged = Packet::new(PacketType::Publish);
    forged.set(Field::ClusterId, &cluster()).unwrap();
    forged.set(Field::SubclusterId, &scid).unwrap();
    forged.set(Field::Usr1, &[0x11; 32]).unwrap();
    forged.message = (0..200u32).map(|i| (i * 13) as u8).collect();
    let id = streamrelay::crypto::identity::sha256(&forged.message);
    forged.set(Field::PacketId, &id).unwrap();
    send(&mut net, forged.encode().unwrap());
    // A real publish of the subcluster by a peer alice never met (a Peer
    // outside the network): delivered once; its replay is not delivered
    // again; with a signature that does not verify it is Unverified.
    let mut fc = Net::ready("outsider", "192.0.2.67", NatType::UNRESTRICTED);
    fc.config.signing_keys = Some(create_key_pair("outsider").unwrap());
    let mut outsider = Peer::new(fc.config, Instant(0), [0x0e; 32]).unwrap();
    let key = streamrelay::crypto::identity::create_shared_key(SUBCLUSTER).unwrap();
    let opts = streamrelay::peer::PublishOptions::new();
    let mut frames = Vec::new();
    for (name, payload) in [
        ("signed", &b"from the outside"[..]),
        ("tampered", b"the sig lies"),
    ] {
        let ids = outsider
            .publish(Instant(0), &key, name, payload, &opts)
            .unwrap();
        frames.push(outsider.cached(&ids[0]).unwrap().to_vec());
    }
    let mut tampered = streamrelay::wire::PacketRef::decode(&frames[1])
        .unwrap()
        .to_packet();
    tampered.sig[0] ^= 0x01;
    send(&mut net, frames[0].clone());
    send(&mut net, frames[0].clone());
    send(&mut net, tampered.encode().unwrap());
    // The same ping 40 times in a row from one remote (a flood).
    for _ in 0..40 {
        send(&mut net, ping.clone());
    }
    net.run_until(2_000);
    net.flows(out);
}

/// Introductions with each strategy: symmetric (5), port-restricted (7)
/// and unrestricted (31) members meet through an introducer; 7 → 5 opens
/// (TRAVERSAL_OPEN, pool sockets), 5 → 7 connects (TRAVERSAL_CONNECT),
/// 31 → 7 waits (DEFER), 5 ↔ 5 goes through the introducer (PROXY).
fn strategies(out: &mut Vec<String>) {
    let mut net = Net::new("strategies");
    let intro = ("introducer-1", "198.51.100.1");
    net.add(intro.0, intro.1, Net::introducer(intro.0, intro.1));
    let members = [
        ("sam", "192.0.2.20", NatType::ENDPOINT_RESTRICTED),
        ("pat", "192.0.2.21", NatType::PORT_RESTRICTED),
        ("una", "192.0.2.22", NatType::UNRESTRICTED),
        ("syd", "192.0.2.23", NatType::ENDPOINT_RESTRICTED),
    ];
    for (name, ip, nat) in members {
        let mut fc = Net::with_introducers(Net::ready(name, ip, nat), &[intro]);
        // Small sprays and pools keep the transcripts short.
        fc.config.timings.spray_ports = 4;
        fc.config.limits.pool_size = 4;
        net.add(name, ip, fc);
    }
    net.join_all(members.iter().map(|m| m.0), 100, 50);
    net.run_until(6_000);
    net.flows(out);
}

/// Streams, keepalives, a peer that goes silent (missing, then
/// forgotten), a short ttl, disconnect and reconnect.
fn liveness(out: &mut Vec<String>) {
    let mut net = Net::new("liveness");
    let intro = ("introducer-1", "198.51.100.1");
    let fast = |mut fc: FlowConfig| {
        fc.config.keepalive_ms = 2_000;
        fc
    };
    net.add(intro.0, intro.1, fast(Net::introducer(intro.0, intro.1)));
    for (name, ip) in [("alice", "192.0.2.10"), ("bob", "192.0.2.11")] {
        let fc = Net::with_introducers(Net::ready(name, ip, NatType::UNRESTRICTED), &[intro]);
        net.add(name, ip, fast(fc));
    }
    net.run_until(100);
    for name in ["alice", "bob"] {
        let i = net.find(name);
        net.input(
            i,
            Input::Join {
                shared_key_seed: SUBCLUSTER.into(),
            },
        );
    }
    net.run_until(1_500);
    let alice = net.find("alice");
    let bob = net.find("bob");
    net.input(
        alice,
        Input::Stream {
            peer_id: PeerId::from_hex(&peer_id("bob")).unwrap(),
            shared_key_seed: SUBCLUSTER.into(),
            event_name: "direct".into(),
            payload: b"for bob only".to_vec(),
        },
    );
    net.input(
        alice,
        Input::Publish {
            shared_key_seed: SUBCLUSTER.into(),
            event_name: "short-lived".into(),
            payload: b"gone in 3 s".to_vec(),
            ttl: Some(3_000),
        },
    );
    net.run_until(3_000);
    net.nodes[bob].offline = true;
    net.run_until(14_000);
    net.input(alice, Input::Disconnect);
    net.run_until(14_500);
    net.input(alice, Input::Reconnect);
    net.run_until(17_000);
    net.flows(out);
}

/// The whole file.
pub fn generate() -> String {
    let mut flows = Vec::new();
    ping_pong(&mut flows);
    reflection(&mut flows);
    subcluster(&mut flows, Profile::Reference);
    subcluster(&mut flows, Profile::Improved);
    strategies(&mut flows);
    liveness(&mut flows);
    hostile(&mut flows);
    format!(
        "{{\"format\":\"{}\",\"generator\":\"cargo run -p streamrelay-vectors --example flows -- --out vectors/flows.json\",\"flows\":[\n{}\n]}}\n",
        flows::FORMAT,
        flows.join(",\n")
    )
}

#[allow(dead_code)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = generate();
    match args.as_slice() {
        [flag, path] if flag == "--out" => match std::fs::write(path, &text) {
            Ok(()) => {
                println!("wrote {path} ({} bytes)", text.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                ExitCode::from(2)
            }
        },
        [flag, path] if flag == "--check" => match std::fs::read_to_string(path) {
            Ok(old) if old == text => {
                println!("{path} is fresh");
                ExitCode::SUCCESS
            }
            Ok(_) => {
                eprintln!("{path} is stale: regenerate it with --out");
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: flows --out FILE | --check FILE");
            ExitCode::from(2)
        }
    }
}
