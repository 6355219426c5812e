//! NAT types and the connection-strategy table (§5).
//!
//! A NAT type is a 5-bit number: bit 0 "mapping known", bit 1 "mapping is
//! endpoint-independent", bit 2 "firewall known", bit 3 "lets in any port of a
//! known IP", bit 4 "lets in any IP". The reference's constants are the truth.

use core::fmt;

use crate::wire::json::js_to_int32;

/// Mapping known, endpoint-dependent.
pub const MAPPING_ENDPOINT_DEPENDENT: u8 = 0b00001;
/// Mapping known, endpoint-independent.
pub const MAPPING_ENDPOINT_INDEPENDENT: u8 = 0b00011;
/// Firewall lets in only known IP and port.
pub const FIREWALL_ALLOW_KNOWN_IP_AND_PORT: u8 = 0b00100;
/// Firewall lets in any port of a known IP.
pub const FIREWALL_ALLOW_KNOWN_IP: u8 = 0b01100;
/// Firewall lets in anyone.
pub const FIREWALL_ALLOW_ANY: u8 = 0b11100;

/// A NAT type as carried on the wire (any byte; only some are valid).
///
/// ```
/// use streamrelay::nat::{NatType, Strategy, connection_strategy};
/// assert_eq!(NatType::PORT_RESTRICTED.name(), "PORT_RESTRICTED");
/// assert_eq!(
///     connection_strategy(Some(NatType::PORT_RESTRICTED), Some(NatType::ENDPOINT_RESTRICTED)),
///     Strategy::TraversalOpen
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatType(pub u8);

impl NatType {
    /// Not yet known.
    pub const UNKNOWN: NatType = NatType(0);
    /// Full cone (31).
    pub const UNRESTRICTED: NatType = NatType(FIREWALL_ALLOW_ANY | MAPPING_ENDPOINT_INDEPENDENT);
    /// Address-restricted cone (15).
    pub const ADDR_RESTRICTED: NatType =
        NatType(FIREWALL_ALLOW_KNOWN_IP | MAPPING_ENDPOINT_INDEPENDENT);
    /// Port-restricted cone (7).
    pub const PORT_RESTRICTED: NatType =
        NatType(FIREWALL_ALLOW_KNOWN_IP_AND_PORT | MAPPING_ENDPOINT_INDEPENDENT);
    /// Symmetric (5).
    pub const ENDPOINT_RESTRICTED: NatType =
        NatType(FIREWALL_ALLOW_KNOWN_IP_AND_PORT | MAPPING_ENDPOINT_DEPENDENT);

    /// Bit 0: the mapping behaviour is known.
    pub const fn is_endpoint_dependence_defined(self) -> bool {
        self.0 & 1 == 1
    }

    /// Bit 2: the firewall behaviour is known.
    pub const fn is_firewall_defined(self) -> bool {
        self.0 & 4 == 4
    }

    /// Both known (`NAT.isValid`); 13 and 29 are valid but have no name.
    pub const fn is_valid(self) -> bool {
        self.is_endpoint_dependence_defined() && self.is_firewall_defined()
    }

    /// The reference's `NAT.toString`: the four named types, else "UNKNOWN".
    pub const fn name(self) -> &'static str {
        match self.0 {
            31 => "UNRESTRICTED",
            15 => "ADDR_RESTRICTED",
            7 => "PORT_RESTRICTED",
            5 => "ENDPOINT_RESTRICTED",
            _ => "UNKNOWN",
        }
    }
}

impl fmt::Display for NatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// `NAT.isValid` over a JSON number, with JavaScript's ToInt32 (so 37, 255,
/// -1 and 5.5 are "valid", as in the reference; §10.17).
pub fn is_valid_number(n: f64) -> bool {
    let i = js_to_int32(n);
    i & 1 == 1 && i & 4 == 4
}

