//! Checkers for the `crypto.*` and `api.pack` kinds.

use streamrelay::crypto::event::{
    compose_published, event_payload, message_to_packets, ChainArgs, ChainParent, Reassembler,
    ReassemblyLimits,
};
use streamrelay::crypto::identity::{
    create_cluster_id, create_key_pair, create_shared_key, reference_sha256, sha256, subcluster_id,
    HashInput, KeyPair, Seed, SharedKey, SubclusterKeys,
};
use streamrelay::crypto::sign::{sign_from_byte_64, verify_from_byte_64};
use streamrelay::crypto::{ese, sealed_box::BoxError};
use streamrelay::wire::json::JsValue;
use streamrelay::wire::packet::DEFAULT_TTL;
use streamrelay::wire::{PacketRef, PacketType};

use crate::js::{self, hex, JsField};
use crate::jsv::stringify;
use crate::read;
use crate::Outcome;

type R = Result<(), Outcome>;

fn fail(s: impl Into<String>) -> Outcome {
    Outcome::fail(s)
}

/// Compares bytes with `parent[key]` (bare hex or `{"hex"}`).
fn eq_bytes(what: &str, ours: &[u8], parent: &JsValue, path: &str) -> R {
    let want = read::field(parent, what, path, read::bytes)?;
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

fn exp_bytes(what: &str, ours: &[u8], expected: &JsValue) -> R {
    eq_bytes(what, ours, expected, "expected")
}

/// `input[key]` as a seed: a string (hashed first) or bytes.
fn with_seed<T>(input: &JsValue, key: &str, f: impl FnOnce(Seed<'_>) -> T) -> Result<T, Outcome> {
    match read::js_req(input, key, "input")? {
        Some(JsField::Str(s)) => Ok(f(Seed::from(String::from_utf16_lossy(&s).as_str()))),
        Some(JsField::Bytes(b)) => Ok(f(Seed::from(b.as_slice()))),
        Some(JsField::Json(v)) => Err(fail(format!(
            "input.{key}: a seed of type {} is not modelled",
            crate::jsv::type_name(&v)
        ))),
        None => Err(fail(format!(
            "input.{key}: undefined makes the reference use random bytes"
        ))),
    }
}

/// The reference's `sha256(value)` of a JS value (`None`: it hashes
/// nothing reproducible, see `reference_sha256`).
fn reference_hash(v: &Option<JsField>) -> Option<[u8; 32]> {
    match v {
        Some(JsField::Str(s)) => reference_sha256(HashInput::Str(&String::from_utf16_lossy(s))),
        Some(JsField::Bytes(b)) => reference_sha256(HashInput::Bytes(b)),
        Some(JsField::Json(j)) => reference_sha256(HashInput::Json(j)),
        None => None,
    }
}

fn expect_error_or<T, E: std::fmt::Display>(
    r: Result<T, E>,
    expected: &JsValue,
    ok: impl FnOnce(T) -> R,
) -> R {
    match (r, expected.get("error")) {
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
        "crypto.createSharedKey" => {
            with_seed(input, "seed", |s| create_shared_key(s)).and_then(|r| {
                expect_error_or(r, expected, |k| {
                    exp_bytes("sharedKey", k.as_bytes(), expected)
                })
            })
        }
        // Strings, bytes and JSON values (objects, arrays: hashed as their
        // JSON text), as the reference's sha256 helper does.
        "crypto.createClusterId" => hash_case(input, expected, |h, e| exp_bytes("clusterId", h, e)),
        "crypto.createId" => hash_case(input, expected, |h, e| {
            let want = read::field(e, "id", "expected", read::text)?;
            (want == hex(h))
                .then_some(())
                .ok_or_else(|| fail(format!("id: ours {} expected {want}", hex(h))))
        }),
        "crypto.sha256" => sha256_case(input, expected),
        "crypto.sign" => sign_case(input, expected),
        "crypto.verify" => verify_case(input, expected),
        "crypto.open" => open_case(input, expected, false),
        "crypto.openUnsigned" => open_case(input, expected, true),
        "api.pack" => api_pack(input, expected, fixed_now),
        _ => return None,
    })
}

fn hash_case(input: &JsValue, expected: &JsValue, check: impl FnOnce(&[u8], &JsValue) -> R) -> R {
    let v = read::js_req(input, "value", "input")?;
    let h = reference_hash(&v);
    match (h, read::is_error(expected)) {
        (Some(h), false) => check(&h, expected),
        (None, _) => Err(fail(
            "the reference hashes nothing reproducible here (random bytes or a throw)",
        )),
        (Some(h), true) => Err(fail(format!(
            "no error (we hash to {}), expected one",
            hex(&h)
        ))),
    }
}

fn create_key_pair_case(input: &JsValue, expected: &JsValue) -> R {
    let r = with_seed(input, "seed", |s| create_key_pair(s))?;
    expect_error_or(r, expected, |k| {
        exp_bytes("publicKey", &k.public_key(), expected)?;
        exp_bytes("privateKey", &k.secret_key()[..], expected)?;
        exp_bytes("curve25519PublicKey", &k.x25519_public_key(), expected)?;
        exp_bytes("curve25519SecretKey", &k.x25519_secret_key()[..], expected)
    })
}

/// node's `digest(encoding)` / `Buffer#toString(encoding)` of a digest.
fn encode_digest(d: &[u8], encoding: &str) -> Option<String> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let base64 = |url: bool| {
        let mut s = String::new();
        for c in d.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..=c.len() {
                let ch = B64[(n >> (18 - 6 * i) & 63) as usize] as char;
                s.push(match (url, ch) {
                    (true, '+') => '-',
                    (true, '/') => '_',
                    _ => ch,
                });
            }
            if !url {
                s.push_str(&"=="[..3 - c.len()]);
            }
        }
        s
    };
    Some(match encoding {
        "hex" => hex(d),
        "base64" => base64(false),
        "base64url" => base64(true),
        "latin1" | "binary" => d.iter().map(|&b| b as char).collect(),
        _ => return None,
    })
}

