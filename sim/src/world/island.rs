//! The island (`[island]` in a scenario): phones with no Internet, linked
//! to some neighbours over Bluetooth-like links, one of them (the bridge,
//! phone 0) also on the Internet now and then.
//!
//! A link is two queues (one per direction) drained at the link's
//! bandwidth, plus latency; a datagram that would wait more than
//! `max_backlog_ms` is dropped. Range churn takes links down and up
//! (exponential times); the Peers are told with `link_up` / `link_down`.
//! The phones are the topic's subscribers; they sign, so they publish the
//! island's messages. Their UDP datagrams go nowhere, except the bridge's
//! while it is on the Internet (then it calls `network_changed`).

use serde::{Deserialize, Serialize};

use super::*;

/// One link between two phones.
#[derive(Clone, Debug)]
pub(super) struct SimLink {
    /// The phones (host indexes) at its ends.
    pub(super) ends: [usize; 2],
    pub(super) up: bool,
    /// Per direction (0: ends[0] → ends[1]): when its queue is empty.
    busy_until: [u64; 2],
    /// Per direction: bytes carried.
    bytes: [u64; 2],
    /// Per direction: datagrams dropped (backlog full, or the link down).
    dropped: [u64; 2],
    /// Milliseconds it was up.
    up_ms: u64,
    up_since: u64,
}

/// The island's state in a run.
pub(super) struct IslandWorld {
    /// Host indexes of the phones (phone 0 is the bridge).
    pub(super) phones: Vec<usize>,
    pub(super) links: Vec<SimLink>,
    rng: SimRng,
    /// Island message index → the phone that published it.
    publishers: BTreeMap<usize, usize>,
    /// Whether the bridge is on the Internet now.
    bridge_up: bool,
    /// Total time the bridge was on the Internet (ms).
    bridge_ms: u64,
    bridge_since: u64,
}

/// What the island measured in one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IslandReport {
    /// Phones.
    pub phones: u32,
    /// Links.
    pub links: u32,
    /// Milliseconds the bridge was on the Internet.
    pub bridge_online_ms: u64,
    /// Internet → island: (phone, message) pairs delivered / expected.
    pub to_island: (u64, u64),
    /// Island → Internet: (subscriber online at the end, message) pairs
    /// delivered / expected.
    pub to_internet: (u64, u64),
    /// Inside the island: (phone, message) pairs delivered / expected.
    pub inside: (u64, u64),
    /// Time to delivery, p50 and p99 (ms), per direction as above.
    pub to_island_ms: (u64, u64),
    /// As above.
    pub to_internet_ms: (u64, u64),
    /// As above.
    pub inside_ms: (u64, u64),
    /// Bytes carried per link (both directions): mean and max.
    pub link_bytes_mean: u64,
    /// As above.
    pub link_bytes_max: u64,
    /// Busiest direction's mean load over the time its link was up
    /// (bytes/s).
    pub link_peak_rate: u64,
    /// Datagrams dropped on links (backlog full, or the link down).
    pub link_drops: u64,
}

impl World {
    /// Plans the island's phones (after everyone else) and its links.
    pub(super) fn plan_island(&mut self, rng: &mut SimRng, intro_list: &[Introducer]) {
        let isl = self.scn.island.clone();
        if isl.phones == 0 {
            return;
        }
        let mut phones = Vec::new();
        for _ in 0..isl.phones {
            let kind = NatKind::PortRestricted;
            let site = self.new_box(rng, kind);
            let h = self.hosts.len();
            self.plan_peer(
                rng,
                intro_list,
                Role::Subscriber,
                kind,
                site,
                vec![Session {
                    start: 0,
                    end: None,
                    sleep: false,
                }],
            );
            let seed = self.hosts[h].seed;
            self.hosts[h].config.signing_keys = Some(create_key_pair(&seed).expect("32 bytes"));
            self.hosts[h].no_udp = true;
            phones.push(h);
        }
        // A ring (the island is connected while every link is up), plus
        // links to near neighbours: a realistic neighbour graph, not a mesh.
        let n = phones.len();
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut add = |a: usize, b: usize| {
            let (a, b) = (a.min(b), a.max(b));
            if a != b && !pairs.contains(&(a, b)) {
                pairs.push((a, b));
            }
        };
        for i in 0..n {
            add(i, (i + 1) % n);
        }
        let reach = (isl.reach.max(2) as usize).min(n.saturating_sub(1)).max(1);
        for i in 0..n {
            for _ in 0..isl.extra_links {
                let d = rng.range(2, reach as u64 + 1) as usize;
                add(i, (i + d) % n);
            }
        }
        let links = pairs
            .into_iter()
            .map(|(a, b)| SimLink {
                ends: [phones[a], phones[b]],
                up: false,
                busy_until: [0; 2],
                bytes: [0; 2],
                dropped: [0; 2],
                up_ms: 0,
                up_since: 0,
            })
            .collect();
        self.island = Some(Box::new(IslandWorld {
            phones,
            links,
            rng: SimRng::new(rng.u64()),
            publishers: BTreeMap::new(),
            bridge_up: false,
            bridge_ms: 0,
            bridge_since: 0,
        }));
    }

