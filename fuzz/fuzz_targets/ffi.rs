//! Fuzz the C ABI (ffi/src, compiled here as an rlib: see
//! ffi-rlib/Cargo.toml): a host that drives a peer through the
//! `extern "C"` entry points with arbitrary arguments.
//!
//! Steps: decode and re-encode packets into buffers of any size; datagrams
//! with any socket kind and remote kind (valid or not) and any bytes; timer
//! ticks; polling transmits into buffers of any size and events with any
//! `struct_size` up to the real one; restoring from a fuzzed snapshot (or a
//! mutated real one); queries and publishes with arbitrary JSON and keys;
//! the inspection calls with any index; calls on garbage handles; key
//! helpers with any seed kind; `sr_status_name` of any code.
//!
//! * No call panics (a panic would abort: libFuzzer's hook runs before the
//!   C ABI's `catch_unwind`), and no status is `SR_STATUS_PANIC`.
//! * A garbage handle is refused (`INVALID_HANDLE`), never dereferenced.
//! * `sr_packet_encode` of a decoded view gives the core's re-encoding, or
//!   `BUFFER_TOO_SMALL` when the buffer is short.
//! * At the end, after freeing the handles, no handle is live.
#![no_main]

use std::mem::{size_of, MaybeUninit};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use streamrelay::wire::PacketRef;
use streamrelay_ffi::*;

#[derive(Arbitrary, Debug)]
enum Op {
    Decode {
        bytes: Vec<u8>,
        buf_len: u16,
    },
    Datagram {
        wait_ms: u16,
        socket_kind: u8,
        socket_id: u16,
        remote_kind: u8,
        port: u16,
        addr: [u8; 16],
        bytes: Vec<u8>,
    },
    Timeout {
        wait_ms: u32,
    },
    PollTransmit {
        buf_len: u16,
    },
    PollEvent {
        struct_size: u16,
    },
    Restore {
        snapshot: Option<Vec<u8>>,
        mutations: Vec<(u16, u8)>,
    },
    Query {
        json: Vec<u8>,
    },
    Publish {
        key: Vec<u8>,
        name: Vec<u8>,
        payload: Vec<u8>,
        ttl: u32,
        meta: Vec<u8>,
    },
    Sync {
        peer: [u8; 32],
    },
    Inspect {
        index: u16,
    },
    GarbageHandle {
        addr: u64,
    },
    Keys {
        kind: u32,
        seed: Vec<u8>,
    },
    StatusName(i32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    nat: u8,
    ops: Vec<Op>,
}

const ME: [u8; 32] = [1; 32];
const KEY: [u8; 32] = [0x42; 32];

fn ok(s: SrStatus) -> SrStatus {
    assert_ne!(s, SrStatus::Panic, "a C ABI call panicked");
    s
}

fn remote(kind: u32, port: u16, addr: [u8; 16]) -> SrRemote {
    SrRemote {
        kind,
        port,
        reserved0: 0,
        flowinfo: 0,
        scope_id: 0,
        addr,
        link_id: u64::from(port),
    }
}

fn v4(a: [u8; 4], port: u16) -> SrRemote {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&a);
    remote(1, port, addr)
}

unsafe fn new_config(nat: u8) -> *mut SrConfig {
    let mut c: *mut SrConfig = std::ptr::null_mut();
    assert_eq!(
        unsafe { sr_config_new(ME.as_ptr(), 32, &mut c) },
        SrStatus::Ok
    );
    unsafe {
        ok(sr_config_set_cluster_id(c, [0xc1; 32].as_ptr(), 32));
        ok(sr_config_set_nat_type(c, nat));
        ok(sr_config_set_public_address(c, &v4([203, 0, 113, 1], 1001)));
        ok(sr_config_add_introducer(
            c,
            [200; 32].as_ptr(),
            32,
            &v4([198, 51, 100, 1], 9001),
        ));
        ok(sr_config_set_signing_keys(c, [7; 32].as_ptr(), 32));
    }
    c
}

