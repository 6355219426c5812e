//! Status codes: what every fallible function returns.

use streamrelay::crypto::identity::KeyError;
use streamrelay::peer::{ConfigError, PeerError, SnapshotError};

/// What a call did. `SR_STATUS_OK` (0) and `SR_STATUS_EMPTY` (1) are
/// successes; every negative value is an error, and after an error no
/// out-parameter was written unless the function says otherwise
/// (`SR_STATUS_BUFFER_TOO_SMALL` writes the required length).
/// `sr_status_name` names each code.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrStatus {
    /// Success.
    Ok = 0,
    /// Success, but there was nothing to return: no queued datagram, no
    /// queued event, no timer (after `sr_peer_close`), no such index.
    Empty = 1,
    /// A required pointer argument was NULL.
    NullArgument = -1,
    /// The handle is not one this library made and has not freed (garbage,
    /// already freed, or a handle of another type). Nothing was touched.
    InvalidHandle = -2,
    /// The handle is in use by a call that has not returned: a second
    /// thread without a lock, or a re-entrant call from the firewall
    /// callback. Nothing was done; retry after that call returns.
    Busy = -3,
    /// An earlier call panicked inside this handle and its state may be
    /// inconsistent: only `sr_*_free` accepts it now.
    Poisoned = -4,
    /// This call panicked inside the library (a bug). The panic was caught;
    /// the handle involved, if any, is now poisoned.
    Panic = -5,
    /// An argument is out of range: an unknown enum value, a key or id
    /// that is not 32 bytes, a struct whose `struct_size` is too small, a
    /// UDP-only remote given a link, a length over `PTRDIFF_MAX`, an
    /// unaligned pointer.
    InvalidArgument = -6,
    /// The output buffer is too small. The required length was written to
    /// the length out-parameter, and the data is still there for the next
    /// call (a queued datagram stays queued).
    BufferTooSmall = -7,
    /// A text argument is not UTF-8.
    InvalidUtf8 = -8,
    /// `sr_peer_new` / `sr_peer_restore`: the config is refused (peer id,
    /// missing cluster id for a non-introducer, zero keepalive, invalid static
    /// NAT type, a zero limit, too many introducers).
    InvalidConfig = -9,
    /// `sr_peer_restore`: not a snapshot, or one cut short or corrupt.
    SnapshotMalformed = -10,
    /// `sr_peer_restore`: the snapshot was written by a newer format.
    SnapshotVersion = -11,
    /// `sr_peer_restore`: the snapshot belongs to another peer id.
    SnapshotIdentity = -12,
    /// `sr_peer_join`: no cluster id configured (an introducer).
    NoCluster = -13,
    /// `sr_peer_join`: already in `max_subclusters` subclusters.
    TooManySubclusters = -14,
    /// `sr_peer_add_introducer`: the peer table is full of introducers;
    /// `sr_node_add_link_fd` / `sr_node_add_link_writer`: the node has its
    /// maximum of links open.
    TableFull = -15,
    /// `sr_peer_add_introducer`: that is this peer's own id.
    OwnId = -16,
    /// The peer is closed (`sr_peer_close`); only inspection, polling and
    /// `sr_peer_free` still work.
    Closed = -17,
    /// A seed or key is refused: an empty text seed, a byte seed for a key
    /// pair that is not 32 bytes.
    InvalidKey = -18,
    /// `sr_packet_decode`: the bytes are not a valid packet.
    MalformedPacket = -19,
    /// `sr_packet_encode`: a field is longer than the wire allows.
    PacketTooLong = -20,
    /// `sr_vectors_check_file`: the file cannot be read or is not a vector
    /// file.
    VectorFile = -21,
    /// `sr_peer_publish` / `sr_peer_stream`: the config has no signing keys
    /// (`sr_config_set_signing_keys`).
    NoSigningKeys = -22,
    /// `sr_peer_publish` / `sr_peer_stream`: the event cannot be packed (an
    /// empty event name, a chain head over 1024 bytes because of a large
    /// `meta`, a clock overflow).
    PackFailed = -23,
    /// A payload, question or answer over its limit
    /// (`limits.reassembly_max_bytes` for a sealed event, 1024 bytes for a
    /// question).
    TooLarge = -24,
    /// `sr_peer_stream` / `sr_peer_sync`: no peer with that id in the table.
    UnknownPeer = -25,
    /// `sr_peer_publish`: the `parent` packet is not in the cache.
    UnknownPacket = -26,
    /// `sr_peer_answer`: no return route for that query id (it expired, or
    /// never came).
    UnknownQuery = -27,
    /// `sr_peer_query`: the same question was asked within the last tick.
    DuplicateQuery = -28,
    /// A JSON argument (a question, a chain head's `meta`) is not a JSON
    /// object.
    InvalidJson = -29,
    /// `sr_node_start`: a socket would not bind, or the node's event loop
    /// could not start (the OS refused).
    Io = -30,
    /// `sr_node_save` / `sr_node_close`: the state file could not be
    /// written (the node carries on, or closed, without it).
    StateFile = -31,
    /// `sr_node_link_input` / `sr_node_remove_link` / ...: no open link
    /// with that id (it was removed, or closed at end of stream).
    UnknownLink = -32,
}

impl From<ConfigError> for SrStatus {
    fn from(_: ConfigError) -> Self {
        SrStatus::InvalidConfig
    }
}

impl From<SnapshotError> for SrStatus {
    fn from(e: SnapshotError) -> Self {
        match e {
            SnapshotError::Malformed => SrStatus::SnapshotMalformed,
            SnapshotError::Version(_) => SrStatus::SnapshotVersion,
            SnapshotError::IdentityMismatch => SrStatus::SnapshotIdentity,
            SnapshotError::Config(_) => SrStatus::InvalidConfig,
        }
    }
}

