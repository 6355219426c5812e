//! Links: datagrams over host-defined byte streams and small-MTU datagram
//! channels (Bluetooth L2CAP and the like), sans-IO.
//!
//! A [`Remote::Link`](crate::peer::Remote::Link) carries the same datagrams
//! as UDP. Many links are not datagram channels, though:
//!
//! * an L2CAP connection-oriented channel on iOS (`CBL2CAPChannel`) or
//!   Android (`BluetoothSocket` from `createL2capChannel`) is a **byte
//!   stream**: [`framing`] cuts it into frames with a sync marker, a length
//!   and a checksum, so a receiver finds the next frame after garbage or a
//!   torn frame;
//! * a datagram link with a small MTU (a BLE GATT characteristic, about 180
//!   bytes) needs [`fragment`]ation and reassembly.
//!
//! Both keep every buffer bounded: what does not fit or does not check is
//! dropped and counted, never a reason to panic or grow. The byte formats
//! are written out in `docs/link-framing.md` so that another implementation
//! can interoperate.
//!
//! ```
//! use streamrelay::link::framing::{encode_frame_vec, FrameDecoder, FramingConfig};
//! let config = FramingConfig::default();
//! let mut wire = Vec::new();
//! encode_frame_vec(&config, b"one datagram", &mut wire).unwrap();
//! let mut decoder = FrameDecoder::new(config);
//! let mut got = Vec::new();
//! decoder.push(&wire, |frame| got.push(frame.to_vec()));
//! assert_eq!(got, vec![b"one datagram".to_vec()]);
//! ```

pub mod crc;
pub mod fragment;
pub mod framing;
