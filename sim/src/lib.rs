//! # streamrelay-sim
//!
//! A deterministic discrete-event network simulator for `streamrelay`
//! peers. It drives many [`streamrelay::peer::Peer`]s with virtual time over
//! a modelled Internet: hosts behind NAT boxes of every RFC 4787 kind
//! (mapping timeouts, hairpinning, random port allocation), links with
//! latency, jitter, uniform and bursty (Gilbert–Elliott) loss, reordering
//! and duplication, partitions that heal, and churn (arrivals, departures,
//! and mobile apps that sleep and wake with their state via
//! `snapshot`/`restore`). One seed gives one exact run.
//!
//! | module | what |
//! |---|---|
//! | [`scenario`] | scenarios as TOML data (built-ins in `sim/scenarios/`) |
//! | [`rng`] | the run's single seeded generator and its distributions |
//! | [`queue`] | the event queue, ordered by (time, sequence number) |
//! | [`nat`] | NAT boxes: mapping, filtering, expiry, hairpinning |
//! | [`world`] | the event loop: hosts, sockets, churn, routing, workload |
//! | [`plane`] | fan-out policies, and a model of the data plane to try changes with |
//! | [`metrics`] | per-run measurements and averages over seeds |
//! | [`matrix`] | the NAT-pair connection matrix |
//! | [`report`] | tables and JSON |
//! | [`plot`] | SVG plots (network size, subscribers reached) |
//!
//! ```
//! use streamrelay_sim::{run, scenario::Scenario, plane::FanoutPolicy};
//! let mut s = Scenario::builtin("figure-a").unwrap();
//! s.population.initial = 8;
//! s.population.arrival_rate_per_s = 0.0;
//! s.workload.end_ms = 8_000;
//! s.workload.publish_at_ms = 4_000;
//! s.workload.query_at_ms = 0;
//! let a = run(&s, 1, FanoutPolicy::Random);
//! let b = run(&s, 1, FanoutPolicy::Random);
//! assert_eq!(a, b);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod matrix;
pub mod metrics;
pub mod nat;
pub mod plane;
pub mod plot;
pub mod queue;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod world;

use metrics::RunResult;
use plane::FanoutPolicy;
use scenario::Scenario;

/// Runs one scenario with one seed and one fan-out policy.
pub fn run(scn: &Scenario, seed: u64, policy: FanoutPolicy) -> RunResult {
    let mut r = world::World::new(scn, seed, policy).run();
    r.seed = seed;
    r
}

/// Runs every (policy, seed) pair on up to `threads` threads; results come
/// back in (policy, seed) order whatever the scheduling, so the output is
/// deterministic.
pub fn run_many(
    scn: &Scenario,
    seeds: &[u64],
    policies: &[FanoutPolicy],
    threads: usize,
) -> Vec<RunResult> {
    run_many_with_progress(scn, seeds, policies, threads, &|_, _| {})
}

/// [`run_many`], calling `progress(done, total)` each time a run ends (from
/// the worker thread that ran it; `done` counts up to `total`). The results
/// do not depend on it.
pub fn run_many_with_progress(
    scn: &Scenario,
    seeds: &[u64],
    policies: &[FanoutPolicy],
    threads: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<RunResult> {
    let jobs: Vec<(FanoutPolicy, u64)> = policies
        .iter()
        .flat_map(|p| seeds.iter().map(move |s| (*p, *s)))
        .collect();
    let threads = threads.clamp(1, jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<RunResult>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(p, seed)) = jobs.get(i) else {
                    break;
                };
                let r = run(scn, seed, p);
                *slots[i].lock().expect("no poisoning") = Some(r);
                let done = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(done, jobs.len());
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("no poisoning")
                .expect("every job ran")
        })
        .collect()
}

/// The policies a scenario asks for.
pub fn policies(scn: &Scenario) -> Vec<FanoutPolicy> {
    scn.protocol
        .policies
        .iter()
        .filter_map(|p| FanoutPolicy::parse(p).ok())
        .collect()
}
