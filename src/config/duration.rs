//! Prometheus's duration syntax: `1y2w3d4h5m6s7ms`, units in that order, each at
//! most once, integers only (spec §2.12). `0` alone is zero.

use std::fmt;

use std::time::Duration as StdDuration;

/// A duration in Prometheus syntax, kept in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(pub u64);

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid duration string: {0:?}")]
pub struct DurationError(pub String);

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl PromDuration {
    /// Parses `1h30m`, `15s`, `0`…
    pub fn parse(s: &str) -> Result<PromDuration, DurationError> {
        let err = || DurationError(s.to_string());
        if s == "0" {
            return Ok(PromDuration(0));
        }
        if s.is_empty() {
            return Err(err());
        }
        let b = s.as_bytes();
        let mut i = 0;
        let mut next_unit = 0;
        let mut total: u64 = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err());
            }
            let n: u64 = s[start..i].parse().map_err(|_| err())?;
            let ustart = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &s[ustart..i];
            let pos = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(err)?;
            let (_, mult) = UNITS[next_unit + pos];
            next_unit += pos + 1;
            total = n.checked_mul(mult).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
        }
        if total > i64::MAX as u64 {
            return Err(err());
        }
        Ok(PromDuration(total))
    }

    /// Milliseconds.
    pub fn as_millis(self) -> i64 {
        self.0 as i64
    }

    /// As a standard duration.
    pub fn to_std(self) -> StdDuration {
        StdDuration::from_millis(self.0)
    }
}

/// Formats as Prometheus does: largest units first, zero units omitted, `0s` for zero.
impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, mult) in UNITS {
            // Prometheus prints years and weeks only when they divide exactly.
            if (unit == "y" || unit == "w") && !ms.is_multiple_of(mult) {
                continue;
            }
            if ms >= mult {
                write!(f, "{}{}", ms / mult, unit)?;
                ms %= mult;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for PromDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PromDuration::parse(s)
    }
}

/// Reads a duration string; a bare integer is read as its text (so `0` is
/// zero and `15` is refused, as in Prometheus) and null as zero (unset).
impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::yaml::scalar_with(d, |s| match s {
            None => Ok(PromDuration(0)),
            Some(t) => PromDuration::parse(t).map_err(|e| e.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        let cases = [
            ("0", Some(0)),
            ("15s", Some(15_000)),
            ("1h30m", Some(5_400_000)),
            ("1d", Some(86_400_000)),
            ("2w", Some(14 * 86_400_000)),
            ("1y", Some(365 * 86_400_000)),
            ("100ms", Some(100)),
            ("1m30s500ms", Some(90_500)),
            ("1.5h", None),
            ("30m1h", None),
            ("1h1h", None),
            ("", None),
            ("h", None),
            ("5", None),
            ("-5s", None),
            ("5 s", None),
            ("99999999999999999999y", None),
        ];
        for (s, want) in cases {
            assert_eq!(PromDuration::parse(s).ok().map(|d| d.0), want, "{s:?}");
        }
    }

    #[test]
    fn deserialises_from_yaml_scalars() {
        let d: Vec<PromDuration> = yaml_serde::from_str("[15s, '1h30m', 0, null]").unwrap();
        assert_eq!(
            d,
            vec![
                PromDuration(15_000),
                PromDuration(5_400_000),
                PromDuration(0),
                PromDuration(0)
            ]
        );
        let e = yaml_serde::from_str::<PromDuration>("15").unwrap_err().to_string();
        assert!(e.contains(r#"not a valid duration string: "15""#), "{e}");
    }

    #[test]
    fn formats_like_prometheus() {
        for (ms, s) in [
            (0, "0s"),
            (15_000, "15s"),
            (5_400_000, "1h30m"),
            (1_296_000_000, "15d"),
            (604_800_000, "1w"),
            (90_500, "1m30s500ms"),
        ] {
            assert_eq!(PromDuration(ms).to_string(), s);
        }
    }
}
