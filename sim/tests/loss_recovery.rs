//! A packet lost on every path is asked for again: in a steady network with
//! heavy uniform loss, the default profile syncs with a peer whose Pong
//! carries another cache summary hash (`Behaviour::sync_on_summary_mismatch`),
//! so every live subscriber ends up with every message without a query;
//! the reference profile, which syncs on first contact only, does not.

use streamrelay_sim::plane::FanoutPolicy;
use streamrelay_sim::run;
use streamrelay_sim::scenario::Scenario;

fn lossy(profile: &str) -> Scenario {
    Scenario::load(
        "idle",
        &[
            "population.initial=20".into(),
            "population.ramp_ms=2000".into(),
            "network.loss=0.25".into(),
            "workload.messages=20".into(),
            "workload.publish_at_ms=15000".into(),
            "workload.query_at_ms=0".into(),
            "workload.end_ms=60000".into(),
            "protocol.keepalive_ms=10000".into(),
            format!("protocol.profile={profile}"),
            "output.steady_from_ms=15000".into(),
        ],
    )
    .unwrap()
}

#[test]
fn heavy_loss_is_repaired_by_heartbeat_syncs() {
    let mut worst = f64::MAX;
    for seed in 1..=2 {
        let r = run(&lossy("improved"), seed, FanoutPolicy::Random);
        assert!(r.aborted.is_none());
        worst = worst.min(r.delivered_before_query);
    }
    let reference = (1..=2)
        .map(|seed| run(&lossy("reference"), seed, FanoutPolicy::Random).delivered_before_query)
        .fold(f64::MAX, f64::min);
    eprintln!("delivered before any query: default {worst}, reference {reference}");
    // Over 20 seeds (`streamrelay sim idle --seeds 20` with these settings)
    // the default profile delivers 99.8%, 99.2% without the summary-hash
    // syncs, the reference profile 95.6%: a run may miss one delivery of
    // its 400, not more.
    assert!(worst >= 0.9975, "default profile: {worst}");
    assert!(
        reference < worst,
        "reference {reference} vs default {worst}"
    );
}
