//! The [`Btf`] container: header validation, the one-pass type index and record decoding.

use std::sync::{Arc, OnceLock};

use crate::error::BtfError;
use crate::names::NameTable;
use crate::types::{
    Array, Composite, Datasec, Enum, FuncProto, INT_BOOL, INT_CHAR, INT_SIGNED, Int, Kind,
    RecordRef, Type, TypeId,
};

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const COMMON_LEN: usize = 12;

/// A parsed BTF blob (vmlinux or split module BTF).
///
/// Parsing indexes the byte offset of every type in one pass; name lookup tables are
/// built on first use. All accessors are safe on corrupt input: they return errors or
/// empty names instead of panicking.
pub struct Btf {
    /// The blob: owned bytes, or memory the caller mapped (`/sys/kernel/btf/vmlinux` can be
    /// mapped read-only, which costs no resident memory of the process).
    data: Box<dyn AsRef<[u8]> + Send + Sync>,
    types_start: usize,
    strs_start: usize,
    strs_len: usize,
    /// Offset (relative to `types_start`) of each local type; local index 0 is `first_id`.
    offsets: Vec<u32>,
    /// Id of the first local type: 1 for base BTF, the base's `type_count()` for split BTF.
    first_id: u32,
    /// Offset of the local string section in the combined string space.
    str_base: u32,
    base: Option<Arc<Btf>>,
    pub(crate) names: OnceLock<NameTable>,
    pub(crate) func_names: OnceLock<NameTable>,
    pub(crate) enumerators: OnceLock<NameTable>,
}

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("bytes", &self.bytes().len())
            .field("first_id", &self.first_id)
            .field("types", &self.offsets.len())
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl Btf {
    /// Parses a standalone BTF blob such as `/sys/kernel/btf/vmlinux`.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Btf, BtfError> {
        Self::parse_inner(Box::new(bytes.into()), None)
    }

    /// Parses a standalone BTF blob held by `bytes` (e.g. a read-only mapping of
    /// `/sys/kernel/btf/vmlinux`), without copying it.
    pub fn parse_shared(bytes: Box<dyn AsRef<[u8]> + Send + Sync>) -> Result<Btf, BtfError> {
        Self::parse_inner(bytes, None)
    }

    fn bytes(&self) -> &[u8] {
        (*self.data).as_ref()
    }

    /// Parses split BTF (e.g. `/sys/kernel/btf/<module>`) on top of `base`.
    pub fn parse_split(bytes: impl Into<Vec<u8>>, base: Arc<Btf>) -> Result<Btf, BtfError> {
        Self::parse_inner(Box::new(bytes.into()), Some(base))
    }

    fn parse_inner(
        blob: Box<dyn AsRef<[u8]> + Send + Sync>,
        base: Option<Arc<Btf>>,
    ) -> Result<Btf, BtfError> {
        let data: &[u8] = (*blob).as_ref();
        if data.len() < HEADER_LEN {
            return Err(BtfError::TooShort { len: data.len() });
        }
        let magic = u16::from_le_bytes([data[0], data[1]]);
        if magic != MAGIC {
            return Err(if magic == MAGIC.swap_bytes() {
                BtfError::BigEndian
            } else {
                BtfError::BadMagic(magic)
            });
        }
        if data[2] != 1 {
            return Err(BtfError::BadVersion(data[2]));
        }
        let word = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let hdr_len = word(4) as usize;
        let (type_off, type_len) = (word(8) as usize, word(12) as usize);
        let (str_off, str_len) = (word(16) as usize, word(20) as usize);
        if hdr_len < HEADER_LEN || hdr_len > data.len() {
            return Err(BtfError::BadHeader("header length out of range"));
        }
        let section = |off: usize, len: usize| {
            let start = hdr_len.checked_add(off)?;
            let end = start.checked_add(len)?;
            (end <= data.len()).then_some(start)
        };
        let types_start =
            section(type_off, type_len).ok_or(BtfError::BadHeader("type section out of range"))?;
        let strs_start =
            section(str_off, str_len).ok_or(BtfError::BadHeader("string section out of range"))?;
        if types_start % 4 != 0 {
            return Err(BtfError::BadHeader("type section is not 4-byte aligned"));
        }
        let strs = &data[strs_start..strs_start + str_len];
        match base {
            None if strs.first() != Some(&0) => {
                return Err(BtfError::BadStrings("must start with an empty string"));
            }
            _ if !strs.is_empty() && strs.last() != Some(&0) => {
                return Err(BtfError::BadStrings("last string is not NUL-terminated"));
            }
            _ => {}
        }
        let (first_id, str_base) = match &base {
            Some(b) => (b.type_count(), b.str_space_len()),
            None => (1, 0),
        };
        let offsets = index_types(&data[types_start..types_start + type_len], first_id)?;
        if u64::from(first_id) + offsets.len() as u64 > u64::from(u32::MAX) {
            return Err(BtfError::BadHeader("too many types"));
        }
        Ok(Btf {
            data: blob,
            types_start,
            strs_start,
            strs_len: str_len,
            offsets,
            first_id,
            str_base,
            base,
            names: OnceLock::new(),
            func_names: OnceLock::new(),
            enumerators: OnceLock::new(),
        })
    }

    /// Number of type ids, counting `void` and the base's types for split BTF.
    pub fn type_count(&self) -> u32 {
        self.first_id + self.offsets.len() as u32
    }

    /// The base BTF of split BTF.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Id of the first type stored in this blob (1 for base BTF).
    pub fn first_local_id(&self) -> u32 {
        self.first_id
    }

    /// Length of the combined string space (base strings + local strings).
    pub(crate) fn str_space_len(&self) -> u32 {
        self.str_base.saturating_add(self.strs_len as u32)
    }

    /// Reads a little-endian word at an absolute offset; 0 when out of range.
    pub(crate) fn word_at(&self, off: usize) -> u32 {
        match self.bytes().get(off..off.wrapping_add(4)) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// Bytes of the NUL-terminated string at `off` in the combined string space.
    pub(crate) fn str_bytes_at(&self, off: u32) -> &[u8] {
        if off < self.str_base {
            return match &self.base {
                Some(b) => b.str_bytes_at(off),
                None => &[],
            };
        }
        let rel = (off - self.str_base) as usize;
        if rel >= self.strs_len {
            return &[];
        }
        let s = &self.bytes()[self.strs_start + rel..self.strs_start + self.strs_len];
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        &s[..end]
    }

    /// Hash and length of the string at `off`, `None` when out of range.
    pub(crate) fn hash_str_at(&self, off: u32) -> Option<(u32, usize)> {
        if off < self.str_base {
            return self.base.as_ref()?.hash_str_at(off);
        }
        let rel = (off - self.str_base) as usize;
        if rel >= self.strs_len {
            return None;
        }
        let s = &self.bytes()[self.strs_start..self.strs_start + self.strs_len];
        Some(crate::names::hash_cstr(s, rel))
    }

    /// The string at `off`; `""` when out of range or not UTF-8.
    pub(crate) fn str_at(&self, off: u32) -> &str {
        std::str::from_utf8(self.str_bytes_at(off)).unwrap_or("")
    }

    /// Number of types stored locally.
    pub(crate) fn local_len(&self) -> usize {
        self.offsets.len()
    }

    /// `(name_off, info)` of the local type with index `i`.
    pub(crate) fn local_head(&self, i: usize) -> (u32, u32) {
        let off = self.types_start + self.offsets.get(i).copied().unwrap_or(0) as usize;
        (self.word_at(off), self.word_at(off + 4))
    }

    /// The blob that stores `id` (self or a base), or `None` when out of range.
    fn owner(&self, id: u32) -> Option<&Btf> {
        if id >= self.first_id {
            (id < self.type_count()).then_some(self)
        } else {
            self.base.as_deref().and_then(|b| b.owner(id))
        }
    }

    /// Decodes type `id`.
    pub fn get(&self, id: TypeId) -> Result<Type<'_>, BtfError> {
        if id.0 == 0 {
            return Ok(Type::Void);
        }
        let owner = self.owner(id.0).ok_or(BtfError::UnknownType(id.0))?;
        Ok(owner.decode_local((id.0 - owner.first_id) as usize))
    }

    /// Kind of type `id`.
    pub fn kind(&self, id: TypeId) -> Result<Kind, BtfError> {
        Ok(self.get(id)?.kind())
    }

    fn decode_local(&self, i: usize) -> Type<'_> {
        let off = self.types_start + self.offsets[i] as usize;
        let name_off = self.word_at(off);
        let info = self.word_at(off + 4);
        let size_type = self.word_at(off + 8);
        let extra = off + COMMON_LEN;
        let vlen = (info & 0xffff) as usize;
        let kind_flag = info >> 31 == 1;
        let name = self.str_at(name_off);
        let rec = RecordRef {
            btf: self,
            extra,
            vlen,
        };
        let target = TypeId(size_type);
        // `index_types` only accepts known kinds, so the fallback is unreachable in practice.
        match Kind::from_raw((info >> 24) & 0x1f).unwrap_or(Kind::Void) {
            Kind::Void => Type::Void,
            Kind::Int => {
                let enc = self.word_at(extra);
                let encoding = (enc >> 24) & 0xf;
                Type::Int(Int {
                    name,
                    size: size_type,
                    signed: encoding & INT_SIGNED != 0,
                    char: encoding & INT_CHAR != 0,
                    bool: encoding & INT_BOOL != 0,
                    bit_offset: (enc >> 16) & 0xff,
                    bits: enc & 0xff,
                })
            }
            Kind::Ptr => Type::Ptr { target },
            Kind::Array => Type::Array(Array {
                elem: TypeId(self.word_at(extra)),
                index: TypeId(self.word_at(extra + 4)),
                len: self.word_at(extra + 8),
            }),
            kind @ (Kind::Struct | Kind::Union) => {
                let c = Composite {
                    name,
                    size: size_type,
                    kind_flag,
                    rec,
                };
                if kind == Kind::Struct {
                    Type::Struct(c)
                } else {
                    Type::Union(c)
                }
            }
            kind @ (Kind::Enum | Kind::Enum64) => Type::Enum(Enum {
                name,
                size: size_type,
                signed: kind_flag,
                is_64: kind == Kind::Enum64,
                rec,
            }),
            Kind::Fwd => Type::Fwd {
                name,
                is_union: kind_flag,
            },
            Kind::Typedef => Type::Typedef { name, target },
            Kind::Volatile => Type::Volatile { target },
            Kind::Const => Type::Const { target },
            Kind::Restrict => Type::Restrict { target },
            Kind::TypeTag => Type::TypeTag { name, target },
            Kind::Func => Type::Func {
                name,
                proto: target,
                linkage: vlen as u32,
            },
            Kind::FuncProto => Type::FuncProto(FuncProto { ret: target, rec }),
            Kind::Var => Type::Var {
                name,
                ty: target,
                linkage: self.word_at(extra),
            },
            Kind::Datasec => Type::Datasec(Datasec {
                name,
                size: size_type,
                rec,
            }),
            Kind::Float => Type::Float {
                name,
                size: size_type,
            },
            Kind::DeclTag => Type::DeclTag {
                name,
                target,
                component_idx: self.word_at(extra) as i32,
            },
        }
    }
}

