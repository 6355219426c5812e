//! Allocations per handled ping, counted with a global allocator: the Ping
//! is read without allocating (`PingFields::read`) and the Pong written
//! straight to its JSON text (`PongReply`), which leaves the message text,
//! the packet's placeholder and the datagram: 3 (47 before). Fails above 4.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use streamrelay::nat::NatType;
use streamrelay::peer::{Config, Instant, Peer, Remote, SocketId};
use streamrelay::wire::control::Ping;
use streamrelay::wire::Field;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = BYTES.try_with(|c| c.set(c.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = BYTES.try_with(|c| c.set(c.get() + new_size));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn counted<R>(f: impl FnOnce() -> R) -> (R, usize, usize) {
    let (a0, b0) = (ALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let r = f();
    (r, ALLOCS.with(Cell::get) - a0, BYTES.with(Cell::get) - b0)
}

fn peer() -> Peer {
    let mut c = Config::new(&"01".repeat(32), Some([0xc1; 32]));
    c.nat_type = Some(NatType::PORT_RESTRICTED);
    c.public_address = Some("203.0.113.5:40000".parse().unwrap());
    let mut p = Peer::new(c, Instant::ZERO, [1; 32]).unwrap();
    p.handle_timeout(Instant::ZERO);
    while p.poll_transmit(Instant::ZERO).is_some() {}
    while p.poll_event().is_some() {}
    p
}

fn ping(msg: &Ping) -> Vec<u8> {
    let mut p = msg.to_packet().unwrap();
    p.set(Field::ClusterId, &[0xc1; 32]).unwrap();
    p.encode().unwrap()
}

#[test]
fn allocations_per_handled_ping() {
    let from = Remote::Udp("192.0.2.7:4000".parse().unwrap());
    let cases = [
        (
            "heartbeat (P1) -> Pong",
            ping(&Ping::heartbeat(
                &"09".repeat(32),
                Some(NatType::ADDR_RESTRICTED),
                60_000.0,
                1.7e12,
            )),
        ),
        (
            "connection (P5) -> connection Pong, known peer",
            ping(&Ping::nat_announcement(
                &"09".repeat(32),
                Some(NatType::ADDR_RESTRICTED),
                0.0,
                60_000.0,
                1.7e12,
            )),
        ),
    ];
    let mut report = String::new();
    for (name, bytes) in &cases {
        let mut p = peer();
        // Warm up: first contact creates the table entry, the rate-limit
        // entry and the event.
        p.handle_datagram(Instant(1), SocketId::Main, from, bytes);
        while p.poll_transmit(Instant(1)).is_some() {}
        while p.poll_event().is_some() {}
        let mut per = Vec::new();
        for i in 0..10u64 {
            let now = Instant(10 + i);
            let ((), n, b) = counted(|| {
                p.handle_datagram(now, SocketId::Main, from, bytes);
                let t = p.poll_transmit(now).unwrap();
                assert_eq!(t.bytes[4], 2);
                drop(t);
            });
            per.push((n, b));
        }
        // Steady state: every handled ping costs the same.
        assert!(per.windows(2).all(|w| w[0] == w[1]), "{per:?}");
        let (n, b) = per[0];
        report.push_str(&format!("{name}: {n} allocations, {b} bytes\n"));
        assert!(n <= 4, "{name}: {n} allocations per ping");
    }
    println!("{report}");
}