fn sha256_case(input: &JsValue, expected: &JsValue) -> R {
    let v = read::js_req(input, "value", "input")?;
    let opts = input.get("opts");
    let as_bytes = match opts {
        Some(o) => read::opt(o, "bytes", "input.opts", read::boolean)?.unwrap_or(false),
        None => false,
    };
    let encoding = match opts {
        Some(o) => read::opt(o, "encoding", "input.opts", read::text)?,
        None => None,
    }
    .unwrap_or_else(|| "hex".into());
    let out = reference_hash(&v)
        .ok_or_else(|| fail("the reference hashes nothing here (random bytes)"))?;
    if as_bytes {
        return exp_bytes("output", &out, expected);
    }
    let ours = encode_digest(&out, &encoding)
        .ok_or_else(|| fail(format!("digest encoding {encoding:?} is not modelled")))?;
    let want = read::field(expected, "output", "expected", read::text)?;
    if want == ours {
        Ok(())
    } else {
        Err(fail(format!("output: ours {ours:?} expected {want:?}")))
    }
}

fn sign_case(input: &JsValue, expected: &JsValue) -> R {
    let m = read::field(input, "message", "input", read::bytes)?;
    let sk = read::field(input, "privateKey", "input", read::bytes)?;
    let keys = KeyPair::from_secret_key(&sk);
    expect_error_or(keys, expected, |keys| {
        exp_bytes("sig", &sign_from_byte_64(&m, &keys), expected)
    })
}

fn verify_case(input: &JsValue, expected: &JsValue) -> R {
    let m = read::field(input, "message", "input", read::bytes)?;
    let sig = read::field(input, "sig", "input", read::bytes)?;
    let pk = read::field(input, "publicKey", "input", read::bytes)?;
    expect_error_or(verify_from_byte_64(&m, &sig, &pk), expected, |ok| {
        let want = read::field(expected, "verified", "expected", read::boolean)?;
        if ok == want {
            Ok(())
        } else {
            Err(fail(format!("verified: ours {ok} expected {want}")))
        }
    })
}

fn open_case(input: &JsValue, expected: &JsValue, unsigned: bool) -> R {
    let c = read::field(input, "ciphertext", "input", read::bytes)?;
    let keys = read::req(input, "keys", "input")?;
    let sk = read::field(keys, "privateKey", "input.keys", read::bytes)?;
    let pk = read::field(keys, "publicKey", "input.keys", read::bytes)?;
    let kp = match KeyPair::from_secret_key(&sk) {
        Ok(k) => k,
        Err(e) => return expect_error_or(Err::<(), _>(e), expected, |_| Ok(())),
    };
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
    expect_error_or(r, expected, |pt| exp_bytes("plaintext", &pt, expected))
}

