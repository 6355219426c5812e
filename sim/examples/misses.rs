//! Which live subscribers of Figure A miss the message before the query
//! phase, and why: for each one, when it arrived, when it became ready
//! (eligible), the syncs it started and its state with the introducers at
//! the moment the queries start.
//!
//! `cargo run --release -p streamrelay-sim --example misses [SEEDS]`
//! (default 50 seeds, the random fanout, the default profile).

use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::scenario::Scenario;
use streamrelay_sim::world::{Role, World};

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let scn = Scenario::load("figure-a", &[]).expect("built-in scenario");
    let q = scn.workload.query_at_ms;
    let mut misses = 0;
    for seed in 1..=seeds {
        let mut w = World::new(&scn, seed, FanoutPolicy::Random);
        w.start();
        w.run_until(q - 1);
        for (i, h) in w.hosts.iter().enumerate() {
            if h.role != Role::Subscriber || !h.online || !h.ready {
                continue;
            }
            let (Some(eligible), None) = (h.eligible[0], h.delivered[0]) else {
                continue;
            };
            let Some(p) = h.peer() else { continue };
            misses += 1;
            let arrived = h
                .sessions
                .iter()
                .filter(|s| s.start <= w.now)
                .map(|s| s.start)
                .max()
                .unwrap_or(0);
            let introducers: Vec<String> = p
                .peers()
                .iter()
                .filter(|r| r.indexed)
                .map(|r| {
                    let heard = r.last_update.map(|t| t.as_millis().to_string());
                    format!(
                        "connected {} heard {}",
                        r.connected,
                        heard.unwrap_or("-".into())
                    )
                })
                .collect();
            println!(
                "seed {seed} host {i} ({:?}): arrived {arrived} ms, ready {eligible} ms ({} ms before the queries), syncs started {}, introducers [{}]",
                h.kind,
                q - eligible,
                p.metrics().syncs_started,
                introducers.join("; ")
            );
        }
    }
    println!("{misses} live subscribers without the message at the query phase ({seeds} seeds)");
}
