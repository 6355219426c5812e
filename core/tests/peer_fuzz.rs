//! No datagram makes the Peer panic: random bytes, and valid control
//! packets with random mutations, on every kind of socket, between timer
//! ticks. Everything that is not used is counted.

mod peer_support;

use peer_support::*;
use proptest::prelude::*;
use streamrelay::crypto::identity::create_shared_key;
use streamrelay::nat::NatType;
use streamrelay::peer::{Instant, Peer, Remote, SocketId};
use streamrelay::wire::control::{Intro, Join, Ping, Pong};
use streamrelay::wire::Field;

fn peers() -> Vec<Peer> {
    let mut ready = with_introducers(config(1), &[(200, "198.51.100.1:9001")]);
    ready.nat_type = Some(NatType::ENDPOINT_RESTRICTED);
    ready.public_address = Some("203.0.113.5:40000".parse().unwrap());
    let fresh = with_introducers(
        config(2),
        &[(200, "198.51.100.1:9001"), (201, "198.51.100.2:9001")],
    );
    let intro = introducer_config(200, "198.51.100.1:9001");
    let mut v: Vec<Peer> = [ready, fresh, intro]
        .into_iter()
        .map(|c| Peer::new(c, Instant::ZERO, [4; 32]).unwrap())
        .collect();
    for p in v.iter_mut() {
        let _ = p.join(Instant::ZERO, &create_shared_key("fuzz").unwrap());
        p.handle_timeout(Instant::ZERO);
    }
    v
}

fn seeds() -> Vec<Vec<u8>> {
    let addr = "203.0.113.9";
    let mut out = Vec::new();
    let mut push = |mut p: streamrelay::wire::Packet| {
        p.set(Field::ClusterId, &CLUSTER).unwrap();
        p.set(Field::SubclusterId, &[5; 32]).unwrap();
        out.push(p.encode().unwrap());
    };
    push(
        Ping::heartbeat(&hex_id(9), Some(NatType::PORT_RESTRICTED), 1.0, 2.0)
            .to_packet()
            .unwrap(),
    );
    push(
        Ping::nat_announcement(&hex_id(9), Some(NatType::PORT_RESTRICTED), 0.0, 1.0, 2.0)
            .to_packet()
            .unwrap(),
    );
    push(
        Ping::reflection(&hex_id(9), "0123456789ab", false, Some(6000), 1.0, 2.0)
            .to_packet()
            .unwrap(),
    );
    let mut pong = Pong::new();
    pong.set_requester_peer_id(&hex_id(1))
        .set_responder_peer_id(&hex_id(200))
        .set_port(40000.0)
        .set_address(addr)
        .set_reflection_id("0123456789ab")
        .set_is_reflection(true);
    push(pong.to_packet().unwrap());
    push(
        Intro::introduce(
            &hex_id(9),
            &hex_id(200),
            false,
            NatType::PORT_RESTRICTED,
            addr,
            6000,
        )
        .to_packet()
        .unwrap(),
    );
    push(
        Join::announce(&hex_id(9), Some(NatType::PORT_RESTRICTED), addr, 6000, "k")
            .to_packet()
            .unwrap(),
    );
    out
}

fn socket(k: u8) -> SocketId {
    match k % 4 {
        0 | 1 => SocketId::Main,
        2 => SocketId::Probe,
        _ => SocketId::Pool(u16::from(k / 4)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes(inputs in prop::collection::vec((any::<u8>(), any::<u16>(), prop::collection::vec(any::<u8>(), 0..200)), 1..40)) {
        let mut ps = peers();
        for p in ps.iter_mut() {
            let mut now = 1u64;
            for (k, port, bytes) in &inputs {
                now += u64::from(*port % 700);
                let from = Remote::Udp(format!("203.0.113.{}:{}", k % 8, port.max(&1)).parse().unwrap());
                p.handle_datagram(Instant(now), socket(*k), from, bytes);
                p.handle_timeout(Instant(now));
                while p.poll_transmit(Instant(now)).is_some() {}
                while p.poll_event().is_some() {}
            }
            prop_assert_eq!(p.metrics().datagrams_in, inputs.len() as u64);
        }
    }

    #[test]
    fn mutated_packets(inputs in prop::collection::vec((any::<u8>(), 0usize..6, prop::collection::vec((any::<u16>(), any::<u8>()), 0..6)), 1..40)) {
        let seeds = seeds();
        let mut ps = peers();
        for p in ps.iter_mut() {
            let mut now = 1u64;
            for (k, which, muts) in &inputs {
                let mut b = seeds[*which].clone();
                for (i, v) in muts {
                    let n = b.len();
                    b[usize::from(*i) % n] = *v;
                }
                now += 37;
                // Links open and close under the input too (issue 18).
                if k % 7 == 0 {
                    p.link_up(Instant(now), u64::from(*k % 4));
                }
                if k % 11 == 0 {
                    p.link_down(Instant(now), u64::from(*k % 4));
                }
                let from = if k % 3 == 0 { Remote::Link(u64::from(*k % 4)) } else { udp("198.51.100.1:9001") };
                p.handle_datagram(Instant(now), socket(*k), from, &b);
                if k % 5 == 0 {
                    p.handle_timeout(Instant(now + 3_000));
                }
                while p.poll_transmit(Instant(now)).is_some() {}
                while p.poll_event().is_some() {}
            }
        }
    }
}
