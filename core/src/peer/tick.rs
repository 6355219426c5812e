//! What a timer does when it fires: the keepalive tick (the main loop,
//! §6.4, with its re-join rule) and the dispatch of every other timer to
//! its flow.

use alloc::vec::Vec;

use super::timers::Timer;
use super::{Eviction, Instant, Peer};

impl Peer {
    pub(super) fn fire(&mut self, now: Instant, t: Timer) {
        match t {
            Timer::Tick => {
                self.timers
                    .add(now.add_ms(self.config.keepalive_ms), Timer::Tick);
                self.main_loop(now, true);
            }
            // Too soon after the Joins that reflection sent to judge how
            // many members answered: no re-join check then.
            Timer::ExtraTick => self.main_loop(now, false),
            Timer::ReflectionRetry
            | Timer::ProbeTimeout
            | Timer::ReflectionTimeout
            | Timer::FirstResponderTimeout
            | Timer::Finalise => self.on_reflection_timer(now, t),
            Timer::PingRetry { id, last } => self.on_ping_retry(now, id, last),
            Timer::IntroFallback(id) => self.on_intro_fallback(now, id),
            Timer::Traversal(id) => self.on_traversal_round(now, id),
            Timer::PoolIdle => self.on_pool_idle(now),
            Timer::ChainCheck => self.on_chain_timer(now),
        }
    }

    /// One run of the main loop (§6.4).
    fn main_loop(&mut self, now: Instant, keepalive_tick: bool) {
        if self.closing {
            return;
        }
        if self.reflection.id.is_none() {
            self.request_reflection(now);
        }
        self.uptime = self.uptime.saturating_add(self.config.keepalive_ms);
        self.heartbeat(now);
        self.greet_links(now);
        // Until the NAT type is known nothing ages (as the reference); an
        // introducer ages its state regardless (docs/compat.md#tick-when-indexed),
        // and so does a peer with links (a link-only peer never learns a type).
        if !(self.nat.is_some_and(|n| n.is_valid())
            || self.config.indexed
            || !self.links.is_empty())
        {
            return;
        }
        self.gate.age();
        self.return_routes.age();
        self.my_queries.age();
        self.rates.prune(now);
        self.expire_peers(now);
        self.expire_cache(now);
        let evicted = self
            .streams
            .expire(now.as_millis(), self.config.timings.chain_timeout_ms);
        for _ in 0..evicted {
            self.metrics.evict(Eviction::Chain);
        }
        self.send_unpublished(now);
        self.refresh_summary_hash(now);
        let keys: Vec<([u8; 32], [u8; 32])> = self.subclusters.keys().copied().collect();
        let enough = self.config.behaviour.rejoin_below_members;
        for (cid, scid) in keys {
            if enough > 0 && !(keepalive_tick && self.rejoin_due(&cid, &scid, enough)) {
                continue;
            }
            self.send_join(now, cid, scid);
        }
    }

    /// With `Behaviour::rejoin_below_members`: whether a subcluster is
    /// joined again at this tick. Only while too few members are
    /// connected, and then after 0, 1, 2, 4, 8, 16, 16 … quiet keepalive
    /// ticks (a peer
    /// behind a hard NAT may never reach the count; it must not re-join
    /// every tick for ever).
    fn rejoin_due(&mut self, cid: &[u8; 32], scid: &[u8; 32], enough: usize) -> bool {
        let members = self.connected_members(cid, scid);
        let Some(m) = self.subclusters.get_mut(&(*cid, *scid)) else {
            return false;
        };
        if members >= enough {
            m.rejoin_wait = 0;
            m.rejoin_backoff = 0;
            return false;
        }
        if m.rejoin_wait > 0 {
            m.rejoin_wait -= 1;
            return false;
        }
        m.rejoin_wait = m.rejoin_backoff;
        m.rejoin_backoff = (m.rejoin_backoff.saturating_mul(2)).clamp(1, 16);
        true
    }

    /// Connected, directly reached table peers seen in a subcluster (over
    /// UDP: link neighbours do not make a re-join on the Internet needless).
    pub(crate) fn connected_members(&self, cid: &[u8; 32], scid: &[u8; 32]) -> usize {
        self.table
            .iter()
            .filter(|p| {
                p.connected
                    && p.proxy.is_none()
                    && p.in_subcluster(cid, scid)
                    && !self.is_open_link(p.remote)
            })
            .count()
    }
}
