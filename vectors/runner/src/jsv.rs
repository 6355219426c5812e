//! Small accessors over `streamrelay::wire::json::JsValue` for reading vector
//! files, and the few JavaScript conversions the checks need.

use streamrelay::wire::json::{js_type_name, JsObject, JsValue};

/// `v[key]` on an object.
pub fn get<'a>(v: &'a JsValue, key: &str) -> Option<&'a JsValue> {
    v.get(key)
}

/// A string value (lone surrogates replaced by U+FFFD).
pub fn as_str(v: &JsValue) -> Option<String> {
    v.as_js_string().map(|s| s.to_string_lossy().into_owned())
}

/// A string value as UTF-16 code units (exact, lone surrogates kept).
pub fn str16(v: &JsValue) -> Option<Vec<u16>> {
    v.as_js_string().map(|s| s.code_units().collect())
}

/// A boolean value.
pub fn as_bool(v: &JsValue) -> Option<bool> {
    v.as_bool()
}

/// An array value.
pub fn as_array(v: &JsValue) -> Option<&[JsValue]> {
    v.as_array()
}

/// `JSON.stringify(v)`.
pub fn stringify(v: &JsValue) -> String {
    v.stringify()
}

/// A string value.
pub fn string_value(s: &str) -> JsValue {
    JsValue::from(s)
}

/// An object with the given entries, in JS property order.
pub fn object(entries: Vec<(String, JsValue)>) -> JsValue {
    let mut o = JsObject::default();
    for (k, v) in entries {
        o.insert(k, v);
    }
    JsValue::Object(o)
}

/// The reference's type name of a value.
pub fn type_name(v: &JsValue) -> &'static str {
    js_type_name(v)
}

/// `Buffer.from(string)`: UTF-8, a lone surrogate becoming U+FFFD.
pub fn utf16_to_utf8(s: &[u16]) -> Vec<u8> {
    String::from_utf16_lossy(s).into_bytes()
}

/// `String(n)` for a number.
pub fn js_number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        JsValue::Number(n).stringify()
    }
}

/// ECMAScript ToUint8 (what a `Uint8Array` does with a number).
pub fn js_to_uint8(n: f64) -> u8 {
    if !n.is_finite() {
        return 0;
    }
    (n.trunc().rem_euclid(256.0)) as u8
}

/// ECMAScript ToNumber of a JSON value.
pub fn js_to_number(v: &JsValue) -> f64 {
    match v {
        JsValue::Null => 0.0,
        JsValue::Bool(b) => *b as u8 as f64,
        JsValue::Number(n) => *n,
        JsValue::String(_) => string_to_number(&as_str(v).unwrap_or_default()),
        JsValue::Array(a) => match a.len() {
            0 => 0.0,
            // ToPrimitive of a one-element array is its element's string.
            1 => match &a[0] {
                JsValue::Null => 0.0,
                JsValue::Array(_) => js_to_number(&a[0]),
                JsValue::Object(_) => f64::NAN,
                x @ JsValue::String(_) => js_to_number(x),
                JsValue::Bool(_) => f64::NAN,
                JsValue::Number(n) => *n,
            },
            _ => f64::NAN,
        },
        JsValue::Object(_) => f64::NAN,
    }
}

/// ECMAScript StringToNumber.
fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = |p: &str, r: u32| -> f64 {
        if p.is_empty() {
            return f64::NAN;
        }
        p.chars()
            .try_fold(0f64, |acc, c| {
                c.to_digit(r).map(|d| acc * r as f64 + d as f64)
            })
            .unwrap_or(f64::NAN)
    };
    let lower = t.to_ascii_lowercase();
    if let Some(p) = lower.strip_prefix("0x") {
        return radix(p, 16);
    }
    if let Some(p) = lower.strip_prefix("0o") {
        return radix(p, 8);
    }
    if let Some(p) = lower.strip_prefix("0b") {
        return radix(p, 2);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let ok = t
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && t.bytes().any(|b| b.is_ascii_digit());
    if ok {
        t.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}
