//! `streamrelay peer`: a real Stream Relay peer, a thin command over
//! [`streamrelay_node::Node`] (which owns the sockets, the loop thread and
//! the state file).
//!
//! This thread turns options into a Node, publishes on schedule and prints
//! the Node's events: every line on stdout is one JSON object with `t` (ms
//! since start) and `event`. It waits for events at most 20 ms at a time so
//! that SIGINT and SIGTERM (a flag) are seen promptly; the Node itself
//! sleeps until its next deadline.

mod json;
mod signal;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant};

use clap::Args;
use streamrelay::crypto::identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, sha256, subcluster_id,
    to_hex, SharedKey,
};
use streamrelay::nat::NatType;
use streamrelay::peer::{DropReason, Event, Introducer, PeerId, Profile, Remote};
use streamrelay_node::{Node, NodeBuilder, NodeEvent};

use json::{obj, Json};

/// Options of `streamrelay peer`.
#[derive(Args, Debug)]
pub struct PeerArgs {
    /// UDP port of the main socket (default: any).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Bind address (IPv4 or IPv6).
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// Identity seed: peerId = hex sha256(S), signing keys = createKeyPair(S).
    #[arg(long)]
    seed: Option<String>,
    /// The peer id (64 hex digits), instead of --seed.
    #[arg(long = "peer-id")]
    peer_id: Option<String>,
    /// clusterId = createClusterId(S).
    #[arg(long = "cluster-seed", default_value = "latica-oracle")]
    cluster_seed: String,
    /// An introducer, ADDR:PORT:PEERID (repeatable; IPv6 as [ADDR]:PORT:PEERID).
    #[arg(long)]
    introducer: Vec<String>,
    /// A static NAT type (with --indexed: act as an introducer).
    #[arg(long)]
    nat: Option<u8>,
    /// Act as a static introducer (an "indexed" peer).
    #[arg(long)]
    indexed: bool,
    /// Keepalive in ms (the reference's default is 30000).
    #[arg(long)]
    keepalive: Option<u64>,
    /// Join the subcluster of createSharedKey(SEED) (repeatable).
    #[arg(long)]
    join: Vec<String>,
    /// Publish SEED:EVENT:PAYLOAD (repeatable). `{`/`[` = JSON, `hex:` = bytes,
    /// else UTF-8 text.
    #[arg(long)]
    publish: Vec<String>,
    /// Wait before each publish, in ms.
    #[arg(long = "publish-delay", default_value_t = 3000)]
    publish_delay: u64,
    /// An event name to recognise in `message` lines (repeatable).
    #[arg(long)]
    listen: Vec<String>,
    /// Exit after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// State file: restored at start when present, written (atomically)
    /// every 60 s and at exit. It holds secret keys.
    #[arg(long)]
    state: Option<String>,
    /// Protocol profile: `default` (improved) or `reference` (what the
    /// reference sends, decision for decision).
    #[arg(long, default_value = "default", value_parser = ["default", "improved", "reference"])]
    profile: String,
}

struct Pub {
    seed: String,
    event: String,
    payload: Vec<u8>,
}

