//! The `printf` engine: parsing format strings (for compile-time checks) and formatting
//! decoded arguments with C `printf` semantics, as bpftrace does.
//!
//! Conversions: `d i u o x X c s p %` plus bpftrace's buffer conversions `r rx rh`.
//! Flags `- + space # 0`, a decimal width and precision, and the length modifiers
//! `hh h l ll j z t` are accepted. The length modifier decides the C type an integer
//! argument is cast to before printing (`%d` is a 32-bit `int`, `%ld` 64 bits).

mod render;

use thiserror::Error;

use crate::value::Value;

/// A parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    /// Literal text and conversions, in order.
    pub pieces: Vec<FormatPiece>,
}

/// One piece of a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatPiece {
    /// Literal text (`%%` already folded to `%`).
    Literal(String),
    /// A conversion consuming one argument.
    Spec(FormatSpec),
}

/// One conversion specification, e.g. `%-08.3lx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatSpec {
    /// The flags.
    pub flags: Flags,
    /// Minimum field width.
    pub width: Option<usize>,
    /// Precision: minimum digits for integers, maximum bytes for strings.
    pub precision: Option<usize>,
    /// Length modifier.
    pub length: Length,
    /// Conversion character(s).
    pub conversion: Conversion,
}

/// Conversion flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `-`: left-justify.
    pub left: bool,
    /// `+`: always print a sign for signed conversions.
    pub plus: bool,
    /// ` `: print a space where a `+` sign would go.
    pub space: bool,
    /// `#`: alternate form (`0x` prefix, leading `0` for octal).
    pub alternate: bool,
    /// `0`: pad numbers with zeros.
    pub zero: bool,
}

/// Length modifier of an integer conversion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Length {
    /// None: 32-bit `int` / `unsigned int`.
    #[default]
    Default,
    /// `hh`: 8-bit `char`.
    Hh,
    /// `h`: 16-bit `short`.
    H,
    /// `l`: 64-bit `long`.
    L,
    /// `ll`: 64-bit `long long`.
    Ll,
    /// `j`: 64-bit `intmax_t`.
    J,
    /// `z`: 64-bit `size_t` / `ssize_t`.
    Z,
    /// `t`: 64-bit `ptrdiff_t`.
    T,
}

impl Length {
    /// Width in bits of the C type this modifier selects for integer conversions.
    pub fn bits(self) -> u32 {
        match self {
            Length::Hh => 8,
            Length::H => 16,
            Length::Default => 32,
            Length::L | Length::Ll | Length::J | Length::Z | Length::T => 64,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Length::Default => "",
            Length::Hh => "hh",
            Length::H => "h",
            Length::L => "l",
            Length::Ll => "ll",
            Length::J => "j",
            Length::Z => "z",
            Length::T => "t",
        }
    }
}

/// Conversion character(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `%d`: signed decimal.
    D,
    /// `%i`: signed decimal.
    I,
    /// `%u`: unsigned decimal.
    U,
    /// `%o`: unsigned octal.
    O,
    /// `%x`: unsigned lowercase hex.
    X,
    /// `%X`: unsigned uppercase hex.
    UpperX,
    /// `%c`: one character (the low byte of an integer).
    C,
    /// `%s`: text form of any value.
    S,
    /// `%p`: pointer, `0x` + lowercase hex.
    P,
    /// `%r`: buffer, printable ASCII kept and other bytes as `\xNN`.
    R,
    /// `%rx`: buffer, every byte as `\xNN`.
    Rx,
    /// `%rh`: buffer, every byte as two hex digits separated by spaces.
    Rh,
}

/// The class of argument a conversion expects, for compile-time checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgClass {
    /// An integer (or boolean, pointer, or anything integer-like).
    Integer,
    /// A `buf()` value (other values are printed with their text form).
    Buffer,
    /// Any value: printed with its text form.
    Any,
}

impl Conversion {
    /// The class of argument this conversion expects.
    pub fn arg_class(self) -> ArgClass {
        match self {
            Conversion::D
            | Conversion::I
            | Conversion::U
            | Conversion::O
            | Conversion::X
            | Conversion::UpperX
            | Conversion::C
            | Conversion::P => ArgClass::Integer,
            Conversion::R | Conversion::Rx | Conversion::Rh => ArgClass::Buffer,
            Conversion::S => ArgClass::Any,
        }
    }

    /// The conversion as written in a format string (`d`, `rx`, ...).
    ///
    /// bpftrace's checker names conversions with their length modifier, see
    /// [`FormatSpec::token`].
    pub fn as_str(self) -> &'static str {
        match self {
            Conversion::D => "d",
            Conversion::I => "i",
            Conversion::U => "u",
            Conversion::O => "o",
            Conversion::X => "x",
            Conversion::UpperX => "X",
            Conversion::C => "c",
            Conversion::S => "s",
            Conversion::P => "p",
            Conversion::R => "r",
            Conversion::Rx => "rx",
            Conversion::Rh => "rh",
        }
    }
}

