//! `PacketRef::decode` (with the control-message validation) and
//! `encode_into` must not touch the heap. A counting global allocator makes
//! this a test that fails if it regresses.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use streamrelay::nat::NatType;
use streamrelay::wire::control::{Intro, Join, Ping};
use streamrelay::wire::{Field, Packet, PacketRef, PacketType};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (r, ALLOCS.with(Cell::get) - before)
}

const PEER: &str = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";

#[test]
fn decode_and_encode_into_do_not_allocate() {
    let mut packets = vec![
        Ping::heartbeat(PEER, Some(NatType::PORT_RESTRICTED), 1.0, 2.0)
            .to_packet()
            .unwrap(),
        Intro::introduce(PEER, PEER, true, NatType::UNRESTRICTED, "1.2.3.4", 5)
            .to_packet()
            .unwrap(),
        Join::announce(PEER, None, "203.0.113.5", 40000, "k")
            .to_packet()
            .unwrap(),
    ];
    let mut big = Packet::new(PacketType::Publish);
    for f in Field::VARIABLE {
        big.set(f, &vec![7; f.max_len()]).unwrap();
    }
    packets.push(big);
    packets.push(Packet::new(PacketType::Sync));
    let frames: Vec<Vec<u8>> = packets.iter().map(|p| p.encode().unwrap()).collect();
    let mut out = [0u8; 1500];
    for frame in &frames {
        let (n, count) = allocations(|| {
            let r = PacketRef::decode(frame).unwrap();
            // Re-send with one more hop, as a relay does.
            let mut r2 = r;
            r2.hops += 1;
            r2.encode_into(&mut out).unwrap()
        });
        assert_eq!(n, frame.len());
        assert_eq!(count, 0, "decode + encode_into allocated {count} times");
    }
    // Rejections do not allocate either.
    let (r, count) = allocations(|| PacketRef::decode(&frames[0][..60]).is_err());
    assert!(r);
    assert_eq!(count, 0);
}
