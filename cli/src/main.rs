//! `streamrelay`: the command-line tool.
//!
//! * `streamrelay decode HEX|-` — a packet as pretty JSON (JSON messages parsed)
//! * `streamrelay encode FILE|-` — JSON (the decode output, or the vectors'
//!   `fields` form) back to hex
//! * `streamrelay vectors check FILE...` — the golden-vector and flow-vector
//!   runner (`vectors/README.md`)
//! * `streamrelay sim [SCENARIO]` — the network simulator (`figure-a`,
//!   `ratio`, `nat-matrix`, `scale`, or a TOML file): summary table or
//!   JSON, and an SVG plot

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use streamrelay::wire::json::JsValue;
use streamrelay_vectors::js;

mod peer;
mod pretty;
mod sim;

#[derive(Parser)]
#[command(
    name = "streamrelay",
    version,
    about = "Stream Relay v6 (Latica) tools"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode a packet given as hex (or `-` for hex on stdin) to pretty JSON.
    Decode {
        /// Hex of the datagram, or `-`.
        hex: String,
    },
    /// Encode a packet described as JSON (a file, or `-` for stdin) to hex.
    Encode {
        /// JSON file, or `-`.
        file: String,
    },
    /// Golden test vectors.
    Vectors {
        #[command(subcommand)]
        cmd: VectorsCmd,
    },
    /// Run a network simulation scenario (built-in or TOML).
    Sim(sim::SimArgs),
    /// Run a real peer on UDP sockets (JSON event lines on stdout).
    Peer(Box<peer::PeerArgs>),
}

#[derive(Subcommand)]
enum VectorsCmd {
    /// Run vector files (formats latica-oracle-vectors/1 and
    /// streamrelay-flows/1, see vectors/README.md) against this library.
    Check {
        /// Only run kinds starting with one of these (comma-separated), e.g.
        /// `packet.,nat.`; the others are counted and reported as not selected.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Vector files.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

fn read_arg(arg: &str) -> Result<Vec<u8>, String> {
    if arg == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| e.to_string())?;
        Ok(v)
    } else {
        Ok(arg.as_bytes().to_vec())
    }
}

fn decode(arg: &str) -> Result<String, String> {
    let text = String::from_utf8(read_arg(arg)?).map_err(|_| "hex input is not text")?;
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = js::hex_decode_strict(&clean).map_err(|e| format!("bad hex: {e}"))?;
    let p = streamrelay::wire::PacketRef::decode(&bytes)
        .map_err(|e| format!("not a valid packet: {e}"))?;
    let jp = js::from_ref(&p);
    let mut out = pretty::decoded(&p, &jp);
    out.push('\n');
    Ok(out)
}

/// Byte fields may be plain hex strings (as `decode` prints them) or tagged
/// values (`{"hex"}`, `{"str"}`, `{"json"}`).
fn encode(file: &str) -> Result<String, String> {
    let text = if file == "-" {
        read_arg("-")?
    } else {
        std::fs::read(file).map_err(|e| format!("{file}: {e}"))?
    };
    let v = streamrelay::wire::json::parse(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    let fields = pretty::fields_from_json(&v)?;
    let p = js::construct(&fields)?;
    match js::encode(&p)? {
        js::Encoded::Frame(b) => Ok(format!("{}\n", js::hex(&b))),
        other => Err(format!("cannot encode: {other:?}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Decode { hex } => decode(&hex).map(|s| print!("{s}")),
        Cmd::Encode { file } => encode(&file).map(|s| print!("{s}")),
        Cmd::Vectors {
            cmd: VectorsCmd::Check { only, files },
        } => return vectors_check(&only, &files),
        Cmd::Sim(args) => return sim::run(&args),
        Cmd::Peer(args) => return peer::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streamrelay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn vectors_check(only: &[String], files: &[String]) -> ExitCode {
    let mut total = streamrelay_vectors::Report::default();
    let mut bad_file = false;
    for f in files {
        match streamrelay_vectors::check_file(f.as_ref(), only) {
            Ok(r) => total.merge(r),
            Err(e) => {
                eprintln!("{e}");
                bad_file = true;
            }
        }
    }
    for l in &total.lines {
        println!("{l}");
    }
    if total.not_selected > 0 {
        println!(
            "{} cases not selected (--only {})",
            total.not_selected,
            only.join(",")
        );
    }
    println!("{}", total.summary_line());
    if bad_file || total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[allow(dead_code)]
fn _assert_types(_: JsValue) {}
