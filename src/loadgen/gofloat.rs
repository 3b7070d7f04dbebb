//! Float values as Prometheus's text writer prints them.
//!
//! `expfmt.writeFloat` special-cases `1`, `0`, `-1`, `NaN`, `±Inf` and otherwise uses Go's
//! `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits that read back to the same float,
//! in exponent form when the decimal exponent is below −4 or at least 6 (spec §1.8). Rust's
//! `{}` prints `1000000` and `1e-7` differently, so the layout is done here: the shortest digits
//! come from `ryu` (or, for integers, from the integer itself) and are placed the Go way.

/// Appends `v` formatted exactly as Prometheus's text exposition writes a sample value or an
/// `le`/`quantile` label value. Never allocates beyond growing `out`.
pub fn write_float(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 {
        // Go's writeFloat tests `f == 0`, which -0 also satisfies.
        out.push(b'0');
        return;
    }
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if v < 0.0 {
        out.push(b'-');
    }
    let a = v.abs();
    let mut digits = [0u8; 24];
    // Integers below 2^53 are exact: their decimal digits are the shortest form.
    let (nd, dp) = if a < 9_007_199_254_740_992.0 && a.fract() == 0.0 {
        integer_digits(a as u64, &mut digits)
    } else {
        let mut buf = ryu::Buffer::new();
        shortest_digits(buf.format_finite(a).as_bytes(), &mut digits)
    };
    layout_g(out, &digits[..nd], dp);
}

