//! Event packing, chains and reassembly (spec §4.7, §7.1–§7.3): the
//! reference's split sizes, clocks and ids, and the reassembler's stricter
//! checks and bounds.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use streamrelay::crypto::event::{
    chain_clock, compose_published, message_to_packets, pack_event, unpack_event, ChainArgs,
    ChainParent, EventArgs, PackError, Reassembler, ReassemblyError, ReassemblyLimits,
    ReceiveError, UnpackError,
};
use streamrelay::crypto::identity::{create_shared_key, sha256, KeyPair, SubclusterKeys};
use streamrelay::crypto::{ese, OpenError};
use streamrelay::wire::json::{JsObject, JsValue};
use streamrelay::wire::packet::IdField;
use streamrelay::wire::{Packet, PacketRef, PacketType};

fn keys(s: &str) -> SubclusterKeys {
    SubclusterKeys::from_shared_key(&create_shared_key(s).unwrap())
}

fn chain(len: usize) -> Vec<Packet> {
    let m: Vec<u8> = (0..len).map(|i| i as u8).collect();
    message_to_packets(&m, &ChainArgs::new(PacketType::Publish), 1_700_000_000_000).unwrap()
}

#[test]
fn split_sizes_as_the_reference() {
    // spec §7.2: 1024 → 1; 1025 → 3; 2048 → 3; 2049 → 4; 2500 → 4.
    for (len, n) in [
        (0, 1),
        (1024, 1),
        (1025, 3),
        (2048, 3),
        (2049, 4),
        (2500, 4),
    ] {
        let ps = chain(len);
        assert_eq!(ps.len(), n, "{len}");
        if n > 1 {
            assert_eq!(
                String::from_utf8(ps[0].message.clone()).unwrap(),
                format!(
                    r#"{{"meta":{{}},"ts":1700000000000,"size":{len},"indexes":{}}}"#,
                    n - 1
                )
            );
            let sizes: Vec<usize> = ps[1..].iter().map(|p| p.message.len()).collect();
            assert_eq!(sizes.iter().sum::<usize>(), len);
            assert!(sizes[..n - 2].iter().all(|&s| s == 1024));
        }
        for (i, p) in ps.iter().enumerate() {
            assert_eq!(p.index, if n == 1 { -1 } else { i as i32 });
            assert_eq!(p.clock, 1);
            assert!(p.encode().is_ok());
        }
    }
    assert_eq!(chain(2500)[4 - 1].message.len(), 452);
}

#[test]
fn chain_ids_and_links() {
    let ps = chain(3000);
    let id0 = sha256(&ps[0].message);
    assert_eq!(ps[0].packet_id[..], id0);
    assert_eq!(ps[0].previous_id[..], [0]);
    let mut prev = id0.to_vec();
    for (k, p) in ps.iter().enumerate().skip(1) {
        let mut b = sha256(&prev).to_vec();
        b.extend_from_slice(&sha256(&p.message));
        assert_eq!(p.packet_id[..], sha256(&b), "id_{k}");
        assert_eq!(p.previous_id[..], id0, "fragments point at the head");
        assert_eq!(ps[k - 1].next_id[..], p.packet_id[..]);
        prev = p.packet_id.to_vec();
    }
    assert_eq!(ps.last().unwrap().next_id[..], [0]);
    // A lone packet: id = SHA-256(message).
    let one = chain(10);
    assert_eq!(one[0].packet_id[..], sha256(&one[0].message));
}

