//! The network model: addressing, loss (uniform and bursty), latency
//! and jitter, NAT traversal of each datagram, and delivery.

use super::*;

impl World {
    pub(super) fn box_of(&self, ip: Ipv4Addr) -> Option<usize> {
        let v = u32::from(ip);
        if v <= PUBLIC_BASE {
            return None;
        }
        let b = (v - PUBLIC_BASE - 1) as usize;
        (b < self.boxes.len()).then_some(b)
    }

    pub(super) fn private_host(&self, ip: Ipv4Addr) -> Option<usize> {
        let v = u32::from(ip);
        if v <= PRIVATE_BASE || v > PRIVATE_BASE + 0x00ff_ffff {
            return None;
        }
        let h = (v - PRIVATE_BASE - 1) as usize;
        (h < self.hosts.len() && self.hosts[h].kind != NatKind::Open).then_some(h)
    }

    /// One crossing of a site's access link: the Gilbert–Elliott chain
    /// steps, and says whether the datagram is lost.
    pub(super) fn burst_lost(&mut self, b: usize) -> bool {
        let g = &self.scn.network.burst;
        if g.p_enter <= 0.0 {
            return false;
        }
        let (p_enter, p_leave, lg, lb) = (g.p_enter, g.p_leave, g.loss_good, g.loss_bad);
        let bad = self.box_bad[b];
        self.box_bad[b] = if bad {
            !self.rng.chance(p_leave)
        } else {
            self.rng.chance(p_enter)
        };
        self.rng.chance(if self.box_bad[b] { lb } else { lg })
    }

    pub(super) fn send(&mut self, h: usize, socket: SocketId, remote: Remote, bytes: Vec<u8>) {
        let now = self.now;
        let ty = PacketType::peek(&bytes);
        let is_data = matches!(
            ty,
            Some(PacketType::Publish | PacketType::Stream | PacketType::Sync | PacketType::Query)
        );
        {
            let host = &mut self.hosts[h];
            host.bytes_out += bytes.len() as u64;
            host.datagrams_out += 1;
            if now >= self.scn.output.steady_from_ms {
                host.steady_bytes_out += bytes.len() as u64;
            }
            if is_data {
                host.data_bytes_out += bytes.len() as u64;
            }
        }
        self.stats.datagrams_sent += 1;
        // Index 0: not a packet (the spray's one byte, or no known type).
        let ty = ty.map_or(0, |t| t as usize);
        self.stats.sent_by_type[ty] += 1;
        self.stats.bytes_by_type[ty] += bytes.len() as u64;
        if let Remote::Link(l) = remote {
            self.send_link(h, l, bytes);
            return;
        }
        if self.hosts[h].no_udp {
            self.stats.net_drop(NetDrop::HostOffline);
            return;
        }
        let Remote::Udp(SocketAddr::V4(to)) = remote else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let Some(&lport) = self.hosts[h].sockets.get(&socket) else {
            self.stats.net_drop(NetDrop::NoSocket);
            return;
        };
        let src_box = self.hosts[h].site as usize;
        let net = self.scn.network.clone();
        // A private destination: only reachable on the same LAN.
        if let Some(dh) = self.private_host(*to.ip()) {
            if self.hosts[dh].site as usize == src_box {
                let from = SocketAddrV4::new(self.hosts[h].ip, lport);
                let t = now + net.lan_latency_ms;
                self.push(
                    t,
                    Ev::Dgram {
                        to,
                        from,
                        bytes,
                        lan: true,
                    },
                );
            } else {
                self.stats.net_drop(NetDrop::Unroutable);
            }
            return;
        }
        let Some(dst_box) = self.box_of(*to.ip()) else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let from_port = self.boxes[src_box].outbound(&mut self.rng, now, h as u32, lport, to);
        let from = SocketAddrV4::new(self.boxes[src_box].public_ip, from_port);
        let latency = if dst_box == src_box {
            if self.boxes[src_box].kind != NatKind::Open && !self.boxes[src_box].hairpin {
                self.stats.net_drop(NetDrop::NoHairpin);
                return;
            }
            net.lan_latency_ms
        } else {
            if self.boxes[src_box].side != self.boxes[dst_box].side {
                self.stats.net_drop(NetDrop::Partition);
                return;
            }
            if self.rng.chance(net.loss) {
                self.stats.net_drop(NetDrop::Loss);
                return;
            }
            if self.burst_lost(src_box) || self.burst_lost(dst_box) {
                self.stats.net_drop(NetDrop::BurstLoss);
                return;
            }
            net.latency_ms + self.box_access_ms[src_box] + self.box_access_ms[dst_box]
        };
        let jitter = |rng: &mut SimRng| {
            if net.jitter_ms > 0 {
                rng.range(0, net.jitter_ms)
            } else {
                0
            }
        };
        let mut t = now + latency + jitter(&mut self.rng);
        if self.rng.chance(net.reorder) {
            t += self.rng.range(1, net.reorder_ms.max(1));
            self.stats.reordered += 1;
        }
        if self.rng.chance(net.duplicate) {
            self.stats.duplicated += 1;
            let t2 = t + 1 + jitter(&mut self.rng);
            self.push(
                t2,
                Ev::Dgram {
                    to,
                    from,
                    bytes: bytes.clone(),
                    lan: false,
                },
            );
        }
        self.push(
            t,
            Ev::Dgram {
                to,
                from,
                bytes,
                lan: false,
            },
        );
    }

