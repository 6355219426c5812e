//! Validation of the JSON control messages (types 1-4), exactly as the
//! reference's `validateMessage` does it (§3.0), without allocating.
//!
//! The reference walks its list of allowed keys in order and **stops at the
//! first key the message does not have**, accepting the message without
//! looking at any later key, required or not. We keep that rule on receive:
//! the reference's own heartbeat Ping carries `natType: null` behind a
//! missing `cacheSummaryHash`, and its Joins are checked only for unknown
//! keys. Being stricter would drop traffic the reference sends (see
//! docs/compat.md, "validation early stop").

use core::fmt;

use super::json::{JsStr, Token, Tokenizer};
use super::packet::PacketType;
use crate::id;

/// The JavaScript type of a JSON value, as `({}).toString.call(v)` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsType {
    /// `null`
    Null,
    /// `true` / `false`
    Boolean,
    /// any number
    Number,
    /// a string
    String,
    /// `[...]`
    Array,
    /// `{...}`
    Object,
}

impl JsType {
    /// The reference's lower-case type name.
    pub const fn name(self) -> &'static str {
        match self {
            JsType::Null => "null",
            JsType::Boolean => "boolean",
            JsType::Number => "number",
            JsType::String => "string",
            JsType::Array => "array",
            JsType::Object => "object",
        }
    }
}

impl fmt::Display for JsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The assertions a key can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assert {
    /// No assertion beyond the type.
    None,
    /// `isValidPeerId`: 64 hex digits.
    PeerId,
    /// `isValidReflectionId`: 12 hex digits.
    ReflectionId,
    /// `isValidPingId`: 12 or 13 hex digits.
    PingId,
    /// `isValidSummaryHashFormat`: 40 hex digits.
    SummaryHash,
    /// `isValidPort`: an integer 1..=65535.
    Port,
    /// `NAT.isValid`: bits 0 and 2 set after ToInt32.
    NatType,
}

impl Assert {
    /// What the assertion checks, for error messages.
    pub const fn describe(self) -> &'static str {
        match self {
            Assert::None => "any value",
            Assert::PeerId => "a peer id (64 hex digits)",
            Assert::ReflectionId => "a reflection id (12 hex digits)",
            Assert::PingId => "a ping id (12 or 13 hex digits)",
            Assert::SummaryHash => "a summary hash (40 hex digits)",
            Assert::Port => "a port (integer 1..65535)",
            Assert::NatType => "a NAT type (bits 0 and 2 set)",
        }
    }

    fn check_str(self, s: &JsStr<'_>) -> bool {
        match self {
            Assert::PeerId => hex_len_in(s, 64, 64),
            Assert::ReflectionId => hex_len_in(s, 12, 12),
            Assert::PingId => hex_len_in(s, 12, 13),
            Assert::SummaryHash => hex_len_in(s, 40, 40),
            // A string is never a valid port or NAT type (the type check
            // fails first anyway).
            Assert::Port | Assert::NatType => false,
            Assert::None => true,
        }
    }

    fn check_number(self, n: f64) -> bool {
        match self {
            Assert::Port => id::is_valid_port(n),
            Assert::NatType => crate::nat::is_valid_number(n),
            Assert::None => true,
            _ => false,
        }
    }
}

fn hex_len_in(s: &JsStr<'_>, min: usize, max: usize) -> bool {
    let mut n = 0;
    for c in s.chars() {
        if !c.is_ascii_hexdigit() {
            return false;
        }
        n += 1;
        if n > max {
            return false;
        }
    }
    n >= min
}

/// One allowed key of a control message.
#[derive(Clone, Copy, Debug)]
pub struct KeyRule {
    /// JSON key.
    pub name: &'static str,
    /// Expected JS type.
    pub ty: JsType,
    /// Whether the reference requires it (checked only before the early stop).
    pub required: bool,
    /// Extra check on the value.
    pub assert: Assert,
}

const fn key(name: &'static str, ty: JsType, required: bool, assert: Assert) -> KeyRule {
    KeyRule {
        name,
        ty,
        required,
        assert,
    }
}

