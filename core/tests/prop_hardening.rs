//! Property tests of issue 10 that the older suites (roundtrip.rs,
//! crypto_props.rs) do not cover:
//!
//! * typed control messages (Ping, Pong, Intro, Join) with arbitrary field
//!   values round-trip through a packet (encode → decode → parse);
//! * a sealed box opens only with the recipient's key pair;
//! * chains split by `message_to_packets` reassemble in any order, with
//!   duplicates and the packets of other chains interleaved, under limits
//!   that hold them all (and never exceed them when they do not);
//! * the Peer's cache stays within its byte and packet caps for any
//!   sequence of packet sizes, keeps exactly the newest packets, and its
//!   counters add up.

mod peer_support;

use peer_support::data::data_peer;
use peer_support::hex;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use streamrelay::crypto::event::{message_to_packets, ChainArgs, Reassembler, ReassemblyLimits};
use streamrelay::crypto::identity::{sha256, SharedKey, SubclusterKeys};
use streamrelay::crypto::sealed_box::{box_seal, box_seal_open};
use streamrelay::nat::NatType;
use streamrelay::peer::{Eviction, Instant, SocketId, CACHE_ENTRY_OVERHEAD};
use streamrelay::wire::control::{Intro, Join, Ping, Pong};
use streamrelay::wire::{DecodeError, Field, Packet, PacketRef, PacketType};

fn nat() -> impl Strategy<Value = Option<NatType>> {
    prop_oneof![
        Just(None),
        Just(Some(NatType::UNRESTRICTED)),
        Just(Some(NatType::ADDR_RESTRICTED)),
        Just(Some(NatType::PORT_RESTRICTED)),
        Just(Some(NatType::ENDPOINT_RESTRICTED)),
    ]
}

/// Any text JSON can carry (control characters and non-ASCII included).
fn text() -> impl Strategy<Value = String> {
    "[ -~\u{0}-\u{1f}\u{e9}\u{4e2d}\u{1f600}]{0,40}"
}

fn num() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u32>().prop_map(f64::from),
        (-1e15f64..1e15).prop_map(|x| x.trunc()),
        -1e300f64..1e300,
    ]
}

