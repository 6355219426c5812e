//! Fuzz `PacketRef::decode` and the invariants of the codec.
//!
//! For any datagram:
//!
//! * `decode` never panics; it succeeds only if `decode_frame` does, with the
//!   same fields, and differs from it only by rejecting a control message
//!   (types 1-4) with `InvalidMessage`.
//! * A decoded packet re-encodes (`encode` and `encode_into` agree, and have
//!   `encoded_len` bytes), the owned copy (`to_packet`) encodes to the same
//!   bytes, and the re-encoding decodes to the same fields except the two
//!   the encoder rewrites on purpose: a packetId of exactly `00` becomes
//!   `SHA-256(previousId ‖ message ‖ nextId)` and a clock of exactly
//!   2 000 000 000 becomes 0. Re-encoding is then a fixed point.
//! * When neither rewrite applies and `sig` was not cut short by the end of
//!   the datagram, the re-encoding is the datagram itself minus any bytes
//!   after `sig`.
//! * The message of every frame gets the same accept/reject from
//!   `json::parse`, `json::validate` and the `Tokenizer` iterator; an
//!   accepted control message is a JSON object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamrelay::wire::json::{self, JsValue, Tokenizer};
use streamrelay::wire::packet::{CLOCK_WRAP, HEADER_BYTES};
use streamrelay::wire::{DecodeError, PacketRef};

fuzz_target!(|data: &[u8]| {
    let frame = PacketRef::decode_frame(data);
    let full = PacketRef::decode(data);

    match (&frame, &full) {
        (Ok(f), Ok(p)) => assert_eq!(f, p, "decode and decode_frame disagree"),
        (Ok(f), Err(e)) => {
            assert!(
                f.packet_type.is_control(),
                "decode_frame accepts a {} packet that decode rejects: {e:?}",
                f.packet_type
            );
            assert!(
                matches!(e, DecodeError::InvalidMessage { .. }),
                "frame is fine but decode fails with {e:?}"
            );
        }
        (Err(fe), Ok(_)) => panic!("decode accepts what decode_frame rejects: {fe:?}"),
        (Err(fe), Err(e)) => assert_eq!(fe, e, "decode and decode_frame fail differently"),
    }

    if let Ok(f) = &frame {
        json_agrees(f.message);
    }

    let Ok(p) = full else { return };

    if p.packet_type.is_control() {
        match json::parse(p.message) {
            Ok(JsValue::Object(_)) => {}
            other => panic!("accepted control message is not a JSON object: {other:?}"),
        }
    }

    // Re-encode.
    let enc = p.encode().expect("a decoded packet re-encodes");
    assert_eq!(enc.len(), p.encoded_len());
    let mut buf = [0u8; 1421 + 16];
    let n = p.encode_into(&mut buf).expect("encode_into");
    assert_eq!(&buf[..n], &enc[..], "encode_into and encode disagree");
    assert_eq!(
        p.to_packet().encode().expect("owned copy encodes"),
        enc,
        "to_packet().encode() differs"
    );

    // Decode the re-encoding: same fields except the two rewrites.
    let q = PacketRef::decode(&enc).expect("the re-encoding decodes");
    let mut expect = p;
    let computed;
    if p.packet_id_is_default() {
        computed = p.computed_packet_id();
        expect.packet_id = &computed;
    }
    if p.clock == CLOCK_WRAP {
        expect.clock = 0;
    }
    assert_eq!(q, expect, "decode(encode(p)) differs from p");
    assert_eq!(&p.effective_packet_id()[..], q.packet_id);

    // Fixed point.
    assert_eq!(
        q.encode().expect("second re-encode"),
        enc,
        "re-encoding is not a fixed point"
    );

    // Byte-exact when nothing is rewritten and sig is whole.
    let natural: usize = HEADER_BYTES + p.fields().iter().map(|f| 2 + f.len()).sum::<usize>();
    let sig_prefix_at = natural - 2 - p.sig.len();
    let sig_prefix = u16::from_be_bytes([data[sig_prefix_at], data[sig_prefix_at + 1]]) as usize;
    let sig_cut = sig_prefix != p.sig.len();
    assert_eq!(sig_cut, data.len() < natural + (sig_prefix - p.sig.len()));
    if !sig_cut {
        assert!(data.len() >= natural);
    }
    if !sig_cut && !p.packet_id_is_default() && p.clock != CLOCK_WRAP {
        assert_eq!(
            &enc[..],
            &data[..natural],
            "re-encoding is not the datagram"
        );
    }
});

/// `parse`, `validate` and the `Tokenizer` iterator accept the same texts.
fn json_agrees(m: &[u8]) {
    let parsed = json::parse(m);
    let validated = json::validate(m);
    let mut tok = Tokenizer::new(m);
    let mut iter_ok = true;
    for t in &mut tok {
        if t.is_err() {
            iter_ok = false;
        }
    }
    assert_eq!(
        parsed.is_ok(),
        validated.is_ok(),
        "parse {:?} vs validate {:?}",
        parsed.as_ref().err(),
        validated.err()
    );
    assert_eq!(
        parsed.is_ok(),
        iter_ok,
        "parse {:?} vs Tokenizer",
        parsed.err()
    );
    if iter_ok {
        assert!(tok.is_done(), "tokenizer ended cleanly but is not done");
    }
}
