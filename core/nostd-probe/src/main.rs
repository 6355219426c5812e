//! Proof that `streamrelay` builds and links without `std`: this binary has
//! its own panic handler and a bump allocator, and decodes and encodes a
//! packet through the library. A dependency that pulls in `std` would bring a
//! second `#[panic_handler]` (std's) and fail the link.
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::panic::PanicInfo;

use streamrelay::wire::{Packet, PacketRef, PacketType};

struct Bump {
    heap: UnsafeCell<[u8; 64 * 1024]>,
    next: UnsafeCell<usize>,
}

// SAFETY: the probe is single-threaded.
unsafe impl Sync for Bump {}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let next = &mut *self.next.get();
        let start = (*next + layout.align() - 1) & !(layout.align() - 1);
        let end = start + layout.size();
        if end > 64 * 1024 {
            return core::ptr::null_mut();
        }
        *next = end;
        (self.heap.get() as *mut u8).add(start)
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump {
    heap: UnsafeCell::new([0; 64 * 1024]),
    next: UnsafeCell::new(0),
};

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut p = Packet::new(PacketType::Publish);
    p.message = alloc::vec::Vec::from(&b"no_std"[..]);
    let mut buf = [0u8; 256];
    let Ok(n) = p.encode_into(&mut buf) else { return 2 };
    match PacketRef::decode(&buf[..n]) {
        Ok(r) if r.message == b"no_std" => 0,
        _ => 1,
    }
}