/// Decimal digits of `n > 0` without trailing zeros, and the decimal point position
/// (value = 0.d1d2… × 10^dp).
fn integer_digits(mut n: u64, digits: &mut [u8; 24]) -> (usize, i32) {
    let mut tmp = [0u8; 20];
    let mut len = 0;
    while n > 0 {
        tmp[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    let dp = len as i32;
    let mut nd = 0;
    for i in (0..len).rev() {
        digits[nd] = tmp[i];
        nd += 1;
    }
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (nd, dp)
}

/// Significant digits and decimal point position of a positive number printed by ryu
/// (`123.45`, `1e16`, `1.2345e-7`, `0.001`).
fn shortest_digits(s: &[u8], digits: &mut [u8; 24]) -> (usize, i32) {
    let mut nd = 0usize;
    let mut dp = 0i32;
    let mut after_point = false;
    let mut exp = 0i32;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'0'..=b'9' => {
                if nd == 0 && c == b'0' {
                    // A leading zero: only moves the point when it is after it.
                    if after_point {
                        dp -= 1;
                    }
                } else {
                    if nd < digits.len() {
                        digits[nd] = c;
                        nd += 1;
                    }
                    if !after_point {
                        dp += 1;
                    }
                }
            }
            b'.' => after_point = true,
            b'e' | b'E' => {
                exp = parse_exponent(&s[i + 1..]);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (nd, dp + exp)
}

fn parse_exponent(s: &[u8]) -> i32 {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut e = 0i32;
    for &c in rest {
        if c.is_ascii_digit() {
            e = e * 10 + i32::from(c - b'0');
        }
    }
    if neg {
        -e
    } else {
        e
    }
}

/// Go's `%g` with shortest precision: `%e` when the exponent is < −4 or ≥ 6, else `%f`.
fn layout_g(out: &mut Vec<u8>, d: &[u8], dp: i32) {
    let nd = d.len() as i32;
    let x = dp - 1;
    if !(-4..6).contains(&x) {
        out.push(d[0]);
        if d.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        out.push(if x < 0 { b'-' } else { b'+' });
        let ax = x.unsigned_abs();
        if ax >= 100 {
            out.push(b'0' + (ax / 100) as u8);
        }
        out.push(b'0' + (ax / 10 % 10) as u8);
        out.push(b'0' + (ax % 10) as u8);
        return;
    }
    if dp > 0 {
        let m = dp.min(nd) as usize;
        out.extend_from_slice(&d[..m]);
        for _ in nd..dp {
            out.push(b'0');
        }
    } else {
        out.push(b'0');
    }
    if nd > dp {
        out.push(b'.');
        for _ in dp..0 {
            out.push(b'0');
        }
        out.extend_from_slice(&d[dp.max(0) as usize..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        String::from_utf8(out).expect("ascii")
    }

    /// Go `strconv.FormatFloat(v, 'g', -1, 64)` outputs: Go's own ftoa tests and the
    /// observations in spec §1.8. Literals as Go's tests write them, exact halves included.
    #[allow(clippy::excessive_precision)]
    const GO_G_SHORTEST: &[(f64, &str)] = &[
        (1.0, "1"),
        (0.0, "0"),
        (-1.0, "-1"),
        (20.0, "20"),
        (12.0, "12"),
        (32.0, "32"),
        (1234567.8, "1.2345678e+06"),
        (200000.0, "200000"),
        (2000000.0, "2e+06"),
        (123456700.0, "1.234567e+08"),
        (1e23, "1e+23"),
        (99999999999999974834176.0, "9.999999999999997e+22"),
        (100000000000000008388608.0, "1.0000000000000001e+23"),
        (5e-324, "5e-324"),
        (-5e-324, "-5e-324"),
        (108678236358137.625, "1.0867823635813762e+14"),
        (2.2250738585072014e-308, "2.2250738585072014e-308"),
        (2.225073858507201e-308, "2.225073858507201e-308"),
        (123456789.0, "1.23456789e+08"),
        (1e6, "1e+06"),
        (10000.0, "10000"),
        (0.000001234, "1.234e-06"),
        (0.1, "0.1"),
        (1795571225.0, "1.795571225e+09"),
        (0.4, "0.4"),
        (0.04, "0.04"),
        (0.0004, "0.0004"),
        (0.00004, "4e-05"),
        (0.000004, "4e-06"),
        (123456.0, "123456"),
        (999999.0, "999999"),
        (1234567.0, "1.234567e+06"),
        (123456.78, "123456.78"),
        (1234567.89, "1.23456789e+06"),
        (0.30000000000000004, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e100, "1e+100"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9.007199254740992e+15"),
        (9007199254740993.0 * 2.0, "1.8014398509481984e+16"),
        (0.005, "0.005"),
        (2.5, "2.5"),
        (-1234.5, "-1234.5"),
        (-0.00001, "-1e-05"),
        (1.5e-5, "1.5e-05"),
        (0.001, "0.001"),
        (100.0, "100"),
    ];

    #[test]
    fn values_are_formatted_like_go_strconv_g_shortest() {
        for &(v, want) in GO_G_SHORTEST {
            assert_eq!(fmt(v), want, "formatting {v:e}");
        }
    }

    #[test]
    fn specials_are_written_as_prometheus_writes_them() {
        assert_eq!(fmt(f64::NAN), "NaN");
        assert_eq!(fmt(f64::INFINITY), "+Inf");
        assert_eq!(fmt(f64::NEG_INFINITY), "-Inf");
        assert_eq!(fmt(-0.0), "0");
    }

    #[test]
    fn integer_fast_path_agrees_with_the_shortest_digits_path() {
        let mut x = 1.0f64;
        for _ in 0..60 {
            for v in [x, x + 1.0, x * 7.0, x * 1000.0 + 3.0] {
                if v >= 9_007_199_254_740_992.0 {
                    continue;
                }
                let mut a = [0u8; 24];
                let mut b = [0u8; 24];
                let (na, da) = integer_digits(v as u64, &mut a);
                let mut buf = ryu::Buffer::new();
                let (nb, db) = shortest_digits(buf.format_finite(v).as_bytes(), &mut b);
                assert_eq!((&a[..na], da), (&b[..nb], db), "digits of {v}");
            }
            x = (x * 1.9).floor();
        }
    }

    #[test]
    fn every_output_reads_back_to_the_same_float() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if !v.is_finite() {
                continue;
            }
            let s = fmt(v);
            let back: f64 = s.parse().expect("parses");
            assert_eq!(back.to_bits(), if v == 0.0 { 0 } else { v.to_bits() }, "{s}");
        }
    }
}
