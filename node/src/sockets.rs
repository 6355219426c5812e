//! The Node's UDP sockets: main, probe and the hard-NAT pool, registered
//! with one `mio::Poll`.
//!
//! Addresses are canonical at this boundary: a datagram from an IPv4 peer on
//! a dual-stack socket arrives as `::ffff:a.b.c.d` and is handed to the Peer
//! as `a.b.c.d` (the Peer would otherwise tell that peer its v4-mapped form
//! in Pongs: tests/natlab/README.md, finding 6); an IPv4 destination is
//! mapped back when it leaves a dual-stack socket.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};
use streamrelay::peer::SocketId;

/// Token of the waker (commands, `close`).
pub(crate) const WAKER: Token = Token(0);
const MAIN: Token = Token(1);
const PROBE: Token = Token(2);
/// Pool socket `i` is token `POOL_BASE + i`.
const POOL_BASE: usize = 16;
/// Link `n` is token `LINK_BASE + n` (above every pool token).
const LINK_BASE: usize = 1 << 20;
/// Receive buffer asked for each socket.
const RECV_BUFFER: usize = 4 << 20;

/// The token of a socket id.
pub(crate) fn token(id: SocketId) -> Token {
    match id {
        SocketId::Main => MAIN,
        SocketId::Probe => PROBE,
        SocketId::Pool(i) => Token(POOL_BASE + usize::from(i)),
    }
}

/// The socket id of a token (`None` for the waker).
pub(crate) fn socket_of(t: Token) -> Option<SocketId> {
    match t {
        MAIN => Some(SocketId::Main),
        PROBE => Some(SocketId::Probe),
        Token(n) if (POOL_BASE..LINK_BASE).contains(&n) => {
            u16::try_from(n - POOL_BASE).ok().map(SocketId::Pool)
        }
        _ => None,
    }
}

/// The token of link `n`.
pub(crate) fn link_token(n: u64) -> Token {
    Token(LINK_BASE.saturating_add(usize::try_from(n).unwrap_or(usize::MAX)))
}

/// The link of a token.
pub(crate) fn link_of(t: Token) -> Option<u64> {
    t.0.checked_sub(LINK_BASE).map(|n| n as u64)
}

/// `::ffff:a.b.c.d` → `a.b.c.d`; everything else as it is.
pub fn canonical(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip().to_canonical(), a.port())
}

/// One bound, registered socket.
pub(crate) struct Bound {
    pub(crate) sock: UdpSocket,
    pub(crate) local: SocketAddr,
    /// Bound to `[::]` with IPV6_V6ONLY off: IPv4 goes out v4-mapped.
    pub(crate) dual: bool,
}

impl Bound {
    /// Binds `ip:port`. An unspecified IPv6 address is made dual-stack where
    /// the OS allows it.
    pub(crate) fn bind(ip: IpAddr, port: u16) -> io::Result<Bound> {
        let addr = SocketAddr::new(ip, port);
        let domain = if ip.is_ipv4() {
            Domain::IPV4
        } else {
            Domain::IPV6
        };
        let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        let mut dual = false;
        if ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
            dual = s.set_only_v6(false).is_ok();
        }
        s.set_nonblocking(true)?;
        // A burst (a sync answer, a relay under load) should wait in the
        // kernel, not be dropped there; the OS caps it (net.core.rmem_max).
        let _ = s.set_recv_buffer_size(RECV_BUFFER);
        s.bind(&addr.into())?;
        let sock = UdpSocket::from_std(s.into());
        let local = sock.local_addr()?;
        Ok(Bound { sock, local, dual })
    }

    /// Sends, mapping the destination to this socket's family.
    pub(crate) fn send(&self, to: SocketAddr, bytes: &[u8]) -> io::Result<usize> {
        let to = match (to.ip(), self.local.is_ipv6()) {
            (IpAddr::V4(v4), true) if self.dual => {
                SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), to.port())
            }
            _ => to,
        };
        self.sock.send_to(bytes, to)
    }
}

/// Every socket of a Node.
pub(crate) struct Sockets {
    pub(crate) main: Bound,
    pub(crate) probe: Bound,
    pub(crate) pool: BTreeMap<u16, Bound>,
    /// The address the main socket was asked to bind (kept for rebinding).
    pub(crate) bind_ip: IpAddr,
}

/// What a bind of the main socket falls back to when `[::]` is refused (a
/// host without IPv6).
fn fallback(ip: IpAddr) -> Option<IpAddr> {
    (ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED)).then_some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

