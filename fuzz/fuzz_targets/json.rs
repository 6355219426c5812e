//! Fuzz `streamrelay::wire::json`: the parser and the stringifier.
//!
//! * `parse`, `validate` and the `Tokenizer` iterator accept the same texts.
//! * For an accepted text, `stringify` is valid JSON that parses back to the
//!   same value when every number in it is finite (`1e400` parses to
//!   Infinity, which `JSON.stringify` writes as `null`), and stringify is a
//!   fixed point after one round in every case.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamrelay::wire::json::{self, JsValue, Tokenizer};

fuzz_target!(|data: &[u8]| {
    let parsed = json::parse(data);
    let validated = json::validate(data);
    let iter_ok = Tokenizer::new(data).all(|t| t.is_ok());
    assert_eq!(
        parsed.is_ok(),
        validated.is_ok(),
        "parse {:?} vs validate {:?}",
        parsed.as_ref().err(),
        validated.err()
    );
    assert_eq!(
        parsed.is_ok(),
        iter_ok,
        "parse {:?} vs Tokenizer",
        parsed.as_ref().err()
    );

    let Ok(v) = parsed else { return };
    let s = v.stringify();
    let v2 = json::parse(s.as_bytes())
        .unwrap_or_else(|e| panic!("stringify output does not parse: {e:?}\n{s}"));
    if all_finite(&v) {
        assert_eq!(v2, v, "parse(stringify(v)) != v; stringify: {s}");
    }
    assert_eq!(v2.stringify(), s, "stringify is not a fixed point");
});

/// No `Infinity` / `NaN` anywhere in `v` (iterative: values nest 1024 deep).
fn all_finite(v: &JsValue) -> bool {
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
