//! Cross-checks `streamrelay::crypto` against the REFERENCE's own code: npm
//! `@socketsupply/socket@0.6.0-rc.8`, folder `latica/`, run under node on the
//! libsodium build it bundles (1.0.18), through
//! `tests/crypto_interop/interop.mjs` (see `reference.mjs` there for how it
//! is loaded and kept off the network).
//!
//! Both directions, every time with the reference's code on the node side:
//! * identity: `Encryption.createKeyPair` / `createSharedKey` /
//!   `createClusterId` / `createId`;
//! * signatures: `Encryption.sign` / `Encryption.verify` (also used, with 64
//!   leading filler bytes, to run libsodium's detached verify on edge cases);
//! * encrypt-sign-encrypt: Rust `ese::seal` → `new Encryption().open`, and
//!   `seal` / `sealUnsigned` → Rust `ese::open` / `open_unsigned`; single
//!   sealed boxes through `openUnsigned` (one `crypto_box_seal_open`);
//! * events, Rust → reference: `pack_event` frames delivered to a real
//!   receiving `api()` bus (joined to the subcluster, natType 31) through its
//!   socket's `message` handler, forward / reverse / shuffled; what its
//!   subcluster emitter delivers must match Rust's own reassembly;
//! * events, reference → Rust: a real publishing `api()` bus runs
//!   `sub.emit(name, value, opts)`; Rust reassembles the frames it built in
//!   the same orders, opens, verifies, compares with a reference receiver fed
//!   the same orders, and rebuilds the frames byte for byte from the sealed
//!   message.
//!
//! Where the reference has no API (Ed25519→X25519 conversion, a single
//! `crypto_box_seal`), the reference's own libsodium instance is called.
//!
//! Runs `vectors/generator/setup.sh` (idempotent) when the reference is not
//! installed yet. Skips (passes with a message) only when `node` is absent.
//! Every child process is killed after a time limit.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha512};

use streamrelay::crypto::ese::{self, OpenError};
use streamrelay::crypto::event::{
    compose_published, event_payload, message_to_packets, pack_event, unpack_event, ChainArgs,
    ChainParent, EventArgs, Reassembler, ReassemblyLimits, ReceiveError, UnpackError,
};
use streamrelay::crypto::identity::{
    create_cluster_id, create_id, create_key_pair, create_shared_key, ed25519_pk_to_x25519,
    ed25519_sk_to_x25519, sha256, KeyError, KeyPair, Seed, SubclusterKeys,
};
use streamrelay::crypto::sealed_box::{box_seal, box_seal_open, BoxError};
use streamrelay::crypto::sign::{sign_from_byte_64, verify_from_byte_64, verify_message};
use streamrelay::wire::json::{JsObject, JsValue};
use streamrelay::wire::{Packet, PacketRef, PacketType};

const NODE_TIMEOUT: Duration = Duration::from_secs(120);
const SETUP_TIMEOUT: Duration = Duration::from_secs(300);
const SIZES: [usize; 8] = [0, 1, 5, 64, 864, 865, 2000, 5000];
const EVENT_SIZES: [usize; 6] = [0, 5, 864, 865, 2000, 5000];
const SHARED_SEED: &str = "interop-shared-secret";
const SIGNING_SEED: &str = "interop-signing-seed";
const REFERENCE: &str = "0.6.0-rc.8";

// ---------------------------------------------------------------------------
// plumbing
// ---------------------------------------------------------------------------

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crypto_interop")
}

fn generator_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/generator")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs `cmd` with `stdin` as input; at `timeout` kills it and everything
/// it started (its own process group on Unix: `setup.sh` runs npm).
fn run(mut cmd: Command, stdin: &[u8], timeout: Duration) -> (bool, Vec<u8>, String) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let ereader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    (
        status.success(),
        reader.join().unwrap(),
        ereader.join().unwrap(),
    )
}

fn node_present() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Installs the pinned reference (`vectors/generator/setup.sh`, idempotent)
/// unless it is there already.
fn ensure_reference() {
    let g = generator_dir();
    let ready = [
        ".ref/latica/index.js",
        "node_modules/@socketsupply/socket/crypto/sodium.js",
        "node_modules/@socketsupply/socket/external/libsodium/index.js",
    ]
    .iter()
    .all(|f| g.join(f).exists());
    if ready {
        return;
    }
    let mut cmd = Command::new("bash");
    cmd.arg(g.join("setup.sh"));
    let (ok, out, err) = run(cmd, b"", SETUP_TIMEOUT);
    assert!(
        ok,
        "bash {}/setup.sh failed:\n{}\n{err}",
        g.display(),
        String::from_utf8_lossy(&out)
    );
    assert!(g.join(".ref/latica/index.js").exists());
}

// JSON helpers over the crate's own JavaScript-exact JSON.
fn s(v: &str) -> JsValue {
    JsValue::from(v)
}
fn n(v: f64) -> JsValue {
    JsValue::Number(v)
}
fn arr(v: Vec<JsValue>) -> JsValue {
    JsValue::Array(v)
}
fn obj(kv: Vec<(&str, JsValue)>) -> JsValue {
    let mut o = JsObject::new();
    for (k, v) in kv {
        o.insert(k, v);
    }
    JsValue::Object(o)
}
fn idx(v: &[usize]) -> JsValue {
    arr(v.iter().map(|&i| n(i as f64)).collect())
}
fn get<'a>(v: &'a JsValue, k: &str) -> &'a JsValue {
    v.get(k)
        .unwrap_or_else(|| panic!("missing {k} in {}", v.stringify()))
}
fn list(v: &JsValue) -> &[JsValue] {
    v.as_array().expect("array")
}
fn text(v: &JsValue) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {}", v.stringify()))
}
fn num(v: &JsValue) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("not a number: {}", v.stringify()))
}
fn flag(v: &JsValue) -> bool {
    v.as_bool()
        .unwrap_or_else(|| panic!("not a boolean: {}", v.stringify()))
}
/// The answers to one section of the request: one per case, in order.
fn answers<'a>(f: &'a Fixture, key: &str, cases: usize) -> &'a [JsValue] {
    let a = list(get(&f.answer, key));
    assert_eq!(a.len(), cases, "{key}: one answer per case");
    a
}
/// `{ok: …}` or `{err: …}` from `attempt`.
fn outcome(v: &JsValue) -> Result<&JsValue, &str> {
    match (v.get("ok"), v.get("err")) {
        (Some(ok), _) => Ok(ok),
        (_, Some(e)) => Err(text(e)),
        _ => panic!("not an outcome: {}", v.stringify()),
    }
}

/// The bytes `sub.emit` publishes for a request value (`{hex}` bytes,
/// `{text}` a string, `{json}` an object).
fn tagged_payload(v: &JsValue) -> Vec<u8> {
    if let Some(h) = v.get("hex") {
        return unhex(text(h));
    }
    if let Some(t) = v.get("text") {
        return text(t).as_bytes().to_vec();
    }
    event_payload(get(v, "json")).expect("an object")
}