    /// Schedules the island's events: links up shortly after the phones
    /// start, the bridge's Internet sessions, the island's messages.
    pub(super) fn start_island(&mut self) {
        let Some(isl) = self.island.as_ref() else {
            return;
        };
        let n_links = isl.links.len();
        let s = self.scn.island.clone();
        for l in 0..n_links {
            self.push(100 + l as u64, Ev::LinkUp(l as u32));
        }
        if s.bridge_first_ms > 0 {
            let mut t = s.bridge_first_ms;
            while t < self.end {
                self.push(t, Ev::Bridge(true));
                self.push(t + s.bridge_up_ms, Ev::Bridge(false));
                if s.bridge_every_ms == 0 {
                    break;
                }
                t += s.bridge_every_ms;
            }
        }
        for j in 0..s.messages {
            self.push(
                s.publish_at_ms + u64::from(j) * s.publish_every_ms,
                Ev::IslandPublish(j),
            );
        }
    }

    /// A link comes into range (or goes out of it).
    pub(super) fn set_link(&mut self, l: usize, up: bool) {
        let now = self.now;
        let (mean_up, mean_down) = (
            self.scn.island.link_up_mean_ms,
            self.scn.island.link_down_mean_ms,
        );
        let Some(isl) = self.island.as_mut() else {
            return;
        };
        let link = &mut isl.links[l];
        if link.up == up {
            return;
        }
        link.up = up;
        if up {
            link.up_since = now;
            link.busy_until = [now; 2];
        } else {
            link.up_ms += now - link.up_since;
        }
        let ends = link.ends;
        if mean_up > 0 {
            let mean = if up { mean_up } else { mean_down.max(1) };
            let d = isl.rng.exp(mean as f64).max(1.0) as u64;
            self.push(
                now + d,
                if up {
                    Ev::LinkDown(l as u32)
                } else {
                    Ev::LinkUp(l as u32)
                },
            );
        }
        for h in ends {
            if let Some(p) = self.hosts[h].peer.as_mut() {
                if up {
                    p.link_up(Instant(now), l as u64);
                } else {
                    p.link_down(Instant(now), l as u64);
                }
            }
            self.pump(h);
        }
    }

    /// The bridge goes on (or off) the Internet.
    pub(super) fn set_bridge(&mut self, up: bool) {
        let now = self.now;
        let Some(isl) = self.island.as_mut() else {
            return;
        };
        if isl.bridge_up == up {
            return;
        }
        isl.bridge_up = up;
        if up {
            isl.bridge_since = now;
        } else {
            isl.bridge_ms += now - isl.bridge_since;
        }
        let h = isl.phones[0];
        self.hosts[h].no_udp = !up;
        if up {
            if let Some(p) = self.hosts[h].peer.as_mut() {
                p.network_changed(Instant(now));
            }
            self.pump(h);
        }
    }

    /// A datagram from host `h` to `Remote::Link(l)`: queued on the link.
    pub(super) fn send_link(&mut self, h: usize, l: u64, bytes: Vec<u8>) {
        let now = self.now;
        let (bw, latency, backlog) = (
            self.scn.island.bandwidth_bytes_per_s.max(1),
            self.scn.island.latency_ms,
            self.scn.island.max_backlog_ms,
        );
        let Some(isl) = self.island.as_mut() else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let Some(link) = isl.links.get_mut(l as usize) else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        let Some(dir) = link.ends.iter().position(|&e| e == h) else {
            self.stats.net_drop(NetDrop::Unroutable);
            return;
        };
        if !link.up {
            link.dropped[dir] += 1;
            return;
        }
        let start = link.busy_until[dir].max(now);
        if start - now > backlog {
            link.dropped[dir] += 1;
            return;
        }
        let done = start + (bytes.len() as u64 * 1000).div_ceil(bw);
        link.busy_until[dir] = done;
        link.bytes[dir] += bytes.len() as u64;
        let to = link.ends[1 - dir] as u32;
        self.push(
            done + latency,
            Ev::LinkDgram {
                link: l as u32,
                to,
                bytes,
            },
        );
    }

