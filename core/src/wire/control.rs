//! Typed JSON control messages: Ping, Pong, Intro, Join, the Query question
//! and the chain head.
//!
//! Each is a thin typed layer over an ordered [`JsObject`], so a message
//! keeps its key order (and any key we do not model) when it is re-encoded:
//! the reference hashes the JSON text into the packetId (rule (a)), and a
//! relay that rewrites a Join must produce the same text the reference would.
//! Setters behave like JavaScript assignment: an existing key keeps its place,
//! a new key goes to the end.
//!
//! Getters are typed and defensive: a value of the wrong type reads as
//! `None`, because the reference's validation stops early (§3.0) and may not
//! have looked at it.
//!
//! ```
//! use streamrelay::nat::NatType;
//! use streamrelay::wire::control::Ping;
//!
//! let id = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";
//! let ping = Ping::heartbeat(id, Some(NatType::PORT_RESTRICTED), 60000.0, 1700000000000.0);
//! assert_eq!(
//!     ping.to_json(),
//!     format!(r#"{{"requesterPeerId":"{id}","natType":7,"uptime":60000,"timestamp":1700000000000}}"#)
//! );
//! let back = Ping::parse(ping.to_json().as_bytes()).unwrap();
//! assert_eq!(back.nat_type(), Some(NatType::PORT_RESTRICTED));
//! ```

use alloc::string::String;

use super::json::{escape_str, parse, write_number, JsObject, JsValue, Token, Tokenizer};
use super::message::{validate_control_message, MessageError};
use super::packet::{EncodeError, Packet, PacketType};
use crate::nat::NatType;

/// Why a message could not be read into its typed form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// The reference's validation refuses it.
    #[error(transparent)]
    Invalid(#[from] MessageError),
    /// Valid JSON that is not an object (types 5-8 heads and queries).
    #[error("expected a JSON object")]
    NotAnObject,
    /// Not JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] super::json::JsonError),
}

fn nat_value(n: Option<NatType>) -> JsValue {
    n.map_or(JsValue::Null, |n| JsValue::Number(n.0 as f64))
}

fn read_nat(v: Option<&JsValue>) -> Option<NatType> {
    match v {
        Some(JsValue::Number(n)) if (0.0..=255.0).contains(n) && (*n as u8) as f64 == *n => {
            Some(NatType(*n as u8))
        }
        _ => None,
    }
}

