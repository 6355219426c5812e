//! Datagrams over a byte stream: frames with a sync marker, a length and
//! two checksums, and a decoder that resynchronises after garbage.
//!
//! ## The frame (all integers big-endian)
//!
//! | offset | size | field |
//! | ---: | ---: | --- |
//! | 0 | 2 | sync marker `0xA5 0x5C` ([`SYNC`]) |
//! | 2 | 2 | payload length `N`, `1 ..= max_frame` (at most 65 535) |
//! | 4 | 1 | header check: [CRC-8/SMBUS](super::crc::crc8) of bytes 0..4 |
//! | 5 | `N` | payload: one datagram, as the [`Peer`](crate::peer::Peer) sends it |
//! | 5 + `N` | 4 | [CRC-32/ISO-HDLC](super::crc::crc32) (zlib's) of the payload |
//!
//! [`OVERHEAD`] is 9 bytes. A stream is frames back to back, with nothing
//! between them; a writer never sends anything else.
//!
//! ## The reader
//!
//! The [`FrameDecoder`] looks for the sync marker. At a marker it checks
//! the header (its CRC-8, a length of 1 to `max_frame`); a bad header makes
//! it skip one byte and look again, at once, without waiting for a payload
//! that a false length announces. With a good header it waits for the whole
//! frame and checks the CRC-32; a bad one makes it skip one byte and look
//! again *inside* that frame, so a frame torn by a reconnect or by bytes
//! lost in the middle costs only itself: the next good frame is found.
//! Every byte that is not part of a good frame is counted in
//! [`DecoderCounters::skipped_bytes`], each rejected candidate by cause.
//!
//! The decoder owns one buffer of `max_frame + 9` bytes, allocated once;
//! [`FrameDecoder::feed`] takes from the caller only what fits, so memory is
//! bounded whatever the input, and nothing a stream holds makes it panic.
//!
//! ```
//! use streamrelay::link::framing::{encode_frame, FrameDecoder, FramingConfig, OVERHEAD};
//! let config = FramingConfig { max_frame: 1500 };
//! let mut out = [0u8; 1500 + OVERHEAD]; // the caller's buffer
//! let n = encode_frame(&config, b"hello", &mut out).unwrap();
//! assert_eq!(&out[..5], &[0xA5, 0x5C, 0x00, 0x05, 0x74]);
//!
//! // Garbage before, the frame cut in two: the decoder finds it.
//! let mut stream = b"noise".to_vec();
//! stream.extend_from_slice(&out[..n]);
//! let mut dec = FrameDecoder::new(config);
//! let mut frames = Vec::new();
//! dec.push(&stream[..7], |f| frames.push(f.to_vec()));
//! dec.push(&stream[7..], |f| frames.push(f.to_vec()));
//! assert_eq!(frames, vec![b"hello".to_vec()]);
//! assert_eq!(dec.counters().skipped_bytes, 5);
//! ```

use alloc::vec;
use alloc::vec::Vec;

use super::crc::{crc32, crc8};

/// The sync marker every frame starts with.
pub const SYNC: [u8; 2] = [0xA5, 0x5C];
/// Header bytes: sync marker, length, header check.
pub const HEADER: usize = 5;
/// Bytes a frame adds to its payload: the header and the CRC-32.
pub const OVERHEAD: usize = HEADER + 4;
/// The largest `max_frame` the length field can express.
pub const MAX_FRAME_LIMIT: usize = u16::MAX as usize;

/// The framing's one setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingConfig {
    /// The largest payload a frame carries, 1 to 65 535 (clamped). Both
    /// ends should agree; a frame announcing more is rejected and counted
    /// ([`DecoderCounters::too_large`]). The default, 2048, holds any
    /// datagram the Peer sends (at most 1 421 bytes).
    pub max_frame: usize,
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig { max_frame: 2048 }
    }
}

impl FramingConfig {
    fn max(&self) -> usize {
        self.max_frame.clamp(1, MAX_FRAME_LIMIT)
    }
}

