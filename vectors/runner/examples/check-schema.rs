//! Validates vector files against `vectors/schema.json`:
//! `cargo run -p streamrelay-vectors --example check-schema -- FILE...`.
//! Prints each violation (file, case, JSON pointer, message) and ends with
//! `N valid, N invalid`; exits 1 when a file is invalid, 2 on an unreadable
//! file or schema.

use std::path::Path;
use std::process::ExitCode;

/// The schema beside the runner crate.
pub fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.json")
}

/// Builds the validator for `vectors/schema.json`.
pub fn validator() -> Result<jsonschema::Validator, String> {
    let p = schema_path();
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let schema: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    jsonschema::validator_for(&schema).map_err(|e| format!("{}: {e}", p.display()))
}

/// Every violation of `doc`, as `case NAME: /pointer: message` lines.
pub fn violations(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| {
            let at = e.instance_path().to_string();
            // Name the case when the pointer is inside one.
            let case = at
                .strip_prefix("/cases/")
                .and_then(|r| r.split('/').next())
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| doc["cases"][i]["name"].as_str())
                .map(|n| format!("case {n}: "))
                .unwrap_or_default();
            format!("{case}{at}: {e}")
        })
        .collect()
}

#[allow(dead_code)]
fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: check-schema FILE...");
        return ExitCode::from(2);
    }
    let v = match validator() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("schema: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut ok, mut bad, mut unreadable) = (0, 0, 0);
    for f in &files {
        let doc = match std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                println!("{f}: not readable as JSON: {e}");
                unreadable += 1;
                continue;
            }
        };
        let errs = violations(&v, &doc);
        if errs.is_empty() {
            ok += 1;
        } else {
            bad += 1;
            for e in errs.iter().take(50) {
                println!("{f}: {e}");
            }
            if errs.len() > 50 {
                println!("{f}: ... {} more", errs.len() - 50);
            }
        }
    }
    println!("{ok} valid, {} invalid", bad + unreadable);
    if unreadable > 0 {
        ExitCode::from(2)
    } else if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