macro_rules! accessors {
    ($( $(#[$doc:meta])* $get:ident / $set:ident : $key:literal => $kind:ident ),* $(,)?) => {
        $( accessors!(@one $(#[$doc])* $get / $set : $key => $kind); )*
    };
    (@one $(#[$doc:meta])* $get:ident / $set:ident : $key:literal => str) => {
        $(#[$doc])*
        pub fn $get(&self) -> Option<&str> {
            self.0.get($key).and_then(JsValue::as_str)
        }
        #[doc = concat!("Sets `", $key, "`.")]
        pub fn $set(&mut self, v: &str) -> &mut Self {
            self.0.insert($key, JsValue::from(v));
            self
        }
    };
    (@one $(#[$doc:meta])* $get:ident / $set:ident : $key:literal => num) => {
        $(#[$doc])*
        pub fn $get(&self) -> Option<f64> {
            self.0.get($key).and_then(JsValue::as_f64)
        }
        #[doc = concat!("Sets `", $key, "`.")]
        pub fn $set(&mut self, v: f64) -> &mut Self {
            self.0.insert($key, JsValue::Number(v));
            self
        }
    };
    (@one $(#[$doc:meta])* $get:ident / $set:ident : $key:literal => bool) => {
        $(#[$doc])*
        pub fn $get(&self) -> Option<bool> {
            self.0.get($key).and_then(JsValue::as_bool)
        }
        #[doc = concat!("Sets `", $key, "`.")]
        pub fn $set(&mut self, v: bool) -> &mut Self {
            self.0.insert($key, JsValue::Bool(v));
            self
        }
    };
    (@one $(#[$doc:meta])* $get:ident / $set:ident : $key:literal => nat) => {
        $(#[$doc])*
        pub fn $get(&self) -> Option<NatType> {
            read_nat(self.0.get($key))
        }
        #[doc = concat!("Sets `", $key, "` (`None` writes `null`, as the reference does before reflection).")]
        pub fn $set(&mut self, v: Option<NatType>) -> &mut Self {
            self.0.insert($key, nat_value(v));
            self
        }
    };
}

macro_rules! control_message {
    ($(#[$doc:meta])* $name:ident = $t:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name(JsObject);

        impl $name {
            /// The packet type that carries it.
            pub const TYPE: PacketType = $t;

            /// An empty message (add keys with the setters, in wire order).
            pub fn new() -> Self {
                Self(JsObject::new())
            }

            /// Reads a message body: the reference's validation, then the
            /// JavaScript-exact parse (key order kept).
            pub fn parse(message: &[u8]) -> Result<Self, ControlError> {
                validate_control_message($t, message)?;
                match parse(message)? {
                    JsValue::Object(o) => Ok(Self(o)),
                    _ => Err(ControlError::NotAnObject),
                }
            }

            /// The underlying ordered object.
            pub fn object(&self) -> &JsObject {
                &self.0
            }

            /// Mutable access for keys without a typed setter.
            pub fn object_mut(&mut self) -> &mut JsObject {
                &mut self.0
            }

            /// Removes a key (`delete msg[key]`).
            pub fn remove(&mut self, key: &str) -> &mut Self {
                self.0.remove(key);
                self
            }

            /// The JSON text, exactly as `JSON.stringify` writes it.
            pub fn to_json(&self) -> String {
                JsValue::Object(self.0.clone()).stringify()
            }

            /// A packet of the right type carrying this message, every other
            /// field at its default.
            pub fn to_packet(&self) -> Result<Packet, EncodeError> {
                let mut p = Packet::new($t);
                let text = self.to_json();
                if text.len() > super::packet::MESSAGE_BYTES {
                    return Err(EncodeError::FieldTooLong {
                        field: super::packet::Field::Message,
                        len: text.len(),
                        max: super::packet::MESSAGE_BYTES,
                    });
                }
                p.message = text.into_bytes();
                Ok(p)
            }
        }
    };
}

control_message!(
    /// Ping (type 1): keepalive, reflection request, hole punch (§3.1).
    Ping = PacketType::Ping
);
control_message!(
    /// Pong (type 2): the answer to a Ping (§3.2).
    Pong = PacketType::Pong
);
control_message!(
    /// Intro (type 3): "here is a peer, connect to it" (§3.3).
    Intro = PacketType::Intro
);
control_message!(
    /// Join (type 4): "I am in this subcluster, introduce me" (§3.4).
    Join = PacketType::Join
);

impl Ping {
    accessors! {
        /// The sender.
        requester_peer_id / set_requester_peer_id: "requesterPeerId" => str,
        /// The sender's root cache summary hash (40 hex).
        cache_summary_hash / set_cache_summary_hash: "cacheSummaryHash" => str,
        /// The sender's probe-socket public port (reflection stage 2).
        probe_external_port / set_probe_external_port: "probeExternalPort" => num,
        /// Reflection round id (12 hex).
        reflection_id / set_reflection_id: "reflectionId" => str,
        /// Hole-punch attempt id (12-13 hex).
        ping_id / set_ping_id: "pingId" => str,
        /// The sender's NAT type.
        nat_type / set_nat_type: "natType" => nat,
        /// The sender's uptime (ms).
        uptime / set_uptime: "uptime" => num,
        /// Entries in the sender's cache.
        cache_size / set_cache_size: "cacheSize" => num,
        /// "Treat me as connected".
        is_connection / set_is_connection: "isConnection" => bool,
        /// "Tell me my public address".
        is_reflection / set_is_reflection: "isReflection" => bool,
        /// Reflection stage-1 marker.
        is_probe / set_is_probe: "isProbe" => bool,
        /// Unused.
        is_debug / set_is_debug: "isDebug" => bool,
        /// The sender's wall clock (ms).
        timestamp / set_timestamp: "timestamp" => num,
    }

    /// P1, the heartbeat sent every tick: `natType` is `null` until
    /// reflection has finished.
    pub fn heartbeat(requester: &str, nat: Option<NatType>, uptime: f64, timestamp: f64) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_nat_type(nat)
            .set_uptime(uptime)
            .set_timestamp(timestamp);
        p
    }

    /// P2, the reflection bootstrap to indexed peers.
    pub fn bootstrap(requester: &str, uptime: f64, timestamp: f64) -> Self {
        let mut p = Self::new();
        p.set_is_connection(true)
            .set_requester_peer_id(requester)
            .set_uptime(uptime)
            .set_timestamp(timestamp);
        p
    }

    /// P3 (`probe`) or P4: a reflection request. P4 carries the probe
    /// socket's external port when stage 1 learned it.
    pub fn reflection(
        requester: &str,
        reflection_id: &str,
        probe: bool,
        probe_external_port: Option<u16>,
        uptime: f64,
        timestamp: f64,
    ) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_is_reflection(true)
            .set_reflection_id(reflection_id);
        if probe {
            p.set_is_probe(true);
        } else if let Some(port) = probe_external_port {
            p.set_probe_external_port(port as f64);
        }
        p.set_uptime(uptime).set_timestamp(timestamp);
        p
    }

    /// P5, the NAT announcement after reflection.
    pub fn nat_announcement(
        requester: &str,
        nat: Option<NatType>,
        cache_size: f64,
        uptime: f64,
        timestamp: f64,
    ) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_nat_type(nat)
            .set_cache_size(cache_size)
            .set_is_connection(true)
            .set_uptime(uptime)
            .set_timestamp(timestamp);
        p
    }

    /// P6, the answer to an Intro (DIRECT, DEFER, PROXY).
    pub fn intro_answer(
        nat: Option<NatType>,
        cache_summary_hash: &str,
        requester: &str,
        uptime: f64,
        timestamp: f64,
    ) -> Self {
        let mut p = Self::new();
        p.set_nat_type(nat)
            .set_is_connection(true)
            .set_cache_summary_hash(cache_summary_hash)
            .set_requester_peer_id(requester)
            .set_uptime(uptime)
            .set_timestamp(timestamp);
        p
    }

    /// P7, the hard-NAT traversal ping from a pool socket.
    pub fn traversal(
        requester: &str,
        cache_summary_hash: &str,
        nat: Option<NatType>,
        uptime: f64,
        timestamp: f64,
        ping_id: &str,
    ) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_cache_summary_hash(cache_summary_hash)
            .set_nat_type(nat)
            .set_uptime(uptime)
            .set_is_connection(true)
            .set_timestamp(timestamp)
            .set_ping_id(ping_id);
        p
    }

    /// P8, the traversal confirmation.
    pub fn traversal_confirmation(requester: &str, nat: Option<NatType>) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_nat_type(nat)
            .set_is_connection(true);
        p
    }
}

/// The fields of a Ping that a Peer answers from, borrowed: read straight
/// from the message text with the allocation-free [`Tokenizer`] when it can
/// be ([`PingFields::read`]), else from a parsed [`Ping`]
/// ([`Ping::fields`]). Both give what the [`Ping`] getters give.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PingFields<'a> {
    /// `requesterPeerId` (a string).
    pub requester_peer_id: Option<&'a str>,
    /// `natType` (as [`Ping::nat_type`] reads it).
    pub nat_type: Option<NatType>,
    /// `uptime` (a number).
    pub uptime: Option<f64>,
    /// `isProbe` (a boolean).
    pub is_probe: Option<bool>,
    /// `reflectionId` (a string).
    pub reflection_id: Option<&'a str>,
    /// `pingId` (a string).
    pub ping_id: Option<&'a str>,
    /// `isReflection` (a boolean).
    pub is_reflection: Option<bool>,
    /// `isConnection` (a boolean).
    pub is_connection: Option<bool>,
    /// `probeExternalPort` (a number).
    pub probe_external_port: Option<f64>,
}

impl Ping {
    /// The fields a Peer answers from (see [`PingFields`]).
    pub fn fields(&self) -> PingFields<'_> {
        PingFields {
            requester_peer_id: self.requester_peer_id(),
            nat_type: self.nat_type(),
            uptime: self.uptime(),
            is_probe: self.is_probe(),
            reflection_id: self.reflection_id(),
            ping_id: self.ping_id(),
            is_reflection: self.is_reflection(),
            is_connection: self.is_connection(),
            probe_external_port: self.probe_external_port(),
        }
    }
}

impl<'a> PingFields<'a> {
    /// Reads a Ping message without allocating: the same validation and
    /// verdict as [`Ping::parse`] (an error where it errs), and `Ok(None)`
    /// when one of the fields is a string that needs decoding (escapes,
    /// ill-formed UTF-8): then use `Ping::parse(message)?.fields()`.
    /// Repeated keys: the last value counts, as in `JSON.parse`.
    pub fn read(message: &'a [u8]) -> Result<Option<Self>, ControlError> {
        validate_control_message(Ping::TYPE, message)?;
        let mut tok = Tokenizer::new(message);
        match tok.next_token()? {
            Token::ObjectStart => {}
            first => {
                if first == Token::ArrayStart {
                    tok.skip_rest_of_container()?;
                }
                tok.finish()?;
                return Err(ControlError::NotAnObject);
            }
        }
        let mut f = PingFields::default();
        let mut needs_decoding = false;
        loop {
            let key = match tok.next_token()? {
                Token::ObjectEnd => break,
                Token::Key(k) => k,
                _ => return Err(ControlError::NotAnObject),
            };
            let value = match tok.next_token()? {
                Token::ObjectStart | Token::ArrayStart => {
                    tok.skip_rest_of_container()?;
                    None
                }
                t => Some(t),
            };
            let text = |v: Option<Token<'a>>, bad: &mut bool| match v {
                Some(Token::Str(s)) => {
                    let t = s.as_str();
                    *bad |= t.is_none();
                    t
                }
                _ => None,
            };
            let num = |v: Option<Token<'a>>| match v {
                Some(Token::Number(n)) => Some(n),
                _ => None,
            };
            let flag = |v: Option<Token<'a>>| match v {
                Some(Token::Bool(b)) => Some(b),
                _ => None,
            };
            if key.eq_str("requesterPeerId") {
                f.requester_peer_id = text(value, &mut needs_decoding);
            } else if key.eq_str("natType") {
                f.nat_type = read_nat(num(value).map(JsValue::Number).as_ref());
            } else if key.eq_str("uptime") {
                f.uptime = num(value);
            } else if key.eq_str("isProbe") {
                f.is_probe = flag(value);
            } else if key.eq_str("reflectionId") {
                f.reflection_id = text(value, &mut needs_decoding);
            } else if key.eq_str("pingId") {
                f.ping_id = text(value, &mut needs_decoding);
            } else if key.eq_str("isReflection") {
                f.is_reflection = flag(value);
            } else if key.eq_str("isConnection") {
                f.is_connection = flag(value);
            } else if key.eq_str("probeExternalPort") {
                f.probe_external_port = num(value);
            }
        }
        tok.finish()?;
        Ok((!needs_decoding).then_some(f))
    }
}

/// A Pong answering a Ping, field by field in the order the Peer sets them
/// ([`PongReply::to_pong`] builds it with the [`Pong`] setters), written
/// straight to JSON by [`PongReply::write_json`] with the same bytes and no
/// intermediate object.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PongReply<'a> {
    /// `cacheSize`.
    pub cache_size: f64,
    /// `uptime`.
    pub uptime: f64,
    /// `responderPeerId`.
    pub responder_peer_id: &'a str,
    /// `requesterPeerId`.
    pub requester_peer_id: &'a str,
    /// `port`.
    pub port: Option<f64>,
    /// `isProbe`.
    pub is_probe: Option<bool>,
    /// `address`.
    pub address: Option<&'a str>,
    /// `reflectionId`.
    pub reflection_id: Option<&'a str>,
    /// `pingId`.
    pub ping_id: Option<&'a str>,
    /// `isReflection: true`; else `natType` if it is set.
    pub is_reflection: bool,
    /// `natType` (only without `is_reflection`).
    pub nat_type: Option<NatType>,
    /// `isConnection: true`, and then no `address`, `port` or `isProbe`.
    pub is_connection: bool,
    /// `cacheSummaryHash`.
    pub cache_summary_hash: &'a str,
    /// A `port` set after all of the above (it replaces `port` in place
    /// where there is one, else it comes last).
    pub port_after: Option<f64>,
}

impl PongReply<'_> {
    /// The [`Pong`] built with its setters, in this order.
    pub fn to_pong(&self) -> Pong {
        let mut pong = Pong::new();
        pong.set_cache_size(self.cache_size)
            .set_uptime(self.uptime)
            .set_responder_peer_id(self.responder_peer_id)
            .set_requester_peer_id(self.requester_peer_id);
        if let Some(p) = self.port {
            pong.set_port(p);
        }
        if let Some(b) = self.is_probe {
            pong.set_is_probe(b);
        }
        if let Some(a) = self.address {
            pong.set_address(a);
        }
        if let Some(r) = self.reflection_id {
            pong.set_reflection_id(r);
        }
        if let Some(r) = self.ping_id {
            pong.set_ping_id(r);
        }
        if self.is_reflection {
            pong.set_is_reflection(true);
        } else if self.nat_type.is_some() {
            pong.set_nat_type(self.nat_type);
        }
        if self.is_connection {
            pong.set_is_connection(true);
            pong.remove("address").remove("port").remove("isProbe");
        }
        pong.set_cache_summary_hash(self.cache_summary_hash);
        if let Some(p) = self.port_after {
            pong.set_port(p);
        }
        pong
    }

    /// `to_pong().to_json()`, written directly into `out` (cleared first).
    pub fn write_json(&self, out: &mut String) {
        out.clear();
        let mut w = ObjectWriter { out, first: true };
        w.num("cacheSize", self.cache_size);
        w.num("uptime", self.uptime);
        w.str("responderPeerId", self.responder_peer_id);
        w.str("requesterPeerId", self.requester_peer_id);
        let port_in_place = !self.is_connection && self.port.is_some();
        if !self.is_connection {
            if let Some(p) = self.port {
                w.num("port", self.port_after.unwrap_or(p));
            }
            if let Some(b) = self.is_probe {
                w.bool("isProbe", b);
            }
            if let Some(a) = self.address {
                w.str("address", a);
            }
        }
        if let Some(r) = self.reflection_id {
            w.str("reflectionId", r);
        }
        if let Some(r) = self.ping_id {
            w.str("pingId", r);
        }
        if self.is_reflection {
            w.bool("isReflection", true);
        } else if let Some(n) = self.nat_type {
            w.num("natType", f64::from(n.0));
        }
        if self.is_connection {
            w.bool("isConnection", true);
        }
        w.str("cacheSummaryHash", self.cache_summary_hash);
        if let (Some(p), false) = (self.port_after, port_in_place) {
            w.num("port", p);
        }
        w.out.push('}');
    }

    /// The Pong packet (every other field at its default), as
    /// `to_pong().to_packet()` makes it.
    pub fn to_packet(&self) -> Result<Packet, EncodeError> {
        let mut text = String::with_capacity(384);
        self.write_json(&mut text);
        if text.len() > super::packet::MESSAGE_BYTES {
            return Err(EncodeError::FieldTooLong {
                field: super::packet::Field::Message,
                len: text.len(),
                max: super::packet::MESSAGE_BYTES,
            });
        }
        let mut p = Packet::new(Pong::TYPE);
        p.message = text.into_bytes();
        Ok(p)
    }
}

/// Writes one JSON object member by member (keys are plain ASCII).
struct ObjectWriter<'o> {
    out: &'o mut String,
    first: bool,
}

impl ObjectWriter<'_> {
    fn key(&mut self, k: &str) {
        self.out.push(if self.first { '{' } else { ',' });
        self.first = false;
        self.out.push('"');
        self.out.push_str(k);
        self.out.push_str("\":");
    }
    fn num(&mut self, k: &str, n: f64) {
        self.key(k);
        write_number(self.out, n);
    }
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.push('"');
        escape_str(self.out, v);
        self.out.push('"');
    }
    fn bool(&mut self, k: &str, b: bool) {
        self.key(k);
        self.out.push_str(if b { "true" } else { "false" });
    }
}