/// Through the wire and back: when the receiver's validation (§3.0)
/// accepts the text, the typed parser sees the same object; when it does
/// not, the decoder says why (`InvalidMessage`) and nothing panics.
/// Returns whether it was accepted.
fn through_wire<T: PartialEq + std::fmt::Debug>(
    packet: Packet,
    parse: impl Fn(&[u8]) -> Result<T, streamrelay::wire::control::ControlError>,
    original: &T,
) -> Result<bool, TestCaseError> {
    let bytes = packet.encode().unwrap();
    match PacketRef::decode(&bytes) {
        Ok(r) => {
            prop_assert_eq!(r.packet_type, packet.packet_type);
            let back = parse(r.message).unwrap();
            prop_assert_eq!(&back, original);
            Ok(true)
        }
        Err(e) => {
            prop_assert!(matches!(e, DecodeError::InvalidMessage { .. }), "{:?}", e);
            prop_assert!(parse(&packet.message).is_err());
            Ok(false)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn control_messages_round_trip(
        id in any::<[u8; 32]>(), other in any::<[u8; 32]>(), n in nat(),
        a in text(), b in text(), x in num(), y in num(), port in any::<u16>(),
        flags in any::<[bool; 3]>(), rid in any::<[u8; 6]>(), hash in any::<[u8; 20]>(),
    ) {
        let (id, other, rid, hash) = (hex(&id), hex(&other), hex(&rid), hex(&hash));
        // Well-formed ids and hashes: the heartbeat always passes.
        let mut ping = Ping::heartbeat(&id, n, x.abs(), y.abs());
        prop_assert!(through_wire(ping.to_packet().unwrap(), Ping::parse, &ping)?);
        if flags[0] { ping.set_reflection_id(&rid).set_is_reflection(true); }
        if flags[1] { ping.set_ping_id(&rid).set_is_connection(true); }
        if flags[2] { ping.set_cache_summary_hash(&hash).set_probe_external_port(f64::from(port)); }
        through_wire(ping.to_packet().unwrap(), Ping::parse, &ping)?;
        // Free text where an id goes: refused or accepted, never confused.
        if flags[0] { ping.set_reflection_id(&a); }
        if flags[2] { ping.set_cache_summary_hash(&b); }
        through_wire(ping.to_packet().unwrap(), Ping::parse, &ping)?;

        let mut pong = Pong::new();
        pong.set_requester_peer_id(&id).set_responder_peer_id(&other).set_address(&a)
            .set_port(f64::from(port)).set_nat_type(n).set_uptime(x);
        if flags[0] { pong.set_reflection_id(&rid).set_is_reflection(flags[1]); }
        through_wire(pong.to_packet().unwrap(), Pong::parse, &pong)?;

        let intro = Intro::introduce(&id, &other, flags[2], n.unwrap_or(NatType(0)), &a, port);
        through_wire(intro.to_packet().unwrap(), Intro::parse, &intro)?;

        let mut join = Join::announce(&id, n, &a, port, &b);
        if flags[1] {
            join.set_rendezvous_address(&b).set_rendezvous_port(y).set_rendezvous_type(n)
                .set_rendezvous_peer_id(&other).set_rendezvous_deadline(x);
        }
        through_wire(join.to_packet().unwrap(), Join::parse, &join)?;
    }

    #[test]
    fn a_sealed_box_opens_only_for_its_recipient(
        m in prop::collection::vec(any::<u8>(), 0..500),
        k in any::<[u8; 32]>(), other in any::<[u8; 32]>(), seed in any::<u64>(),
    ) {
        prop_assume!(k != other);
        let mine = SubclusterKeys::from_shared_key(&SharedKey::from_bytes(k));
        let theirs = SubclusterKeys::from_shared_key(&SharedKey::from_bytes(other));
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let c = box_seal(&m, mine.x25519_public_key(), &mut rng).unwrap();
        prop_assert_eq!(box_seal_open(&c, mine.x25519_public_key(), mine.x25519_secret_key()).unwrap(), m);
        prop_assert!(box_seal_open(&c, theirs.x25519_public_key(), theirs.x25519_secret_key()).is_err());
        // The right secret key with another public key (the nonce is
        // derived from both public keys): refused too.
        prop_assert!(box_seal_open(&c, theirs.x25519_public_key(), mine.x25519_secret_key()).is_err());
    }

    #[test]
    fn chains_split_and_reassemble_in_any_order(
        sizes in prop::collection::vec(1usize..6000, 1..4),
        order in any::<u64>(),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        // Several raw chains (as Query answers are), their packets shuffled
        // together, some sent twice.
        let messages: Vec<Vec<u8>> = sizes.iter().enumerate()
            .map(|(k, &n)| (0..n).map(|i| (i * 31 + k * 7) as u8).collect())
            .collect();
        let mut all: Vec<(usize, Vec<u8>)> = Vec::new();
        for (k, m) in messages.iter().enumerate() {
            let mut args = ChainArgs::new(PacketType::Query);
            let usr3 = [k as u8; 32];
            args.usr3 = &usr3;
            for p in message_to_packets(m, &args, 1_700_000_000_000 + k as u64).unwrap() {
                all.push((k, p.encode().unwrap()));
            }
        }
        for d in &dups {
            let extra = all[d.index(all.len())].clone();
            all.push(extra);
        }
        let mut x = order | 1;
        for i in (1..all.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            all.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let limits = ReassemblyLimits { max_chains: 4, max_bytes: 4 * 6000 };
        let mut r = Reassembler::new(limits);
        let mut got = vec![0usize; messages.len()];
        for (k, b) in &all {
            let p = PacketRef::decode(b).unwrap();
            if let Some(a) = r.push(&p, 0).unwrap() {
                prop_assert_eq!(&a.packet.message, &messages[*k]);
                got[*k] += 1;
            }
            prop_assert!(r.pending_chains() <= limits.max_chains);
            prop_assert!(r.pending_bytes() <= limits.max_bytes);
        }
        for (k, m) in messages.iter().enumerate() {
            // A lone packet has no chain to remember: each copy comes out.
            if m.len() > 1024 {
                prop_assert_eq!(got[k], 1, "chain {} of {} bytes", k, m.len());
            } else {
                prop_assert!(got[k] >= 1);
            }
        }
        prop_assert_eq!(r.pending_chains(), 0);
        prop_assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn the_cache_stays_within_its_caps_and_keeps_the_newest(
        sizes in prop::collection::vec(0usize..1025, 1..300),
        max_bytes in 2_000usize..60_000,
        max_packets in 1usize..64,
    ) {
        let mut p = data_peer(7, "203.0.113.7:1007", |c| {
            c.limit_exempt = true;
            c.limits.max_cache_bytes = max_bytes;
            c.limits.max_cache_packets = max_packets;
        });
        let mut ids = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let mut m = vec![0xa5u8; n];
            if n >= 4 {
                m[..4].copy_from_slice(&(i as u32).to_be_bytes());
            } else {
                m = (i as u32).to_be_bytes().to_vec();
            }
            let mut q = Packet::new(PacketType::Publish);
            q.set(Field::ClusterId, &[0xc2; 32]).unwrap();
            let id = sha256(&m);
            q.set(Field::PacketId, &id).unwrap();
            q.message = m;
            q.hops = 1;
            let now = Instant(1 + i as u64);
            p.handle_datagram(now, SocketId::Main, peer_support::udp("192.0.2.9:9"), &q.encode().unwrap());
            while p.poll_transmit(now).is_some() {}
            ids.push(id);
            let o = p.occupancy();
            prop_assert!(o.cache_bytes <= max_bytes, "{} > {}", o.cache_bytes, max_bytes);
            prop_assert!(o.cache_packets <= max_packets);
        }
        let o = p.occupancy();
        let m = p.metrics();
        prop_assert_eq!(m.cached - m.evicted(Eviction::Cache), o.cache_packets as u64);
        // Oldest out first: what is left is a suffix of what came in.
        let kept = o.cache_packets;
        for (i, id) in ids.iter().enumerate() {
            let cached = p.cached(id).is_some();
            prop_assert_eq!(cached, i >= ids.len() - kept, "packet {} of {}", i, ids.len());
        }
        // The bytes charged: each packet's encoding plus the fixed overhead.
        let charged: usize = ids[ids.len() - kept..]
            .iter()
            .map(|id| p.cached(id).unwrap().len() + CACHE_ENTRY_OVERHEAD)
            .sum();
        prop_assert_eq!(charged, o.cache_bytes);
    }
}
