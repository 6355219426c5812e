//! Packets as C sees them: a borrowed view (the firewall callback, events)
//! and the codec (`sr_packet_decode`, `sr_packet_encode`).

use streamrelay::wire::packet::EncodeError;
use streamrelay::wire::{PacketRef, PacketType};

use crate::handle::guard;
use crate::status::SrStatus;
use crate::types::{bytes_in, bytes_out, check_out, put, struct_size, SrBytes};

/// A packet's fields, borrowed. Where the view comes from says how long
/// the bytes live: `sr_packet_decode` borrows the caller's datagram; the
/// firewall callback's view lives for the callback only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrPacketView {
    /// `sizeof(SrPacketView)`, set by the caller when it passes one in.
    pub struct_size: u32,
    /// The type byte (1 Ping, 2 Pong, 3 Intro, 4 Join, 5 Publish, 6 Stream,
    /// 7 Sync, 8 Query).
    pub packet_type: u8,
    /// Zero.
    pub reserved0: u8,
    /// The protocol version (6).
    pub version: u16,
    /// Lamport-like counter.
    pub clock: u32,
    /// Times multicast so far.
    pub hops: u32,
    /// -1 alone, 0 chain head, 1 or more a fragment.
    pub index: i32,
    /// Cache lifetime in ms.
    pub ttl: u32,
    /// Application network id.
    pub cluster_id: SrBytes,
    /// Subcluster public key.
    pub subcluster_id: SrBytes,
    /// Parent or chain-head id.
    pub previous_id: SrBytes,
    /// Packet id.
    pub packet_id: SrBytes,
    /// Next id in a chain.
    pub next_id: SrBytes,
    /// User field 1.
    pub usr1: SrBytes,
    /// User field 2.
    pub usr2: SrBytes,
    /// User field 3.
    pub usr3: SrBytes,
    /// User field 4.
    pub usr4: SrBytes,
    /// The message body (JSON text for control messages).
    pub message: SrBytes,
    /// Signature field.
    pub sig: SrBytes,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

impl SrPacketView {
    pub(crate) fn of(p: &PacketRef<'_>, struct_size: u32) -> SrPacketView {
        SrPacketView {
            struct_size,
            packet_type: p.packet_type as u8,
            reserved0: 0,
            version: p.version,
            clock: p.clock,
            hops: p.hops,
            index: p.index,
            ttl: p.ttl,
            cluster_id: SrBytes::of(p.cluster_id),
            subcluster_id: SrBytes::of(p.subcluster_id),
            previous_id: SrBytes::of(p.previous_id),
            packet_id: SrBytes::of(p.packet_id),
            next_id: SrBytes::of(p.next_id),
            usr1: SrBytes::of(p.usr1),
            usr2: SrBytes::of(p.usr2),
            usr3: SrBytes::of(p.usr3),
            usr4: SrBytes::of(p.usr4),
            message: SrBytes::of(p.message),
            sig: SrBytes::of(p.sig),
            reserved: [0; 4],
        }
    }
}

/// Decodes a datagram with the protocol's acceptance rules (magic, field
/// bounds, a known type, and for types 1-4 a valid JSON control message).
/// The view borrows `bytes`: it is valid while they are.
///
/// Returns `SR_STATUS_MALFORMED_PACKET` for bytes that are not a packet.
///
/// # Safety
/// `bytes` must point to `bytes_len` readable bytes; `out_view` must be
/// valid for reading and writing an `SrPacketView` whose `struct_size` the
/// caller set.
#[no_mangle]
pub unsafe extern "C" fn sr_packet_decode(
    bytes: *const u8,
    bytes_len: usize,
    out_view: *mut SrPacketView,
) -> SrStatus {
    guard(|| {
        // SAFETY: the caller's contract for `out_view`.
        let size = unsafe { struct_size(out_view) }?;
        // SAFETY: the caller's contract for `bytes`; the view's pointers
        // borrow them, as documented.
        let b = unsafe { bytes_in(bytes, bytes_len) }?;
        let p = PacketRef::decode(b).map_err(|_| SrStatus::MalformedPacket)?;
        // SAFETY: checked by `struct_size`; writable (caller).
        unsafe { put(out_view, SrPacketView::of(&p, size)) }?;
        Ok(SrStatus::Ok)
    })
}

/// Encodes `view` into `buf`. `out_len` receives the encoded length, also
/// when `buf` is too small (`SR_STATUS_BUFFER_TOO_SMALL`; NULL `buf` with
/// `buf_len` 0 asks for the length). A default (`00`) packet id is computed
/// as the protocol says. Every field must be at most its wire maximum
/// (`SR_STATUS_PACKET_TOO_LONG`); an unknown type is
/// `SR_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `view` must be valid for reading an `SrPacketView` whose byte fields
/// point to readable bytes; `buf` to `buf_len` writable bytes; `out_len`
/// valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn sr_packet_encode(
    view: *const SrPacketView,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> SrStatus {
    guard(|| {
        check_out(out_len)?;
        // SAFETY: the caller's contract for `view`.
        unsafe { struct_size(view) }?;
        // SAFETY: checked non-NULL and aligned; the fields are integers and
        // pointers (any bit pattern is valid).
        let v = unsafe { view.read() };
        // SAFETY: the caller's contract for each field's bytes.
        let f = |b: SrBytes| unsafe { bytes_in(b.ptr, b.len) };
        let p = PacketRef {
            packet_type: PacketType::from_u8(v.packet_type).ok_or(SrStatus::InvalidArgument)?,
            version: v.version,
            clock: v.clock,
            hops: v.hops,
            index: v.index,
            ttl: v.ttl,
            cluster_id: f(v.cluster_id)?,
            subcluster_id: f(v.subcluster_id)?,
            previous_id: f(v.previous_id)?,
            packet_id: f(v.packet_id)?,
            next_id: f(v.next_id)?,
            usr1: f(v.usr1)?,
            usr2: f(v.usr2)?,
            usr3: f(v.usr3)?,
            usr4: f(v.usr4)?,
            message: f(v.message)?,
            sig: f(v.sig)?,
        };
        // Field lengths first: an over-long field is an error whatever the
        // buffer.
        if let Err(EncodeError::FieldTooLong { .. }) = p.encode_into(&mut []) {
            return Err(SrStatus::PacketTooLong);
        }
        let need = p.encoded_len();
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_len, need) }?;
        if buf_len < need {
            return Err(SrStatus::BufferTooSmall);
        }
        // SAFETY: the caller's contract for `buf`.
        let out = unsafe { bytes_out(buf, buf_len) }?;
        p.encode_into(out).map_err(|_| SrStatus::PacketTooLong)?;
        Ok(SrStatus::Ok)
    })
}
