//! The golden `api.pack` vectors, delivered through the Peer: the packets
//! the reference's `publish` recorded are fed as datagrams (with their
//! recorded hops) to a Peer that joined the subcluster
//! (`sharedKey = createSharedKey(sharedKeySeed)`, `clusterId =
//! createClusterId(clusterIdSeed)`), and the events it emits must be the
//! recorded `delivered` ones: event hash, payload, verified, and the
//! packetId, which for a chain depends on the packet that completed it
//! (spec §7.3): the recorded order gives exactly `delivered[].packetId`;
//! other orders (reversed, rotated, shuffled) give the same event with the
//! id of their own completing packet. Replaying the packets delivers
//! nothing more.
//!
//! Every `*.json` in `vectors/` is read, plus any files named in
//! `STREAMRELAY_VECTORS` (separated by `:`).

mod peer_support;

use peer_support::data::WALL;
use peer_support::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use streamrelay::crypto::identity::{create_cluster_id, create_shared_key, sha256};
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Event, Instant, Peer, SocketId};
use streamrelay::wire::json::{parse, JsValue};
use streamrelay::wire::PacketRef;

fn files() -> Vec<std::path::PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if let Ok(extra) = std::env::var("STREAMRELAY_VECTORS") {
        for f in extra.split(':').filter(|s| !s.is_empty()) {
            files.push(f.into());
        }
    }
    files
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn s<'a>(v: &'a JsValue, k: &str) -> &'a str {
    v.get(k)
        .and_then(JsValue::as_str)
        .unwrap_or_else(|| panic!("no {k}"))
}

fn hex_of(v: &JsValue, k: &str) -> Vec<u8> {
    match v.get(k) {
        Some(JsValue::String(x)) => unhex(&x.to_string_lossy()),
        Some(o) => unhex(s(o, "hex")),
        None => panic!("no {k}"),
    }
}

/// (event hash, payload, verified, packetId) of one delivery.
type Delivered = (Vec<u8>, Vec<u8>, bool, Vec<u8>);

struct Case {
    name: String,
    cluster: [u8; 32],
    shared: String,
    frames: Vec<Vec<u8>>,
    sealed: Vec<u8>,
    delivered: Vec<Delivered>,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for f in files() {
        let doc = parse(&std::fs::read(&f).unwrap()).unwrap();
        for c in doc.get("cases").and_then(JsValue::as_array).unwrap_or(&[]) {
            if c.get("kind").and_then(JsValue::as_str) != Some("api.pack") {
                continue;
            }
            let input = c.get("input").unwrap();
            let exp = c.get("expected").unwrap();
            // Cases whose expected outcome is an error (the reference
            // throws) make no packets: the vector runner checks those.
            if exp.get("packets").is_none() {
                continue;
            }
            let frames = exp
                .get("packets")
                .and_then(JsValue::as_array)
                .unwrap()
                .iter()
                .map(|p| unhex(s(p, "hex")))
                .collect();
            let delivered = exp
                .get("delivered")
                .and_then(JsValue::as_array)
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        unhex(s(d, "eventName")),
                        hex_of(d, "payload"),
                        d.get("verified")
                            .and_then(JsValue::as_bool)
                            .unwrap_or(false),
                        unhex(s(d, "packetId")),
                    )
                })
                .collect();
            out.push(Case {
                name: s(c, "name").to_string(),
                cluster: create_cluster_id(s(input, "clusterIdSeed")).unwrap(),
                shared: s(input, "sharedKeySeed").to_string(),
                frames,
                sealed: hex_of(exp, "sealed"),
                delivered,
            });
        }
    }
    assert!(!out.is_empty(), "no api.pack vectors");
    out
}

fn member_of(case: &Case) -> Peer {
    let mut c = Config::new(&hex_id(1), Some(case.cluster));
    c.nat_type = Some(NatType::PORT_RESTRICTED);
    c.public_address = Some("203.0.113.5:40000".parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    p.join(
        Instant::ZERO,
        &create_shared_key(case.shared.as_str()).unwrap(),
    )
    .unwrap();
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// (event hash, payload, verified, packetId) of every delivery event.
fn deliveries(p: &mut Peer) -> Vec<Delivered> {
    drain_events(p)
        .into_iter()
        .filter_map(|e| match e {
            Event::Packet {
                event_hash,
                payload,
                packet_id,
                ..
            } => Some((event_hash.to_vec(), payload, true, packet_id.to_vec())),
            Event::Unverified {
                event_hash,
                payload,
                packet_id,
                ..
            } => Some((event_hash.to_vec(), payload, false, packet_id.to_vec())),
            Event::Unopenable { .. } => panic!("unopenable: {e:?}"),
            _ => None,
        })
        .collect()
}

fn feed(p: &mut Peer, frames: &[Vec<u8>], order: &[usize], t0: u64) {
    for (k, &i) in order.iter().enumerate() {
        let now = Instant(t0 + k as u64);
        p.handle_datagram(now, SocketId::Main, udp("198.51.100.7:7000"), &frames[i]);
        drain_transmits(p, now);
    }
}

#[test]
fn api_pack_vectors_are_delivered_through_the_peer() {
    let mut checked = 0;
    let mut orders_checked = 0;
    for case in cases() {
        let n = case.frames.len();
        // Recorded order: exactly the recorded deliveries.
        let mut p = member_of(&case);
        feed(&mut p, &case.frames, &(0..n).collect::<Vec<_>>(), 10);
        let got = deliveries(&mut p);
        assert_eq!(got, case.delivered, "{}: recorded order", case.name);
        // A replay of every packet delivers nothing more.
        feed(&mut p, &case.frames, &(0..n).collect::<Vec<_>>(), 100);
        assert!(deliveries(&mut p).is_empty(), "{}: replay", case.name);

        // Other orders: the same event; the id of the completing packet.
        let mut orders: Vec<Vec<usize>> =
            vec![(0..n).rev().collect(), (1..n).chain(0..1).collect()];
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        for _ in 0..4 {
            let mut o: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                o.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
            }
            orders.push(o);
        }
        for order in orders {
            let mut p = member_of(&case);
            feed(&mut p, &case.frames, &order, 10);
            let got = deliveries(&mut p);
            assert_eq!(got.len(), 1, "{}: order {order:?}", case.name);
            let (hash, payload, verified, pid) = &got[0];
            let want = &case.delivered[0];
            assert_eq!(
                (hash, payload, verified),
                (&want.0, &want.1, &want.2),
                "{}",
                case.name
            );
            let last = PacketRef::decode(&case.frames[*order.last().unwrap()]).unwrap();
            let expected_id = if n == 1 {
                want.3.clone()
            } else {
                let mut input = last.previous_id.to_vec();
                input.extend_from_slice(&case.sealed);
                sha256(&input).to_vec()
            };
            assert_eq!(pid, &expected_id, "{}: order {order:?}", case.name);
            orders_checked += 1;
        }
        checked += 1;
    }
    println!("{checked} api.pack cases, {orders_checked} extra orders, delivered through the Peer");
    assert!(checked >= 16);
}
