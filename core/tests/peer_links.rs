//! Links (issue 18): a phone reachable only over a link is a full member
//! through a bridge that also has UDP, both ways; and the bridge's UDP
//! traffic is the same, byte for byte, whether or not it has links.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Event, Instant, Peer, PublishOptions, Remote, SocketId};
use streamrelay::wire::control::Ping;
use streamrelay::wire::Field;

const U: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";

/// A phone: no NAT type, no public address, signing keys, in the test
/// subcluster.
fn phone(n: u8) -> Peer {
    let mut c: Config = data_config(n, "192.0.2.99:1");
    c.nat_type = None;
    c.public_address = None;
    let mut p = Peer::new(c, Instant::ZERO, [n; 32]).unwrap();
    p.join(Instant::ZERO, &shared()).unwrap();
    drain_transmits(&mut p, Instant::ZERO);
    drain_events(&mut p);
    p
}

/// A connection Ping from peer `n`.
fn connection_ping(n: u8) -> Vec<u8> {
    let ping = Ping::nat_announcement(&hex_id(n), Some(NatType::UNRESTRICTED), 0.0, 0.0, 0.0);
    let mut pk = ping.to_packet().unwrap();
    pk.set(Field::ClusterId, &CLUSTER).unwrap();
    pk.encode().unwrap()
}

/// U (UDP only), B (UDP and link 1), P (link 9 only): delivers until quiet.
/// Returns what was carried over UDP, as (from, to, bytes).
fn pump(now: Instant, u: &mut Peer, b: &mut Peer, p: &mut Peer) -> Vec<(char, Remote, Vec<u8>)> {
    let mut udp_log = Vec::new();
    for _ in 0..1000 {
        let mut any = false;
        for t in drain_transmits(u, now) {
            any = true;
            udp_log.push(('U', t.remote, t.bytes.clone()));
            if t.remote == udp(B) {
                b.handle_datagram(now, SocketId::Main, udp(U), &t.bytes);
            }
        }
        for t in drain_transmits(b, now) {
            any = true;
            if t.remote == Remote::Link(1) {
                p.handle_datagram(now, SocketId::Main, Remote::Link(9), &t.bytes);
            } else {
                udp_log.push(('B', t.remote, t.bytes.clone()));
                if t.remote == udp(U) {
                    u.handle_datagram(now, SocketId::Main, udp(B), &t.bytes);
                }
            }
        }
        for t in drain_transmits(p, now) {
            any = true;
            assert_eq!(t.remote, Remote::Link(9), "a phone sends on its link only");
            b.handle_datagram(now, SocketId::Main, Remote::Link(1), &t.bytes);
        }
        if !any {
            return udp_log;
        }
    }
    panic!("never quiet");
}

fn packets_of(p: &mut Peer) -> Vec<Vec<u8>> {
    drain_events(p)
        .into_iter()
        .filter_map(|e| match e {
            Event::Packet { payload, .. } => Some(payload),
            _ => None,
        })
        .collect()
}

#[test]
fn a_bridge_relays_between_a_link_phone_and_a_udp_peer() {
    let (mut u, mut b, mut p) = (member(1, U), member(2, B), phone(3));
    let now = Instant::from_millis(10);
    b.handle_datagram(now, SocketId::Main, udp(U), &connection_ping(1));
    u.handle_datagram(now, SocketId::Main, udp(B), &connection_ping(2));
    b.link_up(now, 1);
    p.link_up(now, 9);
    pump(now, &mut u, &mut b, &mut p);
    assert!(b.peer(&p.peer_id()).is_some_and(|e| e.connected));
    assert!(p.peer(&b.peer_id()).is_some_and(|e| e.connected));
    assert!(u.peer(&p.peer_id()).is_none(), "U never hears of the phone");
    drain_events(&mut u);
    drain_events(&mut p);

    // Phone → Internet, then Internet → phone.
    for (ms, from_phone, text) in [
        (20, true, &b"from the island"[..]),
        (30, false, &b"from the internet"[..]),
    ] {
        let now = Instant::from_millis(ms);
        let (src, label) = if from_phone {
            (&mut p, "p")
        } else {
            (&mut u, "u")
        };
        src.publish(now, &shared(), label, text, &PublishOptions::new())
            .unwrap();
        pump(now, &mut u, &mut b, &mut p);
        let got = if from_phone {
            packets_of(&mut u)
        } else {
            packets_of(&mut p)
        };
        assert_eq!(got, [text.to_vec()]);
    }
    let now = Instant::from_millis(30);

    // The link goes: the phone is forgotten, nothing more goes to it.
    b.link_down(now, 1);
    assert!(b.peer(&p.peer_id()).is_none());
    let later = Instant::from_millis(90_000);
    b.handle_timeout(later);
    assert!(drain_transmits(&mut b, later)
        .iter()
        .all(|t| t.remote != Remote::Link(1)));
}

#[test]
fn udp_peers_see_nothing_new_from_a_bridge() {
    // The same bridge, with and without a link phone, fed the same UDP
    // input: what it sends over UDP is identical, byte for byte.
    let run = |with_link: bool| {
        let (mut u, mut b, mut p) = (member(1, U), member(2, B), phone(3));
        let mut log = Vec::new();
        let now = Instant::from_millis(10);
        b.handle_datagram(now, SocketId::Main, udp(U), &connection_ping(1));
        u.handle_datagram(now, SocketId::Main, udp(B), &connection_ping(2));
        if with_link {
            b.link_up(now, 1);
            p.link_up(now, 9);
        }
        log.extend(pump(now, &mut u, &mut b, &mut p));
        for s in 1..=6u64 {
            let t = Instant::from_millis(s * 15_000);
            for x in [&mut u, &mut b, &mut p] {
                x.handle_timeout(t);
            }
            log.extend(pump(t, &mut u, &mut b, &mut p));
        }
        let t = Instant::from_millis(100_000);
        let _ = u.publish(t, &shared(), "e", b"hello", &PublishOptions::new());
        log.extend(pump(t, &mut u, &mut b, &mut p));
        (log, packets_of(&mut p))
    };
    let (with, phone_got) = run(true);
    let (without, _) = run(false);
    assert!(with.len() > 10, "{}", with.len());
    assert_eq!(with, without);
    assert!(phone_got.contains(&b"hello".to_vec()));
}
