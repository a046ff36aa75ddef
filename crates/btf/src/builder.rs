//! [`BtfBuilder`]: assembles small BTF blobs in memory, mainly for tests.

use std::collections::HashMap;

use crate::blob::Btf;
use crate::types::{Kind, TypeId};

/// Builds a BTF blob type by type. Ids are handed out in insertion order starting at 1
/// (or after the base's types for split BTF).
#[derive(Debug, Clone)]
pub struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    str_index: HashMap<String, u32>,
    next_id: u32,
    str_base: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BtfBuilder {
    /// A builder for standalone (base) BTF.
    pub fn new() -> BtfBuilder {
        BtfBuilder {
            types: Vec::new(),
            strings: vec![0],
            str_index: HashMap::new(),
            next_id: 1,
            str_base: 0,
        }
    }

    /// A builder for split BTF on top of `base`: ids and string offsets continue the base's.
    pub fn new_split(base: &Btf) -> BtfBuilder {
        BtfBuilder {
            types: Vec::new(),
            strings: Vec::new(),
            str_index: HashMap::new(),
            next_id: base.type_count(),
            str_base: base.str_space_len(),
        }
    }

    /// Interns `s` and returns its offset in the combined string space (0 for `""`).
    pub fn add_str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&off) = self.str_index.get(s) {
            return off;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.str_index.insert(s.to_string(), off);
        off
    }

    fn push(&mut self, name: &str, kind: Kind, kind_flag: bool, vlen: usize, size_type: u32) {
        let name_off = self.add_str(name);
        let info = (u32::from(kind_flag) << 31) | (kind.raw() << 24) | (vlen as u32 & 0xffff);
        for w in [name_off, info, size_type] {
            self.word(w);
        }
    }

    fn word(&mut self, w: u32) {
        self.types.extend_from_slice(&w.to_le_bytes());
    }

    fn next(&mut self) -> TypeId {
        let id = TypeId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Adds raw bytes to the type section (for corruption tests).
    pub fn add_raw_words(&mut self, words: &[u32]) {
        for &w in words {
            self.word(w);
        }
    }

    /// `INT` with `encoding` made of [`crate::INT_SIGNED`], [`crate::INT_CHAR`], [`crate::INT_BOOL`].
    pub fn add_int(&mut self, name: &str, size: u32, encoding: u32) -> TypeId {
        self.push(name, Kind::Int, false, 0, size);
        self.word((encoding & 0xf) << 24 | (size * 8).min(128));
        self.next()
    }

    /// `FLOAT`.
    pub fn add_float(&mut self, name: &str, size: u32) -> TypeId {
        self.push(name, Kind::Float, false, 0, size);
        self.next()
    }

    /// `PTR`.
    pub fn add_ptr(&mut self, target: TypeId) -> TypeId {
        self.push("", Kind::Ptr, false, 0, target.0);
        self.next()
    }

    /// `ARRAY` of `len` elements, indexed by `index` (any int type).
    pub fn add_array(&mut self, elem: TypeId, index: TypeId, len: u32) -> TypeId {
        self.push("", Kind::Array, false, 0, 0);
        for w in [elem.0, index.0, len] {
            self.word(w);
        }
        self.next()
    }

    fn add_composite(
        &mut self,
        kind: Kind,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        let bitfields = members.iter().any(|m| m.3 != 0);
        self.push(name, kind, bitfields, members.len(), size);
        for &(mname, ty, bit_offset, bits) in members {
            let off = if bitfields {
                bits << 24 | (bit_offset & 0xff_ffff)
            } else {
                bit_offset
            };
            let name_off = self.add_str(mname);
            for w in [name_off, ty.0, off] {
                self.word(w);
            }
        }
        self.next()
    }

    /// `STRUCT` with members `(name, type, bit offset, bitfield size or 0)`.
    pub fn add_struct(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.add_composite(Kind::Struct, name, size, members)
    }

    /// `UNION` with members `(name, type, bit offset, bitfield size or 0)`.
    pub fn add_union(
        &mut self,
        name: &str,
        size: u32,
        members: &[(&str, TypeId, u32, u32)],
    ) -> TypeId {
        self.add_composite(Kind::Union, name, size, members)
    }

    /// 32-bit `ENUM`.
    pub fn add_enum(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, i64)],
    ) -> TypeId {
        self.push(name, Kind::Enum, signed, values.len(), size);
        for &(vname, v) in values {
            let off = self.add_str(vname);
            self.word(off);
            self.word(v as u32);
        }
        self.next()
    }

    /// `ENUM64`.
    pub fn add_enum64(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, u64)],
    ) -> TypeId {
        self.push(name, Kind::Enum64, signed, values.len(), size);
        for &(vname, v) in values {
            let off = self.add_str(vname);
            for w in [off, v as u32, (v >> 32) as u32] {
                self.word(w);
            }
        }
        self.next()
    }

    /// `FWD` declaration of a struct (or union).
    pub fn add_fwd(&mut self, name: &str, is_union: bool) -> TypeId {
        self.push(name, Kind::Fwd, is_union, 0, 0);
        self.next()
    }

    /// `TYPEDEF`.
    pub fn add_typedef(&mut self, name: &str, target: TypeId) -> TypeId {
        self.push(name, Kind::Typedef, false, 0, target.0);
        self.next()
    }

    /// `CONST`.
    pub fn add_const(&mut self, target: TypeId) -> TypeId {
        self.push("", Kind::Const, false, 0, target.0);
        self.next()
    }

    /// `VOLATILE`.
    pub fn add_volatile(&mut self, target: TypeId) -> TypeId {
        self.push("", Kind::Volatile, false, 0, target.0);
        self.next()
    }

    /// `RESTRICT`.
    pub fn add_restrict(&mut self, target: TypeId) -> TypeId {
        self.push("", Kind::Restrict, false, 0, target.0);
        self.next()
    }

    /// `TYPE_TAG` (e.g. `user`).
    pub fn add_type_tag(&mut self, tag: &str, target: TypeId) -> TypeId {
        self.push(tag, Kind::TypeTag, false, 0, target.0);
        self.next()
    }

    /// `FUNC_PROTO` with `(name, type)` parameters; `variadic` appends `...`.
    pub fn add_func_proto(
        &mut self,
        ret: TypeId,
        params: &[(&str, TypeId)],
        variadic: bool,
    ) -> TypeId {
        let n = params.len() + usize::from(variadic);
        self.push("", Kind::FuncProto, false, n, ret.0);
        for &(pname, ty) in params {
            let off = self.add_str(pname);
            self.word(off);
            self.word(ty.0);
        }
        if variadic {
            self.word(0);
            self.word(0);
        }
        self.next()
    }

    /// `FUNC` with linkage 0 static, 1 global, 2 extern.
    pub fn add_func(&mut self, name: &str, proto: TypeId, linkage: u32) -> TypeId {
        self.push(name, Kind::Func, false, linkage as usize, proto.0);
        self.next()
    }

    /// `VAR`.
    pub fn add_var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        self.push(name, Kind::Var, false, 0, ty.0);
        self.word(linkage);
        self.next()
    }

    /// `DATASEC` with `(var type, offset, size)` entries.
    pub fn add_datasec(&mut self, name: &str, size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        self.push(name, Kind::Datasec, false, vars.len(), size);
        for &(ty, off, sz) in vars {
            for w in [ty.0, off, sz] {
                self.word(w);
            }
        }
        self.next()
    }

    /// `DECL_TAG` on `target` (component -1 for the declaration itself).
    pub fn add_decl_tag(&mut self, tag: &str, target: TypeId, component_idx: i32) -> TypeId {
        self.push(tag, Kind::DeclTag, false, 0, target.0);
        self.word(component_idx as u32);
        self.next()
    }

    /// Id the next added type will get.
    pub fn next_id(&self) -> TypeId {
        TypeId(self.next_id)
    }

    /// Serializes header, type section and string section.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.types.len() + self.strings.len());
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.push(1); // version
        out.push(0); // flags
        for w in [
            24,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}
