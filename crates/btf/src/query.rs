//! Higher-level queries: modifier resolution, sizes, member lookup, enumerators and
//! function/raw-tracepoint signatures.

use crate::blob::Btf;
use crate::error::BtfError;
use crate::types::{Kind, Param, Type, TypeId};

/// Longest typedef/modifier chain followed before reporting a cycle.
const MAX_CHAIN: usize = 64;

/// Most anonymous composites visited by one member lookup.
const MAX_VISITS: usize = 4096;

/// Location of a (possibly nested) struct member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberInfo {
    /// Offset in bits from the start of the outer struct.
    pub bit_offset: u32,
    /// Member type.
    pub ty: TypeId,
    /// Bitfield width in bits, 0 when the member is not a bitfield.
    pub bitfield_size: u32,
}

/// An enumerator value found by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// The enum type defining it.
    pub ty: TypeId,
    /// Value bits (sign-extended to 64 bits for signed enums).
    pub value: u64,
    /// Whether the enum is signed.
    pub signed: bool,
}

impl EnumValue {
    /// The value as a signed integer.
    pub fn as_i64(&self) -> i64 {
        self.value as i64
    }
}

/// A function signature from a `FUNC_PROTO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncSignature {
    /// Function (or raw tracepoint) name.
    pub name: String,
    /// Return type.
    pub ret: TypeId,
    /// Parameters.
    pub params: Vec<Param>,
    /// Whether the prototype ends in `...`.
    pub variadic: bool,
}

impl Btf {
    /// Skips `const`, `volatile`, `restrict` and type tags.
    pub fn skip_modifiers(&self, id: TypeId) -> Result<TypeId, BtfError> {
        self.skip(id, false)
    }

    /// Skips typedefs, `const`, `volatile`, `restrict` and type tags.
    pub fn resolve(&self, id: TypeId) -> Result<TypeId, BtfError> {
        self.skip(id, true)
    }

    fn skip(&self, start: TypeId, typedefs: bool) -> Result<TypeId, BtfError> {
        let mut id = start;
        for _ in 0..MAX_CHAIN {
            match self.get(id)? {
                Type::Const { target }
                | Type::Volatile { target }
                | Type::Restrict { target }
                | Type::TypeTag { target, .. } => id = target,
                Type::Typedef { target, .. } if typedefs => id = target,
                _ => return Ok(id),
            }
        }
        Err(BtfError::Cycle(start.0))
    }

