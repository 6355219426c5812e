//! Forgeries (issue 10): tampered sealed messages, wrong keys, forged
//! signatures, replays, hop-count and TTL manipulation, oversize length
//! prefixes. None reaches the app as verified (`Event::Packet`), and each is
//! counted in the metrics.

mod peer_support;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::identity::{create_shared_key, sha256, SubclusterKeys};
use streamrelay::peer::{DropReason, Event, Instant, Peer, SocketId};
use streamrelay::wire::{Field, Packet};

const FROM: &str = "203.0.113.7:1007";

fn receiver() -> Peer {
    let mut p = member(2, "203.0.113.2:1002");
    p.handle_timeout(Instant(1));
    drain_transmits(&mut p, Instant(1));
    p
}

/// Delivers the datagram; returns the events.
fn deliver(p: &mut Peer, now: u64, bytes: &[u8]) -> Vec<Event> {
    p.handle_datagram(Instant(now), SocketId::Main, udp(FROM), bytes);
    drain_transmits(p, Instant(now));
    drain_events(p)
}

fn verified(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Packet { .. }))
        .count()
}

/// A lone event with its packetId made consistent again after `f` (what a
/// forger does: the id is only a hash).
fn reid(mut p: Packet, f: impl FnOnce(&mut Packet)) -> Vec<u8> {
    f(&mut p);
    p.set(Field::PacketId, &sha256(&p.message)).unwrap();
    frame(&p, 1)
}

#[test]
fn tampered_sealed_messages_do_not_open() {
    let mut p = receiver();
    let genuine = event_packets("e", b"the real payload", 1).remove(0);
    for i in 0..genuine.message.len() {
        let b = reid(genuine.clone(), |q| q.message[i] ^= 0x01);
        assert_eq!(verified(&deliver(&mut p, 10 + i as u64, &b)), 0, "byte {i}");
    }
    let m = p.metrics();
    assert_eq!(m.unopenable as usize, genuine.message.len());
    assert_eq!(m.delivered, 0);
    // Truncated and extended: refused too.
    let short = reid(genuine.clone(), |q| {
        q.message.pop();
    });
    let long = reid(genuine.clone(), |q| q.message.push(0));
    assert_eq!(verified(&deliver(&mut p, 500, &short)), 0);
    assert_eq!(verified(&deliver(&mut p, 501, &long)), 0);
    assert_eq!(p.metrics().unopenable as usize, genuine.message.len() + 2);
    // The genuine one still gets through.
    assert_eq!(verified(&deliver(&mut p, 502, &frame(&genuine, 1))), 1);
}

#[test]
fn wrong_keys_do_not_open() {
    let mut p = receiver();
    // Sealed with another subcluster's keys but labelled as ours.
    let other = SubclusterKeys::from_shared_key(&create_shared_key("not ours").unwrap());
    let mut f = event_packets_with("e", b"x", 2, &other, &signer(9), |_| {}).remove(0);
    f.set(Field::SubclusterId, &scid()).unwrap();
    let evs = deliver(&mut p, 10, &frame(&f, 1));
    assert_eq!(verified(&evs), 0);
    assert!(evs.iter().any(|e| matches!(e, Event::Unopenable { .. })));
    assert_eq!(p.metrics().unopenable, 1);
    // And in its own subcluster, which we are not in: cached and relayed
    // like any other cluster's traffic, never delivered.
    let f = event_packets_with("e", b"y", 3, &other, &signer(9), |_| {}).remove(0);
    assert_eq!(verified(&deliver(&mut p, 11, &frame(&f, 1))), 0);
    assert_eq!(p.metrics().delivered, 0);
}

#[test]
fn forged_signatures_are_not_verified() {
    let mut p = receiver();
    let mut out = Vec::new();
    // A payload past 64 bytes: the signature covers bytes 64.. (§10.21).
    let payload = [7u8; 200];
    for k in 0..4u64 {
        let mut f = event_packets("e", &payload, 10 + k).remove(0);
        match k {
            // Random signature.
            0 => f.set(Field::Sig, &[0x5a; 64]).unwrap(),
            // Another key claimed as the publisher.
            1 => f.set(Field::Usr2, &signer(8).public_key()).unwrap(),
            // A signature of the right key over other bytes.
            2 => {
                let other = event_packets("e", &[8u8; 200], 99).remove(0);
                f.set(Field::Sig, &other.sig).unwrap();
            }
            // A publisher key of the wrong length.
            _ => f.set(Field::Usr2, &[1; 31]).unwrap(),
        }
        out.extend(deliver(&mut p, 10 + k, &frame(&f, 1)));
    }
    assert_eq!(verified(&out), 0);
    let unverified = out
        .iter()
        .filter(|e| matches!(e, Event::Unverified { .. }))
        .count();
    assert_eq!(unverified, 4);
    assert_eq!(p.metrics().unverified, 4);
    assert_eq!(p.metrics().delivered, 0);
}

