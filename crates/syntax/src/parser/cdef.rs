//! Script C definitions: `struct`/`union`/`enum`/`typedef`, kept raw plus members.

use super::Parser;
use crate::ast::{CDefKind, CDefinition, CField};
use crate::lexer::span;

/// Replaces comments with spaces (keeping offsets) so scanning ignores them.
fn blank_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                out[i] = b' ';
                i += 1;
            }
        } else if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let end = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            for b in &mut out[i..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII spaces, so the result is valid UTF-8
    // wherever the input was; fall back to the original on the impossible error.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// Splits `text` at `sep` bytes that are outside `{}`/`()`/`[]`, with offsets.
fn split_top(text: &str, sep: u8) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => depth -= 1,
            _ if b == sep && depth == 0 => {
                parts.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((start, &text[start..]));
    parts
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_ident(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses one declarator (`**name[4][2]`) into (pointer depth, name, array dims).
fn declarator(text: &str) -> (u32, String, Vec<u64>) {
    let text = text.trim();
    let (head, dims) = match text.find('[') {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let array_lens = dims
        .split('[')
        .skip(1)
        .map(|d| parse_c_int(d.split(']').next().unwrap_or("").trim()).unwrap_or(0))
        .collect();
    let head = head.trim();
    // Function pointer: `(*name)(args)`.
    if let Some(inner) = head.strip_prefix('(') {
        let stars = inner
            .chars()
            .take_while(|&c| c == '*' || c == ' ')
            .filter(|&c| c == '*');
        let depth = u32::try_from(stars.count()).unwrap_or(u32::MAX);
        let name: String = inner
            .trim_start_matches(['*', ' '])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return (depth, name, array_lens);
    }
    let depth = u32::try_from(head.chars().filter(|&c| c == '*').count()).unwrap_or(u32::MAX);
    let name = head.trim_start_matches(['*', ' ']).trim().to_string();
    (depth, name, array_lens)
}

fn parse_c_int(text: &str) -> Option<u64> {
    let t = text.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        t.parse().ok()
    }
}

/// Parses the `;`-separated member list of a struct/union body at `base` offset.
fn parse_members(body: &str, base: usize) -> Vec<CField> {
    let mut fields = Vec::new();
    for (off, member) in split_top(body, b';') {
        let trimmed = member.trim();
        if trimmed.is_empty() {
            continue;
        }
        let lead = member.len() - member.trim_start().len();
        let mspan = span(base + off + lead, base + off + lead + trimmed.len());
        // Nested struct/union definition used as a member.
        if let (Some(open), Some(close)) = (trimmed.find('{'), trimmed.rfind('}')) {
            fields.push(CField {
                type_name: normalize(&trimmed[..open]),
                pointer_depth: 0,
                array_lens: Vec::new(),
                name: normalize(&trimmed[close + 1..]),
                bit_width: None,
                span: mspan,
            });
            continue;
        }
        let declarators = split_top(trimmed, b',');
        let first = declarators[0].1;
        // Bit-field width.
        let (first, bit_width) = match first.rsplit_once(':') {
            Some((decl, width)) if width.trim().parse::<u32>().is_ok() => {
                (decl, width.trim().parse().ok())
            }
            _ => (first, None),
        };
        // The type is everything before the declarator: the last identifier (or a
        // `(*name)` group) possibly preceded by stars.
        let decl_start = match first.find('(') {
            Some(p) => p,
            None => {
                let before_dims = first.find('[').unwrap_or(first.len());
                let head = first[..before_dims].trim_end();
                let name_start = head
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |i| i + 1);
                let mut s = name_start;
                while s > 0 && matches!(first.as_bytes()[s - 1], b'*' | b' ' | b'\t' | b'\n') {
                    s -= 1;
                }
                s
            }
        };
        let type_name = normalize(&first[..decl_start]);
        let (pointer_depth, name, array_lens) = declarator(&first[decl_start..]);
        if type_name.is_empty() || !is_ident(&name) {
            // Not a recognisable declaration; keep what we can.
            fields.push(CField {
                type_name: normalize(first),
                pointer_depth: 0,
                array_lens: Vec::new(),
                name: String::new(),
                bit_width,
                span: mspan,
            });
            continue;
        }
        fields.push(CField {
            type_name: type_name.clone(),
            pointer_depth,
            array_lens,
            name,
            bit_width,
            span: mspan,
        });
        for (_, extra) in &declarators[1..] {
            let (extra, width) = match extra.rsplit_once(':') {
                Some((d, w)) if w.trim().parse::<u32>().is_ok() => (d, w.trim().parse().ok()),
                _ => (*extra, None),
            };
            let (pointer_depth, name, array_lens) = declarator(extra);
            fields.push(CField {
                type_name: type_name.clone(),
                pointer_depth,
                array_lens,
                name,
                bit_width: width,
                span: mspan,
            });
        }
    }
    fields
}

/// Finds the end of a definition starting at `start` in `text`: after the `;` that
/// follows the outermost `}` (or the first `;` at depth 0). Returns (end, terminated).
fn definition_end(clean: &str, is_typedef: bool) -> (usize, bool) {
    let bytes = clean.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 && !is_typedef {
                    // struct X { ... } [__attribute__((...))]* [;]
                    let mut end = i + 1;
                    loop {
                        let j = skip_ws(bytes, end);
                        if bytes.get(j) == Some(&b';') {
                            return (j + 1, true);
                        }
                        if !clean[j..].starts_with("__attribute__") {
                            return (end, true);
                        }
                        let k = skip_ws(bytes, j + "__attribute__".len());
                        match balanced_parens(bytes, k) {
                            Some(after) => end = after,
                            None => return (end, true),
                        }
                    }
                }
            }
            b';' if depth == 0 => return (i + 1, true),
            _ => {}
        }
        i += 1;
    }
    (bytes.len(), false)
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// If `bytes[i]` is `(`, the offset after its matching `)`.
fn balanced_parens(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'(') {
        return None;
    }
    let mut depth = 0;
    for (k, &b) in bytes.iter().enumerate().skip(i) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

