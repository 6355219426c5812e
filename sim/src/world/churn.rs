//! Churn: a host's sockets, its arrivals (a new peer, or a woken app
//! restored from its snapshot) and departures (for good, or asleep).

use super::*;

impl World {
    pub(super) fn bind(&mut self, h: usize, s: SocketId) {
        let host = &mut self.hosts[h];
        let port = match (s, host.fixed_main_port) {
            (SocketId::Main, Some(p)) => p,
            (SocketId::Probe, Some(p)) => p + 1,
            _ => loop {
                let p = host.next_port;
                host.next_port = if p >= 65_000 { 30_000 } else { p + 1 };
                if !host.ports.contains_key(&p) {
                    break p;
                }
            },
        };
        host.sockets.insert(s, port);
        host.ports.insert(port, s);
    }

    pub(super) fn arrive(&mut self, h: usize) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let sess = host.sessions[host.session];
        let mut seed = host.seed;
        seed[31] ^= host.session as u8;
        seed[30] ^= (host.session >> 8) as u8;
        let peer = match host.snapshot.take() {
            Some(snap) => Peer::restore(host.config.clone(), Instant(now), seed, &snap).ok(),
            None => None,
        };
        let woke = peer.is_some();
        let peer = match peer {
            Some(p) => p,
            None => Peer::new(host.config.clone(), Instant(now), seed).expect("valid config"),
        };
        let peer = Box::new(peer);
        host.peer = Some(peer);
        host.online = true;
        host.online_since = now;
        host.ready = false;
        host.participated = true;
        host.model.restart();
        let role = host.role;
        if role != Role::Introducer {
            self.stats.on_join(now, woke);
        }
        self.bind(h, SocketId::Main);
        self.bind(h, SocketId::Probe);
        let key = match role {
            Role::Publisher | Role::Subscriber => Some(self.topic_key.clone()),
            Role::Bystander => Some(self.lobby_key.clone()),
            Role::Introducer => None,
        };
        if let (Some(k), Some(p)) = (key, self.hosts[h].peer.as_mut()) {
            let _ = p.join(Instant(now), &k);
        }
        if let Some(e) = sess.end {
            self.push(e, Ev::Depart(h as u32));
        }
        self.pump(h);
    }

    pub(super) fn depart(&mut self, h: usize) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let sess = host.sessions[host.session];
        let Some(peer) = host.peer.take() else {
            return;
        };
        self.stats.absorb_peer(peer.metrics(), peer.clock());
        let from = host.online_since.max(self.scn.output.steady_from_ms);
        host.steady_online_ms += now.saturating_sub(from);
        if sess.sleep {
            host.snapshot = Some(peer.snapshot(Instant(now)));
        }
        host.online = false;
        host.ready = false;
        host.wake = None;
        host.sockets.clear();
        host.ports.clear();
        host.session += 1;
        let next = host.sessions.get(host.session).map(|s| s.start);
        self.stats.on_leave(now, sess.sleep);
        if let Some(t) = next {
            self.push(t, Ev::Arrive(h as u32));
        }
    }

    // -----------------------------------------------------------------
    // Peers
    // -----------------------------------------------------------------
}
