//! One checker per vector kind.

use streamrelay::cache::{decode_summary, summarize};
use streamrelay::nat::{connection_strategy, NatType};
use streamrelay::wire::json::{js_to_int32, JsValue};

use crate::js::{self, hex, Encoded, JsField};
use crate::jsv::{js_to_number, stringify};
use crate::read;
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

/// Compares a number, a boolean or a text with its expected value (bare or
/// tagged); a missing or unreadable expected value is a format error.
fn expect_num(what: &str, ours: f64, expected: &JsValue) -> R {
    let want = read::field(expected, what, "expected", read::number)?;
    (want == ours)
        .then_some(())
        .ok_or_else(|| fail(format!("{what}: ours {ours} expected {want}")))
}

fn expect_bool(what: &str, ours: bool, expected: &JsValue) -> R {
    let want = read::field(expected, what, "expected", read::boolean)?;
    (want == ours)
        .then_some(())
        .ok_or_else(|| fail(format!("{what}: ours {ours} expected {want}")))
}

fn expect_text(what: &str, ours: &str, expected: &JsValue) -> R {
    let want = read::field(expected, what, "expected", read::text)?;
    (want == ours)
        .then_some(())
        .ok_or_else(|| fail(format!("{what}: ours {ours:?} expected {want:?}")))
}

fn expect_eq(what: &str, ours: &JsValue, exp: Option<&JsValue>) -> R {
    match exp {
        None => Err(read::bad(&format!("expected.{what}"), "missing")),
        Some(e) if stringify(e) == stringify(ours) => Ok(()),
        Some(e) => Err(fail(format!(
            "{what}: ours {} expected {}",
            stringify(ours),
            stringify(e)
        ))),
    }
}

fn packet_encode(input: &JsValue, expected: &JsValue) -> R {
    let fields = read::req(input, "fields", "input")?;
    // Every value must be readable before the reference's logic runs.
    if let Some(o) = fields.as_object() {
        for (k, v) in o.iter() {
            let k = k.to_string_lossy();
            read::js(v, &format!("input.fields.{k}"))?;
        }
    } else {
        return Err(read::bad("input.fields", "expected an object"));
    }
    let want_error = read::is_error(expected);
    let stage = read::opt(expected, "stage", "expected", read::text)?;
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
    let want = hex(&read::field(expected, "hex", "expected", read::bytes)?);
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
    if expected.get("length").is_some() {
        expect_num("length", frame.len() as f64, expected)?;
    }
    check_decode_of(
        &frame,
        read::opt(expected, "decodeAccepted", "expected", read::boolean)?,
        expected.get("decoded"),
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
        js::compare_decoded(p, d, "expected.decoded").map_err(|e| match e {
            Outcome::Fail(s) => fail(format!("decoded {s}")),
            other => other,
        })?;
    }
    Ok(())
}