/// Frames a sealed message of `len` plaintext bytes becomes: one packet, or
/// a head and ceil((len + 160) / 1024) fragments.
fn frame_count(len: usize) -> usize {
    let sealed = len + 160;
    if sealed > 1024 {
        1 + sealed.div_ceil(1024)
    } else {
        1
    }
}

/// Delivery orders for `count` frames: forward; for a chain also reverse
/// (head last) and a shuffle with the head neither first nor last.
fn orders(count: usize, rng: &mut ChaCha20Rng) -> Vec<(&'static str, Vec<usize>)> {
    let forward: Vec<usize> = (0..count).collect();
    if count < 3 {
        return vec![("forward", forward)];
    }
    let reverse: Vec<usize> = (0..count).rev().collect();
    let shuffled = loop {
        let mut o = forward.clone();
        for i in (1..count).rev() {
            let j = (rng.next_u32() as usize) % (i + 1);
            o.swap(i, j);
        }
        if o[0] != 0 && o[count - 1] != 0 && o != reverse {
            break o;
        }
    };
    vec![
        ("forward", forward),
        ("reverse", reverse),
        ("shuffled", shuffled),
    ]
}

// ---------------------------------------------------------------------------
// the request (everything Rust sends, with what it needs to check answers)
// ---------------------------------------------------------------------------

enum SeedCase {
    Text(String),
    Bytes(Vec<u8>),
}

/// What Rust expects a receiving reference bus to do with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Delivered, signature verified.
    Verified,
    /// Delivered, not verified (bad or short signature).
    NotVerified,
    /// `verify` throws (1-byte `usr2` with a 64-byte sig): `unverified` is
    /// emitted, then the event with an `undefined` payload.
    VerifyThrows,
    /// The message does not open: an unhandled rejection, nothing emitted.
    NoOpen,
}

struct EventCase {
    label: String,
    name: String,
    frames: Vec<Vec<u8>>,
    order: Vec<usize>,
    payload: Vec<u8>,
    expect: Expect,
}