use Assert as A;
use JsType::{Boolean as B, Number as N, String as S};

/// Ping keys in the reference's order (§3.1).
pub const PING_KEYS: &[KeyRule] = &[
    key("requesterPeerId", S, true, A::PeerId),
    key("cacheSummaryHash", S, false, A::SummaryHash),
    key("probeExternalPort", N, false, A::Port),
    key("reflectionId", S, false, A::ReflectionId),
    key("pingId", S, false, A::PingId),
    key("natType", N, false, A::NatType),
    key("uptime", N, false, A::None),
    key("cacheSize", N, false, A::None),
    key("isConnection", B, false, A::None),
    key("isReflection", B, false, A::None),
    key("isProbe", B, false, A::None),
    key("isDebug", B, false, A::None),
    key("timestamp", N, false, A::None),
];

/// Pong keys in the reference's order (§3.2).
pub const PONG_KEYS: &[KeyRule] = &[
    key("requesterPeerId", S, true, A::PeerId),
    key("responderPeerId", S, true, A::PeerId),
    key("cacheSummaryHash", S, false, A::SummaryHash),
    key("port", N, false, A::None),
    key("address", S, false, A::None),
    key("uptime", N, false, A::None),
    key("cacheSize", N, false, A::None),
    key("natType", N, false, A::NatType),
    key("isReflection", B, false, A::None),
    key("isConnection", B, false, A::None),
    key("reflectionId", S, false, A::ReflectionId),
    key("pingId", S, false, A::PingId),
    key("isDebug", B, false, A::None),
    key("isProbe", B, false, A::None),
    key("rejected", B, false, A::None),
];

/// Intro keys in the reference's order (§3.3).
pub const INTRO_KEYS: &[KeyRule] = &[
    key("requesterPeerId", S, true, A::PeerId),
    key("responderPeerId", S, true, A::PeerId),
    key("isRendezvous", B, false, A::None),
    key("natType", N, true, A::NatType),
    key("address", S, true, A::None),
    key("port", N, true, A::Port),
    key("timestamp", N, false, A::None),
];

/// Join keys in the reference's order (§3.4).
pub const JOIN_KEYS: &[KeyRule] = &[
    key("rendezvousAddress", S, false, A::None),
    key("rendezvousPort", N, false, A::Port),
    key("rendezvousType", N, false, A::NatType),
    key("rendezvousPeerId", S, false, A::PeerId),
    key("rendezvousDeadline", N, false, A::None),
    key("rendezvousRequesterPeerId", S, false, A::PeerId),
    key("requesterPeerId", S, true, A::PeerId),
    key("natType", N, true, A::NatType),
    key("address", S, true, A::None),
    key("key", S, false, A::None),
    key("port", N, true, A::Port),
    key("isConnection", B, false, A::None),
];

/// The allowed keys of a control type (empty for types 5-8).
pub const fn rules_for(t: PacketType) -> &'static [KeyRule] {
    match t {
        PacketType::Ping => PING_KEYS,
        PacketType::Pong => PONG_KEYS,
        PacketType::Intro => INTRO_KEYS,
        PacketType::Join => JOIN_KEYS,
        _ => &[],
    }
}

/// Why a control message is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The message bytes are not JSON (the reference then keeps raw bytes,
    /// which fail the object check).
    #[error("message is not valid JSON (at byte {offset})")]
    InvalidJson {
        /// Byte offset of the error in the message.
        offset: usize,
    },
    /// Valid JSON, but not an object.
    #[error("expected a JSON object, got {0}")]
    NotAnObject(JsType),
    /// A key the type does not allow.
    #[error("unexpected key at byte {offset} of the message")]
    UnknownKey {
        /// Byte offset of the key in the message.
        offset: usize,
    },
    /// A required key is missing.
    #[error("key '{0}' is required")]
    MissingKey(&'static str),
    /// A key has the wrong type.
    #[error("expected '{key}' to be of type '{expected}', got '{found}'")]
    WrongType {
        /// The key.
        key: &'static str,
        /// The expected type.
        expected: JsType,
        /// The type found.
        found: JsType,
    },
    /// A key fails its assertion (invalid peer id, port, NAT type, ...).
    #[error("'{key}' is not {}", .assert.describe())]
    Invalid {
        /// The key.
        key: &'static str,
        /// The failed check.
        assert: Assert,
    },
}

