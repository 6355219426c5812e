//! Checkers for the `crypto.*` and `api.pack` kinds.

use streamrelay::crypto::event::{
    compose_published, event_payload, message_to_packets, ChainArgs, Reassembler, ReassemblyLimits,
};
use streamrelay::crypto::identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, reference_sha256, sha256,
    subcluster_id, HashInput, KeyPair, Seed, SharedKey, SubclusterKeys,
};
use streamrelay::crypto::sign::{sign_from_byte_64, verify_from_byte_64};
use streamrelay::crypto::{ese, sealed_box::BoxError};
use streamrelay::wire::json::JsValue;
use streamrelay::wire::packet::DEFAULT_TTL;
use streamrelay::wire::{PacketRef, PacketType};

use crate::js::{self, hex};
use crate::jsv::{as_array, as_bool, as_str, get, stringify};
use crate::Outcome;

type R = Result<(), Outcome>;

fn fail(s: impl Into<String>) -> Outcome {
    Outcome::fail(s)
}

/// Bytes of a tagged `{"hex"}` value (or a plain hex string).
fn bytes(v: Option<&JsValue>, what: &str) -> Result<Vec<u8>, Outcome> {
    let v = v.ok_or_else(|| fail(format!("no {what}")))?;
    let h = as_str(v)
        .or_else(|| get(v, "hex").and_then(as_str))
        .ok_or_else(|| fail(format!("{what} is not hex")))?;
    js::hex_decode_strict(&h).map_err(fail)
}

fn eq_bytes(what: &str, ours: &[u8], expected: Option<&JsValue>) -> R {
    let want = bytes(expected, what)?;
    if ours == want.as_slice() {
        Ok(())
    } else {
        Err(fail(format!(
            "{what}: ours {} expected {}",
            hex(ours),
            hex(&want)
        )))
    }
}

