//! The data plane: publish, stream, query, answer, sync, and the cache.

use streamrelay::crypto::identity::SharedKey;
use streamrelay::peer::{Instant, PeerId, PublishOptions};
use streamrelay::wire::control::QueryQuestion;
use streamrelay::wire::packet::PacketId;

use crate::handle::SrPeer;
use crate::peer::{on_peer, PeerState};
use crate::status::SrStatus;
use crate::types::{
    array32, bytes_in, check_out, copy_out, get, put, struct_size, text_in, SrBytes,
};

/// The largest id the library hands out (packet ids, query ids): a buffer
/// of this many bytes always fits one.
pub const SR_MAX_ID_LEN: usize = 32;

/// A list of ids (each an `SrBytes` of at most `SR_MAX_ID_LEN` bytes),
/// borrowed from the peer handle: valid until the next call on it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrIdList {
    /// The ids.
    pub ids: *const SrBytes,
    /// How many.
    pub len: usize,
}

/// Options of `sr_peer_publish` and `sr_peer_stream`. Extensible: set
/// `struct_size`. Zeroed fields mean the defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrPublishOptions {
    /// `sizeof(SrPublishOptions)`, set by the caller.
    pub struct_size: u32,
    /// Cache lifetime in ms, capped at 6 h (0: 6 h).
    pub ttl_ms: u32,
    /// Nonzero: publish in `cluster_id` instead of the configured cluster.
    pub has_cluster_id: u8,
    /// Zero.
    pub reserved0: [u8; 7],
    /// The other cluster (`has_cluster_id`).
    pub cluster_id: [u8; 32],
    /// The chain head's `meta` as JSON text (used only when the message is
    /// split into a chain); empty: `{}`.
    pub meta_json: SrBytes,
    /// Chain after this cached packet (its packetId); empty: none.
    pub parent: SrBytes,
    /// `nextId` of the last packet; empty: none.
    pub next_id: SrBytes,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

impl PeerState {
    /// Keeps `ids` in the handle and lends them to C.
    fn lend_ids(&mut self, ids: Vec<PacketId>) -> SrIdList {
        self.ids = ids;
        self.id_views = self.ids.iter().map(|i| SrBytes::of(i)).collect();
        SrIdList {
            ids: self.id_views.as_ptr(),
            len: self.id_views.len(),
        }
    }
}

fn packet_id(b: &[u8]) -> Result<PacketId, SrStatus> {
    PacketId::from_slice(b).map_err(|_| SrStatus::InvalidArgument)
}

/// Options from C (NULL: the defaults).
///
/// # Safety
/// `options` must be NULL or valid for reading an `SrPublishOptions` whose
/// byte fields point to readable bytes.
unsafe fn options_in(options: *const SrPublishOptions) -> Result<PublishOptions, SrStatus> {
    let mut o = PublishOptions::new();
    if options.is_null() {
        return Ok(o);
    }
    // SAFETY: the caller's contract; every field is an integer or pointer.
    let v = unsafe { struct_size(options).and_then(|_| get(options)) }?;
    if v.ttl_ms != 0 {
        o.ttl = Some(v.ttl_ms);
    }
    if v.has_cluster_id != 0 {
        o.cluster_id = Some(v.cluster_id);
    }
    // SAFETY: the caller's contract for the byte fields.
    let (meta, parent, next) = unsafe {
        (
            bytes_in(v.meta_json.ptr, v.meta_json.len)?,
            bytes_in(v.parent.ptr, v.parent.len)?,
            bytes_in(v.next_id.ptr, v.next_id.len)?,
        )
    };
    if !meta.is_empty() {
        o.meta = Some(streamrelay::wire::json::parse(meta).map_err(|_| SrStatus::InvalidJson)?);
    }
    if !parent.is_empty() {
        o.parent = Some(packet_id(parent)?);
    }
    if !next.is_empty() {
        o.next_id = Some(packet_id(next)?);
    }
    Ok(o)
}

/// Publishes an event to the subcluster of the 32-byte `shared_key`: sealed
/// with the subcluster key, signed with the config's signing keys, split
/// into a chain when it does not fit one packet, cached and multicast (kept
/// and re-sent while it reaches nobody). Members receive it as
/// `SR_EVENT_KIND_PACKET`; this peer does not. `out_ids` (may be NULL)
/// receives the packetIds, head first, borrowed from the handle.
///
/// Returns `SR_STATUS_NO_SIGNING_KEYS`, `SR_STATUS_NO_CLUSTER`,
/// `SR_STATUS_TOO_LARGE`, `SR_STATUS_PACK_FAILED` (e.g. an empty event
/// name), `SR_STATUS_UNKNOWN_PACKET` (parent), `SR_STATUS_INVALID_JSON`
/// (meta) or `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `peer` must be NULL or a peer handle; each buffer must point to its
/// length of readable bytes (`event_name` is UTF-8, not NUL-terminated);
/// `options` NULL or valid; `out_ids` NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_publish(
    peer: *mut SrPeer,
    now_ms: u64,
    shared_key: *const u8,
    shared_key_len: usize,
    event_name: *const u8,
    event_name_len: usize,
    payload: *const u8,
    payload_len: usize,
    options: *const SrPublishOptions,
    out_ids: *mut SrIdList,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for each argument.
        let (key, name, payload, opts) = unsafe {
            (
                SharedKey::from_bytes(array32(shared_key, shared_key_len)?),
                text_in(event_name, event_name_len)?,
                bytes_in(payload, payload_len)?,
                options_in(options)?,
            )
        };
        if !out_ids.is_null() {
            check_out(out_ids)?;
        }
        let ids = s
            .peer
            .publish(Instant(now_ms), &key, name, payload, &opts)?;
        let list = s.lend_ids(ids);
        if !out_ids.is_null() {
            // SAFETY: checked non-NULL and aligned; writable (caller).
            unsafe { put(out_ids, list) }?;
        }
        Ok(SrStatus::Ok)
    })
}

