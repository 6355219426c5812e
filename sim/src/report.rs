//! Summary tables and JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::metrics::{RunResult, Summary};
use crate::scenario::Scenario;

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "—".into())
}

/// The summary table: one column per policy, the published value beside.
pub fn table(scn: &Scenario, sums: &[Summary]) -> String {
    let mut s = String::new();
    let seeds = sums.first().map(|x| x.seeds.len()).unwrap_or(0);
    let plane = sums.first().map(|x| x.plane.as_str()).unwrap_or("");
    let _ = writeln!(
        s,
        "scenario {} — {} seed(s), data plane: {plane}, profile: {}",
        scn.name,
        seeds,
        scn.protocol.profile.name()
    );
    if !scn.description.is_empty() {
        let _ = writeln!(s, "{}", scn.description);
    }
    let mut head = String::from("| metric | published |");
    let mut rule = String::from("|---|---:|");
    for x in sums {
        let _ = write!(head, " {} |", x.policy);
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "\n{head}\n{rule}");
    let p = &scn.published;
    let mut row = |name: &str, published: String, f: &dyn Fn(&Summary) -> String| {
        let mut line = format!("| {name} | {published} |");
        for x in sums {
            let _ = write!(line, " {} |", f(x));
        }
        let _ = writeln!(s, "{line}");
    };
    row(
        "delivered before any query",
        opt_pct(p.delivered_before_query),
        &|x| {
            format!(
                "{} (±{:.2}, min {})",
                pct(x.delivered_before_query),
                x.before_stat.std * 100.0,
                pct(x.before_stat.min)
            )
        },
    );
    row(
        "… of those ready ≥ 1 s before queries",
        "—".into(),
        &|x| pct(x.delivered_before_query_settled),
    );
    row("… counting subscribers that left", "—".into(), &|x| {
        pct(x.delivered_before_query_all)
    });
    row(
        "delivered after queries",
        opt_pct(p.delivered_after_query),
        &|x| {
            format!(
                "{} (min {})",
                pct(x.delivered_after_query),
                pct(x.after_stat.min)
            )
        },
    );
    row("runs with 100% before query", "—".into(), &|x| {
        pct(x.runs_all_before)
    });
    row("runs with 100% after queries", "—".into(), &|x| {
        pct(x.runs_all_after)
    });
    row(
        "time to delivery mean / p50 / p99 (ms)",
        p.mean_delivery_ms
            .map(|m| format!("{m:.0} (mean)"))
            .unwrap_or_else(|| "—".into()),
        &|x| {
            format!(
                "{:.0} / {:.0} / {:.0}",
                x.mean_delivery_ms, x.p50_delivery_ms, x.p99_delivery_ms
            )
        },
    );
    row(
        "data-plane cost per peer (MB)",
        p.mb_per_peer
            .map(|m| format!("{m}"))
            .unwrap_or_else(|| "—".into()),
        &|x| format!("{:.5}", x.mb_per_peer),
    );
    row("all bytes sent per peer", "—".into(), &|x| {
        format!("{:.0}", x.bytes_per_peer)
    });
    row(
        "steady state: bytes/s, wake-ups/min per peer",
        "—".into(),
        &|x| {
            format!(
                "{:.1} / {:.2}",
                x.steady_bytes_per_peer_s, x.steady_wakeups_per_peer_min
            )
        },
    );
    row("relative message redundancy", "—".into(), &|x| {
        format!("{:.2}", x.redundancy)
    });
    row("peers (distinct, mean)", "—".into(), &|x| {
        format!("{:.1}", x.peers)
    });
    row("online (time-averaged)", "—".into(), &|x| {
        format!("{:.1}", x.mean_online)
    });
    row(
        "network change (members)",
        p.network_change_pct
            .map(|c| format!("{c:.0}%"))
            .unwrap_or_else(|| "—".into()),
        &|x| format!("{:.0}%", x.network_change_pct),
    );
    row("connection change (links)", "—".into(), &|x| {
        format!("{:.0}%", x.connection_change_pct)
    });
    row("cache occupancy (mean packets)", "—".into(), &|x| {
        format!("{:.2}", x.cache_mean)
    });
    if !p.source.is_empty() {
        let _ = writeln!(s, "\npublished: {}", p.source);
    }
    let mut keys: Vec<&String> = sums.iter().flat_map(|x| x.drops.keys()).collect();
    keys.sort();
    keys.dedup();
    if !keys.is_empty() {
        let _ = writeln!(s, "\ndrops per run by cause:");
        for k in keys {
            let mut line = format!("  {k:<28}");
            for x in sums {
                let v = x.drops.get(k).copied().unwrap_or(0) as f64 / x.seeds.len().max(1) as f64;
                let _ = write!(line, " {:>12.1}", v);
            }
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

#[derive(Serialize)]
struct JsonOut<'a> {
    scenario: &'a str,
    seeds: usize,
    plane: &'a str,
    published: &'a crate::scenario::Published,
    policies: Vec<JsonPolicy<'a>>,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    policy: &'a str,
    delivered_before_query: f64,
    delivered_after_query: f64,
    delivered_before_query_all: f64,
    delivered_before_query_settled: f64,
    mean_delivery_ms: f64,
    p50_delivery_ms: f64,
    p99_delivery_ms: f64,
    bytes_per_peer: f64,
    data_bytes_per_peer: f64,
    mb_per_peer: f64,
    redundancy: f64,
    network_change_pct: f64,
    cache_mean: f64,
    summary: &'a Summary,
}

/// The JSON summary (`--json`): the headline fields per policy, and the
/// full averages under `summary`.
pub fn json(scn: &Scenario, sums: &[Summary]) -> String {
    let out = JsonOut {
        scenario: &scn.name,
        seeds: sums.first().map(|x| x.seeds.len()).unwrap_or(0),
        plane: sums.first().map(|x| x.plane.as_str()).unwrap_or(""),
        published: &scn.published,
        policies: sums
            .iter()
            .map(|x| JsonPolicy {
                policy: &x.policy,
                delivered_before_query: x.delivered_before_query,
                delivered_after_query: x.delivered_after_query,
                delivered_before_query_all: x.delivered_before_query_all,
                delivered_before_query_settled: x.delivered_before_query_settled,
                mean_delivery_ms: x.mean_delivery_ms,
                p50_delivery_ms: x.p50_delivery_ms,
                p99_delivery_ms: x.p99_delivery_ms,
                bytes_per_peer: x.bytes_per_peer,
                data_bytes_per_peer: x.data_bytes_per_peer,
                mb_per_peer: x.mb_per_peer,
                redundancy: x.redundancy,
                network_change_pct: x.network_change_pct,
                cache_mean: x.cache_mean,
                summary: x,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&out).expect("serialisable")
}

/// One run as a line of JSON.
pub fn run_json(r: &RunResult) -> String {
    serde_json::to_string(r).expect("serialisable")
}

/// Runs saved as JSON lines (`run_json`), in order.
pub fn runs_from_json_lines(text: &str) -> Result<Vec<RunResult>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
        .collect()
}

/// Groups runs by policy (in first-seen order) and averages each group.
pub fn summarize(runs: &[RunResult]) -> Vec<Summary> {
    let mut order: Vec<String> = Vec::new();
    for r in runs {
        if !order.contains(&r.policy) {
            order.push(r.policy.clone());
        }
    }
    order
        .iter()
        .map(|p| {
            let group: Vec<RunResult> = runs.iter().filter(|r| &r.policy == p).cloned().collect();
            Summary::of(&group)
        })
        .collect()
}

/// The island's table (scenarios with `[island]`): one row per run.
pub fn island_table(runs: &[RunResult]) -> String {
    use std::fmt::Write as _;
    let rows: Vec<(&RunResult, &crate::world::IslandReport)> = runs
        .iter()
        .filter_map(|r| r.island.as_ref().map(|i| (r, i)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let pct = |(d, n): (u64, u64)| {
        if n == 0 {
            "-".to_string()
        } else {
            format!("{:.1}% ({d}/{n})", 100.0 * d as f64 / n as f64)
        }
    };
    let mut s = String::from(
        "\nisland: seed policy | internet->island | island->internet | inside island | p50/p99 ms (to island, to internet, inside) | bridge online s | link bytes mean/max | peak B/s | link drops\n",
    );
    for (r, i) in rows {
        let _ = writeln!(
            s,
            "  {} {} | {} | {} | {} | {}/{}, {}/{}, {}/{} | {} | {}/{} | {} | {}",
            r.seed,
            r.policy,
            pct(i.to_island),
            pct(i.to_internet),
            pct(i.inside),
            i.to_island_ms.0,
            i.to_island_ms.1,
            i.to_internet_ms.0,
            i.to_internet_ms.1,
            i.inside_ms.0,
            i.inside_ms.1,
            i.bridge_online_ms / 1000,
            i.link_bytes_mean,
            i.link_bytes_max,
            i.link_peak_rate,
            i.link_drops,
        );
    }
    s
}