/// How to reach a remote peer, given both NAT types (§5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Strategy {
    /// Let the other side start (the reference pings anyway).
    Defer = 0,
    /// Ping it.
    DirectConnect = 1,
    /// Spray the remote's IP to open local mappings.
    TraversalOpen = 2,
    /// Birthday-paradox punch from a socket pool.
    TraversalConnect = 3,
    /// Go through the introducer.
    Proxy = 4,
}

impl Strategy {
    /// The reference's `toStringStrategy` name.
    pub const fn name(self) -> &'static str {
        match self {
            Strategy::Defer => "STRATEGY_DEFER",
            Strategy::DirectConnect => "STRATEGY_DIRECT_CONNECT",
            Strategy::TraversalOpen => "STRATEGY_TRAVERSAL_OPEN",
            Strategy::TraversalConnect => "STRATEGY_TRAVERSAL_CONNECT",
            Strategy::Proxy => "STRATEGY_PROXY",
        }
    }

    /// From the wire number.
    pub const fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => Strategy::Defer,
            1 => Strategy::DirectConnect,
            2 => Strategy::TraversalOpen,
            3 => Strategy::TraversalConnect,
            4 => Strategy::Proxy,
            _ => return None,
        })
    }
}

/// `connectionStrategy(local, remote)`; `None` is an unknown (null) type.
pub const fn connection_strategy(local: Option<NatType>, remote: Option<NatType>) -> Strategy {
    use Strategy::*;
    let a = match local {
        Some(n) => n.0 as i32,
        None => -1,
    };
    let b = match remote {
        Some(n) => n.0 as i32,
        None => -1,
    };
    match (b, a) {
        (31, _) => DirectConnect,
        (15 | 7 | 5, 31) => Defer,
        (15, 15 | 7 | 5) => DirectConnect,
        (7, 15 | 7) => DirectConnect,
        (7, 5) => TraversalConnect,
        (5, 15) => DirectConnect,
        (5, 7) => TraversalOpen,
        _ => Proxy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_spec() {
        // Rows: local a; columns: remote b (spec §5.3).
        let order = [5u8, 7, 13, 15, 29, 31];
        let expect: [[Strategy; 6]; 6] = {
            use Strategy::*;
            [
                [
                    Proxy,
                    TraversalConnect,
                    Proxy,
                    DirectConnect,
                    Proxy,
                    DirectConnect,
                ],
                [
                    TraversalOpen,
                    DirectConnect,
                    Proxy,
                    DirectConnect,
                    Proxy,
                    DirectConnect,
                ],
                [Proxy, Proxy, Proxy, Proxy, Proxy, DirectConnect],
                [
                    DirectConnect,
                    DirectConnect,
                    Proxy,
                    DirectConnect,
                    Proxy,
                    DirectConnect,
                ],
                [Proxy, Proxy, Proxy, Proxy, Proxy, DirectConnect],
                [Defer, Defer, Proxy, Defer, Proxy, DirectConnect],
            ]
        };
        for (i, a) in order.iter().enumerate() {
            for (j, b) in order.iter().enumerate() {
                assert_eq!(
                    connection_strategy(Some(NatType(*a)), Some(NatType(*b))),
                    expect[i][j],
                    "a={a} b={b}"
                );
            }
        }
        assert_eq!(
            connection_strategy(None, Some(NatType::UNRESTRICTED)),
            Strategy::DirectConnect
        );
        assert_eq!(
            connection_strategy(None, Some(NatType::PORT_RESTRICTED)),
            Strategy::Proxy
        );
    }

    #[test]
    fn validity_uses_int32() {
        assert!(is_valid_number(37.0));
        assert!(is_valid_number(-1.0));
        assert!(is_valid_number(5.5));
        assert!(!is_valid_number(f64::NAN));
        assert!(!is_valid_number(2.0));
        assert!(NatType(13).is_valid());
        assert_eq!(NatType(13).name(), "UNKNOWN");
    }
}
