//! scry-btf: a fast, allocation-light reader for BPF Type Format (BTF).
//!
//! The caller supplies the bytes of `/sys/kernel/btf/vmlinux` (or a module's split
//! BTF); [`Btf::parse`] indexes type records in one pass and builds name tables on the
//! first lookup. Queries cover what a bpftrace-style compiler needs: types by name,
//! member offsets (through anonymous unions), sizes, enumerators, raw tracepoint and
//! function signatures, and C spelling of types. [`BtfBuilder`] assembles small blobs
//! for tests.

mod blob;
mod builder;
mod cname;
mod ctype;
mod error;
mod names;
mod query;
mod types;

pub use blob::Btf;
pub use builder::BtfBuilder;
pub use ctype::CType;
pub use error::BtfError;
pub use query::{EnumValue, FuncSignature, MemberInfo};
pub use types::{
    Array, Composite, Datasec, Enum, FuncProto, INT_BOOL, INT_CHAR, INT_SIGNED, Int, Kind, Member,
    Param, Type, TypeId, VarSecInfo,
};