impl Sockets {
    /// Binds main (`ip:port`, or the IPv4 wildcard if `[::]` is refused) and
    /// probe (same IP, any port) and registers them.
    pub(crate) fn open(ip: IpAddr, port: u16, registry: &Registry) -> io::Result<Sockets> {
        let (main, bind_ip) = match Bound::bind(ip, port) {
            Ok(b) => (b, ip),
            Err(e) => match fallback(ip) {
                Some(v4) => (Bound::bind(v4, port)?, v4),
                None => return Err(e),
            },
        };
        let probe = Bound::bind(bind_ip, 0)?;
        let mut s = Sockets {
            main,
            probe,
            pool: BTreeMap::new(),
            bind_ip,
        };
        registry.register(&mut s.main.sock, MAIN, Interest::READABLE)?;
        registry.register(&mut s.probe.sock, PROBE, Interest::READABLE)?;
        Ok(s)
    }

    pub(crate) fn get(&self, id: SocketId) -> Option<&Bound> {
        match id {
            SocketId::Main => Some(&self.main),
            SocketId::Probe => Some(&self.probe),
            SocketId::Pool(i) => self.pool.get(&i),
        }
    }

    /// Opens pool socket `i` on a fresh ephemeral port (replacing one with
    /// that id).
    pub(crate) fn open_pool(&mut self, i: u16, registry: &Registry) -> io::Result<()> {
        self.close_pool(i, registry);
        let mut b = Bound::bind(self.bind_ip, 0)?;
        registry.register(&mut b.sock, token(SocketId::Pool(i)), Interest::READABLE)?;
        self.pool.insert(i, b);
        Ok(())
    }

    pub(crate) fn close_pool(&mut self, i: u16, registry: &Registry) {
        if let Some(mut b) = self.pool.remove(&i) {
            let _ = registry.deregister(&mut b.sock);
        }
    }

    /// Binds every socket again (main keeps its port if it can): after the
    /// network changed under a socket bound to a specific address. Returns
    /// the new main address.
    pub(crate) fn rebind(&mut self, ip: IpAddr, registry: &Registry) -> io::Result<SocketAddr> {
        let port = self.main.local.port();
        let mut probe = Bound::bind(ip, 0)?;
        // The old main socket holds the port: a socket on any port first,
        // then the old port once the old socket is gone.
        let stand_in = Bound::bind(ip, 0)?;
        let _ = registry.deregister(&mut self.main.sock);
        let _ = registry.deregister(&mut self.probe.sock);
        drop(std::mem::replace(&mut self.main, stand_in));
        if let Ok(b) = Bound::bind(ip, port) {
            self.main = b;
        }
        registry.register(&mut self.main.sock, MAIN, Interest::READABLE)?;
        registry.register(&mut probe.sock, PROBE, Interest::READABLE)?;
        self.probe = probe;
        self.bind_ip = ip;
        let ids: Vec<u16> = self.pool.keys().copied().collect();
        for i in ids {
            // A pool socket that cannot be bound again is gone; the Peer's
            // sends from it are counted as `no_socket`.
            let _ = self.open_pool(i, registry);
        }
        Ok(self.main.local)
    }
}

/// Whether `ip` can still be bound here (false once the interface that
/// carried it lost it). Wildcards always can.
pub(crate) fn address_present(ip: IpAddr) -> bool {
    ip.is_unspecified() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for id in [
            SocketId::Main,
            SocketId::Probe,
            SocketId::Pool(0),
            SocketId::Pool(u16::MAX),
        ] {
            assert_eq!(socket_of(token(id)), Some(id));
        }
        assert_eq!(socket_of(WAKER), None);
    }

    #[test]
    fn rebind_keeps_the_main_port_and_renews_every_socket() {
        let poll = mio::Poll::new().unwrap();
        let reg = poll.registry();
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut s = Sockets::open(lo, 0, reg).unwrap();
        s.open_pool(3, reg).unwrap();
        let (main, probe, pool) = (s.main.local, s.probe.local, s.pool[&3].local);
        let wild = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let now = s.rebind(wild, reg).unwrap();
        assert_eq!(now, SocketAddr::new(wild, main.port()));
        assert_eq!(s.bind_ip, wild);
        assert_eq!(s.probe.local.ip(), wild);
        assert_ne!(s.probe.local, probe);
        assert_ne!(s.pool[&3].local, pool);
        // The new main socket works.
        let peer = std::net::UdpSocket::bind((lo, 0)).unwrap();
        peer.send_to(b"x", (lo, main.port())).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut buf = [0u8; 8];
        let (n, from) = s.main.sock.recv_from(&mut buf).unwrap();
        assert_eq!((n, from), (1, peer.local_addr().unwrap()));
        assert!(address_present(lo) && address_present(wild));
        assert!(!address_present("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn v4_mapped_becomes_v4() {
        let a: SocketAddr = "[::ffff:203.0.113.14]:7".parse().unwrap();
        assert_eq!(canonical(a), "203.0.113.14:7".parse().unwrap());
        let b: SocketAddr = "[2001:db8::1]:7".parse().unwrap();
        assert_eq!(canonical(b), b);
    }
}
