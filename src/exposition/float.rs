//! Go's float syntax, both ways: `strconv.ParseFloat` as the text parsers use
//! it (minus hex floats and digit separators, spec §4.1) and
//! `strconv.FormatFloat(f, 'g', -1, 64)` for re-formatted `le` / `quantile`
//! values.

use std::fmt::Write as _;

/// Why a value token is not a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatError {
    /// It contains `p`, `P` or `_`, which Prometheus refuses before asking Go.
    Unsupported,
    /// Go's `strconv.ErrSyntax`.
    Syntax,
    /// Go's `strconv.ErrRange`: a finite literal too large for f64.
    Range,
}

/// Exact powers of ten up to 10^22: every one is a double without rounding.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Parses a float the way Prometheus's text parsers do: `ParseFloat(s, 64)`
/// after refusing `p`, `P` and `_`. Results are correctly rounded (as Go's).
pub(crate) fn parse_go_float(s: &[u8]) -> Result<f64, FloatError> {
    if s.iter().any(|&c| c == b'p' || c == b'P' || c == b'_') {
        return Err(FloatError::Unsupported);
    }
    if let Some(f) = fast_path(s) {
        return Ok(f);
    }
    slow_path(s)
}

/// Clinger's fast path: a decimal with at most 15 significant digits and a
/// power of ten within ±22 is one exact integer times or divided by one exact
/// power of ten, so a single IEEE operation rounds it correctly. Covers what
/// exporters write (`12345`, `0.25`, `1.445417e+06`); anything else returns
/// `None` and goes the general way.
#[inline]
fn fast_path(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    let neg = match s.first()? {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0u32;
    let mut exp: i32 = 0;
    let mut any_digit = false;
    while i < s.len() && s[i].is_ascii_digit() {
        any_digit = true;
        if mantissa != 0 || s[i] != b'0' {
            digits += 1;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            any_digit = true;
            if mantissa != 0 || s[i] != b'0' {
                digits += 1;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(s[i] - b'0'));
            exp -= 1;
            i += 1;
        }
    }
    if !any_digit || digits > 15 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        let eneg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if e > 1000 {
                return None;
            }
            e = e * 10 + i32::from(s[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    let m = mantissa as f64; // exact: at most 15 digits
    let v = if mantissa == 0 {
        0.0
    } else if (0..=22).contains(&exp) {
        m * POW10[exp as usize]
    } else if (-22..0).contains(&exp) {
        m / POW10[(-exp) as usize]
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

#[cold]
fn slow_path(s: &[u8]) -> Result<f64, FloatError> {
    let text = std::str::from_utf8(s).map_err(|_| FloatError::Syntax)?;
    // Go accepts a sign before "inf"/"infinity" but not before "nan"; Rust's
    // parser accepts both. Everything else both accept alike.
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.len() != text.len()
        && unsigned
            .as_bytes()
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case(&b'n'))
    {
        return Err(FloatError::Syntax);
    }
    let f: f64 = text.parse().map_err(|_| FloatError::Syntax)?;
    if f.is_infinite() && unsigned.bytes().any(|c| c.is_ascii_digit()) {
        return Err(FloatError::Range);
    }
    Ok(f)
}

/// Appends `f` as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes it: the
/// shortest digits that round-trip, in exponent form (`1e+06`, `1.5e-07`)
/// when the decimal exponent is below -4 or at least 6.
pub(crate) fn push_go_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    // Rust's `{:e}` gives the same shortest round-trip digits Go uses; only the
    // layout differs.
    let mut sci = StackStr::new();
    let _ = write!(sci, "{:e}", f);
    let sci = sci.as_str();
    let (neg, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut nd = 0;
    for c in mant.bytes().filter(u8::is_ascii_digit) {
        if nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    let digits = &digits[..nd];
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push(char::from(digits[0]));
        if digits.len() > 1 {
            out.push('.');
            digits[1..].iter().for_each(|&d| out.push(char::from(d)));
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        let _ = write!(out, "{a}");
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        for k in 0..int_len {
            out.push(char::from(*digits.get(k).unwrap_or(&b'0')));
        }
        if digits.len() > int_len {
            out.push('.');
            digits[int_len..].iter().for_each(|&d| out.push(char::from(d)));
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        digits.iter().for_each(|&d| out.push(char::from(d)));
    }
}

/// Appends `f` as Prometheus's `FormatOpenMetricsFloat`: Go's shortest form,
/// with `.0` added when it has neither a `.` nor an `e` (`1` → `1.0`).
pub(crate) fn push_openmetrics_float(out: &mut String, f: f64) {
    let start = out.len();
    push_go_float(out, f);
    let written = &out[start..];
    if f.is_finite() && !written.contains(['.', 'e']) {
        out.push_str(".0");
    }
}

/// A small fixed buffer for `write!` without allocating.
struct StackStr {
    buf: [u8; 40],
    len: usize,
}

impl StackStr {
    fn new() -> StackStr {
        StackStr { buf: [0; 40], len: 0 }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_parse_as_go_parsefloat_does() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1.5e3", -1500.0),
            ("+Inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("Inf", f64::INFINITY),
            ("inf", f64::INFINITY),
            ("infinity", f64::INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
            ("1.", 1.0),
            (".5", 0.5),
            ("1.445417e+06", 1445417.0),
            ("7.424100000000001e-05", 7.424100000000001e-05),
            ("4.9351e-05", 4.9351e-05),
            ("1e-400", 0.0),
            ("0.1", 0.1),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("00012", 12.0),
            ("-0", -0.0),
        ];
        for (s, want) in ok {
            let got = parse_go_float(s.as_bytes());
            assert_eq!(got.map(f64::to_bits), Ok(want.to_bits()), "parsing {s:?}");
        }
        for s in ["NaN", "nan", "nAn"] {
            assert!(parse_go_float(s.as_bytes()).is_ok_and(f64::is_nan), "{s}");
        }
        let bad: &[(&str, FloatError)] = &[
            ("1_2", FloatError::Unsupported),
            ("0x1p-3", FloatError::Unsupported),
            ("0x1P-3", FloatError::Unsupported),
            ("true", FloatError::Syntax),
            ("+NaN", FloatError::Syntax),
            ("-nan", FloatError::Syntax),
            ("0x10", FloatError::Syntax),
            ("", FloatError::Syntax),
            (".", FloatError::Syntax),
            ("1e", FloatError::Syntax),
            ("infin", FloatError::Syntax),
            ("1\t2", FloatError::Syntax),
            ("1e400", FloatError::Range),
            ("-1e400", FloatError::Range),
        ];
        for (s, want) in bad {
            assert_eq!(parse_go_float(s.as_bytes()), Err(*want), "parsing {s:?}");
        }
    }

    #[test]
    fn go_g_formatting_matches_observed_output() {
        let cases: &[(f64, &str)] = &[
            (123456789.0, "1.23456789e+08"),
            (1e6, "1e+06"),
            (10000.0, "10000"),
            (0.000001234, "1.234e-06"),
            (0.1, "0.1"),
            (1795571225.0, "1.795571225e+09"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (0.0, "0"),
        ];
        for (f, want) in cases {
            let mut s = String::new();
            push_go_float(&mut s, *f);
            assert_eq!(s, *want, "formatting {f:e}");
        }
    }

    #[test]
    fn openmetrics_floats_gain_a_fraction_when_integral() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (0.25, "0.25"),
            (10.0, "10.0"),
            (1e6, "1e+06"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (f, want) in cases {
            let mut s = String::new();
            push_openmetrics_float(&mut s, *f);
            assert_eq!(s, *want);
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_correct_rounding(m in 0u64..1_000_000_000_000_000, frac in 0usize..20, e in -30i32..30, neg: bool) {
            let digits = m.to_string();
            let cut = digits.len().saturating_sub(frac);
            let text = format!("{}{}.{}e{}", if neg { "-" } else { "" }, &digits[..cut], &digits[cut..], e);
            let want: f64 = text.parse().unwrap();
            prop_assert_eq!(parse_go_float(text.as_bytes()).map(f64::to_bits), Ok(want.to_bits()), "{}", text);
        }

        #[test]
        fn go_g_output_round_trips(bits: u64) {
            let f = f64::from_bits(bits);
            prop_assume!(f.is_finite());
            let mut s = String::new();
            push_go_float(&mut s, f);
            prop_assert_eq!(s.parse::<f64>().unwrap().to_bits(), f.to_bits(), "{}", s);
        }
    }
}