impl Parser<'_> {
    /// Parses a C definition starting at the lexer position (raw mode).
    pub(crate) fn c_definition(&mut self) -> CDefinition {
        let src = self.lexer.source();
        let start = self.lexer.pos();
        let rest = &src[start..];
        let clean_rest = blank_comments(rest);
        let keyword = clean_rest.split_whitespace().next().unwrap_or("");
        let kind = match keyword {
            "struct" => CDefKind::Struct,
            "union" => CDefKind::Union,
            "enum" => CDefKind::Enum,
            _ => CDefKind::Typedef,
        };
        let (len, terminated) = definition_end(&clean_rest, kind == CDefKind::Typedef);
        let end = start + len;
        self.lexer.set_pos(end);
        if !terminated {
            self.error(
                span(start, start + keyword.len()),
                format!("unterminated {keyword} definition, expecting ;"),
            );
        }
        let raw = src[start..end].to_string();
        let clean = &clean_rest[..len];
        let body = clean.find('{').zip(clean.rfind('}'));
        let after_kw = clean[keyword.len()..].trim_start();
        let mut def = CDefinition {
            kind,
            name: None,
            raw,
            members: Vec::new(),
            enumerators: Vec::new(),
            typedef_target: None,
            span: span(start, end),
        };
        match kind {
            CDefKind::Struct | CDefKind::Union | CDefKind::Enum => {
                let name = after_kw
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("");
                def.name = is_ident(name).then(|| name.to_string());
                if let Some((open, close)) = body.filter(|(o, c)| o < c) {
                    let inner = &clean[open + 1..close];
                    if kind == CDefKind::Enum {
                        def.enumerators = parse_enumerators(inner);
                    } else {
                        def.members = parse_members(inner, start + open + 1);
                    }
                }
            }
            CDefKind::Typedef => {
                let decl = after_kw.trim_end().trim_end_matches(';');
                if let Some((open, close)) = body.filter(|(o, c)| o < c) {
                    let inner = &clean[open + 1..close];
                    def.members = parse_members(inner, start + open + 1);
                    let head = &clean[keyword.len()..open];
                    def.typedef_target = Some(normalize(head));
                    let tail = clean[close + 1..].trim().trim_end_matches(';');
                    let (_, name, _) = declarator(tail);
                    def.name = is_ident(&name).then_some(name);
                } else {
                    let fake = format!("{decl};");
                    let members = parse_members(&fake, 0);
                    if let Some(m) = members.first().filter(|m| !m.name.is_empty()) {
                        let stars = "*".repeat(m.pointer_depth as usize);
                        def.typedef_target = Some(normalize(&format!("{} {stars}", m.type_name)));
                        def.name = Some(m.name.clone());
                    }
                }
            }
        }
        def
    }
}

