//! Pumping: driving a host's `Peer` after each input (datagrams out,
//! events handled, the next wake-up), the model data plane, and what a
//! delivered message counts.

use super::*;

impl World {
    /// Drains a host's events and datagrams, then re-arms its wake-up.
    pub(super) fn pump(&mut self, h: usize) {
        let now = Instant(self.now);
        loop {
            let mut evs = std::mem::take(&mut self.scratch_events);
            let mut txs = std::mem::take(&mut self.scratch_transmits);
            {
                let Some(p) = self.hosts[h].peer.as_mut() else {
                    self.scratch_events = evs;
                    self.scratch_transmits = txs;
                    return;
                };
                while let Some(e) = p.poll_event() {
                    evs.push(e);
                }
                while let Some(t) = p.poll_transmit(now) {
                    txs.push(t);
                }
            }
            if evs.is_empty() && txs.is_empty() {
                self.scratch_events = evs;
                self.scratch_transmits = txs;
                break;
            }
            for e in evs.drain(..) {
                self.on_event(h, e);
            }
            for t in txs.drain(..) {
                self.send(h, t.socket, t.remote, t.bytes);
            }
            self.scratch_events = evs;
            self.scratch_transmits = txs;
        }
        let t = self.hosts[h]
            .peer
            .as_ref()
            .and_then(|p| p.poll_timeout())
            .map(|t| t.as_millis().max(self.now));
        if t != self.hosts[h].wake {
            self.hosts[h].wake = t;
            if let Some(t) = t {
                self.push(t, Ev::Timer(h as u32));
            }
        }
    }

    pub(super) fn on_event(&mut self, h: usize, e: Event) {
        match e {
            Event::OpenPoolSockets { sockets } => {
                for s in sockets {
                    self.bind(h, s);
                }
            }
            Event::ClosePoolSockets { sockets } => {
                let host = &mut self.hosts[h];
                for s in sockets {
                    if let Some(p) = host.sockets.remove(&s) {
                        host.ports.remove(&p);
                    }
                }
            }
            Event::Ready { nat: Some(n), .. } => {
                let first = !self.hosts[h].ready;
                self.hosts[h].ready = true;
                if self.hosts[h].role != Role::Introducer {
                    if first {
                        let expected = self.hosts[h].kind.expected();
                        self.stats.on_ready(n == expected);
                        self.became_ready(h);
                    }
                    // Every Ready: the endpoint may have changed. (The
                    // core syncs by itself; the model is told.)
                    if self.behaviour.sync_with_introducers && self.plane == PlaneKind::Model {
                        self.sync_introducers(h);
                    }
                }
            }
            Event::Connection {
                remote,
                socket,
                proxy,
                ..
            } => {
                self.stats.connections += 1;
                if proxy.is_some() {
                    self.stats.proxied_connections += 1;
                }
                if self.plane == PlaneKind::Model {
                    let mut out = Out::default();
                    self.with_model(h, &mut out, |m, cx, out| {
                        m.on_connection(cx, socket, remote, proxy, out)
                    });
                    self.apply(h, out);
                }
            }
            Event::Disconnection { .. } => self.stats.disconnections += 1,
            Event::Packet {
                subcluster_id,
                payload,
                ..
            } if subcluster_id == self.topic => {
                if let Some(k) = message_index(&payload) {
                    self.delivered(h, k);
                }
            }
            _ => {}
        }
    }

    /// Runs `f` on host `h`'s data-plane model with its context.
    pub(super) fn with_model(
        &mut self,
        h: usize,
        out: &mut Out,
        f: impl FnOnce(&mut ModelPeer, &mut Ctx<'_>, &mut Out),
    ) {
        let keepalive_ms = self.scn.protocol.keepalive_ms;
        let host = &mut self.hosts[h];
        let Some(peer) = host.peer.as_deref() else {
            return;
        };
        let mut cx = Ctx {
            now: self.now,
            peer,
            rng: &mut self.rng,
            policy: self.policy,
            keepalive_ms,
            behaviour: &self.behaviour,
        };
        f(&mut host.model, &mut cx, out);
    }

    /// Acts on what the model produced.
    pub(super) fn apply(&mut self, h: usize, out: Out) {
        for pid in out.delivered {
            if let Some(&k) = self.pid_index.get(&pid) {
                self.delivered(h, k);
            }
        }
        for (s, r, b) in out.sends {
            self.send(h, s, r, b);
        }
    }

    /// The model plane: sync with every introducer once the NAT type is
    /// known (`Behaviour::sync_with_introducers`; the core does it itself).
    pub(super) fn sync_introducers(&mut self, h: usize) {
        let mut out = Out::default();
        self.with_model(h, &mut out, |m, cx, out| m.sync_introducers(cx, out));
        self.apply(h, out);
    }

    pub(super) fn delivered(&mut self, h: usize, k: usize) {
        let host = &mut self.hosts[h];
        if k < host.delivered.len() && host.delivered[k].is_none() {
            host.delivered[k] = Some(self.now);
        }
    }

    /// A Publish datagram of message `k` reached host `h` (for redundancy).
    pub(super) fn count_arrival(&mut self, h: usize, bytes: &[u8]) {
        let Ok(p) = streamrelay::wire::PacketRef::decode(bytes) else {
            return;
        };
        let pid = p.effective_packet_id();
        let mut key = [0u8; 32];
        let n = pid.len().min(32);
        key[..n].copy_from_slice(&pid[..n]);
        if let Some(&k) = self.pid_index.get(&key) {
            self.stats.arrivals[k] += 1;
            if !self.hosts[h].got[k] {
                self.hosts[h].got[k] = true;
                self.stats.receivers[k] += 1;
            }
        }
    }

    pub(super) fn became_ready(&mut self, h: usize) {
        if self.hosts[h].role != Role::Subscriber {
            return;
        }
        let cutoff = self.query_cutoff();
        for k in 0..self.published_at.len() {
            if let Some(t) = self.published_at[k] {
                if self.now >= t && self.now < cutoff && self.hosts[h].eligible[k].is_none() {
                    self.hosts[h].eligible[k] = Some(self.now);
                }
            }
        }
    }
}