    /// Size in bytes of a type; pointers are 8 bytes. `void`, functions and forward
    /// declarations have no size.
    pub fn size_of(&self, id: TypeId) -> Result<u64, BtfError> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: TypeId, depth: usize) -> Result<u64, BtfError> {
        if depth > MAX_CHAIN {
            return Err(BtfError::Cycle(id.0));
        }
        let id = self.resolve(id)?;
        Ok(match self.get(id)? {
            Type::Int(i) => u64::from(i.size),
            Type::Ptr { .. } => 8,
            Type::Struct(c) | Type::Union(c) => u64::from(c.size()),
            Type::Enum(e) => u64::from(e.size()),
            Type::Float { size, .. } => u64::from(size),
            Type::Datasec(d) => u64::from(d.size()),
            Type::Var { ty, .. } => self.size_of_depth(ty, depth + 1)?,
            Type::Array(a) => self
                .size_of_depth(a.elem, depth + 1)?
                .saturating_mul(u64::from(a.len)),
            _ => {
                return Err(BtfError::NoSize {
                    id: id.0,
                    name: self.type_name(id),
                });
            }
        })
    }

    /// Finds member `name` of the struct/union `composite` (typedefs and modifiers are
    /// skipped), descending into anonymous struct/union members.
    pub fn member(&self, composite: TypeId, name: &str) -> Result<Option<MemberInfo>, BtfError> {
        let id = self.resolve(composite)?;
        match self.get(id)? {
            Type::Struct(_) | Type::Union(_) => {
                let mut budget = MAX_VISITS;
                self.member_in(id, name, 0, &mut budget)
            }
            _ => Err(BtfError::NotComposite {
                id: composite.0,
                name: self.type_name(composite),
            }),
        }
    }

    fn member_in(
        &self,
        id: TypeId,
        name: &str,
        base_bits: u32,
        budget: &mut usize,
    ) -> Result<Option<MemberInfo>, BtfError> {
        // A budget on visited composites bounds the work on cyclic or diamond-shaped
        // (corrupt) anonymous member graphs.
        *budget = budget.checked_sub(1).ok_or(BtfError::Cycle(id.0))?;
        let (Type::Struct(c) | Type::Union(c)) = self.get(id)? else {
            return Ok(None);
        };
        if let Some(m) = c.members().find(|m| m.name == name) {
            return Ok(Some(MemberInfo {
                bit_offset: base_bits.saturating_add(m.bit_offset),
                ty: m.ty,
                bitfield_size: m.bitfield_size,
            }));
        }
        for m in c.members().filter(|m| m.name.is_empty()) {
            let inner = self.resolve(m.ty)?;
            let bits = base_bits.saturating_add(m.bit_offset);
            if let Some(found) = self.member_in(inner, name, bits, budget)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Looks an enumerator up by name across all `ENUM`/`ENUM64` types (lowest enum id wins).
    pub fn enum_value(&self, enumerator: &str) -> Option<EnumValue> {
        let mut best: Option<EnumValue> = None;
        self.for_each_enumerator(enumerator, &mut |id, idx| {
            if best.is_some_and(|b| b.ty < id) {
                return;
            }
            if let Ok(Type::Enum(e)) = self.get(id)
                && let Some((name, value)) = e.values().nth(idx)
                && name == enumerator
            {
                best = Some(EnumValue {
                    ty: id,
                    value,
                    signed: e.signed(),
                });
            }
        });
        best
    }

    /// Signature of a function prototype type.
    pub fn signature(&self, name: &str, proto: TypeId) -> Result<FuncSignature, BtfError> {
        let id = self.skip_modifiers(proto)?;
        let Type::FuncProto(p) = self.get(id)? else {
            return Err(BtfError::BadShape {
                what: name.to_string(),
                why: "expected a FUNC_PROTO",
            });
        };
        Ok(FuncSignature {
            name: name.to_string(),
            ret: p.ret(),
            params: p
                .params()
                .map(|(n, ty)| Param {
                    name: n.to_string(),
                    ty,
                })
                .collect(),
            variadic: p.variadic(),
        })
    }

    /// Signature of the kernel function `func` (`FUNC` -> `FUNC_PROTO`), for fentry probes.
    pub fn func_proto(&self, func: &str) -> Result<Option<FuncSignature>, BtfError> {
        let Some(id) = self.find(func, Kind::Func) else {
            return Ok(None);
        };
        let Type::Func { proto, .. } = self.get(id)? else {
            return Ok(None);
        };
        self.signature(func, proto).map(Some)
    }

    /// Arguments of the BTF raw tracepoint `tp` (e.g. `sched_switch`): types come from
    /// typedef `btf_trace_<tp>` -> pointer -> `FUNC_PROTO` with the leading `void *`
    /// context dropped. That prototype has no parameter names, so names are taken from
    /// the `__bpf_trace_<tp>` (or `__probestub_<tp>`) function when it agrees, else `argN`.
    pub fn raw_tracepoint_args(&self, tp: &str) -> Result<Option<Vec<Param>>, BtfError> {
        let what = || format!("btf_trace_{tp}");
        let Some(td) = self.find(&what(), Kind::Typedef) else {
            return Ok(None);
        };
        let Type::Typedef { target, .. } = self.get(td)? else {
            return Ok(None);
        };
        let Type::Ptr { target: proto } = self.get(self.skip_modifiers(target)?)? else {
            return Err(BtfError::BadShape {
                what: what(),
                why: "typedef is not a function pointer",
            });
        };
        let mut params = self.signature(tp, proto)?.params;
        if params.is_empty() {
            return Err(BtfError::BadShape {
                what: what(),
                why: "missing the context parameter",
            });
        }
        params.remove(0);
        let named = ["__bpf_trace_", "__probestub_"].iter().find_map(|prefix| {
            let sig = self.func_proto(&format!("{prefix}{tp}")).ok()??;
            let rest = sig.params.get(1..)?;
            let agrees = rest.len() == params.len()
                && rest.iter().all(|p| !p.name.is_empty())
                && rest
                    .iter()
                    .zip(&params)
                    .all(|(a, b)| self.resolve(a.ty).ok() == self.resolve(b.ty).ok());
            agrees.then(|| rest.to_vec())
        });
        for (i, p) in params.iter_mut().enumerate() {
            match named.as_ref().and_then(|n| n.get(i)) {
                Some(n) => p.name.clone_from(&n.name),
                None if p.name.is_empty() => p.name = format!("arg{i}"),
                None => {}
            }
        }
        Ok(Some(params))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Btf, BtfBuilder, BtfError, INT_CHAR, INT_SIGNED, Kind, TypeId};

    /// A small kernel-like universe: task_struct with an anonymous union, bitfields,
    /// a typedef'd pid, a char array, and a raw tracepoint typedef.
    fn sample() -> (Btf, Vec<TypeId>) {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, INT_SIGNED);
        let chr = b.add_int("char", 1, INT_CHAR | INT_SIGNED);
        let uint = b.add_int("unsigned int", 4, 0);
        let pid_t = b.add_typedef("pid_t", int);
        let comm = b.add_array(chr, int, 16);
        let fwd_task = b.add_fwd("task_struct", false);
        let task_ptr = b.add_ptr(fwd_task);
        let inner = b.add_struct("", 8, &[("x", int, 0, 0), ("y", int, 32, 0)]);
        let anon = b.add_union("", 8, &[("", inner, 0, 0), ("whole", uint, 0, 0)]);
        let task = b.add_struct(
            "task_struct",
            48,
            &[
                ("pid", pid_t, 0, 0),
                ("flag_a", uint, 32, 1),
                ("flag_b", uint, 33, 3),
                ("comm", comm, 64, 0),
                ("", anon, 192, 0),
                ("real_parent", task_ptr, 256, 0),
            ],
        );
        let cint = b.add_const(int);
        let vint = b.add_volatile(cint);
        let void_ptr = b.add_ptr(TypeId::VOID);
        let real_task_ptr = b.add_ptr(task);
        let proto = b.add_func_proto(
            TypeId::VOID,
            &[
                ("__data", void_ptr),
                ("preempt", int),
                ("prev", real_task_ptr),
            ],
            false,
        );
        let proto_ptr = b.add_ptr(proto);
        b.add_typedef("btf_trace_sched_switch", proto_ptr);
        b.add_enum(
            "bpf_map_type",
            4,
            false,
            &[("BPF_MAP_TYPE_UNSPEC", 0), ("BPF_MAP_TYPE_HASH", 1)],
        );
        b.add_enum("neg", 4, true, &[("NEG_ONE", -1)]);
        b.add_enum64("big", 8, false, &[("BIG_VALUE", 1 << 40)]);
        let fproto = b.add_func_proto(int, &[("task", real_task_ptr)], true);
        b.add_func("do_thing", fproto, 1);
        let btf = Btf::parse(b.build()).expect("valid blob");
        (
            btf,
            vec![int, chr, pid_t, comm, task, vint, task_ptr, real_task_ptr],
        )
    }

    #[test]
    fn find_prefers_complete_types() {
        let (btf, ids) = sample();
        let task = ids[4];
        assert_eq!(btf.find("task_struct", Kind::Struct), Some(task));
        assert_eq!(btf.find_any("task_struct"), Some(task));
        assert_eq!(btf.find_all("task_struct").len(), 2);
        assert_eq!(btf.find("task_struct", Kind::Union), None);
        assert_eq!(btf.find("nope", Kind::Struct), None);
        assert_eq!(btf.find_c_type("struct task_struct"), Some(task));
        assert_eq!(btf.find_c_type("pid_t"), Some(ids[2]));
        assert_eq!(
            btf.find_c_type("unsigned"),
            btf.find("unsigned int", Kind::Int)
        );
        assert_eq!(btf.find_c_type("void"), Some(TypeId::VOID));
    }

    #[test]
    fn resolve_and_sizes() {
        let (btf, ids) = sample();
        let [int, _, pid_t, comm, task, vint, task_ptr, _] = ids[..] else {
            unreachable!()
        };
        assert_eq!(btf.resolve(pid_t), Ok(int));
        assert_eq!(btf.resolve(vint), Ok(int));
        assert_eq!(btf.skip_modifiers(pid_t), Ok(pid_t));
        assert_eq!(btf.size_of(comm), Ok(16));
        assert_eq!(btf.size_of(task), Ok(48));
        assert_eq!(btf.size_of(task_ptr), Ok(8));
        assert_eq!(btf.size_of(vint), Ok(4));
        assert!(matches!(
            btf.size_of(TypeId::VOID),
            Err(BtfError::NoSize { .. })
        ));
        assert_eq!(btf.size_of(TypeId(9999)), Err(BtfError::UnknownType(9999)));
    }

    #[test]
    fn members_through_anonymous_unions_and_bitfields() {
        let (btf, ids) = sample();
        let task = ids[4];
        let pid = btf.member(task, "pid").unwrap().unwrap();
        assert_eq!((pid.bit_offset, pid.ty, pid.bitfield_size), (0, ids[2], 0));
        let b = btf.member(task, "flag_b").unwrap().unwrap();
        assert_eq!((b.bit_offset, b.bitfield_size), (33, 3));
        let y = btf.member(task, "y").unwrap().unwrap();
        assert_eq!(y.bit_offset, 192 + 32);
        let whole = btf.member(task, "whole").unwrap().unwrap();
        assert_eq!(whole.bit_offset, 192);
        assert_eq!(btf.member(task, "missing"), Ok(None));
        assert!(matches!(
            btf.member(ids[0], "x"),
            Err(BtfError::NotComposite { .. })
        ));
    }

    #[test]
    fn enumerators() {
        let (btf, _) = sample();
        let hash = btf.enum_value("BPF_MAP_TYPE_HASH").unwrap();
        assert_eq!((hash.as_i64(), hash.signed), (1, false));
        assert_eq!(btf.enum_value("NEG_ONE").unwrap().as_i64(), -1);
        assert_eq!(btf.enum_value("BIG_VALUE").unwrap().value, 1 << 40);
        assert_eq!(btf.enum_value("TASK_RUNNING"), None);
    }

    #[test]
    fn raw_tracepoint_and_function_signatures() {
        let (btf, ids) = sample();
        let args = btf.raw_tracepoint_args("sched_switch").unwrap().unwrap();
        let names: Vec<_> = args.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["preempt", "prev"]);
        assert_eq!(args[1].ty, ids[7]);
        assert_eq!(btf.raw_tracepoint_args("nope"), Ok(None));
        let sig = btf.func_proto("do_thing").unwrap().unwrap();
        assert_eq!((sig.ret, sig.params.len(), sig.variadic), (ids[0], 1, true));
        assert_eq!(btf.func_proto("task_struct"), Ok(None));
    }

    #[test]
    fn raw_tracepoint_names_come_from_the_bpf_trace_function() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, INT_SIGNED);
        let vp = b.add_ptr(TypeId::VOID);
        let anon = b.add_func_proto(TypeId::VOID, &[("", vp), ("", int), ("", int)], false);
        let anon_ptr = b.add_ptr(anon);
        b.add_typedef("btf_trace_a", anon_ptr);
        b.add_typedef("btf_trace_b", anon_ptr);
        let named = b.add_func_proto(
            TypeId::VOID,
            &[("__data", vp), ("cpu", int), ("ret", int)],
            false,
        );
        b.add_func("__bpf_trace_a", named, 0);
        let btf = Btf::parse(b.build()).unwrap();
        let names = |tp| -> Vec<String> {
            let args = btf.raw_tracepoint_args(tp).unwrap().unwrap();
            args.into_iter().map(|p| p.name).collect()
        };
        assert_eq!(names("a"), ["cpu", "ret"]);
        assert_eq!(names("b"), ["arg0", "arg1"]);
    }

    #[test]
    fn cyclic_typedefs_are_reported() {
        let mut b = BtfBuilder::new();
        // id 1 -> id 2 -> id 1
        b.add_typedef("a", TypeId(2));
        b.add_typedef("b", TypeId(1));
        let btf = Btf::parse(b.build()).unwrap();
        assert_eq!(btf.resolve(TypeId(1)), Err(BtfError::Cycle(1)));
        assert!(btf.size_of(TypeId(1)).is_err());
        assert!(btf.type_name(TypeId(1)).contains("a"));
    }

    #[test]
    fn split_btf_sees_base_types_and_strings() {
        let (base, ids) = sample();
        let base = std::sync::Arc::new(base);
        let mut b = BtfBuilder::new_split(&base);
        let first = b.next_id();
        assert_eq!(first.0, base.type_count());
        let ptr = b.add_ptr(ids[4]);
        let m = b.add_struct(
            "module_thing",
            16,
            &[("pid", ids[2], 0, 0), ("task", ptr, 64, 0)],
        );
        b.add_enum("mod_enum", 4, false, &[("MOD_A", 7)]);
        let split = Btf::parse_split(b.build(), base.clone()).unwrap();
        assert_eq!(split.find("module_thing", Kind::Struct), Some(m));
        assert_eq!(split.find("task_struct", Kind::Struct), Some(ids[4]));
        assert_eq!(split.type_name(ptr), "struct task_struct *");
        let task = split.member(m, "task").unwrap().unwrap();
        assert_eq!((task.bit_offset, task.ty), (64, ptr));
        assert_eq!(split.enum_value("MOD_A").unwrap().value, 7);
        assert_eq!(split.enum_value("BPF_MAP_TYPE_HASH").unwrap().value, 1);
        assert_eq!(split.type_count(), base.type_count() + 3);
    }
}
