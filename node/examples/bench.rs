//! Measures the Node on loopback (a benchmark, not a test):
//!
//! * `chain [N]`: messages per second through a 3-node chain: a publisher
//!   and a subscriber that know each other only through an introducer, which
//!   relays (rate limits off, so the Node is measured, not the quotas);
//! * `idle [SECS]`: wake-ups per minute of one idle Node with 20 peers
//!   (2 introducers and 21 peers in one subcluster, default keepalive).
//!
//! ```sh
//! cargo run --release -p streamrelay-node --example bench -- chain 20000
//! cargo run --release -p streamrelay-node --example bench -- idle 120
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use streamrelay::crypto::identity::create_shared_key;
use streamrelay::nat::NatType;
use streamrelay::peer::{Event, Remote, SocketId};
use streamrelay::wire::PacketRef;
use streamrelay_node::{Node, NodeBuilder, NodeEvent};

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn introducer() -> Node {
    Node::builder()
        .indexed(true)
        .nat_type(NatType::UNRESTRICTED)
        .bind(LO)
        .configure(|c| c.limit_exempt = true)
        .start()
        .expect("introducer")
}

fn peer(introducers: &[&Node]) -> NodeBuilder {
    let mut b = Node::builder()
        .cluster_seed("bench")
        .bind(LO)
        .event_capacity(1 << 16)
        .configure(|c| {
            c.limit_exempt = true;
            c.limits.max_events = 1 << 16;
        });
    for i in introducers {
        b = b.introducer(i.peer_id(), SocketAddr::new(LO, i.local_addr().port()));
    }
    b
}

fn wait_ready(n: &Node) {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        if let Some(NodeEvent::Peer(Event::Ready { .. })) =
            n.next_event(Some(Duration::from_secs(1)))
        {
            return;
        }
    }
    panic!("not ready");
}

fn chain(n: usize) {
    // The publisher and the subscriber bootstrap from one introducer (with
    // static NAT types: reflection needs two introducers) and their
    // firewalls refuse each other, so every message goes a -> i -> c.
    let i = introducer();
    let static_peer = |b: NodeBuilder| b.nat_type(NatType::PORT_RESTRICTED).start().unwrap();
    let a = static_peer(peer(&[&i]));
    let c = static_peer(peer(&[&i]));
    for (n, other) in [(&a, c.local_addr()), (&c, a.local_addr())] {
        let other = Remote::Udp(SocketAddr::new(LO, other.port()));
        n.with_peer(|p, _| {
            p.set_firewall(Some(Box::new(
                move |_: &PacketRef<'_>, r: &Remote, _: SocketId| *r != other,
            )))
        });
    }
    let room = create_shared_key("bench room").unwrap();
    a.join(&room).unwrap();
    c.join(&room).unwrap();
    wait_ready(&a);
    wait_ready(&c);
    // Let the introduction fall back to the proxy (2 s).
    std::thread::sleep(Duration::from_secs(4));
    let proxied = a
        .status()
        .peers
        .iter()
        .any(|p| p.peer_id == c.peer_id() && p.proxy == Some(i.peer_id()));
    println!("chain: the publisher reaches the subscriber through the introducer: {proxied}");
    let start = Instant::now();
    let mut refused = 0;
    for k in 0..n {
        if a.publish(&room, "m", format!("{k}").as_bytes()).is_err() {
            refused += 1;
        }
    }
    let published = start.elapsed();
    let mut got = 0usize;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got < n - refused && Instant::now() < deadline {
        match c.next_event(Some(Duration::from_secs(2))) {
            Some(NodeEvent::Peer(Event::Packet { .. })) => got += 1,
            Some(_) => {}
            None => break,
        }
    }
    let t = start.elapsed();
    let (sa, sc) = (a.status(), c.status());
    println!(
        "chain: {n} published in {:.2} s ({refused} refused), {got} delivered in {:.2} s: {:.0} messages/s end to end",
        published.as_secs_f64(),
        t.as_secs_f64(),
        got as f64 / t.as_secs_f64()
    );
    println!(
        "  publisher: {} datagrams out, {} wake-ups; subscriber: {} datagrams in, {} events dropped; relay: {} datagrams in, {} relayed",
        sa.datagrams_out,
        sa.wakeups,
        sc.datagrams_in,
        sc.events_dropped,
        i.status().datagrams_in,
        i.status().metrics.relayed
    );
    for x in [a, c, i] {
        x.close().unwrap();
    }
}

fn idle(secs: u64) {
    let (i1, i2) = (introducer(), introducer());
    let room = create_shared_key("idle room").unwrap();
    let nodes: Vec<Node> = (0..21)
        .map(|_| {
            let n = peer(&[&i1, &i2]).start().unwrap();
            n.join(&room).unwrap();
            n
        })
        .collect();
    let me = &nodes[0];
    let end = Instant::now() + Duration::from_secs(60);
    while me.status().peers.len() < 20 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Past the start-up traffic, then count.
    std::thread::sleep(Duration::from_secs(5));
    let (w0, d0) = (
        me.status().wakeups,
        me.status().datagrams_in + me.status().datagrams_out,
    );
    std::thread::sleep(Duration::from_secs(secs));
    let s = me.status();
    let per_min = (s.wakeups - w0) as f64 * 60.0 / secs as f64;
    let dg = (s.datagrams_in + s.datagrams_out - d0) as f64 * 60.0 / secs as f64;
    println!(
        "idle: {} peers in the table ({} connected), {secs} s: {per_min:.1} wake-ups/min, {dg:.1} datagrams/min",
        s.peers.len(),
        s.peers.iter().filter(|p| p.connected).count()
    );
    for n in nodes {
        n.close().unwrap();
    }
    i1.close().unwrap();
    i2.close().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |d: u64| args.get(1).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("chain") | None => chain(num(20_000) as usize),
        Some("idle") => idle(num(120)),
        Some(x) => eprintln!("unknown benchmark {x}: chain [N] | idle [SECS]"),
    }
}