struct PublishCase {
    label: String,
    name: String,
    value: JsValue,
    payload: Vec<u8>,
    cluster_id: Vec<u8>,
    now: u64,
    ttl: Option<u32>,
    parent: Option<(Vec<u8>, u32)>,
    sibling_clock: Option<u32>,
    next_id: Option<Vec<u8>>,
    meta: Option<JsValue>,
    orders: Vec<(&'static str, Vec<usize>)>,
}

/// (label, message, signature, public key) for `crypto_sign_verify_detached`.
type Detached = (String, Vec<u8>, [u8; 64], [u8; 32]);

struct Fixture {
    answer: JsValue,
    seeds: Vec<SeedCase>,
    pk_edge: Vec<[u8; 32]>,
    sk_cases: Vec<KeyPair>,
    sign_msgs: Vec<Vec<u8>>,
    verify64: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    detached: Vec<Detached>,
    boxes: Vec<(Vec<u8>, Vec<u8>)>,
    box_x_pk: [u8; 32],
    box_x_sk: [u8; 32],
    ese: Vec<(Vec<u8>, Vec<u8>)>,
    ese_bad: Vec<(Vec<u8>, OpenError)>,
    unsigned: Vec<(Vec<u8>, Vec<u8>)>,
    node_seal: Vec<Vec<u8>>,
    node_seal_text: String,
    events: Vec<EventCase>,
    publish: Vec<PublishCase>,
}

fn keys() -> SubclusterKeys {
    SubclusterKeys::from_shared_key(&create_shared_key(SHARED_SEED).unwrap())
}

fn decompress(h: &str) -> EdwardsPoint {
    let b: [u8; 32] = unhex(h).try_into().unwrap();
    CompressedEdwardsY(b).decompress().unwrap()
}

/// An order-8 point (from libsodium's small-order list).
fn t8() -> EdwardsPoint {
    decompress("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
}

fn clamp_scalar(seed: &[u8; 32]) -> Scalar {
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    Scalar::from_bytes_mod_order(a)
}

fn h_scalar(r: &[u8], a: &[u8], m: &[u8]) -> Scalar {
    let mut d = Sha512::new();
    d.update(r);
    d.update(a);
    d.update(m);
    Scalar::from_bytes_mod_order_wide(&d.finalize().into())
}

fn build() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    let mut req: Vec<(&str, JsValue)> = Vec::new();

    // identity
    let mut r32 = [0u8; 32];
    rng.fill_bytes(&mut r32);
    let seeds = vec![
        SeedCase::Text("example-shared-secret".into()),
        SeedCase::Text("a".into()),
        SeedCase::Text("héllo wörld ✓ 🚀".into()),
        SeedCase::Text("x".repeat(1000)),
        SeedCase::Text("0".into()),
        SeedCase::Bytes(r32.to_vec()),
        SeedCase::Bytes(vec![0; 32]),
        SeedCase::Bytes(vec![]),
        SeedCase::Bytes(vec![1; 31]),
        SeedCase::Bytes(vec![2; 33]),
        SeedCase::Bytes(vec![3; 64]),
    ];
    req.push((
        "identity",
        arr(seeds
            .iter()
            .map(|c| match c {
                SeedCase::Text(t) => obj(vec![("text", s(t))]),
                SeedCase::Bytes(b) => obj(vec![("hex", s(&hex(b)))]),
            })
            .collect()),
    ));

    // Ed25519 → X25519 edge cases
    let mut pk_edge: Vec<[u8; 32]> = Vec::new();
    for i in 0..5u8 {
        pk_edge.push(KeyPair::from_seed(&[i; 32]).public_key());
    }
    for h in [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ] {
        let b: [u8; 32] = unhex(h).try_into().unwrap();
        pk_edge.push(b);
        let mut neg = b;
        neg[31] |= 0x80;
        pk_edge.push(neg);
    }
    for k in 0..19u8 {
        // y = p + k (non-canonical), both signs
        let mut b = [0xffu8; 32];
        b[0] = 0xed + k;
        b[31] = 0x7f;
        pk_edge.push(b);
        b[31] = 0xff;
        pk_edge.push(b);
    }
    for i in 1..4u8 {
        let a = CompressedEdwardsY(KeyPair::from_seed(&[i; 32]).public_key())
            .decompress()
            .unwrap();
        pk_edge.push((a + t8()).compress().to_bytes());
        pk_edge.push((a + t8() + t8()).compress().to_bytes());
        // order-2 component: libsodium 1.0.18 accepts it
        pk_edge.push((a + t8() + t8() + t8() + t8()).compress().to_bytes());
    }
    for _ in 0..10 {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        pk_edge.push(b);
    }
    req.push((
        "pkToCurve",
        arr(pk_edge.iter().map(|b| s(&hex(b))).collect()),
    ));
    let sk_cases: Vec<KeyPair> = (0..3u8)
        .map(|i| KeyPair::from_seed(&[i + 40; 32]))
        .collect();
    req.push((
        "skToCurve",
        arr(sk_cases
            .iter()
            .map(|k| s(&hex(&k.secret_key()[..])))
            .collect()),
    ));

    // signatures over byte 64 onward
    let signer = create_key_pair(SIGNING_SEED).unwrap();
    let sign_msgs: Vec<Vec<u8>> = [0usize, 10, 64, 65, 100, 2000]
        .iter()
        .map(|&n| (0..n).map(|i| (i * 7 + 3) as u8).collect())
        .collect();
    req.push((
        "sign64",
        arr(sign_msgs
            .iter()
            .map(|m| {
                obj(vec![
                    ("message", s(&hex(m))),
                    ("signingSeed", s(SIGNING_SEED)),
                ])
            })
            .collect()),
    ));
    let pk = signer.public_key().to_vec();
    let m: Vec<u8> = (0..200u8).collect();
    let sig = sign_from_byte_64(&m, &signer).to_vec();
    let mut m70 = m.clone();
    m70[70] ^= 1;
    let mut m0 = m.clone();
    m0[0] ^= 1;
    let verify64 = vec![
        (m.clone(), sig.clone(), pk.clone()),
        (m70, sig.clone(), pk.clone()),
        (m0, sig.clone(), pk.clone()),
        (m.clone(), sig[..63].to_vec(), pk.clone()),
        (m.clone(), sig.clone(), pk[..31].to_vec()),
        (m.clone(), sig[..63].to_vec(), vec![0]),
        (m.clone(), sig.clone(), vec![0; 32]),
    ];
    req.push((
        "verify64",
        arr(verify64
            .iter()
            .map(|(m, sg, k)| {
                obj(vec![
                    ("message", s(&hex(m))),
                    ("sig", s(&hex(sg))),
                    ("publicKey", s(&hex(k))),
                ])
            })
            .collect()),
    ));

    // crypto_sign_verify_detached edge cases
    let mut detached: Vec<Detached> = Vec::new();
    {
        let seed = [77u8; 32];
        let kp = KeyPair::from_seed(&seed);
        let a = clamp_scalar(&seed);
        let apt = EdwardsPoint::mul_base(&a);
        assert_eq!(apt.compress().to_bytes(), kp.public_key());
        let msg = b"detached".to_vec();
        let good = streamrelay::crypto::sign::sign_message(&msg, &kp);
        detached.push(("valid".into(), msg.clone(), good, kp.public_key()));
        detached.push((
            "wrong message".into(),
            b"detachee".to_vec(),
            good,
            kp.public_key(),
        ));
        // S + l: not canonical.
        let s_plus_l = {
            let mut sc = [0u8; 32];
            sc.copy_from_slice(&good[32..]);
            let l: [u8; 32] =
                unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                    .try_into()
                    .unwrap();
            let mut carry = 0u16;
            for i in 0..32 {
                let v = sc[i] as u16 + l[i] as u16 + carry;
                sc[i] = v as u8;
                carry = v >> 8;
            }
            let mut sig = good;
            sig[32..].copy_from_slice(&sc);
            sig
        };
        detached.push(("S + l".into(), msg.clone(), s_plus_l, kp.public_key()));
        // Identity key, identity R, S = 0: satisfies the equation, small order.
        let mut id = [0u8; 32];
        id[0] = 1;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&id);
        detached.push(("small-order key and R".into(), msg.clone(), sig, id));
        // Identity R with a real key: S = h·a.
        let h = h_scalar(&id, &kp.public_key(), &msg);
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&id);
        sig[32..].copy_from_slice((h * a).as_bytes());
        detached.push(("small-order R".into(), msg.clone(), sig, kp.public_key()));
        // Mixed-order key A + T8: valid cofactorless iff h ≡ 0 (mod 8).
        let mixed = (apt + t8()).compress().to_bytes();
        let (mut got0, mut got1) = (false, false);
        for i in 0u32..200 {
            let msg = format!("mixed {i}").into_bytes();
            let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(&msg).into());
            let rp = EdwardsPoint::mul_base(&r).compress().to_bytes();
            let h = h_scalar(&rp, &mixed, &msg);
            let s_ = r + h * a;
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&rp);
            sig[32..].copy_from_slice(s_.as_bytes());
            let zero = h.as_bytes()[0] % 8 == 0;
            if zero && !got0 {
                got0 = true;
                detached.push(("mixed-order key, h = 0 mod 8".into(), msg, sig, mixed));
            } else if !zero && !got1 {
                got1 = true;
                detached.push(("mixed-order key, h != 0 mod 8".into(), msg, sig, mixed));
            }
            if got0 && got1 {
                break;
            }
        }
        assert!(got0 && got1);
    }
    req.push((
        "verifyDetached",
        arr(detached
            .iter()
            .map(|(_, m, sg, k)| {
                obj(vec![
                    ("message", s(&hex(m))),
                    ("sig", s(&hex(sg))),
                    ("publicKey", s(&hex(k))),
                ])
            })
            .collect()),
    ));

    // sealed boxes, Rust → node
    let k = keys();
    let (xpk, xsk) = (*k.x25519_public_key(), *k.x25519_secret_key());
    let mut boxes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for &n in &SIZES {
        let m: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let c = box_seal(&m, &xpk, &mut rng).unwrap();
        boxes.push((m, c));
    }
    {
        // An ephemeral key with an order-8 component: libsodium (clamped,
        // unreduced scalar) opens it; so must we.
        let mut esk = [0u8; 32];
        rng.fill_bytes(&mut esk);
        let e = EdwardsPoint::mul_base_clamped(esk);
        let epk_mixed = (e + t8()).to_montgomery().to_bytes();
        let shared = MontgomeryPoint(xpk).mul_clamped(esk).to_bytes();
        use crypto_secretbox::aead::generic_array::GenericArray;
        use crypto_secretbox::{AeadInPlace, Kdf, KeyInit, XSalsa20Poly1305};
        let key =
            XSalsa20Poly1305::kdf(GenericArray::from_slice(&shared), &GenericArray::default());
        let cipher = XSalsa20Poly1305::new(&key);
        let mut nh = blake2::Blake2b::<blake2::digest::consts::U24>::new();
        blake2::Digest::update(&mut nh, epk_mixed);
        blake2::Digest::update(&mut nh, xpk);
        let nonce = blake2::Digest::finalize(nh);
        let m = b"mixed-order ephemeral key".to_vec();
        let mut body = m.clone();
        let tag = cipher
            .encrypt_in_place_detached(&nonce, b"", &mut body)
            .unwrap();
        let mut c = epk_mixed.to_vec();
        c.extend_from_slice(&tag);
        c.extend_from_slice(&body);
        boxes.push((m, c));
        // Small-order ephemeral keys: refused by both.
        let mut zero = vec![0u8; 32];
        zero.extend_from_slice(&[0x42; 40]);
        boxes.push((vec![], zero));
        let mut one = vec![0u8; 32];
        one[0] = 1;
        one.extend_from_slice(&[0x42; 40]);
        boxes.push((vec![], one));
        // Too short.
        boxes.push((vec![], vec![9; 47]));
    }
    // opened by the reference's openUnsigned: one crypto_box_seal_open with
    // the X25519 keys converted from the subcluster's Ed25519 pair
    req.push((
        "boxOpen",
        arr(boxes
            .iter()
            .map(|(_, c)| obj(vec![("sealed", s(&hex(c))), ("sharedSeed", s(SHARED_SEED))]))
            .collect()),
    ));

    // ESE, Rust → node
    let mut ese_cases = Vec::new();
    for &n in &SIZES {
        let m: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        let c = ese::seal(&m, &k, &mut rng).unwrap();
        ese_cases.push((m, c));
    }
    let ese_bad = vec![
        (
            box_seal(&[1; 64], &xpk, &mut rng).unwrap(),
            OpenError::Malformed,
        ),
        (
            {
                let other = KeyPair::from_seed(&[5; 32]);
                let c1 = box_seal(b"hi", &xpk, &mut rng).unwrap();
                let mut inner = streamrelay::crypto::sign::sign_message(&c1, &other).to_vec();
                inner.extend_from_slice(&c1);
                box_seal(&inner, &xpk, &mut rng).unwrap()
            },
            OpenError::NotVerified,
        ),
        (
            ese::seal(
                b"other key",
                &SubclusterKeys::from_shared_key(&create_shared_key("x").unwrap()),
                &mut rng,
            )
            .unwrap(),
            OpenError::Box(BoxError::Forged),
        ),
    ];
    req.push((
        "eseOpen",
        arr(ese_cases
            .iter()
            .map(|(_, c)| c)
            .chain(ese_bad.iter().map(|(c, _)| c))
            .map(|c| obj(vec![("sealed", s(&hex(c))), ("sharedSeed", s(SHARED_SEED))]))
            .collect()),
    ));
    let mut unsigned = Vec::new();
    for &n in &SIZES {
        let m: Vec<u8> = (0..n).map(|i| (i % 13) as u8).collect();
        unsigned.push((m.clone(), ese::seal_unsigned(&m, &k, &mut rng).unwrap()));
    }
    req.push((
        "openUnsigned",
        arr(unsigned
            .iter()
            .map(|(_, c)| obj(vec![("sealed", s(&hex(c))), ("sharedSeed", s(SHARED_SEED))]))
            .collect()),
    ));
    let node_seal: Vec<Vec<u8>> = SIZES
        .iter()
        .map(|&n| (0..n).map(|i| (i % 241) as u8 ^ 0x55).collect())
        .collect();
    // and one text message (encryption.js turns it into UTF-8 bytes)
    let node_seal_text = "héllo ✓ 🚀".to_string();
    req.push((
        "nodeSeal",
        arr(node_seal
            .iter()
            .map(|m| {
                obj(vec![
                    ("message", s(&hex(m))),
                    ("sharedSeed", s(SHARED_SEED)),
                ])
            })
            .chain([obj(vec![
                ("text", s(&node_seal_text)),
                ("sharedSeed", s(SHARED_SEED)),
            ])])
            .collect()),
    ));

    // events, Rust → reference receiver
    let cluster = create_cluster_id("interop-cluster").unwrap();
    let mut events: Vec<EventCase> = Vec::new();
    let mut add = |label: String,
                   name: &str,
                   packets: &[Packet],
                   order: Vec<usize>,
                   payload: &[u8],
                   expect: Expect| {
        events.push(EventCase {
            label,
            name: name.into(),
            frames: packets.iter().map(|p| p.encode().unwrap()).collect(),
            order,
            payload: payload.to_vec(),
            expect,
        });
    };
    let mut order_rng = ChaCha20Rng::seed_from_u64(0x0de5);
    for (i, &len) in SIZES.iter().enumerate() {
        let payload: Vec<u8> = (0..len).map(|j| (j * 31 + i) as u8).collect();
        let name = if i % 2 == 0 {
            "greeting"
        } else {
            "événement ✓"
        };
        let ps = pack_event(
            &EventArgs::new(&cluster, name, &payload),
            &k,
            &signer,
            1_700_000_000_000 + i as u64,
            &mut rng,
        )
        .unwrap();
        assert_eq!(ps.len(), frame_count(len));
        for (o, order) in orders(ps.len(), &mut order_rng) {
            add(
                format!("{len} {o}"),
                name,
                &ps,
                order,
                &payload,
                Expect::Verified,
            );
        }
    }
    {
        let payload = vec![0xabu8; 3000];
        let parent_id = sha256(b"parent");
        let meta = obj(vec![("k", s("v"))]);
        let mut a = EventArgs::new(&cluster, "options", &payload);
        a.ttl = Some(99_999_999);
        a.parent = Some(ChainParent {
            packet_id: &parent_id,
            clock: 5,
            max_sibling_clock: Some(7),
        });
        let next = sha256(b"next");
        a.next_id = Some(&next);
        a.meta = Some(&meta);
        let ps = pack_event(&a, &k, &signer, 1_700_000_000_999, &mut rng).unwrap();
        assert!(ps.iter().all(|p| p.clock == 9 && p.ttl == 21_600_000));
        for (o, order) in orders(ps.len(), &mut order_rng) {
            add(
                format!("options {o}"),
                "options",
                &ps,
                order,
                &payload,
                Expect::Verified,
            );
        }
        let payload = b"short ttl".to_vec();
        let mut a = EventArgs::new(&cluster, "ttl", &payload);
        a.ttl = Some(1000);
        let ps = pack_event(&a, &k, &signer, 1, &mut rng).unwrap();
        add(
            "ttl 1000".into(),
            "ttl",
            &ps,
            vec![0],
            &payload,
            Expect::Verified,
        );
        // A bad signature is delivered unverified.
        let payload = vec![0x11u8; 100];
        let mut ps = pack_event(
            &EventArgs::new(&cluster, "bad sig", &payload),
            &k,
            &signer,
            2,
            &mut rng,
        )
        .unwrap();
        ps[0].sig[6] ^= 1;
        add(
            "bad sig".into(),
            "bad sig",
            &ps,
            vec![0],
            &payload,
            Expect::NotVerified,
        );
        // usr2 of 1 byte with a 64-byte sig: the reference's verify throws.
        let payload = vec![0x12u8; 100];
        let mut ps = pack_event(
            &EventArgs::new(&cluster, "bad usr2", &payload),
            &k,
            &signer,
            3,
            &mut rng,
        )
        .unwrap();
        ps[0].usr2 = streamrelay::wire::packet::IdField::from_slice(&[0]).unwrap();
        add(
            "bad usr2".into(),
            "bad usr2",
            &ps,
            vec![0],
            &payload,
            Expect::VerifyThrows,
        );
        // sig of 63 bytes and usr2 of 1 byte: unverified, delivered.
        let payload = vec![0x13u8; 100];
        let mut ps = pack_event(
            &EventArgs::new(&cluster, "short sig", &payload),
            &k,
            &signer,
            4,
            &mut rng,
        )
        .unwrap();
        ps[0].usr2 = streamrelay::wire::packet::IdField::from_slice(&[0]).unwrap();
        ps[0].sig.truncate(63);
        add(
            "short sig".into(),
            "short sig",
            &ps,
            vec![0],
            &payload,
            Expect::NotVerified,
        );
        // Sealed for another subcluster, labelled as ours: does not open.
        let payload = vec![0x14u8; 2000];
        let other = SubclusterKeys::from_shared_key(&create_shared_key("another").unwrap());
        let mut ps = pack_event(
            &EventArgs::new(&cluster, "wrong key", &payload),
            &other,
            &signer,
            5,
            &mut rng,
        )
        .unwrap();
        let scid = k.subcluster_id();
        for p in &mut ps {
            p.subcluster_id = streamrelay::wire::packet::IdField::from_slice(&scid).unwrap();
        }
        let len = ps.len();
        add(
            "wrong key".into(),
            "wrong key",
            &ps,
            (0..len).collect(),
            &payload,
            Expect::NoOpen,
        );
    }
    req.push((
        "receive",
        arr(events
            .iter()
            .map(|e| {
                obj(vec![
                    ("sharedSeed", s(SHARED_SEED)),
                    ("clusterId", s(&hex(&cluster))),
                    ("eventName", s(&e.name)),
                    ("now", n(1_700_000_500_000.0)),
                    (
                        "frames",
                        arr(e.order.iter().map(|&i| s(&hex(&e.frames[i]))).collect()),
                    ),
                ])
            })
            .collect()),
    ));

    // events, reference publisher → Rust
    let mut publish = Vec::new();
    let mut plain = |label: String, name: String, value: JsValue, i: u64| {
        let payload = tagged_payload(&value);
        let ords = orders(frame_count(payload.len()), &mut order_rng);
        PublishCase {
            label,
            name,
            value,
            payload,
            cluster_id: cluster.to_vec(),
            now: 1_700_000_100_000 + i,
            ttl: None,
            parent: None,
            sibling_clock: None,
            next_id: None,
            meta: None,
            orders: ords,
        }
    };
    for (i, &len) in EVENT_SIZES.iter().enumerate() {
        let payload: Vec<u8> = (0..len).map(|j| (j * 13 + i) as u8).collect();
        let bytes = obj(vec![("hex", s(&hex(&payload)))]);
        publish.push(plain(
            format!("{len} bytes"),
            format!("node event {i}"),
            bytes,
            i as u64,
        ));
    }
    publish.push(plain(
        "string".into(),
        "chaîne ✓".into(),
        obj(vec![("text", s("héllo wörld ✓ 🚀"))]),
        10,
    ));
    let big = arr((0..200)
        .map(|i| obj(vec![("i", n(i as f64)), ("s", s("x"))]))
        .collect());
    publish.push(plain(
        "JSON object".into(),
        "json".into(),
        obj(vec![(
            "json",
            obj(vec![("list", big), ("ok", JsValue::Bool(true))]),
        )]),
        11,
    ));
    let mut c = plain(
        "options".into(),
        "node options".into(),
        obj(vec![("hex", s(&hex(&[0xcd; 2500])))]),
        12,
    );
    c.ttl = Some(50_000_000);
    c.parent = Some((sha256(b"p").to_vec(), 1));
    c.sibling_clock = Some(4);
    c.next_id = Some(sha256(b"n").to_vec());
    c.meta = Some(obj(vec![("app", s("interop")), ("v", n(2.0))]));
    publish.push(c);
    let mut c = plain(
        "parent, no siblings".into(),
        "node parent".into(),
        obj(vec![("hex", s(&hex(&[0xce; 10])))]),
        13,
    );
    c.ttl = Some(1234);
    c.parent = Some((sha256(b"q").to_vec(), 41));
    publish.push(c);
    req.push((
        "publish",
        arr(publish
            .iter()
            .map(|p| {
                let mut kv = vec![
                    ("sharedSeed", s(SHARED_SEED)),
                    ("signingSeed", s(SIGNING_SEED)),
                    ("clusterId", s(&hex(&p.cluster_id))),
                    ("name", s(&p.name)),
                    ("value", p.value.clone()),
                    ("now", n(p.now as f64)),
                    (
                        "orders",
                        obj(p.orders.iter().map(|(l, o)| (*l, idx(o))).collect()),
                    ),
                ];
                if let Some(t) = p.ttl {
                    kv.push(("ttl", n(t as f64)));
                }
                if let Some((id, clock)) = &p.parent {
                    kv.push((
                        "parent",
                        obj(vec![("packetId", s(&hex(id))), ("clock", n(*clock as f64))]),
                    ));
                    if let Some(sib) = p.sibling_clock {
                        kv.push((
                            "sibling",
                            obj(vec![("previousId", s(&hex(id))), ("clock", n(sib as f64))]),
                        ));
                    }
                }
                if let Some(id) = &p.next_id {
                    kv.push(("nextId", s(&hex(id))));
                }
                if let Some(m) = &p.meta {
                    kv.push(("meta", m.clone()));
                }
                obj(kv)
            })
            .collect()),
    ));

    let request = obj(req).stringify();
    let mut cmd = Command::new("node");
    cmd.arg(dir().join("interop.mjs")).current_dir(dir());
    let started = Instant::now();
    let (ok, out, err) = run(cmd, request.as_bytes(), NODE_TIMEOUT);
    assert!(ok, "node interop.mjs failed:\n{err}");
    eprintln!(
        "crypto interop: node (reference) answered in {:.2?}",
        started.elapsed()
    );
    let answer = JsValue::parse(&out).expect("node answer is JSON");
    Fixture {
        answer,
        seeds,
        pk_edge,
        sk_cases,
        sign_msgs,
        verify64,
        detached,
        boxes,
        box_x_pk: xpk,
        box_x_sk: xsk,
        ese: ese_cases,
        ese_bad,
        unsigned,
        node_seal,
        node_seal_text,
        events,
        publish,
    }
}

