//! Fanout policies: the reference's uniform choice, and the weighted one
//! (distance = measured round trip, availability = reported uptime).

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::identity::sha256;
use streamrelay::nat::NatType;
use streamrelay::peer::{FanoutPolicy, Instant, Peer, SocketId};
use streamrelay::wire::control::Pong;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const X: &str = "203.0.113.100:2000";

/// (rtt ms, uptime ms) of peers 1..=8.
const PEERS: [(u64, f64); 8] = [
    (10, 3_600_000.0),
    (20, 3_600_000.0),
    (40, 600_000.0),
    (80, 600_000.0),
    (150, 60_000.0),
    (200, 60_000.0),
    (300, 0.0),
    (400, 0.0),
];

fn addr(i: usize) -> String {
    format!("203.0.113.{}:30{:02}", i + 1, i + 1)
}

fn setup(policy: FanoutPolicy) -> Peer {
    let mut x = data_peer(100, X, |c| {
        c.limit_exempt = true;
        c.fanout.policy = policy;
    });
    for i in 0..PEERS.len() {
        connect(&mut x, Instant(1), i as u8 + 1, &addr(i));
    }
    // A heartbeat to everyone, then each Pong after its round trip.
    x.handle_timeout(Instant(30_000));
    drain_transmits(&mut x, Instant(30_000));
    for (i, (rtt, uptime)) in PEERS.iter().enumerate() {
        let mut pong = Pong::new();
        pong.set_requester_peer_id(&hex_id(100))
            .set_responder_peer_id(&hex_id(i as u8 + 1))
            .set_nat_type(Some(NatType::UNRESTRICTED))
            .set_uptime(*uptime);
        let now = Instant(30_000 + rtt);
        x.handle_datagram(
            now,
            SocketId::Main,
            udp(&addr(i)),
            &pong.to_packet().unwrap().encode().unwrap(),
        );
    }
    drain_transmits(&mut x, Instant(30_500));
    drain_events(&mut x);
    for (i, (rtt, uptime)) in PEERS.iter().enumerate() {
        let e = x.peer(&id(i as u8 + 1)).unwrap();
        assert_eq!(e.rtt_ms, Some(*rtt as u32));
        assert_eq!(e.uptime_ms, Some(*uptime as u64));
    }
    x
}

/// How often each peer is among the targets of `n` relayed packets.
fn picks(x: &mut Peer, n: u64) -> Vec<u64> {
    let mut count = vec![0u64; PEERS.len()];
    for k in 0..n {
        let mut p = Packet::new(PacketType::Publish);
        p.message = k.to_be_bytes().to_vec();
        p.set(Field::ClusterId, &[0xc2; 32]).unwrap();
        p.set(Field::PacketId, &sha256(&p.message)).unwrap();
        let now = Instant(31_000 + k / 100);
        x.handle_datagram(
            now,
            SocketId::Main,
            udp("198.51.100.50:5"),
            &p.encode().unwrap(),
        );
        for t in drain_transmits(x, now) {
            assert_eq!(PacketRef::decode(&t.bytes).unwrap().hops, 1);
            let i = (0..PEERS.len())
                .find(|&i| udp(&addr(i)) == t.remote)
                .unwrap();
            count[i] += 1;
        }
    }
    count
}

#[test]
fn random_fanout_is_uniform() {
    let mut x = setup(FanoutPolicy::Random);
    let c = picks(&mut x, 4000);
    println!("random:   {c:?}");
    let expect = 4000 * 3 / 8;
    for n in &c {
        assert!(n.abs_diff(expect) < expect / 8, "{c:?}");
    }
}

#[test]
fn weighted_fanout_prefers_near_and_available_peers() {
    let mut x = setup(FanoutPolicy::Weighted);
    let c = picks(&mut x, 4000);
    println!("weighted: {c:?}");
    assert_eq!(c.iter().sum::<u64>(), 12_000);
    // Ordered by weight, and every peer is still chosen sometimes.
    for w in c.windows(2) {
        assert!(w[0] >= w[1], "{c:?}");
    }
    assert!(c[0] > 3500 && c[7] > 0, "{c:?}");
}
