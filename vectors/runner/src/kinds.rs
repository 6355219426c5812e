//! One checker per vector kind.

use streamrelay::cache::{decode_summary, summarize};
use streamrelay::nat::{connection_strategy, NatType};
use streamrelay::wire::json::{js_to_int32, JsValue};

use crate::js::{self, hex, Encoded};
use crate::jsv::{as_array, as_bool, as_str, get, js_to_number, str16, stringify};
use crate::Outcome;

/// Runs one case; `fixed_now` is the file's frozen clock (ms).
pub fn run(kind: &str, input: &JsValue, expected: &JsValue, fixed_now: u64) -> Outcome {
    if let Some(r) = crate::crypto_kinds::run(kind, input, expected, fixed_now) {
        return r.map_or_else(|o| o, |()| Outcome::Pass);
    }
    let r = match kind {
        "packet.encode" => packet_encode(input, expected),
        "packet.decode" => packet_decode(input, expected),
        "nat.connectionStrategy" => nat_strategy(input, expected),
        "nat.classify" => nat_classify(input, expected),
        "cache.summary" => cache_summary(input, expected),
        "cache.decodeSummary" => cache_decode_summary(input, expected),
        "validate.id" => validate_id(input, expected),
        other => Err(Outcome::fail(format!("unknown kind {other:?}"))),
    };
    match r {
        Ok(()) => Outcome::Pass,
        Err(o) => o,
    }
}

type R = Result<(), Outcome>;

fn fail(s: impl Into<String>) -> Outcome {
    Outcome::fail(s)
}

fn expect_eq(what: &str, ours: &JsValue, exp: Option<&JsValue>) -> R {
    match exp {
        None => Err(fail(format!("expected has no {what}"))),
        Some(e) if stringify(e) == stringify(ours) => Ok(()),
        Some(e) => Err(fail(format!(
            "{what}: ours {} expected {}",
            stringify(ours),
            stringify(e)
        ))),
    }
}

fn expected_hex(v: Option<&JsValue>) -> Option<String> {
    let v = v?;
    as_str(v).or_else(|| get(v, "hex").and_then(as_str))
}

fn packet_encode(input: &JsValue, expected: &JsValue) -> R {
    let fields = get(input, "fields").ok_or_else(|| fail("input has no fields"))?;
    let want_error = get(expected, "error").is_some();
    let stage = get(expected, "stage").and_then(as_str);
    let p = match js::construct(fields) {
        Ok(p) => p,
        Err(_) if want_error && stage.as_deref() != Some("encode") => return Ok(()),
        Err(e) => return Err(fail(format!("construct failed: {e}"))),
    };
    let enc = match js::encode(&p) {
        Ok(x) => x,
        Err(_) if want_error => return Ok(()),
        Err(e) => return Err(fail(format!("encode failed: {e}"))),
    };
    if want_error {
        return Err(fail(format!(
            "expected an error at stage {stage:?}, we encoded {}",
            match &enc {
                Encoded::Frame(b) => hex(b),
                other => format!("{other:?}"),
            }
        )));
    }
    let want = expected_hex(get(expected, "hex")).ok_or_else(|| fail("expected has no hex"))?;
    let frame = match enc {
        Encoded::Frame(b) => b,
        Encoded::ZeroBuffer => {
            return Err(Outcome::Deviation {
                anchor: "falsy-message",
                detail: format!(
                    "falsy message: the reference returns {} zero bytes, we never emit that",
                    js::ZERO_BUFFER_LEN
                ),
            })
        }
        Encoded::Oversize { field, len } => {
            return Err(Outcome::Deviation {
                anchor: "oversize-field",
                detail: format!(
                    "the reference writes {field} as {len} bytes (over its maximum); we refuse"
                ),
            })
        }
    };
    let ours = hex(&frame);
    if ours != want {
        return Err(fail(format!(
            "hex differs:\n  ours     {ours}\n  expected {want}"
        )));
    }
    if let Some(JsValue::Number(n)) = get(expected, "length") {
        if *n != frame.len() as f64 {
            return Err(fail(format!("length {} expected {n}", frame.len())));
        }
    }
    check_decode_of(
        &frame,
        get(expected, "decodeAccepted").and_then(as_bool),
        get(expected, "decoded"),
    )
}

