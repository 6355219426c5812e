//! # streamrelay-node: a ready Stream Relay host
//!
//! [`streamrelay`] is a sans-IO state machine: it owns no
//! socket, no clock and no thread. This crate is the host most applications
//! want instead of writing their own: a [`Node`] binds the UDP sockets,
//! runs one thread that feeds the [`Peer`](streamrelay::peer::Peer) and
//! sleeps exactly until its next deadline, keeps a state file, and hands the
//! application events through a bounded queue. Hosts that own their loop
//! (Network.framework, their own C++ loop) keep using the `Peer` directly;
//! the `Node` uses nothing else than the `Peer`'s public API.
//!
//! ## Start, publish, receive
//!
//! ```no_run
//! use std::time::Duration;
//! use streamrelay::crypto::identity::create_shared_key;
//! use streamrelay::peer::{Event, PeerId};
//! use streamrelay_node::{Node, NodeEvent};
//!
//! let introducer = PeerId::from_hex(&"ab".repeat(32)).unwrap();
//! let node = Node::builder()
//!     .cluster_seed("my app")
//!     .introducer(introducer, "198.51.100.7:9000".parse().unwrap())
//!     .state_file("/var/lib/my-app/streamrelay.state")
//!     .start()?;
//! let room = create_shared_key("room 42").unwrap();
//! node.join(&room)?;
//! node.publish(&room, "chat", b"hello")?;
//! while let Some(ev) = node.next_event(Some(Duration::from_secs(30))) {
//!     if let NodeEvent::Peer(Event::Packet { payload, .. }) = ev {
//!         println!("{}", String::from_utf8_lossy(&payload));
//!     }
//! }
//! node.close()?; // saves the state file
//! # Ok::<(), streamrelay_node::NodeError>(())
//! ```
//!
//! ## What the Node does
//!
//! * **Sockets.** The main socket binds `[::]` by default, dual stack
//!   (IPV6_V6ONLY off) where the OS allows it, else `0.0.0.0`; port given
//!   or chosen ([`NodeBuilder::bind`], [`NodeBuilder::port`]). The probe
//!   socket (NAT discovery) and the hard-NAT pool sockets bind the same
//!   address on ephemeral ports. A pool socket is opened when the Peer asks
//!   (`Event::OpenPoolSockets`) and closed when it says; with the default
//!   profile the Peer asks for a fresh one before each reuse in a birthday
//!   traversal (`Behaviour::fresh_pool_sockets`), so every probe draws a new
//!   NAT mapping.
//! * **Addresses are canonical.** An IPv4 peer seen through a dual-stack
//!   socket as `::ffff:a.b.c.d` is handed to the Peer as `a.b.c.d`, and
//!   mapped back on the way out; [`canonical`] is the function.
//! * **One thread, no polling.** The loop sleeps in the OS poll until the
//!   Peer's `poll_timeout`, a datagram, a command or the next state save,
//!   whichever is first. [`Status::wakeups`] counts its wake-ups.
//! * **Commands from any thread.** [`Node`] is a cheap clonable handle:
//!   [`join`](Node::join), [`leave`](Node::leave),
//!   [`publish`](Node::publish), [`stream`](Node::stream),
//!   [`query`](Node::query), [`sync`](Node::sync),
//!   [`snapshot`](Node::snapshot), [`close`](Node::close), and
//!   [`with_peer`](Node::with_peer) for any other `Peer` call. A command
//!   runs under the Node's lock and wakes the loop, which sends what it
//!   queued at once.
//! * **State file.** Written atomically (temporary file, fsync, rename,
//!   fsync of the directory) every [`NodeBuilder::save_interval`] and at
//!   close; read at start. It keeps the identity (peer id, signing key),
//!   the peer table, the subclusters and their keys, the cache and the
//!   unpublished packets, so a restarted node carries on where it
//!   stopped. It holds secret keys (mode 0600). A file that cannot be
//!   restored is reported by [`Node::restore_error`] and replaced.
//! * **Network changes.** Call [`Node::network_changed`] from the
//!   platform's hook (`NWPathMonitor`, `ConnectivityManager.NetworkCallback`,
//!   netlink): sockets bound to an address that went away are bound again,
//!   reflection re-runs at once and every subcluster is joined again.
//! * **Events.** A bounded queue ([`NodeBuilder::event_capacity`], 1024 by
//!   default) read with [`Node::next_event`] / [`Node::try_next_event`], or
//!   announced by a callback ([`NodeBuilder::on_event`]). **Overflow
//!   policy:** when it is full a new event is dropped and counted
//!   ([`Status::events_dropped`]); what is queued is kept, and
//!   `Event::Closed` always gets in, last. Pool-socket events never enter.
//!   A dropped `Packet` is not lost to the network: it stays in the cache
//!   and a later sync or query can bring it back.
//! * **Status.** [`Node::status`]: peer id, NAT type, public endpoint,
//!   local addresses, the peers with RTT and whether direct or proxied,
//!   datagrams and bytes in and out, wake-ups, the Node's drops by cause
//!   ([`NodeDrops`]) and the Peer's ([`Status::peer_drops`]).
//! * **Links.** Bluetooth L2CAP channels and other byte streams with no
//!   IP path: [`Node::add_link`] takes a stream's file descriptor (the
//!   loop polls it), [`Node::add_link_writer`] +
//!   [`Node::link_input`] suit channels that are input/output streams
//!   (`CBL2CAPChannel`, Android's `BluetoothSocket`). Datagrams to and from
//!   `Remote::Link(id)` travel as the core's frames
//!   ([`streamrelay::link::framing`]); garbage is skipped and counted, each
//!   link's outbound queue is bounded ([`NodeBuilder::link_queue_bytes`]),
//!   its counters are in [`Status::links`], and its end comes as
//!   [`NodeEvent::LinkClosed`].
//! * **Clean shutdown.** [`Node::close`] (or dropping the last handle)
//!   saves the state, closes the Peer and the sockets and joins the thread.
//! * **Bounded, no panics on input.** Every queue and table is bounded (the
//!   Peer's by its `Limits`, the event queue by its capacity, reads by a
//!   per-socket batch); datagrams are data, never a reason to panic.
//!
//! ## Measured
//!
//! `node/examples/bench.rs`, release build, on a shared 2-core machine:
//!
//! * `cargo run --release -p streamrelay-node --example bench -- chain 20000`:
//!   20 000 publishes through a 3-node loopback chain (publisher →
//!   introducer relaying → subscriber; their firewalls refuse each other):
//!   all 20 000 delivered, **3 383 messages/s end to end**, bounded by the
//!   publisher sealing and signing each message (20 000 publishes took
//!   5.85 s). Before the Node asked for 4 MiB receive buffers the relay's
//!   kernel dropped 60% of that burst (8 917 delivered).
//! * `… --example bench -- idle 120`: one Node among 2 introducers and 21
//!   peers of one subcluster (22 table entries, 19 connected), default
//!   keepalive, 120 s idle: **13.0 wake-ups/min**, 111 datagrams/min in
//!   and out.
//!
//! ## Why mio and socket2
//!
//! `mio` is the poll layer under tokio: epoll, kqueue and IOCP behind one
//! small API, with a cross-thread [`Waker`](mio::Waker) that lets a command
//! interrupt the sleep without a self-pipe of our own, and nothing else (no
//! runtime, no allocation per wake-up). `socket2` is the field's way to set
//! socket options std lacks before binding: here IPV6_V6ONLY off for a
//! dual-stack `[::]` socket. Both are maintained by the tokio project and
//! are what most Rust network stacks (quinn, iroh) already pull in.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod events;
mod links;
mod node;
mod sockets;
mod state;
mod status;

pub use events::NodeEvent;
pub use links::{LinkId, LinkKind, LinkStatus, LinkWriter};
pub use node::{Node, NodeBuilder, NodeError};
pub use sockets::canonical;
pub use status::{NodeDrops, Status};
