//! `streamrelay peer`: a real Stream Relay peer on std UDP sockets.
//!
//! One thread. The main socket waits with a read timeout of
//! `min(poll_timeout - now, 20 ms)`; the probe socket and the hard-NAT pool
//! sockets are non-blocking and drained on every turn. Every line on stdout
//! is one JSON object with `t` (ms since start) and `event`.

mod json;
mod signal;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant};

use clap::Args;
use streamrelay::crypto::identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, sha256, subcluster_id,
    to_hex, SharedKey,
};
use streamrelay::nat::NatType;
use streamrelay::peer::{
    Config, Event, Instant, Introducer, Peer, PeerId, PublishOptions, Remote, SocketId,
};

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
    /// Snapshot file: restored at start when present, written at exit.
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

/// Entropy for the Peer's generator without extra crates: std's randomly
/// keyed SipHash, the clock and the pid.
fn entropy() -> [u8; 32] {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut buf = Vec::new();
    for i in 0..4u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        buf.extend_from_slice(&h.finish().to_le_bytes());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    buf.extend_from_slice(&now.as_nanos().to_le_bytes());
    buf.extend_from_slice(&std::process::id().to_le_bytes());
    sha256(&buf)
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

fn bind(addr: IpAddr, port: u16) -> Result<UdpSocket, String> {
    let s = UdpSocket::bind(SocketAddr::new(addr, port))
        .map_err(|e| format!("bind {addr}:{port}: {e}"))?;
    Ok(s)
}

fn run_inner(args: &PeerArgs) -> Result<ExitCode, String> {
    let out = Out {
        start: StdInstant::now(),
    };
    let now = || Instant::from_millis(out.start.elapsed().as_millis() as u64);
    signal::install();

    let peer_id = match (&args.peer_id, &args.seed) {
        (Some(id), _) => PeerId::from_hex(id)
            .ok_or("--peer-id: expected 64 hex digits")?
            .to_hex(),
        (None, Some(seed)) => create_id(seed.as_str()).map_err(|e| e.to_string())?,
        (None, None) => to_hex(&entropy()),
    };
    let key_seed = args.seed.clone().unwrap_or_else(|| peer_id.clone());
    let cluster_id = create_cluster_id(args.cluster_seed.as_str()).map_err(|e| e.to_string())?;
    let profile = streamrelay::peer::Profile::from_name(&args.profile)
        .ok_or_else(|| format!("--profile {}: unknown", args.profile))?;
    let mut config = Config::with_profile(&peer_id, Some(cluster_id), profile);
    // `now` counts from our start; the wire carries Unix ms.
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    config.wall_clock_offset_ms = unix_ms - now().as_millis() as i64;
    let keys_pair = create_key_pair(key_seed.as_str()).map_err(|e| e.to_string())?;
    let public_key = to_hex(&keys_pair.public_key());
    config.signing_keys = Some(keys_pair);
    config.indexed = args.indexed;
    if let Some(n) = args.nat {
        let nt = NatType(n);
        if !nt.is_valid() {
            return Err(format!("--nat {n}: not a valid NAT type"));
        }
        config.nat_type = Some(nt);
    }
    if let Some(k) = args.keepalive {
        config.keepalive_ms = k;
    }
    for i in &args.introducer {
        config.introducers.push(parse_introducer(i)?);
    }
    let publishes = args
        .publish
        .iter()
        .map(|p| parse_publish(p))
        .collect::<Result<Vec<_>, _>>()?;

    let main = bind(args.address, args.port)?;
    let local = main.local_addr().map_err(|e| e.to_string())?;
    if args.nat.is_some() {
        // A static NAT type means we know how we are reached: here.
        config.public_address = Some(local);
    }
    let probe = bind(args.address, 0)?;
    probe.set_nonblocking(true).map_err(|e| e.to_string())?;

    // Names we can print for an event hash, and subcluster seeds by id.
    let mut names: BTreeMap<[u8; 32], String> = BTreeMap::new();
    for n in args.listen.iter().chain(publishes.iter().map(|p| &p.event)) {
        names.insert(sha256(n.as_bytes()), n.clone());
    }
    let mut keys: BTreeMap<String, SharedKey> = BTreeMap::new();
    let mut seeds: BTreeMap<[u8; 32], String> = BTreeMap::new();
    for s in args.join.iter().chain(publishes.iter().map(|p| &p.seed)) {
        let k = create_shared_key(s.as_str()).map_err(|e| e.to_string())?;
        seeds.insert(subcluster_id(&k), s.clone());
        keys.insert(s.clone(), k);
    }

    let restored = match &args.state {
        Some(f) if std::path::Path::new(f).exists() => {
            let bytes = std::fs::read(f).map_err(|e| format!("{f}: {e}"))?;
            match Peer::restore(config.clone(), now(), entropy(), &bytes) {
                Ok(p) => Some(p),
                Err(e) => {
                    out.line(
                        "error",
                        vec![("message", Json::Str(format!("state {f}: {e}")))],
                    );
                    None
                }
            }
        }
        _ => None,
    };
    let mut peer = match restored {
        Some(p) => p,
        None => Peer::new(config, now(), entropy()).map_err(|e| e.to_string())?,
    };
    out.line(
        "listening",
        vec![
            ("address", Json::Str(local.ip().to_string())),
            ("port", Json::Num(f64::from(local.port()))),
            ("peerId", Json::Str(peer_id.clone())),
            ("publicKey", Json::Str(public_key)),
        ],
    );
    for s in &args.join {
        let k = &keys[s];
        if let Err(e) = peer.join(now(), k) {
            out.line(
                "error",
                vec![("message", Json::Str(format!("join {s}: {e}")))],
            );
        }
    }

    let deadline = args
        .duration
        .map(|d| StdInstant::now() + Duration::from_secs_f64(d.max(0.0)));
    let mut next_publish = 0usize;
    let mut publish_at = args.publish_delay;
    let mut pool: BTreeMap<u16, UdpSocket> = BTreeMap::new();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut buf = vec![0u8; 65536];
    let mut send_errors = 0u64;

    loop {
        if signal::stopped() || deadline.is_some_and(|d| StdInstant::now() >= d) {
            break;
        }
        // Publishes that are due.
        while next_publish < publishes.len() && now().as_millis() >= publish_at {
            let p = &publishes[next_publish];
            let k = &keys[&p.seed];
            // A publish implies membership.
            if peer.subclusters().all(|(_, s)| s != subcluster_id(k)) {
                let _ = peer.join(now(), k);
            }
            match peer.publish(now(), k, &p.event, &p.payload, &PublishOptions::new()) {
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
                Err(e) => out.line(
                    "error",
                    vec![("message", Json::Str(format!("publish: {e}")))],
                ),
            }
            next_publish += 1;
            publish_at += args.publish_delay;
        }
        peer.handle_timeout(now());
        // Transmits.
        while let Some(t) = peer.poll_transmit(now()) {
            let Some(to) = t.remote.udp() else { continue };
            let sock = match t.socket {
                SocketId::Main => Some(&main),
                SocketId::Probe => Some(&probe),
                SocketId::Pool(i) => pool.get(&i),
            };
            if let Some(s) = sock {
                if s.send_to(&t.bytes, to).is_err() {
                    send_errors += 1;
                }
            }
        }
        // Events.
        while let Some(ev) = peer.poll_event() {
            handle_event(
                &out,
                &ev,
                &names,
                &seeds,
                &mut pool,
                args.address,
                &mut counts,
            );
        }
        // Receive: the main socket waits, the others are drained.
        let wait = peer
            .poll_timeout()
            .map_or(20, |t| t.ms_since(now()))
            .clamp(1, 20);
        main.set_read_timeout(Some(Duration::from_millis(wait)))
            .map_err(|e| e.to_string())?;
        match main.recv_from(&mut buf) {
            Ok((n, from)) => {
                peer.handle_datagram(now(), SocketId::Main, Remote::Udp(from), &buf[..n]);
                // Drain what else is queued without waiting.
                main.set_nonblocking(true).map_err(|e| e.to_string())?;
                while let Ok((n, from)) = main.recv_from(&mut buf) {
                    peer.handle_datagram(now(), SocketId::Main, Remote::Udp(from), &buf[..n]);
                }
                main.set_nonblocking(false).map_err(|e| e.to_string())?;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {} // ICMP port unreachable and the like
        }
        while let Ok((n, from)) = probe.recv_from(&mut buf) {
            peer.handle_datagram(now(), SocketId::Probe, Remote::Udp(from), &buf[..n]);
        }
        for (i, s) in &pool {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                peer.handle_datagram(now(), SocketId::Pool(*i), Remote::Udp(from), &buf[..n]);
            }
        }
    }

    if let Some(f) = &args.state {
        let snap = peer.snapshot(now());
        if let Err(e) = std::fs::write(f, snap) {
            out.line(
                "error",
                vec![("message", Json::Str(format!("state {f}: {e}")))],
            );
        }
    }
    peer.close(now());
    while let Some(t) = peer.poll_transmit(now()) {
        if let (SocketId::Main, Some(to)) = (t.socket, t.remote.udp()) {
            let _ = main.send_to(&t.bytes, to);
        }
    }
    let m = peer.metrics();
    let mut fields: Vec<(&str, Json)> = vec![
        ("peerId", Json::Str(peer_id)),
        ("natType", nat_json(peer.nat_type())),
        ("peers", Json::Num(peer.peers().len() as f64)),
        ("datagramsIn", Json::Num(m.datagrams_in as f64)),
        ("sendErrors", Json::Num(send_errors as f64)),
        ("relayed", Json::Num(m.relayed as f64)),
        ("received", nums(&m.received_by_type)),
        ("sent", nums(&m.sent_by_type)),
        (
            "drops",
            Json::Obj(
                streamrelay::peer::DropReason::ALL
                    .iter()
                    .filter(|r| m.dropped(**r) > 0)
                    .map(|r| (format!("{r:?}"), Json::Num(m.dropped(*r) as f64)))
                    .collect(),
            ),
        ),
    ];
    fields.push((
        "counts",
        Json::Obj(
            counts
                .iter()
                .map(|(k, v)| (k.to_string(), Json::Num(*v as f64)))
                .collect(),
        ),
    ));
    out.line("summary", fields);
    Ok(ExitCode::SUCCESS)
}

fn nums(v: &[u64]) -> Json {
    Json::Arr(v.iter().map(|n| Json::Num(*n as f64)).collect())
}

#[allow(clippy::too_many_arguments)]
fn handle_event(
    out: &Out,
    ev: &Event,
    names: &BTreeMap<[u8; 32], String>,
    seeds: &BTreeMap<[u8; 32], String>,
    pool: &mut BTreeMap<u16, UdpSocket>,
    bind_addr: IpAddr,
    counts: &mut BTreeMap<&'static str, u64>,
) {
    let seed_of = |s: &[u8; 32]| seeds.get(s).cloned().unwrap_or_else(|| to_hex(s));
    let name_of = |h: &[u8]| {
        <[u8; 32]>::try_from(h)
            .ok()
            .and_then(|h| names.get(&h).cloned())
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
        Event::OpenPoolSockets { sockets } => {
            for s in sockets {
                if let SocketId::Pool(i) = s {
                    match bind(bind_addr, 0).and_then(|u| {
                        u.set_nonblocking(true).map_err(|e| e.to_string())?;
                        Ok(u)
                    }) {
                        Ok(u) => {
                            pool.insert(*i, u);
                        }
                        Err(e) => out.line("error", vec![("message", Json::Str(e))]),
                    }
                }
            }
        }
        Event::ClosePoolSockets { sockets } => {
            for s in sockets {
                if let SocketId::Pool(i) = s {
                    pool.remove(i);
                }
            }
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