impl ArgClass {
    /// The type name bpftrace uses in its diagnostics (`integer`, `buffer`, `string`).
    pub fn type_name(self) -> &'static str {
        match self {
            ArgClass::Integer => "integer",
            ArgClass::Buffer => "buffer",
            ArgClass::Any => "string",
        }
    }
}

impl FormatSpec {
    /// Length modifier and conversion, as bpftrace names the token in diagnostics (`lx`).
    pub fn token(&self) -> String {
        format!("{}{}", self.length.as_str(), self.conversion.as_str())
    }

    /// bpftrace's diagnostic for an argument of the wrong type, e.g.
    /// `%d specifier expects a value of type integer (string supplied)`.
    pub fn type_mismatch_message(&self, supplied: &str) -> String {
        format!(
            "%{} specifier expects a value of type {} ({supplied} supplied)",
            self.token(),
            self.conversion.arg_class().type_name()
        )
    }
}

impl std::fmt::Display for FormatSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("%")?;
        let flags = self.flags;
        for (set, ch) in [
            (flags.left, '-'),
            (flags.plus, '+'),
            (flags.space, ' '),
            (flags.alternate, '#'),
            (flags.zero, '0'),
        ] {
            if set {
                write!(f, "{ch}")?;
            }
        }
        if let Some(width) = self.width {
            write!(f, "{width}")?;
        }
        if let Some(precision) = self.precision {
            write!(f, ".{precision}")?;
        }
        write!(f, "{}{}", self.length.as_str(), self.conversion.as_str())
    }
}

