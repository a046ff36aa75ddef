//! Decoded runtime values and their bpftrace text and JSON renderings.
//!
//! The runtime decodes the bytes a BPF program emitted (printf arguments, `print()` values,
//! map keys and values) into [`Value`]s; this module renders them exactly as bpftrace does.

use std::fmt;

/// A decoded runtime value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// No value (unit). Prints as empty text, JSON `null`.
    None,
    /// A boolean; prints `true` / `false`.
    Bool(bool),
    /// A signed integer of any width, already sign-extended.
    Int(i64),
    /// An unsigned integer of any width.
    UInt(u64),
    /// A string, already cut at the first NUL.
    Str(String),
    /// Raw bytes from `buf()`; printable ASCII is kept, other bytes print as `\xNN`.
    Buf(Vec<u8>),
    /// A tuple; text `(1, a)`, JSON `[1,"a"]`.
    Tuple(Vec<Value>),
    /// A fixed-size array; text `[1,2]`, JSON `[1,2]`.
    Array(Vec<Value>),
    /// A struct or union value; text `{ .a = 1, .b = x }`, JSON `{ "a": 1, "b": "x" }`.
    Record(Vec<(String, Value)>),
    /// A symbolised stack (`kstack`, `ustack`).
    Stack(Stack),
    /// Already-resolved symbolic text (`ksym`, `usym`, `probe`, `username`, `ntop`, ...).
    Sym(String),
}

/// A symbolised stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stack {
    /// How frames are laid out.
    pub mode: StackMode,
    /// Frames, innermost first, already symbolised: `sym+off` in bpftrace mode,
    /// `ADDR sym+off` (hex address) in perf mode.
    pub frames: Vec<String>,
}

/// Stack layout mode (`kstack(perf)` etc.).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum StackMode {
    /// bpftrace's default: frames indented by 8 spaces (4 inside a map key).
    #[default]
    Bpftrace,
    /// perf's layout: every frame line starts with a tab.
    Perf,
}

impl Stack {
    /// A bpftrace-mode stack of the given frames.
    pub fn new(frames: Vec<String>) -> Self {
        Self {
            mode: StackMode::Bpftrace,
            frames,
        }
    }
}

/// Where a value is printed; stacks are indented less inside map keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Value,
    Key,
}

/// How `%r`-style conversions render a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufMode {
    /// `%r`: printable ASCII (32..=126) kept, other bytes as `\xNN`.
    Escaped,
    /// `%rx`: every byte as `\xNN`.
    HexEscaped,
    /// `%rh`: every byte as two hex digits, separated by single spaces.
    Hex,
}

/// Formats raw bytes the way bpftrace prints `buf()` values (`%r`, `%rx`, `%rh`).
pub fn format_buffer(bytes: &[u8], mode: BufMode) -> String {
    let mut out = String::with_capacity(bytes.len() * 4);
    for (idx, &byte) in bytes.iter().enumerate() {
        match mode {
            BufMode::Escaped if (32..=126).contains(&byte) => out.push(char::from(byte)),
            BufMode::Escaped | BufMode::HexEscaped => out.push_str(&format!("\\x{byte:02x}")),
            BufMode::Hex => {
                if idx > 0 {
                    out.push(' ');
                }
                out.push_str(&format!("{byte:02x}"));
            }
        }
    }
    out
}