/// A seed given as `{"str"}` (a string, hashed first) or `{"hex"}` (bytes).
fn with_seed<T>(v: Option<&JsValue>, f: impl FnOnce(Seed<'_>) -> T) -> Result<T, Outcome> {
    let v = v.ok_or_else(|| fail("no seed"))?;
    if let Some(s) = get(v, "str").and_then(as_str) {
        return Ok(f(Seed::from(s.as_str())));
    }
    let b = bytes(Some(v), "seed")?;
    Ok(f(Seed::from(b.as_slice())))
}

fn expect_error_or<T, E: std::fmt::Display>(
    r: Result<T, E>,
    expected: &JsValue,
    ok: impl FnOnce(T) -> R,
) -> R {
    match (r, get(expected, "error")) {
        (Err(_), Some(_)) => Ok(()),
        (Err(e), None) => Err(fail(format!("error {e}, expected a result"))),
        (Ok(_), Some(e)) => Err(fail(format!("no error, expected {}", stringify(e)))),
        (Ok(v), None) => ok(v),
    }
}

/// Runs a crypto or api kind; `None` if the kind is not one of them.
pub fn run(kind: &str, input: &JsValue, expected: &JsValue, fixed_now: u64) -> Option<R> {
    Some(match kind {
        "crypto.createKeyPair" => create_key_pair_case(input, expected),
        "crypto.createSharedKey" => with_seed(get(input, "seed"), |s| create_shared_key(s))
            .and_then(|r| {
                expect_error_or(r, expected, |k| {
                    eq_bytes("sharedKey", k.as_bytes(), get(expected, "sharedKey"))
                })
            }),
        // A JSON value (object, array) is hashed as its JSON text, as the
        // reference's sha256 helper does.
        "crypto.createClusterId" => match json_value(input) {
            Some(v) => reference_sha256(HashInput::Json(v))
                .ok_or_else(|| fail("the reference hashes nothing here"))
                .and_then(|id| eq_bytes("clusterId", &id, get(expected, "clusterId"))),
            None => with_seed(get(input, "value"), |s| create_cluster_id(s)).and_then(|r| {
                expect_error_or(r, expected, |id| {
                    eq_bytes("clusterId", &id, get(expected, "clusterId"))
                })
            }),
        },
        "crypto.createId" => match json_value(input) {
            Some(v) => reference_sha256(HashInput::Json(v))
                .ok_or_else(|| fail("the reference hashes nothing here"))
                .and_then(|h| eq_id(&hex(&h), expected)),
            None => with_seed(get(input, "value"), |s| create_id(s))
                .and_then(|r| expect_error_or(r, expected, |id| eq_id(&id, expected))),
        },
        "crypto.sha256" => sha256_case(input, expected),
        "crypto.sign" => sign_case(input, expected),
        "crypto.verify" => verify_case(input, expected),
        "crypto.open" => open_case(input, expected, false),
        "crypto.openUnsigned" => open_case(input, expected, true),
        "api.pack" => api_pack(input, expected, fixed_now),
        _ => return None,
    })
}

/// A peer id (hex text) against `expected.id` (`{"str"}`).
fn eq_id(id: &str, expected: &JsValue) -> R {
    let want = get(expected, "id")
        .and_then(|v| get(v, "str"))
        .and_then(as_str);
    if want.as_deref() == Some(id) {
        Ok(())
    } else {
        Err(fail(format!("id: ours {id} expected {want:?}")))
    }
}

fn json_value(input: &JsValue) -> Option<&JsValue> {
    get(input, "value").and_then(|v| get(v, "json"))
}

fn create_key_pair_case(input: &JsValue, expected: &JsValue) -> R {
    let r = with_seed(get(input, "seed"), |s| create_key_pair(s))?;
    expect_error_or(r, expected, |k| {
        eq_bytes("publicKey", &k.public_key(), get(expected, "publicKey"))?;
        eq_bytes(
            "privateKey",
            &k.secret_key()[..],
            get(expected, "privateKey"),
        )?;
        eq_bytes(
            "curve25519PublicKey",
            &k.x25519_public_key(),
            get(expected, "curve25519PublicKey"),
        )?;
        eq_bytes(
            "curve25519SecretKey",
            &k.x25519_secret_key()[..],
            get(expected, "curve25519SecretKey"),
        )
    })
}

fn sha256_case(input: &JsValue, expected: &JsValue) -> R {
    let v = get(input, "value").ok_or_else(|| fail("no value"))?;
    let as_bytes = get(input, "opts")
        .and_then(|o| get(o, "bytes"))
        .and_then(as_bool)
        == Some(true);
    let out = if let Some(s) = get(v, "str").and_then(as_str) {
        reference_sha256(HashInput::Str(&s))
    } else if let Some(j) = get(v, "json") {
        reference_sha256(HashInput::Json(j))
    } else {
        let b = bytes(Some(v), "value")?;
        reference_sha256(HashInput::Bytes(&b))
    };
    let out = out.ok_or_else(|| fail("the reference hashes nothing here (random bytes)"))?;
    let e = get(expected, "output").ok_or_else(|| fail("no output"))?;
    if as_bytes {
        eq_bytes("output", &out, Some(e))
    } else {
        let want = get(e, "str").and_then(as_str).unwrap_or_default();
        if want == hex(&out) {
            Ok(())
        } else {
            Err(fail(format!("output: ours {} expected {want}", hex(&out))))
        }
    }
}

fn sign_case(input: &JsValue, expected: &JsValue) -> R {
    let m = bytes(get(input, "message"), "message")?;
    let sk = bytes(get(input, "privateKey"), "privateKey")?;
    let keys = KeyPair::from_secret_key(&sk).map_err(|e| fail(e.to_string()))?;
    eq_bytes("sig", &sign_from_byte_64(&m, &keys), get(expected, "sig"))
}

fn verify_case(input: &JsValue, expected: &JsValue) -> R {
    let m = bytes(get(input, "message"), "message")?;
    let sig = bytes(get(input, "sig"), "sig")?;
    let pk = bytes(get(input, "publicKey"), "publicKey")?;
    expect_error_or(verify_from_byte_64(&m, &sig, &pk), expected, |ok| {
        if Some(ok) == get(expected, "verified").and_then(as_bool) {
            Ok(())
        } else {
            Err(fail(format!(
                "verified: ours {ok} expected {}",
                stringify(expected)
            )))
        }
    })
}

fn open_case(input: &JsValue, expected: &JsValue, unsigned: bool) -> R {
    let c = bytes(get(input, "ciphertext"), "ciphertext")?;
    let keys = get(input, "keys").ok_or_else(|| fail("no keys"))?;
    let sk = bytes(get(keys, "privateKey"), "privateKey")?;
    let pk = bytes(get(keys, "publicKey"), "publicKey")?;
    let kp = KeyPair::from_secret_key(&sk).map_err(|e| fail(e.to_string()))?;
    // A public key that is not the secret key's (e.g. 31 bytes): the
    // reference fails converting or verifying it; so do we, before opening.
    if kp.public_key()[..] != pk[..] {
        return expect_error_or(
            Err::<(), _>("keys.publicKey is not the key of keys.privateKey"),
            expected,
            |_| Ok(()),
        );
    }
    let sub = SubclusterKeys::from_key_pair(kp);
    let r: Result<Vec<u8>, String> = if unsigned {
        // The reference's openUnsigned removes one of sealUnsigned's two
        // layers (spec §4.5); `open_unsigned_reference` does the same.
        ese::open_unsigned_reference(&c, &sub).map_err(|e: BoxError| e.to_string())
    } else {
        ese::open(&c, &sub).map_err(|e| e.to_string())
    };
    expect_error_or(r, expected, |pt| {
        eq_bytes("plaintext", &pt, get(expected, "plaintext"))
    })
}

/// The plaintext `api.js` publishes for a value: objects (and arrays, and
/// null) as JSON text, strings as UTF-8, bytes as they are.
fn api_value(v: &JsValue) -> Result<Vec<u8>, Outcome> {
    if let Some(j) = get(v, "json") {
        return event_payload(j).ok_or_else(|| fail("the reference throws on this value"));
    }
    if let Some(s) = get(v, "str") {
        return Ok(crate::jsv::utf16_to_utf8(
            &crate::jsv::str16(s).unwrap_or_default(),
        ));
    }
    bytes(Some(v), "value")
}

fn api_pack(input: &JsValue, expected: &JsValue, fixed_now: u64) -> R {
    let s = |k: &str| {
        get(input, k)
            .and_then(as_str)
            .ok_or_else(|| fail(format!("no {k}")))
    };
    let signing = create_key_pair(s("signingSeed")?.as_str()).map_err(|e| fail(e.to_string()))?;
    let ek = get(expected, "signingKeys").ok_or_else(|| fail("no signingKeys"))?;
    eq_bytes(
        "signingKeys.publicKey",
        &signing.public_key(),
        get(ek, "publicKey"),
    )?;
    eq_bytes(
        "signingKeys.privateKey",
        &signing.secret_key()[..],
        get(ek, "privateKey"),
    )?;
    let cluster =
        create_cluster_id(s("clusterIdSeed")?.as_str()).map_err(|e| fail(e.to_string()))?;
    eq_bytes("clusterId", &cluster, get(expected, "clusterId"))?;
    let shared: SharedKey =
        create_shared_key(s("sharedKeySeed")?.as_str()).map_err(|e| fail(e.to_string()))?;
    eq_bytes("sharedKey", shared.as_bytes(), get(expected, "sharedKey"))?;
    let scid = subcluster_id(&shared);
    eq_bytes("subclusterId", &scid, get(expected, "subclusterId"))?;
    let keys = SubclusterKeys::from_shared_key(&shared);

    let event = s("eventName")?;
    let usr1 = sha256(event.as_bytes());
    eq_bytes("usr1", &usr1, get(expected, "usr1"))?;
    eq_bytes("usr2", &signing.public_key(), get(expected, "usr2"))?;
    let plaintext = api_value(get(input, "value").ok_or_else(|| fail("no value"))?)?;
    eq_bytes("plaintext", &plaintext, get(expected, "plaintext"))?;
    let sig = sign_from_byte_64(&plaintext, &signing);
    eq_bytes("sig", &sig, get(expected, "sig"))?;

    // The seal is randomised: open the reference's.
    let sealed = bytes(get(expected, "sealed"), "sealed")?;
    let opened =
        ese::open(&sealed, &keys).map_err(|e| fail(format!("sealed does not open: {e}")))?;
    if opened != plaintext {
        return Err(fail("sealed opens to something else than plaintext"));
    }
    let fragments = if sealed.len() > 1024 {
        sealed.len().div_ceil(1024)
    } else {
        0
    };
    if get(expected, "fragments") != Some(&JsValue::Number(fragments as f64)) {
        return Err(fail(format!("fragments: ours {fragments}")));
    }

    // Rebuild the chain from the reference's sealed bytes.
    let ttl = match get(input, "opts").and_then(|o| get(o, "ttl")) {
        Some(JsValue::Number(t)) if *t != 0.0 => t.min(DEFAULT_TTL as f64) as u32,
        Some(JsValue::Number(_)) => 0,
        _ => DEFAULT_TTL,
    };
    let usr2 = signing.public_key();
    let mut chain = ChainArgs::new(PacketType::Publish);
    chain.cluster_id = &cluster;
    chain.subcluster_id = &scid;
    chain.ttl = ttl;
    chain.usr1 = &usr1;
    chain.usr2 = &usr2;
    chain.sig = &sig;
    let ours = message_to_packets(&sealed, &chain, fixed_now).map_err(|e| fail(e.to_string()))?;
    let want = get(expected, "packets")
        .and_then(as_array)
        .ok_or_else(|| fail("no packets"))?;
    if want.len() != ours.len() {
        return Err(fail(format!(
            "{} packets, expected {}",
            ours.len(),
            want.len()
        )));
    }
    let mut frames = Vec::new();
    for (i, (p, w)) in ours.iter().zip(want).enumerate() {
        let frame = bytes(get(w, "hex"), "packet hex")?;
        let enc = p.encode().map_err(|e| fail(e.to_string()))?;
        if enc != frame {
            return Err(fail(format!(
                "packet {i}:\n  ours     {}\n  expected {}",
                hex(&enc),
                hex(&frame)
            )));
        }
        let decoded =
            js::decode(&frame).map_err(|e| fail(format!("packet {i} does not decode: {e}")))?;
        if let Some(f) = get(w, "fields") {
            js::compare_decoded(&decoded, f).map_err(|e| fail(format!("packet {i} {e}")))?;
        }
        let r = PacketRef::decode(&frame).map_err(|e| fail(e.to_string()))?;
        if r.encode().map_err(|e| fail(e.to_string()))? != frame {
            return Err(fail(format!("packet {i} does not re-encode to its bytes")));
        }
        frames.push(frame);
    }

    // What publish() returns: the publisher's own (composed) view.
    let composed = compose_published(&ours).map_err(|e| fail(e.to_string()))?;
    if let Some(ret) = get(expected, "returned")
        .and_then(as_array)
        .and_then(|a| a.first())
    {
        eq_bytes(
            "returned.packetId",
            &composed.packet.packet_id,
            get(ret, "packetId"),
        )?;
        let composed_flag = composed.head_id.is_some();
        if get(ret, "isComposed").and_then(as_bool) != Some(composed_flag) {
            return Err(fail("returned.isComposed differs"));
        }
        if get(ret, "messageLength") != Some(&JsValue::Number(composed.packet.message.len() as f64))
        {
            return Err(fail("returned.messageLength differs"));
        }
    }
    let verified = verify_from_byte_64(&plaintext, &sig, &usr2).unwrap_or(false);
    if get(expected, "verified").and_then(as_bool) != Some(verified) {
        return Err(fail(format!("verified: ours {verified}")));
    }

    // Delivery: the recorded order gives exactly `delivered`; other orders
    // give the same event, with the id rule of §7.3 (it depends on which
    // packet completed the chain).
    let delivered = get(expected, "delivered")
        .and_then(as_array)
        .ok_or_else(|| fail("no delivered"))?;
    let d = delivered
        .first()
        .ok_or_else(|| fail("delivered is empty"))?;
    let n = frames.len();
    let orders: Vec<Vec<usize>> = vec![
        (0..n).collect(),
        (0..n).rev().collect(),
        (0..n)
            .map(|i| (i * 7 + 3) % n)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        (1..n).chain(0..1).collect(),
    ];
    for (k, order) in orders.iter().enumerate() {
        let order: Vec<usize> = if order.len() == n {
            order.clone()
        } else {
            (0..n).collect()
        };
        let mut r = Reassembler::new(ReassemblyLimits {
            max_chains: 4,
            max_bytes: 1 << 20,
        });
        let mut got = None;
        let mut last = 0;
        for &i in &order {
            let p = PacketRef::decode(&frames[i]).map_err(|e| fail(e.to_string()))?;
            if let Some(ev) = r
                .receive(&p, fixed_now, &keys)
                .map_err(|e| fail(format!("order {k}: {e}")))?
            {
                got = Some(ev);
                last = i;
            }
        }
        let ev = got.ok_or_else(|| fail(format!("order {k}: nothing delivered")))?;
        if get(d, "eventName").and_then(as_str).as_deref() != Some(hex(&ev.event_hash).as_str()) {
            return Err(fail(format!("order {k}: eventName differs")));
        }
        eq_bytes("payload", &ev.payload, get(d, "payload"))?;
        if get(d, "verified").and_then(as_bool).unwrap_or(false) != ev.verified {
            return Err(fail(format!("order {k}: verified differs")));
        }
        if k == 0 {
            eq_bytes("delivered.packetId", &ev.packet_id, get(d, "packetId"))?;
        } else if n > 1 {
            let completing = PacketRef::decode(&frames[last]).map_err(|e| fail(e.to_string()))?;
            let mut buf = completing.previous_id.to_vec();
            buf.extend_from_slice(&sealed);
            if ev.packet_id[..] != sha256(&buf) {
                return Err(fail(format!(
                    "order {k}: reassembled id is not SHA-256(previousId ‖ bytes)"
                )));
            }
        }
    }
    Ok(())
}
