//! `vectors/schema.json` accepts every committed vector file, the same files
//! rewritten into the other value form, and rejects files that break it.

#[path = "../examples/check-schema.rs"]
mod check;
mod support;

use serde_json::{json, Value};

fn errors(doc: &Value) -> Vec<String> {
    let v = check::validator().expect("schema compiles");
    check::violations(&v, doc)
}

#[test]
fn committed_files_are_valid() {
    for f in support::committed_files() {
        let e = errors(&support::read(&f));
        assert!(
            e.is_empty(),
            "{}: {:#?}",
            f.display(),
            &e[..e.len().min(10)]
        );
    }
}

#[test]
fn other_form_is_valid() {
    for f in support::committed_files() {
        let doc = support::read(&f);
        let other = support::other_form(&doc);
        assert_ne!(doc, other, "the rewrite changed nothing");
        let e = errors(&other);
        assert!(
            e.is_empty(),
            "{}: {:#?}",
            f.display(),
            &e[..e.len().min(10)]
        );
    }
}

/// The first case of `kind` in the first committed file.
fn with_case(kind: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = support::read(&support::committed_files()[0]);
    let c = doc["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["kind"] == kind)
        .expect("a case of that kind");
    edit(c);
    doc
}

#[test]
fn broken_files_are_invalid() {
    let broken: Vec<(&str, Value)> = vec![
        (
            "unknown kind",
            with_case("crypto.sign", |c| c["kind"] = json!("crypto.sing")),
        ),
        (
            "odd hex",
            with_case("crypto.sign", |c| {
                c["input"]["message"] = json!({"hex": "abc"})
            }),
        ),
        (
            "non-hex",
            with_case("crypto.sign", |c| c["input"]["message"] = json!("zz")),
        ),
        (
            "a number for bytes",
            with_case("crypto.verify", |c| c["input"]["sig"] = json!(5)),
        ),
        (
            "misspelt input key",
            with_case("crypto.sha256", |c| {
                c["input"]["opt"] = json!({"bytes": true})
            }),
        ),
        (
            "unknown sha256 encoding",
            with_case("crypto.sha256", |c| {
                c["input"]["opts"] = json!({"encoding": "utf16"})
            }),
        ),
        (
            "two-key tag",
            with_case("validate.id", |c| {
                c["input"]["value"] = json!({"hex": "00", "str": "a"})
            }),
        ),
        (
            "bad tag",
            with_case("validate.id", |c| c["input"]["value"] = json!({"str": 5})),
        ),
        (
            "unknown validator",
            with_case("validate.id", |c| c["input"]["fn"] = json!("isValidId")),
        ),
        (
            "no sealed",
            with_case("api.pack", |c| {
                c["expected"]
                    .as_object_mut()
                    .unwrap()
                    .remove("sealed")
                    .map(|_| ())
                    .unwrap()
            }),
        ),
        (
            "quirk false",
            with_case("nat.classify", |c| c["quirk"] = json!(false)),
        ),
        (
            "string for a boolean",
            with_case("crypto.verify", |c| {
                c["expected"] = json!({"verified": "true"})
            }),
        ),
        (
            "no expected",
            with_case("cache.summary", |c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("expected")
                    .map(|_| ())
                    .unwrap()
            }),
        ),
        (
            "packet type 9",
            with_case("packet.encode", |c| c["input"]["fields"]["type"] = json!(9)),
        ),
    ];
    let mut no_fixed_now = support::read(&support::committed_files()[0]);
    no_fixed_now.as_object_mut().unwrap().remove("fixedNow");
    let mut bad_format = support::read(&support::committed_files()[0]);
    bad_format["format"] = json!("latica-oracle-vectors/2");
    for (what, doc) in broken
        .into_iter()
        .chain([("no fixedNow", no_fixed_now), ("other format", bad_format)])
    {
        assert!(!errors(&doc).is_empty(), "{what}: accepted");
    }
}

/// Changes one flow.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn the_flow_file_is_valid_and_broken_flows_are_not() {
    let doc = support::read(&support::vectors_dir().join("flows.json"));
    let e = errors(&doc);
    assert!(e.is_empty(), "{:#?}", &e[..e.len().min(10)]);
    let broken: Vec<(&str, Edit)> = vec![
        (
            "unknown input",
            Box::new(|f| f["steps"][0]["input"] = json!({"kind": "teleport"})),
        ),
        (
            "bad socket",
            Box::new(|f| {
                f["steps"][0]["expect"]["transmits"] =
                    json!([{"socket": "side", "remote": "192.0.2.1:1", "hex": "00"}])
            }),
        ),
        (
            "no timeout",
            Box::new(|f| {
                f["steps"][0]["expect"]
                    .as_object_mut()
                    .unwrap()
                    .remove("timeout");
            }),
        ),
        ("short seed", Box::new(|f| f["seed"] = json!("00"))),
        (
            "unknown event",
            Box::new(|f| f["steps"][0]["expect"]["events"] = json!([{"type": "Teleported"}])),
        ),
        (
            "extra step key",
            Box::new(|f| f["steps"][0]["when"] = json!(1)),
        ),
    ];
    for (what, edit) in broken {
        let mut d = doc.clone();
        edit(&mut d["flows"][0]);
        assert!(!errors(&d).is_empty(), "{what}: accepted");
    }
}
