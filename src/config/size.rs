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
}
