//! Fuzz the typed JSON control messages of `streamrelay::wire::control`:
//! Ping (type 1), Pong (2), Intro (3), Join (4), the Query question and the
//! chain head. Every parser sees every input.
//!
//! * No parser panics, and no getter of a parsed message does.
//! * `Ping/Pong/Intro/Join::parse` accept exactly what the reference's
//!   validation (`validate_control_message`) accepts among JSON objects,
//!   and `PacketRef::decode` agrees: a control packet carrying the text
//!   decodes iff the typed parser of its type accepts it.
//! * A parsed message re-serialises (`to_json`) to JSON that parses to the
//!   same object when every number is finite, and `to_json` is a fixed
//!   point after one round; `to_packet` works whenever the text fits.
//! * `QueryQuestion` and `ChainHead` round-trip through `to_json` the same
//!   way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamrelay::wire::control::{ChainHead, Intro, Join, Ping, Pong, QueryQuestion};
use streamrelay::wire::json::{self, JsValue};
use streamrelay::wire::message::validate_control_message;
use streamrelay::wire::packet::MESSAGE_BYTES;
use streamrelay::wire::{Packet, PacketRef, PacketType};

macro_rules! typed {
    ($t:ident, $data:expr, $($get:ident),* $(,)?) => {{
        let data: &[u8] = $data;
        let parsed = $t::parse(data);
        let valid = validate_control_message($t::TYPE, data).is_ok()
            && matches!(json::parse(data), Ok(JsValue::Object(_)));
        assert_eq!(parsed.is_ok(), valid, "{} parse vs validate", stringify!($t));
        if data.len() <= MESSAGE_BYTES {
            let mut p = Packet::new($t::TYPE);
            p.message = data.to_vec();
            let bytes = p.encode().expect("a message of at most 1024 bytes encodes");
            assert_eq!(
                PacketRef::decode(&bytes).is_ok(),
                parsed.is_ok(),
                "{}: decode vs typed parse",
                stringify!($t)
            );
        }
        if let Ok(m) = parsed {
            $( let _ = m.$get(); )*
            let text = m.to_json();
            let back = json::parse(text.as_bytes()).expect("to_json is JSON");
            let JsValue::Object(o) = &back else { panic!("to_json is not an object") };
            if finite(&JsValue::Object(m.object().clone())) {
                assert_eq!(o, m.object(), "{}: parse(to_json) differs", stringify!($t));
            }
            if let Ok(again) = $t::parse(text.as_bytes()) {
                assert_eq!(again.to_json(), text, "{}: to_json not a fixed point", stringify!($t));
            }
            if text.len() <= MESSAGE_BYTES {
                let p = m.to_packet().expect("a short message packs");
                assert_eq!(p.packet_type, $t::TYPE);
            } else {
                assert!(m.to_packet().is_err());
            }
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    typed!(
        Ping,
        data,
        requester_peer_id,
        cache_summary_hash,
        probe_external_port,
        reflection_id,
        ping_id,
        nat_type,
        uptime,
        cache_size,
        is_connection,
        is_reflection,
        is_probe,
        is_debug,
        timestamp,
    );
    typed!(
        Pong,
        data,
        requester_peer_id,
        responder_peer_id,
        cache_summary_hash,
        port,
        address,
        uptime,
        cache_size,
        nat_type,
        is_reflection,
        is_connection,
        reflection_id,
        ping_id,
        is_debug,
        is_probe,
        rejected,
    );
    typed!(
        Intro,
        data,
        requester_peer_id,
        responder_peer_id,
        is_rendezvous,
        nat_type,
        address,
        port,
        timestamp,
    );
    typed!(
        Join,
        data,
        rendezvous_address,
        rendezvous_port,
        rendezvous_type,
        rendezvous_peer_id,
        rendezvous_deadline,
        rendezvous_requester_peer_id,
        requester_peer_id,
        nat_type,
        address,
        key,
        port,
        is_connection,
    );

    if let Ok(q) = QueryQuestion::parse(data) {
        let _ = q.packet_id();
        let text = q.to_json();
        let back = QueryQuestion::parse(text.as_bytes()).expect("a question re-parses");
        if finite(&JsValue::Object(q.0.clone())) {
            assert_eq!(back, q, "question round trip");
        }
        assert_eq!(back.to_json(), text);
    }

    if let Ok(h) = ChainHead::parse(data) {
        let text = h.to_json();
        let back = ChainHead::parse(text.as_bytes());
        if h.size.is_finite() && h.indexes.is_finite() {
            let back = back.expect("a head with finite numbers re-parses");
            // An infinite `ts` is written as null and reads back as 0.
            if h.ts.is_finite() {
                if finite(&h.meta) {
                    assert_eq!(back, h, "chain head round trip");
                }
                assert_eq!(back.to_json(), text);
            }
        }
    }

    // Data-plane types are not validated as control messages.
    for t in [
        PacketType::Publish,
        PacketType::Stream,
        PacketType::Sync,
        PacketType::Query,
    ] {
        assert!(validate_control_message(t, data).is_ok());
    }
});

/// No `Infinity` / `NaN` anywhere in `v`.
fn finite(v: &JsValue) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            JsValue::Number(n) if !n.is_finite() => return false,
            JsValue::Array(a) => stack.extend(a.iter()),
            JsValue::Object(o) => stack.extend(o.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    true
}
