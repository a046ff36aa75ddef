//! Layouts of C structs and unions, for printing whole records (`print(*curtask->fs)`): the
//! probe copies the record's bytes, and its layout turns them into a [`Value::Record`].

use crate::value::Value;

/// How a run of bytes of a record is shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layout {
    /// An integer of 1, 2, 4 or 8 bytes (enums too), little-endian.
    Int {
        /// Width in bytes.
        bytes: u8,
        /// Signed (sign-extended) or not.
        signed: bool,
    },
    /// A C `_Bool`.
    Bool,
    /// A `char` array of `.0` bytes: the text up to the first NUL.
    Str(u32),
    /// A pointer: its address, in hex.
    Ptr,
    /// A bit field: `bits` bits from bit `shift` of the member's first byte.
    Bits {
        /// First bit, counted from the least significant bit of the first byte.
        shift: u8,
        /// Width in bits.
        bits: u8,
        /// Signed (sign-extended) or not.
        signed: bool,
    },
    /// An array of `len` elements, `elem_size` bytes apart.
    Array {
        /// Layout of each element.
        elem: Box<Layout>,
        /// Distance between elements in bytes.
        elem_size: u32,
        /// Number of elements.
        len: u32,
    },
    /// A struct or union: its members in declaration order.
    Record(Vec<Member>),
}

/// A member of a record: where its bytes start and how they are shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// Byte offset from the start of the record.
    pub offset: u32,
    /// How its bytes are shown.
    pub layout: Layout,
}

/// Little-endian bytes `at..at + n` of `bytes` as a u64; bytes past the end count as zero.
fn read_le(bytes: &[u8], at: usize, n: usize) -> u64 {
    (0..n.min(8)).fold(0u64, |acc, i| {
        acc | u64::from(bytes.get(at + i).copied().unwrap_or(0)) << (8 * i)
    })
}

fn sign_extend(value: u64, bits: u32) -> i64 {
    if bits == 0 || bits >= 64 {
        return value as i64;
    }
    let shift = 64 - bits;
    ((value << shift) as i64) >> shift
}

impl Layout {
    /// The value of the bytes at `at` of `bytes` (the whole record).
    pub fn decode(&self, bytes: &[u8], at: usize) -> Value {
        match self {
            Layout::Int { bytes: n, signed } => {
                let raw = read_le(bytes, at, *n as usize);
                if *signed {
                    Value::Int(sign_extend(raw, u32::from(*n) * 8))
                } else {
                    Value::UInt(raw)
                }
            }
            Layout::Bool => Value::Bool(bytes.get(at).is_some_and(|b| *b != 0)),
            Layout::Str(len) => {
                let end = (at + *len as usize).min(bytes.len());
                let text = bytes.get(at..end).unwrap_or_default();
                let text = text.split(|b| *b == 0).next().unwrap_or_default();
                Value::Str(String::from_utf8_lossy(text).into_owned())
            }
            Layout::Ptr => Value::Sym(format!("0x{:x}", read_le(bytes, at, 8))),
            Layout::Bits {
                shift,
                bits,
                signed,
            } => {
                let width = (u32::from(*shift) + u32::from(*bits)).div_ceil(8) as usize;
                let raw = read_le(bytes, at, width) >> shift;
                let raw = if *bits >= 64 {
                    raw
                } else {
                    raw & ((1u64 << bits) - 1)
                };
                if *signed {
                    Value::Int(sign_extend(raw, u32::from(*bits)))
                } else {
                    Value::UInt(raw)
                }
            }
            Layout::Array {
                elem,
                elem_size,
                len,
            } => Value::Array(
                (0..*len as usize)
                    .map(|i| elem.decode(bytes, at + i * *elem_size as usize))
                    .collect(),
            ),
            Layout::Record(members) => Value::Record(
                members
                    .iter()
                    .map(|m| {
                        (
                            m.name.clone(),
                            m.layout.decode(bytes, at + m.offset as usize),
                        )
                    })
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, offset: u32, layout: Layout) -> Member {
        Member {
            name: name.into(),
            offset,
            layout,
        }
    }

    #[test]
    fn nested_record_with_string_pointer_array_and_bits() {
        let inner = Layout::Record(vec![member(
            "x",
            0,
            Layout::Int {
                bytes: 2,
                signed: true,
            },
        )]);
        let layout = Layout::Record(vec![
            member(
                "pid",
                0,
                Layout::Int {
                    bytes: 4,
                    signed: true,
                },
            ),
            member("comm", 4, Layout::Str(4)),
            member("next", 8, Layout::Ptr),
            member("in", 16, inner),
            member(
                "a",
                18,
                Layout::Array {
                    elem: Box::new(Layout::Int {
                        bytes: 1,
                        signed: false,
                    }),
                    elem_size: 1,
                    len: 2,
                },
            ),
            member(
                "lo",
                20,
                Layout::Bits {
                    shift: 0,
                    bits: 3,
                    signed: false,
                },
            ),
            member(
                "hi",
                20,
                Layout::Bits {
                    shift: 3,
                    bits: 5,
                    signed: true,
                },
            ),
            member("ok", 21, Layout::Bool),
        ]);
        let mut bytes = vec![0u8; 24];
        bytes[0..4].copy_from_slice(&(-5i32).to_le_bytes());
        bytes[4..7].copy_from_slice(b"ab\0");
        bytes[8..16].copy_from_slice(&0xffff_8880_1234_5678u64.to_le_bytes());
        bytes[16..18].copy_from_slice(&(-2i16).to_le_bytes());
        bytes[18] = 7;
        bytes[19] = 9;
        bytes[20] = 0b1111_1101; // lo = 5, hi = -1
        bytes[21] = 1;
        let value = layout.decode(&bytes, 0);
        assert_eq!(
            value.to_text(),
            "{ .pid = -5, .comm = ab, .next = 0xffff888012345678, .in = { .x = -2 }, .a = [7,9], .lo = 5, .hi = -1, .ok = true }"
        );
    }

    #[test]
    fn records_inside_map_keys_are_compact() {
        let inner = Layout::Record(vec![member(
            "x",
            0,
            Layout::Int {
                bytes: 1,
                signed: false,
            },
        )]);
        let layout = Layout::Record(vec![
            member(
                "a",
                0,
                Layout::Int {
                    bytes: 1,
                    signed: false,
                },
            ),
            member("in", 1, inner),
        ]);
        let value = layout.decode(&[3, 4], 0);
        assert_eq!(value.to_key_text(), "{.a=3,.in={.x=4}}");
        assert_eq!(value.to_text(), "{ .a = 3, .in = { .x = 4 } }");
    }

    #[test]
    fn short_input_reads_as_zero() {
        let layout = Layout::Record(vec![member(
            "v",
            4,
            Layout::Int {
                bytes: 8,
                signed: false,
            },
        )]);
        assert_eq!(layout.decode(&[1, 2, 3, 4, 5], 0).to_text(), "{ .v = 5 }");
    }
}
