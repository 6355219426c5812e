//! Transport-neutral addressing: remotes, local sockets and peer ids.
//!
//! The protocol speaks of `address` and `port` in its JSON messages; here a
//! remote is either a UDP socket address or a host-defined link (a Bluetooth
//! channel, say) that has no IP address at all. The wire only ever sees UDP
//! endpoints: a link neighbour (announced by `Peer::link_up`) is a full
//! member over its link, but it is never described in an Intro or a Join
//! (see docs/compat.md#link-remotes).

use alloc::string::String;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// Where a datagram comes from or goes to.
///
/// ```
/// use streamrelay::peer::Remote;
/// let r = Remote::Udp("192.0.2.1:3456".parse().unwrap());
/// assert_eq!(r.udp().unwrap().port(), 3456);
/// assert!(Remote::Link(7).udp().is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Remote {
    /// A UDP endpoint (IPv4 or IPv6).
    Udp(SocketAddr),
    /// A host-defined link with no IP address (its number means something to
    /// the host only).
    Link(u64),
}

impl Remote {
    /// The UDP endpoint, if this is one.
    pub const fn udp(&self) -> Option<SocketAddr> {
        match self {
            Remote::Udp(a) => Some(*a),
            Remote::Link(_) => None,
        }
    }

    /// The IP address, if this is a UDP endpoint.
    pub fn ip(&self) -> Option<IpAddr> {
        self.udp().map(|a| a.ip())
    }

    /// A remote from the `address` / `port` pair of a message: the address
    /// must be an IP literal and the port an integer 1..=65535.
    pub(crate) fn from_wire(address: Option<&str>, port: Option<f64>) -> Option<Remote> {
        let ip: IpAddr = address?.parse().ok()?;
        let port = port?;
        if !crate::id::is_valid_port(port) {
            return None;
        }
        Some(Remote::Udp(SocketAddr::new(ip, port as u16)))
    }
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remote::Udp(a) => write!(f, "{a}"),
            Remote::Link(n) => write!(f, "link:{n}"),
        }
    }
}

/// A local socket the host owns. Every [`Transmit`](super::Transmit) names
/// one, and the host says which one a datagram arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SocketId {
    /// The main socket: all normal traffic.
    Main,
    /// The probe socket: NAT discovery only (§6.8).
    Probe,
    /// A pool socket the Peer asked for with
    /// [`Event::OpenPoolSockets`](super::Event::OpenPoolSockets).
    Pool(u16),
}

/// A peer's 32-byte id. On the wire it is 64 hex digits; we always write
/// lower case and read either case (docs/compat.md#peer-id-case).
///
/// ```
/// use streamrelay::peer::PeerId;
/// let id = PeerId::from_hex(&"AB".repeat(32)).unwrap();
/// assert_eq!(id.to_hex(), "ab".repeat(32));
/// assert!(PeerId::from_hex("abc").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PeerId(pub [u8; 32]);

impl PeerId {
    /// Parses 64 hex digits (either case); anything else is `None`.
    pub fn from_hex(s: &str) -> Option<PeerId> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            let hi = (b[2 * i] as char).to_digit(16)?;
            let lo = (b[2 * i + 1] as char).to_digit(16)?;
            *o = (hi * 16 + lo) as u8;
        }
        Some(PeerId(out))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        crate::crypto::identity::to_hex(&self.0)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight digits are plenty to tell peers apart in logs and snapshots.
        write!(f, "PeerId(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}
