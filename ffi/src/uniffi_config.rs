//! The tunable parts of the UniFFI `PeerConfig`: limits, rate quotas, peer
//! expiry, timings and fanout, as records whose field defaults are the
//! core's defaults (`defaultLimits()` etc. return them from the core; the
//! binding tests check that the two agree). Sizes are `u64` here and must
//! fit the platform's `usize`. Nothing is validated until `Peer(config:)`:
//! the core's `Config::check` runs there and a refusal comes back as
//! `StreamRelayError.ZeroLimit` or `StreamRelayError.InvalidConfig`.

use streamrelay::peer::{Expiry, Fanout, FanoutPolicy, Limits, RateQuotas, Timings};

use crate::uniffi_api::{Res, StreamRelayError};

/// A `u64` from the bindings as a `usize` (only fails on 32-bit targets).
fn size(name: &str, v: u64) -> Res<usize> {
    usize::try_from(v).map_err(|_| StreamRelayError::InvalidConfig {
        reason: format!("{name} = {v} does not fit this platform"),
    })
}

/// A core config value as the bindings carry it: sizes are `u64` (and
/// must fit the platform's `usize`), the rest as they are.
pub trait Face: Sized {
    /// The type in Swift and Kotlin.
    type Face;
    /// The core's value as the bindings carry it.
    fn to_face(self) -> Self::Face;
    /// A value from the bindings (`name` for the error).
    fn from_face(name: &str, v: Self::Face) -> Res<Self>;
}

impl Face for usize {
    type Face = u64;
    fn to_face(self) -> u64 {
        self as u64
    }
    fn from_face(name: &str, v: u64) -> Res<usize> {
        size(name, v)
    }
}

macro_rules! same_face {
    ($($t:ty),*) => {$(
        impl Face for $t {
            type Face = $t;
            fn to_face(self) -> $t {
                self
            }
            fn from_face(_: &str, v: $t) -> Res<$t> {
                Ok(v)
            }
        }
    )*};
}

same_face!(u16, u32, u64);

/// A UniFFI record made from one of the core's config tables
/// (`streamrelay::limits_table!` and its siblings): the same fields, docs
/// and defaults, nested groups flattened, and the conversions both ways.
macro_rules! uniffi_face {
    (
        [$(#[doc = $sdoc:tt])* $core:ident => $face:ident]
        fields { $( $(#[doc = $doc:tt])* $field:ident : $ty:ident = $default:tt, )* }
        $( nested $(#[doc = $ndoc:tt])* $nest:ident : $nty:path {
            $( $(#[doc = $rdoc:tt])* $flat:ident => $rfield:ident : $rty:ident = $rdefault:tt, )*
        } )?
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
        pub struct $face {
            $( $(#[doc = $doc])* #[uniffi(default = $default)] pub $field: <$ty as Face>::Face, )*
            $($( $(#[doc = $rdoc])* #[uniffi(default = $rdefault)] pub $flat: <$rty as Face>::Face, )*)?
        }

        impl $face {
            pub(crate) fn from_core(v: &$core) -> Self {
                $face {
                    $( $field: Face::to_face(v.$field), )*
                    $($( $flat: Face::to_face(v.$nest.$rfield), )*)?
                }
            }

            pub(crate) fn to_core(&self) -> Res<$core> {
                Ok($core {
                    $( $field: Face::from_face(stringify!($field), self.$field)?, )*
                    $( $nest: {
                        type Nested = $nty;
                        Nested {
                            $( $rfield: Face::from_face(stringify!($flat), self.$flat)?, )*
                        }
                    }, )?
                })
            }
        }
    };
}

streamrelay::limits_table!(
    uniffi_face
    /// Hard bounds on every table and queue (the core's `Limits`). Every value
    /// must be at least 1.
    Limits => PeerLimits
);

streamrelay::quotas_table!(
    uniffi_face
    /// Per-remote packet quotas per one-minute bucket (the core's
    /// `RateQuotas`).
    RateQuotas => PeerQuotas
);

streamrelay::expiry_table!(
    uniffi_face
    /// How long a peer may stay silent, in keepalives (the core's `Expiry`).
    Expiry => PeerExpiry
);

streamrelay::timings_table!(
    uniffi_face
    /// Protocol timings in ms (the core's `Timings`).
    Timings => PeerTimings
);

/// Multicast target selection (the core's `Fanout`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PeerFanout {
    /// `false`: the reference's uniform shuffle of the fresh candidates;
    /// `true`: weighted by availability / distance (round-trip time and
    /// uptime).
    #[uniffi(default = false)]
    pub weighted: bool,
    /// How many candidates the policy picks.
    #[uniffi(default = 3)]
    pub peers: u64,
    /// Distance assumed for a peer whose round-trip time was never
    /// measured (ms).
    #[uniffi(default = 250)]
    pub unknown_rtt_ms: u32,
    /// Uptime at which a peer's availability is one half (ms).
    #[uniffi(default = 600000)]
    pub uptime_half_ms: u64,
}

impl PeerFanout {
    pub(crate) fn from_core(f: &Fanout) -> Self {
        PeerFanout {
            weighted: f.policy == FanoutPolicy::Weighted,
            peers: f.peers as u64,
            unknown_rtt_ms: f.unknown_rtt_ms,
            uptime_half_ms: f.uptime_half_ms,
        }
    }

    pub(crate) fn to_core(&self) -> Res<Fanout> {
        Ok(Fanout {
            policy: if self.weighted {
                FanoutPolicy::Weighted
            } else {
                FanoutPolicy::Random
            },
            peers: size("fanout.peers", self.peers)?,
            unknown_rtt_ms: self.unknown_rtt_ms,
            uptime_half_ms: self.uptime_half_ms,
        })
    }
}

/// The core's default limits.
#[uniffi::export]
pub fn default_limits() -> PeerLimits {
    PeerLimits::from_core(&Limits::default())
}

/// The core's default rate quotas.
#[uniffi::export]
pub fn default_quotas() -> PeerQuotas {
    PeerQuotas::from_core(&RateQuotas::default())
}

/// The core's default peer expiry.
#[uniffi::export]
pub fn default_expiry() -> PeerExpiry {
    PeerExpiry::from_core(&Expiry::default())
}

/// The core's default timings.
#[uniffi::export]
pub fn default_timings() -> PeerTimings {
    PeerTimings::from_core(&Timings::default())
}

/// The core's default fanout.
#[uniffi::export]
pub fn default_fanout() -> PeerFanout {
    PeerFanout::from_core(&Fanout::default())
}
