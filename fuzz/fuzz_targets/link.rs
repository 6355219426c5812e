//! Fuzz the link formats (`streamrelay::link`): the stream framing and the
//! small-MTU fragmentation.
//!
//! * **Hostile bytes**: arbitrary bytes, fed to a `FrameDecoder` (any
//!   `max_frame`) in arbitrary chunks, never panic; its buffer never holds
//!   more than `max_frame + 9` bytes; every frame is 1 to `max_frame` bytes;
//!   every byte taken in is accounted for (skipped, in a good frame, or
//!   still buffered).
//! * **Round trip**: arbitrary payloads framed back to back and fed in
//!   arbitrary chunks come out exactly, with nothing skipped.
//! * **Fragments**: arbitrary fragments pushed at arbitrary times never
//!   panic and keep the reassembly table within its limits; an arbitrary
//!   datagram fragmented at an arbitrary MTU and pushed in an arbitrary
//!   order (with a duplicate fragment) comes out exactly once.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use streamrelay::link::fragment::{FragmentConfig, Fragmenter, Reassembler};
use streamrelay::link::framing::{encode_frame_vec, FrameDecoder, FramingConfig, OVERHEAD};
use streamrelay::peer::Instant;

#[derive(Arbitrary, Debug)]
enum Case {
    Hostile {
        max_frame: u16,
        bytes: Vec<u8>,
        cuts: Vec<u16>,
    },
    RoundTrip {
        max_frame: u16,
        payloads: Vec<Vec<u8>>,
        cuts: Vec<u16>,
    },
    Fragments {
        mtu: u8,
        max_datagram: u16,
        slots: u8,
        timeout: u16,
        pushes: Vec<(u16, Vec<u8>)>,
    },
    FragRoundTrip {
        mtu: u8,
        datagram: Vec<u8>,
        order: Vec<u8>,
    },
}

/// Feed `bytes` in chunks cut at `cuts`, checking the decoder's bounds.
fn feed(dec: &mut FrameDecoder, max: usize, bytes: &[u8], cuts: &[u16]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut framed = 0u64;
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i)
            .map_or(rest.len(), |&c| usize::from(c) % rest.len() + 1);
        i += 1;
        dec.push(&rest[..n], |f| {
            assert!(!f.is_empty() && f.len() <= max);
            framed += (f.len() + OVERHEAD) as u64;
            frames.push(f.to_vec());
        });
        rest = &rest[n..];
        assert!(dec.buffered() <= max + OVERHEAD);
        assert_eq!(dec.capacity(), max + OVERHEAD);
    }
    let k = dec.counters();
    assert_eq!(k.frames_in, frames.len() as u64);
    let _ = framed;
    frames
}

fuzz_target!(|data: &[u8]| {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    match case {
        Case::Hostile {
            max_frame,
            bytes,
            cuts,
        } => {
            let max = usize::from(max_frame.max(1)) % 4096 + 1;
            let mut dec = FrameDecoder::new(FramingConfig { max_frame: max });
            let frames = feed(&mut dec, max, &bytes, &cuts);
            let k = dec.counters();
            let framed: u64 = frames.iter().map(|f| (f.len() + OVERHEAD) as u64).sum();
            assert_eq!(k.bytes_in, bytes.len() as u64);
            assert_eq!(k.skipped_bytes + framed + dec.buffered() as u64, k.bytes_in);
        }
        Case::RoundTrip {
            max_frame,
            payloads,
            cuts,
        } => {
            let max = usize::from(max_frame) % 4096 + 1;
            let config = FramingConfig { max_frame: max };
            let payloads: Vec<Vec<u8>> = payloads
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(|mut p| {
                    p.truncate(max);
                    p
                })
                .collect();
            let mut stream = Vec::new();
            for p in &payloads {
                assert_eq!(
                    encode_frame_vec(&config, p, &mut stream),
                    Ok(p.len() + OVERHEAD)
                );
            }
            let mut dec = FrameDecoder::new(config);
            let frames = feed(&mut dec, max, &stream, &cuts);
            assert_eq!(frames, payloads);
            assert_eq!(dec.counters().skipped_bytes, 0);
            assert_eq!(dec.buffered(), 0);
        }
        Case::Fragments {
            mtu,
            max_datagram,
            slots,
            timeout,
            pushes,
        } => {
            let config = FragmentConfig {
                mtu: usize::from(mtu),
                max_datagram: usize::from(max_datagram) % 8192,
                max_reassemblies: usize::from(slots % 16),
                timeout_ms: u64::from(timeout),
            };
            let max = config.max_datagram.max(1);
            let n_slots = config.max_reassemblies.max(1);
            let mut rx = Reassembler::new(config);
            let mut now = 0u64;
            for (dt, frag) in pushes {
                now += u64::from(dt);
                if dt % 7 == 0 {
                    rx.handle_timeout(Instant::from_millis(now));
                }
                if let Some(d) = rx.push(Instant::from_millis(now), &frag) {
                    assert!(!d.is_empty() && d.len() <= max);
                }
                assert!(rx.pending() <= n_slots);
                assert!(rx.pending_bytes() <= n_slots * max);
            }
            let k = rx.counters();
            assert!(k.datagrams_out <= k.fragments_in);
        }
        Case::FragRoundTrip {
            mtu,
            datagram,
            order,
        } => {
            let config = FragmentConfig {
                mtu: usize::from(mtu),
                max_datagram: 65_536,
                ..Default::default()
            };
            let mut tx = Fragmenter::new(&config);
            let mut frags = Vec::new();
            match tx.fragment(&datagram, |f| frags.push(f.to_vec())) {
                Ok(n) => assert_eq!(n, frags.len()),
                Err(_) => {
                    assert!(datagram.is_empty() || datagram.len() > tx.max_datagram());
                    return;
                }
            }
            assert!(frags.iter().all(|f| f.len() <= usize::from(mtu).max(5)));
            // An arbitrary order: swaps, then a few duplicates pushed first.
            for (i, o) in order.iter().enumerate() {
                let (a, b) = (i % frags.len(), usize::from(*o) % frags.len());
                frags.swap(a, b);
            }
            let mut rx = Reassembler::new(config);
            let t = Instant::ZERO;
            let mut out = Vec::new();
            // A duplicate of one fragment first (a datagram that completes
            // is forgotten: repeats of a whole datagram are the Peer's to
            // drop, by packet id).
            let dup = order
                .first()
                .map(|o| frags[usize::from(*o) % frags.len()].clone());
            for f in dup.iter().chain(frags.iter()) {
                if let Some(d) = rx.push(t, f) {
                    out.push(d.to_vec());
                }
            }
            if frags.len() == 1 {
                // A whole datagram comes out each time it is pushed.
                assert!(out.iter().all(|d| *d == datagram));
            } else {
                assert_eq!(out, vec![datagram]);
            }
        }
    }
});
