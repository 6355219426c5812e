//! The NAT matrix, one trial per pair: every peer finds the NAT type its
//! box implies, and every pair ends the way the strategy table (spec §5.3)
//! allows: direct where both sides can punch, through the introducer where
//! the table says PROXY, either for the hard pair.

use streamrelay_sim::matrix::{allowed, run_matrix, trial, Outcome};
use streamrelay_sim::scenario::{NatKind, Scenario};

#[test]
fn every_pair_connects_as_the_strategy_table_allows() {
    let mut s = Scenario::builtin("nat-matrix").unwrap();
    s.matrix.trials = 1;
    s.matrix.timeout_ms = 30_000;
    let cells = run_matrix(&s, 3);
    assert_eq!(cells.len(), 25);
    for c in &cells {
        assert_eq!(
            c.nat_correct, 1,
            "{:?} x {:?}: NAT type not found",
            c.a, c.b
        );
        assert!(c.as_expected(), "{:?} x {:?}: {c:?}", c.a, c.b);
    }
    // Easy pairs connect directly.
    let direct = |a, b| cells.iter().find(|c| c.a == a && c.b == b).unwrap().direct;
    assert_eq!(direct(NatKind::Open, NatKind::PortRestricted), 1);
    assert_eq!(direct(NatKind::PortRestricted, NatKind::PortRestricted), 1);
    assert_eq!(direct(NatKind::FullCone, NatKind::Symmetric), 1);
}

#[test]
fn symmetric_pairs_fall_back_to_the_proxy() {
    assert_eq!(
        allowed(NatKind::Symmetric, NatKind::Symmetric),
        vec![Outcome::Proxy]
    );
    let s = Scenario::builtin("nat-matrix").unwrap();
    let (o, _, nat_ok) = trial(&s, 11, NatKind::Symmetric, NatKind::Symmetric);
    assert!(nat_ok);
    assert_eq!(o, Outcome::Proxy);
}
