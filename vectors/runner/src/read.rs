//! Typed readers for the values of a case, liberal in form and strict in
//! meaning (see `vectors/schema.json`): a value may be tagged (`{"hex"}`,
//! `{"str"}`, `{"json"}`, `{"undefined"}`) or bare wherever its field allows
//! it. A bytes field reads a bare string as hex, a text field as the text, a
//! JS-value field reads any bare JSON value as that JavaScript value; an
//! object with a key named like a tag must be exactly that tag. A value that
//! cannot be read is [`Outcome::Format`] naming the field, never a mismatch.

use streamrelay::wire::json::JsValue;

use crate::js::{hex_decode_strict, JsField};
use crate::jsv::{str16, stringify};
use crate::Outcome;

/// What a reader gives: the value, or a format error naming the field.
pub type Read<T> = Result<T, Outcome>;

const TAGS: [&str; 4] = ["hex", "str", "json", "undefined"];

/// A format error at `path`.
pub fn bad(path: &str, why: impl std::fmt::Display) -> Outcome {
    Outcome::Format(format!("{path}: {why}"))
}

fn short(v: &JsValue) -> String {
    let s = stringify(v);
    if s.len() > 80 {
        let cut = (0..=77).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

/// `parent[key]`, which must be present.
pub fn req<'a>(parent: &'a JsValue, key: &str, path: &str) -> Read<&'a JsValue> {
    parent
        .get(key)
        .ok_or_else(|| bad(&format!("{path}.{key}"), "missing"))
}

/// The tag of an object that has a tag key: `Ok(None)` for a value that is
/// not tag-like, an error for a malformed tag (two keys, wrong inner type).
fn tag<'a>(v: &'a JsValue, path: &str) -> Read<Option<(&'static str, &'a JsValue)>> {
    let Some(o) = v.as_object() else {
        return Ok(None);
    };
    let Some(t) = TAGS.iter().find(|t| o.get(t).is_some()) else {
        return Ok(None);
    };
    if o.len() != 1 {
        return Err(bad(
            path,
            format!(
                "an object with the key {t:?} must be the tag {{{t:?}: …}} alone (wrap other objects in {{\"json\": …}}): {}",
                short(v)
            ),
        ));
    }
    let inner = o.get(t).expect("present");
    let ok = match *t {
        "hex" | "str" => matches!(inner, JsValue::String(_)),
        "undefined" => *inner == JsValue::Bool(true),
        _ => true,
    };
    if !ok {
        return Err(bad(path, format!("malformed tag {}", short(v))));
    }
    Ok(Some((t, inner)))
}

fn hex_text(s: &JsValue, path: &str) -> Read<Vec<u8>> {
    let text = s
        .as_str()
        .ok_or_else(|| bad(path, "hex with lone surrogates"))?;
    hex_decode_strict(text).map_err(|e| bad(path, format!("not hex: {e}")))
}

/// A byte string: `{"hex": h}` or a bare hex string.
pub fn bytes(v: &JsValue, path: &str) -> Read<Vec<u8>> {
    match tag(v, path)? {
        Some(("hex", h)) => hex_text(h, path),
        None if matches!(v, JsValue::String(_)) => hex_text(v, path),
        _ => Err(bad(path, format!("expected bytes, found {}", short(v)))),
    }
}

/// A JavaScript string as UTF-16 code units: `{"str": s}` or a bare string.
pub fn text16(v: &JsValue, path: &str) -> Read<Vec<u16>> {
    match tag(v, path)? {
        Some(("str", s)) => Ok(str16(s).unwrap_or_default()),
        None if matches!(v, JsValue::String(_)) => Ok(str16(v).unwrap_or_default()),
        _ => Err(bad(path, format!("expected a string, found {}", short(v)))),
    }
}

/// A string (lone surrogates become U+FFFD, as `Buffer.from` does).
pub fn text(v: &JsValue, path: &str) -> Read<String> {
    text16(v, path).map(|u| String::from_utf16_lossy(&u))
}

/// A boolean: bare or `{"json": b}`.
pub fn boolean(v: &JsValue, path: &str) -> Read<bool> {
    let inner = match tag(v, path)? {
        Some(("json", j)) => j,
        None => v,
        _ => return Err(bad(path, format!("expected a boolean, found {}", short(v)))),
    };
    inner
        .as_bool()
        .ok_or_else(|| bad(path, format!("expected a boolean, found {}", short(v))))
}

/// A number: bare or `{"json": n}`.
pub fn number(v: &JsValue, path: &str) -> Read<f64> {
    let inner = match tag(v, path)? {
        Some(("json", j)) => j,
        None => v,
        _ => return Err(bad(path, format!("expected a number, found {}", short(v)))),
    };
    match inner {
        JsValue::Number(n) => Ok(*n),
        _ => Err(bad(path, format!("expected a number, found {}", short(v)))),
    }
}

/// Any JavaScript value; `None` for `{"undefined": true}`. A bare string is
/// a string; other bare values stand for themselves.
pub fn js(v: &JsValue, path: &str) -> Read<Option<JsField>> {
    Ok(Some(match tag(v, path)? {
        Some(("hex", h)) => JsField::Bytes(hex_text(h, path)?),
        Some(("str", s)) => JsField::Str(str16(s).unwrap_or_default()),
        Some(("json", j)) => json_value(j),
        Some(_) => return Ok(None),
        None => json_value(v),
    }))
}

/// A JSON value as a JS value: a string is a string.
fn json_value(v: &JsValue) -> JsField {
    match v {
        JsValue::String(_) => JsField::Str(str16(v).unwrap_or_default()),
        other => JsField::Json(other.clone()),
    }
}

/// [`js`] where `undefined` is the JSON value `null`'s absence: the value
/// a JavaScript function receives (`undefined` kept as `None`).
pub fn js_req(parent: &JsValue, key: &str, path: &str) -> Read<Option<JsField>> {
    js(req(parent, key, path)?, &format!("{path}.{key}"))
}

/// `parent[key]` read with `f` when present.
pub fn opt<'a, T>(
    parent: &'a JsValue,
    key: &str,
    path: &str,
    f: impl FnOnce(&'a JsValue, &str) -> Read<T>,
) -> Read<Option<T>> {
    parent
        .get(key)
        .map(|v| f(v, &format!("{path}.{key}")))
        .transpose()
}

/// `parent[key]` read with `f`; it must be present.
pub fn field<'a, T>(
    parent: &'a JsValue,
    key: &str,
    path: &str,
    f: impl FnOnce(&'a JsValue, &str) -> Read<T>,
) -> Read<T> {
    f(req(parent, key, path)?, &format!("{path}.{key}"))
}

/// An array.
pub fn array<'a>(v: &'a JsValue, path: &str) -> Read<&'a [JsValue]> {
    v.as_array()
        .ok_or_else(|| bad(path, format!("expected an array, found {}", short(v))))
}

/// Whether `expected` is an error outcome (`{"error": …}`).
pub fn is_error(expected: &JsValue) -> bool {
    expected.get("error").is_some()
}
