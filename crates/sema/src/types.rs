//! The types of bpftrace values, with their in-kernel storage sizes.
//!
//! Storage rule shared by the code generator and the decoder: every scalar (integers of any
//! width, bools, pointers, probe ids, symbols) occupies 8 bytes; strings occupy their capacity;
//! tuples lay their elements out back to back, each padded to 8 bytes.

use std::fmt;

/// A value's type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// No value (statements, calls without a result).
    None,
    /// An integer of `bytes` (1, 2, 4, 8) bytes.
    Int { bytes: u8, signed: bool },
    /// `true`/`false`.
    Bool,
    /// A NUL-terminated string with room for `.0` bytes.
    Str(u32),
    /// Raw bytes from `buf()`: an 8-byte length, then up to `.0` bytes.
    Buf(u32),
    /// A tuple.
    Tuple(Vec<Type>),
    /// The probe that fired: an id resolved to its name in user space.
    Probe,
    /// The probed function (`func`): a probe id, printed as the function's name.
    Func,
    /// `cgroup_path(id)`: a cgroup id, printed as its path in every cgroup hierarchy.
    CgroupPath,
    /// A user id, printed as the user's name.
    Username,
    /// A kernel address printed as a symbol (`ksym`).
    Ksym,
    /// A user address printed as a symbol (`usym`): the address, then the pid.
    Usym,
    /// `ntop()`: address family and 16 address bytes, printed as an address.
    Inet,
    /// `strftime(fmt, ns)`: format id and nanoseconds, formatted in user space.
    Timestamp,
    /// A pointer. `user` pointers are read with `probe_read_user`.
    Ptr { pointee: Box<Type>, user: bool },
    /// A kernel or user stack (`kstack`, `ustack(perf, 5)`): a stack id (and, for user stacks,
    /// the pid in the upper 32 bits), symbolized in user space. `mode`: 0 bpftrace, 1 perf,
    /// 2 raw; `limit`: frames shown (0: all).
    Stack { user: bool, mode: u8, limit: u8 },
    /// A tracepoint's `args` record (only usable through field access).
    Args,
    /// A C struct or union by name (`struct task_struct`, or `#<btf id>` when anonymous).
    /// A record expression stands for the record's address; it is read field by field.
    Record(String),
    /// The bytes of a whole struct or union, copied out of memory: a map key such as
    /// `@[*$ts]`, laid out for printing by `layout`.
    RecordValue {
        name: String,
        size: u32,
        layout: Box<scry_output::Layout>,
    },
}

impl Type {
    pub const U64: Type = Type::Int {
        bytes: 8,
        signed: false,
    };
    pub const I64: Type = Type::Int {
        bytes: 8,
        signed: true,
    };

    /// Bytes this type occupies in maps, records and scratch memory.
    pub fn storage_size(&self) -> u32 {
        match self {
            Type::None | Type::Args | Type::Record(_) => 0,
            Type::Str(n) => *n,
            Type::Buf(n) => 8 + n.div_ceil(8) * 8,
            Type::Tuple(elems) => elems.iter().map(|t| t.storage_size().div_ceil(8) * 8).sum(),
            Type::Inet | Type::Timestamp => 24,
            // The address and the pid whose mappings resolve it.
            Type::Usym => 16,
            Type::RecordValue { size, .. } => size.div_ceil(8) * 8,
            _ => 8,
        }
    }

    /// Offsets of a tuple's elements.
    pub fn tuple_offsets(elems: &[Type]) -> Vec<u32> {
        let mut offset = 0;
        elems
            .iter()
            .map(|t| {
                let here = offset;
                offset += t.storage_size().div_ceil(8) * 8;
                here
            })
            .collect()
    }