fn parse_publish(s: &str) -> Result<Pub, String> {
    let mut it = s.splitn(3, ':');
    let (Some(seed), Some(event), Some(p)) = (it.next(), it.next(), it.next()) else {
        return Err(format!("--publish {s}: expected SEED:EVENT:PAYLOAD"));
    };
    let payload = if let Some(h) = p.strip_prefix("hex:") {
        decode_hex(h).ok_or_else(|| format!("--publish {s}: bad hex"))?
    } else if p.starts_with('{') || p.starts_with('[') {
        streamrelay::wire::json::parse(p.as_bytes())
            .map_err(|e| format!("--publish {s}: invalid JSON: {e}"))?;
        p.as_bytes().to_vec()
    } else {
        p.as_bytes().to_vec()
    };
    Ok(Pub {
        seed: seed.into(),
        event: event.into(),
        payload,
    })
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    if h.len() % 2 != 0 {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_introducer(s: &str) -> Result<Introducer, String> {
    let err = || format!("--introducer {s}: expected ADDR:PORT:PEERID");
    let (addr_port, id) = s.rsplit_once(':').ok_or_else(err)?;
    let peer_id = PeerId::from_hex(id).ok_or_else(err)?;
    let sa: SocketAddr = match addr_port.parse() {
        Ok(a) => a,
        Err(_) => {
            let (a, p) = addr_port.rsplit_once(':').ok_or_else(err)?;
            let ip: IpAddr = a.trim_matches(['[', ']']).parse().map_err(|_| err())?;
            SocketAddr::new(ip, p.parse().map_err(|_| err())?)
        }
    };
    Ok(Introducer {
        peer_id,
        remote: Remote::Udp(sa),
    })
}

struct Out {
    start: StdInstant,
}

impl Out {
    fn line(&self, event: &str, mut fields: Vec<(&str, Json)>) {
        let mut all = vec![
            ("t", Json::Num(self.start.elapsed().as_millis() as f64)),
            ("event", Json::Str(event.into())),
        ];
        all.append(&mut fields);
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", obj(all));
        let _ = stdout.flush();
    }

    fn error(&self, message: String) {
        self.line("error", vec![("message", Json::Str(message))]);
    }
}

fn nat_json(n: Option<NatType>) -> Json {
    n.map_or(Json::Null, |n| Json::Num(f64::from(n.0)))
}

fn remote_fields(r: &Remote) -> (Json, Json) {
    match r.udp() {
        Some(a) => (
            Json::Str(a.ip().to_string()),
            Json::Num(f64::from(a.port())),
        ),
        None => (Json::Str(r.to_string()), Json::Null),
    }
}

fn payload_json(p: &[u8]) -> Json {
    let mut f = vec![
        ("utf8", Json::Str(String::from_utf8_lossy(p).into_owned())),
        ("hex", Json::Str(to_hex(p))),
    ];
    if let Ok(s) = std::str::from_utf8(p) {
        if streamrelay::wire::json::parse(p).is_ok() && !s.trim().is_empty() {
            f.push(("json", Json::Raw(s.to_string())));
        }
    }
    Json::Obj(f.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Runs the peer until --duration, SIGINT or SIGTERM.
pub fn run(args: &PeerArgs) -> ExitCode {
    match run_inner(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("streamrelay peer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the options ask for beyond the Node's settings: the publishes and
/// the names to print.
struct Plan {
    publishes: Vec<Pub>,
    /// Shared keys by subcluster seed (`--join` and `--publish`).
    keys: BTreeMap<String, SharedKey>,
    /// Subcluster seeds by subcluster id, to print.
    seeds: BTreeMap<[u8; 32], String>,
    /// Event names by their hash, to print.
    names: BTreeMap<[u8; 32], String>,
}

impl Plan {
    fn new(args: &PeerArgs) -> Result<Plan, String> {
        let publishes = args
            .publish
            .iter()
            .map(|p| parse_publish(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = BTreeMap::new();
        for n in args.listen.iter().chain(publishes.iter().map(|p| &p.event)) {
            names.insert(sha256(n.as_bytes()), n.clone());
        }
        let mut keys = BTreeMap::new();
        let mut seeds = BTreeMap::new();
        for s in args.join.iter().chain(publishes.iter().map(|p| &p.seed)) {
            let k = create_shared_key(s.as_str()).map_err(|e| e.to_string())?;
            seeds.insert(subcluster_id(&k), s.clone());
            keys.insert(s.clone(), k);
        }
        Ok(Plan {
            publishes,
            keys,
            seeds,
            names,
        })
    }
}

/// The Node the options describe. The identity comes from `--peer-id` or
/// `--seed` when given, else from the state file, else it is new.
fn node_builder(args: &PeerArgs) -> Result<NodeBuilder, String> {
    let cluster_id = create_cluster_id(args.cluster_seed.as_str()).map_err(|e| e.to_string())?;
    let profile = Profile::from_name(&args.profile)
        .ok_or_else(|| format!("--profile {}: unknown", args.profile))?;
    let mut b = Node::builder()
        .cluster_id(cluster_id)
        .profile(profile)
        .bind(args.address)
        .port(args.port)
        .indexed(args.indexed);
    let peer_id = match (&args.peer_id, &args.seed) {
        (Some(id), _) => Some(PeerId::from_hex(id).ok_or("--peer-id: expected 64 hex digits")?),
        (None, Some(seed)) => {
            let hex = create_id(seed.as_str()).map_err(|e| e.to_string())?;
            PeerId::from_hex(&hex)
        }
        (None, None) => None,
    };
    if let Some(id) = peer_id {
        let key_seed = args.seed.clone().unwrap_or_else(|| id.to_hex());
        let keys = create_key_pair(key_seed.as_str()).map_err(|e| e.to_string())?;
        b = b.peer_id(id).signing_keys(&keys);
    }
    if let Some(n) = args.nat {
        let nt = NatType(n);
        if !nt.is_valid() {
            return Err(format!("--nat {n}: not a valid NAT type"));
        }
        b = b.nat_type(nt);
    }
    if let Some(k) = args.keepalive {
        b = b.keepalive_ms(k);
    }
    for i in &args.introducer {
        let Introducer { peer_id, remote } = parse_introducer(i)?;
        if let Some(addr) = remote.udp() {
            b = b.introducer(peer_id, addr);
        }
    }
    if let Some(f) = &args.state {
        b = b.state_file(f);
    }
    Ok(b)
}

fn run_inner(args: &PeerArgs) -> Result<ExitCode, String> {
    let out = Out {
        start: StdInstant::now(),
    };
    signal::install();
    let plan = Plan::new(args)?;
    let node = node_builder(args)?.start().map_err(|e| e.to_string())?;
    if let Some(e) = node.restore_error() {
        out.error(e.to_string());
    }
    let local = node.local_addr();
    out.line(
        "listening",
        vec![
            ("address", Json::Str(local.ip().to_string())),
            ("port", Json::Num(f64::from(local.port()))),
            ("peerId", Json::Str(node.peer_id().to_hex())),
            ("publicKey", Json::Str(to_hex(&node.public_key()))),
        ],
    );
    for s in &args.join {
        if let Err(e) = node.join(&plan.keys[s]) {
            out.error(format!("join {s}: {e}"));
        }
    }
    let counts = event_loop(args, &plan, &node, &out);
    if let Err(e) = node.close() {
        out.error(e.to_string());
    }
    summary(&node, &out, &counts);
    Ok(ExitCode::SUCCESS)
}

/// Publishes on schedule and prints events until --duration or a signal;
/// returns how many lines of each event were printed.
fn event_loop(args: &PeerArgs, plan: &Plan, node: &Node, out: &Out) -> BTreeMap<&'static str, u64> {
    let deadline = args
        .duration
        .map(|d| StdInstant::now() + Duration::from_secs_f64(d.max(0.0)));
    let mut counts = BTreeMap::new();
    let mut next_publish = 0usize;
    let mut publish_at = Duration::from_millis(args.publish_delay);
    while !signal::stopped() && deadline.is_none_or(|d| StdInstant::now() < d) {
        while next_publish < plan.publishes.len() && out.start.elapsed() >= publish_at {
            publish(node, plan, &plan.publishes[next_publish], out);
            next_publish += 1;
            publish_at += Duration::from_millis(args.publish_delay);
        }
        match node.next_event(Some(Duration::from_millis(20))) {
            Some(NodeEvent::Peer(ev)) => print_event(out, &ev, plan, &mut counts),
            Some(NodeEvent::Error(e)) => out.error(e),
            Some(_) => {}
            None => {}
        }
    }
    counts
}

fn publish(node: &Node, plan: &Plan, p: &Pub, out: &Out) {
    match node.publish(&plan.keys[&p.seed], &p.event, &p.payload) {
        Ok(ids) => out.line(
            "published",
            vec![
                ("subcluster", Json::Str(p.seed.clone())),
                ("eventName", Json::Str(p.event.clone())),
                ("bytes", Json::Num(p.payload.len() as f64)),
                ("packets", Json::Num(ids.len() as f64)),
                (
                    "packetIds",
                    Json::Arr(ids.iter().map(|i| Json::Str(to_hex(i))).collect()),
                ),
            ],
        ),
        Err(e) => out.error(format!("publish: {e}")),
    }
}

/// The last line: counters of the Node and the Peer.
fn summary(node: &Node, out: &Out, counts: &BTreeMap<&'static str, u64>) {
    let s = node.status();
    let m = &s.metrics;
    let send_errors = s.node_drops.send_failed + s.node_drops.send_would_block;
    out.line(
        "summary",
        vec![
            ("peerId", Json::Str(s.peer_id.to_hex())),
            ("natType", nat_json(s.nat)),
            ("peers", Json::Num(s.peers.len() as f64)),
            ("datagramsIn", Json::Num(m.datagrams_in as f64)),
            ("sendErrors", Json::Num(send_errors as f64)),
            ("relayed", Json::Num(m.relayed as f64)),
            ("received", nums(&m.received_by_type)),
            ("sent", nums(&m.sent_by_type)),
            (
                "drops",
                Json::Obj(
                    DropReason::ALL
                        .iter()
                        .filter(|r| m.dropped(**r) > 0)
                        .map(|r| (format!("{r:?}"), Json::Num(m.dropped(*r) as f64)))
                        .collect(),
                ),
            ),
            (
                "counts",
                Json::Obj(
                    counts
                        .iter()
                        .map(|(k, v)| (k.to_string(), Json::Num(*v as f64)))
                        .collect(),
                ),
            ),
        ],
    );
}

fn nums(v: &[u64]) -> Json {
    Json::Arr(v.iter().map(|n| Json::Num(*n as f64)).collect())
}

/// One event as a JSON line (events with no line are not counted).
fn print_event(out: &Out, ev: &Event, plan: &Plan, counts: &mut BTreeMap<&'static str, u64>) {
    let seed_of = |s: &[u8; 32]| plan.seeds.get(s).cloned().unwrap_or_else(|| to_hex(s));
    let name_of = |h: &[u8]| {
        <[u8; 32]>::try_from(h)
            .ok()
            .and_then(|h| plan.names.get(&h).cloned())
            .unwrap_or_else(|| to_hex(h))
    };
    let mut count = |k: &'static str| *counts.entry(k).or_default() += 1;
    match ev {
        Event::Ready { nat, address, port } => {
            count("ready");
            out.line(
                "ready",
                vec![
                    ("natType", nat_json(*nat)),
                    (
                        "address",
                        address.map_or(Json::Null, |a| Json::Str(a.to_string())),
                    ),
                    ("port", port.map_or(Json::Null, |p| Json::Num(f64::from(p)))),
                ],
            );
        }
        Event::NatChange { old, new } => {
            count("network-change");
            out.line(
                "network-change",
                vec![("natType", nat_json(*new)), ("previous", nat_json(*old))],
            );
        }
        Event::Connection {
            peer_id,
            remote,
            nat,
            proxy,
            ..
        } => {
            count("connection");
            let (a, p) = remote_fields(remote);
            out.line(
                "connection",
                vec![
                    ("peerId", Json::Str(peer_id.to_hex())),
                    ("address", a),
                    ("port", p),
                    ("natType", nat_json(Some(*nat))),
                    ("proxy", proxy.map_or(Json::Null, |p| Json::Str(p.to_hex()))),
                ],
            );
        }
        Event::Disconnection { peer_id, reason } => {
            count("disconnection");
            out.line(
                "disconnection",
                vec![
                    ("peerId", Json::Str(peer_id.to_hex())),
                    ("reason", Json::Str(format!("{reason:?}"))),
                ],
            );
        }
        Event::Join {
            subcluster_id,
            peer_id,
            ..
        } => {
            count("join");
            out.line(
                "join",
                vec![
                    ("subcluster", Json::Str(seed_of(subcluster_id))),
                    ("peerId", Json::Str(peer_id.to_hex())),
                ],
            );
        }
        Event::Intro {
            peer_id,
            remote,
            nat,
            introducer,
            strategy,
            ..
        } => {
            count("intro");
            let (a, p) = remote_fields(remote);
            out.line(
                "intro",
                vec![
                    ("peerId", Json::Str(peer_id.to_hex())),
                    ("address", a),
                    ("port", p),
                    ("natType", nat_json(Some(*nat))),
                    ("introducer", Json::Str(introducer.to_hex())),
                    ("strategy", Json::Str(strategy.name().into())),
                ],
            );
        }
        Event::Packet {
            subcluster_id,
            event_hash,
            payload,
            packet_id,
            publisher,
            hops,
            ..
        } => {
            count("message");
            out.line(
                "message",
                vec![
                    ("subcluster", Json::Str(seed_of(subcluster_id))),
                    ("eventName", Json::Str(name_of(event_hash))),
                    ("payload", payload_json(payload)),
                    ("verified", Json::Bool(true)),
                    ("signer", Json::Str(to_hex(publisher))),
                    ("packetId", Json::Str(to_hex(packet_id))),
                    ("hops", Json::Num(f64::from(*hops))),
                ],
            );
        }
        Event::Unverified {
            subcluster_id,
            event_hash,
            payload,
            packet_id,
            publisher,
            ..
        } => {
            count("message");
            out.line(
                "message",
                vec![
                    ("subcluster", Json::Str(seed_of(subcluster_id))),
                    ("eventName", Json::Str(name_of(event_hash))),
                    ("payload", payload_json(payload)),
                    ("verified", Json::Bool(false)),
                    ("signer", Json::Str(to_hex(publisher))),
                    ("packetId", Json::Str(to_hex(packet_id))),
                    ("hops", Json::Null),
                ],
            );
        }
        Event::Unopenable {
            subcluster_id,
            packet_id,
            error,
            ..
        } => {
            count("error");
            out.line(
                "error",
                vec![
                    ("message", Json::Str(format!("unopenable: {error:?}"))),
                    ("subcluster", Json::Str(seed_of(subcluster_id))),
                    ("packetId", Json::Str(to_hex(packet_id))),
                ],
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_payloads() {
        let p = parse_publish("s:ev:{\"a\":1}").unwrap();
        assert_eq!((p.seed.as_str(), p.event.as_str()), ("s", "ev"));
        assert_eq!(p.payload, b"{\"a\":1}");
        assert_eq!(parse_publish("s:ev:hex:00ff").unwrap().payload, [0, 255]);
        assert_eq!(parse_publish("s:ev:a:b").unwrap().payload, b"a:b");
        assert!(parse_publish("s:ev:{bad").is_err());
        assert!(parse_publish("s:ev:hex:0").is_err());
        assert!(parse_publish("s:ev").is_err());
    }

    #[test]
    fn introducers() {
        let id = "ab".repeat(32);
        let i = parse_introducer(&format!("127.0.0.1:9000:{id}")).unwrap();
        assert_eq!(i.remote, Remote::Udp("127.0.0.1:9000".parse().unwrap()));
        let i = parse_introducer(&format!("[::1]:9000:{id}")).unwrap();
        assert_eq!(i.remote, Remote::Udp("[::1]:9000".parse().unwrap()));
        assert!(parse_introducer("127.0.0.1:9000:abc").is_err());
    }

    #[test]
    fn json_lines() {
        let j = obj(vec![
            ("s", Json::Str("a\"b\n".into())),
            ("n", Json::Num(3.0)),
            ("p", payload_json(b"[1]")),
        ]);
        assert_eq!(
            j.to_string(),
            r#"{"s":"a\"b\n","n":3,"p":{"utf8":"[1]","hex":"5b315d","json":[1]}}"#
        );
    }
}
