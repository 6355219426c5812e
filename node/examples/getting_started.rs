//! Getting started with `streamrelay-node`: two introducers and two peers on
//! loopback; one peer publishes, the other prints what it got.
//! `cargo run -p streamrelay-node --example getting_started`

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use streamrelay::crypto::identity::create_shared_key;
use streamrelay::nat::NatType;
use streamrelay::peer::Event;
use streamrelay_node::{Node, NodeError, NodeEvent};

fn main() -> Result<(), NodeError> {
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Introducers: a known, public address (here: loopback).
    let introducer = || {
        Node::builder()
            .indexed(true)
            .nat_type(NatType::UNRESTRICTED)
            .bind(lo)
            .start()
    };
    let (i1, i2) = (introducer()?, introducer()?);
    // Peers: a cluster, the introducers, and (in a real app) a state file.
    let peer = || {
        Node::builder()
            .cluster_seed("getting started")
            .introducer(i1.peer_id(), SocketAddr::new(lo, i1.local_addr().port()))
            .introducer(i2.peer_id(), SocketAddr::new(lo, i2.local_addr().port()))
            .bind(lo)
            .start()
    };
    let (alice, bob) = (peer()?, peer()?);
    let room = create_shared_key("room 42").expect("a key from a seed");
    alice.join(&room)?;
    bob.join(&room)?;
    bob.publish(&room, "greeting", b"hello, alice")?;
    // Events arrive on a bounded queue; wait for the message.
    let mut got = false;
    while let Some(ev) = alice.next_event(Some(Duration::from_secs(20))) {
        if let NodeEvent::Peer(Event::Packet { payload, .. }) = ev {
            println!("alice got: {}", String::from_utf8_lossy(&payload));
            got = true;
            break;
        }
    }
    let s = alice.status();
    println!("alice: NAT type {:?}, {} peers", s.nat, s.peers.len());
    for n in [alice, bob, i1, i2] {
        n.close()?;
    }
    if !got {
        eprintln!("alice got nothing in 20 s");
        std::process::exit(1);
    }
    Ok(())
}
