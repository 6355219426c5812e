//! Planning: the population drawn from the generator before anything
//! happens (NAT boxes, introducers, each peer's sessions, role and seed),
//! and the hosts made from it.

use super::*;

impl World {
    pub(super) fn new_box(&mut self, rng: &mut SimRng, kind: NatKind) -> u32 {
        let b = self.boxes.len() as u32;
        let hairpin = kind != NatKind::Open && rng.chance(self.scn.nat.hairpin);
        self.boxes.push(NatBox::new(
            kind,
            box_ip(b),
            hairpin,
            self.scn.nat.mapping_timeout_ms,
            self.scn.nat.port_allocation,
        ));
        self.box_access_ms
            .push(rng.range(0, self.scn.network.access_latency_ms));
        self.box_bad.push(false);
        b
    }

    pub(super) fn plan_introducers(&mut self, rng: &mut SimRng) -> Vec<Introducer> {
        let scn = self.scn.clone();
        let n_msgs = total_messages(&scn);
        let mut intro_list = Vec::new();
        for _ in 0..scn.population.introducers {
            let id = PeerId(rng.bytes32());
            let seed = rng.bytes32();
            let b = self.new_box(rng, NatKind::Open);
            let ip = self.boxes[b as usize].public_ip;
            let addr = SocketAddr::V4(SocketAddrV4::new(ip, INTRODUCER_PORT));
            let mut c = Config::new(&id.to_hex(), None);
            c.behaviour = self.behaviour.clone();
            c.indexed = true;
            c.nat_type = Some(NatType::UNRESTRICTED);
            c.public_address = Some(addr);
            c.keepalive_ms = scn.protocol.keepalive_ms;
            c.limits.max_peers = scn.protocol.max_peers;
            c.fanout.policy = self.policy.core();
            intro_list.push(Introducer {
                peer_id: id,
                remote: Remote::Udp(addr),
            });
            self.push_host(
                Role::Introducer,
                NatKind::Open,
                b,
                c,
                seed,
                vec![Session {
                    start: 0,
                    end: None,
                    sleep: false,
                }],
                Some(INTRODUCER_PORT),
                n_msgs,
            );
        }
        intro_list
    }

    pub(super) fn site_for(
        &mut self,
        rng: &mut SimRng,
        kind: NatKind,
        shared: &mut BTreeMap<NatKind, u32>,
    ) -> u32 {
        let per = self.scn.nat.hosts_per_nat;
        if kind == NatKind::Open || per <= 1 {
            return self.new_box(rng, kind);
        }
        match shared.get(&kind) {
            Some(&b) if (self.boxes[b as usize].hosts.len() as u32) < per => b,
            _ => {
                let b = self.new_box(rng, kind);
                shared.insert(kind, b);
                b
            }
        }
    }

    pub(super) fn plan_peer(
        &mut self,
        rng: &mut SimRng,
        intro_list: &[Introducer],
        role: Role,
        kind: NatKind,
        site: u32,
        sessions: Vec<Session>,
    ) {
        let id = PeerId(rng.bytes32());
        let seed = rng.bytes32();
        let mut c = Config::new(&id.to_hex(), Some(CLUSTER));
        c.behaviour = self.behaviour.clone();
        c.introducers = intro_list.to_vec();
        c.keepalive_ms = self.scn.protocol.keepalive_ms;
        c.limits.max_peers = self.scn.protocol.max_peers;
        c.fanout.policy = self.policy.core();
        c.auto_sync = self.plane == PlaneKind::Core;
        if self.scn.protocol.fanout_peers > 0 {
            c.fanout.peers = self.scn.protocol.fanout_peers;
        }
        if role == Role::Publisher {
            c.signing_keys = Some(create_key_pair(&seed).expect("32-byte seed"));
        }
        let n_msgs = total_messages(&self.scn);
        self.push_host(role, kind, site, c, seed, sessions, None, n_msgs);
    }

