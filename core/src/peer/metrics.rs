//! Counters: what came in, what went out, what was dropped or evicted and
//! why. Drops are metrics, not events: a flood must not flood the host too.

use crate::wire::PacketType;

/// A counter enum of the core (`DropReason`, `Eviction`) made from its
/// table: the enum with fixed discriminants (counter indexes, also the C
/// ABI's), `COUNT` and `ALL`. `streamrelay-ffi` makes its UniFFI enums and
/// checks its C enums against the same tables.
#[doc(hidden)]
#[macro_export]
macro_rules! counter_enum {
    (
        [$(#[doc = $doc:tt])* $name:ident, $what:literal]
        $( $(#[doc = $vdoc:tt])* $variant:ident = $n:tt, )*
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant = $n, )*
        }

        impl $name {
            #[doc = concat!("Number of ", $what, ".")]
            pub const COUNT: usize = [$($name::$variant),*].len();

            #[doc = concat!("Every one of the ", $what, ", in counter order.")]
            pub const ALL: [$name; Self::COUNT] = [$($name::$variant),*];
        }
    };
}

/// The drop reasons: every variant once, with its counter index (see
/// `counter_enum!`). Indexes never change; a new reason takes the next one.
#[doc(hidden)]
#[macro_export]
macro_rules! drop_reasons_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            /// Not a packet (bad magic, truncated, invalid control message).
            Malformed = 0,
            /// A version other than 6.
            Version = 1,
            /// Over the sender's quota.
            RateLimited = 2,
            /// The host's firewall said no.
            Firewall = 3,
            /// Types 3-8 before our NAT type is known.
            NotReady = 4,
            /// Seen before (the gate).
            Duplicate = 5,
            /// Our own packet, or about ourselves.
            Own = 6,
            /// An Intro or a rendezvous past its time, or over the hop limit.
            Stale = 7,
            /// Decodes, but a field we must use is unusable (an address that is not
            /// an IP, an invalid NAT type or port in a Join, ...).
            Invalid = 8,
            /// A datagram on a socket we do not know (or a closed pool socket).
            UnknownSocket = 9,
            /// The transmit queue was full.
            TransmitQueueFull = 10,
            /// The event queue was full.
            EventQueueFull = 11,
            /// A probe-socket datagram that is not the reflection answer we wait for.
            Probe = 12,
            /// No longer produced (the data plane handles Publish, Stream, Sync and
            /// Query); kept so counter indexes stay stable.
            DataPlaneUnhandled = 13,
            /// After `close()`.
            Closed = 14,
            /// A Pong that answers nothing we asked (unknown responder); an answer
            /// to a query we neither asked nor route; a Sync from an address not in
            /// our peer table.
            Unsolicited = 15,
            /// Content that does not match its id: a Publish head or lone packet
            /// whose packetId is not SHA-256 of its message, a chain link whose id
            /// does not follow, an answer that is not the packet asked for.
            Forged = 16,
            /// A Stream for us in a subcluster we are not in, or from a peer not in
            /// our table (as the reference).
            NotMember = 17,
            /// A Stream for a peer we do not know (or back where it came from).
            Unroutable = 18,
            /// A Sync answer cut at `limits.max_sync_sends`, or cut or refused
            /// because its address used up `limits.max_sync_sends_per_window`.
            SyncBudget = 19,
            /// An event of our subcluster that did not open or verify: not cached,
            /// not relayed by us (docs/compat.md#member-filter).
            Unauthentic = 20,
        }
    };
}

drop_reasons_table!(
    counter_enum
    /// Why an input or an output was dropped.
    DropReason, "reasons"
);