/// The shared fixture, or `None` (test skipped) without node. Built once:
/// if building fails, every test fails with that message (node is not run
/// again per test).
fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Result<Fixture, String>>> = OnceLock::new();
    let f = F.get_or_init(|| {
        if !node_present() {
            eprintln!("SKIPPED: node not found (crypto interop needs node >= 20 and npm)");
            return None;
        }
        Some(
            std::panic::catch_unwind(|| {
                ensure_reference();
                build()
            })
            .map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into())
            }),
        )
    });
    match f {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => panic!("crypto interop fixture failed: {e}"),
    }
}

// ---------------------------------------------------------------------------
// checks
// ---------------------------------------------------------------------------

#[test]
fn reference_is_pinned_offline_and_clean() {
    let Some(f) = fixture() else { return };
    let a = &f.answer;
    assert_eq!(text(get(a, "reference")), REFERENCE);
    // the libsodium build the reference bundles (external/libsodium)
    assert_eq!(text(get(a, "sodiumVersion")), "1.0.18");
    let net = get(a, "net");
    assert_eq!(
        num(get(net, "nonLoopbackSends")),
        0.0,
        "{}",
        net.stringify()
    );
    assert_eq!(num(get(net, "sends")), 0.0, "{}", net.stringify());
    assert_eq!(num(get(net, "openSockets")), 0.0, "peers left open");
    // two sockets per reference bus: one publisher per publish case, one
    // receiver per delivery
    let buses =
        f.publish.len() + f.events.len() + f.publish.iter().map(|p| p.orders.len()).sum::<usize>();
    assert_eq!(num(get(net, "sockets")), 2.0 * buses as f64);
    assert!(
        list(get(a, "strayRejections")).is_empty(),
        "{}",
        get(a, "strayRejections").stringify()
    );
    assert!(
        list(get(a, "activeResources")).is_empty(),
        "still alive in node: {}",
        get(a, "activeResources").stringify()
    );
}

