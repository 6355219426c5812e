//! Shared by the Node tests: introducers, peers and waiting for events, all
//! on loopback, every wait bounded.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use streamrelay::nat::NatType;
use streamrelay::peer::{Event, PeerId};
use streamrelay_node::{Node, NodeBuilder, NodeEvent};

pub const CLUSTER: &str = "node-tests";

/// An introducer on `ip` (a static, unrestricted NAT type: ready at once).
pub fn introducer(ip: IpAddr) -> Node {
    Node::builder()
        .indexed(true)
        .nat_type(NatType::UNRESTRICTED)
        .bind(ip)
        .start()
        .expect("introducer starts")
}

/// Where a node is reached from `ip`'s family on loopback.
pub fn reach(node: &Node, loopback: IpAddr) -> SocketAddr {
    SocketAddr::new(loopback, node.local_addr().port())
}

/// A peer builder on `ip` bootstrapping from the introducers (reached at
/// `loopback`), with a short keepalive so the tests run in seconds.
pub fn peer(ip: IpAddr, loopback: IpAddr, introducers: &[&Node]) -> NodeBuilder {
    let mut b = Node::builder()
        .cluster_seed(CLUSTER)
        .bind(ip)
        .keepalive_ms(2000);
    for i in introducers {
        b = b.introducer(i.peer_id(), reach(i, loopback));
    }
    b
}

/// Reads events until `pred` matches one (returned) or `within` passes.
pub fn wait_for(
    node: &Node,
    within: Duration,
    mut pred: impl FnMut(&Event) -> bool,
) -> Option<Event> {
    let end = Instant::now() + within;
    loop {
        let left = end.checked_duration_since(Instant::now())?;
        match node.next_event(Some(left))? {
            NodeEvent::Peer(ev) if pred(&ev) => return Some(ev),
            _ => {}
        }
    }
}

/// Whether `node` has `id` in its table as connected.
pub fn connected_to(node: &Node, id: PeerId) -> bool {
    node.status()
        .peers
        .iter()
        .any(|p| p.peer_id == id && p.connected)
}

/// Waits until `f` holds (or `within` passes).
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}
