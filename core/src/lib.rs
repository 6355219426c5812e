//! # streamrelay
//!
//! The Stream Relay (Latica) v6 peer-to-peer protocol as a sans-IO state
//! machine: datagrams and timer ticks in, datagrams and events out. This crate
//! is `no_std` + `alloc`; the `std` feature (on by default) only adds
//! `std::error::Error` impls.
//!
//! Today it holds the wire codec ([`wire`]), NAT types and the connection
//! strategy table ([`nat`]), id validators ([`id`]) and cache summaries
//! ([`cache`]).
//!
//! ```
//! use streamrelay::wire::{PacketRef, PacketType};
//! let hex = "03050b110700060000000100000000ffffffff014997000001000001000001000020709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c000100000100000100000100000100000100000100";
//! let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
//! let p = PacketRef::decode(&bytes).unwrap();
//! assert_eq!(p.packet_type, PacketType::Sync);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cache;
pub mod crypto;
pub mod id;
pub mod nat;
pub mod peer;
pub mod wire;
