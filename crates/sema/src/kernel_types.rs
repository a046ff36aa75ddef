//! Kernel types from BTF, as the analysis's [`Type`]s.
//!
//! Structs and unions are `Type::Record(name)`; an expression of record type stands for the
//! record's *address* (it is only ever read field by field, with `bpf_probe_read_kernel`).
//! Anonymous records are named `#<btf id>`.

use std::collections::HashMap;

use scry_btf::{Btf, Kind, TypeId};
use scry_output::{Layout, Member};

use crate::script_types::ScriptRecord;
use crate::types::Type;

/// The BTF id of a record type name (`struct task_struct`, `union x`, `#123`).
pub fn record_id(btf: &Btf, name: &str) -> Option<TypeId> {
    if let Some(id) = name.strip_prefix('#') {
        return id.parse().ok().map(TypeId);
    }
    let id = btf.find_c_type(name)?;
    let id = btf.resolve(id).ok()?;
    matches!(btf.kind(id).ok()?, Kind::Struct | Kind::Union).then_some(id)
}

/// The record name of a struct or union id.
fn record_name(btf: &Btf, id: TypeId) -> String {
    match btf.get(id) {
        Ok(scry_btf::Type::Struct(c)) if !c.name().is_empty() => format!("struct {}", c.name()),
        Ok(scry_btf::Type::Union(c)) if !c.name().is_empty() => format!("union {}", c.name()),
        _ => format!("#{}", id.0),
    }
}

/// The analysis type of a BTF type, or None for types scry cannot hold (floats, functions).
pub fn from_btf(btf: &Btf, id: TypeId) -> Option<Type> {
    let id = btf.resolve(id).ok()?;
    Some(match btf.get(id).ok()? {
        scry_btf::Type::Void => Type::Int {
            bytes: 1,
            signed: false,
        },
        scry_btf::Type::Int(int) => {
            if int.bool {
                Type::Bool
            } else {
                Type::Int {
                    bytes: (int.size as u8).clamp(1, 8),
                    signed: int.signed || int.char,
                }
            }
        }
        scry_btf::Type::Enum(e) => Type::Int {
            bytes: (e.size() as u8).clamp(1, 8),
            signed: e.signed(),
        },
        scry_btf::Type::Ptr { target } => {
            let pointee = match from_btf(btf, target) {
                Some(t) if !matches!(t, Type::Str(_) | Type::None) => t,
                _ => Type::Int {
                    bytes: 1,
                    signed: false,
                },
            };
            Type::Ptr {
                pointee: Box::new(pointee),
                user: false,
            }
        }
        scry_btf::Type::Array(array) => match from_btf(btf, array.elem)? {
            Type::Int { bytes: 1, .. } => Type::Str(array.len),
            _ => return None,
        },
        scry_btf::Type::Struct(_) | scry_btf::Type::Union(_) => Type::Record(record_name(btf, id)),
        _ => return None,
    })
}

/// The element type of an array of scalars (not chars, which are strings), if `id` is one.
/// A member of this type is *inline*: its value is its address, as for a C array.
pub fn inline_array(btf: &Btf, id: TypeId) -> Option<Type> {
    let id = btf.resolve(id).ok()?;
    let scry_btf::Type::Array(array) = btf.get(id).ok()? else {
        return None;
    };
    let elem = from_btf(btf, array.elem)?;
    (elem.is_scalar() && !matches!(elem, Type::Int { bytes: 1, .. })).then_some(elem)
}

/// The element record of an array of structs or unions (a flexible array member such as
/// `struct upid numbers[]` included), and the element's size, if `id` is one. Like
/// [`inline_array`], such a member stands for its address and is indexed like a pointer.
pub fn record_array(btf: &Btf, id: TypeId) -> Option<(Type, u32)> {
    let id = btf.resolve(id).ok()?;
    let scry_btf::Type::Array(array) = btf.get(id).ok()? else {
        return None;
    };
    let elem = btf.resolve(array.elem).ok()?;
    match from_btf(btf, elem)? {
        record @ Type::Record(_) => Some((record, btf.size_of(elem).ok()? as u32)),
        _ => None,
    }
}

/// A member of a record: its byte offset and type.
pub fn member(btf: &Btf, record: &str, field: &str) -> Result<(u32, Type), String> {
    let Some(id) = record_id(btf, record) else {
        return Err(format!("Unknown struct/union: '{record}'"));
    };
    match btf.member(id, field) {
        Ok(Some(m)) if m.bitfield_size != 0 => Err(format!(
            "Bit field {record}.{field} cannot be read by scry yet"
        )),
        Ok(Some(m)) => match from_btf(btf, m.ty) {
            Some(ty) => Ok((m.bit_offset / 8, ty)),
            // An array of numbers or pointers: it stands for its first element's address
            // (see [`inline_array`]), and is indexed like a pointer.
            None if inline_array(btf, m.ty).is_some() => {
                let elem = inline_array(btf, m.ty).expect("checked above");
                Ok((
                    m.bit_offset / 8,
                    Type::Ptr {
                        pointee: Box::new(elem),
                        user: false,
                    },
                ))
            }
            None if record_array(btf, m.ty).is_some() => {
                let (elem, _) = record_array(btf, m.ty).expect("checked above");
                Ok((
                    m.bit_offset / 8,
                    Type::Ptr {
                        pointee: Box::new(elem),
                        user: false,
                    },
                ))
            }
            None => Err(format!(
                "Field '{field}' of {record} has a type scry cannot read ({})",
                btf.type_name(m.ty)
            )),
        },
        Ok(None) => Err(format!(
            "Struct/union of type '{record}' does not contain a field named '{field}'"
        )),
        Err(err) => Err(format!("reading BTF for {record}: {err}")),
    }
}

