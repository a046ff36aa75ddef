//! Rendering one conversion with C `printf` rules (widths, flags, precision, length casts).

use super::{Conversion, FormatError, FormatSpec};
use crate::value::{BufMode, Value, format_buffer};

/// Appends the rendering of `arg` under `spec` to `out`.
pub(super) fn render(spec: &FormatSpec, arg: &Value, out: &mut String) -> Result<(), FormatError> {
    match spec.conversion {
        Conversion::S => {
            let text = arg.to_text();
            pad_text(spec, truncate(&text, spec.precision), out);
        }
        Conversion::R | Conversion::Rx | Conversion::Rh => {
            let text = match arg {
                Value::Buf(bytes) => format_buffer(bytes, buf_mode(spec.conversion)),
                other => other.to_text(),
            };
            pad_text(spec, truncate(&text, spec.precision), out);
        }
        Conversion::C => {
            let bits = integer_bits(spec, arg)?;
            // `%c` prints the low byte; bytes above 0x7f map to U+0080..U+00FF.
            let ch = char::from(bits as u8);
            pad_text(spec, ch.encode_utf8(&mut [0; 4]), out);
        }
        Conversion::P => {
            let bits = integer_bits(spec, arg)?;
            if bits == 0 {
                pad_text(spec, "(nil)", out);
            } else {
                // glibc formats non-null pointers like `%#lx`.
                pad_number(spec, "0x", &format!("{bits:x}"), false, out);
            }
        }
        Conversion::D | Conversion::I => {
            let bits = integer_bits(spec, arg)?;
            let value = sign_extend(bits, spec.length.bits());
            let sign = if value < 0 {
                "-"
            } else if spec.flags.plus {
                "+"
            } else if spec.flags.space {
                " "
            } else {
                ""
            };
            let digits = value.unsigned_abs().to_string();
            pad_number(spec, sign, &digits, value == 0, out);
        }
        Conversion::U | Conversion::O | Conversion::X | Conversion::UpperX => {
            let bits = integer_bits(spec, arg)?;
            let value = truncate_bits(bits, spec.length.bits());
            let mut digits = match spec.conversion {
                Conversion::O => format!("{value:o}"),
                Conversion::X => format!("{value:x}"),
                Conversion::UpperX => format!("{value:X}"),
                _ => value.to_string(),
            };
            let mut prefix = "";
            if spec.flags.alternate {
                match spec.conversion {
                    Conversion::X if value != 0 => prefix = "0x",
                    Conversion::UpperX if value != 0 => prefix = "0X",
                    Conversion::O => {
                        // C: the precision is increased so the first digit is a zero.
                        let min = spec.precision.unwrap_or(0);
                        if !digits.starts_with('0') && digits.len() >= min {
                            digits.insert(0, '0');
                        }
                    }
                    _ => {}
                }
            }
            let octal_zero = spec.conversion == Conversion::O && spec.flags.alternate;
            pad_number(spec, prefix, &digits, value == 0 && !octal_zero, out);
        }
    }
    Ok(())
}

fn buf_mode(conversion: Conversion) -> BufMode {
    match conversion {
        Conversion::Rx => BufMode::HexEscaped,
        Conversion::Rh => BufMode::Hex,
        _ => BufMode::Escaped,
    }
}

fn integer_bits(spec: &FormatSpec, arg: &Value) -> Result<u64, FormatError> {
    arg.as_bits().ok_or_else(|| FormatError::NotAnInteger {
        conversion: spec.conversion.as_str(),
        value: arg.to_text(),
    })
}

fn sign_extend(bits: u64, width: u32) -> i64 {
    let shift = 64 - width;
    ((bits << shift) as i64) >> shift
}

fn truncate_bits(bits: u64, width: u32) -> u64 {
    if width >= 64 {
        bits
    } else {
        bits & ((1u64 << width) - 1)
    }
}

/// Cuts `text` to at most `precision` bytes, on a character boundary.
fn truncate(text: &str, precision: Option<usize>) -> &str {
    match precision {
        Some(max) if max < text.len() => {
            let mut end = max;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            &text[..end]
        }
        _ => text,
    }
}

