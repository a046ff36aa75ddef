//! Quoted string and character literal scanning with C escapes.

/// An error location and message: (start, end, message).
pub type LexError = (usize, usize, String);

/// Scans a literal quoted by `quote` starting at `start` (the opening quote).
/// Returns the decoded bytes, the offset after the closing quote (or where scanning
/// stopped) and the first error, if any. Literals cannot span lines.
pub fn lex_quoted(bytes: &[u8], start: usize, quote: u8) -> (Vec<u8>, usize, Option<LexError>) {
    let mut out = Vec::new();
    let mut pos = start + 1;
    let mut err: Option<LexError> = None;
    let what = if quote == b'"' {
        "string"
    } else {
        "character literal"
    };
    loop {
        match bytes.get(pos).copied() {
            None | Some(b'\n') => {
                return (
                    out,
                    pos,
                    err.or(Some((start, pos, format!("unterminated {what}")))),
                );
            }
            Some(b) if b == quote => return (out, pos + 1, err),
            Some(b'\\') => {
                let esc_start = pos;
                pos += 1;
                let Some(e) = bytes.get(pos).copied() else {
                    continue;
                };
                pos += 1;
                let decoded = match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'v' => 0x0b,
                    b'e' => 0x1b,
                    b'\\' => b'\\',
                    b'"' => b'"',
                    b'\'' => b'\'',
                    b'?' => b'?',
                    b'x' => {
                        let digits = take_while(bytes, pos, 2, |b| b.is_ascii_hexdigit());
                        if digits == 0 {
                            err.get_or_insert((
                                esc_start,
                                pos,
                                "invalid escape sequence: \\x needs hex digits".into(),
                            ));
                            continue;
                        }
                        let v = parse_radix(&bytes[pos..pos + digits], 16);
                        pos += digits;
                        v
                    }
                    b'0'..=b'7' => {
                        let digits = 1 + take_while(bytes, pos, 2, |b| (b'0'..=b'7').contains(&b));
                        let v = parse_radix(&bytes[pos - 1..pos - 1 + digits], 8);
                        pos += digits - 1;
                        v
                    }
                    b'\n' => continue,
                    other => {
                        err.get_or_insert((
                            esc_start,
                            pos,
                            format!("invalid escape character '\\{}'", other as char),
                        ));
                        other
                    }
                };
                out.push(decoded);
            }
            Some(b) => {
                out.push(b);
                pos += 1;
            }
        }
    }
}

fn take_while(bytes: &[u8], pos: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes[pos.min(bytes.len())..]
        .iter()
        .take(max)
        .take_while(|&&b| pred(b))
        .count()
}

fn parse_radix(digits: &[u8], radix: u32) -> u8 {
    digits.iter().fold(0u32, |acc, &d| {
        acc * radix + char::from(d).to_digit(radix).unwrap_or(0)
    }) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> (Vec<u8>, usize, Option<LexError>) {
        lex_quoted(s.as_bytes(), 0, s.as_bytes()[0])
    }

    #[test]
    fn escapes() {
        let (b, end, err) = lex(r#""a\n\t\\\"\x41\101\0z" rest"#);
        assert_eq!(b, b"a\n\t\\\"AA\0z");
        assert_eq!(end, 22);
        assert!(err.is_none());
    }

    #[test]
    fn unterminated_and_bad_escape() {
        let (_, end, err) = lex("\"abc\nx\"");
        assert_eq!(end, 4);
        assert_eq!(err.unwrap().2, "unterminated string");
        let (_, _, err) = lex(r#""\q""#);
        assert_eq!(err.unwrap().2, "invalid escape character '\\q'");
        let (b, _, err) = lex(r"'\''");
        assert_eq!(b, b"'");
        assert!(err.is_none());
    }
}
