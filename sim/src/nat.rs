//! NAT boxes ("sites"). Every host sits behind one box. An `Open` box is a
//! public host's own address: no translation, no filtering. The others
//! translate the host's private `10.x.y.z:port` to the box's public
//! `100.64.x.y:port` and filter inbound datagrams the RFC 4787 way:
//!
//! | kind | mapping | filtering |
//! |---|---|---|
//! | full-cone | endpoint-independent | none |
//! | addr-restricted | endpoint-independent | address-dependent |
//! | port-restricted | endpoint-independent | address-and-port-dependent |
//! | symmetric | endpoint-dependent, random ports | address-and-port-dependent |
//!
//! A mapping lapses `mapping_timeout_ms` after its last outbound datagram
//! (inbound traffic does not refresh it, RFC 4787 REQ-6 lets a NAT choose),
//! and so does the permission it gave each remote. A box may hairpin: a
//! datagram from inside to the box's own public address is translated and
//! looped back in (filtered like any inbound one); otherwise it is dropped.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::rng::SimRng;
use crate::scenario::{NatKind, PortAllocation};

/// Why the network dropped a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetDrop {
    /// Uniform loss.
    Loss,
    /// Gilbert–Elliott (bursty) loss.
    BurstLoss,
    /// The two ends are on different sides of a partition.
    Partition,
    /// A destination nobody owns (a private address elsewhere, a link).
    Unroutable,
    /// The NAT box has no mapping for the destination port.
    NoMapping,
    /// The mapping existed but had lapsed.
    MappingExpired,
    /// The NAT's filter refused the source.
    Filtered,
    /// Sent to the box's own public address, and it does not hairpin.
    NoHairpin,
    /// The destination host is offline (left or asleep).
    HostOffline,
    /// No socket bound at that port (or the sending socket is closed).
    NoSocket,
}

impl NetDrop {
    /// Every cause, in report order.
    pub const ALL: [NetDrop; 10] = [
        NetDrop::Loss,
        NetDrop::BurstLoss,
        NetDrop::Partition,
        NetDrop::Unroutable,
        NetDrop::NoMapping,
        NetDrop::MappingExpired,
        NetDrop::Filtered,
        NetDrop::NoHairpin,
        NetDrop::HostOffline,
        NetDrop::NoSocket,
    ];

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            NetDrop::Loss => "loss",
            NetDrop::BurstLoss => "burst-loss",
            NetDrop::Partition => "partition",
            NetDrop::Unroutable => "unroutable",
            NetDrop::NoMapping => "nat-no-mapping",
            NetDrop::MappingExpired => "nat-mapping-expired",
            NetDrop::Filtered => "nat-filtered",
            NetDrop::NoHairpin => "nat-no-hairpin",
            NetDrop::HostOffline => "host-offline",
            NetDrop::NoSocket => "no-socket",
        }
    }
}

/// A fast, fixed (unseeded) hasher for the NAT tables. They are only
/// looked up, never iterated in an order that reaches the results.
#[derive(Clone, Copy, Default)]
pub struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A map with the [`Fx`] hasher.
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

#[derive(Clone, Debug)]
struct Mapping {
    host: u32,
    local_port: u16,
    /// Endpoint-dependent mappings serve one destination.
    dest: Option<SocketAddrV4>,
    last_out: u64,
    /// The permissions its filter needs.
    perms: Perms,
}

/// What a mapping's filter remembers: nothing (full cone, and symmetric,
/// whose one destination is the mapping's own), remote addresses, or
/// remote endpoints, each with the time of the last outbound datagram.
#[derive(Clone, Debug)]
enum Perms {
    None,
    Addresses(FxMap<Ipv4Addr, u64>),
    Endpoints(FxMap<SocketAddrV4, u64>),
}

/// One NAT box (or a public host's open address).
#[derive(Clone, Debug)]
pub struct NatBox {
    /// Its behaviour.
    pub kind: NatKind,
    /// Its public address.
    pub public_ip: Ipv4Addr,
    /// Whether it loops inside-to-own-public-address datagrams back in.
    pub hairpin: bool,
    /// Mapping lifetime without outbound traffic (ms).
    pub timeout_ms: u64,
    /// Port allocation.
    pub allocation: PortAllocation,
    /// Partition side (0 or 1).
    pub side: u8,
    /// Hosts behind it.
    pub hosts: Vec<u32>,
    next_port: u16,
    ei: FxMap<(u32, u16), u16>,
    ed: FxMap<(u32, u16, SocketAddrV4), u16>,
    by_port: FxMap<u16, Mapping>,
    /// Mappings created over the box's life.
    pub mappings_created: u64,
}