impl Pong {
    accessors! {
        /// The peer that sent the Ping.
        requester_peer_id / set_requester_peer_id: "requesterPeerId" => str,
        /// The peer answering.
        responder_peer_id / set_responder_peer_id: "responderPeerId" => str,
        /// The responder's root cache summary hash.
        cache_summary_hash / set_cache_summary_hash: "cacheSummaryHash" => str,
        /// The source port the responder saw.
        port / set_port: "port" => num,
        /// The source address the responder saw.
        address / set_address: "address" => str,
        /// The responder's uptime (ms).
        uptime / set_uptime: "uptime" => num,
        /// Entries in the responder's cache.
        cache_size / set_cache_size: "cacheSize" => num,
        /// The responder's NAT type.
        nat_type / set_nat_type: "natType" => nat,
        /// A reflection answer.
        is_reflection / set_is_reflection: "isReflection" => bool,
        /// A connection confirmation.
        is_connection / set_is_connection: "isConnection" => bool,
        /// Echo of the Ping's reflection id.
        reflection_id / set_reflection_id: "reflectionId" => str,
        /// Echo of the Ping's ping id.
        ping_id / set_ping_id: "pingId" => str,
        /// Unused.
        is_debug / set_is_debug: "isDebug" => bool,
        /// Echo of the Ping's probe marker.
        is_probe / set_is_probe: "isProbe" => bool,
        /// Never used.
        rejected / set_rejected: "rejected" => bool,
    }
}

