//! Snapshots (insta) of the decoded form of one packet of each type, built
//! as the reference builds them. A change in any field's decoding, or in the
//! JSON a control message decodes to, shows up as a snapshot diff.

use streamrelay::nat::NatType;
use streamrelay::wire::control::{ChainHead, Intro, Join, Ping, Pong, QueryQuestion};
use streamrelay::wire::json::{parse, JsValue};
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

const PEER: &str = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";
const OTHER: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn filled(t: PacketType, message: Vec<u8>) -> Packet {
    let mut p = Packet::new(t);
    p.set(Field::ClusterId, &[0xdd; 32]).unwrap();
    p.message = message;
    p
}

/// The decoded form as text: header numbers, byte fields in hex, the message
/// parsed as JSON where the receiver parses it.
fn render(bytes: &[u8]) -> String {
    let r = PacketRef::decode(bytes).unwrap();
    let mut s = format!(
        "length: {}\ntype: {} ({})\nversion: {}\nclock: {}\nhops: {}\nindex: {}\nttl: {}\n",
        bytes.len(),
        r.packet_type as u8,
        r.packet_type,
        r.version,
        r.clock,
        r.hops,
        r.index,
        r.ttl
    );
    for (f, v) in Field::VARIABLE.iter().zip(r.fields()) {
        if *f == Field::Message && r.message_is_json() {
            if let Ok(j) = parse(v) {
                s.push_str(&format!("message (json): {}\n", j.stringify()));
                continue;
            }
        }
        s.push_str(&format!("{}: {}\n", f.name(), hex(v)));
    }
    s
}

#[test]
fn ping() {
    let p = Ping::heartbeat(PEER, None, 60000.0, 1700000000000.0);
    let mut pk = p.to_packet().unwrap();
    pk.set(Field::ClusterId, &[0xdd; 32]).unwrap();
    insta::assert_snapshot!(render(&pk.encode().unwrap()));
}

#[test]
fn pong() {
    let mut p = Pong::new();
    p.set_cache_size(0.0)
        .set_uptime(30000.0)
        .set_responder_peer_id(OTHER)
        .set_requester_peer_id(PEER)
        .set_port(40000.0)
        .set_address("203.0.113.5")
        .set_is_reflection(true)
        .set_cache_summary_hash("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    insta::assert_snapshot!(render(&p.to_packet().unwrap().encode().unwrap()));
}

#[test]
fn intro() {
    let i = Intro::introduce(
        PEER,
        OTHER,
        false,
        NatType::PORT_RESTRICTED,
        "203.0.113.5",
        40000,
    );
    let mut pk = i.to_packet().unwrap();
    pk.hops = 1;
    pk.set(Field::Usr1, b"1700000000000").unwrap();
    insta::assert_snapshot!(render(&pk.encode().unwrap()));
}

#[test]
fn join() {
    let j = Join::announce(
        PEER,
        Some(NatType::ADDR_RESTRICTED),
        "203.0.113.5",
        40000,
        "k",
    );
    let mut pk = j.to_packet().unwrap();
    pk.clock = 7;
    pk.set(Field::ClusterId, &[0xdd; 32]).unwrap();
    pk.set(Field::SubclusterId, &[0x6a; 32]).unwrap();
    insta::assert_snapshot!(render(&pk.encode().unwrap()));
}

#[test]
fn publish() {
    let mut p = filled(PacketType::Publish, b"hello".to_vec());
    p.set(Field::Usr1, &[0x18; 32]).unwrap();
    insta::assert_snapshot!(render(&p.encode().unwrap()));
}

#[test]
fn stream_chain_head() {
    let head = ChainHead::for_size(2500, 1700000000000.0).to_json();
    let mut p = filled(PacketType::Stream, head.into_bytes());
    p.index = 0;
    p.set(Field::Usr3, &[0x01; 32]).unwrap();
    p.set(Field::Usr4, &[0x02; 32]).unwrap();
    insta::assert_snapshot!(render(&p.encode().unwrap()));
}

#[test]
fn sync() {
    let s = streamrelay::cache::summarize("", [PEER.as_bytes(), OTHER.as_bytes()]);
    let mut p = Packet::new(PacketType::Sync);
    p.message = s.encode();
    p.set(Field::Usr4, b"1699978400000").unwrap();
    insta::assert_snapshot!(render(&p.encode().unwrap()));
}

#[test]
fn query() {
    let q = QueryQuestion::for_packet(PEER);
    let mut p = Packet::new(PacketType::Query);
    p.message = q.to_json().into_bytes();
    p.set(Field::Usr1, b"1700000000000").unwrap();
    p.set(Field::Usr3, &[0x33; 32]).unwrap();
    p.set(Field::Usr4, b"1").unwrap();
    let bytes = p.encode().unwrap();
    assert!(matches!(
        parse(PacketRef::decode(&bytes).unwrap().message),
        Ok(JsValue::Object(_))
    ));
    insta::assert_snapshot!(render(&bytes));
}