#[derive(Clone, Copy)]
struct Seen {
    ty: JsType,
    ok: bool,
}

/// Validates a control message of type `t` (1-4) as the reference does.
/// Types 5-8 are not validated and always pass.
pub fn validate_control_message(t: PacketType, msg: &[u8]) -> Result<(), MessageError> {
    let rules = rules_for(t);
    if rules.is_empty() {
        return Ok(());
    }
    let mut seen: [Option<Seen>; 16] = [None; 16];
    let mut unknown: Option<usize> = None;
    let invalid = |e: super::json::JsonError| MessageError::InvalidJson { offset: e.offset() };

    let mut tok = Tokenizer::new(msg);
    let first = tok.next_token().map_err(invalid)?;
    if first != Token::ObjectStart {
        // Finish reading so invalid JSON is reported as such.
        let ty = match first {
            Token::ArrayStart => {
                tok.skip_rest_of_container().map_err(invalid)?;
                JsType::Array
            }
            other => token_scalar_type(&other),
        };
        tok.finish().map_err(invalid)?;
        return Err(MessageError::NotAnObject(ty));
    }
    loop {
        let key_offset = tok.offset();
        match tok.next_token().map_err(invalid)? {
            Token::ObjectEnd => break,
            Token::Key(k) => {
                let slot = rules.iter().position(|r| k.eq_str(r.name));
                let value = tok.next_token().map_err(invalid)?;
                let (ty, ok) = match value {
                    Token::ObjectStart | Token::ArrayStart => {
                        tok.skip_rest_of_container().map_err(invalid)?;
                        let ty = if value == Token::ObjectStart {
                            JsType::Object
                        } else {
                            JsType::Array
                        };
                        (ty, false)
                    }
                    ref v => {
                        let ty = token_scalar_type(v);
                        let ok = match (slot, v) {
                            (Some(i), Token::Str(s)) => rules[i].assert.check_str(s),
                            (Some(i), Token::Number(n)) => rules[i].assert.check_number(*n),
                            (Some(i), _) => rules[i].assert == Assert::None,
                            (None, _) => false,
                        };
                        (ty, ok)
                    }
                };
                match slot {
                    // A duplicate key: JSON.parse keeps the last value.
                    Some(i) => seen[i] = Some(Seen { ty, ok }),
                    None => {
                        unknown.get_or_insert(key_offset);
                    }
                }
            }
            // The tokenizer only yields keys or the end inside an object.
            _ => return Err(MessageError::InvalidJson { offset: key_offset }),
        }
    }
    tok.finish().map_err(invalid)?;

    if let Some(offset) = unknown {
        return Err(MessageError::UnknownKey { offset });
    }
    for (rule, seen) in rules.iter().zip(seen.iter()) {
        let Some(seen) = seen else {
            if rule.required {
                return Err(MessageError::MissingKey(rule.name));
            }
            // The reference's early stop: accept without looking further.
            return Ok(());
        };
        if seen.ty != rule.ty {
            return Err(MessageError::WrongType {
                key: rule.name,
                expected: rule.ty,
                found: seen.ty,
            });
        }
        if !seen.ok {
            return Err(MessageError::Invalid {
                key: rule.name,
                assert: rule.assert,
            });
        }
    }
    Ok(())
}

fn token_scalar_type(t: &Token<'_>) -> JsType {
    match t {
        Token::Null => JsType::Null,
        Token::Bool(_) => JsType::Boolean,
        Token::Number(_) => JsType::Number,
        Token::Str(_) => JsType::String,
        Token::ArrayStart | Token::ArrayEnd => JsType::Array,
        _ => JsType::Object,
    }
}
