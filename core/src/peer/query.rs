//! Queries (§7.9): asking the network, answering from the cache, relaying,
//! and routing answers back.
//!
//! A question is a Query packet with a JSON object (`{"packetId": hex}`
//! asks for one cached packet), `usr1` = the asker's wall clock, `usr3` =
//! 32 random bytes (the query id) and `usr4` = `"1"`. A peer that holds the
//! packet answers with a copy of it as type 8, `usr3` = the query id and
//! `usr4` = `"2"`, sent to whoever passed the question on; otherwise it
//! remembers that return route, tells the host ([`Event::Query`]) and
//! relays the question to its fanout.
//!
//! Fixes (docs/compat.md#query-routing): answers follow the return routes
//! back hop by hop to the asker instead of being multicast (§10.70), and a
//! route lives `RETURN_ROUTE_TICKS` ticks instead of dying at the next one;
//! an answer is never made by changing the cached packet (§10.72); the
//! asker accepts an answer to a missing-link question only if it is the
//! packet asked for (its id follows the link).

use alloc::vec::Vec;

use super::addr::{Remote, SocketId};
use super::events::Event;
use super::gate::GateKey;
use super::metrics::{DropReason, Eviction};
use super::publish::id_of;
use super::time::Instant;
use super::{Peer, PeerError};
use crate::crypto::event::{message_to_packets, ChainArgs};
use crate::crypto::identity::sha256;
use crate::wire::control::QueryQuestion;
use crate::wire::packet::{IdField, PacketId, DEFAULT_FIELD, MAX_HOPS, MESSAGE_BYTES};
use crate::wire::{Field, Packet, PacketRef, PacketType};

/// Ticks a return route (and one of our own questions) lives.
pub(crate) const RETURN_ROUTE_TICKS: u8 = 2;

/// Why we asked a question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Asked {
    /// The host asked ([`Peer::query`]).
    App,
    /// A chain of ours lacks the packet `id`, which `prev` points to
    /// (`None`: a head).
    Link { id: IdField, prev: Option<IdField> },
}

/// `parseInt(ascii, 10)`: optional spaces and sign, then digits.
pub(crate) fn parse_ascii_int(b: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i64 = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        i += 1;
    }
    if i == start {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Parses hex (either case) into an id.
pub(crate) fn parse_hex_id(s: &str) -> Option<IdField> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 || b.len() > 64 {
        return None;
    }
    let mut out = IdField::new();
    for pair in b.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8).ok()?;
    }
    Some(out)
}

