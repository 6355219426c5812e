//! Event-queue overflow is counted; a hostile flood neither panics the
//! Node nor grows it. Every datagram goes to loopback.

mod support;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;

use streamrelay::nat::NatType;
use streamrelay::peer::Event;
use streamrelay::wire::control::Ping;
use streamrelay_node::{Node, NodeEvent};
use support::eventually;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A connection Ping (P5) from peer `n`: each one is a new table entry and
/// an `Event::Connection` at an introducer.
fn p5(n: u32) -> Vec<u8> {
    let id = format!("{n:064x}");
    Ping::nat_announcement(&id, Some(NatType::ADDR_RESTRICTED), 0.0, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap()
}

#[test]
fn event_overflow_is_counted_and_the_queue_stays_bounded() {
    let cap = 4;
    let node = Node::builder()
        .indexed(true)
        .nat_type(NatType::UNRESTRICTED)
        .bind(LO)
        .event_capacity(cap)
        .start()
        .unwrap();
    let to = node.local_addr();
    let senders: Vec<UdpSocket> = (0..40).map(|_| UdpSocket::bind((LO, 0)).unwrap()).collect();
    for (i, s) in senders.iter().enumerate() {
        s.send_to(&p5(i as u32 + 1), to).unwrap();
    }
    // 1 Ready + 40 Connections: everything past the capacity is dropped.
    assert!(
        eventually(Duration::from_secs(10), || node.status().peers.len() >= 40),
        "{} peers",
        node.status().peers.len()
    );
    let s = node.status();
    assert_eq!(s.events_queued, cap);
    assert_eq!(s.events_dropped, 41 - cap as u64);
    let mut read = 0;
    while node.try_next_event().is_some() {
        read += 1;
    }
    assert_eq!(read, cap);
    node.close().unwrap();
}

#[test]
fn a_hostile_flood_is_dropped_and_bounded() {
    let node = Node::builder()
        .indexed(true)
        .nat_type(NatType::UNRESTRICTED)
        .bind(LO)
        .event_capacity(64)
        .configure(|c| c.limits.max_peers = 64)
        .start()
        .unwrap();
    let to = node.local_addr();
    let s = UdpSocket::bind((LO, 0)).unwrap();
    // Garbage of every length, truncations of a valid packet, and valid
    // Pings from many made-up peers.
    let valid = p5(7);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut sent = 0u64;
    for i in 0..20_000u32 {
        let d: Vec<u8> = match i % 4 {
            0 => {
                let n = (i as usize * 37) % 1500;
                (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect()
            }
            1 => valid[..(i as usize) % valid.len()].to_vec(),
            2 => p5(1000 + i),
            _ => {
                let mut v = valid.clone();
                let k = (i as usize * 13) % v.len();
                v[k] ^= 0xff;
                v
            }
        };
        if s.send_to(&d, to).is_ok() {
            sent += 1;
        }
        if i % 500 == 0 {
            // Let the loop keep up rather than measure the kernel's buffer.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // The kernel drops what does not fit the socket's buffer; wait until
    // the node has read what got through (no new datagram for 300 ms).
    let mut last = u64::MAX;
    let settled = eventually(Duration::from_secs(20), || {
        std::thread::sleep(Duration::from_millis(300));
        let n = node.status().datagrams_in;
        std::mem::replace(&mut last, n) == n
    });
    let st = node.status();
    assert!(
        settled && st.datagrams_in >= 1000,
        "{} of {sent} read",
        st.datagrams_in
    );
    let st = node.status();
    let occ = node.with_peer(|p, _| p.occupancy());
    assert!(occ.peers <= 64, "{occ:?}");
    assert!(occ.events == 0 && occ.transmits == 0, "{occ:?}");
    assert!(st.events_queued <= 64);
    assert!(st.metrics.total_dropped() > 0, "{:?}", st.metrics);
    // Still alive and answering: a fresh ping gets its Pong.
    let probe = UdpSocket::bind((LO, 0)).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let hb = Ping::heartbeat(&"ab".repeat(32), None, 0.0, 0.0)
        .to_packet()
        .unwrap()
        .encode()
        .unwrap();
    probe.send_to(&hb, to).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = probe.recv_from(&mut buf).expect("a Pong after the flood");
    assert!(n > 4 && buf[4] == 2, "a Pong");
    let _ = matches!(
        node.try_next_event(),
        Some(NodeEvent::Peer(Event::Ready { .. }))
    );
    node.close().unwrap();
}
