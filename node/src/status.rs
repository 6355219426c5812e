//! `Node::status()`: what a diagnostics screen or a log line shows.

use std::net::SocketAddr;

use streamrelay::nat::NatType;
use streamrelay::peer::{DropReason, Metrics, PeerId, RemotePeer};

/// A snapshot of the Node's state and counters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Status {
    /// Our id.
    pub peer_id: PeerId,
    /// Our NAT type, once reflection (or the config) says.
    pub nat: Option<NatType>,
    /// Our public endpoint as the introducers see it, once known.
    pub public_endpoint: Option<SocketAddr>,
    /// Where the main socket is bound.
    pub local: SocketAddr,
    /// Where the probe socket is bound.
    pub probe: SocketAddr,
    /// Open hard-NAT pool sockets.
    pub pool_sockets: usize,
    /// The peer table: each entry's round-trip time (`rtt_ms`), whether it
    /// is reached directly or through an introducer (`proxy`), whether it
    /// counts as connected.
    pub peers: Vec<RemotePeer>,
    /// Datagrams received on all sockets.
    pub datagrams_in: u64,
    /// Bytes received on all sockets.
    pub bytes_in: u64,
    /// Datagrams handed to the OS.
    pub datagrams_out: u64,
    /// Bytes handed to the OS.
    pub bytes_out: u64,
    /// Returns from the poll (a datagram, a deadline, a command).
    pub wakeups: u64,
    /// What the Node itself dropped, by cause.
    pub node_drops: NodeDrops,
    /// Events dropped because the application's queue was full.
    pub events_dropped: u64,
    /// Events waiting in the application's queue.
    pub events_queued: usize,
    /// State-file writes that succeeded.
    pub state_saves: u64,
    /// The open links (see [`Node::add_link`](crate::Node::add_link)),
    /// each with its counters.
    pub links: Vec<crate::LinkStatus>,
    /// Links closed so far.
    pub links_closed: u64,
    /// The Peer's counters (received and sent by type, drops by
    /// [`DropReason`], evictions, data plane).
    pub metrics: Metrics,
}

impl Status {
    /// The Peer's drops with a non-zero count, by cause.
    pub fn peer_drops(&self) -> Vec<(DropReason, u64)> {
        DropReason::ALL
            .iter()
            .map(|r| (*r, self.metrics.dropped(*r)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// What the Node dropped on its side of the Peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeDrops {
    /// A send the OS refused (no route, wrong family, ...).
    pub send_failed: u64,
    /// A send the OS would not queue (its buffer was full): UDP drops it.
    pub send_would_block: u64,
    /// A transmit on a socket the Node does not have (a pool socket that
    /// would not bind), or to a link the Node does not have.
    pub no_socket: u64,
    /// A receive error other than "nothing more" (ICMP port unreachable
    /// reported on the socket, say).
    pub recv_failed: u64,
}