#[test]
fn identity_matches() {
    let Some(f) = fixture() else { return };
    let ans = answers(f, "identity", f.seeds.len());
    assert_eq!(ans.len(), f.seeds.len());
    for (c, a) in f.seeds.iter().zip(ans) {
        let seed: Seed<'_> = match c {
            SeedCase::Text(t) => Seed::Text(t),
            SeedCase::Bytes(b) => Seed::Bytes(b),
        };
        match (create_key_pair(seed), outcome(get(a, "keyPair"))) {
            (Ok(kp), Ok(js)) => {
                assert_eq!(hex(&kp.public_key()), text(get(js, "publicKey")));
                assert_eq!(hex(&kp.secret_key()[..]), text(get(js, "privateKey")));
            }
            (Err(KeyError::InvalidSeedLength(_)), Err(e)) => {
                assert!(e.contains("seed"), "{e}")
            }
            (r, js) => panic!("{seed:?}: rust {r:?} vs node {js:?}"),
        }
        assert_eq!(
            hex(create_shared_key(seed).unwrap().as_bytes()),
            text(outcome(get(a, "sharedKey")).unwrap())
        );
        assert_eq!(
            hex(&create_cluster_id(seed).unwrap()),
            text(outcome(get(a, "clusterId")).unwrap())
        );
        assert_eq!(
            create_id(seed).unwrap(),
            text(outcome(get(a, "id")).unwrap())
        );
    }
}