fn check_decode_of(frame: &[u8], accepted: Option<bool>, decoded: Option<&JsValue>) -> R {
    let ours = js::decode(frame);
    if let Some(a) = accepted {
        if a != ours.is_ok() {
            return Err(fail(format!(
                "decode verdict: ours {} expected {}",
                match &ours {
                    Ok(_) => "accepted".to_string(),
                    Err(e) => format!("rejected ({e})"),
                },
                if a { "accepted" } else { "rejected" }
            )));
        }
    }
    if let (Ok(p), Some(d)) = (&ours, decoded) {
        js::compare_decoded(p, d).map_err(|e| fail(format!("decoded {e}")))?;
    }
    Ok(())
}

fn packet_decode(input: &JsValue, expected: &JsValue) -> R {
    let h = expected_hex(get(input, "hex")).ok_or_else(|| fail("input has no hex"))?;
    let bytes = js::hex_decode_strict(&h).map_err(fail)?;
    let accepted = get(expected, "accepted").and_then(as_bool);
    check_decode_of(&bytes, accepted, get(expected, "decoded"))?;
    let Ok(p) = js::decode(&bytes) else {
        return Ok(());
    };
    let Some(re) = get(expected, "reencoded") else {
        return Ok(());
    };
    let ours = js::encode(&p);
    match (ours, expected_hex(get(re, "hex"))) {
        (Err(_), None) if get(re, "error").is_some() => Ok(()),
        (Ok(Encoded::Frame(b)), Some(want)) => {
            if hex(&b) == want {
                Ok(())
            } else {
                Err(fail(format!(
                    "re-encoding differs:\n  ours     {}\n  expected {want}",
                    hex(&b)
                )))
            }
        }
        (Ok(Encoded::ZeroBuffer), Some(_)) => Err(Outcome::Deviation {
            anchor: "falsy-message",
            detail: "re-encoding a falsy JSON body: the reference returns 2423 zero bytes".into(),
        }),
        (Ok(Encoded::Oversize { field, len }), Some(_)) => Err(Outcome::Deviation {
            anchor: "oversize-field",
            detail: format!("re-encoding writes {field} as {len} bytes"),
        }),
        (ours, want) => Err(fail(format!(
            "re-encoding: ours {ours:?} expected {}",
            want.unwrap_or_else(|| stringify(re))
        ))),
    }
}

/// `switch (n)` in nat.js compares with `===`: only the four named numbers
/// select a case; everything else behaves as an unnamed type.
fn nat_case(v: &JsValue) -> Option<NatType> {
    match v {
        JsValue::Number(n) if [5.0, 7.0, 15.0, 31.0].contains(n) => Some(NatType(*n as u8)),
        JsValue::Number(_) => Some(NatType(0)),
        _ => None,
    }
}

fn nat_strategy(input: &JsValue, expected: &JsValue) -> R {
    let null = JsValue::Null;
    let a = nat_case(get(input, "a").unwrap_or(&null));
    let b = nat_case(get(input, "b").unwrap_or(&null));
    let s = connection_strategy(a, b);
    expect_eq(
        "strategy",
        &JsValue::Number(s as u8 as f64),
        get(expected, "strategy"),
    )?;
    if get(expected, "name").is_some() {
        expect_eq("name", &js_string(s.name()), get(expected, "name"))?;
    }
    Ok(())
}

fn js_string(s: &str) -> JsValue {
    crate::jsv::string_value(s)
}

fn nat_classify(input: &JsValue, expected: &JsValue) -> R {
    let null = JsValue::Null;
    let v = get(input, "natType").unwrap_or(&null);
    // `nat & 1` converts with ToNumber then ToInt32; the low byte keeps
    // bits 0 and 2.
    let n = NatType((js_to_int32(js_to_number(v)) & 0xff) as u8);
    expect_eq(
        "isValid",
        &JsValue::Bool(n.is_valid()),
        get(expected, "isValid"),
    )?;
    expect_eq(
        "isEndpointDependenceDefined",
        &JsValue::Bool(n.is_endpoint_dependence_defined()),
        get(expected, "isEndpointDependenceDefined"),
    )?;
    expect_eq(
        "isFirewallDefined",
        &JsValue::Bool(n.is_firewall_defined()),
        get(expected, "isFirewallDefined"),
    )?;
    let name = nat_case(v).unwrap_or(NatType(0)).name();
    expect_eq("name", &js_string(name), get(expected, "name"))
}

