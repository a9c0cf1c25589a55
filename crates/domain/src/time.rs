//! Points and spans of time as the domain sees them: whole milliseconds since the Unix epoch.
//! The domain never reads a clock; callers pass the time in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(type = "number"))]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The span from `earlier` to `self`; zero if `earlier` is later (clocks on two machines).
    pub fn since(self, earlier: Timestamp) -> Span {
        Span((self.0 - earlier.0).max(0))
    }
}

impl Add<Span> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Span> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(rhs.0))
    }
}

/// A length of time in milliseconds, never negative.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(type = "number"))]
#[serde(transparent)]
pub struct Span(pub i64);

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn from_secs(s: i64) -> Self {
        Self(s * 1_000)
    }

    pub const fn from_mins(m: i64) -> Self {
        Self(m * 60_000)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub const fn whole_minutes(self) -> i64 {
        self.0 / 60_000
    }
}

impl Add for Span {
    type Output = Span;
    fn add(self, rhs: Span) -> Span {
        Span(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for Span {
    /// How a wait reads at a glance: `42s`, `7 min`, `1 h 05 min`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1_000;
        if secs < 60 {
            write!(f, "{secs}s")
        } else if secs < 3_600 {
            write!(f, "{} min", secs / 60)
        } else {
            write!(f, "{} h {:02} min", secs / 3_600, (secs % 3_600) / 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_at_a_glance() {
        assert_eq!(Span::from_secs(42).to_string(), "42s");
        assert_eq!(Span::from_mins(7).to_string(), "7 min");
        assert_eq!((Span::from_mins(65)).to_string(), "1 h 05 min");
    }

    #[test]
    fn since_never_goes_negative() {
        let a = Timestamp::from_millis(10_000);
        let b = Timestamp::from_millis(4_000);
        assert_eq!(a.since(b), Span::from_millis(6_000));
        assert_eq!(b.since(a), Span::ZERO);
    }
}