impl Peer {
    /// Asks the network (the reference's `query(q)`): the question goes to
    /// our fanout, peers pass it on, and whoever has `{"packetId": …}` in
    /// its cache answers along the way back. Answers come as
    /// [`Event::Answer`] (and a cached Publish of one of our subclusters is
    /// also delivered as [`Event::Packet`]). Returns the query id.
    pub fn query(&mut self, now: Instant, question: &QueryQuestion) -> Result<IdField, PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let text = question.to_json();
        if text.len() > MESSAGE_BYTES {
            return Err(PeerError::TooLarge(text.len()));
        }
        self.send_question(now, text.as_bytes(), Asked::App)
    }

    /// Answers a question the host got as [`Event::Query`] (the reference's
    /// `onQuery` return value): `message` goes back as a type-8 chain along
    /// the question's return route. Answers over 1024 bytes are split, and
    /// receivers do not reassemble them (as the reference, §10.73).
    pub fn answer(
        &mut self,
        now: Instant,
        query_id: &[u8],
        message: &[u8],
    ) -> Result<Vec<PacketId>, PeerError> {
        if self.closing {
            return Err(PeerError::Closed);
        }
        let route = self.return_route(query_id).ok_or(PeerError::UnknownQuery)?;
        if message.len() > self.config.limits.reassembly.max_bytes {
            return Err(PeerError::TooLarge(message.len()));
        }
        let mut args = ChainArgs::new(PacketType::Query);
        args.usr3 = query_id;
        args.usr4 = b"2";
        let wall = self.wall_ms(now).max(0.0) as u64;
        let packets = message_to_packets(message, &args, wall).map_err(PeerError::Pack)?;
        let socket = self.socket_for(&route);
        let mut ids = Vec::with_capacity(packets.len());
        for p in &packets {
            ids.push(id_of(&p.packet_id));
            self.send_packet(socket, route, p);
        }
        Ok(ids)
    }

    /// The socket that reaches `remote` (its table entry's, else main).
    pub(crate) fn socket_for(&self, remote: &Remote) -> SocketId {
        self.table
            .iter()
            .find(|p| p.remote == *remote)
            .map_or(SocketId::Main, |p| p.socket)
    }

    /// Builds, gates and multicasts a question; remembers it as ours.
    pub(crate) fn send_question(
        &mut self,
        now: Instant,
        text: &[u8],
        asked: Asked,
    ) -> Result<IdField, PeerError> {
        use rand_core::RngCore;
        let mut p = Packet::new(PacketType::Query);
        p.message = text.to_vec();
        let usr1 = alloc::format!("{}", self.wall_ms(now) as i64);
        let mut qid = [0u8; 32];
        self.rng.fill_bytes(&mut qid);
        p.set(Field::Usr1, usr1.as_bytes())
            .map_err(|_| PeerError::TooLarge(usr1.len()))?;
        p.set(Field::Usr3, &qid)
            .map_err(|_| PeerError::TooLarge(32))?;
        p.set(Field::Usr4, b"1")
            .map_err(|_| PeerError::TooLarge(1))?;
        p.finalize_packet_id();
        let gk = GateKey::packet(&p.packet_id);
        if self.gate.contains(&gk) {
            return Err(PeerError::DuplicateQuery);
        }
        let qid = id_of(&qid);
        if self
            .my_queries
            .insert(qid.clone(), asked, RETURN_ROUTE_TICKS)
        {
            self.metrics.evict(Eviction::PendingQuery);
        }
        self.gate_set(gk, 1);
        self.multicast(now, p, &[], None, |_| true);
        Ok(qid)
    }

    /// A Query from the network (§7.9).
    pub(crate) fn on_query(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
    ) {
        self.metrics.received_by_type[PacketType::Query as usize] += 1;
        let qid = id_of(p.usr3);
        if parse_ascii_int(p.usr4) != Some(1) {
            // An answer's `usr1` is the answered packet's (an event hash for
            // a cached Publish), not a time: no freshness check
            // (docs/compat.md#query-routing).
            return self.on_answer(now, socket, remote, p, qid);
        }
        if let Some(t) = parse_ascii_int(p.usr1) {
            let fresh = self.config.timings.query_freshness_ms as f64;
            if (t as f64) < self.wall_ms(now) - fresh {
                self.metrics.drop(DropReason::Stale);
                return;
            }
        }
        let pid = p.effective_packet_id();
        let gk = GateKey::Packet(pid);
        if self.gate.contains(&gk) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        self.gate_set(gk, 1);
        if self.my_queries.contains(&qid) {
            self.metrics.drop(DropReason::Own);
            return;
        }
        self.remember_return_route(&qid, remote, RETURN_ROUTE_TICKS);
        let question = QueryQuestion::parse(p.message).ok();
        let wanted = question
            .as_ref()
            .and_then(|q| q.packet_id())
            .and_then(parse_hex_id);
        // Answers go only to peers we know (a spoofed question would make
        // us send a cached packet, ten times its size, to a stranger).
        let known = self.table.iter().any(|e| e.remote == remote);
        if let Some(key) = wanted.filter(|_| known) {
            let answer = self.store.get(&key).and_then(|e| {
                let f = PacketRef::decode_frame(&e.frame).ok()?;
                let mut a = f;
                a.packet_type = PacketType::Query;
                a.usr3 = p.usr3;
                a.usr4 = b"2";
                a.encode().ok()
            });
            if let Some(bytes) = answer {
                self.metrics.queries_answered += 1;
                self.send(socket, remote, bytes);
                return;
            }
        }
        self.emit(Event::Query {
            query_id: qid,
            question: p.message.to_vec(),
            from: remote,
        });
        if p.hops >= MAX_HOPS {
            self.metrics.drop(DropReason::Stale);
            return;
        }
        self.multicast(now, p.to_packet(), &[remote], None, |_| true);
    }

    /// An answer: ours to take, or one to pass back along its route.
    fn on_answer(
        &mut self,
        now: Instant,
        socket: SocketId,
        remote: Remote,
        p: &PacketRef<'_>,
        qid: IdField,
    ) {
        let _ = socket;
        let gk = GateKey::answer(&qid, p.packet_id);
        if let Some(asked) = self.my_queries.get(&qid).cloned() {
            if self.gate.contains(&gk) {
                self.metrics.drop(DropReason::Duplicate);
                return;
            }
            self.gate_set(gk, RETURN_ROUTE_TICKS);
            return self.take_answer(now, remote, p, qid, asked);
        }
        if let Some(route) = self.return_route(&qid) {
            if self.gate.contains(&gk) {
                self.metrics.drop(DropReason::Duplicate);
                return;
            }
            if route == remote {
                self.metrics.drop(DropReason::Unroutable);
                return;
            }
            self.gate_set(gk, RETURN_ROUTE_TICKS);
            let Ok(bytes) = p.encode() else {
                self.metrics.drop(DropReason::Invalid);
                return;
            };
            let s = self.socket_for(&route);
            self.metrics.answers_forwarded += 1;
            self.send(s, route, bytes);
            return;
        }
        self.metrics.drop(DropReason::Unsolicited);
    }

    fn take_answer(
        &mut self,
        now: Instant,
        remote: Remote,
        p: &PacketRef<'_>,
        qid: IdField,
        asked: Asked,
    ) {
        match asked {
            Asked::Link { id, prev } => {
                if p.packet_id != &id[..]
                    || !super::chains::link_holds(&id, prev.as_deref(), p.message)
                {
                    self.metrics.drop(DropReason::Forged);
                    return;
                }
                self.my_queries.remove(&qid);
                self.answer_as_publish(now, remote, p);
            }
            Asked::App => {
                self.emit(Event::Answer {
                    query_id: qid,
                    packet_id: id_of(p.packet_id),
                    index: p.index,
                    message: p.message.to_vec(),
                    from: remote,
                });
                let standalone =
                    (p.index == -1 || p.index == 0) && p.packet_id == sha256(p.message);
                if standalone && self.member_keys(p.cluster_id, p.subcluster_id).is_some() {
                    self.answer_as_publish(now, remote, p);
                }
            }
        }
    }

    /// A cached Publish that came back as an answer: the Publish it was
    /// (type 5, `usr3`/`usr4` at their default, as the reference restores
    /// it), cached and delivered, not relayed.
    fn answer_as_publish(&mut self, now: Instant, remote: Remote, p: &PacketRef<'_>) {
        if self.store.contains(p.packet_id) {
            self.metrics.drop(DropReason::Duplicate);
            return;
        }
        let mut q = *p;
        q.packet_type = PacketType::Publish;
        q.usr3 = DEFAULT_FIELD;
        q.usr4 = DEFAULT_FIELD;
        self.gate_set(GateKey::packet(p.packet_id), 6);
        self.accept_publish(now, remote, &q, false);
    }
}