fn packet_decode(input: &JsValue, expected: &JsValue) -> R {
    let bytes = read::field(input, "hex", "input", read::bytes)?;
    let accepted = Some(read::field(
        expected,
        "accepted",
        "expected",
        read::boolean,
    )?);
    check_decode_of(&bytes, accepted, expected.get("decoded"))?;
    let Ok(p) = js::decode(&bytes) else {
        return Ok(());
    };
    let Some(re) = expected.get("reencoded") else {
        return Ok(());
    };
    let want = read::opt(re, "hex", "expected.reencoded", read::bytes)?.map(|b| hex(&b));
    let ours = js::encode(&p);
    match (ours, want) {
        (Err(_), None) if read::is_error(re) => Ok(()),
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
fn nat_case(v: &Option<JsField>) -> Option<NatType> {
    match v {
        Some(JsField::Json(JsValue::Number(n))) if [5.0, 7.0, 15.0, 31.0].contains(n) => {
            Some(NatType(*n as u8))
        }
        Some(JsField::Json(JsValue::Number(_))) => Some(NatType(0)),
        _ => None,
    }
}

fn nat_strategy(input: &JsValue, expected: &JsValue) -> R {
    let a = nat_case(&read::js_req(input, "a", "input")?);
    let b = nat_case(&read::js_req(input, "b", "input")?);
    let s = connection_strategy(a, b);
    expect_num("strategy", s as u8 as f64, expected)?;
    if expected.get("name").is_some() {
        expect_text("name", s.name(), expected)?;
    }
    Ok(())
}

fn nat_classify(input: &JsValue, expected: &JsValue) -> R {
    let v = read::js_req(input, "natType", "input")?;
    // `nat & 1` converts with ToNumber then ToInt32; the low byte keeps
    // bits 0 and 2.
    let num = match &v {
        None => f64::NAN,
        Some(JsField::Json(j)) => js_to_number(j),
        Some(JsField::Str(s)) => js_to_number(&JsValue::from(String::from_utf16_lossy(s).as_str())),
        // A Buffer: ToPrimitive gives its text, never a number here.
        Some(JsField::Bytes(_)) => f64::NAN,
    };
    let n = NatType((js_to_int32(num) & 0xff) as u8);
    expect_bool("isValid", n.is_valid(), expected)?;
    expect_bool(
        "isEndpointDependenceDefined",
        n.is_endpoint_dependence_defined(),
        expected,
    )?;
    expect_bool("isFirewallDefined", n.is_firewall_defined(), expected)?;
    let name = nat_case(&v).unwrap_or(NatType(0)).name();
    expect_text("name", name, expected)
}

fn js_string(s: &str) -> JsValue {
    crate::jsv::string_value(s)
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
    let ids = read::field(input, "packetIds", "input", read::array)?;
    let prefix = read::opt(input, "prefix", "input", read::text)?.unwrap_or_default();
    let prefix_v = js_string(&prefix);
    // The cache is a Map: a repeated key is one entry.
    let mut keys: Vec<String> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let k = read::text(id, &format!("input.packetIds[{i}]"))?;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let s = summarize(&prefix, keys.iter().map(|k| k.as_bytes()));
    let buckets: Vec<Option<Vec<u8>>> = s.buckets.iter().map(|b| b.map(|h| h.to_vec())).collect();
    let ours = crate::jsv::object(summary_json(&prefix_v, &s.hash, &buckets));
    expect_eq("summary", &ours, expected.get("summary"))?;
    let enc = s.encode();
    let want = read::field(expected, "encoded", "expected", read::bytes)?;
    if enc != want {
        return Err(fail(format!(
            "encoded: ours {} expected {}",
            hex(&enc),
            hex(&want)
        )));
    }
    if let Some(d) = expected.get("decoded") {
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
    let bytes = read::field(input, "hex", "input", read::bytes)?;
    match (decoded_summary_json(&bytes), expected.get("decoded")) {
        (Ok(ours), Some(d)) => expect_eq("decoded", &ours, Some(d)),
        (Err(_), None) if read::is_error(expected) => Ok(()),
        (ours, _) => Err(fail(format!(
            "ours {} expected {}",
            ours.map(|v| stringify(&v))
                .unwrap_or_else(|e| format!("error {e}")),
            stringify(expected)
        ))),
    }
}

fn validate_id(input: &JsValue, expected: &JsValue) -> R {
    let f = read::field(input, "fn", "input", read::text)?;
    let check: fn(&str) -> bool = match f.as_str() {
        "isValidPeerId" => streamrelay::id::is_valid_peer_id,
        "isValidReflectionId" => streamrelay::id::is_valid_reflection_id,
        "isValidPingId" => streamrelay::id::is_valid_ping_id,
        other => {
            return Err(read::bad(
                "input.fn",
                format!("unknown validator {other:?}"),
            ))
        }
    };
    // `typeof pid === 'string'` first; a string with lone surrogates is
    // never hex, and the lossy conversion keeps it non-hex.
    let ours = match read::js_req(input, "value", "input")? {
        Some(JsField::Str(s)) => check(&String::from_utf16_lossy(&s)),
        _ => false,
    };
    expect_bool("result", ours, expected)
}