    /// What-if (core plane): the sender puts its peer id in a Sync's
    /// `previousId`, which the Sync flow does not read, so that its
    /// packetId, SHA-256(previousId ‖ summary ‖ nextId), is its own: a
    /// receiver then gates Syncs per (sender, summary), not per summary.
    pub(super) fn arrive_datagram(
        &mut self,
        to: SocketAddrV4,
        from: SocketAddrV4,
        bytes: Vec<u8>,
        lan: bool,
    ) {
        let now = self.now;
        let (h, port) = if lan {
            match self.private_host(*to.ip()) {
                Some(h) => (h, to.port()),
                None => {
                    self.stats.net_drop(NetDrop::Unroutable);
                    return;
                }
            }
        } else {
            let Some(b) = self.box_of(*to.ip()) else {
                self.stats.net_drop(NetDrop::Unroutable);
                return;
            };
            if self.boxes[b].kind == NatKind::Open {
                (self.boxes[b].hosts[0] as usize, to.port())
            } else {
                match self.boxes[b].inbound(now, from, to.port()) {
                    Ok(i) => (i.host as usize, i.port),
                    Err(e) => {
                        self.stats.net_drop(e);
                        return;
                    }
                }
            }
        };
        if !self.hosts[h].online || self.hosts[h].no_udp {
            self.stats.net_drop(NetDrop::HostOffline);
            return;
        }
        let Some(&socket) = self.hosts[h].ports.get(&port) else {
            self.stats.net_drop(NetDrop::NoSocket);
            return;
        };
        self.stats.datagrams_delivered += 1;
        self.hosts[h].bytes_in += bytes.len() as u64;
        let remote = Remote::Udp(SocketAddr::V4(from));
        let ty = PacketType::peek(&bytes);
        let data = matches!(
            ty,
            Some(PacketType::Publish | PacketType::Sync | PacketType::Query)
        );
        // With the model plane the Peer never sees the data plane's packets
        // (its own data plane would relay and answer them too).
        let model = data && self.plane == PlaneKind::Model;
        if !model {
            if let Some(p) = self.hosts[h].peer.as_mut() {
                p.handle_datagram(Instant(now), socket, remote, &bytes);
            }
        }
        if ty == Some(PacketType::Publish) {
            self.count_arrival(h, &bytes);
        }
        if model {
            let mut out = Out::default();
            self.with_model(h, &mut out, |m, cx, out| {
                m.on_datagram(cx, socket, remote, &bytes, out)
            });
            self.apply(h, out);
        }
        self.pump(h);
    }

    // -----------------------------------------------------------------
    // The end
    // -----------------------------------------------------------------
}
