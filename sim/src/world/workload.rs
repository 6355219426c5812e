//! The workload: publishes, the query phase, and the samples for the
//! plots.

use super::*;

impl World {
    pub(super) fn query_cutoff(&self) -> u64 {
        if self.scn.workload.query_at_ms > 0 {
            self.scn.workload.query_at_ms
        } else {
            self.end + 1
        }
    }

    pub(super) fn publish(&mut self, k: usize) {
        let Some(h) = self.hosts.iter().position(|x| x.role == Role::Publisher) else {
            return;
        };
        if !self.hosts[h].online {
            return;
        }
        let msg = message_bytes(k as u32, self.scn.workload.message_bytes);
        let topic = self.topic;
        let mut out = Out::default();
        let mut pid = None;
        match self.plane {
            PlaneKind::Model => {
                let mut sealed = msg;
                sealed.extend(std::iter::repeat_n(0u8, 160));
                self.with_model(h, &mut out, |m, cx, out| {
                    pid = Some(m.publish(cx, CLUSTER, topic, sealed, out));
                });
            }
            PlaneKind::Core => {
                let now = Instant(self.now);
                let key = self.topic_key.clone();
                if let Some(p) = self.hosts[h].peer.as_mut() {
                    if let Ok(ids) = p.publish(now, &key, "sim", &msg, &PublishOptions::new()) {
                        if let Some(first) = ids.first() {
                            let mut a = [0u8; 32];
                            let n = first.len().min(32);
                            a[..n].copy_from_slice(&first[..n]);
                            pid = Some(a);
                        }
                    }
                }
            }
        }
        let Some(pid) = pid else { return };
        self.message_ids[k] = Some(pid);
        self.published_at[k] = Some(self.now);
        self.pid_index.insert(pid, k);
        self.hosts[h].got[k] = true;
        let cutoff = self.query_cutoff();
        if self.now < cutoff {
            for host in &mut self.hosts {
                if host.role == Role::Subscriber && host.online && host.ready {
                    host.eligible[k] = Some(self.now);
                }
            }
        }
        self.apply(h, out);
        self.pump(h);
    }

    pub(super) fn query_phase(&mut self) {
        for h in 0..self.hosts.len() {
            let host = &self.hosts[h];
            if host.role != Role::Subscriber || !host.online || !host.ready {
                continue;
            }
            if self.now == self.scn.workload.query_at_ms {
                self.hosts[h].at_query = true;
            } else if !self.hosts[h].at_query {
                // Live is decided at the first query phase.
                continue;
            }
            for k in 0..self.message_ids.len() {
                let Some(pid) = self.message_ids[k] else {
                    continue;
                };
                if self.hosts[h].delivered[k].is_some() || self.hosts[h].eligible[k].is_none() {
                    continue;
                }
                self.stats.queries += 1;
                match self.plane {
                    PlaneKind::Model => {
                        let mut out = Out::default();
                        self.with_model(h, &mut out, |m, cx, out| m.query(cx, CLUSTER, &pid, out));
                        self.apply(h, out);
                    }
                    PlaneKind::Core => {
                        let now = Instant(self.now);
                        let q =
                            QueryQuestion::for_packet(&streamrelay::crypto::identity::to_hex(&pid));
                        if let Some(p) = self.hosts[h].peer.as_mut() {
                            let _ = p.query(now, &q);
                        }
                    }
                }
            }
            self.pump(h);
        }
    }

    pub(super) fn sample(&mut self) {
        let online = self
            .hosts
            .iter()
            .filter(|h| h.online && h.role != Role::Introducer)
            .count() as u32;
        let (mut reached, mut eligible) = (0u32, 0u32);
        for h in &self.hosts {
            if h.role == Role::Subscriber
                && h.online
                && h.eligible.first().copied().flatten().is_some()
            {
                eligible += 1;
                if h.delivered[0].is_some() {
                    reached += 1;
                }
            }
        }
        self.stats.sample(self.now, online, reached, eligible);
    }

    // -----------------------------------------------------------------
    // The network
    // -----------------------------------------------------------------
}