/// The largest record `print()` copies out of memory (`struct task_struct` fits).
pub const MAX_PRINTED_RECORD: u32 = 16 * 1024;

/// How deep `print()` follows embedded records.
const MAX_RECORD_DEPTH: u32 = 16;

/// The layout of a kernel struct or union for `print()`, and its size.
pub fn record_layout(btf: &Btf, record: &str) -> Result<(Layout, u32), String> {
    let Some(id) = record_id(btf, record) else {
        return Err(format!("Unknown struct/union: '{record}'"));
    };
    let size = btf
        .size_of(id)
        .map_err(|err| format!("reading BTF for {record}: {err}"))?;
    if size > u64::from(MAX_PRINTED_RECORD) {
        return Err(format!(
            "{record} is {size} bytes: print() copies records of at most {MAX_PRINTED_RECORD} bytes; print its fields instead"
        ));
    }
    let layout = btf_layout(btf, id, 0).unwrap_or(Layout::Record(Vec::new()));
    Ok((layout, size as u32))
}

/// The layout of the BTF type `id`, or None for what `print()` leaves out (floats,
/// functions, zero-length arrays, records nested too deep).
fn btf_layout(btf: &Btf, id: TypeId, depth: u32) -> Option<Layout> {
    let id = btf.resolve(id).ok()?;
    Some(match btf.get(id).ok()? {
        scry_btf::Type::Int(int) if int.bool => Layout::Bool,
        scry_btf::Type::Int(int) if int.size <= 8 => Layout::Int {
            bytes: int.size.max(1) as u8,
            signed: int.signed || int.char,
        },
        // 128-bit integers: two 64-bit halves, low first.
        scry_btf::Type::Int(int) => Layout::Array {
            elem: Box::new(Layout::Int {
                bytes: 8,
                signed: false,
            }),
            elem_size: 8,
            len: int.size / 8,
        },
        scry_btf::Type::Enum(e) => Layout::Int {
            bytes: (e.size() as u8).clamp(1, 8),
            signed: e.signed(),
        },
        scry_btf::Type::Ptr { .. } => Layout::Ptr,
        scry_btf::Type::Array(array) if array.len == 0 => return None,
        scry_btf::Type::Array(array) => {
            let elem = btf_layout(btf, array.elem, depth)?;
            match elem {
                Layout::Int { bytes: 1, .. } => Layout::Str(array.len),
                elem => Layout::Array {
                    elem: Box::new(elem),
                    elem_size: btf.size_of(array.elem).ok()? as u32,
                    len: array.len,
                },
            }
        }
        scry_btf::Type::Struct(c) | scry_btf::Type::Union(c) if depth < MAX_RECORD_DEPTH => {
            let mut members = Vec::new();
            for m in c.members() {
                let offset = m.bit_offset / 8;
                if m.bitfield_size != 0 {
                    let signed = match btf.resolve(m.ty).and_then(|t| btf.get(t)) {
                        Ok(scry_btf::Type::Int(i)) => i.signed,
                        Ok(scry_btf::Type::Enum(e)) => e.signed(),
                        _ => false,
                    };
                    members.push(Member {
                        name: m.name.to_string(),
                        offset,
                        layout: Layout::Bits {
                            shift: (m.bit_offset % 8) as u8,
                            bits: m.bitfield_size.min(64) as u8,
                            signed,
                        },
                    });
                    continue;
                }
                let Some(layout) = btf_layout(btf, m.ty, depth + 1) else {
                    continue;
                };
                match layout {
                    // An anonymous struct or union: its members belong to this record, as in C.
                    Layout::Record(inner) if m.name.is_empty() => {
                        members.extend(inner.into_iter().map(|mut i| {
                            i.offset += offset;
                            i
                        }))
                    }
                    layout => members.push(Member {
                        name: m.name.to_string(),
                        offset,
                        layout,
                    }),
                }
            }
            Layout::Record(members)
        }
        _ => return None,
    })
}

/// The layout of a struct or union the script defines, and its size.
pub fn script_record_layout(
    records: &HashMap<String, ScriptRecord>,
    record: &str,
) -> Result<(Layout, u32), String> {
    fn layout(records: &HashMap<String, ScriptRecord>, record: &str, depth: u32) -> Option<Layout> {
        let definition = records.get(record)?;
        if depth >= MAX_RECORD_DEPTH {
            return None;
        }
        let members = definition
            .fields
            .iter()
            .filter_map(|(name, offset, ty)| {
                let layout = match ty {
                    Type::Int { bytes, signed } => Layout::Int {
                        bytes: *bytes,
                        signed: *signed,
                    },
                    Type::Bool => Layout::Bool,
                    Type::Str(len) => Layout::Str(*len),
                    Type::Ptr { .. } => Layout::Ptr,
                    Type::Record(inner) => layout(records, inner, depth + 1)?,
                    _ => return None,
                };
                Some(Member {
                    name: name.clone(),
                    offset: *offset,
                    layout,
                })
            })
            .collect();
        Some(Layout::Record(members))
    }
    let Some(definition) = records.get(record) else {
        return Err(format!("Unknown struct/union: '{record}'"));
    };
    if definition.size > MAX_PRINTED_RECORD {
        return Err(format!(
            "{record} is {} bytes: print() copies records of at most {MAX_PRINTED_RECORD} bytes; print its fields instead",
            definition.size
        ));
    }
    let layout = layout(records, record, 0).unwrap_or(Layout::Record(Vec::new()));
    Ok((layout, definition.size))
}
