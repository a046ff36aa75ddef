//! [`FieldType`]: a structured view of a format field derived from its C type text,
//! size and signedness.

/// What a tracepoint field holds, as far as a compiler needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// Integer-like scalar (`int`, `unsigned long`, `pid_t`, `u64`, `bool`, `enum x`...).
    /// Size and signedness come from the format file.
    Int {
        /// Size in bytes.
        size: u32,
        /// Whether the kernel marks the field signed.
        signed: bool,
    },
    /// A plain `char` scalar.
    Char,
    /// A pointer; `pointee` is the C text before the last `*` (`const char`, `void`).
    Pointer {
        /// Pointee C type text.
        pointee: String,
    },
    /// A fixed-size array (`char comm[16]`); `len` is 0 for flexible arrays (`u32 buf[]`).
    Array {
        /// Element type.
        elem: Box<FieldType>,
        /// Number of elements.
        len: u32,
    },
    /// `__data_loc T[] name`: a 32-bit word holding `offset | len << 16` from the record start.
    DataLoc {
        /// Element C type text (`char`, `u64`, `cpumask_t`).
        elem: String,
    },
    /// `__rel_loc T[] name`: like [`FieldType::DataLoc`] but the offset is relative to the
    /// end of this field.
    RelLoc {
        /// Element C type text.
        elem: String,
    },
    /// Anything else (a struct by value, an odd-sized scalar).
    Other {
        /// Size in bytes.
        size: u32,
    },
}

impl FieldType {
    /// Whether the field holds a string: a `char` array or `__data_loc char[]`.
    pub fn is_string(&self) -> bool {
        match self {
            FieldType::Array { elem, .. } => **elem == FieldType::Char,
            FieldType::DataLoc { elem } | FieldType::RelLoc { elem } => elem == "char",
            _ => false,
        }
    }

    /// Derives the type of a field from its C type text (without the name and array
    /// suffix), the array length if any, and the `size:`/`signed:` values.
    pub(crate) fn classify(
        base: &str,
        array: Option<ArrayLen>,
        size: u32,
        signed: bool,
    ) -> FieldType {
        for (prefix, rel) in [("__data_loc", false), ("__rel_loc", true)] {
            if let Some(rest) = strip_word(base, prefix) {
                let rest = rest.trim();
                let elem = rest.strip_suffix("[]").unwrap_or(rest).trim().to_string();
                return if rel {
                    FieldType::RelLoc { elem }
                } else {
                    FieldType::DataLoc { elem }
                };
            }
        }
        if let Some(len) = array {
            let len = match len {
                ArrayLen::Fixed(n) => n,
                ArrayLen::Flexible => 0,
                ArrayLen::Symbolic => size / guess_size(base).unwrap_or(1).max(1),
            };
            let elem_size = size
                .checked_div(len)
                .unwrap_or_else(|| guess_size(base).unwrap_or(0));
            return FieldType::Array {
                elem: Box::new(FieldType::scalar(base, elem_size, signed)),
                len,
            };
        }
        FieldType::scalar(base, size, signed)
    }

    fn scalar(base: &str, size: u32, signed: bool) -> FieldType {
        if let Some(star) = base.rfind('*') {
            return FieldType::Pointer {
                pointee: base[..star].trim().to_string(),
            };
        }
        if unqualified(base) == "char" && size == 1 {
            return FieldType::Char;
        }
        match size {
            1 | 2 | 4 | 8 => FieldType::Int { size, signed },
            _ => FieldType::Other { size },
        }
    }
}

/// Length written between the brackets of an array field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayLen {
    /// `[16]`
    Fixed(u32),
    /// `[]`
    Flexible,
    /// `[TASK_COMM_LEN]` (older kernels): derived from the size.
    Symbolic,
}

/// `text` without the leading word `word` (which must be followed by whitespace or end).
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

