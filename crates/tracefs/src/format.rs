//! Parser for tracepoint `format` files (`/sys/kernel/tracing/events/<cat>/<name>/format`).

use crate::field_type::{ArrayLen, FieldType};

/// Errors from [`parse_format`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// No `name:` line.
    #[error("format has no `name:` line")]
    MissingName,
    /// No `ID:` line.
    #[error("format has no `ID:` line")]
    MissingId,
    /// The `ID:` value is not a number.
    #[error("invalid ID `{0}`")]
    BadId(String),
    /// A `field:` line could not be parsed.
    #[error("line {line}: {reason}: `{text}`")]
    BadField {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A parsed event format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    /// Event name (`sys_enter_openat`).
    pub name: String,
    /// Event id (the perf event `config` for tracepoints).
    pub id: u32,
    /// Fields in file order; the `common_*` fields come first.
    pub fields: Vec<Field>,
    /// Text after `print fmt: `, possibly spanning several lines, trailing newline removed.
    pub print_fmt: String,
}

impl EventFormat {
    /// Fields other than the `common_*` header fields.
    pub fn args(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.is_common())
    }

    /// Any field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Size of the fixed part of the record: the largest `offset + size`.
    pub fn record_size(&self) -> u32 {
        self.fields
            .iter()
            .map(|f| f.offset.saturating_add(f.size))
            .max()
            .unwrap_or(0)
    }
}

/// One `field:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The declaration as written between `field:` and `;` (`char comm[16]`).
    pub decl: String,
    /// Field name (`comm`).
    pub name: String,
    /// The declaration without the name (`char[16]`, `const char *`, `__data_loc char[]`).
    pub c_type: String,
    /// Byte offset in the record.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// The `signed:` flag.
    pub signed: bool,
    /// Structured type.
    pub ty: FieldType,
}

impl Field {
    /// Whether this is one of the `common_*` header fields.
    pub fn is_common(&self) -> bool {
        self.name.starts_with("common_")
    }
}

/// Parses the text of a tracepoint `format` file.
pub fn parse_format(text: &str) -> Result<EventFormat, FormatError> {
    let mut name = None;
    let mut id = None;
    let mut fields = Vec::new();
    let mut print_fmt = String::new();
    let mut lines = text.lines().enumerate();
    while let Some((idx, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("name:") {
            name = Some(rest.trim().to_string());
        } else if let Some(rest) = trimmed.strip_prefix("ID:") {
            let rest = rest.trim();
            id = Some(
                rest.parse::<u32>()
                    .map_err(|_| FormatError::BadId(rest.to_string()))?,
            );
        } else if let Some(rest) = trimmed.strip_prefix("print fmt:") {
            let mut fmt = rest.strip_prefix(' ').unwrap_or(rest).to_string();
            for (_, more) in lines.by_ref() {
                fmt.push('\n');
                fmt.push_str(more);
            }
            print_fmt = fmt.trim_end_matches('\n').to_string();
        } else if trimmed.starts_with("field") {
            fields.push(
                parse_field(trimmed).map_err(|reason| FormatError::BadField {
                    line: idx + 1,
                    text: line.to_string(),
                    reason,
                })?,
            );
        }
    }
    Ok(EventFormat {
        name: name.ok_or(FormatError::MissingName)?,
        id: id.ok_or(FormatError::MissingId)?,
        fields,
        print_fmt,
    })
}

/// Parses `field:DECL; offset:N; size:N; signed:N;` (older kernels also wrote
/// `field special:`; `signed:` may be missing).
fn parse_field(line: &str) -> Result<Field, &'static str> {
    let mut parts = line.split(';').map(str::trim);
    let first = parts.next().unwrap_or_default();
    let (_, decl) = first.split_once(':').ok_or("missing `field:`")?;
    let decl = decl.trim();
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in parts.filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once(':').ok_or("expected `key:value`")?;
        let number = || value.trim().parse::<u32>().map_err(|_| "invalid number");
        match key.trim() {
            "offset" => offset = Some(number()?),
            "size" => size = Some(number()?),
            "signed" => signed = number()? != 0,
            _ => {}
        }
    }
    let offset = offset.ok_or("missing offset")?;
    let size = size.ok_or("missing size")?;
    let (base, name, array) = split_decl(decl)?;
    let c_type = match (array, decl.rfind('[')) {
        (Some(_), Some(open)) => format!("{base}{}", &decl[open..]),
        _ => base.to_string(),
    };
    Ok(Field {
        decl: decl.to_string(),
        name: name.to_string(),
        ty: FieldType::classify(base, array, size, signed),
        c_type,
        offset,
        size,
        signed,
    })
}

