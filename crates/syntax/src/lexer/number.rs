//! Integer literal parsing: radixes, separators, exponents and suffixes.

use crate::ast::{IntSuffix, TimeUnit};

/// Parses the text of an integer literal (already delimited by the lexer).
///
/// Accepts decimal, `0x` hex, `0b` binary, leading-`0` octal, `_` separators,
/// a decimal exponent with a one-digit coefficient and exponent ≤ 16 (`1e3`, `5e9`,
/// like bpftrace), C suffixes (`u l ul ll ull`, any case) and duration suffixes
/// (`ns us ms s m h d`, scaled to nanoseconds).
pub fn parse_int(text: &str) -> Result<(u64, IntSuffix), String> {
    let lower = text.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else {
        (10, lower.as_str())
    };
    let digits_end = body
        .find(|c: char| !(c == '_' || c.is_digit(radix)))
        .unwrap_or(body.len());
    let (mut digits, mut rest) = body.split_at(digits_end);
    let mut exponent = 0u32;
    if radix == 10 && rest.starts_with('e') {
        let exp_digits: &str = &rest[1..];
        let end = exp_digits
            .find(|c: char| !(c.is_ascii_digit() || c == '_'))
            .unwrap_or(exp_digits.len());
        let exp_text = &exp_digits[..end];
        if !exp_text.is_empty() {
            if exp_text.starts_with('_') || exp_text.ends_with('_') || digits.ends_with('_') {
                return Err(format!("invalid integer literal: {text}"));
            }
            let coefficient = digits.replace('_', "");
            if coefficient.len() != 1 || coefficient == "0" {
                return Err(format!(
                    "coefficient part of scientific literal must be 1-9: {text}"
                ));
            }
            exponent = exp_text.replace('_', "").parse().unwrap_or(u32::MAX);
            if exponent > 16 {
                return Err(format!(
                    "exponent part of scientific literal must be at most 16: {text}"
                ));
            }
            rest = &exp_digits[end..];
        }
    }
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || digits.ends_with('_') {
        return Err(format!("invalid integer literal: {text}"));
    }
    let mut radix = radix;
    if radix == 10 && cleaned.len() > 1 && cleaned.starts_with('0') && exponent == 0 {
        radix = 8;
        if cleaned.contains(['8', '9']) {
            return Err(format!("invalid octal literal: {text}"));
        }
    }
    digits = &cleaned;
    let mut value = u64::from_str_radix(digits, radix)
        .map_err(|_| format!("integer literal out of range: {text}"))?;
    for _ in 0..exponent {
        value = value
            .checked_mul(10)
            .ok_or_else(|| format!("integer literal out of range: {text}"))?;
    }
    let suffix = match rest {
        "" => IntSuffix::None,
        "u" => IntSuffix::U,
        "l" => IntSuffix::L,
        "ul" => IntSuffix::Ul,
        "ll" => IntSuffix::Ll,
        "ull" => IntSuffix::Ull,
        unit => {
            let unit = match unit {
                "ns" => TimeUnit::Ns,
                "us" => TimeUnit::Us,
                "ms" => TimeUnit::Ms,
                "s" => TimeUnit::S,
                "m" => TimeUnit::M,
                "h" => TimeUnit::H,
                "d" => TimeUnit::D,
                _ => return Err(format!("invalid integer literal: {text}")),
            };
            if text[text.len() - rest.len()..] != *rest {
                return Err(format!("invalid integer literal: {text}"));
            }
            value = value
                .checked_mul(unit.nanos())
                .ok_or_else(|| format!("integer literal out of range: {text}"))?;
            IntSuffix::Duration(unit)
        }
    };
    Ok((value, suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> u64 {
        parse_int(text).unwrap().0
    }

    #[test]
    fn radixes() {
        assert_eq!(v("42"), 42);
        assert_eq!(v("0"), 0);
        assert_eq!(v("0x1F"), 31);
        assert_eq!(v("0b101"), 5);
        assert_eq!(v("010"), 8);
        assert_eq!(v("1_000_000"), 1_000_000);
        assert_eq!(v("1e3"), 1000);
        assert_eq!(v("0xffffffffffffffff"), u64::MAX);
    }

    #[test]
    fn suffixes() {
        assert_eq!(parse_int("5u").unwrap(), (5, IntSuffix::U));
        assert_eq!(parse_int("5ULL").unwrap(), (5, IntSuffix::Ull));
        assert_eq!(parse_int("7ul").unwrap(), (7, IntSuffix::Ul));
        assert_eq!(parse_int("1_000ll").unwrap(), (1000, IntSuffix::Ll));
        assert_eq!(
            parse_int("5ms").unwrap(),
            (5_000_000, IntSuffix::Duration(TimeUnit::Ms))
        );
        assert_eq!(
            parse_int("1s").unwrap(),
            (1_000_000_000, IntSuffix::Duration(TimeUnit::S))
        );
    }

    #[test]
    fn errors() {
        assert!(parse_int("0x").is_err());
        assert!(parse_int("09").is_err());
        assert!(parse_int("12abc").is_err());
        assert!(parse_int("99999999999999999999").is_err());
        assert!(parse_int("1_").is_err());
        assert!(parse_int("1e30").is_err());
        assert!(parse_int("5MS").is_err());
        // Scientific notation rules (bpftrace 0.17 parser tests).
        assert_eq!(v("5e9"), 5_000_000_000);
        assert_eq!(v("1e1_0"), 10_000_000_000);
        for bad in [
            "1e17", "12e4", "1_1e100", "1e1_1_", "1_1_e100", "1_1_", "1ulll", "1lul", "7lu",
        ] {
            assert!(parse_int(bad).is_err(), "{bad}");
        }
    }
}
