//! The host's veto over inbound traffic (§6.13).
//!
//! The reference has two hooks, `onLimit` (after the rate limiter) and
//! `firewall`; both see every packet that passed the limiter and drop it on a
//! falsy answer. One trait object covers both here. A closure works:
//!
//! ```
//! use streamrelay::peer::{Firewall, Remote, SocketId};
//! use streamrelay::wire::{PacketRef, PacketType};
//! let mut only_control: Box<dyn Firewall> =
//!     Box::new(|p: &PacketRef<'_>, _: &Remote, _: SocketId| p.packet_type.is_control());
//! # let _ = &mut only_control;
//! ```

use super::addr::{Remote, SocketId};
use crate::wire::PacketRef;

/// Decides whether an inbound packet (already decoded and within its rate
/// limit) is handled. Not consulted for the probe socket.
pub trait Firewall: Send {
    /// `true` to handle the packet, `false` to drop it (counted as
    /// [`DropReason::Firewall`](super::DropReason::Firewall)).
    fn allow(&mut self, packet: &PacketRef<'_>, remote: &Remote, socket: SocketId) -> bool;
}

impl<F> Firewall for F
where
    F: FnMut(&PacketRef<'_>, &Remote, SocketId) -> bool + Send,
{
    fn allow(&mut self, packet: &PacketRef<'_>, remote: &Remote, socket: SocketId) -> bool {
        self(packet, remote, socket)
    }
}