fuzz_target!(|input: Input| {
    // A valid NAT type, or none (the peer then runs reflection).
    let nat = [0u8, 31, 15, 7, 5][usize::from(input.nat % 5)];
    // SAFETY (all the calls below): every pointer passed points to live
    // memory of the size passed with it; handles come from the library.
    unsafe {
        let config = new_config(nat);
        let mut peer: *mut SrPeer = std::ptr::null_mut();
        assert_eq!(
            ok(sr_peer_new(config, 0, [3; 32].as_ptr(), 32, &mut peer)),
            SrStatus::Ok
        );
        let mut scid = [0u8; 32];
        ok(sr_peer_join(
            peer,
            0,
            KEY.as_ptr(),
            32,
            scid.as_mut_ptr(),
            32,
        ));
        let mut now = 0u64;
        for op in input.ops.iter().take(64) {
            match op {
                Op::Decode { bytes, buf_len } => {
                    let mut view = MaybeUninit::<SrPacketView>::zeroed();
                    (*view.as_mut_ptr()).struct_size = size_of::<SrPacketView>() as u32;
                    let s = ok(sr_packet_decode(
                        bytes.as_ptr(),
                        bytes.len(),
                        view.as_mut_ptr(),
                    ));
                    let core = PacketRef::decode(bytes);
                    assert_eq!(
                        s == SrStatus::Ok,
                        core.is_ok(),
                        "decode verdicts differ: {s:?}"
                    );
                    if s == SrStatus::Ok {
                        let want = core.unwrap().encode().unwrap();
                        let mut buf = vec![0u8; usize::from(*buf_len) % 1500];
                        let mut n = 0usize;
                        let s = ok(sr_packet_encode(
                            view.as_ptr(),
                            buf.as_mut_ptr(),
                            buf.len(),
                            &mut n,
                        ));
                        if buf.len() >= want.len() {
                            assert_eq!(s, SrStatus::Ok);
                            assert_eq!(&buf[..n], &want[..]);
                        } else {
                            assert_eq!(s, SrStatus::BufferTooSmall);
                        }
                    }
                }
                Op::Datagram {
                    wait_ms,
                    socket_kind,
                    socket_id,
                    remote_kind,
                    port,
                    addr,
                    bytes,
                } => {
                    now += u64::from(*wait_ms);
                    let socket = SrSocketId {
                        kind: u32::from(*socket_kind % 4),
                        id: u32::from(*socket_id),
                    };
                    let r = remote(u32::from(*remote_kind % 5), *port, *addr);
                    ok(sr_peer_handle_datagram(
                        peer,
                        now,
                        socket,
                        &r,
                        bytes.as_ptr(),
                        bytes.len(),
                    ));
                }
                Op::Timeout { wait_ms } => {
                    now += u64::from(*wait_ms);
                    ok(sr_peer_handle_timeout(peer, now));
                    let mut next = 0u64;
                    ok(sr_peer_poll_timeout(peer, &mut next));
                }
                Op::PollTransmit { buf_len } => {
                    let mut buf = vec![0u8; usize::from(*buf_len) % 1500];
                    let mut socket = SrSocketId { kind: 0, id: 0 };
                    let mut r = remote(0, 0, [0; 16]);
                    let mut n = 0usize;
                    for _ in 0..2048 {
                        let s = ok(sr_peer_poll_transmit(
                            peer,
                            now,
                            &mut socket,
                            &mut r,
                            buf.as_mut_ptr(),
                            buf.len(),
                            &mut n,
                        ));
                        if s != SrStatus::Ok {
                            break;
                        }
                        assert!(n <= buf.len());
                    }
                }
                Op::PollEvent { struct_size } => {
                    let mut ev = MaybeUninit::<SrEvent>::zeroed();
                    let size = usize::from(*struct_size) % (size_of::<SrEvent>() + 1);
                    (*ev.as_mut_ptr()).struct_size = size as u32;
                    for _ in 0..256 {
                        if ok(sr_peer_poll_event(peer, ev.as_mut_ptr())) != SrStatus::Ok {
                            break;
                        }
                    }
                }
                Op::Restore {
                    snapshot,
                    mutations,
                } => {
                    let mut snap = match snapshot {
                        Some(b) => b.clone(),
                        None => {
                            let mut len = 0usize;
                            ok(sr_peer_snapshot(
                                peer,
                                now,
                                std::ptr::null_mut(),
                                0,
                                &mut len,
                            ));
                            let mut b = vec![0u8; len];
                            assert_eq!(
                                ok(sr_peer_snapshot(
                                    peer,
                                    now,
                                    b.as_mut_ptr(),
                                    b.len(),
                                    &mut len
                                )),
                                SrStatus::Ok
                            );
                            b.truncate(len);
                            b
                        }
                    };
                    for (at, v) in mutations.iter().take(8) {
                        if !snap.is_empty() {
                            let n = snap.len();
                            snap[usize::from(*at) % n] = *v;
                        }
                    }
                    let mut restored: *mut SrPeer = std::ptr::null_mut();
                    let s = ok(sr_peer_restore(
                        config,
                        now,
                        [4; 32].as_ptr(),
                        32,
                        snap.as_ptr(),
                        snap.len(),
                        &mut restored,
                    ));
                    if s == SrStatus::Ok {
                        assert_eq!(ok(sr_peer_free(peer)), SrStatus::Ok);
                        peer = restored;
                    } else {
                        assert!(restored.is_null());
                    }
                }
                Op::Query { json } => {
                    let mut qid = [0u8; 32];
                    let mut n = 0usize;
                    ok(sr_peer_query(
                        peer,
                        now,
                        json.as_ptr(),
                        json.len(),
                        qid.as_mut_ptr(),
                        qid.len(),
                        &mut n,
                    ));
                }
                Op::Publish {
                    key,
                    name,
                    payload,
                    ttl,
                    meta,
                } => {
                    let key: &[u8] = if key.len() == 1 { &KEY } else { key };
                    let opts = SrPublishOptions {
                        struct_size: size_of::<SrPublishOptions>() as u32,
                        ttl_ms: *ttl,
                        has_cluster_id: 0,
                        reserved0: [0; 7],
                        cluster_id: [0; 32],
                        meta_json: SrBytes {
                            ptr: meta.as_ptr(),
                            len: meta.len(),
                        },
                        parent: SrBytes {
                            ptr: std::ptr::null(),
                            len: 0,
                        },
                        next_id: SrBytes {
                            ptr: std::ptr::null(),
                            len: 0,
                        },
                        reserved: [0; 4],
                    };
                    let mut ids = MaybeUninit::<SrIdList>::zeroed();
                    ok(sr_peer_publish(
                        peer,
                        now,
                        key.as_ptr(),
                        key.len(),
                        name.as_ptr(),
                        name.len(),
                        payload.as_ptr(),
                        payload.len(),
                        &opts,
                        ids.as_mut_ptr(),
                    ));
                }
                Op::Sync { peer: id } => {
                    ok(sr_peer_sync(peer, now, id.as_ptr(), 32));
                }
                Op::Inspect { index } => {
                    let i = usize::from(*index);
                    let mut info = MaybeUninit::<SrPeerInfo>::zeroed();
                    (*info.as_mut_ptr()).struct_size = size_of::<SrPeerInfo>() as u32;
                    ok(sr_peer_get_peer(peer, i % 8, info.as_mut_ptr()));
                    let (mut c, mut s) = ([0u8; 32], [0u8; 32]);
                    ok(sr_peer_get_subcluster(
                        peer,
                        i % 3,
                        c.as_mut_ptr(),
                        32,
                        s.as_mut_ptr(),
                        32,
                    ));
                    let mut m = MaybeUninit::<SrMetrics>::zeroed();
                    (*m.as_mut_ptr()).struct_size = size_of::<SrMetrics>() as u32;
                    ok(sr_peer_get_metrics(peer, m.as_mut_ptr()));
                    let mut o = MaybeUninit::<SrOccupancy>::zeroed();
                    (*o.as_mut_ptr()).struct_size = size_of::<SrOccupancy>() as u32;
                    ok(sr_peer_get_occupancy(peer, o.as_mut_ptr()));
                    let mut st = SrStrategy::Defer;
                    ok(sr_peer_strategy_towards(peer, (i >> 3) as u8, &mut st));
                    let mut ids = MaybeUninit::<SrIdList>::zeroed();
                    ok(sr_peer_cached_ids(peer, ids.as_mut_ptr()));
                    let mut b = SrBytes {
                        ptr: std::ptr::null(),
                        len: 0,
                    };
                    ok(sr_peer_get_cached(
                        peer,
                        [i as u8; 32].as_ptr(),
                        i % 33,
                        &mut b,
                    ));
                }
                Op::GarbageHandle { addr } => {
                    let p = *addr as usize as *mut SrPeer;
                    if p != peer {
                        let s = ok(sr_peer_handle_timeout(p, now));
                        assert!(
                            matches!(s, SrStatus::InvalidHandle | SrStatus::NullArgument),
                            "{s:?}"
                        );
                        let c = *addr as usize as *mut SrConfig;
                        if c != config {
                            let s = ok(sr_config_set_nat_type(c, 7));
                            assert!(
                                matches!(s, SrStatus::InvalidHandle | SrStatus::NullArgument),
                                "{s:?}"
                            );
                        }
                    }
                    // A config handle is not a peer handle.
                    let s = ok(sr_peer_handle_timeout(config.cast(), now));
                    assert_eq!(s, SrStatus::InvalidHandle);
                }
                Op::Keys { kind, seed } => {
                    let (mut pk, mut sk, mut k) = ([0u8; 32], [0u8; 64], [0u8; 32]);
                    ok(sr_create_key_pair(
                        *kind % 4,
                        seed.as_ptr(),
                        seed.len(),
                        pk.as_mut_ptr(),
                        32,
                        sk.as_mut_ptr(),
                        64,
                    ));
                    ok(sr_create_shared_key(
                        *kind % 4,
                        seed.as_ptr(),
                        seed.len(),
                        k.as_mut_ptr(),
                        32,
                    ));
                }
                Op::StatusName(code) => {
                    assert!(!sr_status_name(*code).is_null());
                }
            }
        }
        assert_eq!(ok(sr_peer_free(peer)), SrStatus::Ok);
        assert_eq!(ok(sr_config_free(config)), SrStatus::Ok);
        assert_eq!(sr_live_handles(), 0, "a handle leaked");
    }
});