#[test]
fn key_conversions_match() {
    let Some(f) = fixture() else { return };
    let ans = answers(f, "pkToCurve", f.pk_edge.len());
    let mut accepted = 0;
    for (pk, a) in f.pk_edge.iter().zip(ans) {
        match (ed25519_pk_to_x25519(pk), outcome(a)) {
            (Ok(x), Ok(js)) => {
                accepted += 1;
                assert_eq!(hex(&x), text(js), "pk {}", hex(pk))
            }
            (Err(_), Err(_)) => {}
            (r, js) => panic!("pk {}: rust {r:?} vs node {js:?}", hex(pk)),
        }
    }
    assert!(accepted >= 5);
    for (kp, a) in f
        .sk_cases
        .iter()
        .zip(answers(f, "skToCurve", f.sk_cases.len()))
    {
        let x = ed25519_sk_to_x25519(&kp.secret_key()[..]).unwrap();
        assert_eq!(hex(&x[..]), text(outcome(a).unwrap()));
        assert_eq!(
            hex(&MontgomeryPoint::mul_base_clamped(*x).to_bytes()),
            hex(&kp.x25519_public_key())
        );
    }
}

#[test]
fn signatures_match() {
    let Some(f) = fixture() else { return };
    let signer = create_key_pair(SIGNING_SEED).unwrap();
    for (m, a) in f
        .sign_msgs
        .iter()
        .zip(answers(f, "sign64", f.sign_msgs.len()))
    {
        assert_eq!(
            hex(&sign_from_byte_64(m, &signer)),
            text(a),
            "len {}",
            m.len()
        );
    }
    for ((m, sig, pk), a) in f
        .verify64
        .iter()
        .zip(answers(f, "verify64", f.verify64.len()))
    {
        match (verify_from_byte_64(m, sig, pk), outcome(a)) {
            (Ok(r), Ok(js)) => assert_eq!(Some(r), js.as_bool()),
            (Err(_), Err(_)) => {}
            (r, js) => panic!("verify64: rust {r:?} vs node {js:?}"),
        }
    }
    for ((label, m, sig, pk), a) in
        f.detached
            .iter()
            .zip(answers(f, "verifyDetached", f.detached.len()))
    {
        let js = outcome(a).unwrap().as_bool().unwrap();
        assert_eq!(verify_message(m, sig, pk), js, "{label}");
    }
}

#[test]
fn rust_boxes_open_in_reference() {
    let Some(f) = fixture() else { return };
    let ans = answers(f, "boxOpen", f.boxes.len());
    for ((m, c), a) in f.boxes.iter().zip(ans) {
        let rust = box_seal_open(c, &f.box_x_pk, &f.box_x_sk);
        match (&rust, outcome(a)) {
            (Ok(p), Ok(js)) => {
                assert_eq!(p, m);
                assert_eq!(text(js), hex(m));
            }
            (Err(_), Err(_)) => {}
            (r, js) => panic!("box of {} bytes: rust {r:?} vs node {js:?}", c.len()),
        }
    }
    // The cases built by hand.
    let n = SIZES.len();
    assert!(outcome(&ans[n]).is_ok(), "mixed-order ephemeral key opens");
    assert_eq!(
        box_seal_open(&f.boxes[n + 1].1, &f.box_x_pk, &f.box_x_sk),
        Err(BoxError::WeakKey)
    );
    assert_eq!(
        box_seal_open(&f.boxes[n + 3].1, &f.box_x_pk, &f.box_x_sk),
        Err(BoxError::TooShort(47))
    );
}

