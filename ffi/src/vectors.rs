//! The golden-vector runner over the C ABI (cargo feature `vectors`; the
//! header declares it under `STREAMRELAY_VECTORS`).

use core::ffi::{c_char, c_void};

use crate::handle::guard;
use crate::status::SrStatus;
use crate::types::{put_sized, text_in};

/// Totals of a vector run. Extensible: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrVectorReport {
    /// `sizeof(SrVectorReport)`, set by the caller.
    pub struct_size: u32,
    /// Zero.
    pub reserved0: u32,
    /// Cases that matched the reference.
    pub passed: u64,
    /// Cases that did not.
    pub failed: u64,
    /// Documented deviations (quirks of the reference we do not reproduce;
    /// each names its entry in docs/compat.md).
    pub deviations: u64,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

/// Receives one report line (a failure or a deviation): `len` bytes of
/// UTF-8 at `line`, NUL-terminated too, valid for the call only.
pub type SrLineFn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, line: *const c_char, len: usize)>;

/// Runs every case of the vector file at `path` (UTF-8, `path_len` bytes)
/// through the core, as `streamrelay vectors check` does, and writes the
/// totals to `out_report`. Each failure and deviation line goes to
/// `on_line` (NULL: none). A file that cannot be read or is not a vector
/// file is `SR_STATUS_VECTOR_FILE`; failed cases are not an error of the
/// call (read `failed`).
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out_report` valid for
/// reading and writing an `SrVectorReport`; `on_line` safe to call with
/// `user_data`.
#[no_mangle]
pub unsafe extern "C" fn sr_vectors_check_file(
    path: *const u8,
    path_len: usize,
    on_line: SrLineFn,
    user_data: *mut c_void,
    out_report: *mut SrVectorReport,
) -> SrStatus {
    guard(|| {
        if path.is_null() {
            return Err(SrStatus::NullArgument);
        }
        // SAFETY: the caller's contract for `out_report`.
        unsafe { crate::types::struct_size(out_report) }?;
        // SAFETY: the caller's contract for `path`.
        let path = unsafe { text_in(path, path_len) }?;
        let r = streamrelay_vectors::check_file(path.as_ref(), &[])
            .map_err(|_| SrStatus::VectorFile)?;
        if let Some(f) = on_line {
            for l in &r.lines {
                let mut c = Vec::with_capacity(l.len() + 1);
                c.extend_from_slice(l.as_bytes());
                c.push(0);
                // SAFETY: the host registered `f` with `user_data`; the line
                // lives for the call.
                unsafe { f(user_data, c.as_ptr().cast(), l.len()) };
            }
        }
        let report = |struct_size| SrVectorReport {
            struct_size,
            reserved0: 0,
            passed: r.passed as u64,
            failed: r.failed as u64,
            deviations: r.deviations as u64,
            reserved: [0; 4],
        };
        // SAFETY: the caller's contract for `out_report`.
        unsafe { put_sized(out_report, report) }?;
        Ok(SrStatus::Ok)
    })
}