/// Where an inbound datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inside {
    /// The host.
    pub host: u32,
    /// Its local port.
    pub port: u16,
}

impl NatBox {
    /// A new box.
    pub fn new(
        kind: NatKind,
        public_ip: Ipv4Addr,
        hairpin: bool,
        timeout_ms: u64,
        allocation: PortAllocation,
    ) -> Self {
        NatBox {
            kind,
            public_ip,
            hairpin,
            timeout_ms,
            allocation,
            side: 0,
            hosts: Vec::new(),
            next_port: 20_000,
            ei: FxMap::default(),
            ed: FxMap::default(),
            by_port: FxMap::default(),
            mappings_created: 0,
        }
    }

    /// Live mappings (for memory reports).
    pub fn mapping_count(&self) -> usize {
        self.by_port.len()
    }

    fn alive(&self, m: &Mapping, now: u64) -> bool {
        now.saturating_sub(m.last_out) <= self.timeout_ms
    }

    fn forget(&mut self, port: u16) {
        if let Some(m) = self.by_port.remove(&port) {
            match m.dest {
                Some(d) => {
                    self.ed.remove(&(m.host, m.local_port, d));
                }
                None => {
                    self.ei.remove(&(m.host, m.local_port));
                }
            }
        }
    }

    fn allocate(&mut self, rng: &mut SimRng, local_port: u16) -> u16 {
        let mode = if self.kind.is_hard() {
            PortAllocation::Random
        } else {
            self.allocation
        };
        if mode == PortAllocation::Preserve && !self.by_port.contains_key(&local_port) {
            return local_port;
        }
        if mode == PortAllocation::Sequential {
            for _ in 0..64_512u32 {
                let p = self.next_port;
                self.next_port = if p == u16::MAX { 1024 } else { p + 1 };
                if !self.by_port.contains_key(&p) {
                    return p;
                }
            }
        }
        loop {
            let p = 1024 + rng.below(64_512) as u16;
            if !self.by_port.contains_key(&p) {
                return p;
            }
        }
    }

    /// Translates an outbound datagram from `host:local_port` to `to`:
    /// returns the public source port (creating or refreshing the mapping
    /// and the permission for `to`). For an open box it is `local_port`.
    pub fn outbound(
        &mut self,
        rng: &mut SimRng,
        now: u64,
        host: u32,
        local_port: u16,
        to: SocketAddrV4,
    ) -> u16 {
        if self.kind == NatKind::Open {
            return local_port;
        }
        let existing = if self.kind.is_hard() {
            self.ed.get(&(host, local_port, to)).copied()
        } else {
            self.ei.get(&(host, local_port)).copied()
        };
        let port = match existing {
            Some(p) if self.by_port.get(&p).is_some_and(|m| self.alive(m, now)) => p,
            other => {
                if let Some(p) = other {
                    self.forget(p);
                }
                let p = self.allocate(rng, local_port);
                let dest = self.kind.is_hard().then_some(to);
                match dest {
                    Some(d) => self.ed.insert((host, local_port, d), p),
                    None => self.ei.insert((host, local_port), p),
                };
                let perms = match self.kind {
                    NatKind::AddrRestricted => Perms::Addresses(FxMap::default()),
                    NatKind::PortRestricted => Perms::Endpoints(FxMap::default()),
                    _ => Perms::None,
                };
                self.by_port.insert(
                    p,
                    Mapping {
                        host,
                        local_port,
                        dest,
                        last_out: now,
                        perms,
                    },
                );
                self.mappings_created += 1;
                p
            }
        };
        let m = self.by_port.get_mut(&port).expect("mapping just made");
        m.last_out = now;
        match &mut m.perms {
            Perms::None => {}
            Perms::Addresses(a) => {
                a.insert(*to.ip(), now);
            }
            Perms::Endpoints(e) => {
                e.insert(to, now);
            }
        }
        port
    }

    /// Where an inbound datagram from `from` to public `port` goes, or why
    /// it is dropped. (For an open box the caller maps the port itself.)
    pub fn inbound(&mut self, now: u64, from: SocketAddrV4, port: u16) -> Result<Inside, NetDrop> {
        let Some(m) = self.by_port.get(&port) else {
            return Err(NetDrop::NoMapping);
        };
        if !self.alive(m, now) {
            self.forget(port);
            return Err(NetDrop::MappingExpired);
        }
        let fresh = |t: Option<&u64>| t.is_some_and(|t| now.saturating_sub(*t) <= self.timeout_ms);
        let ok = match (&m.perms, m.dest) {
            // Endpoint-dependent: only its one destination, while it lives.
            (_, Some(d)) => d == from,
            (Perms::None, None) => true,
            (Perms::Addresses(a), None) => fresh(a.get(from.ip())),
            (Perms::Endpoints(e), None) => fresh(e.get(&from)),
        };
        if !ok {
            return Err(NetDrop::Filtered);
        }
        Ok(Inside {
            host: m.host,
            port: m.local_port,
        })
    }