#[test]
fn rust_ese_opens_in_reference() {
    let Some(f) = fixture() else { return };
    let ans = answers(f, "eseOpen", f.ese.len() + f.ese_bad.len());
    let k = keys();
    for ((m, c), a) in f.ese.iter().zip(ans) {
        assert_eq!(c.len(), m.len() + 160);
        assert_eq!(text(outcome(a).unwrap()), hex(m));
        assert_eq!(&ese::open(c, &k).unwrap(), m);
    }
    for ((c, want), a) in f.ese_bad.iter().zip(&ans[f.ese.len()..]) {
        assert_eq!(ese::open(c, &k).unwrap_err(), *want);
        let e = outcome(a).unwrap_err();
        match want {
            OpenError::Malformed => assert_eq!(e, "EMALFORMED"),
            OpenError::NotVerified => assert_eq!(e, "ENOTVERIFIED"),
            OpenError::Box(_) => assert!(e.contains("incorrect key pair"), "{e}"),
        }
    }
    for ((m, c), a) in f
        .unsigned
        .iter()
        .zip(answers(f, "openUnsigned", f.unsigned.len()))
    {
        // The reference's openUnsigned leaves the inner box.
        let inner = unhex(text(outcome(a).unwrap()));
        assert_eq!(inner.len(), m.len() + 48);
        assert_eq!(&box_seal_open(&inner, &f.box_x_pk, &f.box_x_sk).unwrap(), m);
        assert_eq!(
            ese::open_unsigned_reference(c, &k).unwrap().len(),
            m.len() + 48
        );
        assert_eq!(&ese::open_unsigned(c, &k).unwrap(), m);
    }
}

#[test]
fn reference_seals_open_in_rust() {
    let Some(f) = fixture() else { return };
    let k = keys();
    let ans = answers(f, "nodeSeal", f.node_seal.len() + 1);
    let text_case = f.node_seal_text.as_bytes().to_vec();
    let cases = f.node_seal.iter().chain(std::iter::once(&text_case));
    for (m, a) in cases.zip(ans) {
        let bx = unhex(text(get(a, "box")));
        let es = unhex(text(get(a, "ese")));
        let un = unhex(text(get(a, "unsigned")));
        assert_eq!(bx.len(), m.len() + 48);
        assert_eq!(es.len(), m.len() + 160);
        assert_eq!(un.len(), m.len() + 96);
        assert_eq!(&box_seal_open(&bx, &f.box_x_pk, &f.box_x_sk).unwrap(), m);
        assert_eq!(&ese::open(&es, &k).unwrap(), m);
        assert_eq!(&ese::open_unsigned(&un, &k).unwrap(), m);
        assert_eq!(
            ese::open_unsigned_reference(&un, &k).unwrap().len(),
            m.len() + 48
        );
        // One flipped bit anywhere: refused, never a panic.
        for pos in [0, 31, 32, 47, 48, es.len() - 1] {
            let mut t = es.clone();
            t[pos] ^= 0x80;
            assert!(ese::open(&t, &k).is_err(), "flip at {pos}");
        }
    }
}

/// Feeds frames to a fresh reassembler in order; the first event (or error).
fn rust_receive(
    frames: &[Vec<u8>],
    k: &SubclusterKeys,
) -> Result<streamrelay::crypto::ReceivedEvent, ReceiveError> {
    let mut r = Reassembler::new(ReassemblyLimits::default());
    for f in frames {
        let p = PacketRef::decode(f).expect("decodes");
        if let Some(e) = r.receive(&p, 0, k)? {
            return Ok(e);
        }
    }
    panic!("incomplete");
}

/// The event emissions (not `unverified` / `unopened`) of a delivery.
fn emitted_events(delivery: &JsValue) -> Vec<&JsValue> {
    list(get(delivery, "emitted"))
        .iter()
        .filter(|e| !matches!(text(get(e, "name")), "unverified" | "unopened"))
        .collect()
}

/// The other emissions' names.
fn emitted_other(delivery: &JsValue) -> Vec<&str> {
    list(get(delivery, "emitted"))
        .iter()
        .map(|e| text(get(e, "name")))
        .filter(|n| matches!(*n, "unverified" | "unopened"))
        .collect()
}

/// A delivered event as the reference's subcluster emitter gave it, against
/// Rust's own reassembly of the same frames in the same order.
fn assert_same_event(
    what: &str,
    js: &JsValue,
    rust: &streamrelay::crypto::ReceivedEvent,
    name: &str,
) {
    let name_hash = hex(&sha256(name.as_bytes()));
    assert_eq!(text(get(js, "name")), name_hash, "{what}: event name hash");
    assert_eq!(hex(&rust.event_hash), name_hash, "{what}");
    assert_eq!(text(get(js, "usr1")), name_hash, "{what}");
    assert_eq!(text(get(js, "payload")), hex(&rust.payload), "{what}");
    assert_eq!(flag(get(js, "verified")), rust.verified, "{what}");
    assert_eq!(
        text(get(js, "packetId")),
        hex(&rust.packet_id),
        "{what}: packetId"
    );
    assert_eq!(text(get(js, "usr2")), hex(&rust.publisher), "{what}");
}

#[test]
fn rust_events_delivered_by_reference_peer() {
    let Some(f) = fixture() else { return };
    let k = keys();
    let signer = create_key_pair(SIGNING_SEED).unwrap();
    let ans = answers(f, "receive", f.events.len());
    for (e, a) in f.events.iter().zip(ans) {
        let what = &e.label;
        let frames: Vec<Vec<u8>> = e.order.iter().map(|&i| e.frames[i].clone()).collect();
        let rust = rust_receive(&frames, &k);
        let evs = emitted_events(a);
        let other = emitted_other(a);
        let heard = num(get(a, "heard")) as usize;
        let rejections = list(get(a, "rejections"));
        match e.expect {
            Expect::Verified | Expect::NotVerified => {
                let rust = rust.unwrap_or_else(|err| panic!("{what}: {err}"));
                assert_eq!(rust.payload, e.payload, "{what}");
                assert_eq!(rust.verified, e.expect == Expect::Verified, "{what}");
                assert_eq!(evs.len(), 1, "{what}: {}", a.stringify());
                assert!(other.is_empty(), "{what}: {}", a.stringify());
                assert_eq!(heard, 1, "{what}: the application listener");
                assert!(rejections.is_empty(), "{what}: {}", a.stringify());
                assert_same_event(what, evs[0], &rust, &e.name);
                if rust.verified {
                    assert_eq!(rust.publisher[..], signer.public_key());
                }
                // a chain is delivered as one composed packet
                let chained = e.frames.len() > 1;
                assert_eq!(flag(get(evs[0], "isComposed")), chained, "{what}");
                assert_eq!(num(get(evs[0], "index")), -1.0, "{what}");
            }
            Expect::VerifyThrows => {
                assert!(
                    matches!(rust, Err(ReceiveError::Unpack(UnpackError::Unverified(_)))),
                    "{what}: {rust:?}"
                );
                // The reference emits `unverified`, then still emits the
                // event itself, with an undefined payload, to the listener.
                assert_eq!(other, ["unverified"], "{what}: {}", a.stringify());
                assert_eq!(evs.len(), 1, "{what}: {}", a.stringify());
                assert_eq!(get(evs[0], "payload"), &JsValue::Null, "{what}");
                assert!(!flag(get(evs[0], "verified")), "{what}");
                assert_eq!(heard, 1, "{what}");
                assert!(rejections.is_empty(), "{what}: {}", a.stringify());
            }
            Expect::NoOpen => {
                assert!(
                    matches!(
                        rust,
                        Err(ReceiveError::Unpack(UnpackError::Open(OpenError::Box(_))))
                    ),
                    "{what}: {rust:?}"
                );
                // open() throws inside api.js's handlePacket: an unhandled
                // rejection, nothing reaches the application.
                assert!(evs.is_empty() && other.is_empty(), "{}", a.stringify());
                assert_eq!(heard, 0, "{what}");
                assert_eq!(rejections.len(), 1, "{what}: {}", a.stringify());
                assert!(
                    text(&rejections[0]).contains("incorrect key pair"),
                    "{what}: {}",
                    a.stringify()
                );
            }
        }
    }
    // options carried through
    let find = |l: &str| {
        let i = f.events.iter().position(|e| e.label == l).unwrap();
        emitted_events(&ans[i])[0]
    };
    assert_eq!(num(get(find("ttl 1000"), "ttl")), 1000.0);
    for o in ["options forward", "options reverse", "options shuffled"] {
        assert_eq!(num(get(find(o), "clock")), 9.0, "{o}");
        assert_eq!(num(get(find(o), "ttl")), 21_600_000.0, "{o}");
    }
    // §10.12: a chain completed by its head gets SHA-256(head.previousId ‖
    // message) as id, one completed by a fragment SHA-256(headId ‖ message).
    let id = |l: &str| text(get(find(l), "packetId")).to_string();
    assert_ne!(id("5000 forward"), id("5000 reverse"));
    assert_eq!(id("5000 forward"), id("5000 shuffled"));
    // every case of the spec's sizes went through, forward and shuffled
    for len in SIZES {
        assert!(f.events.iter().any(|e| e.label == format!("{len} forward")));
        if frame_count(len) > 1 {
            assert!(f
                .events
                .iter()
                .any(|e| e.label == format!("{len} shuffled")));
        }
    }
}