#[test]
fn clocks_parents_and_next_id() {
    assert_eq!(chain_clock(None).unwrap(), 1);
    let pid = [7u8; 32];
    let parent = |clock, sib| ChainParent {
        packet_id: &pid,
        clock,
        max_sibling_clock: sib,
    };
    // spec §7.2: parent clock 1 with siblings at clock 1 gives 3.
    assert_eq!(chain_clock(Some(&parent(1, Some(1)))).unwrap(), 3);
    assert_eq!(chain_clock(Some(&parent(4, None))).unwrap(), 5);
    assert_eq!(chain_clock(Some(&parent(2, Some(9)))).unwrap(), 11);
    assert_eq!(
        chain_clock(Some(&parent(u32::MAX, None))),
        Err(PackError::ClockOverflow)
    );
    let mut a = ChainArgs::new(PacketType::Stream);
    a.parent = Some(parent(1, Some(1)));
    let next = [8u8; 32];
    a.next_id = Some(&next);
    let ps = message_to_packets(&[1; 1500], &a, 5).unwrap();
    assert!(ps
        .iter()
        .all(|p| p.clock == 3 && p.packet_type == PacketType::Stream));
    assert_eq!(ps[0].previous_id[..], pid);
    assert_eq!(ps.last().unwrap().next_id[..], next);
    assert_eq!(ps[0].next_id[..], ps[1].packet_id[..]);
}

#[test]
fn head_meta_too_big_and_field_limits() {
    let mut meta = JsObject::new();
    meta.insert("x", JsValue::from("y".repeat(1000)));
    let meta = JsValue::Object(meta);
    let mut a = ChainArgs::new(PacketType::Publish);
    a.meta = Some(&meta);
    assert!(matches!(
        message_to_packets(&[0; 2000], &a, 1),
        Err(PackError::HeadTooBig(_))
    ));
    let long = [0u8; 33];
    let mut a = ChainArgs::new(PacketType::Publish);
    a.usr3 = &long;
    assert!(matches!(
        message_to_packets(&[0; 10], &a, 1),
        Err(PackError::Field(_))
    ));
}

#[test]
fn pack_event_fields() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let k = keys("sub");
    let me = KeyPair::from_seed(&[1; 32]);
    let payload = vec![5u8; 100];
    assert_eq!(
        pack_event(&EventArgs::new(&[1], "", &payload), &k, &me, 1, &mut rng),
        Err(PackError::EmptyEventName)
    );
    let mut a = EventArgs::new(&[1; 32], "greeting", &payload);
    a.ttl = Some(u32::MAX);
    let ps = pack_event(&a, &k, &me, 1, &mut rng).unwrap();
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    assert_eq!(p.ttl, 21_600_000);
    assert_eq!(p.usr1[..], sha256(b"greeting"));
    assert_eq!(p.usr2[..], me.public_key());
    assert_eq!(p.subcluster_id[..], k.subcluster_id());
    assert_eq!(p.message.len(), 260);
    assert_eq!(p.clock, 1);
    a.ttl = Some(0);
    assert_eq!(pack_event(&a, &k, &me, 1, &mut rng).unwrap()[0].ttl, 0);
    // Sealed 864 bytes fit one packet, 865 do not.
    let big = vec![1u8; 864];
    assert_eq!(
        pack_event(&EventArgs::new(&[1], "e", &big), &k, &me, 1, &mut rng)
            .unwrap()
            .len(),
        1
    );
    let big = vec![1u8; 865];
    let ps = pack_event(&EventArgs::new(&[1], "e", &big), &k, &me, 1, &mut rng).unwrap();
    assert_eq!(ps.len(), 3);
    assert!(ps
        .iter()
        .all(|p| p.usr1 == ps[0].usr1 && p.sig == ps[0].sig && p.usr2 == ps[0].usr2));
}

fn feed(r: &mut Reassembler, ps: &[&Packet]) -> Vec<Result<bool, ReassemblyError>> {
    ps.iter()
        .map(|p| r.push(&p.as_ref(), 0).map(|o| o.is_some()))
        .collect()
}

