//! Validators for the ids carried in control messages (§3.0). They follow the
//! reference's regular expressions exactly, including upper-case hex.

/// `isValidPeerId`: exactly 64 hex digits (either case).
///
/// ```
/// assert!(streamrelay::id::is_valid_peer_id(&"ab".repeat(32)));
/// assert!(!streamrelay::id::is_valid_peer_id("abc"));
/// ```
pub fn is_valid_peer_id(s: &str) -> bool {
    is_hex_len(s, 64, 64)
}

/// `isValidReflectionId`: exactly 12 hex digits.
pub fn is_valid_reflection_id(s: &str) -> bool {
    is_hex_len(s, 12, 12)
}

/// `isValidPingId`: 12 or 13 hex digits (13 for peers older than 0.6).
pub fn is_valid_ping_id(s: &str) -> bool {
    is_hex_len(s, 12, 13)
}

/// `Cache.isValidSummaryHashFormat`: exactly 40 hex digits.
pub fn is_valid_summary_hash(s: &str) -> bool {
    is_hex_len(s, 40, 40)
}

/// `isValidPort` over a JSON number: an integer from 1 to 65535
/// (`(n & 0xFFFF) === n && n !== 0` under JavaScript semantics).
pub fn is_valid_port(n: f64) -> bool {
    (1.0..=65535.0).contains(&n) && (n as u32) as f64 == n
}

fn is_hex_len(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_js() {
        assert!(is_valid_port(1.0));
        assert!(is_valid_port(65535.0));
        assert!(!is_valid_port(0.0));
        assert!(!is_valid_port(-0.0));
        assert!(!is_valid_port(65536.0));
        assert!(!is_valid_port(1.5));
        assert!(!is_valid_port(f64::NAN));
        assert!(!is_valid_port(f64::INFINITY));
    }

    #[test]
    fn ids() {
        assert!(is_valid_peer_id(&"AB".repeat(32)));
        assert!(!is_valid_peer_id(&"ab".repeat(32).replace('a', "g")));
        assert!(is_valid_ping_id("0123456789abc"));
        assert!(!is_valid_ping_id("0123456789abcd"));
        assert!(is_valid_reflection_id("0123456789ab"));
        assert!(!is_valid_reflection_id("0123456789a"));
        // Non-ASCII never passes (byte length differs, and bytes are not hex).
        assert!(!is_valid_reflection_id("é123456789a"));
    }
}
