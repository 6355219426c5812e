//! Floods of the data plane: the cache stays at its cap (bytes charged and
//! real heap, measured with a counting allocator), nothing panics, forged
//! packets never reach the app as verified.
//!
//! `STREAMRELAY_FLOOD=n` sets the number of unique publishes (default
//! 20 000, quick in a debug build). With `n` ≥ 200 000 the cache runs at
//! its default cap (16 MB); below, at 1 MB so eviction is exercised. Run
//! the big one in release:
//! `STREAMRELAY_FLOOD=1000000 cargo test --release -p streamrelay --test peer_data_flood -- --nocapture`.

mod peer_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant as Clock;

use peer_support::data::*;
use peer_support::*;
use streamrelay::crypto::identity::sha256;
use streamrelay::peer::{
    DropReason, Event, Eviction, Instant, Peer, PublishOptions, Remote, SocketId,
};
use streamrelay::wire::{Field, Packet, PacketType};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

const R: &str = "203.0.113.9:1009";

fn remote(i: u32) -> Remote {
    Remote::Udp(std::net::SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + (i % 50_000))),
        1000 + (i % 60_000) as u16,
    ))
}

/// A unique Publish that passes the id check (packetId = SHA-256 of its
/// message), in someone else's subcluster, of about `size` bytes.
fn unique(i: u64, size: usize) -> Vec<u8> {
    let mut p = Packet::new(PacketType::Publish);
    let mut m = vec![0u8; size];
    m[..8].copy_from_slice(&i.to_be_bytes());
    p.set(Field::ClusterId, &[0xc2; 32]).unwrap();
    p.set(Field::SubclusterId, &[0x5c; 32]).unwrap();
    p.set(Field::Usr1, &[1; 32]).unwrap();
    p.set(Field::Usr2, &[2; 32]).unwrap();
    p.set(Field::Sig, &[3; 64]).unwrap();
    p.set(Field::PacketId, &sha256(&m)).unwrap();
    p.message = m;
    p.hops = 1;
    p.encode().unwrap()
}