/// The plaintext `api.js` publishes for a value: objects (and arrays, and
/// null) as JSON text, strings as UTF-8, bytes as they are; what
/// `Buffer.from` throws on (numbers, booleans, undefined) is an error.
fn api_value(v: &Option<JsField>) -> Result<Vec<u8>, String> {
    match v {
        Some(JsField::Json(j)) => event_payload(j)
            .ok_or_else(|| format!("Buffer.from() throws on a {}", crate::jsv::type_name(j))),
        Some(JsField::Str(s)) => Ok(crate::jsv::utf16_to_utf8(s)),
        Some(JsField::Bytes(b)) => Ok(b.clone()),
        None => Err("Buffer.from(undefined) throws".into()),
    }
}

/// `opts.packet`: the packet the publish is chained after.
struct Parent {
    packet_id: Vec<u8>,
    clock: u32,
}

fn read_parent(opts: &JsValue) -> Result<Option<Parent>, Outcome> {
    read::opt(opts, "packet", "input.opts", |p, path| {
        let packet_id = read::field(p, "packetId", path, read::bytes)?;
        let clock = read::field(p, "clock", path, read::number)?;
        // `packet.clock || 0`, then + 1: the header field is a u32.
        if !(clock.is_finite() && clock.fract() == 0.0 && (0.0..u32::MAX as f64).contains(&clock)) {
            return Err(fail(format!("{path}.clock {clock} is not modelled")));
        }
        Ok(Parent {
            packet_id,
            clock: clock as u32,
        })
    })
}

