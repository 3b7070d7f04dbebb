//! Byte sizes as Prometheus's `--storage.tsdb.retention.size` takes them:
//! an integer and a base-2 unit (`B`, `KB`, `MB`, `GB`, `TB`, `PB`, `EB`).

/// Why a size string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid size {0:?}: want an integer and one of B, KB, MB, GB, TB, PB, EB (e.g. 512MB)")]
pub struct SizeError(pub String);

/// Parses `512MB` into bytes (1 KB = 1024 B). `0` means no limit.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let err = || SizeError(s.to_string());
    if s == "0" {
        return Ok(0);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| err())?;
    let shift = match unit {
        "B" => 0,
        "KB" | "KiB" => 10,
        "MB" | "MiB" => 20,
        "GB" | "GiB" => 30,
        "TB" | "TiB" => 40,
        "PB" | "PiB" => 50,
        "EB" | "EiB" => 60,
        _ => return Err(err()),
    };
    n.checked_mul(1u64 << shift).ok_or_else(err)
}

/// A byte count written with a base-2 unit, such as `body_size_limit: 10MB`.
/// Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// Reads `10MB`; a bare integer is read as its text, so only `0` is accepted
/// without a unit (as in Prometheus); null is zero.
impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::yaml::scalar_with(d, |s| match s {
            None => Ok(ByteSize(0)),
            Some(t) => parse_size(t).map(ByteSize).map_err(|e| e.to_string()),
        })
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 7] = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
        let mut unit = 0;
        let mut n = self.0;
        while n != 0 && n.is_multiple_of(1024) && unit < UNITS.len() - 1 {
            n /= 1024;
            unit += 1;
        }
        if self.0 == 0 {
            return f.write_str("0B");
        }
        write!(f, "{n}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_base_two() {
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("1.5GB").is_err());
        assert!(parse_size("GB").is_err());
        assert!(parse_size("10").is_err());
        assert!(parse_size("10XB").is_err());
        assert!(parse_size("99999999EB").is_err());
    }

    #[test]
    fn byte_sizes_deserialise_and_print() {
        let v: Vec<ByteSize> = yaml_serde::from_str("[10MB, 0, '1KiB', null]").unwrap();
        assert_eq!(v, vec![ByteSize(10 << 20), ByteSize(0), ByteSize(1024), ByteSize(0)]);
        assert!(yaml_serde::from_str::<ByteSize>("100").is_err());
        assert_eq!(ByteSize(10 << 20).to_string(), "10MB");
        assert_eq!(ByteSize(1500).to_string(), "1500B");
    }
}
