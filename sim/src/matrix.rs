//! The NAT matrix: for every ordered pair of NAT behaviours, two peers find
//! their NAT type by reflection against the introducers, join the same
//! subcluster (B a few seconds after A), get introduced, and either connect
//! directly, fall back to the introducer as proxy, or fail. Each pair runs
//! `trials` times with different seeds, under the scenario's link model.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use streamrelay::nat::{connection_strategy, Strategy};

use crate::plane::FanoutPolicy;
use crate::scenario::{NatKind, Scenario};
use crate::world::{Role, Session, World};

/// How two peers ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Each has the other as a direct connection.
    Direct,
    /// At least one reaches the other only through an introducer.
    Proxy,
    /// Not connected.
    None,
}

/// One cell of the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// A's NAT.
    pub a: NatKind,
    /// B's NAT.
    pub b: NatKind,
    /// A's strategy towards B (§5.3).
    pub strategy: String,
    /// Trials.
    pub trials: u32,
    /// Direct connections.
    pub direct: u32,
    /// Proxied.
    pub proxy: u32,
    /// Failed.
    pub none: u32,
    /// Trials in which both found the NAT type their box implies.
    pub nat_correct: u32,
    /// Mean time from B's arrival to a direct connection (direct trials).
    pub mean_direct_ms: f64,
    /// Outcomes the strategy table allows.
    pub allowed: Vec<Outcome>,
}

impl Cell {
    /// Connected at all (directly or through a proxy).
    pub fn success(&self) -> f64 {
        f64::from(self.direct + self.proxy) / f64::from(self.trials.max(1))
    }

    /// Every trial ended in an allowed outcome.
    pub fn as_expected(&self) -> bool {
        (self.direct == 0 || self.allowed.contains(&Outcome::Direct))
            && (self.proxy == 0 || self.allowed.contains(&Outcome::Proxy))
            && self.none == 0
    }
}

/// What the strategy table allows for a pair.
pub fn allowed(a: NatKind, b: NatKind) -> Vec<Outcome> {
    let sa = connection_strategy(Some(a.expected()), Some(b.expected()));
    let sb = connection_strategy(Some(b.expected()), Some(a.expected()));
    match (sa, sb) {
        (Strategy::Proxy, _) | (_, Strategy::Proxy) => vec![Outcome::Proxy],
        (Strategy::TraversalConnect, Strategy::TraversalOpen)
        | (Strategy::TraversalOpen, Strategy::TraversalConnect) => {
            vec![Outcome::Direct, Outcome::Proxy]
        }
        _ => vec![Outcome::Direct],
    }
}

fn outcome(w: &World, a: usize, b: usize) -> Outcome {
    let (Some(pa), Some(pb)) = (w.hosts[a].peer(), w.hosts[b].peer()) else {
        return Outcome::None;
    };
    let ab = pa.peer(&pb.peer_id()).filter(|e| e.connected);
    let ba = pb.peer(&pa.peer_id()).filter(|e| e.connected);
    match (ab, ba) {
        (Some(x), Some(y)) if x.proxy.is_none() && y.proxy.is_none() => Outcome::Direct,
        (None, None) => Outcome::None,
        _ => Outcome::Proxy,
    }
}

/// B arrives this long after A (A has found its NAT type by then).
pub const B_DELAY_MS: u64 = 3_000;

/// One trial: (outcome, ms from B's arrival to direct, both NAT types right).
pub fn trial(scn: &Scenario, seed: u64, a: NatKind, b: NatKind) -> (Outcome, Option<u64>, bool) {
    let forever = |start| {
        vec![Session {
            start,
            end: None,
            sleep: false,
        }]
    };
    let mut w = World::with_peers(
        scn,
        seed,
        FanoutPolicy::Random,
        &[
            (a, Role::Subscriber, forever(0)),
            (b, Role::Subscriber, forever(B_DELAY_MS)),
        ],
    );
    let ia = scn.population.introducers as usize;
    let ib = ia + 1;
    w.start();
    let limit = B_DELAY_MS + scn.matrix.timeout_ms;
    let mut direct_at = None;
    let mut t = 0;
    while t < limit {
        t += 100;
        w.run_until(t);
        if t > B_DELAY_MS && outcome(&w, ia, ib) == Outcome::Direct {
            direct_at = Some(t - B_DELAY_MS);
            break;
        }
    }
    let ok = |h: usize, k: NatKind| {
        w.hosts[h]
            .peer()
            .and_then(|p| p.nat_type())
            .is_some_and(|n| n == k.expected())
    };
    (outcome(&w, ia, ib), direct_at, ok(ia, a) && ok(ib, b))
}