    /// True for types held in one register.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::Int { .. }
                | Type::Bool
                | Type::Probe
                | Type::Func
                | Type::CgroupPath
                | Type::Username
                | Type::Ksym
                | Type::Stack { .. }
                | Type::Ptr { .. }
        )
    }

    /// True for integer-like types usable in arithmetic and `%d`.
    pub fn is_integer(&self) -> bool {
        matches!(self, Type::Int { .. } | Type::Bool | Type::Ptr { .. })
    }

    pub fn is_signed(&self) -> bool {
        matches!(self, Type::Int { signed: true, .. })
    }

    /// The least general type both `a` and `b` fit in, if they are compatible.
    pub fn unify(a: &Type, b: &Type) -> Option<Type> {
        Some(match (a, b) {
            (Type::None, other) | (other, Type::None) => other.clone(),
            (
                Type::Int {
                    bytes: x,
                    signed: s,
                },
                Type::Int {
                    bytes: y,
                    signed: t,
                },
            ) => Type::Int {
                bytes: (*x).max(*y),
                signed: *s || *t,
            },
            (Type::Bool, Type::Int { .. }) | (Type::Int { .. }, Type::Bool) => Type::I64,
            (Type::Str(x), Type::Str(y)) => Type::Str((*x).max(*y)),
            (Type::Buf(x), Type::Buf(y)) => Type::Buf((*x).max(*y)),
            (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => {
                let mut elems = Vec::with_capacity(x.len());
                for (p, q) in x.iter().zip(y) {
                    elems.push(Type::unify(p, q)?);
                }
                Type::Tuple(elems)
            }
            (Type::Ptr { .. }, Type::Int { .. }) | (Type::Int { .. }, Type::Ptr { .. }) => {
                Type::U64
            }
            (x, y) if x == y => x.clone(),
            _ => return None,
        })
    }
}

impl fmt::Display for Type {
    /// bpftrace's spelling, used in error messages (`int64`, `string[16]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::None => write!(f, "none"),
            Type::Int { bytes, signed } => write!(
                f,
                "{}int{}",
                if *signed { "" } else { "u" },
                *bytes as u32 * 8
            ),
            Type::Bool => write!(f, "bool"),
            Type::Str(n) => write!(f, "string[{n}]"),
            Type::Buf(n) => write!(f, "buffer[{n}]"),
            Type::Tuple(elems) => {
                write!(f, "(")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
            Type::Probe => write!(f, "probe"),
            Type::Func => write!(f, "func"),
            Type::CgroupPath => write!(f, "cgroup_path_t"),
            Type::Username => write!(f, "username"),
            Type::Ksym => write!(f, "ksym_t"),
            Type::Usym => write!(f, "usym_t"),
            Type::Inet => write!(f, "inet"),
            Type::Timestamp => write!(f, "timestamp"),
            Type::Ptr { pointee, .. } => write!(f, "{pointee} *"),
            Type::Args => write!(f, "args"),
            Type::Stack { user: false, .. } => write!(f, "kstack"),
            Type::Stack { user: true, .. } => write!(f, "ustack"),
            Type::Record(name) | Type::RecordValue { name, .. } => write!(f, "{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_layouts() {
        assert_eq!(Type::Str(16).storage_size(), 16);
        let tuple = vec![Type::I64, Type::Str(5), Type::U64];
        assert_eq!(Type::tuple_offsets(&tuple), vec![0, 8, 16]);
        assert_eq!(Type::Tuple(tuple).storage_size(), 24);
    }

    #[test]
    fn unification() {
        assert_eq!(
            Type::unify(&Type::Str(4), &Type::Str(16)),
            Some(Type::Str(16))
        );
        assert_eq!(
            Type::unify(
                &Type::Int {
                    bytes: 4,
                    signed: false
                },
                &Type::I64
            ),
            Some(Type::Int {
                bytes: 8,
                signed: true
            })
        );
        assert_eq!(Type::unify(&Type::Str(4), &Type::I64), None);
    }

    #[test]
    fn names_match_bpftrace() {
        assert_eq!(Type::I64.to_string(), "int64");
        assert_eq!(Type::Str(4).to_string(), "string[4]");
        assert_eq!(
            Type::Int {
                bytes: 4,
                signed: false
            }
            .to_string(),
            "uint32"
        );
    }
}