/// Why a payload could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A frame carries at least one byte.
    #[error("empty payload")]
    Empty,
    /// The payload is longer than `max_frame`.
    #[error("payload of {len} bytes exceeds max_frame {max}")]
    TooLarge {
        /// The payload's length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The caller's buffer is shorter than the frame.
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// The frame's length (payload + [`OVERHEAD`]).
        needed: usize,
    },
}

fn check(config: &FramingConfig, payload: &[u8]) -> Result<(), FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Empty);
    }
    let max = config.max();
    if payload.len() > max {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max,
        });
    }
    Ok(())
}

fn header(len: usize) -> [u8; HEADER] {
    let l = (len as u16).to_be_bytes();
    let mut h = [SYNC[0], SYNC[1], l[0], l[1], 0];
    h[4] = crc8(&h[..4]);
    h
}

/// Frame `payload` into the caller's buffer `out`; returns the frame's
/// length (`payload.len() + OVERHEAD`).
///
/// ```
/// use streamrelay::link::framing::{encode_frame, FrameError, FramingConfig};
/// let c = FramingConfig::default();
/// let mut small = [0u8; 8];
/// assert_eq!(encode_frame(&c, b"abc", &mut small), Err(FrameError::BufferTooSmall { needed: 12 }));
/// ```
pub fn encode_frame(
    config: &FramingConfig,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, FrameError> {
    check(config, payload)?;
    let needed = payload.len() + OVERHEAD;
    let Some(out) = out.get_mut(..needed) else {
        return Err(FrameError::BufferTooSmall { needed });
    };
    out[..HEADER].copy_from_slice(&header(payload.len()));
    out[HEADER..HEADER + payload.len()].copy_from_slice(payload);
    out[HEADER + payload.len()..].copy_from_slice(&crc32(payload).to_be_bytes());
    Ok(needed)
}

/// Frame `payload` and append the frame to `out`; returns its length.
///
/// ```
/// use streamrelay::link::framing::{encode_frame_vec, FramingConfig};
/// let mut v = Vec::new();
/// assert_eq!(encode_frame_vec(&FramingConfig::default(), b"x", &mut v), Ok(10));
/// ```
pub fn encode_frame_vec(
    config: &FramingConfig,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, FrameError> {
    check(config, payload)?;
    out.extend_from_slice(&header(payload.len()));
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32(payload).to_be_bytes());
    Ok(payload.len() + OVERHEAD)
}

/// What a [`FrameDecoder`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderCounters {
    /// Bytes taken in by [`FrameDecoder::feed`].
    pub bytes_in: u64,
    /// Good frames returned.
    pub frames_in: u64,
    /// Bytes that were not part of a good frame (garbage, rejected frames).
    pub skipped_bytes: u64,
    /// Sync markers whose header check failed (or announced length 0).
    pub bad_header: u64,
    /// Headers that checked but announced more than `max_frame`.
    pub too_large: u64,
    /// Whole frames whose CRC-32 failed (a torn frame, corruption).
    pub bad_checksum: u64,
}

/// Cuts a byte stream into frames; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    max: usize,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    counters: DecoderCounters,
}

