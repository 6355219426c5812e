//! The golden-vector runner: byte-level vectors (`latica-oracle-vectors/1`)
//! and flow vectors (`streamrelay-flows/1`), both described in the
//! repository's `vectors/README.md` and `vectors/schema.json`.
//!
//! Each case is run through the `streamrelay` core and compared with what the
//! reference produced. Cases marked `quirk` that we deliberately do not
//! reproduce are reported as documented deviations naming an entry of
//! `docs/compat.md`; nothing is skipped silently.
//!
//! ```no_run
//! let report = streamrelay_vectors::check_file("vectors/reference-seed-1.json".as_ref(), &[]).unwrap();
//! println!("{}", report.summary_line());
//! ```

use std::fmt::Write as _;
use std::path::Path;

use streamrelay::wire::json::JsValue;

mod crypto_kinds;
pub mod flows;
pub mod js;
mod jsv;
mod kinds;
pub mod read;

pub use jsv::*;

/// The format tag a vector file must carry.
pub const FORMAT: &str = "latica-oracle-vectors/1";

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Matches the reference.
    Pass,
    /// Differs; the text says where.
    Fail(String),
    /// A value of the case cannot be read (the text names the field): the
    /// case is not in the format. Counted as failed.
    Format(String),
    /// A quirk we deliberately do not reproduce; names the compat.md anchor.
    Deviation {
        /// Anchor in docs/compat.md.
        anchor: &'static str,
        /// What differs.
        detail: String,
    },
}

impl Outcome {
    pub(crate) fn fail(s: impl Into<String>) -> Self {
        Outcome::Fail(s.into())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Pass => f.write_str("pass"),
            Outcome::Fail(s) => f.write_str(s),
            Outcome::Format(s) => write!(f, "format error: {s}"),
            Outcome::Deviation { anchor, detail } => {
                write!(f, "{detail} (docs/compat.md#{anchor})")
            }
        }
    }
}

/// Why a file could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Not JSON, or not in the format.
    #[error("{path} is not a {FORMAT} file: {why}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// Results of one or more files.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases that matched.
    pub passed: usize,
    /// Cases that did not (including kinds not implemented yet).
    pub failed: usize,
    /// Documented deviations.
    pub deviations: usize,
    /// Failed cases whose values could not be read (counted in `failed`).
    pub format_errors: usize,
    /// Cases left out by `--only`.
    pub not_selected: usize,
    /// One line per failure and per deviation.
    pub lines: Vec<String>,
}

impl Report {
    /// The final line the format asks for.
    pub fn summary_line(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.deviations > 0 {
            let _ = write!(s, ", {} deviations", self.deviations);
        }
        s
    }

    /// Adds another report.
    pub fn merge(&mut self, o: Report) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.deviations += o.deviations;
        self.format_errors += o.format_errors;
        self.not_selected += o.not_selected;
        self.lines.extend(o.lines);
    }
}

/// Runs every case of a file. `only` restricts to kinds starting with one of
/// the given prefixes (empty: all); the others are counted as not selected.
pub fn check_file(path: &Path, only: &[String]) -> Result<Report, FileError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| FileError::Io {
        path: p.clone(),
        source,
    })?;
    check_bytes(&bytes, &p, only)
}

/// As [`check_file`], on the file's bytes.
pub fn check_bytes(bytes: &[u8], name: &str, only: &[String]) -> Result<Report, FileError> {
    let bad = |why: String| FileError::Format {
        path: name.to_string(),
        why,
    };
    let doc = streamrelay::wire::json::parse(bytes).map_err(|e| bad(e.to_string()))?;
    match get(&doc, "format").and_then(as_str).as_deref() {
        Some(FORMAT) => {}
        Some(flows::FORMAT) => return check_flows(&doc, only).map_err(bad),
        _ => return Err(bad("missing or wrong \"format\"".into())),
    }
    let cases = get(&doc, "cases")
        .and_then(as_array)
        .ok_or_else(|| bad("no \"cases\" array".into()))?;
    let fixed_now = match get(&doc, "fixedNow") {
        Some(JsValue::Number(n)) if *n >= 0.0 => *n as u64,
        _ => return Err(bad("no \"fixedNow\"".into())),
    };
    let mut r = Report::default();
    for (i, case) in cases.iter().enumerate() {
        let name = get(case, "name")
            .and_then(as_str)
            .unwrap_or_else(|| format!("#{i}"));
        let kind = get(case, "kind").and_then(as_str).unwrap_or_default();
        if !only.is_empty() && !only.iter().any(|o| kind.starts_with(o.as_str())) {
            r.not_selected += 1;
            continue;
        }
        let quirk = get(case, "quirk").and_then(as_bool).unwrap_or(false);
        let outcome = match (get(case, "input"), get(case, "expected")) {
            (Some(input), Some(expected)) => {
                std::panic::catch_unwind(|| kinds::run(&kind, input, expected, fixed_now))
                    .unwrap_or_else(|_| Outcome::fail("the runner panicked"))
            }
            (None, _) => Outcome::Format("input: missing".into()),
            (_, None) => Outcome::Format("expected: missing".into()),
        };
        r.record(&name, &kind, quirk, outcome);
    }
    Ok(r)
}

/// The kind a flow counts as (for `--only`).
pub const FLOW_KIND: &str = "peer.flow";

/// Replays every flow of a `streamrelay-flows/1` file.
fn check_flows(doc: &JsValue, only: &[String]) -> Result<Report, String> {
    let list = get(doc, "flows")
        .and_then(as_array)
        .ok_or("no \"flows\" array")?;
    let mut r = Report::default();
    for (i, flow) in list.iter().enumerate() {
        let name = get(flow, "name")
            .and_then(as_str)
            .unwrap_or_else(|| format!("#{i}"));
        if !only.is_empty() && !only.iter().any(|o| FLOW_KIND.starts_with(o.as_str())) {
            r.not_selected += 1;
            continue;
        }
        let outcome = std::panic::catch_unwind(|| flows::replay(flow))
            .unwrap_or_else(|_| Outcome::fail("the runner panicked"));
        r.record(&name, FLOW_KIND, false, outcome);
    }
    Ok(r)
}

impl Report {
    /// Counts one outcome and writes its line.
    fn record(&mut self, name: &str, kind: &str, quirk: bool, outcome: Outcome) {
        let r = self;
        match outcome {
            Outcome::Pass => r.passed += 1,
            Outcome::Deviation { anchor, detail } if quirk => {
                r.deviations += 1;
                r.lines.push(format!(
                    "DEVIATION {name} ({kind}): {detail} — see docs/compat.md#{anchor}"
                ));
            }
            Outcome::Deviation { anchor, detail } => {
                r.failed += 1;
                r.lines.push(format!(
                    "FAIL {name} ({kind}): {detail} (a deviation, docs/compat.md#{anchor}, but the case is not marked quirk)"
                ));
            }
            Outcome::Format(why) => {
                r.failed += 1;
                r.format_errors += 1;
                r.lines.push(format!("FORMAT ERROR {name} ({kind}): {why}"));
            }
            Outcome::Fail(why) => {
                r.failed += 1;
                r.lines.push(format!("FAIL {name} ({kind}): {why}"));
            }
        }
    }
}
