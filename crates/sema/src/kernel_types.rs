//! Kernel types from BTF, as the analysis's [`Type`]s.
//!
//! Structs and unions are `Type::Record(name)`; an expression of record type stands for the
//! record's *address* (it is only ever read field by field, with `bpf_probe_read_kernel`).
//! Anonymous records are named `#<btf id>`.

use scry_btf::{Btf, Kind, TypeId};

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