/// Pads a string conversion to the field width with spaces.
fn pad_text(spec: &FormatSpec, text: &str, out: &mut String) {
    let fill = spec.width.unwrap_or(0).saturating_sub(text.len());
    if spec.flags.left {
        out.push_str(text);
        push_repeated(out, ' ', fill);
    } else {
        push_repeated(out, ' ', fill);
        out.push_str(text);
    }
}

/// Pads a numeric conversion: `prefix` (sign or `0x`), precision zeros, digits, field width.
fn pad_number(spec: &FormatSpec, prefix: &str, digits: &str, is_zero: bool, out: &mut String) {
    // C: a zero value with an explicit precision of 0 prints no digits.
    let digits = if is_zero && spec.precision == Some(0) {
        ""
    } else {
        digits
    };
    let precision_zeros = spec.precision.unwrap_or(0).saturating_sub(digits.len());
    let body_len = prefix.len() + precision_zeros + digits.len();
    let fill = spec.width.unwrap_or(0).saturating_sub(body_len);
    if spec.flags.left {
        out.push_str(prefix);
        push_repeated(out, '0', precision_zeros);
        out.push_str(digits);
        push_repeated(out, ' ', fill);
    } else if spec.flags.zero && spec.precision.is_none() {
        out.push_str(prefix);
        push_repeated(out, '0', fill + precision_zeros);
        out.push_str(digits);
    } else {
        push_repeated(out, ' ', fill);
        out.push_str(prefix);
        push_repeated(out, '0', precision_zeros);
        out.push_str(digits);
    }
}

fn push_repeated(out: &mut String, ch: char, count: usize) {
    out.extend(std::iter::repeat_n(ch, count));
}

#[cfg(test)]
mod tests {
    use crate::printf::parse_format;
    use crate::value::Value;

    fn fmt(format: &str, args: &[Value]) -> String {
        parse_format(format).unwrap().format(args).unwrap()
    }

    fn ints(values: &[i64]) -> Vec<Value> {
        values.iter().map(|&v| Value::Int(v)).collect()
    }

    #[test]
    fn integer_widths_and_flags() {
        // Expected texts match glibc printf (bpftrace 0.17 formats with snprintf).
        assert_eq!(
            fmt(
                "%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%u\n",
                &ints(&[42, 42, 42, 42, 42, 255, 255, 8, -1])
            ),
            "42|   42|42   |00042|+42|ff|FF|10|4294967295\n"
        );
        assert_eq!(
            fmt(
                "%05d|%-05d|%5x|%-8X|%08x|%d|%i",
                &ints(&[-42, -42, 255, 255, 255, -2147483649, 4294967295])
            ),
            "-0042|-42  |   ff|FF      |000000ff|2147483647|-1"
        );
        assert_eq!(fmt("% d|% d|%+d", &ints(&[5, -5, -5])), " 5|-5|-5");
    }

    #[test]
    fn precision_on_integers() {
        assert_eq!(
            fmt("%8.3d|%-8.3d|%.0d|%08.3d|%i|", &ints(&[5, 5, 0, 5, -9])),
            "     005|005     ||     005|-9|"
        );
        assert_eq!(
            fmt(
                "%.3x|%#.0o|%#o|%#x|%#X|%#x",
                &ints(&[10, 0, 8, 255, 255, 0])
            ),
            "00a|0|010|0xff|0XFF|0"
        );
        assert_eq!(fmt("%#5o|%-#6x|", &ints(&[8, 16])), "  010|0x10  |");
    }