#[test]
fn a_flood_of_unique_publishes_keeps_the_cache_at_its_cap() {
    let n: u64 = std::env::var("STREAMRELAY_FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let cap = if n >= 200_000 { 16_000_000 } else { 1_000_000 };
    let base = live();
    let mut p = data_peer(7, R, |c| {
        c.limit_exempt = true;
        c.limits.max_cache_bytes = cap;
    });
    for k in 2..5 {
        connect(&mut p, Instant(1), k, &format!("203.0.113.{k}:100{k}"));
    }
    let start_live = live() - base;
    let mut half_heap = 0isize;
    let mut peak_cache = 0usize;
    let mut peak_heap = 0isize;
    let mut relayed = 0u64;
    let clock = Clock::now();
    for i in 0..n {
        // Sizes vary from a short event to a full fragment.
        let size = 160 + (i as usize * 37) % 865;
        let bytes = unique(i, size);
        let now = Instant(2 + i / 1000);
        p.handle_datagram(now, SocketId::Main, remote(i as u32), &bytes);
        while let Some(t) = p.poll_transmit(now) {
            relayed += 1;
            drop(t);
        }
        if i == n / 2 {
            half_heap = live() - base;
        }
        if i % 997 == 0 {
            let o = p.occupancy();
            peak_cache = peak_cache.max(o.cache_bytes);
            peak_heap = peak_heap.max(live() - base);
            assert!(o.cache_bytes <= cap);
        }
    }
    let elapsed = clock.elapsed();
    let o = p.occupancy();
    peak_heap = peak_heap.max(live() - base);
    let m = p.metrics();
    println!(
        "{n} unique publishes in {elapsed:.2?} ({:.2} µs each, {relayed} datagrams relayed)\n\
         cache: {} packets, {} bytes charged of {cap} (peak {peak_cache}); evicted {}\n\
         heap held by the whole peer: {} bytes at the start, {half_heap} half way, peak {peak_heap}, end {}\n\
         gate {} entries (evicted {})",
        elapsed.as_secs_f64() * 1e6 / n as f64,
        o.cache_packets,
        o.cache_bytes,
        m.evicted(Eviction::Cache),
        start_live,
        live() - base,
        o.gate,
        m.evicted(Eviction::Gate),
    );
    assert!(o.cache_bytes <= cap);
    assert_eq!(m.cached, n);
    assert_eq!(
        m.cached - m.evicted(Eviction::Cache),
        o.cache_packets as u64
    );
    // The real heap is flat once the cache and the gate are full ...
    let end_heap = live() - base;
    assert!(
        (end_heap - half_heap).unsigned_abs() < cap / 20,
        "heap {half_heap} at half time, {end_heap} at the end"
    );
    // ... and within the cache's cap plus the gate's bound (8192 ids at
    // about 240 bytes each with their B-tree nodes) and the rest of the
    // peer.
    let gate_bound = 8192 * 300;
    assert!(
        (peak_heap as usize) < cap + gate_bound + 256 * 1024,
        "heap peak {peak_heap} for a cap of {cap}"
    );
    assert!(drain_events(&mut p).is_empty());
}

#[test]
fn a_flood_of_own_publishes_is_bounded_too() {
    let mut p = member(1, "203.0.113.1:1001");
    let mut small = data_peer(2, "203.0.113.2:1002", |c| {
        c.limits.max_cache_packets = 50;
        c.limits.max_unpublished = 20;
    });
    small.join(Instant::ZERO, &shared()).unwrap();
    for i in 0..300u32 {
        let now = Instant(10 + u64::from(i));
        let payload = i.to_be_bytes();
        small
            .publish(now, &shared(), "flood", &payload, &PublishOptions::new())
            .unwrap();
        let _ = &mut p;
    }
    let o = small.occupancy();
    assert_eq!(o.cache_packets, 50);
    assert_eq!(o.unpublished, 20);
    assert!(small.metrics().evicted(Eviction::Unpublished) >= 280);
    // The tick forgets unpublished packets the cache no longer holds.
    small.handle_timeout(Instant(30_000));
    assert!(small.occupancy().unpublished <= 20);
}

#[test]
fn a_flood_of_forgeries_never_reaches_the_app_as_verified() {
    let mut b = member(2, "203.0.113.2:1002");
    b.handle_timeout(Instant(1));
    drain_transmits(&mut b, Instant(1));
    let genuine = event_packets("e", b"real", 60).remove(0);
    let long = event_packets("long", &[9; 3000], 61);
    for i in 0..3000u32 {
        let now = Instant(10 + u64::from(i));
        let mut f = match i % 4 {
            // Content changed under a genuine id.
            0 => {
                let mut f = genuine.clone();
                f.message[(i as usize) % 100] ^= 1;
                f
            }
            // A consistent id over garbage "sealed" bytes.
            1 => {
                let mut f = genuine.clone();
                f.message = (0..200).map(|k| (k as u32 ^ i) as u8).collect();
                f.message[..4].copy_from_slice(&i.to_be_bytes());
                f.set(Field::PacketId, &sha256(&f.message)).unwrap();
                f
            }
            // A genuine seal with a forged signature.
            2 => {
                let mut f = event_packets("e", &i.to_be_bytes(), 1000 + u64::from(i)).remove(0);
                f.set(Field::Sig, &[i as u8; 64]).unwrap();
                f
            }
            // A fragment of a chain whose content changed under its id.
            _ => {
                let mut f = long[1 + (i as usize % 4)].clone();
                f.message[0] ^= 0x80;
                f
            }
        };
        f.hops = 1;
        b.handle_datagram(now, SocketId::Main, remote(i), &f.encode().unwrap());
        drain_transmits(&mut b, now);
        assert!(!drain_events(&mut b)
            .iter()
            .any(|e| matches!(e, Event::Packet { .. })));
    }
    // Then the genuine packets: delivered once each.
    b.handle_datagram(
        Instant(5000),
        SocketId::Main,
        remote(1),
        &frame(&genuine, 1),
    );
    for p in &long {
        b.handle_datagram(Instant(5001), SocketId::Main, remote(2), &frame(p, 1));
    }
    let evs = drain_events(&mut b);
    let good: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e, Event::Packet { .. }))
        .collect();
    assert_eq!(good.len(), 2, "only the genuine ones");
    let m = b.metrics();
    assert!(m.dropped(DropReason::Forged) >= 750);
    assert!(m.unverified + m.unopenable >= 1000);
    assert!(b.occupancy().cache_packets < 20, "forgeries are not kept");
}

#[test]
fn random_datagrams_never_panic_the_data_plane() {
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut peers: Vec<Peer> = vec![
        member(2, "203.0.113.2:1002"),
        data_peer(3, "203.0.113.3:1003", |_| {}),
    ];
    let genuine = event_packets("long", &[5; 2500], 62);
    let seeds: Vec<Vec<u8>> = genuine.iter().map(|p| frame(p, 1)).collect();
    for i in 0..20_000u32 {
        let mut b = seeds[i as usize % seeds.len()].clone();
        let flips = 1 + rng.next_u32() % 4;
        for _ in 0..flips {
            let at = rng.next_u32() as usize % b.len();
            b[at] = rng.next_u32() as u8;
        }
        if i % 7 == 0 {
            b[4] = 5 + (rng.next_u32() % 4) as u8;
        }
        for p in peers.iter_mut() {
            p.handle_datagram(Instant(u64::from(i)), SocketId::Main, remote(i), &b);
            drain_transmits(p, Instant(u64::from(i)));
            drain_events(p);
            if i % 5000 == 0 {
                p.handle_timeout(Instant(u64::from(i)));
            }
        }
    }
}