impl Value {
    /// The text form used by `print()`, `%s` and text map output.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, Context::Value);
        out
    }

    /// The text form inside a map key (stacks indented by 4 instead of 8).
    pub fn to_key_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, Context::Key);
        out
    }

    fn write_text(&self, out: &mut String, ctx: Context) {
        match self {
            Value::None => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(v) => out.push_str(&v.to_string()),
            Value::UInt(v) => out.push_str(&v.to_string()),
            Value::Str(s) | Value::Sym(s) => out.push_str(s),
            Value::Buf(bytes) => out.push_str(&format_buffer(bytes, BufMode::Escaped)),
            Value::Tuple(items) => {
                out.push('(');
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        out.push_str(", ");
                    }
                    item.write_text(out, ctx);
                }
                out.push(')');
            }
            Value::Array(items) => {
                out.push('[');
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        out.push(',');
                    }
                    item.write_text(out, ctx);
                }
                out.push(']');
            }
            // bpftrace prints records compactly inside map keys: `@[{.a=1,.b=x}]`.
            Value::Record(fields) if ctx == Context::Key => {
                out.push('{');
                for (idx, (name, item)) in fields.iter().enumerate() {
                    if idx > 0 {
                        out.push(',');
                    }
                    out.push('.');
                    out.push_str(name);
                    out.push('=');
                    item.write_text(out, ctx);
                }
                out.push('}');
            }
            Value::Record(fields) => {
                out.push_str("{ ");
                for (idx, (name, item)) in fields.iter().enumerate() {
                    if idx > 0 {
                        out.push_str(", ");
                    }
                    out.push('.');
                    out.push_str(name);
                    out.push_str(" = ");
                    item.write_text(out, ctx);
                }
                out.push_str(" }");
            }
            Value::Stack(stack) => {
                let indent = match (stack.mode, ctx) {
                    (StackMode::Perf, _) => "\t",
                    (StackMode::Bpftrace, Context::Value) => "        ",
                    (StackMode::Bpftrace, Context::Key) => "    ",
                };
                out.push('\n');
                for frame in &stack.frames {
                    out.push_str(indent);
                    out.push_str(frame);
                    out.push('\n');
                }
            }
        }
    }

    /// The JSON form used by `-f json` (compact, as bpftrace: arrays without spaces).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Value::None => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) | Value::UInt(_) => {
                self.write_text(out, Context::Value);
            }
            Value::Str(_) | Value::Sym(_) | Value::Buf(_) | Value::Stack(_) => {
                json_string(&self.to_text(), out);
            }
            Value::Tuple(items) | Value::Array(items) => {
                out.push('[');
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Record(fields) => {
                out.push_str("{ ");
                for (idx, (name, item)) in fields.iter().enumerate() {
                    if idx > 0 {
                        out.push_str(", ");
                    }
                    json_string(name, out);
                    out.push_str(": ");
                    item.write_json(out);
                }
                out.push_str(" }");
            }
        }
    }

    /// Whether this value is an integer (signed or unsigned) or a boolean.
    pub fn is_integer(&self) -> bool {
        matches!(self, Value::Int(_) | Value::UInt(_) | Value::Bool(_))
    }

    /// The value as 64 raw bits, for integer-like values.
    pub(crate) fn as_bits(&self) -> Option<u64> {
        match *self {
            Value::Int(v) => Some(v as u64),
            Value::UInt(v) => Some(v),
            Value::Bool(b) => Some(u64::from(b)),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Appends `text` as a quoted JSON string, escaping like bpftrace
/// (`\"`, `\\`, `\n`, `\r`, `\t`, other control characters as `\u00XX`).
pub(crate) fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) <= 0x1f => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Text of a map key: the parts joined by `, ` (`@m[1, abc]`).
pub(crate) fn key_text(parts: &[Value]) -> String {
    parts
        .iter()
        .map(Value::to_key_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON object key of a map key: the parts' text joined by `,` (`"1,abc"`), quoted.
pub(crate) fn key_json(parts: &[Value], out: &mut String) {
    let joined = parts
        .iter()
        .map(Value::to_key_text)
        .collect::<Vec<_>>()
        .join(",");
    json_string(&joined, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    #[test]
    fn text_of_scalars_and_tuples() {
        // Captured from bpftrace 0.17 on 2026-11-22: `@d = (1, "two", 3)` → `(1, two, 3)`,
        // `@e[1, "a"] = (1, (2, "x"))` → `(1, (2, x))`.
        let tuple = Value::Tuple(vec![Value::Int(1), s("two"), Value::Int(3)]);
        assert_eq!(tuple.to_text(), "(1, two, 3)");
        let nested = Value::Tuple(vec![
            Value::Int(1),
            Value::Tuple(vec![Value::Int(2), s("x")]),
        ]);
        assert_eq!(nested.to_text(), "(1, (2, x))");
        assert_eq!(Value::Int(-5).to_text(), "-5");
        assert_eq!(Value::UInt(u64::MAX).to_text(), "18446744073709551615");
        assert_eq!(Value::Bool(true).to_text(), "true");
        assert_eq!(Value::None.to_text(), "");
        assert_eq!(
            Value::Array(vec![Value::Int(1), Value::Int(2)]).to_text(),
            "[1,2]"
        );
    }

    #[test]
    fn json_of_values() {
        // Captured from bpftrace 0.17: `print((1, "a"))` → `[1,"a"]`, `@e` → `[1,[2,"x"]]`.
        let nested = Value::Tuple(vec![
            Value::Int(1),
            Value::Tuple(vec![Value::Int(2), s("x")]),
        ]);
        assert_eq!(nested.to_json(), r#"[1,[2,"x"]]"#);
        assert_eq!(Value::None.to_json(), "null");
        assert_eq!(Value::Bool(false).to_json(), "false");
        // `@h = "s\"t\\r\n\t\x01"` → `"s\"t\\r\n\t\u0001"`.
        assert_eq!(s("s\"t\\r\n\t\x01").to_json(), r#""s\"t\\r\n\t\u0001""#);
        // `print(buf("xyz\x00\x01", 5))` → `"xyz\\x00\\x01"`.
        assert_eq!(
            Value::Buf(b"xyz\x00\x01".to_vec()).to_json(),
            r#""xyz\\x00\\x01""#
        );
    }

    #[test]
    fn records() {
        // Layout of bpftrace 0.17 `Output::struct_to_str` / `field_to_str`.
        let record = Value::Record(vec![
            ("a".to_owned(), Value::Int(1)),
            ("b".to_owned(), s("x")),
            (
                "c".to_owned(),
                Value::Array(vec![Value::Int(1), Value::Int(2)]),
            ),
        ]);
        assert_eq!(record.to_text(), "{ .a = 1, .b = x, .c = [1,2] }");
        assert_eq!(record.to_json(), r#"{ "a": 1, "b": "x", "c": [1,2] }"#);
    }

    #[test]
    fn buffers() {
        // Captured from bpftrace 0.17: printf("%r|%rx|%rh\n", ...) →
        // `ab\x01\xff\x0a|\x61\x62\x01\xff|61 62 01 ff`.
        assert_eq!(
            format_buffer(b"ab\x01\xff\n", BufMode::Escaped),
            "ab\\x01\\xff\\x0a"
        );
        assert_eq!(
            format_buffer(b"ab\x01\xff", BufMode::HexEscaped),
            "\\x61\\x62\\x01\\xff"
        );
        assert_eq!(format_buffer(b"ab\x01\xff", BufMode::Hex), "61 62 01 ff");
        // `@b = buf("a\tb\\c\x7f", 6)` → `a\x09b\c\x7f`.
        assert_eq!(
            Value::Buf(b"a\tb\\c\x7f".to_vec()).to_text(),
            "a\\x09b\\c\\x7f"
        );
        assert_eq!(format_buffer(b"", BufMode::Hex), "");
    }

    #[test]
    fn stack_text() {
        // Captured from bpftrace 0.17 on 2026-11-22 (tracepoint:syscalls:sys_enter_getpid):
        // printf("%s|\n", kstack) prints the frames indented by 8 after a newline; as a map
        // key (`@[kstack]`) they are indented by 4; perf mode uses a tab.
        let frames = vec![
            "perf_syscall_enter+397".to_owned(),
            "syscall_trace_enter+384".to_owned(),
        ];
        let stack = Value::Stack(Stack::new(frames));
        assert_eq!(
            stack.to_text(),
            "\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n"
        );
        assert_eq!(
            key_text(std::slice::from_ref(&stack)),
            "\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n"
        );
        let mut json = String::new();
        key_json(std::slice::from_ref(&stack), &mut json);
        assert_eq!(
            json,
            r#""\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n""#
        );
        let perf = Value::Stack(Stack {
            mode: StackMode::Perf,
            frames: vec!["ffffffff814b2b2d perf_syscall_enter+397".to_owned()],
        });
        assert_eq!(
            perf.to_text(),
            "\n\tffffffff814b2b2d perf_syscall_enter+397\n"
        );
        assert_eq!(perf.to_key_text(), perf.to_text());
    }

    #[test]
    fn keys() {
        let parts = [s("x"), Value::Int(2)];
        assert_eq!(key_text(&parts), "x, 2");
        let mut out = String::new();
        key_json(&parts, &mut out);
        assert_eq!(out, r#""x,2""#);
    }
}