fn summary_json(
    prefix: &JsValue,
    hash: &[u8],
    buckets: &[Option<Vec<u8>>],
) -> Vec<(String, JsValue)> {
    vec![
        ("prefix".into(), prefix.clone()),
        ("hash".into(), js_string(&hex(hash))),
        (
            "buckets".into(),
            JsValue::Array(
                buckets
                    .iter()
                    .map(|b| b.as_ref().map_or(JsValue::Null, |h| js_string(&hex(h))))
                    .collect(),
            ),
        ),
    ]
}

fn cache_summary(input: &JsValue, expected: &JsValue) -> R {
    let ids = get(input, "packetIds")
        .and_then(as_array)
        .ok_or_else(|| fail("no packetIds"))?;
    let prefix_v = get(input, "prefix")
        .cloned()
        .unwrap_or_else(|| js_string(""));
    let prefix = as_str(&prefix_v).unwrap_or_default();
    // The cache is a Map: a repeated key is one entry.
    let mut keys: Vec<String> = Vec::new();
    for id in ids {
        let k = as_str(id).ok_or_else(|| fail("a packetId is not a string"))?;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let s = summarize(&prefix, keys.iter().map(|k| k.as_bytes()));
    let buckets: Vec<Option<Vec<u8>>> = s.buckets.iter().map(|b| b.map(|h| h.to_vec())).collect();
    let ours = crate::jsv::object(summary_json(&prefix_v, &s.hash, &buckets));
    expect_eq("summary", &ours, get(expected, "summary"))?;
    let enc = s.encode();
    let want = expected_hex(get(expected, "encoded")).ok_or_else(|| fail("no encoded"))?;
    if hex(&enc) != want {
        return Err(fail(format!("encoded: ours {} expected {want}", hex(&enc))));
    }
    if let Some(d) = get(expected, "decoded") {
        expect_eq(
            "decoded",
            &decoded_summary_json(&enc).map_err(fail)?,
            Some(d),
        )?;
    }
    Ok(())
}

/// The reference's `decodeSummary` result as JSON, from our lenient reader.
fn decoded_summary_json(bytes: &[u8]) -> Result<JsValue, String> {
    let s = decode_summary(bytes).map_err(|e| e.to_string())?;
    let full = hex(s.prefix_bytes);
    let plen = s.prefix_len as usize;
    // JS `slice(-plen)`, where slice(-0) is the whole string.
    let prefix = if plen == 0 || plen >= full.len() {
        full.clone()
    } else {
        full[full.len() - plen..].to_string()
    };
    let mut buckets: Vec<Option<Vec<u8>>> = vec![None; 16];
    for (i, h) in s.buckets() {
        let i = i as usize;
        if i >= buckets.len() {
            buckets.resize(i + 1, None);
        }
        buckets[i] = Some(h.to_vec());
    }
    Ok(crate::jsv::object(summary_json(
        &js_string(&prefix),
        s.hash,
        &buckets,
    )))
}

fn cache_decode_summary(input: &JsValue, expected: &JsValue) -> R {
    let h = expected_hex(get(input, "hex")).ok_or_else(|| fail("no hex"))?;
    let bytes = js::hex_decode_strict(&h).map_err(fail)?;
    match (decoded_summary_json(&bytes), get(expected, "decoded")) {
        (Ok(ours), Some(d)) => expect_eq("decoded", &ours, Some(d)),
        (Err(_), None) if get(expected, "error").is_some() => Ok(()),
        (ours, _) => Err(fail(format!(
            "ours {} expected {}",
            ours.map(|v| stringify(&v))
                .unwrap_or_else(|e| format!("error {e}")),
            stringify(expected)
        ))),
    }
}

fn validate_id(input: &JsValue, expected: &JsValue) -> R {
    let f = get(input, "fn").and_then(as_str).unwrap_or_default();
    let null = JsValue::Null;
    let v = get(input, "value").unwrap_or(&null);
    let check: fn(&str) -> bool = match f.as_str() {
        "isValidPeerId" => streamrelay::id::is_valid_peer_id,
        "isValidReflectionId" => streamrelay::id::is_valid_reflection_id,
        "isValidPingId" => streamrelay::id::is_valid_ping_id,
        other => return Err(fail(format!("unknown validator {other:?}"))),
    };
    // `typeof pid === 'string'` first; a string with lone surrogates is
    // never hex, and the lossy conversion keeps it non-hex.
    let ours = match str16(v) {
        Some(s) => check(&String::from_utf16_lossy(&s)),
        None => false,
    };
    expect_eq("result", &JsValue::Bool(ours), get(expected, "result"))
}
