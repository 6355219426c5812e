//! Links: two Nodes with no UDP path between them reach each other over a
//! Unix socketpair (standing in for a Bluetooth L2CAP channel), as a file
//! descriptor and as pushed bytes; hostile bytes on a link are dropped and
//! counted.

mod support;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Duration;

use streamrelay::crypto::identity::create_shared_key;
use streamrelay::link::framing::{encode_frame_vec, FramingConfig};
use streamrelay::nat::NatType;
use streamrelay::peer::{Event, PeerId, Remote};
use streamrelay_node::{LinkId, LinkKind, LinkWriter, Node, NodeError, NodeEvent};
use support::*;

const WAIT: Duration = Duration::from_secs(20);
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A node that knows no one: no introducer, so no UDP traffic at all.
fn lonely() -> Node {
    Node::builder()
        .cluster_seed(CLUSTER)
        .bind(LOCAL)
        .nat_type(NatType::UNRESTRICTED)
        .keepalive_ms(1000)
        .start()
        .unwrap()
}

/// `a` is told of a neighbour `b` on `link` (as an introducer), so it
/// keeps pinging it there.
fn introduce(a: &Node, b: PeerId, link: LinkId) {
    a.with_peer(|p, _| p.add_introducer(b, Remote::Link(link.0)))
        .unwrap();
}

#[test]
fn fd_link_carries_a_stream_message_and_a_publish() {
    let (a, b) = (lonely(), lonely());
    let (left, right) = UnixStream::pair().unwrap();
    // Neither knows the other: each greets whoever is at the other end.
    let la = a.add_link(left).unwrap();
    let lb = b.add_link(right).unwrap();
    assert!(
        eventually(WAIT, || connected_to(&a, b.peer_id())
            && connected_to(&b, a.peer_id())),
        "{:?}\n{:?}",
        a.status(),
        b.status()
    );
    let room = create_shared_key("island").unwrap();
    a.join(&room).unwrap();
    b.join(&room).unwrap();
    a.stream(&b.peer_id(), &room, "over the link", b"hello by bluetooth")
        .unwrap();
    let got = wait_for(&b, WAIT, |e| matches!(e, Event::Packet { .. }));
    assert!(
        matches!(&got, Some(Event::Packet { payload, .. }) if payload == b"hello by bluetooth"),
        "{got:?}"
    );
    // A subcluster message (publish, not addressed to anyone) crosses too.
    b.publish(&room, "island news", b"published over the link")
        .unwrap();
    let got = wait_for(&a, WAIT, |e| matches!(e, Event::Packet { .. }));
    assert!(
        matches!(&got, Some(Event::Packet { payload, .. }) if payload == b"published over the link"),
        "{got:?}"
    );
    let s = a.status();
    assert_eq!(s.datagrams_out, 0, "nothing went over UDP");
    let l = &s.links[0];
    assert_eq!((l.id, l.kind), (la, LinkKind::Fd));
    assert!(
        l.frames_in > 0 && l.frames_out > 0 && l.bytes_out > 0,
        "{l:?}"
    );
    assert_eq!(l.decoder.skipped_bytes, 0);
    assert_eq!(l.frames_dropped, 0);

    // Closing one end closes the other.
    assert!(a.remove_link(la));
    assert!(!a.remove_link(la));
    let closed = (0..100).find_map(|_| match b.next_event(Some(WAIT)) {
        Some(NodeEvent::LinkClosed { link, .. }) => Some(link),
        _ => None,
    });
    assert_eq!(closed, Some(lb));
    assert!(b.status().links.is_empty());
    assert_eq!(b.status().links_closed, 1);
    assert!(matches!(
        b.link_input(lb, b"x"),
        Err(NodeError::UnknownLink(_))
    ));
}