impl Intro {
    accessors! {
        /// The peer being introduced (to connect to).
        requester_peer_id / set_requester_peer_id: "requesterPeerId" => str,
        /// The introducer.
        responder_peer_id / set_responder_peer_id: "responderPeerId" => str,
        /// The Join carried rendezvous data.
        is_rendezvous / set_is_rendezvous: "isRendezvous" => bool,
        /// NAT type of the introduced peer.
        nat_type / set_nat_type: "natType" => nat,
        /// Its address.
        address / set_address: "address" => str,
        /// Its port.
        port / set_port: "port" => num,
        /// Not sent by 0.6.
        timestamp / set_timestamp: "timestamp" => num,
    }

    /// An Intro as the reference sends it (key order of §3.3).
    pub fn introduce(
        requester: &str,
        responder: &str,
        is_rendezvous: bool,
        nat: NatType,
        address: &str,
        port: u16,
    ) -> Self {
        let mut p = Self::new();
        p.set_requester_peer_id(requester)
            .set_responder_peer_id(responder)
            .set_is_rendezvous(is_rendezvous)
            .set_nat_type(Some(nat))
            .set_address(address)
            .set_port(port as f64);
        p
    }
}

impl Join {
    accessors! {
        /// An UNRESTRICTED relay at hop 1.
        rendezvous_address / set_rendezvous_address: "rendezvousAddress" => str,
        /// Its port.
        rendezvous_port / set_rendezvous_port: "rendezvousPort" => num,
        /// Its NAT type (in a J3 reply: the joiner's).
        rendezvous_type / set_rendezvous_type: "rendezvousType" => nat,
        /// Its peer id.
        rendezvous_peer_id / set_rendezvous_peer_id: "rendezvousPeerId" => str,
        /// Wall clock after which the rendezvous is stale.
        rendezvous_deadline / set_rendezvous_deadline: "rendezvousDeadline" => num,
        /// In a J3 reply: the original joiner.
        rendezvous_requester_peer_id / set_rendezvous_requester_peer_id: "rendezvousRequesterPeerId" => str,
        /// The joining peer.
        requester_peer_id / set_requester_peer_id: "requesterPeerId" => str,
        /// Its NAT type.
        nat_type / set_nat_type: "natType" => nat,
        /// Its public address.
        address / set_address: "address" => str,
        /// base64(clusterId) ":" base64(subclusterId), informational.
        key / set_key: "key" => str,
        /// Its public port.
        port / set_port: "port" => num,
        /// Unused.
        is_connection / set_is_connection: "isConnection" => bool,
    }

