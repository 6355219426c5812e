//! Shared by the tests: the committed vector files, and a rewrite of a file
//! into "the other form" (every value written tagged becomes bare where the
//! field allows it, and every bare value becomes tagged), which a liberal
//! runner and the schema must both accept with the same meaning.

#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// `vectors/` of the repository.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed `latica-oracle-vectors/1` files.
pub fn committed_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("vectors/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.contains("\"format\": \"latica-oracle-vectors/1\""))
        })
        .collect();
    v.sort();
    assert!(
        !v.is_empty(),
        "no vector files in {}",
        vectors_dir().display()
    );
    v
}

/// Reads a JSON file.
pub fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

#[derive(Clone, Copy)]
enum Ty {
    Bytes,
    Text,
    Js,
    Bool,
    Num,
}

fn is_tag_like(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        ["hex", "str", "json", "undefined"]
            .iter()
            .any(|k| o.contains_key(*k))
    })
}

/// One value into its other form.
fn flip(v: &mut Value, ty: Ty) {
    let new = match ty {
        Ty::Bytes => match &*v {
            Value::String(s) => json!({ "hex": s }),
            Value::Object(o) if o.contains_key("hex") => o["hex"].clone(),
            _ => return,
        },
        Ty::Text => match &*v {
            Value::String(s) => json!({ "str": s }),
            Value::Object(o) if o.contains_key("str") => o["str"].clone(),
            _ => return,
        },
        Ty::Js => match &*v {
            Value::String(s) => json!({ "str": s }),
            Value::Object(o) if o.len() == 1 && o.contains_key("str") => o["str"].clone(),
            Value::Object(o) if o.len() == 1 && o.contains_key("json") => {
                let inner = &o["json"];
                if inner.is_string() || is_tag_like(inner) {
                    return;
                }
                inner.clone()
            }
            x if is_tag_like(x) => return,
            x => json!({ "json": x.clone() }),
        },
        Ty::Bool | Ty::Num => match &*v {
            Value::Bool(_) | Value::Number(_) => json!({ "json": v.clone() }),
            Value::Object(o) if o.contains_key("json") => o["json"].clone(),
            _ => return,
        },
    };
    *v = new;
}

fn at<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    v.as_object_mut()
        .and_then(|o: &mut Map<String, Value>| o.get_mut(key))
}

fn flip_keys(v: &mut Value, keys: &[&str], ty: Ty) {
    for k in keys {
        if let Some(x) = at(v, k) {
            flip(x, ty);
        }
    }
}

use streamrelay_vectors::js::NAMES as PACKET_BYTES;

fn flip_decoded(d: &mut Value) {
    if d.is_object() {
        flip_keys(d, &PACKET_BYTES[..], Ty::Bytes);
    }
}

