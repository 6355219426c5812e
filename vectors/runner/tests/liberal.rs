//! The runner is liberal in form and strict in meaning: a file in the other
//! value form (tagged ↔ bare) gives the same results, and a value it cannot
//! read is a format error naming the case and the field, never a mismatch.

mod support;

use serde_json::{json, Value};
use streamrelay_vectors::{check_bytes, Report};

fn run(doc: &Value) -> Report {
    let bytes = serde_json::to_vec(doc).expect("serialise");
    check_bytes(&bytes, "test", &[]).expect("a vector file")
}

#[test]
fn the_other_form_gives_the_same_results() {
    for f in support::committed_files() {
        let doc = support::read(&f);
        let a = run(&doc);
        let b = run(&support::other_form(&doc));
        assert_eq!(a.failed, 0, "{}: {:?}", f.display(), a.lines);
        assert_eq!(
            (a.passed, a.failed, a.deviations),
            (b.passed, b.failed, b.deviations),
            "{}: {:#?}",
            f.display(),
            &b.lines[..b.lines.len().min(10)]
        );
    }
}

/// One case of `kind` (the first), edited, alone in a file.
fn one_case(kind: &str, edit: impl FnOnce(&mut Value)) -> (String, Value) {
    let mut doc = support::read(&support::committed_files()[0]);
    let cases = doc["cases"].as_array_mut().unwrap();
    let i = cases.iter().position(|c| c["kind"] == kind).expect("kind");
    let mut c = cases[i].clone();
    edit(&mut c);
    let name = c["name"].as_str().unwrap().to_string();
    doc["cases"] = json!([c]);
    (name, doc)
}

/// Changes one case.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn an_unreadable_value_is_a_format_error_naming_case_and_field() {
    let cases: Vec<(&str, &str, Edit)> = vec![
        (
            "validate.id",
            "input.value",
            Box::new(|c| c["input"]["value"] = json!({"str": 5})),
        ),
        (
            "validate.id",
            "expected.result",
            Box::new(|c| c["expected"]["result"] = json!("true")),
        ),
        (
            "validate.id",
            "input.fn",
            Box::new(|c| c["input"]["fn"] = json!("isValidId")),
        ),
        (
            "crypto.createId",
            "expected.id",
            Box::new(|c| c["expected"]["id"] = json!(5)),
        ),
        (
            "crypto.createId",
            "input.value",
            Box::new(|c| c["input"]["value"] = json!({"hex": "abc"})),
        ),
        (
            "crypto.sign",
            "input.message",
            Box::new(|c| c["input"]["message"] = json!("zz")),
        ),
        (
            "crypto.sign",
            "expected.sig",
            Box::new(|c| c["expected"]["sig"] = json!({"str": "00"})),
        ),
        (
            "crypto.verify",
            "expected.verified",
            Box::new(|c| c["expected"]["verified"] = json!(1)),
        ),
        (
            "crypto.sha256",
            "input.opts.bytes",
            Box::new(|c| c["input"]["opts"] = json!({"bytes": "yes"})),
        ),
        (
            "crypto.open",
            "input.keys",
            Box::new(|c| {
                c["input"].as_object_mut().unwrap().remove("keys");
            }),
        ),
        (
            "crypto.createKeyPair",
            "input.seed",
            Box::new(|c| c["input"]["seed"] = json!({"hex": "é0"})),
        ),
        (
            "api.pack",
            "expected.sealed",
            Box::new(|c| {
                c["expected"].as_object_mut().unwrap().remove("sealed");
            }),
        ),
        (
            "api.pack",
            "input.signingSeed",
            Box::new(|c| c["input"]["signingSeed"] = json!(7)),
        ),
        (
            "nat.classify",
            "expected.isValid",
            Box::new(|c| c["expected"]["isValid"] = json!("no")),
        ),
        (
            "nat.connectionStrategy",
            "expected.strategy",
            Box::new(|c| c["expected"]["strategy"] = json!("4")),
        ),
        (
            "packet.decode",
            "input.hex",
            Box::new(|c| c["input"]["hex"] = json!("xyz")),
        ),
        (
            "packet.encode",
            "input.fields.usr1",
            Box::new(|c| c["input"]["fields"]["usr1"] = json!({"hex": "0"})),
        ),
        (
            "packet.encode",
            "expected.hex",
            Box::new(|c| c["expected"]["hex"] = json!(true)),
        ),
        (
            "cache.summary",
            "input.packetIds[0]",
            Box::new(|c| c["input"]["packetIds"] = json!([5])),
        ),
        (
            "cache.decodeSummary",
            "input.hex",
            Box::new(|c| c["input"]["hex"] = json!({"json": "00"})),
        ),
        (
            "crypto.sha256",
            "expected",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("expected");
            }),
        ),
    ];
    for (kind, field, edit) in cases {
        let (name, doc) = one_case(kind, edit);
        let r = run(&doc);
        assert_eq!(
            (r.passed, r.failed, r.format_errors),
            (0, 1, 1),
            "{kind} {field}: {:?}",
            r.lines
        );
        let line = &r.lines[0];
        assert!(
            line.starts_with(&format!("FORMAT ERROR {name} ({kind}): {field}")),
            "{kind} {field}: {line}"
        );
    }
}

#[test]
fn bare_and_tagged_values_of_validate_id_and_create_id_mean_the_same() {
    // A string value tagged, and a bare expected id.
    let (_, doc) = one_case("validate.id", |c| {
        let v = c["input"]["value"].clone();
        c["input"]["value"] = json!({ "str": v });
        c["expected"]["result"] = json!({ "json": c["expected"]["result"].clone() });
    });
    let r = run(&doc);
    assert_eq!((r.passed, r.failed), (1, 0), "{:?}", r.lines);
    let (_, doc) = one_case("crypto.createId", |c| {
        c["input"]["value"] = c["input"]["value"]["str"].clone();
        c["expected"]["id"] = c["expected"]["id"]["str"].clone();
    });
    let r = run(&doc);
    assert_eq!((r.passed, r.failed), (1, 0), "{:?}", r.lines);
    // Same meaning, wrong value: a mismatch, not a format error.
    let (_, doc) = one_case("crypto.createId", |c| {
        c["expected"]["id"] = json!("00".repeat(32));
    });
    let r = run(&doc);
    assert_eq!((r.failed, r.format_errors), (1, 0), "{:?}", r.lines);
}
