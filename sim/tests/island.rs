//! The island scenario (issue 18): phones with no Internet on
//! Bluetooth-like links, a bridge now and then. Every island phone gets
//! every message (from the Internet through the bridge, and from inside the
//! island), Internet subscribers get the island's, with and without link
//! churn; with no bridge the island still delivers inside; one seed gives
//! one exact run.

use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::run;
use streamrelay_sim::scenario::Scenario;

fn island(overrides: &[&str]) -> Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/island.toml");
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::load(path, &o).unwrap()
}

#[test]
fn a_bridge_carries_both_ways_and_the_island_delivers_inside() {
    let s = island(&[]);
    let a = run(&s, 1, FanoutPolicy::Random);
    assert_eq!(a, run(&s, 1, FanoutPolicy::Random), "one seed, one run");
    let i = a.island.clone().expect("an island report");
    assert_eq!(i.phones, 12);
    assert!(i.links >= 12, "{}", i.links);
    assert!(i.bridge_online_ms >= 10_000);
    for (what, (got, want)) in [
        ("internet -> island", i.to_island),
        ("island -> internet", i.to_internet),
        ("inside", i.inside),
    ] {
        assert!(want > 0, "{what}: nothing expected");
        assert_eq!(got, want, "{what}");
    }
    // Well under a BLE link's 20 KB/s, and nothing dropped for backlog.
    assert!(i.link_peak_rate < 2_000, "{}", i.link_peak_rate);
    assert!(i.link_bytes_mean > 0);
    // Another seed: another run, still complete.
    let b = run(&s, 2, FanoutPolicy::Random);
    assert_ne!(a, b);
    let j = b.island.unwrap();
    assert_eq!(j.to_island.0, j.to_island.1);
    assert_eq!(j.inside.0, j.inside.1);
}

#[test]
fn without_a_bridge_the_island_still_delivers_inside() {
    let s = island(&["island.bridge_first_ms=0"]);
    let i = run(&s, 3, FanoutPolicy::Random).island.unwrap();
    assert_eq!(i.bridge_online_ms, 0);
    assert_eq!(i.to_island.0, 0, "no path from the Internet");
    assert_eq!(i.to_internet.0, 0, "no path to the Internet");
    assert!(i.inside.1 > 0);
    assert_eq!(i.inside.0, i.inside.1);
}

#[test]
fn a_slow_congested_link_drops_and_counts() {
    // 50 B/s with at most 1 s of backlog: a greeting burst does not fit.
    let s = island(&[
        "island.bandwidth_bytes_per_s=50",
        "island.max_backlog_ms=1000",
        "workload.end_ms=60000",
    ]);
    let i = run(&s, 1, FanoutPolicy::Random).island.unwrap();
    assert!(i.link_drops > 0);
    // Bytes count when queued (up to 1 s ahead of the wire), so a little
    // over 50 B/s on average over a short up time.
    assert!(i.link_peak_rate <= 60, "{}", i.link_peak_rate);
    assert!(
        i.inside.0 < i.inside.1,
        "a 50 B/s island is too slow for all"
    );
}