/// Rewrites every case of a file into the other form.
pub fn other_form(doc: &Value) -> Value {
    let mut doc = doc.clone();
    for c in doc["cases"].as_array_mut().expect("cases") {
        let kind = c["kind"].as_str().unwrap_or_default().to_string();
        let (mut input, mut exp) = (c["input"].take(), c["expected"].take());
        match kind.as_str() {
            "packet.encode" => {
                if let Some(f) = at(&mut input, "fields") {
                    flip_keys(f, &PACKET_BYTES[..], Ty::Js);
                }
                flip_keys(&mut exp, &["hex"], Ty::Bytes);
                flip_keys(&mut exp, &["decodeAccepted"], Ty::Bool);
                if let Some(d) = at(&mut exp, "decoded") {
                    flip_decoded(d);
                }
            }
            "packet.decode" => {
                flip_keys(&mut input, &["hex"], Ty::Bytes);
                flip_keys(&mut exp, &["accepted"], Ty::Bool);
                if let Some(d) = at(&mut exp, "decoded") {
                    flip_decoded(d);
                }
                if let Some(r) = at(&mut exp, "reencoded") {
                    flip_keys(r, &["hex"], Ty::Bytes);
                }
            }
            "crypto.createKeyPair" | "crypto.createSharedKey" => {
                flip_keys(&mut input, &["seed"], Ty::Js);
                flip_keys(
                    &mut exp,
                    &[
                        "publicKey",
                        "privateKey",
                        "curve25519PublicKey",
                        "curve25519SecretKey",
                        "sharedKey",
                    ],
                    Ty::Bytes,
                );
            }
            "crypto.createClusterId" | "crypto.createId" => {
                flip_keys(&mut input, &["value"], Ty::Js);
                flip_keys(&mut exp, &["clusterId"], Ty::Bytes);
                flip_keys(&mut exp, &["id"], Ty::Text);
            }
            "crypto.sha256" => {
                flip_keys(&mut input, &["value"], Ty::Js);
                let bytes = input.pointer("/opts/bytes") == Some(&Value::Bool(true));
                if let Some(o) = at(&mut input, "opts") {
                    flip_keys(o, &["bytes"], Ty::Bool);
                }
                flip_keys(
                    &mut exp,
                    &["output"],
                    if bytes { Ty::Bytes } else { Ty::Text },
                );
            }
            "crypto.sign" | "crypto.verify" => {
                flip_keys(
                    &mut input,
                    &["message", "privateKey", "sig", "publicKey"],
                    Ty::Bytes,
                );
                flip_keys(&mut exp, &["sig"], Ty::Bytes);
                flip_keys(&mut exp, &["verified"], Ty::Bool);
            }
            "crypto.open" | "crypto.openUnsigned" => {
                flip_keys(&mut input, &["ciphertext"], Ty::Bytes);
                if let Some(k) = at(&mut input, "keys") {
                    flip_keys(k, &["publicKey", "privateKey"], Ty::Bytes);
                }
                flip_keys(&mut exp, &["plaintext"], Ty::Bytes);
            }
            "api.pack" => {
                flip_keys(
                    &mut input,
                    &["signingSeed", "clusterIdSeed", "sharedKeySeed"],
                    Ty::Text,
                );
                flip_keys(&mut input, &["eventName", "value"], Ty::Js);
                if let Some(o) = at(&mut input, "opts") {
                    flip_keys(o, &["ttl"], Ty::Num);
                    if let Some(p) = at(o, "packet") {
                        flip_keys(p, &["packetId"], Ty::Bytes);
                        flip_keys(p, &["clock"], Ty::Num);
                    }
                }
                if let Some(k) = at(&mut exp, "signingKeys") {
                    flip_keys(k, &["publicKey", "privateKey"], Ty::Bytes);
                }
                flip_keys(
                    &mut exp,
                    &[
                        "clusterId",
                        "sharedKey",
                        "subclusterId",
                        "usr1",
                        "usr2",
                        "sig",
                        "plaintext",
                        "sealed",
                    ],
                    Ty::Bytes,
                );
                flip_keys(&mut exp, &["verified"], Ty::Bool);
                for p in exp
                    .get_mut("packets")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    flip_keys(p, &["hex"], Ty::Bytes);
                    if let Some(f) = at(p, "fields") {
                        flip_decoded(f);
                    }
                }
                for r in exp
                    .get_mut("returned")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    flip_keys(r, &["packetId"], Ty::Bytes);
                    flip_keys(r, &["isComposed"], Ty::Bool);
                }
                for d in exp
                    .get_mut("delivered")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    flip_keys(d, &["eventName", "payload", "packetId"], Ty::Bytes);
                    flip_keys(d, &["verified"], Ty::Bool);
                }
            }
            "nat.connectionStrategy" => {
                flip_keys(&mut input, &["a", "b"], Ty::Js);
                flip_keys(&mut exp, &["strategy"], Ty::Num);
                flip_keys(&mut exp, &["name"], Ty::Text);
            }
            "nat.classify" => {
                flip_keys(&mut input, &["natType"], Ty::Js);
                flip_keys(
                    &mut exp,
                    &[
                        "isValid",
                        "isEndpointDependenceDefined",
                        "isFirewallDefined",
                    ],
                    Ty::Bool,
                );
                flip_keys(&mut exp, &["name"], Ty::Text);
            }
            "cache.summary" => {
                for id in input
                    .get_mut("packetIds")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    flip(id, Ty::Text);
                }
                flip_keys(&mut input, &["prefix"], Ty::Text);
                flip_keys(&mut exp, &["encoded"], Ty::Bytes);
            }
            "cache.decodeSummary" => flip_keys(&mut input, &["hex"], Ty::Bytes),
            "validate.id" => {
                flip_keys(&mut input, &["value"], Ty::Js);
                flip_keys(&mut exp, &["result"], Ty::Bool);
            }
            _ => {}
        }
        c["input"] = input;
        c["expected"] = exp;
    }
    doc
}
