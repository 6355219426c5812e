//! Every pair of NAT behaviours in a small network model: both peers find
//! their NAT type by reflection against two introducers, join the same
//! subcluster, get introduced, and either connect directly or fall back to
//! the introducer as proxy, as the strategy table (§5.3) says.
//!
//! Also the hard↔easy pair over many seeds: the birthday-paradox spray from
//! the socket pool against the easy side's sprayed ports.

mod peer_support;

use peer_support::*;
use std::net::IpAddr;
use streamrelay::crypto::identity::create_shared_key;
use streamrelay::nat::{connection_strategy, Strategy};
use streamrelay::peer::Event;

struct Pair {
    net: Net,
    a: usize,
    b: usize,
}

fn setup(seed: u64, ka: NatKind, kb: NatKind) -> Pair {
    let mut net = Net::new(seed);
    let intros = two_introducers(&mut net);
    let a = net.add_natted(
        "a",
        with_introducers(config(1), &intros),
        ka,
        "203.0.113.10".parse::<IpAddr>().unwrap(),
    );
    let b = net.add_natted(
        "b",
        with_introducers(config(2), &intros),
        kb,
        "203.0.113.20".parse::<IpAddr>().unwrap(),
    );
    Pair { net, a, b }
}

fn ready(net: &Net, h: usize) -> bool {
    net.hosts[h].peer.nat_type().is_some()
}

/// Reflection, then A joins, then B joins once A is known to the
/// introducers; runs until both see each other or `until`.
fn run_pair(p: &mut Pair, until: u64) -> Outcome {
    let key = create_shared_key("matrix").unwrap();
    let (a, b) = (p.a, p.b);
    p.net
        .with_peer(a, |peer, now| peer.join(now, &key).unwrap());
    assert!(p.net.run_while(10_000, |n| ready(n, a) && ready(n, b)));
    p.net.run_until(p.net.now + 500);
    p.net
        .with_peer(b, |peer, now| peer.join(now, &key).unwrap());
    p.net
        .run_while(until, |n| outcome(n, a, b) == Outcome::Direct);
    outcome(&p.net, a, b)
}

#[test]
fn reflection_classifies_each_nat() {
    for (i, kind) in NatKind::ALL.iter().enumerate() {
        let mut p = setup(100 + i as u64, *kind, NatKind::FullCone);
        let a = p.a;
        assert!(p.net.run_while(10_000, |n| ready(n, a)), "{kind:?}");
        assert_eq!(
            p.net.hosts[a].peer.nat_type(),
            Some(kind.expected()),
            "{kind:?}"
        );
        let (addr, port) = p.net.hosts[a].peer.public_endpoint();
        assert_eq!(addr, Some("203.0.113.10".parse().unwrap()));
        assert!(port.is_some());
        // The host saw NatChange then Ready.
        let evs: Vec<&Event> = p.net.hosts[a].events.iter().map(|(_, e)| e).collect();
        assert!(evs.iter().any(
            |e| matches!(e, Event::NatChange { old: None, new: Some(n) } if *n == kind.expected())
        ));
        assert!(evs
            .iter()
            .any(|e| matches!(e, Event::Ready { nat: Some(_), .. })));
    }
}

/// What the table allows for a pair: direct where both strategies can punch
/// through, proxy where the table says PROXY, either for the hard pair.
fn allowed(ka: NatKind, kb: NatKind) -> &'static [Outcome] {
    let sa = connection_strategy(Some(ka.expected()), Some(kb.expected()));
    let sb = connection_strategy(Some(kb.expected()), Some(ka.expected()));
    match (sa, sb) {
        (Strategy::Proxy, _) | (_, Strategy::Proxy) => &[Outcome::Proxy],
        (Strategy::TraversalConnect, Strategy::TraversalOpen)
        | (Strategy::TraversalOpen, Strategy::TraversalConnect) => {
            &[Outcome::Direct, Outcome::Proxy]
        }
        _ => &[Outcome::Direct],
    }
}

#[test]
fn matrix() {
    let mut table = String::new();
    table.push_str("| A \\ B | full-cone(31) | addr-restr(15) | port-restr(7) | symmetric(5) |\n");
    table.push_str("|---|---|---|---|---|\n");
    for (i, ka) in NatKind::ALL.iter().enumerate() {
        table.push_str(&format!("| {} |", ka.short()));
        for (j, kb) in NatKind::ALL.iter().enumerate() {
            let mut p = setup(1000 + (i * 4 + j) as u64, *ka, *kb);
            let got = run_pair(&mut p, 40_000);
            let sa = connection_strategy(Some(ka.expected()), Some(kb.expected()));
            assert_eq!(p.net.hosts[p.a].peer.nat_type(), Some(ka.expected()));
            assert_eq!(p.net.hosts[p.b].peer.nat_type(), Some(kb.expected()));
            assert!(
                allowed(*ka, *kb).contains(&got),
                "{ka:?} x {kb:?}: {got:?}, allowed {:?}",
                allowed(*ka, *kb)
            );
            if got == Outcome::Direct {
                // The connection lives on: heartbeats over whatever socket
                // reaches the other side (a pool socket after traversal).
                let t = p.net.now + 100_000;
                p.net.run_until(t);
                assert_eq!(
                    outcome(&p.net, p.a, p.b),
                    Outcome::Direct,
                    "{ka:?} x {kb:?} later"
                );
            }
            // The strategy each side announced matches the table.
            let intro_strategy = p.net.hosts[p.a].events.iter().find_map(|(_, e)| match e {
                Event::Intro { strategy, .. } => Some(*strategy),
                _ => None,
            });
            assert_eq!(intro_strategy, Some(sa), "{ka:?} x {kb:?}");
            table.push_str(&format!(
                " {} → {:?} |",
                sa.name().trim_start_matches("STRATEGY_"),
                got
            ));
        }
        table.push('\n');
    }
    println!("{table}");
}

/// The hard pair over many seeds: how often the spray connects directly.
#[test]
fn hard_easy_spray_success_rate() {
    let trials: u64 = std::env::var("SPRAY_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut direct = 0u64;
    let mut proxy = 0u64;
    let mut rounds_to_success = Vec::new();
    for seed in 0..trials {
        let mut p = setup(50_000 + seed, NatKind::Symmetric, NatKind::PortRestricted);
        let got = run_pair(&mut p, 25_000);
        match got {
            Outcome::Direct => {
                direct += 1;
                let m = p.net.hosts[p.a].peer.metrics();
                assert_eq!(m.traversals_succeeded, 1);
                rounds_to_success.push(p.net.hosts[p.a].sent);
            }
            Outcome::Proxy => proxy += 1,
            Outcome::None => panic!("seed {seed}: neither direct nor proxy"),
        }
    }
    let rate = direct as f64 / trials as f64;
    println!(
        "hard<->easy spray: {direct}/{trials} direct ({:.2}%), {proxy} fell back to proxy",
        rate * 100.0
    );
    // 1 - (1 - 1024/64511)^256 ≈ 98.3 %.
    assert!(rate > 0.95, "spray success {rate}");
}