    /// J1, the Join `join()` sends.
    pub fn announce(
        requester: &str,
        nat: Option<NatType>,
        address: &str,
        port: u16,
        key: &str,
    ) -> Self {
        let mut j = Self::new();
        j.set_requester_peer_id(requester)
            .set_nat_type(nat)
            .set_address(address)
            .set_port(port as f64)
            .set_key(key);
        j
    }
}

/// The Query question's body: any JSON object; the reference itself only
/// reads `packetId` (a 64-hex cache key).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryQuestion(pub JsObject);

impl QueryQuestion {
    /// A question asking for one cached packet.
    pub fn for_packet(packet_id_hex: &str) -> Self {
        let mut o = JsObject::new();
        o.insert("packetId", JsValue::from(packet_id_hex));
        QueryQuestion(o)
    }

    /// The cache key asked for, if any.
    pub fn packet_id(&self) -> Option<&str> {
        self.0.get("packetId").and_then(JsValue::as_str)
    }

    /// Reads a question body (any JSON object).
    pub fn parse(message: &[u8]) -> Result<Self, ControlError> {
        match parse(message)? {
            JsValue::Object(o) => Ok(QueryQuestion(o)),
            _ => Err(ControlError::NotAnObject),
        }
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        JsValue::Object(self.0.clone()).stringify()
    }
}