#[test]
fn hostile_bytes_are_dropped_and_counted() {
    let a = lonely();
    let (left, mut right) = UnixStream::pair().unwrap();
    let la = a.add_link(left).unwrap();
    let c = FramingConfig::default();
    let mut junk: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    junk.extend_from_slice(&[0xA5, 0x5C, 0xA5, 0x5C, 0xFF]); // false markers
    let mut torn = Vec::new();
    encode_frame_vec(&c, &[7; 300], &mut torn).unwrap();
    let last = torn.len() - 1;
    torn[last] ^= 1; // bad checksum
    junk.extend(torn);
    // A well-framed datagram that is not a packet: the Peer drops it.
    encode_frame_vec(&c, b"not a stream relay packet", &mut junk).unwrap();
    right.write_all(&junk).unwrap();
    assert!(eventually(WAIT, || {
        let s = a.status();
        s.links[0].frames_in == 1 && s.links[0].bytes_in == junk.len() as u64
    }));
    let s = a.status();
    let l = &s.links[0];
    assert_eq!(l.id, la);
    assert_eq!(l.decoder.bad_checksum, 1);
    assert_eq!(l.decoder.skipped_bytes, 5000 + 5 + 309);
    assert!(
        !s.peer_drops().is_empty(),
        "the Peer counted the bad datagram"
    );
    // The node carries on; its end closes when ours does.
    drop(right);
    let closed = (0..100).find_map(|_| match a.next_event(Some(WAIT)) {
        Some(NodeEvent::LinkClosed { link, reason }) => Some((link, reason)),
        _ => None,
    });
    assert_eq!(closed.map(|c| c.0), Some(la));
    assert_eq!(a.status().links_closed, 1);
    a.close().unwrap();
}

/// A writer that hands the frames to a pump thread (which calls the other
/// node's `link_input`: a writer must not call a Node itself).
struct Pipe(mpsc::Sender<Vec<u8>>);

impl LinkWriter for Pipe {
    fn write(&mut self, bytes: &[u8]) -> usize {
        self.0.send(bytes.to_vec()).map_or(0, |_| bytes.len())
    }
}

fn pump(rx: mpsc::Receiver<Vec<u8>>, to: Node, link: mpsc::Receiver<LinkId>) {
    std::thread::spawn(move || {
        let Ok(link) = link.recv() else { return };
        for bytes in rx {
            // One byte at a time for a while: any split must do.
            if bytes.len() < 64 {
                for b in bytes.chunks(1) {
                    let _ = to.link_input(link, b);
                }
            } else if to.link_input(link, &bytes).is_err() {
                return;
            }
        }
    });
}

#[test]
fn pushed_link_connects_two_nodes() {
    let (a, b) = (lonely(), lonely());
    let (to_b, from_a) = mpsc::channel();
    let (to_a, from_b) = mpsc::channel();
    let (link_b_tx, link_b_rx) = mpsc::channel();
    let (link_a_tx, link_a_rx) = mpsc::channel();
    pump(from_a, b.clone(), link_b_rx);
    pump(from_b, a.clone(), link_a_rx);
    let la = a.add_link_writer(Pipe(to_b)).unwrap();
    let lb = b.add_link_writer(Pipe(to_a)).unwrap();
    link_a_tx.send(la).unwrap();
    link_b_tx.send(lb).unwrap();
    assert!(
        eventually(WAIT, || connected_to(&a, b.peer_id())),
        "{:?}\n{:?}",
        a.status(),
        b.status()
    );
    let l = &b.status().links[0];
    assert_eq!(l.kind, LinkKind::Pushed);
    assert!(l.frames_in > 0 && l.frames_out > 0);
    assert_eq!(l.decoder.skipped_bytes, 0);
}

/// A writer that takes nothing: the queue fills and then drops.
struct Stuck;

impl LinkWriter for Stuck {
    fn write(&mut self, _: &[u8]) -> usize {
        0
    }
}

#[test]
fn a_stuck_link_drops_and_counts() {
    let a = Node::builder()
        .cluster_seed(CLUSTER)
        .bind(LOCAL)
        .nat_type(NatType::UNRESTRICTED)
        .keepalive_ms(100)
        .link_queue_bytes(300)
        .start()
        .unwrap();
    let la = a.add_link_writer(Stuck).unwrap();
    introduce(&a, PeerId([9; 32]), la);
    assert!(eventually(WAIT, || a.status().links[0].frames_dropped > 0));
    let l = &a.status().links[0];
    assert!(l.queued_bytes <= 2048 + 9, "{l:?}");
    a.link_writable(la).unwrap();
}
