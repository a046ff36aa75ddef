//! Typed views over BTF type records: [`TypeId`], [`Kind`] and [`Type`].

use crate::Btf;

/// Index of a type in a BTF blob. Id 0 is `void`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The `void` type.
    pub const VOID: TypeId = TypeId(0);

    /// The raw id.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for TypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// BTF kind of a type record (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Type id 0.
    Void,
    /// Integer (`BTF_KIND_INT`).
    Int,
    /// Pointer.
    Ptr,
    /// Array.
    Array,
    /// Struct.
    Struct,
    /// Union.
    Union,
    /// 32-bit enum.
    Enum,
    /// Forward declaration of a struct or union.
    Fwd,
    /// Typedef.
    Typedef,
    /// `volatile` modifier.
    Volatile,
    /// `const` modifier.
    Const,
    /// `restrict` modifier.
    Restrict,
    /// Function (name + prototype).
    Func,
    /// Function prototype.
    FuncProto,
    /// Global variable.
    Var,
    /// Data section.
    Datasec,
    /// Floating point type.
    Float,
    /// Declaration tag.
    DeclTag,
    /// Type tag (e.g. `__user`).
    TypeTag,
    /// 64-bit enum.
    Enum64,
}

impl Kind {
    /// Maps a raw `BTF_KIND_*` number (1..=19) to a kind.
    pub fn from_raw(raw: u32) -> Option<Kind> {
        Some(match raw {
            0 => Kind::Void,
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            _ => return None,
        })
    }

    /// The raw `BTF_KIND_*` number.
    pub fn raw(self) -> u32 {
        self as u32
    }

    /// Bytes of kind-specific data following the 12-byte common header.
    pub(crate) fn extra_len(self, vlen: usize) -> usize {
        match self {
            Kind::Int | Kind::Var | Kind::DeclTag => 4,
            Kind::Array => 12,
            Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 12 * vlen,
            Kind::Enum | Kind::FuncProto => 8 * vlen,
            _ => 0,
        }
    }
}

/// `BTF_INT_SIGNED` encoding bit.
pub const INT_SIGNED: u32 = 1;
/// `BTF_INT_CHAR` encoding bit.
pub const INT_CHAR: u32 = 2;
/// `BTF_INT_BOOL` encoding bit.
pub const INT_BOOL: u32 = 4;

