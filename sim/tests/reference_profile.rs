//! The reference profile reproduces the protocol as the reference runs it:
//! the simulator's as-specified metrics are pinned, byte for byte, to what
//! they were before the core had profiles (regenerate only when the
//! reference's behaviour itself is meant to change:
//! `REGEN_REFERENCE_GOLDEN=1 cargo test -p streamrelay-sim --test reference_profile`).

use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::run;
use streamrelay_sim::scenario::Scenario;

fn small(extra: &[&str]) -> Scenario {
    let mut o: Vec<String> = [
        "population.initial=8",
        "population.max_peers=16",
        "population.arrival_rate_per_s=2.0",
        "population.sleep_fraction=0.5",
        "network.reorder=0.05",
        "network.duplicate=0.02",
        "nat.hairpin=0.5",
        "nat.hosts_per_nat=2",
        "workload.publish_at_ms=3000",
        "workload.query_at_ms=8000",
        "workload.end_ms=9000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    o.extend(extra.iter().map(|s| s.to_string()));
    Scenario::load("figure-a", &o).unwrap()
}

#[test]
fn reference_profile_is_byte_identical_to_the_pinned_runs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/small-reference.json"
    );
    let s = small(PROFILE);
    let mut out = String::new();
    for (seed, policy) in [
        (42, FanoutPolicy::Random),
        (42, FanoutPolicy::Weighted),
        (7, FanoutPolicy::Random),
    ] {
        let r = run(&s, seed, policy);
        out.push_str(&serde_json::to_string(&r).unwrap());
        out.push('\n');
    }
    if std::env::var_os("REGEN_REFERENCE_GOLDEN").is_some() {
        std::fs::write(path, &out).unwrap();
        return;
    }
    // Every pinned field must be identical; fields added to the results
    // since are new measurements, not changes.
    let want = std::fs::read_to_string(path).unwrap();
    for (i, (a, b)) in want.lines().zip(out.lines()).enumerate() {
        let a: serde_json::Value = serde_json::from_str(a).unwrap();
        let b: serde_json::Value = serde_json::from_str(b).unwrap();
        let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
        assert!(a.len() > 30);
        for (k, v) in a {
            assert!(
                b.get(k) == Some(v),
                "run {i}: {k} differs from the pinned reference run"
            );
        }
    }
    assert_eq!(want.lines().count(), out.lines().count());
}

const PROFILE: &[&str] = &["protocol.profile=reference"];
