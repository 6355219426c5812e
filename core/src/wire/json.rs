//! JSON exactly as the JavaScript reference sees it: V8's
//! `JSON.parse(buffer.toString('utf8'))` and `JSON.stringify(value)` (Node 20).
//!
//! Two front ends share one grammar:
//!
//! * [`Tokenizer`], a pull tokenizer over `&[u8]` that never allocates, for
//!   validating packet messages inside the zero-copy decoder;
//! * [`parse`], which builds a [`JsValue`] tree (built on the tokenizer, so
//!   both accept exactly the same inputs), and [`JsValue::stringify`].
//!
//! # What "exactly" covers
//!
//! * **Bytes to text.** The input is decoded like Node's
//!   `Buffer.prototype.toString('utf8')` (the WHATWG UTF-8 decoder): every
//!   maximal subpart of an ill-formed sequence becomes one U+FFFD. A leading
//!   byte-order mark is *not* stripped, so `EF BB BF` before a value is a
//!   syntax error, as in `JSON.parse`. Outside strings any non-ASCII byte is
//!   a syntax error either way, and the decoder never swallows an ASCII byte,
//!   so the tokenizer works on the raw bytes and applies the replacement only
//!   when string contents are decoded.
//! * **Grammar** (ECMA-404 as V8 implements it): whitespace is only space,
//!   `\t`, `\n`, `\r`; no trailing commas, comments, single quotes, leading
//!   `+`, leading zeros, `.5` or `5.`; raw control characters (< 0x20) inside
//!   strings are errors; escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`; text
//!   after the top-level value (other than whitespace) is an error.
//! * **Strings** are sequences of UTF-16 code units in JavaScript and may hold
//!   lone surrogates (`"\ud800"`). [`JsString`] stores them losslessly as
//!   WTF-8 (see its docs); `stringify` writes a lone surrogate as the
//!   lower-case escape `\udxxx` and a well-formed pair as raw UTF-8, as V8's
//!   well-formed `JSON.stringify` does.
//! * **Numbers** become the nearest `f64` (`1e400` is `Infinity`, `-0` stays
//!   `-0.0`, big integers round), and print as `Number.prototype.toString()`
//!   (via `ryu-js`); non-finite numbers print as `null`, `-0` as `0`.
//! * **Objects** keep JavaScript's own-property order: keys that are array
//!   indices (canonical decimal integers `0..=2^32-2`) first, ascending, then
//!   the other keys in insertion order. A duplicated key keeps the position
//!   of its first occurrence and the value of its last. `__proto__` is an
//!   ordinary key (`JSON.parse` uses CreateDataProperty).
//!
//! # Deviation: nesting depth
//!
//! V8 parses arbitrarily deep JSON (its parser is iterative). We stop at
//! [`MAX_DEPTH`] (1024) nested arrays/objects with [`JsonErrorKind::TooDeep`].
//! A packet message holds at most 1024 bytes, i.e. at most 512 levels, so the
//! limit never changes the outcome for packet messages. [`parse`] and
//! [`JsValue::write_json`] use an explicit heap stack, not recursion, but the
//! derived `Drop`/`Clone`/`PartialEq`/`Debug` of [`JsValue`] recurse once per
//! level.
//!
//! Nothing here panics on any input.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

/// The deepest nesting of arrays/objects accepted (see the module docs).
pub const MAX_DEPTH: usize = 1024;

const REPLACEMENT: u32 = 0xFFFD;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// What is wrong with a JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonErrorKind {
    /// The input ended inside a value (or was empty / only whitespace).
    #[error("unexpected end of JSON input")]
    UnexpectedEnd,
    /// A byte that cannot start or continue the expected token. Any
    /// non-ASCII byte outside a string lands here (after UTF-8 decoding it
    /// is some non-JSON character, or U+FFFD).
    #[error("unexpected byte 0x{0:02x}")]
    UnexpectedByte(u8),
    /// A malformed number (`-`, `01`, `1.`, `1e`, ...).
    #[error("invalid number")]
    InvalidNumber,
    /// A backslash not followed by a valid escape.
    #[error("invalid escape in string")]
    InvalidEscape,
    /// A raw control character (< 0x20) inside a string.
    #[error("unescaped control character 0x{0:02x} in string")]
    ControlCharacter(u8),
    /// Something other than whitespace after the top-level value.
    #[error("unexpected data after the JSON value")]
    TrailingData,
    /// More than [`MAX_DEPTH`] nested arrays/objects (V8 would accept it).
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// [`Tokenizer::next_token`] was called after the top-level value ended.
    #[error("the JSON value has already ended")]
    NoMoreTokens,
    /// API misuse, not bad JSON: [`Tokenizer::skip_value`] where no value
    /// comes next, or [`Tokenizer::skip_rest_of_container`] outside any
    /// container. The tokenizer is left unchanged.
    #[error("no value to skip here")]
    NotAValue,
}

/// A JSON error: what went wrong and where (byte offset into the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    kind: JsonErrorKind,
    offset: usize,
}

impl JsonError {
    /// Creates an error.
    pub const fn new(kind: JsonErrorKind, offset: usize) -> Self {
        JsonError { kind, offset }
    }

    /// What went wrong.
    pub const fn kind(&self) -> JsonErrorKind {
        self.kind
    }

    /// Byte offset of the offending byte (the input length for an
    /// unexpected end).
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

// ---------------------------------------------------------------------------
// UTF-8 / escape decoding shared by everything below
// ---------------------------------------------------------------------------

/// Decodes one code point at `bytes[i]` like the WHATWG UTF-8 decoder:
/// returns the scalar value (or U+FFFD for an ill-formed maximal subpart)
/// and the number of bytes consumed (at least 1).
#[inline]
fn decode_utf8_at(bytes: &[u8], i: usize) -> (u32, usize) {
    let b0 = match bytes.get(i) {
        Some(&b) => b,
        None => return (REPLACEMENT, 1),
    };
    let (need, lo, hi, init): (usize, u8, u8, u32) = match b0 {
        0x00..=0x7F => return (u32::from(b0), 1),
        0xC2..=0xDF => (1, 0x80, 0xBF, u32::from(b0 & 0x1F)),
        0xE0 => (2, 0xA0, 0xBF, 0),
        0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF, u32::from(b0 & 0x0F)),
        0xED => (2, 0x80, 0x9F, 0x0D),
        0xF0 => (3, 0x90, 0xBF, 0),
        0xF1..=0xF3 => (3, 0x80, 0xBF, u32::from(b0 & 0x07)),
        0xF4 => (3, 0x80, 0x8F, 4),
        _ => return (REPLACEMENT, 1),
    };
    let mut cp = init;
    let mut k = 1;
    while k <= need {
        let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xBF) };
        match bytes.get(i + k) {
            Some(&b) if (l..=h).contains(&b) => cp = (cp << 6) | u32::from(b & 0x3F),
            _ => return (REPLACEMENT, k),
        }
        k += 1;
    }
    (cp, need + 1)
}

/// Decodes one code point of trusted WTF-8 (our own [`JsString`] buffers).
#[inline]
fn decode_wtf8_at(bytes: &[u8], i: usize) -> (u32, usize) {
    let b0 = match bytes.get(i) {
        Some(&b) => b,
        None => return (REPLACEMENT, 1),
    };
    let cont = |k: usize| u32::from(bytes.get(i + k).map_or(0, |b| b & 0x3F));
    match b0 {
        0x00..=0x7F => (u32::from(b0), 1),
        0xC0..=0xDF => ((u32::from(b0 & 0x1F) << 6) | cont(1), 2),
        0xE0..=0xEF => ((u32::from(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3),
        0xF0..=0xF7 => (
            (u32::from(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        ),
        _ => (REPLACEMENT, 1),
    }
}

#[inline]
fn hex_val(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

#[inline]
fn hex4(bytes: &[u8], i: usize) -> Option<u32> {
    let h = bytes.get(i..i + 4)?;
    let mut v = 0;
    for &b in h {
        v = (v << 4) | hex_val(b)?;
    }
    Some(v)
}

/// Decodes the escape starting with the backslash at `raw[i]`; joins a
/// `\uD8xx\uDCxx` pair into one code point. Returns (code point, length).
#[inline]
fn decode_escape_at(raw: &[u8], i: usize) -> (u32, usize) {
    let c = match raw.get(i + 1) {
        Some(&c) => c,
        None => return (REPLACEMENT, 1),
    };
    let simple = match c {
        b'"' => 0x22,
        b'\\' => 0x5C,
        b'/' => 0x2F,
        b'b' => 0x08,
        b'f' => 0x0C,
        b'n' => 0x0A,
        b'r' => 0x0D,
        b't' => 0x09,
        b'u' => {
            let Some(u) = hex4(raw, i + 2) else {
                return (REPLACEMENT, 2);
            };
            if (0xD800..0xDC00).contains(&u)
                && raw.get(i + 6) == Some(&b'\\')
                && raw.get(i + 7) == Some(&b'u')
            {
                if let Some(lo) = hex4(raw, i + 8) {
                    if (0xDC00..0xE000).contains(&lo) {
                        return (0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), 12);
                    }
                }
            }
            return (u, 6);
        }
        _ => return (REPLACEMENT, 2),
    };
    (simple, 2)
}

/// Iterator over the code points of the *contents* of a JSON string literal
/// (escaped, possibly ill-formed UTF-8).
#[derive(Clone, Debug)]
pub struct RawCodePoints<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl Iterator for RawCodePoints<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let b = *self.raw.get(self.pos)?;
        let (cp, len) = if b == b'\\' {
            decode_escape_at(self.raw, self.pos)
        } else if b < 0x80 {
            (u32::from(b), 1)
        } else {
            decode_utf8_at(self.raw, self.pos)
        };
        self.pos += len;
        Some(cp)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.raw.len().saturating_sub(self.pos);
        (left.div_ceil(12), Some(left))
    }
}

/// Iterator over the code points of a [`JsString`].
#[derive(Clone, Debug)]
pub struct CodePoints<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let (cp, len) = decode_wtf8_at(self.bytes, self.pos);
        self.pos += len;
        Some(cp)
    }
}

