//! One seed → one exact run: the same scenario, seed and policy give
//! byte-identical metrics, whatever the thread count; another seed gives
//! another run.

use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::scenario::Scenario;
use streamrelay_sim::{run, run_many};

/// figure-a, shrunk to keep the debug-build test quick, with every link
/// impairment switched on so that all of them are exercised.
fn small() -> Scenario {
    Scenario::load(
        "figure-a",
        &[
            "population.initial=8".into(),
            "population.max_peers=16".into(),
            "population.arrival_rate_per_s=2.0".into(),
            "population.sleep_fraction=0.5".into(),
            "network.reorder=0.05".into(),
            "network.duplicate=0.02".into(),
            "nat.hairpin=0.5".into(),
            "nat.hosts_per_nat=2".into(),
            "workload.publish_at_ms=3000".into(),
            "workload.query_at_ms=8000".into(),
            "workload.end_ms=9000".into(),
        ],
    )
    .unwrap()
}

#[test]
fn same_seed_gives_byte_identical_metrics() {
    let mut s = small();
    s.partition.push(streamrelay_sim::scenario::Partition {
        at_ms: 4000,
        heal_ms: 6000,
        fraction: 0.3,
    });
    for policy in [FanoutPolicy::Random, FanoutPolicy::Weighted] {
        let a = run(&s, 42, policy);
        let b = run(&s, 42, policy);
        assert_eq!(a, b, "{policy:?}");
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap(),
            "{policy:?}"
        );
        assert!(a.aborted.is_none());
        // The run did something.
        assert!(a.datagrams_sent > 1000, "{}", a.datagrams_sent);
        assert!(a.joins > 8);
        let c = run(&s, 43, policy);
        assert_ne!(
            a.datagrams_sent, c.datagrams_sent,
            "another seed, another run"
        );
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let s = small();
    let seeds = [1, 2, 3];
    let policies = [FanoutPolicy::Random, FanoutPolicy::Weighted];
    let one = run_many(&s, &seeds, &policies, 1);
    let two = run_many(&s, &seeds, &policies, 2);
    assert_eq!(one, two);
    assert_eq!(one.len(), 6);
    assert_eq!(one[0].policy, "random");
    assert_eq!(one[3].policy, "weighted");
    assert_eq!(one[4].seed, 2);
}

#[test]
fn both_policies_face_the_same_population() {
    let s = small();
    let a = run(&s, 7, FanoutPolicy::Random);
    let b = run(&s, 7, FanoutPolicy::Weighted);
    assert_eq!((a.joins, a.leaves, a.sleeps), (b.joins, b.leaves, b.sleeps));
    assert_eq!(a.peers, b.peers);
    let online = |r: &streamrelay_sim::metrics::RunResult| -> Vec<u32> {
        r.series.iter().map(|x| x.online).collect()
    };
    assert_eq!(online(&a), online(&b));
}