/// The head (index 0) of a chain: `{"meta":…,"ts":…,"size":…,"indexes":…}`
/// in exactly that order (§7.2).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainHead {
    /// Application metadata (default `{}`).
    pub meta: JsValue,
    /// Publisher's wall clock (ms).
    pub ts: f64,
    /// Byte length of the reassembled message.
    pub size: f64,
    /// Number of fragments (not counting the head).
    pub indexes: f64,
}

impl ChainHead {
    /// The head for a message of `size` bytes split into 1024-byte fragments.
    pub fn for_size(size: usize, ts: f64) -> Self {
        ChainHead {
            meta: JsValue::Object(JsObject::new()),
            ts,
            size: size as f64,
            indexes: size.div_ceil(super::packet::MESSAGE_BYTES) as f64,
        }
    }

    /// The JSON text, keys in the reference's order.
    pub fn to_json(&self) -> String {
        let mut o = JsObject::new();
        o.insert("meta", self.meta.clone());
        o.insert("ts", JsValue::Number(self.ts));
        o.insert("size", JsValue::Number(self.size));
        o.insert("indexes", JsValue::Number(self.indexes));
        JsValue::Object(o).stringify()
    }

    /// Reads a head. `size` and `indexes` must be numbers; `meta` defaults to
    /// `{}` and `ts` to 0 when absent (the reference throws on a missing
    /// `meta`, §10; we treat it as empty).
    pub fn parse(message: &[u8]) -> Result<Self, ControlError> {
        let JsValue::Object(o) = parse(message)? else {
            return Err(ControlError::NotAnObject);
        };
        let num = |k| o.get(k).and_then(JsValue::as_f64);
        Ok(ChainHead {
            meta: o
                .get("meta")
                .cloned()
                .unwrap_or(JsValue::Object(JsObject::new())),
            ts: num("ts").unwrap_or(0.0),
            size: num("size").ok_or(ControlError::NotAnObject)?,
            indexes: num("indexes").ok_or(ControlError::NotAnObject)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    const PEER: &str = "4e47ab7c1ae8082ea81572adab3cc0d162fc18319a9154f421a1f6881d86d35f";

    #[test]
    fn ping_fields_read_as_the_parsed_ping() {
        let cases: &[&str] = &[
            r#"{"requesterPeerId":"ab","natType":7,"uptime":60000,"timestamp":1700000000000}"#,
            r#"{"requesterPeerId":"ab","isConnection":true,"pingId":"p1","natType":31}"#,
            r#"{"requesterPeerId":"ab","reflectionId":"r","isReflection":true,"isProbe":false,"probeExternalPort":4000}"#,
            // Repeated keys: the last value counts.
            r#"{"requesterPeerId":"ab","natType":7,"natType":3,"requesterPeerId":"cd"}"#,
            // Escaped keys are the same keys.
            r#"{"requesterPeerId":"ab","natType":2}"#,
            // Wrong types read as absent; nested values are skipped.
            r#"{"requesterPeerId":1,"natType":"7","uptime":true,"isProbe":1,"pingId":{"a":[1,{"b":2}]},"isConnection":[true]}"#,
            r#"{"requesterPeerId":"ab","natType":300}"#,
            r#"{"requesterPeerId":"ab","natType":7.5,"probeExternalPort":-1e400}"#,
            r#"{"requesterPeerId":"ab","natType":null,"reflectionId":""}"#,
            // Strings that need decoding: read through the parse.
            r#"{"requesterPeerId":"ab","natType":7}"#,
            r#"{"requesterPeerId":"ab","pingId":"x"y"}"#,
            // Refused.
            r#"{"requesterPeerId":"ab","natType":7"#,
            r#"{"requesterPeerId":"ab"} x"#,
            r#"[1,2]"#,
            r#""ab""#,
            r#"7"#,
            r#"{}"#,
            "",
        ];
        for text in cases {
            let fast = PingFields::read(text.as_bytes());
            match Ping::parse(text.as_bytes()) {
                Ok(ping) => match fast {
                    Ok(Some(f)) => assert_eq!(f, ping.fields(), "{text}"),
                    Ok(None) => assert!(text.contains('\\'), "{text}"),
                    Err(e) => panic!("{text}: read refuses ({e}), parse accepts"),
                },
                Err(_) => assert!(fast.is_err(), "{text}: read accepts, parse refuses"),
            }
        }
    }

    #[test]
    fn pong_reply_writes_what_the_setters_build() {
        let strs = ["", "ab", "x\"y\\z\u{1}\u{7f}é"];
        let mut n = 0;
        for bits in 0u32..(1 << 10) {
            let b = |i: u32| bits & (1 << i) != 0;
            for port_after in [None, Some(4000.0)] {
                let reply = PongReply {
                    cache_size: if b(0) { 0.0 } else { 12345.0 },
                    uptime: if b(0) { -0.0 } else { 1.5e21 },
                    responder_peer_id: PEER,
                    requester_peer_id: strs[n % 3],
                    port: b(1).then_some(40000.0),
                    is_probe: b(2).then_some(b(3)),
                    address: b(4).then_some("203.0.113.5"),
                    reflection_id: b(5).then_some(strs[(n + 1) % 3]),
                    ping_id: b(6).then_some(strs[(n + 2) % 3]),
                    is_reflection: b(7),
                    nat_type: b(8).then_some(NatType::PORT_RESTRICTED),
                    is_connection: b(9),
                    cache_summary_hash: "0123456789abcdef0123456789abcdef01234567",
                    port_after,
                };
                n += 1;
                let mut text = String::new();
                reply.write_json(&mut text);
                assert_eq!(text, reply.to_pong().to_json(), "{reply:?}");
                assert_eq!(
                    reply.to_packet().unwrap(),
                    reply.to_pong().to_packet().unwrap()
                );
            }
        }
    }

    #[test]
    fn join_text_of_section_2_9() {
        let j = Join::announce(
            PEER,
            Some(NatType::PORT_RESTRICTED),
            "203.0.113.5",
            40000,
            "3TuTzYo4abM0LNHQQreq1KMfhPG0piPRN4Thnub4n3g=:anLKGMb8u2MT+9Ony7gwfh/Vqq6FZ563drmWYW0Cnyk=",
        );
        assert_eq!(j.to_json().len(), 233);
        assert!(j
            .to_json()
            .starts_with(&format!(r#"{{"requesterPeerId":"{PEER}","natType":7,"#)));
        // A relay appends the rendezvous keys (J2); the text keeps J1's order.
        let mut j2 = Join::parse(j.to_json().as_bytes()).unwrap();
        j2.set_rendezvous_address("198.51.100.1")
            .set_rendezvous_port(3456.0)
            .set_rendezvous_type(Some(NatType::UNRESTRICTED))
            .set_rendezvous_peer_id(PEER)
            .set_rendezvous_deadline(1700000030000.0);
        let text = j2.to_json();
        assert!(text.starts_with(&format!(r#"{{"requesterPeerId":"{PEER}""#)));
        assert!(text.ends_with(r#""rendezvousDeadline":1700000030000}"#));
        // And it still passes the reference's validation.
        assert!(Join::parse(text.as_bytes()).is_ok());
    }

    #[test]
    fn heartbeat_with_null_nat_passes() {
        let p = Ping::heartbeat(PEER, None, 0.0, 1.0);
        assert_eq!(
            p.to_json(),
            format!(r#"{{"requesterPeerId":"{PEER}","natType":null,"uptime":0,"timestamp":1}}"#)
        );
        let back = Ping::parse(p.to_json().as_bytes()).unwrap();
        assert_eq!(back.nat_type(), None);
        assert_eq!(back.requester_peer_id(), Some(PEER));
    }

    #[test]
    fn wrong_types_read_as_none() {
        // Accepted by the reference (early stop at cacheSummaryHash) though
        // natType is a string: the typed getter does not trust it.
        let msg = format!(r#"{{"requesterPeerId":"{PEER}","natType":"7"}}"#);
        let p = Ping::parse(msg.as_bytes()).unwrap();
        assert_eq!(p.nat_type(), None);
        assert_eq!(p.to_json(), msg);
    }

    #[test]
    fn chain_head_order() {
        let h = ChainHead::for_size(2500, 1700000000000.0);
        assert_eq!(
            h.to_json(),
            r#"{"meta":{},"ts":1700000000000,"size":2500,"indexes":3}"#
        );
        assert_eq!(ChainHead::parse(h.to_json().as_bytes()).unwrap(), h);
    }

    #[test]
    fn intro_and_packet() {
        let i = Intro::introduce(PEER, PEER, false, NatType::ADDR_RESTRICTED, "1.2.3.4", 9);
        let p = i.to_packet().unwrap();
        let b = p.encode().unwrap();
        let r = super::super::PacketRef::decode(&b).unwrap();
        assert_eq!(Intro::parse(r.message).unwrap(), i);
        assert_eq!(
            QueryQuestion::for_packet("ab").to_json(),
            r#"{"packetId":"ab"}"#
        );
    }
}
