//! # streamrelay
//!
//! The Stream Relay (Latica) v6 peer-to-peer protocol as a **sans-IO state
//! machine**: datagrams and timer ticks in, datagrams and events out. The
//! [`Peer`](peer::Peer) never opens a socket, reads a clock or spawns a
//! thread; the host does, and feeds it. This crate is `no_std` + `alloc`;
//! the `std` feature (on by default) only adds `std::error::Error` impls.
//!
//! ## The Peer in one screen
//!
//! | what | how |
//! |---|---|
//! | make one | [`Peer::new(config, now, seed)`](peer::Peer::new): [`Config`](peer::Config) (identity, cluster, introducers, [`Limits`](peer::Limits), [`Timings`](peer::Timings), profile), a monotonic `now`, 32 bytes from a CSPRNG |
//! | inputs | [`handle_datagram(now, socket, remote, bytes)`](peer::Peer::handle_datagram), [`handle_timeout(now)`](peer::Peer::handle_timeout) |
//! | outputs | [`poll_transmit`](peer::Peer::poll_transmit) / [`poll_transmit_into`](peer::Peer::poll_transmit_into) (datagrams), [`poll_event`](peer::Peer::poll_event) ([`Event`](peer::Event)s), [`poll_timeout`](peer::Peer::poll_timeout) (when to call `handle_timeout`) |
//! | commands | [`join`](peer::Peer::join), [`leave`](peer::Peer::leave), [`publish`](peer::Peer::publish), [`stream`](peer::Peer::stream), [`query`](peer::Peer::query), [`sync`](peer::Peer::sync), [`add_introducer`](peer::Peer::add_introducer), [`reconnect`](peer::Peer::reconnect), [`disconnect`](peer::Peer::disconnect), [`close`](peer::Peer::close) |
//! | inspection | [`metrics`](peer::Peer::metrics), [`occupancy`](peer::Peer::occupancy), [`peers`](peer::Peer::peers), [`nat_type`](peer::Peer::nat_type), [`public_endpoint`](peer::Peer::public_endpoint) |
//! | persistence | [`snapshot`](peer::Peer::snapshot), [`Peer::restore`](peer::Peer::restore) |
//!
//! - **Time is an input**: [`Instant`](peer::Instant) is milliseconds on the
//!   host's monotonic clock. **Randomness is an input**: the seed drives a
//!   seeded generator, so the same inputs replay exactly.
//! - **Sockets are the host's.** A [`Transmit`](peer::Transmit) names the
//!   local socket ([`SocketId`](peer::SocketId): the main socket, the probe
//!   socket of NAT discovery, or a hard-NAT pool socket the Peer asked for
//!   with [`Event::OpenPoolSockets`](peer::Event::OpenPoolSockets)).
//! - **Bad input is data**: nothing a datagram holds makes the Peer panic;
//!   it drops and counts it ([`DropReason`](peer::DropReason)).
//!
//! ## The drain rule
//!
//! After **every** input — a datagram, a timeout, a command — drain the
//! outputs: send every datagram [`poll_transmit`](peer::Peer::poll_transmit)
//! returns until `None`, handle every event until `None`, and only then ask
//! [`poll_timeout`](peer::Peer::poll_timeout) when to wake next (an input
//! can move the deadline earlier). Then wait for whichever comes first: a
//! datagram on one of the sockets, or that deadline.
//!
//! ## A host loop over UDP
//!
//! Two peers on loopback, each with its own socket, driven by one loop: an
//! introducer, and a peer that knows its address in advance (no NAT
//! discovery). The loop follows the drain rule and stops by itself once the
//! peer has heard its introducer answer (or after five seconds).
//!
//! ```
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant as Clock};
//!
//! use streamrelay::nat::NatType;
//! use streamrelay::peer::{Config, Event, Instant, Introducer, Peer, PeerId, Remote, SocketId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let start = Clock::now();
//! let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
//! let introducer_id = PeerId::from_hex(&"aa".repeat(32)).ok_or("bad id")?;
//! let mut hosts = Vec::new(); // (peer, its socket)
//! for (i, id) in [introducer_id.to_hex(), "bb".repeat(32)].iter().enumerate() {
//!     let sock = UdpSocket::bind("127.0.0.1:0")?;
//!     sock.set_read_timeout(Some(Duration::from_millis(2)))?;
//!     let mut config = Config::new(id, Some([7; 32])); // the application network
//!     config.nat_type = Some(NatType::UNRESTRICTED); // known: no NAT discovery
//!     config.public_address = Some(sock.local_addr()?);
//!     if i == 0 {
//!         config.indexed = true; // the introducer
//!     } else {
//!         let (_, introducer): &(Peer, UdpSocket) = &hosts[0];
//!         let remote = Remote::Udp(introducer.local_addr()?);
//!         config.introducers.push(Introducer { peer_id: introducer_id, remote });
//!     }
//!     let seed = [i as u8 + 1; 32]; // a real host takes 32 bytes from its CSPRNG
//!     hosts.push((Peer::new(config, now(), seed)?, sock));
//! }
//!
//! let answered = |p: &Peer| p.peer(&introducer_id).is_some_and(|e| e.rtt_ms.is_some());
//! let mut buf = [0u8; 1500]; // holds any datagram a Peer sends
//! while !answered(&hosts[1].0) && start.elapsed() < Duration::from_secs(5) {
//!     for (peer, sock) in &mut hosts {
//!         // Inputs: a datagram, if one came; the timers that are due.
//!         if let Ok((n, from)) = sock.recv_from(&mut buf) {
//!             peer.handle_datagram(now(), SocketId::Main, Remote::Udp(from), &buf[..n]);
//!         }
//!         if peer.poll_timeout().is_some_and(|t| t <= now()) {
//!             peer.handle_timeout(now());
//!         }
//!         // The drain rule: every datagram, then every event.
//!         while let Some(t) = peer.poll_transmit(now()) {
//!             if let (SocketId::Main, Remote::Udp(to)) = (t.socket, t.remote) {
//!                 sock.send_to(&t.bytes, to)?;
//!             }
//!             peer.recycle(t); // its buffer carries a later datagram
//!         }
//!         while let Some(event) = peer.poll_event() {
//!             if let Event::Ready { nat, .. } = event {
//!                 assert_eq!(nat, Some(NatType::UNRESTRICTED));
//!             }
//!         }
//!     }
//! }
//! assert!(answered(&hosts[1].0), "the introducer answers on loopback");
//! # Ok(())
//! # }
//! ```
//!
//! (A host with one peer would block in `recv_from` until `poll_timeout`;
//! this loop polls two sockets with a short read timeout instead.
//! `streamrelay peer`, the CLI, is a complete host.)
//!
//! ## Modules
//!
//! - [`peer`]: the state machine, one module per flow of the protocol;
//! - [`wire`]: the packet codec and the control messages;
//! - [`crypto`]: identity, sealed boxes, signatures, messages longer than
//!   one packet;
//! - [`nat`]: NAT types and the connection strategy table;
//! - [`id`], [`cache`]: id validators and cache summaries.
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
pub mod link;
pub mod nat;
pub mod peer;
pub mod wire;

/// What the exported table macros name (not part of the API).
#[doc(hidden)]
pub mod __private {
    pub use alloc::string::String;
    pub use alloc::vec::Vec;
}