/// Streams an event to one peer of the table (32-byte `peer_id`): packed
/// and sealed as `sr_peer_publish`, sent to it (or its proxy), never cached
/// or multicast. It receives it as `SR_EVENT_KIND_PACKET` with
/// `has_stream_from`. `out_ids` as `sr_peer_publish`.
///
/// Returns `SR_STATUS_UNKNOWN_PEER` when the peer is not in the table, and
/// the refusals of `sr_peer_publish`.
///
/// # Safety
/// As `sr_peer_publish`; `peer_id` must point to `peer_id_len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_stream(
    peer: *mut SrPeer,
    now_ms: u64,
    peer_id: *const u8,
    peer_id_len: usize,
    shared_key: *const u8,
    shared_key_len: usize,
    event_name: *const u8,
    event_name_len: usize,
    payload: *const u8,
    payload_len: usize,
    options: *const SrPublishOptions,
    out_ids: *mut SrIdList,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for each argument.
        let (to, key, name, payload, opts) = unsafe {
            (
                PeerId(array32(peer_id, peer_id_len)?),
                SharedKey::from_bytes(array32(shared_key, shared_key_len)?),
                text_in(event_name, event_name_len)?,
                bytes_in(payload, payload_len)?,
                options_in(options)?,
            )
        };
        if !out_ids.is_null() {
            check_out(out_ids)?;
        }
        let ids = s
            .peer
            .stream(Instant(now_ms), &to, &key, name, payload, &opts)?;
        let list = s.lend_ids(ids);
        if !out_ids.is_null() {
            // SAFETY: checked non-NULL and aligned; writable (caller).
            unsafe { put(out_ids, list) }?;
        }
        Ok(SrStatus::Ok)
    })
}

/// Asks the network a question: `question_json` is a JSON object
/// (`{"packetId":"<hex>"}` asks for one cached packet). Answers come as
/// `SR_EVENT_KIND_ANSWER`. The query id (at most `SR_MAX_ID_LEN` bytes) is
/// copied to `out_query_id`, its length to `out_query_id_len_written`;
/// `out_query_id_len` must be at least `SR_MAX_ID_LEN`
/// (`SR_STATUS_BUFFER_TOO_SMALL`, checked before anything is sent).
///
/// Returns `SR_STATUS_INVALID_JSON`, `SR_STATUS_TOO_LARGE`,
/// `SR_STATUS_DUPLICATE_QUERY` or `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `question_json` must point to
/// `question_json_len` readable bytes; `out_query_id` to `out_query_id_len`
/// writable bytes; `out_query_id_len_written` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_query(
    peer: *mut SrPeer,
    now_ms: u64,
    question_json: *const u8,
    question_json_len: usize,
    out_query_id: *mut u8,
    out_query_id_len: usize,
    out_query_id_len_written: *mut usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contracts, forwarded.
        unsafe {
            query_io(
                question_json,
                question_json_len,
                out_query_id,
                out_query_id_len,
                out_query_id_len_written,
                |q| Ok(s.peer.query(Instant(now_ms), q)?),
            )
        }
    })
}

/// The C side of a query (`sr_peer_query`, `sr_node_query`): checks the
/// outputs before anything is sent, parses the question, asks `ask`, and
/// copies the query id out.
///
/// # Safety
/// `question_json` must point to `question_json_len` readable bytes;
/// `out_query_id` to `out_query_id_len` writable bytes;
/// `out_query_id_len_written` valid for writing.
pub(crate) unsafe fn query_io(
    question_json: *const u8,
    question_json_len: usize,
    out_query_id: *mut u8,
    out_query_id_len: usize,
    out_query_id_len_written: *mut usize,
    ask: impl FnOnce(&QueryQuestion) -> Result<streamrelay::wire::packet::IdField, SrStatus>,
) -> Result<SrStatus, SrStatus> {
    if question_json.is_null() || out_query_id.is_null() {
        return Err(SrStatus::NullArgument);
    }
    check_out(out_query_id_len_written)?;
    if out_query_id_len < SR_MAX_ID_LEN {
        return Err(SrStatus::BufferTooSmall);
    }
    // SAFETY: the caller's contract for `question_json`.
    let q = unsafe { bytes_in(question_json, question_json_len) }?;
    let question = QueryQuestion::parse(q).map_err(|_| SrStatus::InvalidJson)?;
    let id = ask(&question)?;
    // SAFETY: the caller's contracts for both outputs.
    unsafe {
        copy_out(out_query_id, out_query_id_len, &id)?;
        put(out_query_id_len_written, id.len())?;
    }
    Ok(SrStatus::Ok)
}