/// Turns an iterator of code points (lone surrogates included) into UTF-16
/// code units, i.e. the JavaScript string.
#[derive(Clone, Debug)]
pub struct CodeUnits<I> {
    inner: I,
    pending: Option<u16>,
}

impl<I: Iterator<Item = u32>> Iterator for CodeUnits<I> {
    type Item = u16;

    #[inline]
    fn next(&mut self) -> Option<u16> {
        if let Some(u) = self.pending.take() {
            return Some(u);
        }
        let cp = self.inner.next()?;
        if cp >= 0x10000 {
            let c = cp - 0x10000;
            self.pending = Some(0xDC00 | (c & 0x3FF) as u16);
            Some(0xD800 | ((c >> 10) & 0x3FF) as u16)
        } else {
            Some(cp as u16)
        }
    }
}

/// Maps a code point to a `char`, lone surrogates to U+FFFD.
#[inline]
fn lossy_char(cp: u32) -> char {
    char::from_u32(cp).unwrap_or('\u{FFFD}')
}

fn utf16_len_of(cps: impl Iterator<Item = u32>) -> usize {
    cps.map(|cp| if cp >= 0x10000 { 2 } else { 1 }).sum()
}

fn write_lossy(f: &mut fmt::Formatter<'_>, cps: impl Iterator<Item = u32>) -> fmt::Result {
    use fmt::Write;
    for cp in cps {
        f.write_char(lossy_char(cp))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// JsString
// ---------------------------------------------------------------------------

/// A JavaScript string value, stored losslessly.
///
/// Representation: WTF-8, i.e. UTF-8 in which a *lone* surrogate code unit
/// (one not part of a valid high/low pair) is encoded like a code point as
/// the three bytes `ED A0..BF 80..BF`. Surrogate pairs are always stored as
/// the 4-byte UTF-8 of the supplementary character, so every JavaScript
/// string has exactly one encoding and equality/hash/order are bytewise.
/// Strings without lone surrogates (all of them in practice) are kept as a
/// plain [`String`], borrowable with [`JsString::as_str`] for free.
///
/// `Display` is lossy (a lone surrogate prints as U+FFFD); use
/// [`JsString::code_units`] for the exact JavaScript view.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct JsString(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// No lone surrogates.
    Utf8(String),
    /// At least one lone surrogate (invariant), WTF-8.
    Wtf8(Vec<u8>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Utf8(String::new())
    }
}

impl JsString {
    /// The empty string.
    pub const fn new() -> Self {
        JsString(Repr::Utf8(String::new()))
    }

    /// An empty string with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        JsString(Repr::Utf8(String::with_capacity(cap)))
    }

    /// Builds a string from UTF-16 code units (lone surrogates kept).
    pub fn from_utf16(units: &[u16]) -> Self {
        let mut s = JsString::with_capacity(units.len());
        for r in char::decode_utf16(units.iter().copied()) {
            match r {
                Ok(c) => s.push_char(c),
                Err(e) => s.push_code_point(u32::from(e.unpaired_surrogate())),
            }
        }
        s
    }

    /// The string as `&str`, or `None` if it holds a lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Utf8(s) => Some(s),
            Repr::Wtf8(_) => None,
        }
    }

    /// The WTF-8 bytes (plain UTF-8 unless [`Self::is_well_formed`] is false).
    pub fn as_wtf8(&self) -> &[u8] {
        match &self.0 {
            Repr::Utf8(s) => s.as_bytes(),
            Repr::Wtf8(b) => b,
        }
    }

    /// `false` if the string holds a lone surrogate.
    pub fn is_well_formed(&self) -> bool {
        matches!(self.0, Repr::Utf8(_))
    }

    /// The `String`, or `Err(self)` if it holds a lone surrogate.
    pub fn into_string(self) -> Result<String, Self> {
        match self.0 {
            Repr::Utf8(s) => Ok(s),
            r @ Repr::Wtf8(_) => Err(JsString(r)),
        }
    }

    /// The string with lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Utf8(s) => Cow::Borrowed(s),
            Repr::Wtf8(b) => {
                let mut s = String::with_capacity(b.len());
                s.extend(CodePoints { bytes: b, pos: 0 }.map(lossy_char));
                Cow::Owned(s)
            }
        }
    }

    /// Length in WTF-8 bytes.
    pub fn len(&self) -> usize {
        self.as_wtf8().len()
    }

    /// `true` for `""`.
    pub fn is_empty(&self) -> bool {
        self.as_wtf8().is_empty()
    }

    /// JavaScript's `length` (UTF-16 code units).
    pub fn len_utf16(&self) -> usize {
        match &self.0 {
            Repr::Utf8(s) => s.chars().map(char::len_utf16).sum(),
            Repr::Wtf8(b) => utf16_len_of(CodePoints { bytes: b, pos: 0 }),
        }
    }

    /// Code points; a lone surrogate comes out as its value (0xD800..=0xDFFF).
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints {
            bytes: self.as_wtf8(),
            pos: 0,
        }
    }

    /// The UTF-16 code units (the JavaScript string).
    pub fn code_units(&self) -> CodeUnits<CodePoints<'_>> {
        CodeUnits {
            inner: self.code_points(),
            pending: None,
        }
    }

    /// Appends a `str`.
    pub fn push_str(&mut self, s: &str) {
        match &mut self.0 {
            Repr::Utf8(o) => o.push_str(s),
            Repr::Wtf8(b) => b.extend_from_slice(s.as_bytes()),
        }
    }

    /// Appends a `char`.
    pub fn push_char(&mut self, c: char) {
        match &mut self.0 {
            Repr::Utf8(o) => o.push(c),
            Repr::Wtf8(b) => {
                let mut buf = [0u8; 4];
                b.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }

    /// Appends a code point or a single UTF-16 surrogate code unit, with
    /// JavaScript concatenation semantics: a low surrogate appended right
    /// after a lone high surrogate joins it into one character. Values above
    /// 0x10FFFF append U+FFFD.
    pub fn push_code_point(&mut self, cp: u32) {
        if let Some(c) = char::from_u32(cp) {
            self.push_char(c);
            return;
        }
        if !(0xD800..0xE000).contains(&cp) {
            self.push_char('\u{FFFD}');
            return;
        }
        if cp >= 0xDC00 {
            if let Repr::Wtf8(b) = &mut self.0 {
                let n = b.len();
                if let Some(&[0xED, b1 @ 0xA0..=0xAF, b2]) = b.get(n.saturating_sub(3)..) {
                    let hi = 0xD000 | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
                    let joined = 0x10000 + ((hi - 0xD800) << 10) + (cp - 0xDC00);
                    b.truncate(n - 3);
                    let mut buf = [0u8; 4];
                    b.extend_from_slice(lossy_char(joined).encode_utf8(&mut buf).as_bytes());
                    self.normalize();
                    return;
                }
            }
        }
        if let Repr::Utf8(s) = &mut self.0 {
            let bytes = core::mem::take(s).into_bytes();
            self.0 = Repr::Wtf8(bytes);
        }
        if let Repr::Wtf8(b) = &mut self.0 {
            b.extend_from_slice(&[
                0xE0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3F) as u8,
                0x80 | (cp & 0x3F) as u8,
            ]);
        }
    }

    /// Restores the invariant "Wtf8 only with a lone surrogate".
    fn normalize(&mut self) {
        if let Repr::Wtf8(b) = &mut self.0 {
            if let Ok(s) = core::str::from_utf8(b) {
                self.0 = Repr::Utf8(String::from(s));
            }
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        JsString(Repr::Utf8(String::from(s)))
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        JsString(Repr::Utf8(s))
    }
}

impl From<char> for JsString {
    fn from(c: char) -> Self {
        let mut s = JsString::new();
        s.push_char(c);
        s
    }
}

impl PartialEq<str> for JsString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for JsString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialOrd for JsString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by code point (surrogates sort as their BMP values).
impl Ord for JsString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_wtf8().cmp(other.as_wtf8())
    }
}

impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Utf8(s) => f.write_str(s),
            Repr::Wtf8(_) => write_lossy(f, self.code_points()),
        }
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_js_string(&mut s, self);
        f.write_str(&s)
    }
}

// ---------------------------------------------------------------------------
// JsValue / JsObject
// ---------------------------------------------------------------------------

/// The result of `JSON.parse` (and the input of `JSON.stringify`).
///
/// `PartialEq` is structural with `f64` equality (`NaN != NaN`, `-0 == 0`).
#[derive(Clone, Debug, PartialEq)]
pub enum JsValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Any number (`Infinity` from `1e400`; `-0.0` kept).
    Number(f64),
    /// A string (lone surrogates kept, see [`JsString`]).
    String(JsString),
    /// An array.
    Array(Vec<JsValue>),
    /// An object, keys in JavaScript property order.
    Object(JsObject),
}

/// A JSON object: own properties in JavaScript order (array-index keys
/// ascending, then the others in insertion order), no duplicate keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsObject {
    entries: Vec<(JsString, JsValue)>,
}

/// The array index a property key denotes (canonical decimal `0..=2^32-2`).
fn array_index(key: &[u8]) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key.first() == Some(&b'0')) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in key {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    if v <= 0xFFFF_FFFE {
        Some(v as u32)
    } else {
        None
    }
}

impl JsObject {
    /// An empty object.
    pub const fn new() -> Self {
        JsObject {
            entries: Vec::new(),
        }
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` without properties.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The properties in order.
    pub fn entries(&self) -> &[(JsString, JsValue)] {
        &self.entries
    }

    /// Iterates over `(key, value)` in order.
    pub fn iter(&self) -> core::slice::Iter<'_, (JsString, JsValue)> {
        self.entries.iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &JsString> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&JsValue> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of `key` (any JavaScript string), if present.
    pub fn get_js(&self, key: &JsString) -> Option<&JsValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Mutable access to the value of `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut JsValue> {
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// `obj[key] = value`: an existing key keeps its position and gets the
    /// new value (the old one is returned); a new array-index key goes to its
    /// numeric place, any other new key to the end.
    pub fn insert(&mut self, key: impl Into<JsString>, value: JsValue) -> Option<JsValue> {
        let key = key.into();
        if let Some((_, v)) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            return Some(core::mem::replace(v, value));
        }
        match array_index(key.as_wtf8()) {
            Some(idx) => {
                let pos = self
                    .entries
                    .iter()
                    .position(|(k, _)| !matches!(array_index(k.as_wtf8()), Some(j) if j <= idx))
                    .unwrap_or(self.entries.len());
                self.entries.insert(pos, (key, value));
            }
            None => self.entries.push((key, value)),
        }
        None
    }

    /// `delete obj[key]`; returns the removed value.
    pub fn remove(&mut self, key: &str) -> Option<JsValue> {
        let pos = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.remove(pos).1)
    }

    /// Builds the object `JSON.parse` makes from the members in source
    /// order: duplicates collapse (first position, last value), then array
    /// indices move to the front in ascending order.
    fn from_members(members: Vec<(JsString, JsValue)>) -> Self {
        let n = members.len();
        let mut entries = if n <= 1 {
            members
        } else if n <= 8 {
            let mut out: Vec<(JsString, JsValue)> = Vec::with_capacity(n);
            for (k, v) in members {
                match out.iter_mut().find(|(ek, _)| *ek == k) {
                    Some(e) => e.1 = v,
                    None => out.push((k, v)),
                }
            }
            out
        } else {
            // first_of[i]: index of the first member with the same key as i.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| {
                let ka = members.get(a).map(|e| e.0.as_wtf8());
                let kb = members.get(b).map(|e| e.0.as_wtf8());
                ka.cmp(&kb) // stable: equal keys stay in source order
            });
            let mut first_of: Vec<usize> = (0..n).collect();
            let mut g = 0;
            while g < n {
                let first = order.get(g).copied().unwrap_or(0);
                let key = members.get(first).map(|e| e.0.as_wtf8());
                let mut h = g + 1;
                while let Some(&m) = order.get(h) {
                    if members.get(m).map(|e| e.0.as_wtf8()) != key {
                        break;
                    }
                    if let Some(f) = first_of.get_mut(m) {
                        *f = first;
                    }
                    h += 1;
                }
                g = h;
            }
            let mut out_pos: Vec<usize> = alloc::vec![usize::MAX; n];
            let mut out: Vec<(JsString, JsValue)> = Vec::with_capacity(n);
            for (i, (k, v)) in members.into_iter().enumerate() {
                let f = first_of.get(i).copied().unwrap_or(i);
                if f == i {
                    if let Some(p) = out_pos.get_mut(i) {
                        *p = out.len();
                    }
                    out.push((k, v));
                } else if let Some(e) = out_pos.get(f).and_then(|&p| out.get_mut(p)) {
                    e.1 = v;
                }
            }
            out
        };
        if entries
            .iter()
            .any(|(k, _)| array_index(k.as_wtf8()).is_some())
        {
            // Stable: non-index keys keep their insertion order.
            entries
                .sort_by_cached_key(|(k, _)| array_index(k.as_wtf8()).map_or(u64::MAX, u64::from));
        }
        JsObject { entries }
    }
}

impl<'a> IntoIterator for &'a JsObject {
    type Item = &'a (JsString, JsValue);
    type IntoIter = core::slice::Iter<'a, (JsString, JsValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl JsValue {
    /// `JSON.parse(bytes.toString('utf8'))`; see [`parse`].
    pub fn parse(bytes: &[u8]) -> Result<JsValue, JsonError> {
        parse(bytes)
    }