#[test]
fn reassembly_in_order_and_ids() {
    let ps = chain(2500);
    let whole: Vec<u8> = (0..2500).map(|i| i as u8).collect();
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let mut out = None;
    for p in &ps {
        if let Some(a) = r.push(&p.as_ref(), 0).unwrap() {
            out = Some(a);
        }
    }
    let a = out.unwrap();
    assert_eq!(a.packet.message, whole);
    assert_eq!(a.packet.index, -1);
    assert_eq!(a.head_id.as_deref(), Some(&ps[0].packet_id[..]));
    // The last fragment completed it: SHA-256(head id ‖ bytes).
    let mut b = ps[0].packet_id.to_vec();
    b.extend_from_slice(&whole);
    assert_eq!(a.packet.packet_id[..], sha256(&b));
    assert_eq!(r.stats().completed, 1);
    assert_eq!(r.pending_chains(), 0);
    // The head last: SHA-256(head.previousId ‖ bytes) = SHA-256(00 ‖ bytes),
    // as the publisher's own compose.
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let res = feed(&mut r, &[&ps[3], &ps[1], &ps[2], &ps[0]]);
    assert_eq!(res, vec![Ok(false), Ok(false), Ok(false), Ok(true)]);
    let own = compose_published(&ps).unwrap();
    let mut b = vec![0u8];
    b.extend_from_slice(&whole);
    assert_eq!(own.packet.packet_id[..], sha256(&b));
    assert_eq!(own.packet.message, whole);
}

#[test]
fn reassembly_is_strict() {
    let ps = chain(2500);
    let mut r = Reassembler::new(ReassemblyLimits::default());
    assert_eq!(feed(&mut r, &[&ps[0], &ps[1]]), vec![Ok(false), Ok(false)]);
    // Exact duplicate: ignored.
    assert_eq!(feed(&mut r, &[&ps[1]]), vec![Ok(false)]);
    assert_eq!(r.stats().duplicates, 1);
    // Another packet at index 1: conflict, the first is kept.
    let mut other = ps[1].clone();
    other.message[0] ^= 1;
    assert_eq!(
        r.push(&other.as_ref(), 0),
        Err(ReassemblyError::ConflictingFragment { index: 1 })
    );
    // Index beyond `indexes`.
    let mut extra = ps[3].clone();
    extra.index = 4;
    assert!(matches!(
        r.push(&extra.as_ref(), 0),
        Err(ReassemblyError::FragmentOutOfRange {
            index: 4,
            indexes: 3
        })
    ));
    // Wrong length for the last fragment.
    let mut short = ps[3].clone();
    short.message.pop();
    assert_eq!(
        r.push(&short.as_ref(), 0),
        Err(ReassemblyError::FragmentLength {
            index: 3,
            len: 451,
            expected: 452
        })
    );
    // A changed fragment with the right length: caught by the id chain,
    // dropped, and the right one still completes the chain.
    let mut forged = ps[2].clone();
    forged.message[10] ^= 1;
    assert_eq!(feed(&mut r, &[&forged]), vec![Ok(false)]);
    assert_eq!(
        r.push(&ps[3].as_ref(), 0),
        Err(ReassemblyError::ChainIdMismatch { index: 2 })
    );
    assert_eq!(r.pending_chains(), 1);
    assert_eq!(feed(&mut r, &[&ps[2]]), vec![Ok(true)]);
    // Late copies after completion are duplicates, not new chains.
    assert_eq!(feed(&mut r, &[&ps[1], &ps[0]]), vec![Ok(false), Ok(false)]);
    assert_eq!(r.pending_chains(), 0);
}

#[test]
fn bad_heads() {
    let ps = chain(2500);
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let mut h = ps[0].clone();
    h.message = br#"{"meta":{},"ts":1,"size":2500,"indexes":4}"#.to_vec();
    h.packet_id = IdField::from_slice(&sha256(&h.message)).unwrap();
    assert!(matches!(
        r.push(&h.as_ref(), 0),
        Err(ReassemblyError::BadHead(_))
    ));
    h.message = br#"{"meta":{},"ts":1,"size":2500.5,"indexes":3}"#.to_vec();
    h.packet_id = IdField::from_slice(&sha256(&h.message)).unwrap();
    assert!(matches!(
        r.push(&h.as_ref(), 0),
        Err(ReassemblyError::BadHead(_))
    ));
    h.message = b"null".to_vec();
    assert!(matches!(
        r.push(&h.as_ref(), 0),
        Err(ReassemblyError::BadHead(_))
    ));
    let mut h = ps[0].clone();
    h.packet_id = IdField::from_slice(&[1; 32]).unwrap();
    assert_eq!(r.push(&h.as_ref(), 0), Err(ReassemblyError::HeadIdMismatch));
    let mut r = Reassembler::new(ReassemblyLimits {
        max_chains: 4,
        max_bytes: 2000,
    });
    assert!(matches!(
        r.push(&ps[0].as_ref(), 0),
        Err(ReassemblyError::TooLarge {
            size: 2500,
            limit: 2000
        })
    ));
    let mut neg = ps[1].clone();
    neg.index = -5;
    assert_eq!(r.push(&neg.as_ref(), 0), Err(ReassemblyError::BadIndex(-5)));
}