#[test]
fn reference_events_open_and_rebuild_in_rust() {
    let Some(f) = fixture() else { return };
    let k = keys();
    let signer = create_key_pair(SIGNING_SEED).unwrap();
    let ans = answers(f, "publish", f.publish.len());
    for (c, a) in f.publish.iter().zip(ans) {
        let what = &c.label;
        let frames: Vec<Vec<u8>> = list(get(a, "frames"))
            .iter()
            .map(|v| unhex(text(v)))
            .collect();
        assert_eq!(frames.len(), frame_count(c.payload.len()), "{what}");
        // what api.js pack() handed to publish()
        assert_eq!(text(get(a, "plaintext")), hex(&c.payload), "{what}");
        assert_eq!(
            text(get(a, "usr1")),
            hex(&sha256(c.name.as_bytes())),
            "{what}"
        );
        assert_eq!(text(get(a, "usr2")), hex(&signer.public_key()), "{what}");
        let sig = sign_from_byte_64(&c.payload, &signer);
        assert_eq!(text(get(a, "sig")), hex(&sig), "{what}");
        // the reference's sealed message opens in Rust
        let sealed = unhex(text(get(a, "sealed")));
        assert_eq!(sealed.len(), c.payload.len() + 160, "{what}");
        assert_eq!(ese::open(&sealed, &k).unwrap(), c.payload, "{what}");

        // Reassembled, opened and verified in Rust in every order, and the
        // same as a reference receiver fed the same order.
        let orders_js = get(a, "orders");
        for (label, order) in &c.orders {
            let what = format!("{what} {label}");
            let ordered: Vec<Vec<u8>> = order.iter().map(|&i| frames[i].clone()).collect();
            let e = rust_receive(&ordered, &k).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_eq!(e.payload, c.payload, "{what}");
            assert!(e.verified, "{what}");
            assert_eq!(e.event_hash[..], sha256(c.name.as_bytes()), "{what}");
            assert_eq!(e.publisher[..], signer.public_key(), "{what}");
            assert_eq!(e.cluster_id[..], c.cluster_id[..], "{what}");
            assert_eq!(e.subcluster_id[..], k.subcluster_id(), "{what}");
            let d = get(orders_js, label);
            let evs = emitted_events(d);
            assert_eq!(evs.len(), 1, "{what}: {}", d.stringify());
            assert!(emitted_other(d).is_empty(), "{what}");
            assert_eq!(num(get(d, "heard")), 1.0, "{what}");
            assert!(list(get(d, "rejections")).is_empty(), "{what}");
            assert_same_event(&what, evs[0], &e, &c.name);
            assert!(flag(get(evs[0], "verified")), "{what}");
        }

        // Rebuild the frames from the reference's sealed message: byte for
        // byte (hops 0, as _message2packets built them).
        let usr1 = sha256(c.name.as_bytes());
        let usr2 = signer.public_key();
        let scid = k.subcluster_id();
        let mut args = ChainArgs::new(PacketType::Publish);
        args.cluster_id = &c.cluster_id;
        args.subcluster_id = &scid;
        args.usr1 = &usr1;
        args.usr2 = &usr2;
        args.sig = &sig;
        args.ttl = c.ttl.map_or(21_600_000, |t| t.min(21_600_000));
        args.parent = c.parent.as_ref().map(|(id, clock)| ChainParent {
            packet_id: id,
            clock: *clock,
            max_sibling_clock: c.sibling_clock,
        });
        args.next_id = c.next_id.as_deref();
        args.meta = c.meta.as_ref();
        let ours: Vec<Packet> = message_to_packets(&sealed, &args, c.now).unwrap();
        assert_eq!(ours.len(), frames.len(), "{what}");
        for (i, (o, t)) in ours.iter().zip(&frames).enumerate() {
            assert_eq!(hex(&o.encode().unwrap()), hex(t), "{what} packet {i}");
        }

        // What sub.emit returned: the publisher's own composed view.
        let returned = list(get(a, "returned"));
        assert_eq!(returned.len(), 1, "{what}");
        let mine = compose_published(&ours).unwrap();
        assert_eq!(
            text(get(&returned[0], "packetId")),
            hex(&mine.packet.packet_id),
            "{what}"
        );
        assert_eq!(num(get(&returned[0], "index")), -1.0, "{what}");
        assert_eq!(
            flag(get(&returned[0], "isComposed")),
            frames.len() > 1,
            "{what}"
        );
        assert_eq!(
            num(get(&returned[0], "messageLength")) as usize,
            sealed.len(),
            "{what}"
        );
        if frames.len() == 1 {
            let p = PacketRef::decode(&frames[0]).unwrap().to_packet();
            assert_eq!(unpack_event(&p, &k).unwrap().payload, c.payload);
        }
    }
    // the cases asked for: every size, and chains in shuffled order
    for len in EVENT_SIZES {
        let c = f
            .publish
            .iter()
            .find(|c| c.label == format!("{len} bytes"))
            .unwrap();
        assert_eq!(c.orders.len(), if frame_count(len) > 1 { 3 } else { 1 });
    }
}