/// A decoded BTF type.
#[derive(Debug, Clone, Copy)]
pub enum Type<'a> {
    /// `void` (id 0).
    Void,
    /// Integer.
    Int(Int<'a>),
    /// Pointer to `target`.
    Ptr {
        /// Pointee type.
        target: TypeId,
    },
    /// Array.
    Array(Array),
    /// Struct.
    Struct(Composite<'a>),
    /// Union.
    Union(Composite<'a>),
    /// `ENUM` or `ENUM64`.
    Enum(Enum<'a>),
    /// Forward declaration.
    Fwd {
        /// Name.
        name: &'a str,
        /// `true` for `union`, `false` for `struct`.
        is_union: bool,
    },
    /// Typedef.
    Typedef {
        /// Name.
        name: &'a str,
        /// Aliased type.
        target: TypeId,
    },
    /// `volatile`.
    Volatile {
        /// Qualified type.
        target: TypeId,
    },
    /// `const`.
    Const {
        /// Qualified type.
        target: TypeId,
    },
    /// `restrict`.
    Restrict {
        /// Qualified type.
        target: TypeId,
    },
    /// Type tag such as `user` or `rcu`.
    TypeTag {
        /// Tag text.
        name: &'a str,
        /// Tagged type.
        target: TypeId,
    },
    /// Function.
    Func {
        /// Name.
        name: &'a str,
        /// The `FUNC_PROTO`.
        proto: TypeId,
        /// 0 static, 1 global, 2 extern.
        linkage: u32,
    },
    /// Function prototype.
    FuncProto(FuncProto<'a>),
    /// Variable.
    Var {
        /// Name.
        name: &'a str,
        /// Variable type.
        ty: TypeId,
        /// 0 static, 1 global, 2 extern.
        linkage: u32,
    },
    /// Data section.
    Datasec(Datasec<'a>),
    /// Floating point.
    Float {
        /// Name.
        name: &'a str,
        /// Size in bytes.
        size: u32,
    },
    /// Declaration tag.
    DeclTag {
        /// Tag text.
        name: &'a str,
        /// Tagged declaration.
        target: TypeId,
        /// Member/parameter index or -1 for the declaration itself.
        component_idx: i32,
    },
}

impl<'a> Type<'a> {
    /// Kind of this type.
    pub fn kind(&self) -> Kind {
        match self {
            Type::Void => Kind::Void,
            Type::Int(_) => Kind::Int,
            Type::Ptr { .. } => Kind::Ptr,
            Type::Array(_) => Kind::Array,
            Type::Struct(_) => Kind::Struct,
            Type::Union(_) => Kind::Union,
            Type::Enum(e) if e.is_64() => Kind::Enum64,
            Type::Enum(_) => Kind::Enum,
            Type::Fwd { .. } => Kind::Fwd,
            Type::Typedef { .. } => Kind::Typedef,
            Type::Volatile { .. } => Kind::Volatile,
            Type::Const { .. } => Kind::Const,
            Type::Restrict { .. } => Kind::Restrict,
            Type::TypeTag { .. } => Kind::TypeTag,
            Type::Func { .. } => Kind::Func,
            Type::FuncProto(_) => Kind::FuncProto,
            Type::Var { .. } => Kind::Var,
            Type::Datasec(_) => Kind::Datasec,
            Type::Float { .. } => Kind::Float,
            Type::DeclTag { .. } => Kind::DeclTag,
        }
    }

    /// Name of the type, `""` when anonymous or unnamed by nature (pointers, arrays...).
    pub fn name(&self) -> &'a str {
        match *self {
            Type::Int(i) => i.name,
            Type::Struct(c) | Type::Union(c) => c.name,
            Type::Enum(e) => e.name,
            Type::Fwd { name, .. }
            | Type::Typedef { name, .. }
            | Type::TypeTag { name, .. }
            | Type::Func { name, .. }
            | Type::Var { name, .. }
            | Type::Float { name, .. }
            | Type::DeclTag { name, .. } => name,
            Type::Datasec(d) => d.name,
            _ => "",
        }
    }
}

/// An integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int<'a> {
    /// Name (`int`, `long unsigned int`, `_Bool`...).
    pub name: &'a str,
    /// Size in bytes.
    pub size: u32,
    /// Signed encoding.
    pub signed: bool,
    /// Char encoding.
    pub char: bool,
    /// Bool encoding.
    pub bool: bool,
    /// Bit offset of the value inside the storage.
    pub bit_offset: u32,
    /// Number of value bits.
    pub bits: u32,
}

/// An array type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Array {
    /// Element type.
    pub elem: TypeId,
    /// Index type.
    pub index: TypeId,
    /// Number of elements.
    pub len: u32,
}

/// Raw location of a record: the blob owning it and its byte offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordRef<'a> {
    pub(crate) btf: &'a Btf,
    /// Absolute offset of the first kind-specific word.
    pub(crate) extra: usize,
    pub(crate) vlen: usize,
}

impl<'a> RecordRef<'a> {
    fn word(&self, i: usize) -> u32 {
        self.btf.word_at(self.extra + 4 * i)
    }
}

/// A struct or union.
#[derive(Debug, Clone, Copy)]
pub struct Composite<'a> {
    pub(crate) name: &'a str,
    pub(crate) size: u32,
    pub(crate) kind_flag: bool,
    pub(crate) rec: RecordRef<'a>,
}

/// A member of a struct or union.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// Member name, `""` for anonymous members.
    pub name: &'a str,
    /// Member type.
    pub ty: TypeId,
    /// Offset in bits from the start of the struct.
    pub bit_offset: u32,
    /// Bitfield width in bits, 0 when the member is not a bitfield.
    pub bitfield_size: u32,
}