impl From<PeerError> for SrStatus {
    fn from(e: PeerError) -> Self {
        match e {
            PeerError::NoCluster => SrStatus::NoCluster,
            PeerError::TooManySubclusters(_) => SrStatus::TooManySubclusters,
            PeerError::TableFull => SrStatus::TableFull,
            PeerError::OwnId => SrStatus::OwnId,
            PeerError::Closed => SrStatus::Closed,
            PeerError::NoSigningKeys => SrStatus::NoSigningKeys,
            PeerError::Pack(_) => SrStatus::PackFailed,
            PeerError::TooLarge(_) => SrStatus::TooLarge,
            PeerError::UnknownPeer => SrStatus::UnknownPeer,
            PeerError::UnknownPacket => SrStatus::UnknownPacket,
            PeerError::UnknownQuery => SrStatus::UnknownQuery,
            PeerError::DuplicateQuery => SrStatus::DuplicateQuery,
        }
    }
}

impl From<KeyError> for SrStatus {
    fn from(_: KeyError) -> Self {
        SrStatus::InvalidKey
    }
}

/// Every code, for the name table and the tests.
const ALL: [(SrStatus, &str); 34] = [
    (SrStatus::Ok, "SR_STATUS_OK\0"),
    (SrStatus::Empty, "SR_STATUS_EMPTY\0"),
    (SrStatus::NullArgument, "SR_STATUS_NULL_ARGUMENT\0"),
    (SrStatus::InvalidHandle, "SR_STATUS_INVALID_HANDLE\0"),
    (SrStatus::Busy, "SR_STATUS_BUSY\0"),
    (SrStatus::Poisoned, "SR_STATUS_POISONED\0"),
    (SrStatus::Panic, "SR_STATUS_PANIC\0"),
    (SrStatus::InvalidArgument, "SR_STATUS_INVALID_ARGUMENT\0"),
    (SrStatus::BufferTooSmall, "SR_STATUS_BUFFER_TOO_SMALL\0"),
    (SrStatus::InvalidUtf8, "SR_STATUS_INVALID_UTF8\0"),
    (SrStatus::InvalidConfig, "SR_STATUS_INVALID_CONFIG\0"),
    (
        SrStatus::SnapshotMalformed,
        "SR_STATUS_SNAPSHOT_MALFORMED\0",
    ),
    (SrStatus::SnapshotVersion, "SR_STATUS_SNAPSHOT_VERSION\0"),
    (SrStatus::SnapshotIdentity, "SR_STATUS_SNAPSHOT_IDENTITY\0"),
    (SrStatus::NoCluster, "SR_STATUS_NO_CLUSTER\0"),
    (
        SrStatus::TooManySubclusters,
        "SR_STATUS_TOO_MANY_SUBCLUSTERS\0",
    ),
    (SrStatus::TableFull, "SR_STATUS_TABLE_FULL\0"),
    (SrStatus::OwnId, "SR_STATUS_OWN_ID\0"),
    (SrStatus::Closed, "SR_STATUS_CLOSED\0"),
    (SrStatus::InvalidKey, "SR_STATUS_INVALID_KEY\0"),
    (SrStatus::MalformedPacket, "SR_STATUS_MALFORMED_PACKET\0"),
    (SrStatus::PacketTooLong, "SR_STATUS_PACKET_TOO_LONG\0"),
    (SrStatus::VectorFile, "SR_STATUS_VECTOR_FILE\0"),
    (SrStatus::NoSigningKeys, "SR_STATUS_NO_SIGNING_KEYS\0"),
    (SrStatus::PackFailed, "SR_STATUS_PACK_FAILED\0"),
    (SrStatus::TooLarge, "SR_STATUS_TOO_LARGE\0"),
    (SrStatus::UnknownPeer, "SR_STATUS_UNKNOWN_PEER\0"),
    (SrStatus::UnknownPacket, "SR_STATUS_UNKNOWN_PACKET\0"),
    (SrStatus::UnknownQuery, "SR_STATUS_UNKNOWN_QUERY\0"),
    (SrStatus::DuplicateQuery, "SR_STATUS_DUPLICATE_QUERY\0"),
    (SrStatus::InvalidJson, "SR_STATUS_INVALID_JSON\0"),
    (SrStatus::Io, "SR_STATUS_IO\0"),
    (SrStatus::StateFile, "SR_STATUS_STATE_FILE\0"),
    (SrStatus::UnknownLink, "SR_STATUS_UNKNOWN_LINK\0"),
];

/// The name of a status code ("SR_STATUS_BUSY") as a static NUL-terminated
/// string, or "SR_STATUS_UNKNOWN" for a value that is not a code. Takes an
/// `int32_t` so any value is safe to pass. Never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn sr_status_name(status: i32) -> *const core::ffi::c_char {
    let name = ALL
        .iter()
        .find(|(s, _)| *s as i32 == status)
        .map_or("SR_STATUS_UNKNOWN\0", |(_, n)| n);
    name.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_nul_terminated_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for (s, n) in ALL {
            assert!(n.ends_with('\0') && n.starts_with("SR_STATUS_"));
            assert!(seen.insert(s as i32));
            // SAFETY: sr_status_name returns a static NUL-terminated string.
            let got = unsafe { core::ffi::CStr::from_ptr(sr_status_name(s as i32)) };
            assert_eq!(got.to_bytes(), &n.as_bytes()[..n.len() - 1]);
        }
        // SAFETY: as above.
        let unknown = unsafe { core::ffi::CStr::from_ptr(sr_status_name(12345)) };
        assert_eq!(unknown.to_bytes(), b"SR_STATUS_UNKNOWN");
    }
}
