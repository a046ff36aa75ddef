//! C structs and unions defined in the script (`struct foo { int a; char name[16]; };`), laid
//! out with the C rules of x86_64 (natural alignment), for reading user-space memory through
//! pointers cast to them (`((struct foo *)arg0)->name`).

use std::collections::HashMap;

use scry_syntax::ast::{CDefKind, CDefinition};

use crate::types::Type;

/// A script-defined record: its size and members (name, byte offset, type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptRecord {
    pub size: u32,
    pub align: u32,
    pub fields: Vec<(String, u32, Type)>,
}

/// Size, alignment and type of a C base type name as scripts write it.
fn base(name: &str, records: &HashMap<String, ScriptRecord>) -> Option<(u32, u32, Type)> {
    let int =
        |bytes: u8, signed: bool| Some((bytes as u32, bytes as u32, Type::Int { bytes, signed }));
    match name {
        "char" | "signed char" | "int8_t" | "s8" | "__s8" | "int8" => int(1, true),
        "unsigned char" | "uint8_t" | "u8" | "__u8" | "uint8" | "bool" | "_Bool" => int(1, false),
        "short" | "short int" | "int16_t" | "s16" | "__s16" | "int16" => int(2, true),
        "unsigned short" | "uint16_t" | "u16" | "__u16" | "uint16" => int(2, false),
        "int" | "signed" | "int32_t" | "s32" | "__s32" | "int32" | "pid_t" => int(4, true),
        "unsigned" | "unsigned int" | "uint32_t" | "u32" | "__u32" | "uint32" | "uid_t"
        | "gid_t" => int(4, false),
        "long" | "long int" | "long long" | "int64_t" | "s64" | "__s64" | "int64" | "ssize_t"
        | "off_t" => int(8, true),
        "unsigned long" | "unsigned long long" | "uint64_t" | "u64" | "__u64" | "uint64"
        | "size_t" | "uintptr_t" => int(8, false),
        other => {
            let record = records.get(other)?;
            Some((record.size, record.align, Type::Record(other.to_string())))
        }
    }
}

/// Lays out every struct and union of the script, in order (a record may use earlier ones).
/// Returns the records and, for members scry cannot lay out, an error message.
pub fn layout(definitions: &[CDefinition]) -> (HashMap<String, ScriptRecord>, Vec<String>) {
    let mut records: HashMap<String, ScriptRecord> = HashMap::new();
    let mut errors = Vec::new();
    for definition in definitions {
        let keyword = match definition.kind {
            CDefKind::Struct => "struct",
            CDefKind::Union => "union",
            _ => continue,
        };
        let Some(name) = &definition.name else {
            continue;
        };
        let record_name = format!("{keyword} {name}");
        let mut fields = Vec::new();
        let (mut offset, mut size, mut align) = (0u32, 0u32, 1u32);
        for field in &definition.members {
            if field.bit_width.is_some() {
                errors.push(format!(
                    "{record_name}: bit field '{}' is not supported by scry yet",
                    field.name
                ));
                continue;
            }
            let elements: u64 = field.array_lens.iter().product::<u64>().max(1);
            let (elem_size, elem_align, elem_ty) = if field.pointer_depth > 0 {
                let pointee = base(&field.type_name, &records)
                    .map(|(_, _, t)| t)
                    .unwrap_or(Type::Int {
                        bytes: 1,
                        signed: false,
                    });
                (
                    8,
                    8,
                    Type::Ptr {
                        pointee: Box::new(pointee),
                        user: true,
                    },
                )
            } else {
                match base(&field.type_name, &records) {
                    Some(b) => b,
                    None => {
                        errors.push(format!(
                            "{record_name}: unknown type '{}' of member '{}'",
                            field.type_name, field.name
                        ));
                        continue;
                    }
                }
            };
            let ty = match (&elem_ty, field.array_lens.is_empty()) {
                (_, true) => elem_ty,
                (Type::Int { bytes: 1, .. }, false) => Type::Str(elements as u32),
                _ => Type::None,
            };
            let bytes = elem_size * elements as u32;
            let at = if keyword == "union" {
                0
            } else {
                offset.div_ceil(elem_align) * elem_align
            };
            fields.push((field.name.clone(), at, ty));
            offset = at + bytes;
            size = size.max(at + bytes);
            align = align.max(elem_align);
        }
        let size = size.div_ceil(align) * align;
        records.insert(
            record_name,
            ScriptRecord {
                size,
                align,
                fields,
            },
        );
    }
    (records, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_layout_rules() {
        let parsed = scry_syntax::parse(
            "struct inner { char tag; long value; };\nstruct outer { short a; struct inner in; char name[5]; int *p; };\nunion u { char c; long l; };\nBEGIN { }",
        );
        let (records, errors) = layout(&parsed.program.c_definitions);
        assert!(errors.is_empty(), "{errors:?}");
        let inner = &records["struct inner"];
        assert_eq!((inner.size, inner.align), (16, 8));
        assert_eq!(
            inner.fields[1],
            (
                "value".into(),
                8,
                Type::Int {
                    bytes: 8,
                    signed: true
                }
            )
        );
        let outer = &records["struct outer"];
        let offsets: Vec<u32> = outer.fields.iter().map(|f| f.1).collect();
        assert_eq!(offsets, [0, 8, 24, 32]);
        assert_eq!(outer.fields[2].2, Type::Str(5));
        assert_eq!(outer.size, 40);
        assert_eq!(records["union u"].size, 8);
    }
}