fn parse_enumerators(body: &str) -> Vec<(String, Option<String>)> {
    split_top(body, b',')
        .into_iter()
        .filter_map(|(_, item)| {
            let item = item.trim();
            if item.is_empty() {
                return None;
            }
            match item.split_once('=') {
                Some((n, v)) => Some((n.trim().to_string(), Some(normalize(v)))),
                None => Some((item.to_string(), None)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Shape = (String, u32, Vec<u64>, String, Option<u32>);

    fn members(body: &str) -> Vec<Shape> {
        parse_members(body, 0)
            .into_iter()
            .map(|f| {
                (
                    f.type_name,
                    f.pointer_depth,
                    f.array_lens,
                    f.name,
                    f.bit_width,
                )
            })
            .collect()
    }

    #[test]
    fn member_shapes() {
        let m = members(
            " int a; char *b; struct foo **c[4]; unsigned long d : 3; u8 e[2][3], *f; void (*fn)(int); char g[]; ",
        );
        assert_eq!(
            m,
            vec![
                ("int".into(), 0, vec![], "a".into(), None),
                ("char".into(), 1, vec![], "b".into(), None),
                ("struct foo".into(), 2, vec![4], "c".into(), None),
                ("unsigned long".into(), 0, vec![], "d".into(), Some(3)),
                ("u8".into(), 0, vec![2, 3], "e".into(), None),
                ("u8".into(), 1, vec![], "f".into(), None),
                ("void".into(), 1, vec![], "fn".into(), None),
                ("char".into(), 0, vec![0], "g".into(), None),
            ]
        );
    }

    #[test]
    fn nested_and_comments() {
        let m = members(&blank_comments(
            " union { int x; long y; } u; /* c; */ int z; // q;\n",
        ));
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "union");
        assert_eq!(m[0].3, "u");
        assert_eq!(m[1].3, "z");
    }

    #[test]
    fn enumerators() {
        assert_eq!(
            parse_enumerators(" A = 1, B, C = 1 << 2, "),
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), None),
                ("C".into(), Some("1 << 2".into()))
            ]
        );
    }

    #[test]
    fn definition_ends() {
        assert_eq!(
            definition_end("struct a { int x; }; BEGIN {}", false),
            (20, true)
        );
        assert_eq!(
            definition_end("struct a { int x; }\nBEGIN {}", false),
            (19, true)
        );
        assert_eq!(definition_end("struct a;", false), (9, true));
        assert_eq!(
            definition_end("typedef struct { int x; } t; B", true),
            (28, true)
        );
        assert_eq!(definition_end("struct a { int x;", false), (17, false));
        let packed = "struct a { } __attribute__ ((packed)) __attribute__((x(1)));B";
        assert_eq!(definition_end(packed, false), (packed.len() - 1, true));
        let packed = "struct a { } __attribute__ ((packed))\nB";
        assert_eq!(definition_end(packed, false), (packed.len() - 2, true));
    }
}
