//! Three peers and an introducer on the network model: A publishes while C
//! is offline; B (and the introducer: every peer caches every Publish)
//! relays and caches; A leaves; C comes online, syncs on first contact, and
//! receives every message, each once. In the second run the introducer is
//! gone too and C knows only B: everything comes from B.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::identity::sha256;
use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Event, PublishOptions};

const I: &str = "198.51.100.1:9001";
const A: &str = "203.0.113.1:1001";
const B: &str = "203.0.113.2:1002";
const C: &str = "203.0.113.3:1003";

fn cfg(n: u8, addr: &str) -> Config {
    cfg_with(n, addr, &[(200, I)])
}

fn cfg_with(n: u8, addr: &str, bootstrap: &[(u8, &str)]) -> Config {
    let mut c = with_introducers(config(n), bootstrap);
    c.nat_type = Some(NatType::UNRESTRICTED);
    c.public_address = Some(addr.parse().unwrap());
    c.wall_clock_offset_ms = WALL;
    c.signing_keys = Some(signer(n));
    c
}

/// What host `h` delivered, as (length, hash prefix) of each payload,
/// sorted (the network's jitter may reorder independent events).
fn delivered(net: &Net, h: usize) -> Vec<(usize, String)> {
    let mut v: Vec<(usize, String)> = net.hosts[h]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Packet { payload, .. } => Some(digest(payload)),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn digest(b: &[u8]) -> (usize, String) {
    (b.len(), hex(&sha256(b)[..6]))
}

fn connected(net: &Net, a: usize, b: usize) -> bool {
    let idb = net.hosts[b].peer.peer_id();
    net.hosts[a].peer.peer(&idb).is_some_and(|e| e.connected)
}

#[test]
fn a_peer_that_was_offline_gets_everything_from_the_relays() {
    run(false);
}

#[test]
fn a_peer_that_was_offline_gets_everything_from_b_alone() {
    run(true);
}

fn run(only_b: bool) {
    let mut net = Net::new(7);
    let mut ic = introducer_config(200, I);
    ic.wall_clock_offset_ms = WALL;
    net.add_public("I", ic, I.parse().unwrap());
    let a = net.add_public("A", cfg(1, A), A.parse().unwrap());
    let b = net.add_public("B", cfg(2, B), B.parse().unwrap());
    for h in [a, b] {
        net.with_peer(h, |p, now| p.join(now, &shared()).map(|_| ()))
            .unwrap();
    }
    assert!(
        net.run_while(60_000, |n| connected(n, a, b) && connected(n, b, a)),
        "A and B meet through the introducer"
    );

    // C is not there yet. A publishes: two small events and a long one.
    let long: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
    let sent: Vec<Vec<u8>> = vec![b"first".to_vec(), long, b"third".to_vec()];
    for (i, m) in sent.iter().enumerate() {
        net.with_peer(a, |p, now| {
            p.publish(now, &shared(), &format!("e{i}"), m, &PublishOptions::new())
                .map(|_| ())
        })
        .unwrap();
    }
    let mut want: Vec<(usize, String)> = sent.iter().map(|m| digest(m)).collect();
    want.sort();
    let t = net.now + 1000;
    net.run_until(t);
    assert_eq!(delivered(&net, b), want, "B delivers everything");
    let cached_at_b = net.hosts[b].peer.occupancy().cache_packets;
    assert_eq!(
        cached_at_b,
        2 + 5,
        "two lone packets and a head with four fragments"
    );

    // Every packet went through B's cache.
    let mut at_b = 0;
    for id in net.hosts[a].peer.cached_ids() {
        assert!(net.hosts[b].peer.cached(id).is_some());
        at_b += 1;
    }
    assert_eq!(at_b, 7);

    // A leaves for good (and, in the second run, the introducer too); C
    // comes online later.
    net.set_offline(a, true);
    if only_b {
        net.set_offline(0, true);
    }
    let t = net.now + 90_000;
    net.run_until(t);
    let c_cfg = if only_b {
        cfg_with(3, C, &[(2, B)])
    } else {
        cfg(3, C)
    };
    let c = net.add_public("C", c_cfg, C.parse().unwrap());
    net.with_peer(c, |p, now| p.join(now, &shared()).map(|_| ()))
        .unwrap();
    let t = net.now + 60_000;
    assert!(
        net.run_while(t, |n| delivered(n, c).len() == 3),
        "C receives everything: {:?}",
        delivered(&net, c)
    );
    let t = net.now + 30_000;
    net.run_until(t);

    // Everything, once each (C may get copies from several sides).
    assert_eq!(delivered(&net, c), want);
    // C's events came from a relay (A is gone): B, or the introducer; in
    // the second run only B. C now caches all seven packets too.
    for (_, e) in &net.hosts[c].events {
        if let Event::Packet { from, .. } = e {
            if only_b {
                assert_eq!(*from, udp(B));
            } else {
                assert!(*from == udp(B) || *from == udp(I), "{from}");
            }
        }
    }
    assert_eq!(net.hosts[c].peer.occupancy().cache_packets, 7);
    let synced: u64 = [0, b]
        .iter()
        .map(|&h| net.hosts[h].peer.metrics().sync_packets_sent)
        .sum();
    assert!(synced >= 7);
    if only_b {
        assert!(net.hosts[b].peer.metrics().sync_packets_sent >= 7);
    }
    // Same event hashes as published.
    let hashes: Vec<Vec<u8>> = net.hosts[c]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Packet { event_hash, .. } => Some(event_hash.to_vec()),
            _ => None,
        })
        .collect();
    for i in 0..3 {
        assert!(hashes.contains(&sha256(format!("e{i}").as_bytes()).to_vec()));
    }
}