    #[test]
    fn length_modifiers_cast_like_c() {
        // Captured from bpftrace 0.17 on 2026-11-22:
        // printf("%d %ld %lld %hd %hhd %lu %llu\n", 1234567890123, 1234567890123,
        //        1234567890123, 70000, 300, -1, -1)
        assert_eq!(
            fmt(
                "%d %ld %lld %hd %hhd %lu %llu\n",
                &ints(&[
                    1234567890123,
                    1234567890123,
                    1234567890123,
                    70000,
                    300,
                    -1,
                    -1
                ])
            ),
            "1912276171 1234567890123 1234567890123 4464 44 18446744073709551615 18446744073709551615\n"
        );
        // printf("%x %lx %hx %hhx %X %llX\n", -1, -1, -1, -1, -255, -255)
        assert_eq!(
            fmt(
                "%x %lx %hx %hhx %X %llX\n",
                &ints(&[-1, -1, -1, -1, -255, -255])
            ),
            "ffffffff ffffffffffffffff ffff ff FFFFFF01 FFFFFFFFFFFFFF01\n"
        );
        // printf("%zd %jd %td %zu\n", -1, -1, -1, -1)
        assert_eq!(
            fmt("%zd %jd %td %zu\n", &ints(&[-1, -1, -1, -1])),
            "-1 -1 -1 18446744073709551615\n"
        );
        assert_eq!(
            fmt(
                "%lld %llu %llx",
                &[
                    Value::Int(i64::MIN),
                    Value::UInt(u64::MAX),
                    Value::UInt(u64::MAX)
                ]
            ),
            "-9223372036854775808 18446744073709551615 ffffffffffffffff"
        );
        assert_eq!(
            fmt("%hu %hhu %lu %u %o %lo", &ints(&[-1, -1, -1, -1, -1, -1])),
            "65535 255 18446744073709551615 4294967295 37777777777 1777777777777777777777"
        );
        assert_eq!(fmt("%d %d", &[Value::Bool(true), Value::UInt(7)]), "1 7");
    }

    #[test]
    fn strings() {
        // Captured from bpftrace 0.17: `[hello] [        hi] [hi        ] [he] [    h] []`.
        assert_eq!(
            fmt(
                "[%s] [%10s] [%-10s] [%.2s] [%5.1s] [%s]\n",
                &[
                    Value::Str("hello".into()),
                    Value::Str("hi".into()),
                    Value::Str("hi".into()),
                    Value::Str("hello".into()),
                    Value::Str("hello".into()),
                    Value::Str(String::new()),
                ]
            ),
            "[hello] [        hi] [hi        ] [he] [    h] []\n"
        );
        // `%s` of non-strings prints their text form.
        assert_eq!(
            fmt(
                "%s %s %s|%4s|",
                &[
                    Value::Int(12),
                    Value::Int(-3),
                    Value::Tuple(vec![Value::Int(1), Value::Str("a".into())]),
                    Value::Buf(b"a\x01".to_vec()),
                ]
            ),
            "12 -3 (1, a)|a\\x01|"
        );
        // Precision never splits a UTF-8 character.
        assert_eq!(fmt("%.2s", &[Value::Str("aé".into())]), "a");
    }

    #[test]
    fn chars_pointers_percent() {
        // Captured from bpftrace 0.17 (`%%` fixed to print `%` as current bpftrace):
        // printf("%c%c%c %p %p %%\n", 65, 66, 10, 4096, 0) → "AB\n 0x1000 (nil) %%\n".
        assert_eq!(
            fmt("%c%c%c %p %p %%\n", &ints(&[65, 66, 10, 4096, 0])),
            "AB\n 0x1000 (nil) %\n"
        );
        assert_eq!(fmt("[%3c][%-3c]", &ints(&[66, 67])), "[  B][C  ]");
        // glibc: zero padding goes after the `0x` of `%p`, never into strings.
        assert_eq!(
            fmt(
                "%05p|%05s|%7p",
                &[Value::Int(16), Value::Str("ab".into()), Value::Int(0)]
            ),
            "0x010|   ab|  (nil)"
        );
        assert_eq!(
            fmt("%10p|%-10p|%p", &ints(&[4096, 255, -1])),
            "    0x1000|0xff      |0xffffffffffffffff"
        );
    }

    #[test]
    fn buffers() {
        // Captured from bpftrace 0.17:
        // printf("%r|%rx|%rh\n", buf("ab\x01\xff\n", 5), buf("ab\x01\xff", 4), buf("ab\x01\xff", 4))
        assert_eq!(
            fmt(
                "%r|%rx|%rh\n",
                &[
                    Value::Buf(b"ab\x01\xff\n".to_vec()),
                    Value::Buf(b"ab\x01\xff".to_vec()),
                    Value::Buf(b"ab\x01\xff".to_vec()),
                ]
            ),
            "ab\\x01\\xff\\x0a|\\x61\\x62\\x01\\xff|61 62 01 ff\n"
        );
        assert_eq!(fmt("%r", &[Value::Str("plain".into())]), "plain");
    }
}