fn api_pack(input: &JsValue, expected: &JsValue, fixed_now: u64) -> R {
    let seed = |k: &str| read::field(input, k, "input", read::text);
    let (signing_seed, cluster_seed, shared_seed) = (
        seed("signingSeed")?,
        seed("clusterIdSeed")?,
        seed("sharedKeySeed")?,
    );
    let event = read::js_req(input, "eventName", "input")?;
    let value = read::js_req(input, "value", "input")?;
    let (ttl_in, parent) = match input.get("opts") {
        Some(o) => (
            read::opt(o, "ttl", "input.opts", read::number)?,
            read_parent(o)?,
        ),
        None => (None, None),
    };

    // What `pack()` throws on, before anything is published.
    let packed = match &event {
        Some(JsField::Str(e)) if e.is_empty() => Err("event name too short".to_string()),
        Some(JsField::Str(e)) => api_value(&value).map(|v| (String::from_utf16_lossy(e), v)),
        _ => Err("event name must be a string".to_string()),
    };
    let (event, plaintext) = match (packed, read::is_error(expected)) {
        (Err(_), true) => return Ok(()),
        (Err(e), false) => return Err(fail(format!("we throw ({e}), expected a result"))),
        (Ok(_), true) => return Err(fail("no error, expected one")),
        (Ok(p), false) => p,
    };

    let signing = create_key_pair(signing_seed.as_str()).map_err(|e| fail(e.to_string()))?;
    let ek = read::req(expected, "signingKeys", "expected")?;
    eq_bytes(
        "publicKey",
        &signing.public_key(),
        ek,
        "expected.signingKeys",
    )?;
    eq_bytes(
        "privateKey",
        &signing.secret_key()[..],
        ek,
        "expected.signingKeys",
    )?;
    let cluster = create_cluster_id(cluster_seed.as_str()).map_err(|e| fail(e.to_string()))?;
    exp_bytes("clusterId", &cluster, expected)?;
    let shared: SharedKey =
        create_shared_key(shared_seed.as_str()).map_err(|e| fail(e.to_string()))?;
    exp_bytes("sharedKey", shared.as_bytes(), expected)?;
    let scid = subcluster_id(&shared);
    exp_bytes("subclusterId", &scid, expected)?;
    let keys = SubclusterKeys::from_shared_key(&shared);

    let usr1 = sha256(event.as_bytes());
    exp_bytes("usr1", &usr1, expected)?;
    exp_bytes("usr2", &signing.public_key(), expected)?;
    exp_bytes("plaintext", &plaintext, expected)?;
    let sig = sign_from_byte_64(&plaintext, &signing);
    exp_bytes("sig", &sig, expected)?;

    // The seal is randomised: open the reference's.
    let sealed = read::field(expected, "sealed", "expected", read::bytes)?;
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
    let want_fragments = read::field(expected, "fragments", "expected", read::number)?;
    if want_fragments != fragments as f64 {
        return Err(fail(format!(
            "fragments: ours {fragments} expected {want_fragments}"
        )));
    }

    // Rebuild the chain from the reference's sealed bytes.
    let ttl = match ttl_in {
        Some(t) if t != 0.0 => t.min(DEFAULT_TTL as f64) as u32,
        Some(_) => 0,
        None => DEFAULT_TTL,
    };
    let usr2 = signing.public_key();
    let mut chain = ChainArgs::new(PacketType::Publish);
    chain.cluster_id = &cluster;
    chain.subcluster_id = &scid;
    chain.ttl = ttl;
    chain.usr1 = &usr1;
    chain.usr2 = &usr2;
    chain.sig = &sig;
    chain.parent = parent.as_ref().map(|p| ChainParent {
        packet_id: &p.packet_id,
        clock: p.clock,
        // The publisher's cache holds no other child of the parent.
        max_sibling_clock: None,
    });
    let ours = message_to_packets(&sealed, &chain, fixed_now).map_err(|e| fail(e.to_string()))?;
    let want = read::field(expected, "packets", "expected", read::array)?;
    if want.len() != ours.len() {
        return Err(fail(format!(
            "{} packets, expected {}",
            ours.len(),
            want.len()
        )));
    }
    let mut frames = Vec::new();
    for (i, (p, w)) in ours.iter().zip(want).enumerate() {
        let at = format!("expected.packets[{i}]");
        let frame = read::field(w, "hex", &at, read::bytes)?;
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
        if let Some(f) = w.get("fields").filter(|f| **f != JsValue::Null) {
            js::compare_decoded(&decoded, f, &format!("{at}.fields")).map_err(|e| match e {
                Outcome::Fail(s) => fail(format!("packet {i} {s}")),
                other => other,
            })?;
        }
        let r = PacketRef::decode(&frame).map_err(|e| fail(e.to_string()))?;
        if r.encode().map_err(|e| fail(e.to_string()))? != frame {
            return Err(fail(format!("packet {i} does not re-encode to its bytes")));
        }
        frames.push(frame);
    }

    // What publish() returns: the publisher's own (composed) view.
    let composed = compose_published(&ours).map_err(|e| fail(e.to_string()))?;
    let returned = read::opt(expected, "returned", "expected", read::array)?;
    if let Some(ret) = returned.and_then(|a| a.first()) {
        let at = "expected.returned[0]";
        eq_bytes("packetId", &composed.packet.packet_id, ret, at)?;
        let composed_flag = composed.head_id.is_some();
        if read::field(ret, "isComposed", at, read::boolean)? != composed_flag {
            return Err(fail("returned.isComposed differs"));
        }
        if read::field(ret, "messageLength", at, read::number)?
            != composed.packet.message.len() as f64
        {
            return Err(fail("returned.messageLength differs"));
        }
    }
    let verified = verify_from_byte_64(&plaintext, &sig, &usr2).unwrap_or(false);
    if read::field(expected, "verified", "expected", read::boolean)? != verified {
        return Err(fail(format!("verified: ours {verified}")));
    }

    // Delivery: the recorded order gives exactly `delivered`; other orders
    // give the same event, with the id rule of §7.3 (it depends on which
    // packet completed the chain).
    let delivered = read::field(expected, "delivered", "expected", read::array)?;
    let d = delivered
        .first()
        .ok_or_else(|| fail("delivered is empty"))?;
    let dp = "expected.delivered[0]";
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
        eq_bytes("eventName", &ev.event_hash, d, dp)?;
        eq_bytes("payload", &ev.payload, d, dp)?;
        if read::opt(d, "verified", dp, read::boolean)?.unwrap_or(false) != ev.verified {
            return Err(fail(format!("order {k}: verified differs")));
        }
        if k == 0 {
            eq_bytes("packetId", &ev.packet_id, d, dp)?;
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
