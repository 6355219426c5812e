//! Property tests: any packet we can build encodes, decodes to the same
//! fields, and re-encodes to the same bytes; any byte string decodes to a
//! value or a typed error (never a panic).

use proptest::prelude::*;
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

fn field(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

prop_compose! {
    fn packet()(
        t in 5u8..=8,
        version in any::<u16>(), clock in any::<u32>(), hops in any::<u32>(),
        index in any::<i32>(), ttl in any::<u32>(),
        ids in prop::collection::vec(field(32), 9),
        message in field(1024),
        sig in field(64),
    ) -> Packet {
        let mut p = Packet::new(PacketType::from_u8(t).unwrap());
        p.version = version; p.clock = clock; p.hops = hops; p.index = index; p.ttl = ttl;
        for (f, v) in Field::VARIABLE[..9].iter().zip(ids) { p.set(*f, &v).unwrap(); }
        p.message = message;
        p.set(Field::Sig, &sig).unwrap();
        p
    }
}

proptest! {
    #[test]
    fn encode_decode_round_trip(p in packet()) {
        let bytes = p.encode().unwrap();
        prop_assert_eq!(bytes.len(), p.encoded_len());
        let r = PacketRef::decode(&bytes).unwrap();
        let mut expect = p.clone();
        expect.finalize_packet_id();
        if p.clock == streamrelay::wire::packet::CLOCK_WRAP { expect.clock = 0; }
        prop_assert_eq!(r.to_packet(), expect);
        prop_assert_eq!(r.encode().unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        let _ = PacketRef::decode(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(p in packet(), pos in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = p.encode().unwrap();
        let i = pos.index(bytes.len());
        bytes[i] = b;
        if let Ok(r) = PacketRef::decode(&bytes) {
            // Whatever decodes re-encodes and decodes to the same view.
            let again = r.encode().unwrap();
            let r2 = PacketRef::decode(&again).unwrap();
            prop_assert_eq!(r2.message, r.message);
            prop_assert_eq!(r2.packet_type, r.packet_type);
        }
    }
}
