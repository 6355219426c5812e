//! What the Peer hands the host: datagrams to send and events to act on.

use alloc::vec::Vec;
use core::net::IpAddr;

use super::addr::{PeerId, Remote, SocketId};
use crate::nat::{NatType, Strategy};

/// A datagram to send: from `socket` to `remote`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The local socket to send from.
    pub socket: SocketId,
    /// The destination.
    pub remote: Remote,
    /// One encoded packet (or, for the easy side of a hard-NAT pair, the
    /// one-byte `01` that opens a mapping).
    pub bytes: Vec<u8>,
}

/// Why a peer left the table or stopped counting as connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// Silent for `expiry.missing` keepalives; still in the table.
    Missing,
    /// Silent for `expiry.forgotten` keepalives; removed.
    Forgotten,
    /// Evicted to make room in a full table.
    Evicted,
}

/// Something the host should know or do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The peer knows how it is reached: after reflection when the NAT type
    /// or the public endpoint changed (and the first time), or at once for an
    /// introducer or a static NAT type.
    Ready {
        /// Our NAT type (`None` for an introducer configured without one).
        nat: Option<NatType>,
        /// Our public address, when known.
        address: Option<IpAddr>,
        /// Our public port, when known.
        port: Option<u16>,
    },
    /// Our NAT type changed (reflection, or `disconnect`).
    NatChange {
        /// Before.
        old: Option<NatType>,
        /// After.
        new: Option<NatType>,
    },
    /// A peer became connected: first contact, a return after it went
    /// missing, or a move from a proxied route to a direct one.
    Connection {
        /// Who.
        peer_id: PeerId,
        /// Where we reach it (for a proxied peer: what the introducer told us).
        remote: Remote,
        /// Its NAT type.
        nat: NatType,
        /// The introducer that relays for it, when there is no direct path.
        proxy: Option<PeerId>,
        /// The local socket that reaches it (a pool socket after hard-NAT
        /// traversal).
        socket: SocketId,
    },
    /// A peer went quiet or was removed.
    Disconnection {
        /// Who.
        peer_id: PeerId,
        /// Why.
        reason: DisconnectReason,
    },
    /// A peer is in one of our subclusters: it sent a Join, or it connected
    /// to us with that subcluster's ids.
    Join {
        /// The cluster.
        cluster_id: [u8; 32],
        /// The subcluster (its public key).
        subcluster_id: [u8; 32],
        /// The member.
        peer_id: PeerId,
    },
    /// An introducer told us about a peer and we started connecting.
    Intro {
        /// The peer we try to reach.
        peer_id: PeerId,
        /// Where the introducer says it is.
        remote: Remote,
        /// Its NAT type.
        nat: NatType,
        /// The introducer.
        introducer: PeerId,
        /// What we do about it (`nat::connection_strategy`).
        strategy: Strategy,
        /// The Intro came from a rendezvous.
        rendezvous: bool,
    },
    /// Open these local UDP sockets (ephemeral ports), and report their
    /// datagrams with these ids. Sent before the first hard-NAT traversal,
    /// and for each replacement when a pool socket becomes a connection's.
    OpenPoolSockets {
        /// The ids to give them (always `SocketId::Pool`).
        sockets: Vec<SocketId>,
    },
    /// Close these pool sockets (the pool idled, or a peer that owned one
    /// left, or the peer closed).
    ClosePoolSockets {
        /// The ids.
        sockets: Vec<SocketId>,
    },
    /// `close()` finished: nothing more will be sent.
    Closed,
}