/// The eviction kinds: every variant once, with its counter index (see
/// `counter_enum!`).
#[doc(hidden)]
#[macro_export]
macro_rules! evictions_table {
    ($m:ident $($args:tt)*) => {
        $m! {
            [$($args)*]
            /// A peer-table entry (least recently heard, never an introducer).
            Peer = 0,
            /// A peer could not be added: the table is full of introducers.
            PeerRefused = 1,
            /// A pending ping retransmission.
            PendingPing = 2,
            /// A gate entry (oldest first).
            Gate = 3,
            /// A rate-limit entry (least recently used).
            Rate = 4,
            /// A return route.
            ReturnRoute = 5,
            /// An introduction could not be started: too many in progress.
            IntroRefused = 6,
            /// A traversal round found no free pool socket.
            PoolExhausted = 7,
            /// A remembered subcluster of a remote peer.
            PeerCluster = 8,
            /// A cached packet (oldest first) to make room under the byte or count
            /// limit.
            Cache = 9,
            /// An unpublished record (oldest first).
            Unpublished = 10,
            /// One of our pending questions (oldest first).
            PendingQuery = 11,
            /// An incomplete chain (oldest first), or a stream-buffer chain.
            Chain = 12,
            /// A remembered delivered id (oldest first).
            Delivered = 13,
            /// A remembered last-sync time of an address.
            SyncPeer = 14,
            /// A link could not be opened: `limits.max_links` are open.
            LinkRefused = 15,
        }
    };
}

evictions_table!(
    counter_enum
    /// What a bounded table had to let go of.
    Eviction, "kinds"
);

/// Traffic and drop counters (the reference's `metrics`, extended).
///
/// ```
/// use streamrelay::peer::{DropReason, Metrics};
/// use streamrelay::wire::PacketType;
/// let m = Metrics::default();
/// assert_eq!(m.received(PacketType::Ping), 0);
/// assert_eq!(m.dropped(DropReason::RateLimited), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Datagrams handed to `handle_datagram` (any socket).
    pub datagrams_in: u64,
    /// Packets accepted for handling, by type byte (index 1..=8).
    pub received_by_type: [u64; 9],
    /// Datagrams queued for sending, by type byte (index 0: not a packet,
    /// e.g. the spray's one byte).
    pub sent_by_type: [u64; 9],
    /// Drops, indexed by [`DropReason`].
    pub drops: [u64; DropReason::COUNT],
    /// Evictions, indexed by [`Eviction`].
    pub evictions: [u64; Eviction::COUNT],
    /// Hard-NAT traversals that connected.
    pub traversals_succeeded: u64,
    /// Hard-NAT traversals that ran out of rounds.
    pub traversals_exhausted: u64,
    /// Introductions that fell back to the introducer as proxy.
    pub proxy_fallbacks: u64,
    /// Packets of our own publishes.
    pub published: u64,
    /// Publish packets received and cached (first copies).
    pub cached: u64,
    /// Publish packets multicast on behalf of others (relays, not our own).
    pub relayed: u64,
    /// Cached packets that reached their TTL.
    pub expired: u64,
    /// Expired packets multicast once more before they were dropped.
    pub rebroadcast: u64,
    /// [`Event::Packet`](super::Event::Packet)s delivered.
    pub delivered: u64,
    /// [`Event::Unverified`](super::Event::Unverified)s.
    pub unverified: u64,
    /// [`Event::Unopenable`](super::Event::Unopenable)s.
    pub unopenable: u64,
    /// Chains reassembled (publish and stream).
    pub chains_completed: u64,
    /// Questions sent for a missing chain link.
    pub link_queries: u64,
    /// Questions we answered from the cache.
    pub queries_answered: u64,
    /// Answers passed on along a return route.
    pub answers_forwarded: u64,
    /// Sync exchanges we started.
    pub syncs_started: u64,
    /// Cached packets sent in answer to a Sync.
    pub sync_packets_sent: u64,
    /// Stream packets relayed towards their destination.
    pub streams_relayed: u64,
}

impl Metrics {
    /// Packets of type `t` accepted for handling.
    pub fn received(&self, t: PacketType) -> u64 {
        self.received_by_type[t as usize]
    }

    /// Packets of type `t` queued for sending.
    pub fn sent(&self, t: PacketType) -> u64 {
        self.sent_by_type[t as usize]
    }

    /// Inputs or outputs dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[reason as usize]
    }

    /// Entries let go of, of kind `e`.
    pub fn evicted(&self, e: Eviction) -> u64 {
        self.evictions[e as usize]
    }

    /// All drops together.
    pub fn total_dropped(&self) -> u64 {
        self.drops.iter().sum()
    }

    pub(crate) fn drop(&mut self, r: DropReason) {
        self.drops[r as usize] += 1;
    }

    pub(crate) fn evict(&mut self, e: Eviction) {
        self.evictions[e as usize] += 1;
    }
}