/// The whole matrix.
pub fn run_matrix(scn: &Scenario, base_seed: u64) -> Vec<Cell> {
    let kinds = &scn.matrix.kinds;
    let mut cells = Vec::new();
    for (i, &a) in kinds.iter().enumerate() {
        for (j, &b) in kinds.iter().enumerate() {
            let mut c = Cell {
                a,
                b,
                strategy: connection_strategy(Some(a.expected()), Some(b.expected()))
                    .name()
                    .trim_start_matches("STRATEGY_")
                    .to_string(),
                trials: scn.matrix.trials,
                direct: 0,
                proxy: 0,
                none: 0,
                nat_correct: 0,
                mean_direct_ms: 0.0,
                allowed: allowed(a, b),
            };
            let mut total = 0u64;
            for t in 0..scn.matrix.trials {
                let seed = base_seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add(((i * kinds.len() + j) as u64) * 1000 + u64::from(t));
                let (o, at, ok) = trial(scn, seed, a, b);
                match o {
                    Outcome::Direct => c.direct += 1,
                    Outcome::Proxy => c.proxy += 1,
                    Outcome::None => c.none += 1,
                }
                if ok {
                    c.nat_correct += 1;
                }
                total += at.unwrap_or(0);
            }
            if c.direct > 0 {
                c.mean_direct_ms = total as f64 / f64::from(c.direct);
            }
            cells.push(c);
        }
    }
    cells
}

/// The matrix as JSON.
pub fn matrix_json(cells: &[Cell]) -> String {
    serde_json::to_string_pretty(cells).unwrap_or_default()
}

/// The matrix as a table: strategy, direct/proxy/none per cell.
pub fn matrix_table(scn: &Scenario, cells: &[Cell]) -> String {
    let kinds = &scn.matrix.kinds;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "NAT matrix — {} trial(s) per pair; cell: A's strategy, direct/proxy/failed, connected %",
        scn.matrix.trials
    );
    let mut head = String::from("| A \\ B |");
    let mut rule = String::from("|---|");
    for k in kinds {
        let _ = write!(head, " {} ({}) |", k.name(), k.expected().0);
        rule.push_str("---|");
    }
    let _ = writeln!(s, "{head}\n{rule}");
    for a in kinds {
        let mut line = format!("| {} ({}) |", a.name(), a.expected().0);
        for b in kinds {
            if let Some(c) = cells.iter().find(|c| c.a == *a && c.b == *b) {
                let mark = if c.as_expected() { "" } else { " ⚠" };
                let _ = write!(
                    line,
                    " {} {}/{}/{} {:.0}%{} |",
                    c.strategy,
                    c.direct,
                    c.proxy,
                    c.none,
                    c.success() * 100.0,
                    mark
                );
            }
        }
        let _ = writeln!(s, "{line}");
    }
    let total: u32 = cells.iter().map(|c| c.trials).sum();
    let ok: u32 = cells.iter().map(|c| c.direct + c.proxy).sum();
    let direct: u32 = cells.iter().map(|c| c.direct).sum();
    let nat: u32 = cells.iter().map(|c| c.nat_correct).sum();
    let _ = writeln!(
        s,
        "\nconnected {ok}/{total} ({:.1}%), direct {direct}/{total}; NAT type found right in {nat}/{total} trials\n⚠ = an outcome the strategy table does not predict",
        100.0 * f64::from(ok) / f64::from(total.max(1))
    );
    s
}