/// Splits `const char * filename` / `char comm[16]` / `__data_loc char[] cmd` into the
/// type text, the name and an optional array length.
fn split_decl(decl: &str) -> Result<(&str, &str, Option<ArrayLen>), &'static str> {
    let (head, array) = match decl.strip_suffix(']') {
        Some(inner) => {
            let open = inner.rfind('[').ok_or("unbalanced `]`")?;
            let len_text = inner[open + 1..].trim();
            let len = if len_text.is_empty() {
                ArrayLen::Flexible
            } else {
                len_text
                    .parse::<u32>()
                    .map_or(ArrayLen::Symbolic, ArrayLen::Fixed)
            };
            (inner[..open].trim_end(), Some(len))
        }
        None => (decl, None),
    };
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let name_start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident(c))
        .last()
        .map(|(i, _)| i)
        .ok_or("missing field name")?;
    let base = head[..name_start].trim();
    if base.is_empty() {
        return Err("missing field type");
    }
    Ok((base, &head[name_start..], array))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAT: &str = include_str!("../test_data/sys_enter_openat.format");

    #[test]
    fn parses_openat() {
        let f = parse_format(OPENAT).unwrap();
        assert_eq!((f.name.as_str(), f.id), ("sys_enter_openat", 782));
        assert_eq!(f.fields.len(), 9);
        assert_eq!(f.args().count(), 5);
        let filename = f.field("filename").unwrap();
        assert_eq!(filename.c_type, "const char *");
        assert_eq!(
            (filename.offset, filename.size, filename.signed),
            (24, 8, false)
        );
        assert_eq!(
            filename.ty,
            FieldType::Pointer {
                pointee: "const char".into()
            }
        );
        let dfd = f.field("dfd").unwrap();
        assert_eq!(
            dfd.ty,
            FieldType::Int {
                size: 8,
                signed: false
            }
        );
        let mode = f.field("mode").unwrap();
        assert_eq!((mode.c_type.as_str(), mode.offset), ("umode_t", 40));
        assert!(f.field("common_pid").unwrap().is_common());
        assert_eq!(
            f.field("common_pid").unwrap().ty,
            FieldType::Int {
                size: 4,
                signed: true
            }
        );
        assert!(f.print_fmt.starts_with("\"dfd: 0x%08lx"));
        assert_eq!(f.record_size(), 48);
    }

    #[test]
    fn parses_arrays_and_data_loc() {
        let f = parse_format(include_str!("../test_data/block_rq_issue.format")).unwrap();
        let comm = f.field("comm").unwrap();
        assert_eq!(
            (comm.c_type.as_str(), comm.decl.as_str()),
            ("char[16]", "char comm[16]")
        );
        assert!(comm.ty.is_string());
        let cmd = f.field("cmd").unwrap();
        assert_eq!(cmd.c_type, "__data_loc char[]");
        assert_eq!(
            cmd.ty,
            FieldType::DataLoc {
                elem: "char".into()
            }
        );
        let dev = f.field("dev").unwrap();
        assert_eq!(
            dev.ty,
            FieldType::Int {
                size: 4,
                signed: false
            }
        );
    }

    #[test]
    fn multi_line_print_fmt() {
        let text = "name: x\nID: 7\nformat:\n\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n\n\
                    print fmt: \"%d\nmore\", REC->a\n";
        let f = parse_format(text).unwrap();
        assert_eq!(f.print_fmt, "\"%d\nmore\", REC->a");
        assert_eq!(f.fields[0].name, "a");
    }

    #[test]
    fn decl_splitting() {
        let split = |d| split_decl(d).unwrap();
        assert_eq!(
            split("const char * filename"),
            ("const char *", "filename", None)
        );
        assert_eq!(split("const void* ip"), ("const void*", "ip", None));
        assert_eq!(
            split("char comm[16]"),
            ("char", "comm", Some(ArrayLen::Fixed(16)))
        );
        assert_eq!(
            split("unsigned long args[]"),
            ("unsigned long", "args", Some(ArrayLen::Flexible))
        );
        assert_eq!(
            split("char comm[TASK_COMM_LEN]"),
            ("char", "comm", Some(ArrayLen::Symbolic))
        );
        assert_eq!(
            split("__data_loc char[] name"),
            ("__data_loc char[]", "name", None)
        );
        assert_eq!(
            split("const char *const * argv"),
            ("const char *const *", "argv", None)
        );
        assert!(split_decl("x]").is_err());
        assert!(split_decl("name").is_err());
        assert!(split_decl("int *").is_err());
    }

    #[test]
    fn errors() {
        assert_eq!(parse_format("ID: 1\n"), Err(FormatError::MissingName));
        assert_eq!(parse_format("name: a\n"), Err(FormatError::MissingId));
        assert_eq!(
            parse_format("name: a\nID: x\n"),
            Err(FormatError::BadId("x".into()))
        );
        let bad = "name: a\nID: 1\nformat:\n\tfield:int a;\toffset:z;\tsize:4;\n";
        assert!(matches!(
            parse_format(bad),
            Err(FormatError::BadField {
                line: 4,
                reason: "invalid number",
                ..
            })
        ));
        let no_size = "name: a\nID: 1\nformat:\n\tfield:int a;\toffset:4;\n";
        assert!(matches!(
            parse_format(no_size),
            Err(FormatError::BadField {
                reason: "missing size",
                ..
            })
        ));
    }

    #[test]
    fn truncated_and_mangled_text_never_panics() {
        for end in (0..OPENAT.len()).filter(|&i| OPENAT.is_char_boundary(i)) {
            let _ = parse_format(&OPENAT[..end]);
        }
        for (from, to) in [
            (";", ""),
            (":", ";"),
            ("[", "]"),
            ("field:", "field:é["),
            ("\t", ""),
        ] {
            let _ = parse_format(&OPENAT.replace(from, to));
        }
        assert!(parse_format("").is_err());
    }

    #[test]
    fn old_style_special_field_without_signed() {
        let text = "name: x\nID: 3\nformat:\n\tfield special:int common_pc;\toffset:0;\tsize:4;\n";
        let f = parse_format(text).unwrap();
        assert_eq!(f.fields[0].name, "common_pc");
        assert!(!f.fields[0].signed);
    }
}