    pub(super) fn plan(&mut self, rng: &mut SimRng) {
        let scn = self.scn.clone();
        let pop = &scn.population;
        let end = scn.workload.end_ms;
        let intro_list = self.plan_introducers(rng);
        // Arrival times of ordinary peers: the publisher first, the initial
        // population over the ramp, then Poisson arrivals.
        let mut arrivals: Vec<u64> = vec![0];
        for _ in 0..pop.initial {
            arrivals.push(rng.range(0, pop.ramp_ms));
        }
        if pop.arrival_rate_per_s > 0.0 {
            let until = if pop.arrivals_until_ms == 0 {
                end
            } else {
                pop.arrivals_until_ms.min(end)
            };
            let mut t = pop.arrivals_from_ms.max(pop.ramp_ms) as f64;
            loop {
                t += rng.exp(1000.0 / pop.arrival_rate_per_s);
                if t >= until as f64 {
                    break;
                }
                arrivals.push(t as u64);
            }
        }
        arrivals[1..].sort_unstable();
        if pop.max_peers > 0 {
            arrivals.truncate(pop.max_peers as usize);
        }
        let weights = scn.nat.weights();
        let mut shared: BTreeMap<NatKind, u32> = BTreeMap::new();
        for (i, &start) in arrivals.iter().enumerate() {
            let role = if i == 0 {
                Role::Publisher
            } else if rng.chance(pop.subscriber_fraction) {
                Role::Subscriber
            } else {
                Role::Bystander
            };
            let kind = if role == Role::Publisher && pop.publisher_public {
                NatKind::Open
            } else {
                NatKind::ALL[rng.weighted(&weights)]
            };
            let site = self.site_for(rng, kind, &mut shared);
            let mut sessions = Vec::new();
            let mut s = start;
            loop {
                let life = if role == Role::Publisher && pop.publisher_immortal {
                    None
                } else {
                    pop.lifetime.draw(rng)
                };
                let e = life.map(|l| s + l).filter(|&e| e < end);
                let sleep = e.is_some() && rng.chance(pop.sleep_fraction);
                sessions.push(Session {
                    start: s,
                    end: e,
                    sleep,
                });
                match (e, sleep) {
                    (Some(e), true) => {
                        let d = pop.sleep.draw(rng).unwrap_or(u64::MAX / 4);
                        s = e.saturating_add(d.max(1));
                        if s >= end {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            self.plan_peer(rng, &intro_list, role, kind, site, sessions);
        }
        self.plan_island(rng, &intro_list);
    }

    /// A world with the scenario's introducers and exactly these peers
    /// (kind, role, sessions), each behind its own NAT box; for the NAT
    /// matrix and for tests.
    pub fn with_peers(
        scn: &Scenario,
        seed: u64,
        policy: FanoutPolicy,
        peers: &[(NatKind, Role, Vec<Session>)],
    ) -> World {
        let mut w = World::new_empty(scn, policy);
        let mut rng = SimRng::new(seed);
        let intro_list = w.plan_introducers(&mut rng);
        let mut shared = BTreeMap::new();
        for (kind, role, sessions) in peers {
            let site = w.site_for(&mut rng, *kind, &mut shared);
            w.plan_peer(&mut rng, &intro_list, *role, *kind, site, sessions.clone());
        }
        w.rng = rng;
        w
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_host(
        &mut self,
        role: Role,
        kind: NatKind,
        site: u32,
        config: Config,
        seed: [u8; 32],
        sessions: Vec<Session>,
        fixed_main_port: Option<u16>,
        n_msgs: usize,
    ) {
        let h = self.hosts.len() as u32;
        let ip = if kind == NatKind::Open {
            self.boxes[site as usize].public_ip
        } else {
            host_private_ip(h)
        };
        self.boxes[site as usize].hosts.push(h);
        let member = match role {
            Role::Publisher | Role::Subscriber => Some(self.topic),
            _ => None,
        };
        self.hosts.push(Host {
            role,
            kind,
            site,
            ip,
            config,
            seed,
            sessions,
            session: 0,
            peer: None,
            snapshot: None,
            model: ModelPeer::new(member),
            sockets: BTreeMap::new(),
            ports: BTreeMap::new(),
            next_port: 40_000,
            fixed_main_port,
            wake: None,
            online: false,
            ready: false,
            bytes_out: 0,
            data_bytes_out: 0,
            datagrams_out: 0,
            steady_bytes_out: 0,
            steady_wakeups: 0,
            steady_online_ms: 0,
            online_since: 0,
            bytes_in: 0,
            eligible: vec![None; n_msgs],
            delivered: vec![None; n_msgs],
            got: vec![false; n_msgs],
            participated: false,
            at_query: false,
            no_udp: false,
        });
    }

    // -----------------------------------------------------------------
    // The event loop
    // -----------------------------------------------------------------
}
