//! Tokenizer for the pcap-filter language (numbers, addresses, names, operators).

use crate::error::FilterError;
use std::net::Ipv6Addr;

/// A token kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A number (decimal, `0x` hex or leading-zero octal).
    Num(u32),
    /// A dotted IPv4 address or prefix with 2-4 parts (`10.1`, `1.2.3.4`).
    Ip4(Vec<u32>),
    /// An IPv6 address.
    Ip6(Ipv6Addr),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// A name or keyword; `escaped` is set for `\name` (never a keyword).
    Name { text: String, escaped: bool },
    /// Punctuation and operators (`+ - * / % & | ^ << >> ( ) [ ] : ! < > <= >= = != && ||`).
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A token and its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub col: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fn parse_number(s: &str, col: usize) -> Result<Option<u32>, FilterError> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        (h, 16)
    } else if s.chars().all(|c| c.is_ascii_digit()) {
        if s.len() > 1 && s.starts_with('0') {
            if s.chars().any(|c| c == '8' || c == '9') {
                return Err(FilterError::at(
                    col,
                    format!("number {s} contains non-octal digit"),
                ));
            }
            (&s[1..], 8)
        } else {
            (s, 10)
        }
    } else {
        return Ok(None);
    };
    match u64::from_str_radix(digits, radix) {
        Ok(v) if v <= u64::from(u32::MAX) => Ok(Some(v as u32)),
        _ => Err(FilterError::at(
            col,
            format!("number {s} overflows 32 bits"),
        )),
    }
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = if s.contains(':') {
        s.split(':').collect()
    } else if s.contains('-') {
        s.split('-').collect()
    } else {
        s.split('.').collect()
    };
    let mut out = Vec::new();
    if parts.len() == 6 {
        for p in &parts {
            if p.is_empty() || p.len() > 2 {
                return None;
            }
            out.push(u8::from_str_radix(p, 16).ok()?);
        }
    } else if parts.len() == 3 && !s.contains(':') {
        for p in &parts {
            if p.len() != 4 {
                return None;
            }
            let v = u16::from_str_radix(p, 16).ok()?;
            out.extend_from_slice(&v.to_be_bytes());
        }
    } else {
        return None;
    }
    out.try_into().ok()
}

/// Splits `src` into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // Addresses containing ':' (IPv6, MAC) are recognised before anything else.
        if c.is_ascii_hexdigit() || c == ':' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_hexdigit() || chars[j] == ':' || chars[j] == '.')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let ends_name = j < chars.len() && is_name_char(chars[j]) && chars[j] != '.';
            if word.contains(':') && !ends_name {
                if let Some(m) = parse_mac(&word) {
                    toks.push(Token {
                        tok: Tok::Mac(m),
                        col,
                    });
                    i = j;
                    continue;
                }
                if let Ok(a) = word.parse::<Ipv6Addr>() {
                    toks.push(Token {
                        tok: Tok::Ip6(a),
                        col,
                    });
                    i = j;
                    continue;
                }
                if word.matches(':').count() >= 2 {
                    return Err(FilterError::at(col, format!("bogus address {word}")));
                }
            }
        }
        if c == '\\' || c.is_ascii_alphanumeric() {
            let escaped = c == '\\';
            let start = if escaped { i + 1 } else { i };
            let mut j = start;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            // A name may not end in '-' or '_'.
            while j > start && matches!(chars[j - 1], '-' | '_') {
                j -= 1;
            }
            if j == start {
                return Err(FilterError::at(
                    col,
                    "expected a name after '\\'".to_string(),
                ));
            }
            let word: String = chars[start..j].iter().collect();
            i = j;
            if !escaped {
                if let Some(n) = parse_number(&word, col)? {
                    toks.push(Token {
                        tok: Tok::Num(n),
                        col,
                    });
                    continue;
                }
                let parts: Vec<&str> = word.split('.').collect();
                if parts.len() == 3
                    && parts.iter().all(|p| p.len() == 4)
                    && let Some(m) = parse_mac(&word)
                {
                    toks.push(Token {
                        tok: Tok::Mac(m),
                        col,
                    });
                    continue;
                }
                if (2..=4).contains(&parts.len())
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                {
                    let mut v = Vec::new();
                    for p in parts {
                        match p.parse::<u32>() {
                            Ok(n) if n <= 255 => v.push(n),
                            _ => {
                                return Err(FilterError::at(
                                    col,
                                    format!("bogus IPv4 address {word}"),
                                ));
                            }
                        }
                    }
                    toks.push(Token {
                        tok: Tok::Ip4(v),
                        col,
                    });
                    continue;
                }
                if let Some(m) =
                    parse_mac(&word).filter(|_| word.contains('.') || word.contains('-'))
                {
                    toks.push(Token {
                        tok: Tok::Mac(m),
                        col,
                    });
                    continue;
                }
            }
            toks.push(Token {
                tok: Tok::Name {
                    text: word,
                    escaped,
                },
                col,
            });
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        const TWO: [&str; 7] = [">=", "<=", "!=", "==", "<<", ">>", "&&"];
        if let Some(p) = TWO.iter().chain(["||"].iter()).find(|p| **p == two) {
            let p: &'static str = if *p == "==" { "=" } else { p };
            toks.push(Token {
                tok: Tok::Punct(p),
                col,
            });
            i += 2;
            continue;
        }
        const ONE: [&str; 17] = [
            "+", "-", "*", "/", "%", "&", "|", "^", "(", ")", "[", "]", ":", "!", "<", ">", "=",
        ];
        if let Some(p) = ONE.iter().find(|p| p.starts_with(c)) {
            toks.push(Token {
                tok: Tok::Punct(p),
                col,
            });
            i += 1;
            continue;
        }
        return Err(FilterError::at(col, format!("unexpected character '{c}'")));
    }
    toks.push(Token {
        tok: Tok::Eof,
        col: chars.len() + 1,
    });
    Ok(toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_addresses_and_numbers() {
        assert_eq!(kinds("10.1"), vec![Tok::Ip4(vec![10, 1]), Tok::Eof]);
        assert_eq!(
            kinds("0x1f 010 7"),
            vec![Tok::Num(31), Tok::Num(8), Tok::Num(7), Tok::Eof]
        );
        assert_eq!(kinds("::1")[0], Tok::Ip6("::1".parse().unwrap()));
        assert_eq!(
            kinds("aa:bb:cc:dd:ee:ff")[0],
            Tok::Mac([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(kinds("ip[0:4]")[2], Tok::Num(0));
        assert_eq!(
            kinds("tcp-syn")[0],
            Tok::Name {
                text: "tcp-syn".into(),
                escaped: false
            }
        );
        assert_eq!(
            kinds("\\ip")[0],
            Tok::Name {
                text: "ip".into(),
                escaped: true
            }
        );
        assert_eq!(kinds("a==b")[1], Tok::Punct("="));
    }

    #[test]
    fn reports_bad_numbers_with_column() {
        let e = lex("port 08").unwrap_err();
        assert_eq!(
            e.to_string(),
            "number 08 contains non-octal digit at column 6"
        );
        assert!(
            lex("ip[4294967296]")
                .unwrap_err()
                .to_string()
                .contains("overflows 32 bits")
        );
        assert!(lex("host 1.2.3.256").is_err());
        assert!(lex("a $ b").unwrap_err().to_string().contains("column 3"));
    }
}