impl FrameDecoder {
    /// A decoder with one buffer of `max_frame + OVERHEAD` bytes.
    pub fn new(config: FramingConfig) -> Self {
        let max = config.max();
        FrameDecoder {
            max,
            buf: vec![0; max + OVERHEAD],
            start: 0,
            end: 0,
            counters: DecoderCounters::default(),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> DecoderCounters {
        self.counters
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The buffer's fixed size (`max_frame + OVERHEAD`).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Take as many bytes of `input` as fit; returns how many. Call
    /// [`next_frame`](Self::next_frame) until `None` before feeding the
    /// rest: that always makes room.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = input.len().min(self.buf.len() - self.end);
        self.buf[self.end..self.end + n].copy_from_slice(&input[..n]);
        self.end += n;
        self.counters.bytes_in += n as u64;
        n
    }

    fn skip(&mut self, n: usize) {
        self.start += n;
        self.counters.skipped_bytes += n as u64;
    }

    /// The next good frame's payload, if a whole one is buffered.
    pub fn next_frame(&mut self) -> Option<&[u8]> {
        loop {
            let avail = &self.buf[self.start..self.end];
            // A marker, or its first byte at the very end.
            let at = avail
                .windows(2)
                .position(|w| w == SYNC)
                .or_else(|| (avail.last() == Some(&SYNC[0])).then(|| avail.len() - 1));
            let Some(at) = at else {
                self.skip(avail.len());
                return None;
            };
            self.skip(at);
            let avail = &self.buf[self.start..self.end];
            if avail.len() < HEADER {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([avail[2], avail[3]]));
            if crc8(&avail[..4]) != avail[4] || len == 0 {
                self.counters.bad_header += 1;
                self.skip(1);
                continue;
            }
            if len > self.max {
                self.counters.too_large += 1;
                self.skip(1);
                continue;
            }
            if avail.len() < len + OVERHEAD {
                return None;
            }
            let payload = &avail[HEADER..HEADER + len];
            let sum = &avail[HEADER + len..len + OVERHEAD];
            if crc32(payload).to_be_bytes() != sum {
                self.counters.bad_checksum += 1;
                self.skip(1);
                continue;
            }
            self.counters.frames_in += 1;
            let from = self.start + HEADER;
            self.start += len + OVERHEAD;
            return Some(&self.buf[from..from + len]);
        }
    }

    /// Feed all of `input`, calling `on_frame` with each good frame.
    pub fn push(&mut self, mut input: &[u8], mut on_frame: impl FnMut(&[u8])) {
        loop {
            let n = self.feed(input);
            input = &input[n..];
            while let Some(frame) = self.next_frame() {
                on_frame(frame);
            }
            if input.is_empty() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(dec: &mut FrameDecoder, input: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        dec.push(input, |f| v.push(f.to_vec()));
        v
    }

    fn frame(c: &FramingConfig, p: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_frame_vec(c, p, &mut v).unwrap();
        v
    }

    #[test]
    fn round_trip_byte_by_byte() {
        let c = FramingConfig::default();
        let payloads: Vec<Vec<u8>> = (1..50usize)
            .map(|n| (0..n * 37).map(|i| (i * 7 + n) as u8).collect())
            .collect();
        let mut stream = Vec::new();
        for p in &payloads {
            stream.extend(frame(&c, p));
        }
        let mut dec = FrameDecoder::new(c);
        let mut got = Vec::new();
        for b in &stream {
            got.extend(frames_of(&mut dec, core::slice::from_ref(b)));
        }
        assert_eq!(got, payloads);
        assert_eq!(dec.counters().skipped_bytes, 0);
        assert_eq!(dec.counters().frames_in, 49);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn encode_errors() {
        let c = FramingConfig { max_frame: 10 };
        assert_eq!(
            encode_frame_vec(&c, b"", &mut Vec::new()),
            Err(FrameError::Empty)
        );
        assert_eq!(
            encode_frame_vec(&c, &[0; 11], &mut Vec::new()),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        );
        let mut buf = [0u8; 19];
        assert_eq!(encode_frame(&c, &[1; 10], &mut buf), Ok(19));
    }

    #[test]
    fn resync_after_garbage_and_sync_bytes() {
        let c = FramingConfig::default();
        // Garbage full of sync markers and half markers.
        let mut stream = Vec::new();
        for i in 0..300u32 {
            let h = [0xA5, 0x5C, (i >> 8) as u8, i as u8];
            stream.extend_from_slice(&h);
            stream.push(crc8(&h) ^ 1); // a header check that fails
        }
        stream.extend(frame(&c, b"first"));
        stream.extend_from_slice(&[0xA5; 17]);
        stream.extend(frame(&c, b"second"));
        let mut dec = FrameDecoder::new(c);
        assert_eq!(
            frames_of(&mut dec, &stream),
            vec![b"first".to_vec(), b"second".to_vec()]
        );
        assert_eq!(dec.counters().skipped_bytes, 1500 + 17);
        assert!(dec.counters().bad_header > 0);
    }

    #[test]
    fn torn_frame_costs_only_itself() {
        let c = FramingConfig::default();
        let big: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let torn = frame(&c, &big);
        let mut stream = Vec::new();
        stream.extend(frame(&c, b"before"));
        stream.extend_from_slice(&torn[..400]); // the link dropped, came back
        for i in 0..5u8 {
            stream.extend(frame(&c, &[i; 100]));
        }
        stream.extend(frame(&c, &big)); // long enough to finish the torn length
        stream.extend(frame(&c, b"after"));
        let mut dec = FrameDecoder::new(c);
        let got = frames_of(&mut dec, &stream);
        assert_eq!(got.first().unwrap(), b"before");
        assert_eq!(got.last().unwrap(), b"after");
        // The torn frame's announced length swallows the frames behind it
        // until its checksum fails; then each is found again.
        assert_eq!(got.len(), 1 + 5 + 1 + 1);
        assert_eq!(dec.counters().bad_checksum, 1);
        assert_eq!(dec.counters().skipped_bytes, 400);
    }

    #[test]
    fn flipped_bit_drops_one_frame() {
        let c = FramingConfig::default();
        let mut stream = Vec::new();
        for i in 0..10u8 {
            stream.extend(frame(&c, &[i; 50]));
        }
        stream[59 * 3 + 20] ^= 0x10; // inside the fourth payload
        let mut dec = FrameDecoder::new(c);
        let got = frames_of(&mut dec, &stream);
        assert_eq!(got.len(), 9);
        assert!(!got.contains(&vec![3u8; 50]));
        assert_eq!(dec.counters().bad_checksum, 1);
        assert_eq!(dec.counters().skipped_bytes, 59);
    }

    #[test]
    fn too_large_for_the_receiver() {
        let tx = FramingConfig { max_frame: 4000 };
        let rx = FramingConfig { max_frame: 100 };
        let mut stream = frame(&tx, &[9; 3000]);
        stream.extend(frame(&tx, b"ok"));
        let mut dec = FrameDecoder::new(rx);
        assert_eq!(frames_of(&mut dec, &stream), vec![b"ok".to_vec()]);
        assert_eq!(dec.counters().too_large, 1);
        assert_eq!(dec.capacity(), 109);
    }

    #[test]
    fn flood_stays_bounded() {
        // 4 MB of adversarial input: valid headers announcing max-length
        // frames with wrong checksums, random bytes, good frames between.
        let c = FramingConfig { max_frame: 512 };
        let mut dec = FrameDecoder::new(c);
        let mut x = 0x1234_5678u32;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut good = 0u64;
        let mut got = 0u64;
        let mut chunk = Vec::new();
        for round in 0..2000 {
            chunk.clear();
            match round % 3 {
                0 => {
                    let mut f = frame(&c, &[round as u8; 512]);
                    let l = f.len();
                    f[l - 1] ^= 1;
                    chunk.extend(f);
                }
                1 => chunk.extend((0..rnd() % 4000).map(|_| rnd() as u8)),
                _ => {
                    chunk.extend(frame(&c, &[round as u8; 300]));
                    good += 1;
                }
            }
            let mut n = 0;
            dec.push(&chunk, |f| {
                assert_eq!(f.len(), 300);
                n += 1;
            });
            got += n;
            assert!(dec.buffered() <= dec.capacity());
            assert_eq!(dec.capacity(), 512 + OVERHEAD);
        }
        // A good frame right after random bytes can be swallowed by a false
        // header in them; almost all get through.
        assert!(got * 100 >= good * 95, "{got} of {good}");
        let k = dec.counters();
        assert_eq!(k.frames_in, got);
        assert!(k.bad_checksum >= 600);
    }
}
