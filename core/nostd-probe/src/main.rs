//! Proof that `streamrelay` builds and links without `std`: this binary has
//! its own panic handler and a bump allocator, and decodes and encodes a
//! packet through the library. A dependency that pulls in `std` would bring
//! std's own panic handler and fail the link with a duplicate `panic_impl`.
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::panic::PanicInfo;

use streamrelay::wire::{Packet, PacketRef, PacketType};

const HEAP: usize = 64 * 1024;

struct Bump {
    heap: UnsafeCell<[u8; HEAP]>,
    next: UnsafeCell<usize>,
}

// SAFETY: the probe is single-threaded.
unsafe impl Sync for Bump {}

// SAFETY: hands out disjoint, aligned slices of a static array; never frees.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let next = &mut *self.next.get();
        let start = (*next + layout.align() - 1) & !(layout.align() - 1);
        let end = start + layout.size();
        if end > HEAP {
            return core::ptr::null_mut();
        }
        *next = end;
        (self.heap.get() as *mut u8).add(start)
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump {
    heap: UnsafeCell::new([0; HEAP]),
    next: UnsafeCell::new(0),
};

// Without std nothing links libc: link it for the C start files that call
// `main`, and for `memcpy` and friends.
#[link(name = "c")]
extern "C" {}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut p = Packet::new(PacketType::Publish);
    p.message = alloc::vec::Vec::from(&b"no_std"[..]);
    let mut buf = [0u8; 256];
    let Ok(n) = p.encode_into(&mut buf) else {
        return 2;
    };
    match PacketRef::decode(&buf[..n]) {
        Ok(r) if r.message == b"no_std" => 0,
        _ => 1,
    }
}