    /// A datagram arrives over a link.
    pub(super) fn arrive_link(&mut self, l: u32, to: u32, bytes: Vec<u8>) {
        let up = self
            .island
            .as_ref()
            .and_then(|i| i.links.get(l as usize))
            .is_some_and(|k| k.up);
        let h = to as usize;
        if !up || !self.hosts[h].online {
            return;
        }
        self.stats.datagrams_delivered += 1;
        self.hosts[h].bytes_in += bytes.len() as u64;
        if let Some(p) = self.hosts[h].peer.as_mut() {
            p.handle_datagram(
                Instant(self.now),
                SocketId::Main,
                Remote::Link(u64::from(l)),
                &bytes,
            );
        }
        if PacketType::peek(&bytes) == Some(PacketType::Publish) {
            self.count_arrival(h, &bytes);
        }
        self.pump(h);
    }

    /// An island phone publishes island message `j` (message index
    /// `workload.messages + j`).
    pub(super) fn island_publish(&mut self, j: usize) {
        let Some(isl) = self.island.as_ref() else {
            return;
        };
        let n = isl.phones.len();
        // Phones in turn from phone 1; the bridge last.
        let h = isl.phones[(j + 1) % n];
        let k = self.scn.workload.messages as usize + j;
        let msg = message_bytes(k as u32, self.scn.workload.message_bytes);
        let now = Instant(self.now);
        let key = self.topic_key.clone();
        let Some(p) = self.hosts[h].peer.as_mut() else {
            return;
        };
        let Ok(ids) = p.publish(now, &key, "sim", &msg, &PublishOptions::new()) else {
            return;
        };
        let Some(first) = ids.first() else { return };
        let mut a = [0u8; 32];
        let m = first.len().min(32);
        a[..m].copy_from_slice(&first[..m]);
        if k < self.message_ids.len() {
            self.message_ids[k] = Some(a);
            self.published_at[k] = Some(self.now);
            self.pid_index.insert(a, k);
            self.hosts[h].got[k] = true;
            self.hosts[h].delivered[k] = Some(self.now);
            if let Some(isl) = self.island.as_mut() {
                isl.publishers.insert(k, h);
            }
        }
        self.pump(h);
    }

    /// The island's measurements at the end of the run.
    pub(super) fn island_report(&self) -> Option<IslandReport> {
        let isl = self.island.as_ref()?;
        let n_net = self.scn.workload.messages as usize;
        let phones: Vec<usize> = isl.phones.clone();
        let is_phone = |h: usize| phones.contains(&h);
        let mut r = IslandReport {
            phones: phones.len() as u32,
            links: isl.links.len() as u32,
            bridge_online_ms: isl.bridge_ms
                + if isl.bridge_up {
                    self.now - isl.bridge_since
                } else {
                    0
                },
            ..IslandReport::default()
        };
        let (mut t_island, mut t_net, mut t_inside) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..self.message_ids.len() {
            let Some(t0) = self.published_at[k] else {
                continue;
            };
            let from_island = k >= n_net;
            let publisher = isl.publishers.get(&k).copied();
            for (h, host) in self.hosts.iter().enumerate() {
                if Some(h) == publisher {
                    continue;
                }
                if is_phone(h) {
                    // A live island subscriber (the phones never leave).
                    let (cnt, times) = if from_island {
                        (&mut r.inside, &mut t_inside)
                    } else {
                        (&mut r.to_island, &mut t_island)
                    };
                    cnt.1 += 1;
                    if let Some(t) = host.delivered[k] {
                        cnt.0 += 1;
                        times.push(t.saturating_sub(t0));
                    }
                } else if from_island && host.role == Role::Subscriber && host.online && host.ready
                {
                    // An Internet subscriber online at the end.
                    r.to_internet.1 += 1;
                    if let Some(t) = host.delivered[k] {
                        r.to_internet.0 += 1;
                        t_net.push(t.saturating_sub(t0.max(host.online_since)));
                    }
                }
            }
        }
        let pct = |v: &mut Vec<u64>| {
            if v.is_empty() {
                return (0, 0);
            }
            v.sort_unstable();
            let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
            (at(0.5), at(0.99))
        };
        r.to_island_ms = pct(&mut t_island);
        r.to_internet_ms = pct(&mut t_net);
        r.inside_ms = pct(&mut t_inside);
        let mut total = 0u64;
        for link in &isl.links {
            let b = link.bytes[0] + link.bytes[1];
            total += b;
            r.link_bytes_max = r.link_bytes_max.max(b);
            r.link_drops += link.dropped[0] + link.dropped[1];
            let up_ms = link.up_ms + if link.up { self.now - link.up_since } else { 0 };
            if let Some(rate) = (link.bytes[0].max(link.bytes[1]) * 1000).checked_div(up_ms) {
                r.link_peak_rate = r.link_peak_rate.max(rate);
            }
        }
        r.link_bytes_mean = total / isl.links.len().max(1) as u64;
        Some(r)
    }
}
