//! `streamrelay sim`: run a simulator scenario (built-in or a TOML file)
//! over one or more seeds, for each fan-out policy, and print the summary
//! table (or JSON) and write the SVG plot.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::scenario::{Kind, Scenario, BUILTIN};

fn load(name: &str, sets: &[String]) -> Result<Scenario, String> {
    Scenario::load(name, sets)
}
use streamrelay_sim::{matrix, plot, report, run_many_with_progress};

/// Arguments of `streamrelay sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    /// A built-in scenario (figure-a, ratio, nat-matrix, scale) or a TOML
    /// file.
    #[arg(default_value = "figure-a")]
    pub scenario: String,
    /// Average over this many seeds (seed, seed+1, …).
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print a JSON summary instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// Also write every run's full result (time series included) as JSON
    /// lines to this file.
    #[arg(long)]
    pub runs_out: Option<PathBuf>,
    /// Where to write the SVG plot (default: `<scenario>.svg`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not write a plot.
    #[arg(long)]
    pub no_plot: bool,
    /// Fan-out policies to run, comma-separated (default: the scenario's,
    /// normally `random,weighted`).
    #[arg(long, value_delimiter = ',')]
    pub policy: Vec<String>,
    /// The core's protocol profile for every peer: `default` (improved) or
    /// `reference` (the protocol as the reference runs it); overrides the
    /// scenario's `protocol.profile`.
    #[arg(long, value_parser = ["default", "improved", "reference"])]
    pub profile: Option<String>,
    /// Override a scenario field, e.g. `--set population.initial=50` or
    /// `--set protocol.behaviour.heartbeat_peers=8` (TOML values).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Do not run: summarise (and plot) runs saved earlier with
    /// `--runs-out` (JSON lines; several files are merged).
    #[arg(long, value_name = "FILE")]
    pub from_runs: Vec<PathBuf>,
    /// Worker threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list: bool,
    /// Print the scenario (after overrides) as TOML and exit.
    #[arg(long)]
    pub show: bool,
}

/// Runs `streamrelay sim`.
pub fn run(a: &SimArgs) -> ExitCode {
    match run_inner(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streamrelay sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(a: &SimArgs) -> Result<(), String> {
    if a.list {
        for (name, text) in BUILTIN {
            let s = Scenario::from_toml(text)?;
            println!("{name:<12} {}", s.description);
        }
        return Ok(());
    }
    let mut sets = a.set.clone();
    if let Some(p) = &a.profile {
        let p = streamrelay::peer::Profile::from_name(p).ok_or("unknown profile")?;
        sets.push(format!("protocol.profile=\"{}\"", p.name()));
    }
    let mut scn = load(&a.scenario, &sets)?;
    if !a.policy.is_empty() {
        for p in &a.policy {
            FanoutPolicy::parse(p)?;
        }
        scn.protocol.policies = a.policy.clone();
    }
    if a.show {
        print!("{}", scn.to_toml());
        return Ok(());
    }
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let seeds: Vec<u64> = (0..a.seeds.max(1)).map(|i| a.seed + i).collect();
    let t0 = Instant::now();
    if scn.kind == Kind::NatMatrix {
        let cells = matrix::run_matrix(&scn, a.seed);
        if a.json {
            println!("{}", matrix::matrix_json(&cells));
        } else {
            print!("{}", matrix::matrix_table(&scn, &cells));
        }
        eprintln!("wall time {:.2} s", t0.elapsed().as_secs_f64());
        return Ok(());
    }
    let runs = if a.from_runs.is_empty() {
        let policies = streamrelay_sim::policies(&scn);
        let bar = progress_bar(a.json, (seeds.len() * policies.len()) as u64, &scn.name);
        let runs = run_many_with_progress(&scn, &seeds, &policies, threads, &|done, _| {
            bar.set_position(done as u64)
        });
        bar.finish_and_clear();
        runs
    } else {
        let mut runs = Vec::new();
        for p in &a.from_runs {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            runs.extend(
                report::runs_from_json_lines(&text).map_err(|e| format!("{}: {e}", p.display()))?,
            );
        }
        runs
    };
    let sums = report::summarize(&runs);
    if a.json {
        println!("{}", report::json(&scn, &sums));
    } else {
        print!("{}", report::table(&scn, &sums));
        print!("{}", report::island_table(&runs));
    }
    if let Some(p) = &a.json_out {
        std::fs::write(p, report::json(&scn, &sums) + "\n")
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &a.runs_out {
        let mut text = String::new();
        for r in &runs {
            text.push_str(&report::run_json(r));
            text.push('\n');
        }
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    for r in &runs {
        if let Some(why) = &r.aborted {
            eprintln!("seed {} ({}): {why}", r.seed, r.policy);
        }
    }
    if !a.no_plot {
        let out = a
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.svg", scn.name)));
        plot::write_svg(&out, &scn, &runs)?;
        eprintln!("plot: {}", out.display());
    }
    eprintln!(
        "{} run(s) in {:.2} s wall time",
        runs.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs done of total, elapsed and an estimate, on stderr — only when
/// stderr is a terminal and the output is not `--json`; hidden otherwise.
fn progress_bar(json: bool, total: u64, name: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:24} {pos}/{len} runs  elapsed {elapsed_precise}  left ~{eta_precise}",
        )
        .expect("a valid template"),
    );
    bar.set_message(name.to_string());
    // A run can take minutes (`scale`): keep the elapsed time moving.
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply() {
        let s = load(
            "figure-a",
            &[
                "population.initial=7".into(),
                "protocol.profile=reference".into(),
                "protocol.behaviour.join_relay_hops=2".into(),
                "name=\"x\"".into(),
            ],
        )
        .unwrap();
        assert_eq!(s.population.initial, 7);
        assert_eq!(s.protocol.profile, streamrelay::peer::Profile::Reference);
        let b = s.protocol.resolved_behaviour().unwrap();
        assert_eq!(b.join_relay_hops, 2);
        assert!(
            b.relay_rendezvous_replies,
            "the reference's, but for the override"
        );
        assert!(load("figure-a", &["protocol.behaviour.nope=1".into()]).is_err());
        assert_eq!(s.name, "x");
        assert!(load("figure-a", &["nope".into()]).is_err());
        assert!(load("figure-a", &["population.nope=1".into()]).is_err());
    }
}