#[test]
fn replays_are_delivered_once() {
    let mut p = receiver();
    let genuine = frame(&event_packets("e", b"once", 20).remove(0), 1);
    assert_eq!(verified(&deliver(&mut p, 10, &genuine)), 1);
    // Again at once (the gate), and after the gate forgot it (six ticks)
    // and the cache expired it: the delivered set remembers.
    assert_eq!(verified(&deliver(&mut p, 11, &genuine)), 0);
    let mut t = 11;
    for _ in 0..8 {
        t += 30_000;
        p.handle_timeout(Instant(t));
        drain_transmits(&mut p, Instant(t));
        drain_events(&mut p);
    }
    assert_eq!(verified(&deliver(&mut p, t + 1, &genuine)), 0);
    // With other hops, another TTL or clock (fields outside the packetId
    // and the seal): still the same event.
    let mut q = event_packets("e", b"once", 20).remove(0);
    q.ttl = 1;
    q.clock = 77;
    assert_eq!(verified(&deliver(&mut p, t + 2, &frame(&q, 9))), 0);
    let m = p.metrics();
    assert_eq!(m.delivered, 1);
    assert!(m.dropped(DropReason::Duplicate) >= 1);
}

#[test]
fn hop_count_and_ttl_manipulation() {
    let mut p = receiver();
    for (n, a) in [(3u8, "203.0.113.3:1003"), (4, "203.0.113.4:1004")] {
        connect(&mut p, Instant(1), n, a);
    }
    // A genuine packet at the hop limit or past it: delivered, not relayed.
    for (k, hops) in [16u32, u32::MAX].into_iter().enumerate() {
        let f = event_packets("e", &[k as u8; 10], 30 + k as u64).remove(0);
        p.handle_datagram(Instant(10), SocketId::Main, udp(FROM), &frame(&f, hops));
        let tx = drain_transmits(&mut p, Instant(10));
        assert!(tx.iter().all(|t| t.bytes[4] != 5), "relayed at hops {hops}");
        assert_eq!(verified(&drain_events(&mut p)), 1);
    }
    // A TTL of u32::MAX is capped: held 6 h, 12 h in a cluster we are in
    // (as the reference's cache, docs/compat.md#cache-expiry).
    let long = event_packets("e", b"ttl", 40).remove(0);
    let mut q = long.clone();
    q.ttl = u32::MAX;
    assert_eq!(verified(&deliver(&mut p, 20, &frame(&q, 1))), 1);
    assert!(p.cached(&long.packet_id).is_some());
    let twelve_h = 12 * 3600 * 1000;
    let mut t = 20;
    while t < twelve_h + 120_000 {
        t += 30_000;
        p.handle_timeout(Instant(t));
        drain_transmits(&mut p, Instant(t));
        drain_events(&mut p);
    }
    assert!(p.cached(&long.packet_id).is_none(), "expired within 12 h");
    // Forged packets are not verified at any hop count.
    let genuine = event_packets("e", b"hops", 41).remove(0);
    for (k, hops) in [0u32, 1, 15, 16, 1000].into_iter().enumerate() {
        let mut b = reid(genuine.clone(), |q| q.message[5 + k] ^= 0x10);
        b[11..15].copy_from_slice(&hops.to_be_bytes());
        assert_eq!(verified(&deliver(&mut p, t + 1, &b)), 0);
    }
}

#[test]
fn oversize_length_prefixes_are_malformed() {
    let mut p = receiver();
    let genuine = frame(&event_packets("e", b"len", 50).remove(0), 1);
    // The 11 length prefixes follow the 23-byte header; make each one too
    // long in turn (by 1, and to 0xffff).
    let mut off = 23;
    let mut cases = 0;
    for field in 0..11 {
        let n = u16::from_be_bytes([genuine[off], genuine[off + 1]]) as usize;
        for bad in [n as u16 + 1, 0xffff] {
            let mut b = genuine.clone();
            b[off..off + 2].copy_from_slice(&bad.to_be_bytes());
            let evs = deliver(&mut p, 10 + cases, &b);
            cases += 1;
            assert_eq!(verified(&evs), 0, "field {field} length {bad}");
        }
        off += 2 + n;
    }
    let m = p.metrics();
    // Refused by the decoder, or (a longer `sig` at the end is cut short,
    // spec §10.8) a packet whose content no longer matches: nothing cached
    // or delivered, all counted.
    assert_eq!(m.delivered, 0);
    assert_eq!(
        m.dropped(DropReason::Malformed)
            + m.dropped(DropReason::Forged)
            + m.dropped(DropReason::Invalid)
            + m.unverified
            + m.unopenable,
        cases
    );
}