/// Errors from parsing a format string or formatting its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// An unknown conversion character.
    #[error("Unknown format string token: {text}")]
    UnknownConversion {
        /// Byte offset of the `%`.
        offset: usize,
        /// The specification text from `%` up to and including the bad character.
        text: String,
    },
    /// The string ends inside a conversion specification.
    #[error("Incomplete format string token at offset {offset}")]
    Incomplete {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// `*` width or precision (taken from an argument) is not supported.
    #[error("'*' width or precision is not supported (offset {offset})")]
    StarUnsupported {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// A width or precision too large to be meaningful.
    #[error("width or precision too large at offset {offset}")]
    TooWide {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// Fewer arguments than conversions.
    #[error("Not enough arguments for format string ({supplied} supplied, {expected} expected)")]
    NotEnoughArgs {
        /// Arguments given.
        supplied: usize,
        /// Conversions in the format.
        expected: usize,
    },
    /// More arguments than conversions.
    #[error("Too many arguments for format string ({supplied} supplied, {expected} expected)")]
    TooManyArgs {
        /// Arguments given.
        supplied: usize,
        /// Conversions in the format.
        expected: usize,
    },
    /// An integer conversion received a value that is not an integer.
    #[error("%{conversion} expects an integer, got '{value}'")]
    NotAnInteger {
        /// The conversion text.
        conversion: &'static str,
        /// Text form of the offending value.
        value: String,
    },
}

/// Largest width or precision accepted (C's own limit is `INT_MAX`; anything near it is a bug).
const MAX_WIDTH: usize = 1 << 16;

/// Parses a bpftrace `printf` format string.
pub fn parse_format(fmt: &str) -> Result<Format, FormatError> {
    let bytes = fmt.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(rel) = fmt[pos..].find('%') else {
            literal.push_str(&fmt[pos..]);
            break;
        };
        literal.push_str(&fmt[pos..pos + rel]);
        let start = pos + rel;
        if bytes.get(start + 1) == Some(&b'%') {
            literal.push('%');
            pos = start + 2;
            continue;
        }
        let (spec, end) = parse_spec(fmt, start)?;
        if !literal.is_empty() {
            pieces.push(FormatPiece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(FormatPiece::Spec(spec));
        pos = end;
    }
    if !literal.is_empty() {
        pieces.push(FormatPiece::Literal(literal));
    }
    Ok(Format { pieces })
}

/// Parses the specification starting at the `%` at `start`; returns it and the end offset.
fn parse_spec(fmt: &str, start: usize) -> Result<(FormatSpec, usize), FormatError> {
    let bytes = fmt.as_bytes();
    let mut pos = start + 1;
    let mut flags = Flags::default();
    while let Some(&byte) = bytes.get(pos) {
        match byte {
            b'-' => flags.left = true,
            b'+' => flags.plus = true,
            b' ' => flags.space = true,
            b'#' => flags.alternate = true,
            b'0' => flags.zero = true,
            _ => break,
        }
        pos += 1;
    }
    let width = parse_number(bytes, &mut pos, start)?;
    let mut precision = None;
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        precision = Some(parse_number(bytes, &mut pos, start)?.unwrap_or(0));
    }
    let length = parse_length(bytes, &mut pos);
    let Some(&conv) = bytes.get(pos) else {
        return Err(FormatError::Incomplete { offset: start });
    };
    pos += 1;
    let conversion = match conv {
        b'd' => Conversion::D,
        b'i' => Conversion::I,
        b'u' => Conversion::U,
        b'o' => Conversion::O,
        b'x' => Conversion::X,
        b'X' => Conversion::UpperX,
        b'c' => Conversion::C,
        b's' => Conversion::S,
        b'p' => Conversion::P,
        b'r' => match bytes.get(pos) {
            Some(b'x') => {
                pos += 1;
                Conversion::Rx
            }
            Some(b'h') => {
                pos += 1;
                Conversion::Rh
            }
            _ => Conversion::R,
        },
        _ => {
            let end = fmt[pos - 1..]
                .chars()
                .next()
                .map_or(pos, |c| pos - 1 + c.len_utf8());
            return Err(FormatError::UnknownConversion {
                offset: start,
                text: fmt[start..end].to_owned(),
            });
        }
    };
    let spec = FormatSpec {
        flags,
        width,
        precision,
        length,
        conversion,
    };
    Ok((spec, pos))
}

fn parse_number(bytes: &[u8], pos: &mut usize, start: usize) -> Result<Option<usize>, FormatError> {
    if bytes.get(*pos) == Some(&b'*') {
        return Err(FormatError::StarUnsupported { offset: start });
    }
    let mut value: Option<usize> = None;
    while let Some(&byte) = bytes.get(*pos) {
        if !byte.is_ascii_digit() {
            break;
        }
        let next = value.unwrap_or(0) * 10 + usize::from(byte - b'0');
        if next > MAX_WIDTH {
            return Err(FormatError::TooWide { offset: start });
        }
        value = Some(next);
        *pos += 1;
    }
    Ok(value)
}

fn parse_length(bytes: &[u8], pos: &mut usize) -> Length {
    let (length, used) = match (bytes.get(*pos), bytes.get(*pos + 1)) {
        (Some(b'h'), Some(b'h')) => (Length::Hh, 2),
        (Some(b'h'), _) => (Length::H, 1),
        (Some(b'l'), Some(b'l')) => (Length::Ll, 2),
        (Some(b'l'), _) => (Length::L, 1),
        (Some(b'j'), _) => (Length::J, 1),
        (Some(b'z'), _) => (Length::Z, 1),
        (Some(b't'), _) => (Length::T, 1),
        _ => (Length::Default, 0),
    };
    *pos += used;
    length
}

impl Format {
    /// The conversions, in argument order.
    pub fn specs(&self) -> impl Iterator<Item = &FormatSpec> {
        self.pieces.iter().filter_map(|piece| match piece {
            FormatPiece::Spec(spec) => Some(spec),
            FormatPiece::Literal(_) => None,
        })
    }

    /// Number of arguments the format consumes.
    pub fn arg_count(&self) -> usize {
        self.specs().count()
    }

    /// Formats `args` (exactly one per conversion).
    pub fn format(&self, args: &[Value]) -> Result<String, FormatError> {
        format_printf(self, args)
    }
}

/// Formats `args` with a parsed format, as bpftrace's `printf` does.
pub fn format_printf(fmt: &Format, args: &[Value]) -> Result<String, FormatError> {
    let expected = fmt.arg_count();
    if args.len() < expected {
        return Err(FormatError::NotEnoughArgs {
            supplied: args.len(),
            expected,
        });
    }
    if args.len() > expected {
        return Err(FormatError::TooManyArgs {
            supplied: args.len(),
            expected,
        });
    }
    let mut out = String::new();
    let mut args = args.iter();
    for piece in &fmt.pieces {
        match piece {
            FormatPiece::Literal(text) => out.push_str(text),
            FormatPiece::Spec(spec) => {
                // The count check above guarantees one argument per conversion.
                if let Some(arg) = args.next() {
                    render::render(spec, arg, &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fmt: &str) -> FormatSpec {
        let parsed = parse_format(fmt).unwrap();
        *parsed.specs().next().unwrap()
    }

    #[test]
    fn parses_pieces() {
        let parsed = parse_format("a %d b %-5s%% c\n").unwrap();
        assert_eq!(parsed.arg_count(), 2);
        assert_eq!(parsed.pieces.len(), 5);
        assert_eq!(parsed.pieces[0], FormatPiece::Literal("a ".into()));
        assert_eq!(parsed.pieces[4], FormatPiece::Literal("% c\n".into()));
        let s = spec("%-5s");
        assert!(s.flags.left);
        assert_eq!(s.width, Some(5));
        assert_eq!(s.conversion, Conversion::S);
        assert_eq!(s.conversion.arg_class(), ArgClass::Any);
    }

    #[test]
    fn parses_flags_width_precision_length() {
        let s = spec("%+ #08.3llx");
        assert!(s.flags.plus && s.flags.space && s.flags.alternate && s.flags.zero);
        assert!(!s.flags.left);
        assert_eq!(s.width, Some(8));
        assert_eq!(s.precision, Some(3));
        assert_eq!(s.length, Length::Ll);
        assert_eq!(s.conversion, Conversion::X);
        assert_eq!(s.to_string(), "%+ #08.3llx");
        assert_eq!(s.token(), "llx");
        // Message text as bpftrace 0.17 prints it after `printf: `.
        assert_eq!(
            spec("%d").type_mismatch_message("string"),
            "%d specifier expects a value of type integer (string supplied)"
        );
        assert_eq!(
            spec("%rx").type_mismatch_message("integer"),
            "%rx specifier expects a value of type buffer (integer supplied)"
        );
        assert_eq!(spec("%.d").precision, Some(0));
        for (text, length) in [
            ("%hhd", Length::Hh),
            ("%hd", Length::H),
            ("%ld", Length::L),
            ("%lld", Length::Ll),
            ("%jd", Length::J),
            ("%zd", Length::Z),
            ("%td", Length::T),
            ("%d", Length::Default),
        ] {
            assert_eq!(spec(text).length, length, "{text}");
        }
    }

    #[test]
    fn parses_buffer_conversions() {
        let parsed = parse_format("%r %rx %rh %rz").unwrap();
        let convs: Vec<_> = parsed.specs().map(|s| s.conversion).collect();
        assert_eq!(
            convs,
            [Conversion::R, Conversion::Rx, Conversion::Rh, Conversion::R]
        );
        assert_eq!(Conversion::Rx.arg_class(), ArgClass::Buffer);
        assert_eq!(Conversion::P.arg_class(), ArgClass::Integer);
        // `%rz`: the `z` is literal text after `%r`.
        assert_eq!(
            parsed.pieces.last(),
            Some(&FormatPiece::Literal("z".into()))
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            parse_format("abc %q"),
            Err(FormatError::UnknownConversion {
                offset: 4,
                text: "%q".into()
            })
        );
        assert_eq!(
            parse_format("%5"),
            Err(FormatError::Incomplete { offset: 0 })
        );
        assert_eq!(
            parse_format("x%"),
            Err(FormatError::Incomplete { offset: 1 })
        );
        assert_eq!(
            parse_format("%*d"),
            Err(FormatError::StarUnsupported { offset: 0 })
        );
        assert_eq!(
            parse_format("%999999999999999999999d"),
            Err(FormatError::TooWide { offset: 0 })
        );
        assert!(matches!(
            parse_format("%é"),
            Err(FormatError::UnknownConversion { text, .. }) if text == "%é"
        ));
    }

    #[test]
    fn error_messages_match_bpftrace() {
        // Captured from bpftrace 0.17 (after its `printf: ` prefix).
        let err = FormatError::TooManyArgs {
            supplied: 12,
            expected: 8,
        };
        assert_eq!(
            err.to_string(),
            "Too many arguments for format string (12 supplied, 8 expected)"
        );
        let err = parse_format("%q").unwrap_err();
        assert_eq!(err.to_string(), "Unknown format string token: %q");
    }

    #[test]
    fn arbitrary_formats_never_panic() {
        // A deterministic sweep over short strings from an alphabet of format-relevant
        // characters (including multi-byte ones).
        let alphabet = [
            '%', 'd', 's', 'r', 'x', 'h', 'l', '-', '0', '9', '.', '#', ' ', 'é', '*',
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut fmt = String::new();
            for _ in 0..(seed % 9) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                fmt.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            seed = seed.wrapping_add(0x2545_f491);
            if let Ok(parsed) = parse_format(&fmt) {
                let ints = vec![Value::Int(-1); parsed.arg_count()];
                let strs = vec![Value::Str("é".into()); parsed.arg_count()];
                let _ = parsed.format(&ints);
                let _ = parsed.format(&strs);
            }
        }
    }

    #[test]
    fn argument_count_is_checked() {
        let parsed = parse_format("%d %d").unwrap();
        assert_eq!(
            parsed.format(&[Value::Int(1)]),
            Err(FormatError::NotEnoughArgs {
                supplied: 1,
                expected: 2
            })
        );
        assert_eq!(
            parsed.format(&[Value::Int(1), Value::Int(2), Value::Int(3)]),
            Err(FormatError::TooManyArgs {
                supplied: 3,
                expected: 2
            })
        );
        assert_eq!(
            parsed.format(&[Value::Int(1), Value::Str("x".into())]),
            Err(FormatError::NotAnInteger {
                conversion: "d",
                value: "x".into()
            })
        );
    }
}
