//! The flow vectors: `vectors/flows.json` is what the generator writes today
//! (CI fails on a stale file), it replays, and a replay notices a changed
//! byte, a changed event, a changed deadline and an unreadable value.

#[path = "../examples/flows.rs"]
mod generator;
mod support;

use serde_json::{json, Value};
use streamrelay_vectors::{check_bytes, Report};

fn committed() -> String {
    std::fs::read_to_string(support::vectors_dir().join("flows.json")).expect("vectors/flows.json")
}

#[test]
fn the_committed_file_is_fresh() {
    assert!(
        generator::generate() == committed(),
        "vectors/flows.json is stale: cargo run -p streamrelay-vectors --example flows -- --out vectors/flows.json"
    );
}

fn run(doc: &Value) -> Report {
    check_bytes(&serde_json::to_vec(doc).unwrap(), "flows", &[]).expect("a flow file")
}

#[test]
fn every_flow_replays() {
    let r = check_bytes(committed().as_bytes(), "flows.json", &[]).expect("a flow file");
    assert_eq!(r.failed, 0, "{:#?}", r.lines);
    assert!(r.passed >= 10, "{} flows", r.passed);
}

/// The first flow with a step that has a transmit, edited there.
fn edited(edit: impl FnOnce(&mut Value)) -> Report {
    let mut doc: Value = serde_json::from_str(&committed()).unwrap();
    let flow = doc["flows"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["name"] == "subcluster/alice")
        .unwrap();
    let mut one = flow.clone();
    edit(&mut one);
    doc["flows"] = json!([one]);
    run(&doc)
}

fn step_with_transmit(flow: &mut Value) -> &mut Value {
    flow["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| !s["expect"]["transmits"].as_array().unwrap().is_empty())
        .unwrap()
}

#[test]
fn a_replay_notices_every_difference() {
    let r = edited(|f| {
        let t = &mut step_with_transmit(f)["expect"]["transmits"][0]["hex"];
        let mut h = t.as_str().unwrap().to_string();
        let last = if h.ends_with('0') { "1" } else { "0" };
        h.replace_range(h.len() - 1.., last);
        *t = json!(h);
    });
    assert_eq!(
        (r.passed, r.failed, r.format_errors),
        (0, 1, 0),
        "{:?}",
        r.lines
    );
    assert!(r.lines[0].contains("transmits[0]"), "{}", r.lines[0]);

    let r = edited(|f| {
        let s = f["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| !s["expect"]["events"].as_array().unwrap().is_empty())
            .unwrap();
        s["expect"]["events"][0]["type"] = json!("Closed");
    });
    assert_eq!((r.failed, r.format_errors), (1, 0), "{:?}", r.lines);
    assert!(r.lines[0].contains("events[0]"), "{}", r.lines[0]);

    let r = edited(|f| {
        let t = &mut f["steps"][0]["expect"]["timeout"];
        *t = json!(t.as_f64().unwrap_or(0.0) + 1.0);
    });
    assert_eq!((r.failed, r.format_errors), (1, 0), "{:?}", r.lines);
    assert!(r.lines[0].contains("timeout"), "{}", r.lines[0]);

    let r = edited(|f| f["config"]["keepaliveMs"] = json!(1));
    assert_eq!(r.failed, 1, "a config change must show: {:?}", r.lines);
}

#[test]
fn an_unreadable_value_is_a_format_error() {
    for (edit, field) in [
        (
            Box::new(|f: &mut Value| f["steps"][1]["input"] = json!({"kind": "teleport"}))
                as Box<dyn FnOnce(&mut Value)>,
            "steps[1].input.kind",
        ),
        (
            Box::new(|f: &mut Value| f["config"]["limits"]["maxPeerz"] = json!(1)),
            "flow.config.limits.maxPeerz",
        ),
        (
            Box::new(|f: &mut Value| f["seed"] = json!("00")),
            "flow.seed",
        ),
        (
            Box::new(|f: &mut Value| {
                let s = step_with_transmit(f);
                s["input"]["socket"] = json!("side-door");
            }),
            ".input.socket",
        ),
    ] {
        let r = edited(edit);
        assert_eq!(
            (r.failed, r.format_errors),
            (1, 1),
            "{field}: {:?}",
            r.lines
        );
        assert!(r.lines[0].contains(field), "{field}: {}", r.lines[0]);
    }
}