/// Records the offset of every type record, validating kinds and lengths.
fn index_types(types: &[u8], first_id: u32) -> Result<Vec<u32>, BtfError> {
    // vmlinux averages ~36 bytes per record; over-reserving a little avoids regrowth.
    let mut offsets = Vec::with_capacity(types.len() / 24 + 1);
    let mut off = 0usize;
    let word = |i: usize| u32::from_le_bytes([types[i], types[i + 1], types[i + 2], types[i + 3]]);
    while off < types.len() {
        let id = first_id.wrapping_add(offsets.len() as u32);
        if types.len() - off < COMMON_LEN {
            return Err(BtfError::Truncated { id, offset: off });
        }
        let info = word(off + 4);
        let raw_kind = (info >> 24) & 0x1f;
        let kind = match Kind::from_raw(raw_kind) {
            Some(Kind::Void) | None => {
                return Err(BtfError::UnknownKind { id, kind: raw_kind });
            }
            Some(k) => k,
        };
        let len = COMMON_LEN + kind.extra_len((info & 0xffff) as usize);
        if types.len() - off < len {
            return Err(BtfError::Truncated { id, offset: off });
        }
        offsets.push(off as u32);
        off += len;
    }
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BtfBuilder, INT_BOOL, INT_SIGNED};

    fn all_kinds() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, INT_SIGNED); // 1
        let ptr = b.add_ptr(int); // 2
        b.add_array(int, int, 3); // 3
        b.add_struct("s", 8, &[("a", int, 0, 0), ("b", ptr, 32, 0)]); // 4
        b.add_union("u", 4, &[("bits", int, 0, 5)]); // 5
        b.add_enum("e", 4, true, &[("E_A", -2)]); // 6
        b.add_fwd("f", true); // 7
        b.add_typedef("t", int); // 8
        b.add_volatile(int); // 9
        b.add_const(int); // 10
        b.add_restrict(ptr); // 11
        let proto = b.add_func_proto(int, &[("x", int)], false); // 12
        b.add_func("fn_a", proto, 1); // 13
        let var = b.add_var("v", int, 1); // 14
        b.add_datasec(".data", 4, &[(var, 0, 4)]); // 15
        b.add_float("double", 8); // 16
        b.add_decl_tag("tag", var, -1); // 17
        b.add_type_tag("user", ptr); // 18
        b.add_enum64("e64", 8, false, &[("E_BIG", u64::MAX)]); // 19
        b.add_int("_Bool", 1, INT_BOOL); // 20
        b.build()
    }

    #[test]
    fn decodes_every_kind() {
        let btf = Btf::parse(all_kinds()).unwrap();
        assert_eq!(btf.type_count(), 21);
        let kinds: Vec<Kind> = (1..21).map(|i| btf.kind(TypeId(i)).unwrap()).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            [
                Int, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict,
                FuncProto, Func, Var, Datasec, Float, DeclTag, TypeTag, Enum64, Int
            ]
        );
        let Type::Int(i) = btf.get(TypeId(1)).unwrap() else {
            panic!("int")
        };
        assert_eq!((i.name, i.size, i.signed, i.bits), ("int", 4, true, 32));
        let Type::Array(a) = btf.get(TypeId(3)).unwrap() else {
            panic!("array")
        };
        assert_eq!((a.elem, a.len), (TypeId(1), 3));
        let Type::Union(u) = btf.get(TypeId(5)).unwrap() else {
            panic!("union")
        };
        let m: Vec<_> = u.members().collect();
        assert_eq!((m[0].name, m[0].bitfield_size), ("bits", 5));
        let Type::Enum(e) = btf.get(TypeId(6)).unwrap() else {
            panic!("enum")
        };
        assert_eq!(e.values().collect::<Vec<_>>(), [("E_A", (-2i64) as u64)]);
        assert!(matches!(
            btf.get(TypeId(7)).unwrap(),
            Type::Fwd {
                name: "f",
                is_union: true
            }
        ));
        assert!(matches!(
            btf.get(TypeId(13)).unwrap(),
            Type::Func {
                name: "fn_a",
                proto: TypeId(12),
                linkage: 1
            }
        ));
        assert!(matches!(
            btf.get(TypeId(14)).unwrap(),
            Type::Var {
                name: "v",
                linkage: 1,
                ..
            }
        ));
        let Type::Datasec(d) = btf.get(TypeId(15)).unwrap() else {
            panic!("datasec")
        };
        assert_eq!(d.name(), ".data");
        assert_eq!(d.vars().next().unwrap().ty, TypeId(14));
        assert!(matches!(
            btf.get(TypeId(16)).unwrap(),
            Type::Float { size: 8, .. }
        ));
        assert!(matches!(
            btf.get(TypeId(17)).unwrap(),
            Type::DeclTag {
                component_idx: -1,
                ..
            }
        ));
        assert!(matches!(
            btf.get(TypeId(18)).unwrap(),
            Type::TypeTag { name: "user", .. }
        ));
        let Type::Enum(e64) = btf.get(TypeId(19)).unwrap() else {
            panic!("enum64")
        };
        assert_eq!(e64.values().next(), Some(("E_BIG", u64::MAX)));
        let Type::Int(b) = btf.get(TypeId(20)).unwrap() else {
            panic!("bool")
        };
        assert!(b.bool);
        assert_eq!(btf.get(TypeId(21)).unwrap_err(), BtfError::UnknownType(21));
        assert!(matches!(btf.get(TypeId::VOID), Ok(Type::Void)));
    }

    #[test]
    fn header_errors() {
        let good = all_kinds();
        assert_eq!(
            Btf::parse(&good[..10]).unwrap_err(),
            BtfError::TooShort { len: 10 }
        );
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(matches!(
            Btf::parse(bad).unwrap_err(),
            BtfError::BadMagic(_)
        ));
        let mut be = good.clone();
        be.swap(0, 1);
        assert_eq!(Btf::parse(be).unwrap_err(), BtfError::BigEndian);
        let mut v = good.clone();
        v[2] = 2;
        assert_eq!(Btf::parse(v).unwrap_err(), BtfError::BadVersion(2));
        let mut strs = good.clone();
        *strs.last_mut().unwrap() = b'x';
        assert!(matches!(
            Btf::parse(strs).unwrap_err(),
            BtfError::BadStrings(_)
        ));
        let mut unknown = BtfBuilder::new();
        unknown.add_raw_words(&[0, 25 << 24, 0]);
        assert_eq!(
            Btf::parse(unknown.build()).unwrap_err(),
            BtfError::UnknownKind { id: 1, kind: 25 }
        );
    }

    /// Exercises every query on a possibly corrupt blob; must never panic.
    fn poke(btf: &Btf) {
        for i in 0..btf.type_count() + 2 {
            let id = TypeId(i);
            let _ = btf.type_name(id);
            let _ = btf.size_of(id);
            let _ = btf.member(id, "a");
            if let Ok(Type::Struct(c) | Type::Union(c)) = btf.get(id) {
                let _ = c.members().count();
            }
        }
        let _ = btf.find_any("s");
        let _ = btf.enum_value("E_A");
        let _ = btf.raw_tracepoint_args("x");
        let _ = btf.func_proto("fn_a");
    }

    #[test]
    fn truncated_and_corrupted_blobs_never_panic() {
        let good = all_kinds();
        for len in 0..good.len() {
            match Btf::parse(&good[..len]) {
                Ok(btf) => poke(&btf),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        // Deterministic byte flips over the whole blob.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut parsed = 0;
        for _ in 0..3000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut blob = good.clone();
            let pos = (seed % blob.len() as u64) as usize;
            blob[pos] = (seed >> 32) as u8;
            if let Ok(btf) = Btf::parse(blob) {
                parsed += 1;
                poke(&btf);
            }
        }
        assert!(parsed > 0, "some flips should still parse");
    }

    #[test]
    fn btf_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Btf>();
        let btf = Arc::new(Btf::parse(all_kinds()).unwrap());
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let btf = btf.clone();
                std::thread::spawn(move || btf.find("s", Kind::Struct))
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), Some(TypeId(4)));
        }
    }

    #[test]
    fn empty_type_section_is_fine() {
        let btf = Btf::parse(BtfBuilder::new().build()).unwrap();
        assert_eq!(btf.type_count(), 1);
        assert_eq!(btf.find_any("x"), None);
        assert_eq!(btf.enum_value("X"), None);
    }
}
