//! The codec against the spec's worked examples (§2.8, §2.9), and under bad
//! input. The golden vectors (`vectors/*.json`) cover the reference's
//! behaviour case by case; these tests pin the examples and the invariants.

use streamrelay::wire::message::MessageError;
use streamrelay::wire::packet::{MAX_FRAME_BYTES, MIN_FRAME_BYTES};
use streamrelay::wire::{DecodeError, EncodeError, Field, Packet, PacketRef, PacketType};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const CLUSTER: &str = "dd3b93cd8a3869b3342cd1d042b7aad4a31f84f1b4a623d13784e19ee6f89f78";
const SUBCLUSTER: &str = "6a72ca18c6fcbb6313fbd3a7cbb8307e1fd5aaae85679eb776b996616d029f29";
const GREETING: &str = "18f6b0200b6fd32ce4e85b6c841f72247964195b8e1cd7c52e046dc51e48f779";
const PEER: &str = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";

const PUBLISH_EXAMPLE: &str = "
03 05 0b 11 05 00 06 00 00 00 01 00 00 00 00 ff
ff ff ff 01 49 97 00 00 20 dd 3b 93 cd 8a 38 69
b3 34 2c d1 d0 42 b7 aa d4 a3 1f 84 f1 b4 a6 23
d1 37 84 e1 9e e6 f8 9f 78 00 20 6a 72 ca 18 c6
fc bb 63 13 fb d3 a7 cb b8 30 7e 1f d5 aa ae 85
67 9e b7 76 b9 96 61 6d 02 9f 29 00 01 00 00 20
f9 86 b0 ab 15 55 23 24 58 76 8f 8f 47 b6 20 22
ab fa 2d 40 d2 e6 46 3e 8e 24 51 08 0b 93 79 e9
00 01 00 00 20 18 f6 b0 20 0b 6f d3 2c e4 e8 5b
6c 84 1f 72 24 79 64 19 5b 8e 1c d7 c5 2e 04 6d
c5 1e 48 f7 79 00 01 00 00 01 00 00 01 00 00 05
68 65 6c 6c 6f 00 01 00";

#[test]
fn publish_example_of_section_2_8() {
    let mut p = Packet::new(PacketType::Publish);
    p.set(Field::ClusterId, &unhex(CLUSTER)).unwrap();
    p.set(Field::SubclusterId, &unhex(SUBCLUSTER)).unwrap();
    p.set(Field::Usr1, &unhex(GREETING)).unwrap();
    p.message = b"hello".to_vec();
    let bytes = p.encode().unwrap();
    assert_eq!(hex(&bytes), hex(&unhex(PUBLISH_EXAMPLE)));
    assert_eq!(bytes.len(), 184);

    let r = PacketRef::decode(&bytes).unwrap();
    assert_eq!(r.packet_type, PacketType::Publish);
    assert_eq!(r.index, -1);
    assert_eq!(r.ttl, 21_600_000);
    assert_eq!(
        hex(r.packet_id),
        "f986b0ab1555232458768f8f47b62022abfa2d40d2e6463e8e2451080b9379e9"
    );
    assert_eq!(r.previous_id, &[0]);
    // Re-encoding a decoded packet gives the same bytes.
    assert_eq!(r.encode().unwrap(), bytes);
}

fn join_message() -> String {
    format!(
        r#"{{"requesterPeerId":"{PEER}","natType":7,"address":"203.0.113.5","port":40000,"key":"3TuTzYo4abM0LNHQQreq1KMfhPG0piPRN4Thnub4n3g=:anLKGMb8u2MT+9Ony7gwfh/Vqq6FZ563drmWYW0Cnyk="}}"#
    )
}

#[test]
fn join_example_of_section_2_9() {
    let msg = join_message();
    assert_eq!(msg.len(), 233);
    let mut p = Packet::new(PacketType::Join);
    p.clock = 7;
    p.set(Field::ClusterId, &unhex(CLUSTER)).unwrap();
    p.set(Field::SubclusterId, &unhex(SUBCLUSTER)).unwrap();
    p.message = msg.into_bytes();
    let bytes = p.encode().unwrap();
    assert_eq!(bytes.len(), 381);
    assert!(hex(&bytes).starts_with("03050b110400060000000700000000ffffffff014997000020dd3b"));
    let r = PacketRef::decode(&bytes).unwrap();
    assert_eq!(
        hex(r.packet_id),
        "15dacd0b0a37dd570d59385b0f81835b9051b9bf25bf5289ff262cbc1b1ba4f2"
    );
}