    /// `JSON.stringify(self)`.
    pub fn stringify(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends `JSON.stringify(self)` to `out` (no whitespace, keys in
    /// stored order, V8's string escaping, `Number#toString` numbers with
    /// `null` for non-finite ones). Iterative: no recursion.
    pub fn write_json(&self, out: &mut String) {
        enum Frame<'v> {
            Arr(core::slice::Iter<'v, JsValue>, bool),
            Obj(core::slice::Iter<'v, (JsString, JsValue)>, bool),
        }
        let mut stack: Vec<Frame<'_>> = Vec::new();
        let mut cur = Some(self);
        loop {
            if let Some(v) = cur.take() {
                match v {
                    JsValue::Null => out.push_str("null"),
                    JsValue::Bool(true) => out.push_str("true"),
                    JsValue::Bool(false) => out.push_str("false"),
                    JsValue::Number(n) => write_number(out, *n),
                    JsValue::String(s) => write_js_string(out, s),
                    JsValue::Array(a) => {
                        out.push('[');
                        stack.push(Frame::Arr(a.iter(), true));
                    }
                    JsValue::Object(o) => {
                        out.push('{');
                        stack.push(Frame::Obj(o.entries.iter(), true));
                    }
                }
            }
            match stack.last_mut() {
                None => return,
                Some(Frame::Arr(it, first)) => match it.next() {
                    Some(v) => {
                        if !core::mem::replace(first, false) {
                            out.push(',');
                        }
                        cur = Some(v);
                    }
                    None => {
                        out.push(']');
                        stack.pop();
                    }
                },
                Some(Frame::Obj(it, first)) => match it.next() {
                    Some((k, v)) => {
                        if !core::mem::replace(first, false) {
                            out.push(',');
                        }
                        write_js_string(out, k);
                        out.push(':');
                        cur = Some(v);
                    }
                    None => {
                        out.push('}');
                        stack.pop();
                    }
                },
            }
        }
    }

    /// The JavaScript type name; see [`js_type_name`].
    pub fn type_name(&self) -> &'static str {
        js_type_name(self)
    }

    /// `true` for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, JsValue::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            JsValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string, if this is one without lone surrogates.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsValue::String(s) => s.as_str(),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_js_string(&self) -> Option<&JsString> {
        match self {
            JsValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[JsValue]> {
        match self {
            JsValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&JsObject> {
        match self {
            JsValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// `self[key]` if this is an object holding `key`.
    pub fn get(&self, key: &str) -> Option<&JsValue> {
        self.as_object()?.get(key)
    }
}

impl From<bool> for JsValue {
    fn from(b: bool) -> Self {
        JsValue::Bool(b)
    }
}

impl From<f64> for JsValue {
    fn from(n: f64) -> Self {
        JsValue::Number(n)
    }
}

impl From<&str> for JsValue {
    fn from(s: &str) -> Self {
        JsValue::String(s.into())
    }
}

impl From<String> for JsValue {
    fn from(s: String) -> Self {
        JsValue::String(s.into())
    }
}

impl From<JsString> for JsValue {
    fn from(s: JsString) -> Self {
        JsValue::String(s)
    }
}

impl From<Vec<JsValue>> for JsValue {
    fn from(a: Vec<JsValue>) -> Self {
        JsValue::Array(a)
    }
}

impl From<JsObject> for JsValue {
    fn from(o: JsObject) -> Self {
        JsValue::Object(o)
    }
}

pub(crate) fn write_number(out: &mut String, n: f64) {
    if n.is_finite() {
        out.push_str(ryu_js::Buffer::new().format_finite(n));
    } else {
        out.push_str("null");
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// V8's JSON.stringify escaping of well-formed text (without the quotes).
pub(crate) fn escape_str(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0C => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or(""));
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
}

/// Writes a string literal as `JSON.stringify` does.
fn write_js_string(out: &mut String, s: &JsString) {
    out.push('"');
    match &s.0 {
        Repr::Utf8(s) => escape_str(out, s),
        Repr::Wtf8(b) => {
            let mut start = 0;
            let mut i = 0;
            while i < b.len() {
                if b.get(i) == Some(&0xED) && b.get(i + 1).is_some_and(|&c| c >= 0xA0) {
                    if let Some(run) = b.get(start..i) {
                        escape_str(out, core::str::from_utf8(run).unwrap_or("\u{FFFD}"));
                    }
                    let (cp, _) = decode_wtf8_at(b, i);
                    out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(char::from(HEX[((cp >> shift) & 0xF) as usize]));
                    }
                    i += 3;
                    start = i;
                } else {
                    i += 1;
                }
            }
            if let Some(run) = b.get(start..) {
                escape_str(out, core::str::from_utf8(run).unwrap_or("\u{FFFD}"));
            }
        }
    }
    out.push('"');
}

/// `({}).toString.call(v).slice(8, -1).toLowerCase()`: "null", "boolean",
/// "number", "string", "array" or "object".
pub fn js_type_name(v: &JsValue) -> &'static str {
    match v {
        JsValue::Null => "null",
        JsValue::Bool(_) => "boolean",
        JsValue::Number(_) => "number",
        JsValue::String(_) => "string",
        JsValue::Array(_) => "array",
        JsValue::Object(_) => "object",
    }
}

/// ECMAScript ToInt32 of a Number: NaN and ±Infinity give 0, otherwise the
/// value truncated toward zero, modulo 2^32, as a signed 32-bit integer.
pub fn js_to_int32(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    // 2^63: below it the saturating cast truncates exactly.
    if n.abs() < 9_223_372_036_854_775_808.0 {
        return (n as i64) as i32;
    }
    // |n| >= 2^63: an integer m * 2^e with e >= 11.
    let bits = n.to_bits();
    let e = ((bits >> 52) & 0x7FF) as i32 - 1075;
    if e >= 32 {
        return 0;
    }
    let m = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let low = (m << e) as u32; // e in 11..32, m < 2^53: no overflow past u64
    let low = if n < 0.0 { low.wrapping_neg() } else { low };
    low as i32
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

/// A string as it appears in the JSON text: the raw bytes between the
/// quotes (escapes and ill-formed UTF-8 left as they are), decoded lazily
/// without allocating.
///
/// Decoding follows `JSON.parse(buf.toString('utf8'))`: ill-formed UTF-8
/// becomes U+FFFD (per maximal subpart), escapes are resolved, and a
/// `\uD8xx\uDCxx` escape pair is one supplementary character.
/// Equality (`==`) compares decoded values.
#[derive(Clone, Copy, Debug)]
pub struct JsStr<'a> {
    raw: &'a [u8],
    escaped: bool,
    non_ascii: bool,
}

impl<'a> JsStr<'a> {
    /// The raw bytes between the quotes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The text borrowed from the input when it needs no decoding (no
    /// escapes, well-formed UTF-8).
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped {
            return None;
        }
        core::str::from_utf8(self.raw).ok()
    }

    /// Decoded code points; a lone surrogate (from a `\uXXXX` escape) comes
    /// out as its value 0xD800..=0xDFFF.
    pub fn code_points(&self) -> RawCodePoints<'a> {
        RawCodePoints {
            raw: self.raw,
            pos: 0,
        }
    }

    /// Decoded characters; a lone surrogate comes out as U+FFFD (use
    /// [`Self::code_points`] or [`Self::code_units`] to see it).
    pub fn chars(&self) -> impl Iterator<Item = char> + 'a {
        self.code_points().map(lossy_char)
    }

    /// Decoded UTF-16 code units: exactly the JavaScript string.
    pub fn code_units(&self) -> CodeUnits<RawCodePoints<'a>> {
        CodeUnits {
            inner: self.code_points(),
            pending: None,
        }
    }

    /// `true` if the decoded value equals `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            if self.raw == s.as_bytes() {
                return true;
            }
            if !self.non_ascii {
                return false;
            }
        }
        self.code_points().eq(s.chars().map(u32::from))
    }

    /// `true` if the decoded value equals `s`.
    pub fn eq_js(&self, s: &JsString) -> bool {
        if !self.escaped && self.raw == s.as_wtf8() {
            return true;
        }
        self.code_points().eq(s.code_points())
    }

    /// JavaScript's `length` of the decoded string (UTF-16 code units).
    pub fn len_utf16(&self) -> usize {
        if !self.escaped && !self.non_ascii {
            return self.raw.len();
        }
        utf16_len_of(self.code_points())
    }

    /// `true` for `""`.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The decoded value, allocated (lossless).
    pub fn to_js_string(&self) -> JsString {
        if !self.escaped {
            if let Ok(s) = core::str::from_utf8(self.raw) {
                return JsString::from(s);
            }
        }
        let mut out = JsString::with_capacity(self.raw.len());
        let mut i = 0;
        while i < self.raw.len() {
            // Copy runs of plain ASCII at once.
            let run = self
                .raw
                .get(i..)
                .unwrap_or(&[])
                .iter()
                .take_while(|&&b| b < 0x80 && b != b'\\')
                .count();
            if run > 0 {
                if let Some(s) = self
                    .raw
                    .get(i..i + run)
                    .and_then(|r| core::str::from_utf8(r).ok())
                {
                    out.push_str(s);
                }
                i += run;
                continue;
            }
            let (cp, len) = if self.raw.get(i) == Some(&b'\\') {
                decode_escape_at(self.raw, i)
            } else {
                decode_utf8_at(self.raw, i)
            };
            out.push_code_point(cp);
            i += len;
        }
        out
    }
}

impl PartialEq for JsStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.raw == other.raw {
            return true;
        }
        if !self.escaped && !other.escaped && !self.non_ascii && !other.non_ascii {
            return false;
        }
        self.code_points().eq(other.code_points())
    }
}

/// Lossy (lone surrogates as U+FFFD); gives `to_string()`.
impl fmt::Display for JsStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => write_lossy(f, self.code_points()),
        }
    }
}

