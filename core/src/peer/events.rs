//! What the Peer hands the host: datagrams to send and events to act on.

use alloc::vec::Vec;

use super::addr::{Remote, SocketId};

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

/// The caller's buffer is too small for the next datagram
/// ([`Peer::poll_transmit_into`](super::Peer::poll_transmit_into)): the
/// datagram stays queued; call again with at least `needed` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the next datagram needs a buffer of {needed} bytes")]
pub struct BufferTooSmall {
    /// The datagram's length.
    pub needed: usize,
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

/// Why an opened event is not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnverifiedReason {
    /// `sig` is not a valid signature of the plaintext (from byte 64, the
    /// reference's scheme) by `usr2`; or `sig` is not 64 bytes.
    BadSignature,
    /// `usr2` is not a 32-byte public key (the reference's `verify` throws).
    BadPublisherKey,
}

/// A core enum with data, made from its table (`events_table!`): the
/// variants with their fields and docs. `streamrelay-ffi` makes its UniFFI
/// `PeerEvent` from the same table and checks its C `SrEventKind` against it.
#[doc(hidden)]
#[macro_export]
macro_rules! event_enum {
    (
        [$(#[$attr:meta])* $name:ident]
        $( $(#[doc = $vdoc:tt])* $variant:ident $({
            $( $(#[doc = $fdoc:tt])* $field:ident : $ty:ty, )*
        })?, )*
    ) => {
        $(#[$attr])*
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant $({
                $( $(#[doc = $fdoc])* $field: $ty, )*
            })?, )*
        }
    };
}

/// The events: every variant once, with its fields (see `event_enum!`).
#[doc(hidden)]
#[macro_export]
macro_rules! events_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            /// The peer knows how it is reached: after reflection when the NAT type
            /// or the public endpoint changed (and the first time), or at once for an
            /// introducer or a static NAT type.
            Ready {
                /// Our NAT type (`None` for an introducer configured without one).
                nat: Option<$crate::nat::NatType>,
                /// Our public address, when known.
                address: Option<::core::net::IpAddr>,
                /// Our public port, when known.
                port: Option<u16>,
            },
            /// Our NAT type changed (reflection, or `disconnect`).
            NatChange {
                /// Before.
                old: Option<$crate::nat::NatType>,
                /// After.
                new: Option<$crate::nat::NatType>,
            },
            /// A peer became connected: first contact, a return after it went
            /// missing, or a move from a proxied route to a direct one.
            Connection {
                /// Who.
                peer_id: $crate::peer::PeerId,
                /// Where we reach it (for a proxied peer: what the introducer told us).
                remote: $crate::peer::Remote,
                /// Its NAT type.
                nat: $crate::nat::NatType,
                /// The introducer that relays for it, when there is no direct path.
                proxy: Option<$crate::peer::PeerId>,
                /// The local socket that reaches it (a pool socket after hard-NAT
                /// traversal).
                socket: $crate::peer::SocketId,
            },
            /// A peer went quiet or was removed.
            Disconnection {
                /// Who.
                peer_id: $crate::peer::PeerId,
                /// Why.
                reason: $crate::peer::DisconnectReason,
            },
            /// A peer is in one of our subclusters: it sent a Join, or it connected
            /// to us with that subcluster's ids.
            Join {
                /// The cluster.
                cluster_id: [u8; 32],
                /// The subcluster (its public key).
                subcluster_id: [u8; 32],
                /// The member.
                peer_id: $crate::peer::PeerId,
            },
            /// An introducer told us about a peer and we started connecting.
            Intro {
                /// The peer we try to reach.
                peer_id: $crate::peer::PeerId,
                /// Where the introducer says it is.
                remote: $crate::peer::Remote,
                /// Its NAT type.
                nat: $crate::nat::NatType,
                /// The introducer.
                introducer: $crate::peer::PeerId,
                /// What we do about it (`nat::connection_strategy`).
                strategy: $crate::nat::Strategy,
                /// The Intro came from a rendezvous.
                rendezvous: bool,
            },
            /// Open these local UDP sockets (ephemeral ports), and report their
            /// datagrams with these ids. Sent before the first hard-NAT traversal,
            /// and for each replacement when a pool socket becomes a connection's.
            OpenPoolSockets {
                /// The ids to give them (always `SocketId::Pool`).
                sockets: $crate::__private::Vec<$crate::peer::SocketId>,
            },
            /// Close these pool sockets (the pool idled, or a peer that owned one
            /// left, or the peer closed).
            ClosePoolSockets {
                /// The ids.
                sockets: $crate::__private::Vec<$crate::peer::SocketId>,
            },
            /// `close()` finished: nothing more will be sent.
            Closed,
            /// An event of one of our subclusters, opened and verified: a Publish
            /// (a lone packet, or a chain reassembled from the cache), or a Stream
            /// addressed to us. Delivered at most once (a replay of the same sealed
            /// message is suppressed while its id is remembered). Our own publishes
            /// are not echoed.
            Packet {
                /// `clusterId`.
                cluster_id: [u8; 32],
                /// `subclusterId`.
                subcluster_id: [u8; 32],
                /// `usr1`: SHA-256 of the event name (`api.js` listens by it).
                event_hash: $crate::wire::packet::IdField,
                /// The opened plaintext.
                payload: $crate::__private::Vec<u8>,
                /// The reference's id for it: the packetId of a lone packet; for a
                /// chain SHA-256(previousId of the packet that completed it ‖
                /// bytes) (spec §7.3, docs/compat.md#reassembly).
                packet_id: $crate::wire::packet::PacketId,
                /// For a chain: its head's packetId (the same for every receiver).
                head_id: Option<$crate::wire::packet::PacketId>,
                /// `usr2`: the publisher's public key, which signed the plaintext.
                publisher: $crate::wire::packet::IdField,
                /// Hops of the packet that completed it.
                hops: u32,
                /// Where that packet came from.
                from: $crate::peer::Remote,
                /// For a Stream: the sender it names (`usr4`).
                stream_from: Option<$crate::peer::PeerId>,
            },
            /// An event of one of our subclusters that opened but whose signature
            /// does not verify: never delivered as `Event::Packet`. The reference
            /// delivers it with `verified` unset; the payload is here for a host
            /// that wants to look (docs/compat.md#member-filter).
            Unverified {
                /// `clusterId`.
                cluster_id: [u8; 32],
                /// `subclusterId`.
                subcluster_id: [u8; 32],
                /// `usr1`.
                event_hash: $crate::wire::packet::IdField,
                /// The opened plaintext (unauthenticated as to its publisher).
                payload: $crate::__private::Vec<u8>,
                /// As in `Event::Packet`.
                packet_id: $crate::wire::packet::PacketId,
                /// The key it claims (`usr2`).
                publisher: $crate::wire::packet::IdField,
                /// Why.
                reason: $crate::peer::UnverifiedReason,
                /// Where the completing packet came from.
                from: $crate::peer::Remote,
                /// For a Stream: the sender it names.
                stream_from: Option<$crate::peer::PeerId>,
            },
            /// A packet (or chain) of one of our subclusters whose sealed message
            /// does not open with the subcluster key: forged or corrupt (the
            /// reference loses it in an unhandled rejection).
            Unopenable {
                /// `clusterId`.
                cluster_id: [u8; 32],
                /// `subclusterId`.
                subcluster_id: [u8; 32],
                /// `usr1`.
                event_hash: $crate::wire::packet::IdField,
                /// As in `Event::Packet`.
                packet_id: $crate::wire::packet::PacketId,
                /// Why it does not open.
                error: $crate::crypto::OpenError,
                /// Where the completing packet came from.
                from: $crate::peer::Remote,
                /// For a Stream: the sender it names.
                stream_from: Option<$crate::peer::PeerId>,
            },
            /// A question we cannot answer from the cache (the reference's
            /// `onQuery`). Answer it with `Peer::answer`
            /// while its return route lives; it is relayed meanwhile.
            Query {
                /// The query id (`usr3`).
                query_id: $crate::wire::packet::IdField,
                /// The question (JSON text, as sent).
                question: $crate::__private::Vec<u8>,
                /// Who sent it to us.
                from: $crate::peer::Remote,
            },
            /// An answer to a question we asked with
            /// `Peer::query` (the reference's `onAnswer`).
            /// A cached Publish of one of our subclusters that comes back this way
            /// is also cached and delivered as `Event::Packet`.
            Answer {
                /// The query id.
                query_id: $crate::wire::packet::IdField,
                /// The answer's packetId.
                packet_id: $crate::wire::packet::PacketId,
                /// Its index (-1 alone; answers in several packets are not
                /// reassembled).
                index: i32,
                /// Its message, as sent (sealed for a cached Publish).
                message: $crate::__private::Vec<u8>,
                /// Who sent it to us.
                from: $crate::peer::Remote,
            },
            /// A Sync exchange reached a level where both caches agree (or the
            /// remote sent an empty summary): nothing more to send for `prefix`.
            SyncFinished {
                /// The peer we synced with.
                remote: $crate::peer::Remote,
                /// The hex prefix that matched ("" for the whole cache).
                prefix: $crate::__private::String,
            },
        }
    };
}

events_table!(
    event_enum
    /// Something the host should know or do.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    Event
);