#[test]
fn ping_example_of_section_2_9() {
    let msg = format!(
        r#"{{"requesterPeerId":"{PEER}","natType":7,"uptime":60000,"timestamp":1700000000000}}"#
    );
    assert_eq!(msg.len(), 139);
    let mut p = Packet::new(PacketType::Ping);
    p.set(Field::ClusterId, &unhex(CLUSTER)).unwrap();
    p.message = msg.into_bytes();
    let bytes = p.encode().unwrap();
    assert_eq!(bytes.len(), 256);
    assert_eq!(
        hex(PacketRef::decode(&bytes).unwrap().packet_id),
        "9c91649f0bc424c01d95dff24cb3c51591b2ade0d66ecff4da86e4b412976c71"
    );
}

#[test]
fn default_sync_and_query() {
    let sync = Packet::new(PacketType::Sync).encode().unwrap();
    assert_eq!(sync.len(), 87);
    assert_eq!(
        hex(&sync),
        "03050b110700060000000100000000ffffffff01499700000100000100000100\
         0020709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c\
         000100000100000100000100000100000100000100"
            .replace(' ', "")
    );
    let q = Packet::new(PacketType::Query).encode().unwrap();
    let r = PacketRef::decode(&q).unwrap();
    assert_eq!(r.message, b"{}");
    assert_eq!(
        hex(r.packet_id),
        "154e0027fe03dbdba9e6c16d073ea16d34ddebae617133011a23763cb7081834"
    );
}

#[test]
fn sizes() {
    let mut p = Packet::new(PacketType::Publish);
    for f in Field::VARIABLE {
        p.set(f, &vec![0xab; f.max_len()]).unwrap();
    }
    let bytes = p.encode().unwrap();
    assert_eq!(bytes.len(), MAX_FRAME_BYTES);
    assert_eq!(MAX_FRAME_BYTES, 1421);
    let mut p = Packet::new(PacketType::Stream);
    for f in Field::VARIABLE {
        p.set(f, &[]).unwrap();
    }
    // An empty packetId is kept empty (only `00` is computed).
    let bytes = p.encode().unwrap();
    assert_eq!(bytes.len(), MIN_FRAME_BYTES);
    assert!(PacketRef::decode(&bytes).is_ok());
}

#[test]
fn clock_wraps_only_at_two_billion() {
    let mut p = Packet::new(PacketType::Publish);
    p.clock = 2_000_000_000;
    let r = p.encode().unwrap();
    assert_eq!(PacketRef::decode(&r).unwrap().clock, 0);
    p.clock = 2_000_000_001;
    let r = p.encode().unwrap();
    assert_eq!(PacketRef::decode(&r).unwrap().clock, 2_000_000_001);
}

#[test]
fn oversize_fields_are_refused() {
    let mut p = Packet::new(PacketType::Publish);
    assert!(matches!(
        p.set(Field::Usr1, &[1; 33]),
        Err(EncodeError::FieldTooLong {
            field: Field::Usr1,
            len: 33,
            max: 32
        })
    ));
    p.message = vec![0; 1025];
    assert!(matches!(
        p.encode(),
        Err(EncodeError::FieldTooLong {
            field: Field::Message,
            ..
        })
    ));
    let mut small = [0u8; 10];
    p.message = vec![0; 3];
    assert!(matches!(
        p.encode_into(&mut small),
        Err(EncodeError::BufferTooSmall { .. })
    ));
}

#[test]
fn every_truncation_is_a_typed_error_or_a_short_sig() {
    let full = unhex(PUBLISH_EXAMPLE);
    for n in 0..full.len() {
        match PacketRef::decode(&full[..n]) {
            Err(DecodeError::BadMagic) => assert!(n < 4),
            Err(DecodeError::Truncated { offset, len, .. }) => {
                assert_eq!(len, n);
                assert!(offset <= n);
            }
            // Cut inside sig (its length read, its byte missing): accepted with
            // a shorter sig, as the reference does.
            Ok(r) => {
                assert_eq!(n, full.len() - 1);
                assert!(r.sig.is_empty());
            }
            Err(e) => panic!("unexpected error at {n}: {e}"),
        }
    }
    // Trailing bytes are ignored.
    let mut long = full.clone();
    long.extend_from_slice(b"trailing");
    assert_eq!(
        PacketRef::decode(&long).unwrap(),
        PacketRef::decode(&full).unwrap()
    );
}