    /// Drops every mapping of `host` (it left: a real NAT would keep them
    /// until they lapse, but nobody would answer; dropping them early only
    /// changes the drop cause from host-offline to nat-no-mapping). Unused
    /// by default; kept for scenarios that model a device changing network.
    pub fn forget_host(&mut self, host: u32) {
        let mut ports: Vec<u16> = self
            .by_port
            .iter()
            .filter(|(_, m)| m.host == host)
            .map(|(p, _)| *p)
            .collect();
        ports.sort_unstable();
        for p in ports {
            self.forget(p);
        }
    }

    /// Removes lapsed mappings and permissions (bounds memory in long runs).
    pub fn sweep(&mut self, now: u64) {
        let t = self.timeout_ms;
        let mut dead: Vec<u16> = self
            .by_port
            .iter()
            .filter(|(_, m)| now.saturating_sub(m.last_out) > t)
            .map(|(p, _)| *p)
            .collect();
        dead.sort_unstable();
        for p in dead {
            self.forget(p);
        }
        for m in self.by_port.values_mut() {
            match &mut m.perms {
                Perms::None => {}
                Perms::Addresses(a) => a.retain(|_, v| now.saturating_sub(*v) <= t),
                Perms::Endpoints(e) => e.retain(|_, v| now.saturating_sub(*v) <= t),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    fn nat(kind: NatKind) -> NatBox {
        NatBox::new(
            kind,
            "100.64.0.9".parse().unwrap(),
            false,
            1000,
            PortAllocation::Random,
        )
    }

    #[test]
    fn filtering_by_kind() {
        let mut rng = SimRng::new(1);
        let a = ep("100.64.0.1:5000");
        let a2 = ep("100.64.0.1:5001");
        let b = ep("100.64.0.2:5000");
        for (kind, same_port, other_port, other_ip) in [
            (NatKind::FullCone, true, true, true),
            (NatKind::AddrRestricted, true, true, false),
            (NatKind::PortRestricted, true, false, false),
            (NatKind::Symmetric, true, false, false),
        ] {
            let mut n = nat(kind);
            let p = n.outbound(&mut rng, 0, 3, 40_000, a);
            assert_eq!(n.inbound(10, a, p).is_ok(), same_port, "{kind:?}");
            assert_eq!(n.inbound(10, a2, p).is_ok(), other_port, "{kind:?}");
            assert_eq!(n.inbound(10, b, p).is_ok(), other_ip, "{kind:?}");
            assert_eq!(
                n.inbound(10, a, p).unwrap(),
                Inside {
                    host: 3,
                    port: 40_000
                }
            );
        }
    }

    #[test]
    fn mapping_dependence_and_expiry() {
        let mut rng = SimRng::new(2);
        let a = ep("100.64.0.1:5000");
        let b = ep("100.64.0.2:5000");
        let mut ei = nat(NatKind::PortRestricted);
        assert_eq!(
            ei.outbound(&mut rng, 0, 1, 40_000, a),
            ei.outbound(&mut rng, 0, 1, 40_000, b)
        );
        let mut ed = nat(NatKind::Symmetric);
        let pa = ed.outbound(&mut rng, 0, 1, 40_000, a);
        assert_ne!(pa, ed.outbound(&mut rng, 0, 1, 40_000, b));
        // Inbound does not refresh; after the timeout the mapping is gone.
        assert!(ed.inbound(900, a, pa).is_ok());
        assert_eq!(ed.inbound(2001, a, pa), Err(NetDrop::MappingExpired));
        assert_eq!(ed.inbound(2002, a, pa), Err(NetDrop::NoMapping));
    }

    #[test]
    fn preserve_and_sequential_allocation() {
        let mut rng = SimRng::new(3);
        let a = ep("100.64.0.1:5000");
        let mut n = nat(NatKind::FullCone);
        n.allocation = PortAllocation::Preserve;
        assert_eq!(n.outbound(&mut rng, 0, 1, 40_000, a), 40_000);
        // The same local port of another host cannot be preserved.
        assert_ne!(n.outbound(&mut rng, 0, 2, 40_000, a), 40_000);
        let mut s = nat(NatKind::AddrRestricted);
        s.allocation = PortAllocation::Sequential;
        let p1 = s.outbound(&mut rng, 0, 1, 40_000, a);
        let p2 = s.outbound(&mut rng, 0, 1, 40_001, a);
        assert_eq!(p2, p1 + 1);
    }
}