/// Answers a question received as `SR_EVENT_KIND_QUERY` (its `query_id`):
/// `message` goes back along the question's return route (split into
/// several packets over 1024 bytes). `out_ids` (may be NULL) as
/// `sr_peer_publish`.
///
/// Returns `SR_STATUS_UNKNOWN_QUERY` when the route expired,
/// `SR_STATUS_TOO_LARGE`, `SR_STATUS_PACK_FAILED` or `SR_STATUS_CLOSED`.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `query_id` and `message` must
/// point to their lengths of readable bytes; `out_ids` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_answer(
    peer: *mut SrPeer,
    now_ms: u64,
    query_id: *const u8,
    query_id_len: usize,
    message: *const u8,
    message_len: usize,
    out_ids: *mut SrIdList,
) -> SrStatus {
    on_peer(peer, |s| {
        if query_id.is_null() {
            return Err(SrStatus::NullArgument);
        }
        // SAFETY: the caller's contracts for `query_id` and `message`.
        let (qid, msg) = unsafe {
            (
                bytes_in(query_id, query_id_len)?,
                bytes_in(message, message_len)?,
            )
        };
        if !out_ids.is_null() {
            check_out(out_ids)?;
        }
        let ids = s.peer.answer(Instant(now_ms), qid, msg)?;
        let list = s.lend_ids(ids);
        if !out_ids.is_null() {
            // SAFETY: checked non-NULL and aligned; writable (caller).
            unsafe { put(out_ids, list) }?;
        }
        Ok(SrStatus::Ok)
    })
}

/// Starts a cache Sync with a peer of the table (32-byte `peer_id`). Peers
/// also sync on first contact unless `sr_config_set_auto_sync(false)`.
///
/// Returns `SR_STATUS_UNKNOWN_PEER` or `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `peer_id` must point to
/// `peer_id_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_sync(
    peer: *mut SrPeer,
    now_ms: u64,
    peer_id: *const u8,
    peer_id_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `peer_id`.
        let id = PeerId(unsafe { array32(peer_id, peer_id_len) }?);
        s.peer.sync(Instant(now_ms), &id)?;
        Ok(SrStatus::Ok)
    })
}

/// The cached packet with this packetId (its encoded bytes), borrowed from
/// the handle. `SR_STATUS_EMPTY` when it is not cached.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `packet_id` must point to
/// `packet_id_len` readable bytes; `out_packet` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_cached(
    peer: *mut SrPeer,
    packet_id: *const u8,
    packet_id_len: usize,
    out_packet: *mut SrBytes,
) -> SrStatus {
    on_peer(peer, |s| {
        if packet_id.is_null() {
            return Err(SrStatus::NullArgument);
        }
        check_out(out_packet)?;
        // SAFETY: the caller's contract for `packet_id`.
        let id = unsafe { bytes_in(packet_id, packet_id_len) }?;
        let Some(bytes) = s.peer.cached(id) else {
            return Ok(SrStatus::Empty);
        };
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_packet, SrBytes::of(bytes)) }?;
        Ok(SrStatus::Ok)
    })
}

/// The packetIds in the cache, borrowed from the handle.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_ids` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_cached_ids(peer: *mut SrPeer, out_ids: *mut SrIdList) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_ids)?;
        let ids = s.peer.cached_ids().cloned().collect();
        let list = s.lend_ids(ids);
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_ids, list) }?;
        Ok(SrStatus::Ok)
    })
}

/// Our own packets not yet sent to anyone (re-sent every tick), borrowed
/// from the handle.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_ids` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_unpublished_ids(
    peer: *mut SrPeer,
    out_ids: *mut SrIdList,
) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_ids)?;
        let ids = s.peer.unpublished().cloned().collect();
        let list = s.lend_ids(ids);
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_ids, list) }?;
        Ok(SrStatus::Ok)
    })
}

/// The root hash of the cache summary (40 hex digits, ASCII, not
/// NUL-terminated) that goes out in Pings and Pongs, borrowed from the
/// handle.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_hash` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_cache_summary_hash(
    peer: *mut SrPeer,
    out_hash: *mut SrBytes,
) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_hash)?;
        let h = SrBytes::of(s.peer.cache_summary_hash().as_bytes());
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_hash, h) }?;
        Ok(SrStatus::Ok)
    })
}