#[test]
fn reassembly_is_bounded() {
    let mut r = Reassembler::new(ReassemblyLimits {
        max_chains: 2,
        max_bytes: 5000,
    });
    let chains: Vec<Vec<Packet>> = (0..4)
        .map(|i| {
            let m = vec![i as u8; 3000];
            message_to_packets(&m, &ChainArgs::new(PacketType::Publish), i).unwrap()
        })
        .collect();
    // Fragments (no heads) of four chains: at most two chains, 5000 bytes.
    for c in &chains {
        for p in &c[1..3] {
            let _ = r.push(&p.as_ref(), 0);
            assert!(r.pending_chains() <= 2);
            assert!(r.pending_bytes() <= 5000);
        }
    }
    assert!(r.stats().evicted >= 2);
    // The newest chain can still complete.
    let last = &chains[3];
    let mut done = false;
    for p in last {
        done |= r.push(&p.as_ref(), 0).unwrap().is_some();
    }
    assert!(done);
    // Expiry.
    let mut r = Reassembler::new(ReassemblyLimits::default());
    r.push(&chains[0][1].as_ref(), 10).unwrap();
    assert_eq!(r.expire(100, 1000), 0);
    assert_eq!(r.expire(2000, 1000), 1);
    assert_eq!(r.pending_chains(), 0);
}

#[test]
fn unpack_outcomes() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let k = keys("sub");
    let me = KeyPair::from_seed(&[1; 32]);
    let payload = b"hello".to_vec();
    let ps = pack_event(
        &EventArgs::new(&[1; 32], "e", &payload),
        &k,
        &me,
        1,
        &mut rng,
    )
    .unwrap();
    let e = unpack_event(&ps[0], &k).unwrap();
    assert!(e.verified);
    assert_eq!(e.payload, payload);
    assert_eq!(e.packet_type, PacketType::Publish);
    // Another subcluster's keys.
    assert_eq!(
        unpack_event(&ps[0], &keys("other")),
        Err(UnpackError::WrongSubcluster)
    );
    // A forged message under the right subcluster id: an error, not a panic.
    let mut p = ps[0].clone();
    p.message[100] ^= 1;
    assert!(matches!(
        unpack_event(&p, &k),
        Err(UnpackError::Open(OpenError::Box(_)))
    ));
    p.message = vec![0];
    assert!(matches!(unpack_event(&p, &k), Err(UnpackError::Open(_))));
    // Another publisher key in usr2: delivered, not verified.
    let mut p = ps[0].clone();
    p.usr2 = IdField::from_slice(&KeyPair::from_seed(&[2; 32]).public_key()).unwrap();
    assert!(!unpack_event(&p, &k).unwrap().verified);
    // Messages of 64 bytes or less share one signature (spec §4.6).
    let a = pack_event(&EventArgs::new(&[1], "e", &[1; 64]), &k, &me, 1, &mut rng).unwrap();
    let mut b = a[0].clone();
    b.message = ese::seal(&[2; 10], &k, &mut rng).unwrap();
    assert!(unpack_event(&b, &k).unwrap().verified);
    // Through the reassembler.
    let mut r = Reassembler::new(ReassemblyLimits::default());
    let mut bad = ps[0].clone();
    bad.message[0] ^= 1;
    let bytes = bad.encode().unwrap();
    assert!(matches!(
        r.receive(&PacketRef::decode(&bytes).unwrap(), 0, &k),
        Err(ReceiveError::Unpack(UnpackError::Open(_)))
    ));
}