#[test]
fn errors_say_what_is_wrong() {
    let full = unhex(PUBLISH_EXAMPLE);
    let mut bad = full.clone();
    bad[0] = 4;
    assert_eq!(PacketRef::decode(&bad), Err(DecodeError::BadMagic));
    let mut bad = full.clone();
    bad[4] = 9;
    assert_eq!(PacketRef::decode(&bad), Err(DecodeError::UnknownType(9)));
    let mut bad = full.clone();
    bad[23] = 0;
    bad[24] = 33; // clusterId claims 33 bytes
    let e = PacketRef::decode(&bad).unwrap_err();
    assert_eq!(
        e,
        DecodeError::FieldTooLong {
            field: Field::ClusterId,
            len: 33,
            max: 32
        }
    );
    assert_eq!(
        e.to_string(),
        "field clusterId is 33 bytes, longer than its maximum 32"
    );
    let e = PacketRef::decode(&full[..30]).unwrap_err();
    assert!(e.to_string().starts_with("truncated at clusterId"), "{e}");
}

fn control(t: PacketType, msg: &str) -> Result<(), DecodeError> {
    let mut p = Packet::new(t);
    p.message = msg.as_bytes().to_vec();
    let b = p.encode().unwrap();
    PacketRef::decode(&b).map(|_| ())
}

#[test]
fn control_messages_follow_the_reference_rules() {
    use MessageError::*;
    let err = |r: Result<(), DecodeError>| match r {
        Err(DecodeError::InvalidMessage { error, .. }) => Some(error),
        Err(e) => panic!("{e}"),
        Ok(()) => None,
    };
    // The heartbeat Ping with natType null passes (early stop at cacheSummaryHash).
    assert_eq!(
        err(control(
            PacketType::Ping,
            &format!(r#"{{"requesterPeerId":"{PEER}","natType":null,"uptime":0,"timestamp":1}}"#)
        )),
        None
    );
    // A Join with {} passes: the first key is optional and absent.
    assert_eq!(err(control(PacketType::Join, "{}")), None);
    // Unknown keys are refused everywhere.
    assert!(matches!(
        err(control(PacketType::Join, r#"{"x":1}"#)),
        Some(UnknownKey { .. })
    ));
    // Required and checked before the stop.
    assert_eq!(
        err(control(PacketType::Ping, "{}")),
        Some(MissingKey("requesterPeerId"))
    );
    assert_eq!(
        err(control(PacketType::Ping, r#"{"requesterPeerId":"abc"}"#)),
        Some(Invalid {
            key: "requesterPeerId",
            assert: streamrelay::wire::message::Assert::PeerId
        })
    );
    assert!(matches!(
        err(control(PacketType::Pong, "[1]")),
        Some(NotAnObject(_))
    ));
    assert!(matches!(
        err(control(PacketType::Pong, "{")),
        Some(InvalidJson { .. })
    ));
    // Intro: every key checked (isRendezvous present), port 0 refused.
    let intro = |port: &str| {
        format!(
            r#"{{"requesterPeerId":"{PEER}","responderPeerId":"{PEER}","isRendezvous":false,"natType":7,"address":"1.2.3.4","port":{port}}}"#
        )
    };
    assert_eq!(err(control(PacketType::Intro, &intro("40000"))), None);
    assert!(matches!(
        err(control(PacketType::Intro, &intro("0"))),
        Some(Invalid { key: "port", .. })
    ));
    // Duplicate keys: the last value counts, as JSON.parse.
    assert_eq!(
        err(control(
            PacketType::Ping,
            &format!(r#"{{"requesterPeerId":"x","requesterPeerId":"{PEER}"}}"#)
        )),
        None
    );
    // Escaped key names are the same key.
    assert_eq!(
        err(control(
            PacketType::Ping,
            &format!(r#"{{"requester\u0050eerId":"{PEER}"}}"#)
        )),
        None
    );
}

#[test]
fn every_type_round_trips() {
    for t in PacketType::ALL {
        let mut p = Packet::new(t);
        if t.is_control() {
            p.message = match t {
                PacketType::Join => b"{}".to_vec(),
                PacketType::Pong => format!(r#"{{"requesterPeerId":"{PEER}","responderPeerId":"{PEER}"}}"#).into_bytes(),
                PacketType::Intro => format!(r#"{{"requesterPeerId":"{PEER}","responderPeerId":"{PEER}","natType":31,"address":"a","port":1}}"#).into_bytes(),
                _ => format!(r#"{{"requesterPeerId":"{PEER}"}}"#).into_bytes(),
            };
        }
        p.finalize_packet_id();
        let bytes = p.encode().unwrap();
        let back = PacketRef::decode(&bytes).unwrap().to_packet();
        assert_eq!(back, p, "{t}");
    }
}
