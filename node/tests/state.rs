//! A Node restarted from its state file keeps its identity, its peers, its
//! subclusters and its unpublished packets.

mod support;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

use streamrelay::crypto::identity::create_shared_key;
use streamrelay::peer::PeerId;
use streamrelay_node::Node;
use support::CLUSTER;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn temp_state(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("srnode-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("node.state")
}

/// A node of the test cluster on loopback with the state file `path`.
fn from_state(path: &std::path::Path) -> Node {
    Node::builder()
        .cluster_seed(CLUSTER)
        .bind(LO)
        .state_file(path)
        .start()
        .unwrap()
}

#[test]
fn restart_keeps_identity_peers_and_unpublished() {
    let path = temp_state("restart");
    // Two introducers that never answer: they stay in the table, and a
    // publish reaches nobody (it stays unpublished).
    let silent: Vec<UdpSocket> = (0..2).map(|_| UdpSocket::bind((LO, 0)).unwrap()).collect();
    let intro_ids = [PeerId([0x11; 32]), PeerId([0x22; 32])];
    let room = create_shared_key("room").unwrap();
    let a = Node::builder()
        .cluster_seed(CLUSTER)
        .bind(LO)
        .introducer(intro_ids[0], silent[0].local_addr().unwrap())
        .introducer(intro_ids[1], silent[1].local_addr().unwrap())
        .state_file(&path)
        .start()
        .unwrap();
    assert!(a.restore_error().is_none());
    let scid = a.join(&room).unwrap();
    let ids = a.publish(&room, "note", b"kept for later").unwrap();
    let unpublished = |n: &Node| n.with_peer(|p, _| p.unpublished().cloned().collect::<Vec<_>>());
    assert_eq!(unpublished(&a), ids);
    let (id, key) = (a.peer_id(), a.public_key());
    a.close().unwrap();

    // Restarted with no identity and no introducers in the builder:
    // everything comes from the file.
    let b = from_state(&path);
    assert!(b.restore_error().is_none(), "{:?}", b.restore_error());
    assert_eq!((b.peer_id(), b.public_key()), (id, key));
    assert_eq!(unpublished(&b), ids);
    let peers: Vec<_> = b.status().peers.iter().map(|p| p.peer_id).collect();
    assert!(intro_ids.iter().all(|i| peers.contains(i)), "{peers:?}");
    assert!(b.with_peer(|p, _| p.subclusters().any(|(_, s)| s == scid)));
    b.close().unwrap();
    assert!(b.status().state_saves >= 1);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_foreign_state_file_is_reported_and_replaced() {
    let path = temp_state("foreign");
    std::fs::write(&path, b"not a state file").unwrap();
    let n = from_state(&path);
    assert!(n.restore_error().is_some());
    n.close().unwrap();
    let again = from_state(&path);
    assert!(again.restore_error().is_none());
    assert_eq!(again.peer_id(), n.peer_id());
    again.close().unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