impl<'a> Composite<'a> {
    /// Name, `""` when anonymous.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.rec.vlen
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.rec.vlen == 0
    }

    /// Members in declaration order.
    pub fn members(&self) -> impl Iterator<Item = Member<'a>> + 'a {
        let rec = self.rec;
        let kind_flag = self.kind_flag;
        (0..rec.vlen).map(move |i| {
            let off = rec.word(3 * i + 2);
            let (bit_offset, bitfield_size) = if kind_flag {
                (off & 0xff_ffff, off >> 24)
            } else {
                (off, 0)
            };
            Member {
                name: rec.btf.str_at(rec.word(3 * i)),
                ty: TypeId(rec.word(3 * i + 1)),
                bit_offset,
                bitfield_size,
            }
        })
    }
}

/// An `ENUM` or `ENUM64` type.
#[derive(Debug, Clone, Copy)]
pub struct Enum<'a> {
    pub(crate) name: &'a str,
    pub(crate) size: u32,
    pub(crate) signed: bool,
    pub(crate) is_64: bool,
    pub(crate) rec: RecordRef<'a>,
}

impl<'a> Enum<'a> {
    /// Name, `""` when anonymous.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Whether values are signed.
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// Whether this is an `ENUM64`.
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// Number of enumerators.
    pub fn len(&self) -> usize {
        self.rec.vlen
    }

    /// Whether there are no enumerators.
    pub fn is_empty(&self) -> bool {
        self.rec.vlen == 0
    }

    /// String offsets of the enumerator names.
    pub(crate) fn name_offs(&self) -> impl Iterator<Item = u32> + 'a {
        let rec = self.rec;
        let stride = if self.is_64 { 3 } else { 2 };
        (0..rec.vlen).map(move |i| rec.word(stride * i))
    }

    /// Enumerators as `(name, value bits)`. 32-bit signed values are sign-extended.
    pub fn values(&self) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        let rec = self.rec;
        let (is_64, signed) = (self.is_64, self.signed);
        (0..rec.vlen).map(move |i| {
            if is_64 {
                let lo = u64::from(rec.word(3 * i + 1));
                let hi = u64::from(rec.word(3 * i + 2));
                (rec.btf.str_at(rec.word(3 * i)), hi << 32 | lo)
            } else {
                let raw = rec.word(2 * i + 1);
                let value = if signed {
                    i64::from(raw as i32) as u64
                } else {
                    u64::from(raw)
                };
                (rec.btf.str_at(rec.word(2 * i)), value)
            }
        })
    }
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Parameter name (may be empty).
    pub name: String,
    /// Parameter type.
    pub ty: TypeId,
}

/// A function prototype.
#[derive(Debug, Clone, Copy)]
pub struct FuncProto<'a> {
    pub(crate) ret: TypeId,
    pub(crate) rec: RecordRef<'a>,
}

impl<'a> FuncProto<'a> {
    /// Return type (`VOID` for `void`).
    pub fn ret(&self) -> TypeId {
        self.ret
    }

    /// Whether the last parameter is `...`.
    pub fn variadic(&self) -> bool {
        let n = self.rec.vlen;
        n > 0 && self.rec.word(2 * (n - 1)) == 0 && self.rec.word(2 * (n - 1) + 1) == 0
    }

    /// Parameters as `(name, type)`, excluding a trailing `...`.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, TypeId)> + 'a {
        let rec = self.rec;
        let n = if self.variadic() {
            rec.vlen - 1
        } else {
            rec.vlen
        };
        (0..n).map(move |i| (rec.btf.str_at(rec.word(2 * i)), TypeId(rec.word(2 * i + 1))))
    }
}

/// A data section.
#[derive(Debug, Clone, Copy)]
pub struct Datasec<'a> {
    pub(crate) name: &'a str,
    pub(crate) size: u32,
    pub(crate) rec: RecordRef<'a>,
}

/// One variable inside a [`Datasec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarSecInfo {
    /// The `VAR` type.
    pub ty: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

impl<'a> Datasec<'a> {
    /// Section name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Section size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Variables in the section.
    pub fn vars(&self) -> impl Iterator<Item = VarSecInfo> + 'a {
        let rec = self.rec;
        (0..rec.vlen).map(move |i| VarSecInfo {
            ty: TypeId(rec.word(3 * i)),
            offset: rec.word(3 * i + 1),
            size: rec.word(3 * i + 2),
        })
    }
}