/// The type text without `const`/`volatile` qualifiers, words joined by single spaces.
fn unqualified(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Element size of common C base types, for arrays whose length is not a number.
fn guess_size(base: &str) -> Option<u32> {
    let t = unqualified(base);
    if t.contains('*') {
        return Some(8);
    }
    Some(match t.as_str() {
        "char" | "signed char" | "unsigned char" | "u8" | "s8" | "__u8" | "__s8" | "bool" => 1,
        "short" | "unsigned short" | "u16" | "s16" | "__u16" | "__s16" => 2,
        "int" | "unsigned" | "unsigned int" | "u32" | "s32" | "__u32" | "__s32" => 4,
        "long" | "unsigned long" | "long long" | "unsigned long long" | "u64" | "s64" | "__u64"
        | "__s64" => 8,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(base: &str, array: Option<ArrayLen>, size: u32, signed: bool) -> FieldType {
        FieldType::classify(base, array, size, signed)
    }

    #[test]
    fn scalars() {
        assert_eq!(
            ty("int", None, 4, true),
            FieldType::Int {
                size: 4,
                signed: true
            }
        );
        assert_eq!(
            ty("int", None, 8, false),
            FieldType::Int {
                size: 8,
                signed: false
            }
        );
        assert_eq!(
            ty("pid_t", None, 4, true),
            FieldType::Int {
                size: 4,
                signed: true
            }
        );
        assert_eq!(
            ty("unsigned long", None, 8, false),
            FieldType::Int {
                size: 8,
                signed: false
            }
        );
        assert_eq!(
            ty("enum zone_type", None, 4, false),
            FieldType::Int {
                size: 4,
                signed: false
            }
        );
        assert_eq!(ty("char", None, 1, true), FieldType::Char);
        assert_eq!(ty("const char", None, 1, true), FieldType::Char);
        assert_eq!(
            ty("unsigned char", None, 1, false),
            FieldType::Int {
                size: 1,
                signed: false
            }
        );
        assert_eq!(
            ty("struct foo", None, 24, false),
            FieldType::Other { size: 24 }
        );
    }

    #[test]
    fn pointers() {
        let p = |s: &str| FieldType::Pointer {
            pointee: s.to_string(),
        };
        assert_eq!(ty("const char *", None, 8, false), p("const char"));
        assert_eq!(
            ty("const char *const *", None, 8, false),
            p("const char *const")
        );
        assert_eq!(ty("const void*", None, 8, false), p("const void"));
        assert_eq!(ty("void __seg_gs *", None, 8, false), p("void __seg_gs"));
        assert_eq!(ty("const void *const", None, 8, false), p("const void"));
    }

    #[test]
    fn arrays_and_locations() {
        let comm = ty("char", Some(ArrayLen::Fixed(16)), 16, false);
        assert_eq!(
            comm,
            FieldType::Array {
                elem: Box::new(FieldType::Char),
                len: 16
            }
        );
        assert!(comm.is_string());
        let u8s = ty("__u8", Some(ArrayLen::Fixed(4)), 4, false);
        assert!(!u8s.is_string());
        let longs = ty("unsigned long", Some(ArrayLen::Fixed(8)), 64, false);
        assert_eq!(
            longs,
            FieldType::Array {
                elem: Box::new(FieldType::Int {
                    size: 8,
                    signed: false
                }),
                len: 8
            }
        );
        let flex = ty("u32", Some(ArrayLen::Flexible), 0, false);
        assert_eq!(
            flex,
            FieldType::Array {
                elem: Box::new(FieldType::Int {
                    size: 4,
                    signed: false
                }),
                len: 0
            }
        );
        let sym = ty("char", Some(ArrayLen::Symbolic), 16, false);
        assert_eq!(
            sym,
            FieldType::Array {
                elem: Box::new(FieldType::Char),
                len: 16
            }
        );
        let loc = ty("__data_loc char[]", None, 4, false);
        assert_eq!(
            loc,
            FieldType::DataLoc {
                elem: "char".into()
            }
        );
        assert!(loc.is_string());
        assert_eq!(
            ty("__data_loc cpumask_t", None, 4, false),
            FieldType::DataLoc {
                elem: "cpumask_t".into()
            }
        );
        assert_eq!(
            ty("__rel_loc u8[]", None, 4, false),
            FieldType::RelLoc { elem: "u8".into() }
        );
        assert_eq!(
            ty("__data_locx", None, 4, false),
            FieldType::Int {
                size: 4,
                signed: false
            }
        );
    }
}
