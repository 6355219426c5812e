//! Pretty JSON for `decode`, and the JSON → fields conversion for `encode`.

use streamrelay::wire::json::{JsObject, JsValue};
use streamrelay::wire::PacketRef;
use streamrelay_vectors::js::{self, JsField, JsPacket};

const NAMES: [&str; 11] = [
    "clusterId",
    "subclusterId",
    "previousId",
    "packetId",
    "nextId",
    "usr1",
    "usr2",
    "usr3",
    "usr4",
    "message",
    "sig",
];

/// The decoded form (as in the vectors) plus `typeName` and `length`.
pub fn decoded(p: &PacketRef<'_>, jp: &JsPacket) -> String {
    let mut o = JsObject::default();
    o.insert("type", JsValue::Number(p.packet_type as u8 as f64));
    o.insert("typeName", JsValue::from(p.packet_type.name()));
    for (name, v) in ["version", "clock", "hops", "index", "ttl"]
        .iter()
        .zip(jp.ints)
    {
        o.insert(*name, JsValue::Number(v));
    }
    for (name, f) in NAMES.iter().zip(jp.fields.iter()) {
        let v = match f {
            JsField::Bytes(b) => JsValue::from(js::hex(b).as_str()),
            JsField::Str(s) => {
                let mut t = JsObject::default();
                t.insert("json", JsValue::from(String::from_utf16_lossy(s)));
                JsValue::Object(t)
            }
            JsField::Json(v) => {
                let mut t = JsObject::default();
                t.insert("json", v.clone());
                JsValue::Object(t)
            }
        };
        o.insert(*name, v);
    }
    o.insert("length", JsValue::Number(p.encoded_len() as f64));
    let mut out = String::new();
    write(&JsValue::Object(o), 0, &mut out);
    out
}

fn write(v: &JsValue, depth: usize, out: &mut String) {
    let pad = |d: usize, out: &mut String| out.extend(std::iter::repeat_n("  ", d));
    match v {
        JsValue::Object(o) if !o.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in o.iter().enumerate() {
                pad(depth + 1, out);
                out.push_str(&JsValue::from(k.clone()).stringify());
                out.push_str(": ");
                write(v, depth + 1, out);
                if i + 1 < o.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(depth, out);
            out.push('}');
        }
        JsValue::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                pad(depth + 1, out);
                write(v, depth + 1, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(depth, out);
            out.push(']');
        }
        other => out.push_str(&other.stringify()),
    }
}

/// Accepts the decode output (plain hex strings) or tagged values, and
/// returns the vectors' `fields` form (every byte field tagged).
pub fn fields_from_json(v: &JsValue) -> Result<JsValue, String> {
    let o = v.as_object().ok_or("expected a JSON object")?;
    let mut out = JsObject::default();
    for (k, val) in o.iter() {
        let key = k.to_string_lossy().into_owned();
        if key == "typeName" || key == "length" {
            continue;
        }
        let val = if NAMES.contains(&key.as_str()) {
            match val {
                JsValue::String(_) => {
                    let mut t = JsObject::default();
                    t.insert("hex", val.clone());
                    JsValue::Object(t)
                }
                other => other.clone(),
            }
        } else {
            val.clone()
        };
        out.insert(key, val);
    }
    Ok(JsValue::Object(out))
}