/// One event of the [`Tokenizer`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'a> {
    /// `{`
    ObjectStart,
    /// `}`
    ObjectEnd,
    /// `[`
    ArrayStart,
    /// `]`
    ArrayEnd,
    /// An object key (its `:` is consumed with it).
    Key(JsStr<'a>),
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, converted like `JSON.parse`.
    Number(f64),
    /// A string value.
    Str(JsStr<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A value must come next.
    Value,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a complete value: `,`, a closer, or the end of input.
    AfterValue,
    /// The top-level value and trailing whitespace are consumed.
    Done,
    /// A syntax error was reported; it is reported again.
    Failed(JsonError),
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero iff some byte of `x` is `"`, `\` or < 0x20.
#[inline]
fn swar_special(x: u64) -> u64 {
    let q = x ^ (ONES * u64::from(b'"'));
    let bs = x ^ (ONES * u64::from(b'\\'));
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    has_zero(q) | has_zero(bs) | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
}

/// A pull tokenizer over a JSON text that never allocates.
///
/// It accepts exactly what [`parse`] accepts (which is built on it): the
/// `JSON.parse` grammar over bytes decoded as Node decodes them, at most
/// [`MAX_DEPTH`] levels deep (tracked in a fixed bitset), and nothing but
/// whitespace after the top-level value.
///
/// [`Tokenizer::next_token`] returns the next event and reports an error
/// for trailing data as soon as the top-level value is complete and asked
/// for more; [`Tokenizer::finish`] consumes (and validates) everything left.
/// As an [`Iterator`] it yields `Ok` tokens, then `None` at the clean end,
/// or one `Err` and then `None`. After an error the tokenizer is poisoned:
/// `next_token` keeps returning that error.
#[derive(Clone, Debug)]
pub struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    /// Bit `d` set: level `d` (0-based) is an object, else an array.
    kinds: [u64; MAX_DEPTH / 64],
    state: State,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over one JSON text.
    pub const fn new(src: &'a [u8]) -> Self {
        Tokenizer {
            src,
            pos: 0,
            depth: 0,
            kinds: [0; MAX_DEPTH / 64],
            state: State::Value,
        }
    }

    /// Byte offset of the next unread byte (whitespace included).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Number of open arrays/objects.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `true` once the top-level value and the trailing whitespace have been
    /// consumed without error.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next token. After the top-level value is complete, this checks
    /// the rest of the input and returns [`JsonErrorKind::TrailingData`] or,
    /// at a clean end, [`JsonErrorKind::NoMoreTokens`].
    pub fn next_token(&mut self) -> Result<Token<'a>, JsonError> {
        match self.advance(true)? {
            Some(t) => Ok(t),
            None => Err(JsonError::new(JsonErrorKind::NoMoreTokens, self.pos)),
        }
    }

    /// Validates everything that is left (without converting numbers) and
    /// checks that only whitespace follows the top-level value.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        while self.advance(false)?.is_some() {}
        Ok(())
    }

    /// Skips the value that comes next (a scalar or a whole array/object),
    /// validating it. If no value comes next (a key, a closer, the end),
    /// returns [`JsonErrorKind::NotAValue`] and consumes nothing.
    pub fn skip_value(&mut self) -> Result<(), JsonError> {
        match self.state {
            State::Value => {}
            State::ArrayFirst => {
                self.skip_ws();
                if self.src.get(self.pos) == Some(&b']') {
                    return Err(JsonError::new(JsonErrorKind::NotAValue, self.pos));
                }
            }
            State::Failed(e) => return Err(e),
            _ => return Err(JsonError::new(JsonErrorKind::NotAValue, self.pos)),
        }
        let depth = self.depth;
        match self.advance(false)? {
            Some(Token::ObjectStart | Token::ArrayStart) => {
                while self.depth > depth {
                    if self.advance(false)?.is_none() {
                        return Err(JsonError::new(JsonErrorKind::UnexpectedEnd, self.pos));
                    }
                }
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(JsonError::new(JsonErrorKind::UnexpectedEnd, self.pos)),
        }
    }

    /// Skips, validating, to the end of the innermost open array/object,
    /// consuming its closer (use after `ObjectStart`/`ArrayStart` or inside
    /// a container). Outside any container returns
    /// [`JsonErrorKind::NotAValue`] and consumes nothing.
    pub fn skip_rest_of_container(&mut self) -> Result<(), JsonError> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        if self.depth == 0 {
            return Err(JsonError::new(JsonErrorKind::NotAValue, self.pos));
        }
        let target = self.depth - 1;
        while self.depth > target {
            if self.advance(false)?.is_none() {
                return Err(JsonError::new(JsonErrorKind::UnexpectedEnd, self.pos));
            }
        }
        Ok(())
    }

    #[inline]
    fn fail(&mut self, kind: JsonErrorKind, offset: usize) -> JsonError {
        let e = JsonError::new(kind, offset);
        self.state = State::Failed(e);
        e
    }

    #[inline]
    fn unexpected(&mut self, at: usize) -> JsonError {
        match self.src.get(at) {
            Some(&b) => self.fail(JsonErrorKind::UnexpectedByte(b), at),
            None => self.fail(JsonErrorKind::UnexpectedEnd, at),
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn top_is_object(&self) -> bool {
        let d = self.depth.wrapping_sub(1);
        self.kinds
            .get(d / 64)
            .is_some_and(|w| (w >> (d % 64)) & 1 == 1)
    }

    #[inline]
    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        let d = self.depth;
        let Some(w) = self.kinds.get_mut(d / 64) else {
            return Err(self.fail(JsonErrorKind::TooDeep, self.pos));
        };
        if object {
            *w |= 1 << (d % 64);
        } else {
            *w &= !(1 << (d % 64));
        }
        self.depth += 1;
        Ok(())
    }

    /// The state machine. `numbers`: convert numbers to `f64` (skipping
    /// does not need them; they come out as NaN then).
    fn advance(&mut self, numbers: bool) -> Result<Option<Token<'a>>, JsonError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Failed(e) => return Err(e),
                State::Value => {
                    self.skip_ws();
                    return self.value(numbers).map(Some);
                }
                State::AfterValue => {
                    self.skip_ws();
                    if self.depth == 0 {
                        if self.pos >= self.src.len() {
                            self.state = State::Done;
                            return Ok(None);
                        }
                        return Err(self.fail(JsonErrorKind::TrailingData, self.pos));
                    }
                    let object = self.top_is_object();
                    match self.src.get(self.pos) {
                        Some(b',') => {
                            self.pos += 1;
                            self.state = if object { State::Key } else { State::Value };
                        }
                        Some(b']') if !object => {
                            self.pos += 1;
                            self.depth -= 1;
                            return Ok(Some(Token::ArrayEnd));
                        }
                        Some(b'}') if object => {
                            self.pos += 1;
                            self.depth -= 1;
                            return Ok(Some(Token::ObjectEnd));
                        }
                        _ => return Err(self.unexpected(self.pos)),
                    }
                }
                State::ArrayFirst => {
                    self.skip_ws();
                    if self.src.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        self.depth -= 1;
                        self.state = State::AfterValue;
                        return Ok(Some(Token::ArrayEnd));
                    }
                    self.state = State::Value;
                }
                State::ObjectFirst => {
                    self.skip_ws();
                    if self.src.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        self.depth -= 1;
                        self.state = State::AfterValue;
                        return Ok(Some(Token::ObjectEnd));
                    }
                    self.state = State::Key;
                }
                State::Key => {
                    self.skip_ws();
                    if self.src.get(self.pos) != Some(&b'"') {
                        return Err(self.unexpected(self.pos));
                    }
                    let s = self.string()?;
                    self.skip_ws();
                    if self.src.get(self.pos) != Some(&b':') {
                        return Err(self.unexpected(self.pos));
                    }
                    self.pos += 1;
                    self.state = State::Value;
                    return Ok(Some(Token::Key(s)));
                }
            }
        }
    }

    /// A value at `self.pos` (whitespace already skipped).
    #[inline]
    fn value(&mut self, numbers: bool) -> Result<Token<'a>, JsonError> {
        let start = self.pos;
        let token = match self.src.get(start) {
            Some(b'{') => {
                self.push(true)?;
                self.pos += 1;
                self.state = State::ObjectFirst;
                return Ok(Token::ObjectStart);
            }
            Some(b'[') => {
                self.push(false)?;
                self.pos += 1;
                self.state = State::ArrayFirst;
                return Ok(Token::ArrayStart);
            }
            Some(b'"') => Token::Str(self.string()?),
            Some(b't') => {
                self.literal(b"true")?;
                Token::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Token::Bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Token::Null
            }
            Some(b'-' | b'0'..=b'9') => self.number(numbers)?,
            _ => return Err(self.unexpected(start)),
        };
        self.state = State::AfterValue;
        Ok(token)
    }

    fn literal(&mut self, lit: &'static [u8]) -> Result<(), JsonError> {
        let start = self.pos;
        if self.src.get(start..start + lit.len()) == Some(lit) {
            self.pos += lit.len();
            return Ok(());
        }
        for (k, &want) in lit.iter().enumerate() {
            if self.src.get(start + k) != Some(&want) {
                return Err(self.unexpected(start + k));
            }
        }
        Err(self.unexpected(start + lit.len()))
    }

    fn number(&mut self, convert: bool) -> Result<Token<'a>, JsonError> {
        let src = self.src;
        let start = self.pos;
        let mut i = start;
        let digits = |mut i: usize| {
            while src.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        if src.get(i) == Some(&b'-') {
            i += 1;
        }
        match src.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return Err(self.fail(JsonErrorKind::InvalidNumber, i)),
        }
        let int_end = i;
        if src.get(i) == Some(&b'.') {
            if !src.get(i + 1).is_some_and(u8::is_ascii_digit) {
                return Err(self.fail(JsonErrorKind::InvalidNumber, i + 1));
            }
            i = digits(i + 1);
        }
        if let Some(b'e' | b'E') = src.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = src.get(i) {
                i += 1;
            }
            if !src.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(self.fail(JsonErrorKind::InvalidNumber, i));
            }
            i = digits(i);
        }
        self.pos = i;
        if !convert {
            return Ok(Token::Number(f64::NAN));
        }
        let text = src.get(start..i).unwrap_or(b"");
        Ok(Token::Number(number_value(text, int_end == i)))
    }

    /// A string starting at the quote at `self.pos`.
    fn string(&mut self) -> Result<JsStr<'a>, JsonError> {
        let src = self.src;
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        let mut high: u64 = 0;
        loop {
            // Eight plain bytes at a time.
            while let Some(chunk) = src.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let x = u64::from_le_bytes(w);
                if swar_special(x) != 0 {
                    break;
                }
                high |= x;
                i += 8;
            }
            let Some(&b) = src.get(i) else {
                return Err(self.fail(JsonErrorKind::UnexpectedEnd, i));
            };
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(JsStr {
                        raw: src.get(start..i).unwrap_or(b""),
                        escaped,
                        non_ascii: high & HIGHS != 0,
                    });
                }
                b'\\' => {
                    escaped = true;
                    match src.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            for k in 2..6 {
                                match src.get(i + k) {
                                    Some(&h) if h.is_ascii_hexdigit() => {}
                                    Some(_) => {
                                        return Err(self.fail(JsonErrorKind::InvalidEscape, i + k))
                                    }
                                    None => {
                                        return Err(self.fail(JsonErrorKind::UnexpectedEnd, i + k))
                                    }
                                }
                            }
                            i += 6;
                        }
                        Some(_) => return Err(self.fail(JsonErrorKind::InvalidEscape, i + 1)),
                        None => return Err(self.fail(JsonErrorKind::UnexpectedEnd, i + 1)),
                    }
                }
                0x00..=0x1F => return Err(self.fail(JsonErrorKind::ControlCharacter(b), i)),
                _ => {
                    high |= u64::from(b);
                    i += 1;
                }
            }
        }
    }
}

/// The `f64` of a number literal already checked against the grammar.
#[inline]
fn number_value(text: &[u8], integer: bool) -> f64 {
    let (neg, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if integer && digits.len() <= 15 {
        // Exact in f64 (< 2^53).
        let mut v: u64 = 0;
        for &d in digits {
            v = v * 10 + u64::from(d.wrapping_sub(b'0') % 10);
        }
        let f = v as f64;
        return if neg { -f } else { f };
    }
    core::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Token<'a>, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let State::Failed(_) = self.state {
            return None;
        }
        self.advance(true).transpose()
    }
}

impl core::iter::FusedIterator for Tokenizer<'_> {}

/// Checks that `bytes` is a JSON text `JSON.parse` accepts (within
/// [`MAX_DEPTH`]), without allocating.
pub fn validate(bytes: &[u8]) -> Result<(), JsonError> {
    Tokenizer::new(bytes).finish()
}

// ---------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------

/// `JSON.parse(Buffer.from(bytes).toString('utf8'))` as in Node 20, except
/// that nesting deeper than [`MAX_DEPTH`] is an error. Builds the tree with
/// an explicit stack (no recursion).
pub fn parse(bytes: &[u8]) -> Result<JsValue, JsonError> {
    enum Frame {
        Array(Vec<JsValue>),
        Object(Vec<(JsString, JsValue)>, Option<JsString>),
    }
    let mut tok = Tokenizer::new(bytes);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let value = match tok.next_token()? {
            Token::ObjectStart => {
                stack.push(Frame::Object(Vec::new(), None));
                continue;
            }
            Token::ArrayStart => {
                stack.push(Frame::Array(Vec::new()));
                continue;
            }
            Token::Key(k) => {
                if let Some(Frame::Object(_, slot)) = stack.last_mut() {
                    *slot = Some(k.to_js_string());
                }
                continue;
            }
            Token::ObjectEnd => match stack.pop() {
                Some(Frame::Object(members, _)) => JsValue::Object(JsObject::from_members(members)),
                _ => {
                    return Err(JsonError::new(
                        JsonErrorKind::UnexpectedByte(b'}'),
                        tok.offset(),
                    ))
                }
            },
            Token::ArrayEnd => match stack.pop() {
                Some(Frame::Array(items)) => JsValue::Array(items),
                _ => {
                    return Err(JsonError::new(
                        JsonErrorKind::UnexpectedByte(b']'),
                        tok.offset(),
                    ))
                }
            },
            Token::Null => JsValue::Null,
            Token::Bool(b) => JsValue::Bool(b),
            Token::Number(n) => JsValue::Number(n),
            Token::Str(s) => JsValue::String(s.to_js_string()),
        };
        match stack.last_mut() {
            None => {
                tok.finish()?;
                return Ok(value);
            }
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object(members, key)) => {
                if let Some(k) = key.take() {
                    members.push((k, value));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn rt(s: &str) -> String {
        parse(s.as_bytes()).unwrap().stringify()
    }

    fn rtb(b: &[u8]) -> Option<String> {
        parse(b).ok().map(|v| v.stringify())
    }

    fn kind(b: &[u8]) -> JsonErrorKind {
        parse(b).unwrap_err().kind()
    }

    #[test]
    fn scalars() {
        assert_eq!(parse(b"null").unwrap(), JsValue::Null);
        assert_eq!(parse(b" true ").unwrap(), JsValue::Bool(true));
        assert_eq!(parse(b"false").unwrap(), JsValue::Bool(false));
        assert_eq!(parse(b"\"hi\"").unwrap(), JsValue::from("hi"));
        assert_eq!(parse(b"12").unwrap(), JsValue::Number(12.0));
        assert_eq!(rt("\t\n\r [ 1 , 2 ]\r\n"), "[1,2]");
    }

    #[test]
    fn numbers() {
        let cases = [
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("1e-7", "1e-7"),
            ("1e-6", "0.000001"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("123456789012345680000", "123456789012345680000"),
            ("123456789012345678901", "123456789012345680000"),
            ("-0", "0"),
            ("-0.0e5", "0"),
            ("5e-324", "5e-324"),
            ("2e-324", "0"),
            ("1e400", "null"),
            ("-1e400", "null"),
            ("9007199254740993", "9007199254740992"),
            ("1.5E+3", "1500"),
            ("123456789012345", "123456789012345"),
            ("-123456789012345", "-123456789012345"),
            ("1234567890123456789", "1234567890123456800"),
        ];
        for (i, o) in cases {
            assert_eq!(rt(i), o, "{i}");
        }
        let n = parse(b"-0").unwrap().as_f64().unwrap();
        assert!(n == 0.0 && n.is_sign_negative());
        assert_eq!(parse(b"1e400").unwrap().as_f64(), Some(f64::INFINITY));
        assert_eq!(JsValue::Number(f64::NAN).stringify(), "null");
        assert_eq!(
            JsValue::Number(0.1 + 0.2).stringify(),
            "0.30000000000000004"
        );
        for bad in [
            "-", "+1", "01", "-01", "1.", ".1", "1e", "1e+", "1.e1", "0x1", "1ee1", "--1",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals_and_grammar() {
        for bad in [
            "",
            " ",
            "nul",
            "truee",
            "True",
            "NaN",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{,}",
            "{a:1}",
            "{'a':1}",
            "'a'",
            "[1 2]",
            "1 2",
            "{}x",
            "[]]",
            "\u{c}1",
            "\u{b}1",
            "\u{a0}1",
            "\u{feff}1",
            "\"\\a\"",
            "\"\\x41\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"abc",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
            assert!(validate(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(kind(b""), JsonErrorKind::UnexpectedEnd);
        assert_eq!(kind(b"{}x"), JsonErrorKind::TrailingData);
        assert_eq!(kind(b"\"a\x01\""), JsonErrorKind::ControlCharacter(1));
        assert_eq!(kind(b"\"\\q\""), JsonErrorKind::InvalidEscape);
        assert_eq!(kind(b"[01]"), JsonErrorKind::UnexpectedByte(b'1'));
        assert_eq!(kind(b"\xEF\xBB\xBF{}"), JsonErrorKind::UnexpectedByte(0xEF));
        assert_eq!(parse(b"[1,]").unwrap_err().offset(), 3);
        assert_eq!(parse(b"{\"a\":tru}").unwrap_err().offset(), 8);
    }

    #[test]
    fn strings_escape_like_v8() {
        assert_eq!(rt(r#""\b\f\n\r\t\/\\\"""#), r#""\b\f\n\r\t/\\\"""#);
        assert_eq!(rt(r#""\u0000\u001f\u007f""#), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(rt(r#""\u2028\u2029""#), "\"\u{2028}\u{2029}\"");
        assert_eq!(rt(r#""\u00E9\u00e9""#), "\"éé\"");
        // Pairs join, lone surrogates stay (and print as lower-case escapes).
        assert_eq!(rt(r#""\uD83D\uDE00""#), "\"😀\"");
        assert_eq!(rt(r#""\uD83D""#), r#""\ud83d""#);
        assert_eq!(rt(r#""\uDE00\uD83D""#), r#""\ude00\ud83d""#);
        assert_eq!(rt(r#""a\uD83Dx\uDC00""#), r#""a\ud83dx\udc00""#);
        assert_eq!(rt(r#""\ud83d\ud83d\ude00""#), "\"\\ud83d😀\"");
        let v = parse(br#""\ud800""#).unwrap();
        let s = v.as_js_string().unwrap();
        assert!(!s.is_well_formed());
        assert_eq!(s.as_str(), None);
        assert_eq!(s.code_units().collect::<Vec<_>>(), vec![0xD800]);
        assert_eq!(s.len_utf16(), 1);
        assert_eq!(s.to_string_lossy(), "\u{FFFD}");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_per_maximal_subpart() {
        let cases: &[(&[u8], &str)] = &[
            (b"\"\xFF\"", "\u{FFFD}"),
            (b"\"\xC0\x80\"", "\u{FFFD}\u{FFFD}"),
            (b"\"\xE0\x80\x80\"", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\"\xE0\xA0\"", "\u{FFFD}"),
            (b"\"\xED\xA0\x80\"", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\"\xF0\x90\x80\"", "\u{FFFD}"),
            (b"\"\xF4\x90\x80\x80\"", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\"\xE1\x80A\"", "\u{FFFD}A"),
            (b"\"\xC3\xA9\xC3\"", "é\u{FFFD}"),
            (b"\"\xF0\x9F\x98\x80\"", "😀"),
        ];
        for (input, want) in cases {
            let v = parse(input).unwrap();
            assert_eq!(v.as_str(), Some(*want), "{input:?}");
            let mut t = Tokenizer::new(input);
            let Token::Str(s) = t.next_token().unwrap() else {
                panic!()
            };
            assert!(s.eq_str(want));
            assert_eq!(s.to_string(), *want);
            assert_eq!(s.len_utf16(), want.encode_utf16().count());
        }
        // Outside strings: a syntax error.
        assert!(parse(b"[\xFF]").is_err());
        // A lead byte never swallows the closing quote.
        assert_eq!(parse(b"\"\xC3\"").unwrap().as_str(), Some("\u{FFFD}"));
    }

    #[test]
    fn object_order_and_duplicates() {
        assert_eq!(rt(r#"{"b":1,"a":2}"#), r#"{"b":1,"a":2}"#);
        assert_eq!(rt(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
        assert_eq!(
            rt(r#"{"1":1,"0":0,"a":2,"10":3,"2":4}"#),
            r#"{"0":0,"1":1,"2":4,"10":3,"a":2}"#
        );
        assert_eq!(
            rt(r#"{"x":0,"4294967295":2,"4294967294":1,"01":3,"-0":4}"#),
            r#"{"4294967294":1,"x":0,"4294967295":2,"01":3,"-0":4}"#
        );
        assert_eq!(rt(r#"{"__proto__":{"x":1}}"#), r#"{"__proto__":{"x":1}}"#);
        assert_eq!(rt(r#"{"\u0030":1,"a":2,"0":3}"#), r#"{"0":3,"a":2}"#);
        // Both keys decode to U+FFFD.
        assert_eq!(rtb(b"{\"\xFF\":1,\"\xFE\":2}").unwrap(), "{\"\u{FFFD}\":2}");
        // The sort-based path (more than 8 members).
        let mut text = String::from("{");
        for i in 0..30 {
            if i > 0 {
                text.push(',');
            }
            let key = match i % 5 {
                0 => alloc::format!("d{}", i % 3),
                1 => alloc::format!("{}", 40 - i),
                _ => alloc::format!("k{i}"),
            };
            text.push_str(&alloc::format!("\"{key}\":{i}"));
        }
        text.push('}');
        let v = parse(text.as_bytes()).unwrap();
        let o = v.as_object().unwrap();
        // Compare against the obvious quadratic algorithm.
        let mut want = JsObject::new();
        for (k, val) in text
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .map(|m| m.split_once(':').unwrap())
        {
            want.insert(k.trim_matches('"'), parse(val.as_bytes()).unwrap());
        }
        assert_eq!(o, &want);
        assert_eq!(o.get("d0"), Some(&JsValue::Number(15.0)));
        // From node.
        assert_eq!(
            v.stringify(),
            r#"{"14":26,"19":21,"24":16,"29":11,"34":6,"39":1,"d0":15,"k2":2,"k3":3,"k4":4,"d2":20,"k7":7,"k8":8,"k9":9,"d1":25,"k12":12,"k13":13,"k14":14,"k17":17,"k18":18,"k19":19,"k22":22,"k23":23,"k24":24,"k27":27,"k28":28,"k29":29}"#
        );
    }

    #[test]
    fn object_api() {
        let mut o = JsObject::new();
        o.insert("b", 1.0.into());
        o.insert("5", 2.0.into());
        o.insert("a", 3.0.into());
        o.insert("1", 4.0.into());
        assert_eq!(o.insert("b", 5.0.into()), Some(JsValue::Number(1.0)));
        let v = JsValue::Object(o.clone());
        assert_eq!(v.stringify(), r#"{"1":4,"5":2,"b":5,"a":3}"#);
        assert_eq!(v.get("a"), Some(&JsValue::Number(3.0)));
        assert_eq!(o.remove("b"), Some(JsValue::Number(5.0)));
        o.insert("b", JsValue::Null);
        assert_eq!(
            JsValue::Object(o).stringify(),
            r#"{"1":4,"5":2,"a":3,"b":null}"#
        );
    }

    #[test]
    fn js_string_push_joins_pairs() {
        let mut s = JsString::from("x");
        s.push_code_point(0xD83D);
        assert!(!s.is_well_formed());
        s.push_code_point(0xDE00);
        assert!(s.is_well_formed());
        assert_eq!(s, "x😀");
        let units: Vec<u16> = "a😀".encode_utf16().chain([0xDC00, 0xD800]).collect();
        let s = JsString::from_utf16(&units);
        assert_eq!(s.code_units().collect::<Vec<_>>(), units);
        assert_eq!(JsValue::String(s).stringify(), "\"a😀\\udc00\\ud800\"");
    }

    #[test]
    fn tokenizer_events() {
        let text = br#" {"a" : [1, -2.5e1, "x\n"], "b": {"c": null, "d": true}, "e": false} "#;
        let mut t = Tokenizer::new(text);
        let mut got = Vec::new();
        loop {
            match t.next_token() {
                Ok(tok) => got.push(tok),
                Err(e) => {
                    assert_eq!(e.kind(), JsonErrorKind::NoMoreTokens);
                    break;
                }
            }
        }
        assert!(t.is_done());
        let key = |s: &'static str| JsStr {
            raw: s.as_bytes(),
            escaped: false,
            non_ascii: false,
        };
        let expected = [
            Token::ObjectStart,
            Token::Key(key("a")),
            Token::ArrayStart,
            Token::Number(1.0),
            Token::Number(-25.0),
            Token::Str(key("x\n")),
            Token::ArrayEnd,
            Token::Key(key("b")),
            Token::ObjectStart,
            Token::Key(key("c")),
            Token::Null,
            Token::Key(key("d")),
            Token::Bool(true),
            Token::ObjectEnd,
            Token::Key(key("e")),
            Token::Bool(false),
            Token::ObjectEnd,
        ];
        assert_eq!(got, expected);
        // As an iterator.
        let n = Tokenizer::new(text).collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(n, expected);
        let errs: Vec<_> = Tokenizer::new(b"[1,]").collect();
        assert_eq!(errs.len(), 3);
        assert!(errs[2].is_err());
    }

    #[test]
    fn tokenizer_skipping_and_trailing() {
        let text = br#"{"skip":{"x":[1,{"y":"\u0041"}]},"keep":"v","arr":[[],[1]]}"#;
        let mut t = Tokenizer::new(text);
        assert_eq!(t.next_token().unwrap(), Token::ObjectStart);
        assert!(matches!(t.next_token().unwrap(), Token::Key(k) if k.eq_str("skip")));
        t.skip_value().unwrap();
        assert!(matches!(t.next_token().unwrap(), Token::Key(k) if k.eq_str("keep")));
        // A key is not a value: refused, nothing consumed.
        let Token::Str(v) = t.next_token().unwrap() else {
            panic!()
        };
        assert_eq!(v.as_str(), Some("v"));
        assert_eq!(t.skip_value().unwrap_err().kind(), JsonErrorKind::NotAValue);
        assert!(matches!(t.next_token().unwrap(), Token::Key(k) if k.eq_str("arr")));
        assert_eq!(t.next_token().unwrap(), Token::ArrayStart);
        t.skip_rest_of_container().unwrap();
        assert_eq!(t.depth(), 1);
        t.finish().unwrap();
        assert!(t.is_done());

        let mut t = Tokenizer::new(b"{\"a\":1} x");
        assert_eq!(t.next_token().unwrap(), Token::ObjectStart);
        assert_eq!(t.finish().unwrap_err().kind(), JsonErrorKind::TrailingData);
        // Poisoned.
        assert_eq!(
            t.next_token().unwrap_err().kind(),
            JsonErrorKind::TrailingData
        );
        let mut t = Tokenizer::new(b"[] ]");
        t.skip_value().unwrap();
        assert_eq!(
            t.next_token().unwrap_err().kind(),
            JsonErrorKind::TrailingData
        );
        // skip_value validates what it skips.
        let mut t = Tokenizer::new(b"[[1,2,]]");
        assert!(t.skip_value().is_err());
    }

    #[test]
    fn js_str_methods() {
        let text = b"[\"a\\u00e9\\ud83d\\ude00\\ud800\xFFz\", \"plain\"]";
        let mut t = Tokenizer::new(text);
        t.next_token().unwrap();
        let Token::Str(s) = t.next_token().unwrap() else {
            panic!()
        };
        assert_eq!(s.as_str(), None);
        assert_eq!(
            s.code_points().collect::<Vec<_>>(),
            vec![0x61, 0xE9, 0x1F600, 0xD800, 0xFFFD, 0x7A]
        );
        assert_eq!(
            s.code_units().collect::<Vec<_>>(),
            vec![0x61, 0xE9, 0xD83D, 0xDE00, 0xD800, 0xFFFD, 0x7A]
        );
        assert_eq!(s.len_utf16(), 7);
        assert_eq!(s.chars().collect::<String>(), "aé😀\u{FFFD}\u{FFFD}z");
        assert!(!s.eq_str("aé😀\u{FFFD}\u{FFFD}z")); // the lone surrogate is not U+FFFD
        let js = s.to_js_string();
        assert_eq!(
            js.code_units().collect::<Vec<_>>(),
            s.code_units().collect::<Vec<_>>()
        );
        assert!(s.eq_js(&js));
        assert_eq!(JsValue::String(js).stringify(), "\"aé😀\\ud800\u{FFFD}z\"");
        let Token::Str(p) = t.next_token().unwrap() else {
            panic!()
        };
        assert!(p.eq_str("plain") && !p.eq_str("plai") && !p.eq_str("plainx"));
        assert_eq!(p.as_str(), Some("plain"));
        assert_eq!(p.len_utf16(), 5);
        assert_ne!(s, p);
    }

    #[test]
    fn depth_limit() {
        let ok = alloc::format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(validate(ok.as_bytes()).is_ok());
        let v = parse(ok.as_bytes()).unwrap();
        assert_eq!(v.stringify(), ok);
        let deep = alloc::format!("{}{}", "[{\"a\":".repeat(MAX_DEPTH / 2), "1");
        assert!(parse(deep.as_bytes()).is_err());
        let too = alloc::format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse(too.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), JsonErrorKind::TooDeep);
        assert_eq!(e.offset(), MAX_DEPTH);
        assert_eq!(validate(too.as_bytes()).unwrap_err(), e);
    }

    #[test]
    fn to_int32() {
        let cases: &[(f64, i32)] = &[
            (0.0, 0),
            (-0.0, 0),
            (f64::NAN, 0),
            (f64::INFINITY, 0),
            (f64::NEG_INFINITY, 0),
            (5.9, 5),
            (-5.9, -5),
            (2147483647.0, 2147483647),
            (2147483648.0, -2147483648),
            (4294967295.0, -1),
            (4294967296.0, 0),
            (4294967297.5, 1),
            (-2147483649.0, 2147483647),
            (1e21, -559939584),
            (-1e21, 559939584),
            (9007199254740993.0, 0),
            (9223372036854775808.0, 0),
            (1.8446744073709552e19, 0),
            (3.0e19, -1648885760), // values from node: `3e19 | 0`
            (-3.0e19, 1648885760),
            (1e300, 0),
            (5e-324, 0),
        ];
        for &(n, want) in cases {
            assert_eq!(js_to_int32(n), want, "{n}");
        }
    }

    #[test]
    fn type_names() {
        let v = parse(br#"[null,true,1,"s",[],{}]"#).unwrap();
        let names: Vec<_> = v.as_array().unwrap().iter().map(js_type_name).collect();
        assert_eq!(
            names,
            ["null", "boolean", "number", "string", "array", "object"]
        );
    }

    #[test]
    fn error_display() {
        let e = parse(b"[1,]").unwrap_err();
        assert_eq!(e.to_string(), "unexpected byte 0x5d at byte 3");
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Random byte strings (biased to JSON-ish bytes and mutations of valid
    /// texts): `parse`, `validate` and a full token walk must agree, and
    /// accepted texts must round-trip through `stringify`.
    #[test]
    fn fuzz_parse_and_tokenizer_agree() {
        const ALPHABET: &[u8] = b"{}[]\",:\\ \t\n\r0123456789-+.eEutrfalsn\x00\x1f\x7f\x80\xbf\xc3\xa9\xe0\xed\xa0\xf0\xf4\xff";
        const SEEDS: &[&str] = &[
            r#"{"a":[1,2,{"b":null}],"c":"d\u00e9\ud83d\ude00","0":true}"#,
            r#"[1e21,-0,0.5,"x\n",{"__proto__":1,"1":2,"a":3,"a":4}]"#,
            r#"{"requesterPeerId":"aaaa","natType":31,"isConnection":false}"#,
            r#""\ud800\\\"\/""#,
            r#"[[[[[]]]],{"":{"":{}}}]"#,
        ];
        let mut rng = XorShift(0x243F_6A88_85A3_08D3);
        let (mut accepted, mut rejected) = (0, 0);
        for round in 0..6000 {
            let mut buf: Vec<u8> = if round % 2 == 0 {
                let n = (rng.next() % 24) as usize;
                (0..n)
                    .map(|_| {
                        let r = rng.next();
                        if r % 4 == 0 {
                            (r >> 8) as u8
                        } else {
                            ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                        }
                    })
                    .collect()
            } else {
                SEEDS[(rng.next() % SEEDS.len() as u64) as usize]
                    .as_bytes()
                    .to_vec()
            };
            if round % 2 == 1 {
                for _ in 0..=(rng.next() % 3) {
                    let r = rng.next();
                    let i = if buf.is_empty() {
                        0
                    } else {
                        (r as usize >> 3) % buf.len()
                    };
                    let byte = ALPHABET[(r >> 32) as usize % ALPHABET.len()];
                    match r % 4 {
                        0 if !buf.is_empty() => buf[i] = byte,
                        1 => buf.insert(i, byte),
                        2 if !buf.is_empty() => {
                            buf.remove(i);
                        }
                        _ => buf.truncate(i),
                    }
                }
            }
            let parsed = parse(&buf);
            let validated = validate(&buf);
            let walked: Result<Vec<Token<'_>>, JsonError> = Tokenizer::new(&buf).collect();
            assert_eq!(parsed.is_ok(), validated.is_ok(), "{buf:?}");
            assert_eq!(parsed.is_ok(), walked.is_ok(), "{buf:?}");
            match parsed {
                Ok(v) => {
                    accepted += 1;
                    let text = v.stringify();
                    let again = parse(text.as_bytes()).unwrap();
                    assert_eq!(again.stringify(), text);
                }
                Err(e) => {
                    rejected += 1;
                    assert_eq!(Some(e), validated.err(), "{buf:?}");
                    assert_eq!(Some(e), walked.err(), "{buf:?}");
                }
            }
        }
        assert!(accepted > 300 && rejected > 300, "{accepted} {rejected}");
    }

    fn unhex(s: &str) -> Vec<u8> {
        let d = |c: u8| hex_val(c).unwrap() as u8;
        s.as_bytes()
            .chunks(2)
            .map(|p| (d(p[0]) << 4) | d(p[1]))
            .collect()
    }

    /// Every entry of the Node-generated cases file: `[hex, stringify]`
    /// (`null` when `JSON.parse` throws). Regenerate with
    /// `node core/tests/js_json_crosscheck/generate.js`.
    #[test]
    fn crosscheck_against_node() {
        const DATA: &str = include_str!("../../tests/js_json_crosscheck/cases.json");
        let data = parse(DATA.as_bytes()).unwrap();
        let cases = data.as_array().unwrap();
        assert!(cases.len() > 2000);
        let mut failures = Vec::new();
        for case in cases {
            let case = case.as_array().unwrap();
            let input = unhex(case[0].as_str().unwrap());
            let want = case[1].as_str();
            let got = rtb(&input);
            if got.as_deref() != want {
                failures.push((case[0].as_str().unwrap().to_string(), want, got));
            }
            // The tokenizer agrees on accept/reject.
            assert_eq!(validate(&input).is_ok(), want.is_some());
        }
        assert!(
            failures.is_empty(),
            "{} failures: {failures:#?}",
            failures.len()
        );
    }
}
