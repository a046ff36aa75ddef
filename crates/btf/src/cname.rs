//! C spelling of BTF types for listings and error messages.

use crate::blob::Btf;
use crate::types::{Type, TypeId};

/// Deepest declarator nesting printed before giving up (cyclic or corrupt BTF).
const MAX_DEPTH: usize = 64;

impl Btf {
    /// C type name: `struct task_struct *`, `const char *`, `u32`, `char[16]`,
    /// `int (*)(void *)`.
    pub fn type_name(&self, id: TypeId) -> String {
        self.decl(id, String::new(), 0)
    }

    /// C declaration of `name` with type `id`: `char comm[16]`, `struct task_struct *prev`,
    /// `void (*fn)(int)`. An empty name gives [`Btf::type_name`].
    pub fn c_decl(&self, id: TypeId, name: &str) -> String {
        self.decl(id, name.to_string(), 0)
    }

    fn decl(&self, id: TypeId, inner: String, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return join("<too deep>", inner);
        }
        let Ok(ty) = self.get(id) else {
            return join(&format!("<bad type {}>", id.0), inner);
        };
        let named = |prefix: &str, name: &str| {
            if name.is_empty() {
                format!("{prefix} {{...}}")
            } else {
                format!("{prefix} {name}")
            }
        };
        match ty {
            Type::Void => join("void", inner),
            Type::Int(i) => join(i.name, inner),
            Type::Float { name, .. } | Type::Typedef { name, .. } => join(name, inner),
            Type::Struct(c) => join(&named("struct", c.name()), inner),
            Type::Union(c) => join(&named("union", c.name()), inner),
            Type::Enum(e) => join(&named("enum", e.name()), inner),
            Type::Fwd { name, is_union } => join(
                &named(if is_union { "union" } else { "struct" }, name),
                inner,
            ),
            Type::Datasec(d) => join(&named("section", d.name()), inner),
            Type::Ptr { target } => {
                let pointee = self.skip_modifiers(target).and_then(|t| self.get(t));
                let inner = if matches!(pointee, Ok(Type::Array(_) | Type::FuncProto(_))) {
                    format!("(*{inner})")
                } else {
                    format!("*{inner}")
                };
                self.decl(target, inner, depth + 1)
            }
            Type::Const { target } => self.qualified("const", target, inner, depth),
            Type::Volatile { target } => self.qualified("volatile", target, inner, depth),
            Type::Restrict { target } => self.qualified("restrict", target, inner, depth),
            Type::TypeTag { target, .. } | Type::DeclTag { target, .. } => {
                self.decl(target, inner, depth + 1)
            }
            Type::Array(a) => self.decl(a.elem, format!("{inner}[{}]", a.len), depth + 1),
            Type::FuncProto(p) => {
                let mut params: Vec<String> = p
                    .params()
                    .map(|(name, ty)| self.decl(ty, name.to_string(), depth + 1))
                    .collect();
                if p.variadic() {
                    params.push("...".to_string());
                }
                if params.is_empty() {
                    params.push("void".to_string());
                }
                let inner = format!("{inner}({})", params.join(", "));
                self.decl(p.ret(), inner, depth + 1)
            }
            Type::Func { name, proto, .. }
            | Type::Var {
                name, ty: proto, ..
            } => {
                let inner = if inner.is_empty() {
                    name.to_string()
                } else {
                    inner
                };
                self.decl(proto, inner, depth + 1)
            }
        }
    }

    /// A qualifier goes after the `*` when it qualifies a pointer, before the base otherwise.
    fn qualified(&self, qual: &str, target: TypeId, inner: String, depth: usize) -> String {
        let is_ptr = self
            .skip_modifiers(target)
            .and_then(|t| self.get(t))
            .is_ok_and(|t| matches!(t, Type::Ptr { .. }));
        if is_ptr {
            let inner = if inner.is_empty() {
                qual.to_string()
            } else {
                format!("{qual} {inner}")
            };
            self.decl(target, inner, depth + 1)
        } else {
            format!("{qual} {}", self.decl(target, inner, depth + 1))
        }
    }
}

/// `base` followed by a declarator, with a space unless the declarator is an array suffix.
fn join(base: &str, inner: String) -> String {
    if inner.is_empty() {
        base.to_string()
    } else if inner.starts_with('[') {
        format!("{base}{inner}")
    } else {
        format!("{base} {inner}")
    }
}

#[cfg(test)]
mod tests {
    use crate::{Btf, BtfBuilder, INT_CHAR, INT_SIGNED, TypeId};

    #[test]
    fn c_spellings() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, INT_SIGNED);
        let chr = b.add_int("char", 1, INT_CHAR);
        let u32_ = b.add_typedef("u32", int);
        let cchar = b.add_const(chr);
        let cstr = b.add_ptr(cchar);
        let arr = b.add_array(chr, int, 16);
        let s = b.add_struct("task_struct", 8, &[]);
        let sp = b.add_ptr(s);
        let vp = b.add_ptr(TypeId::VOID);
        let fp = b.add_func_proto(int, &[("", vp), ("n", int)], false);
        let fpp = b.add_ptr(fp);
        let noargs = b.add_func_proto(TypeId::VOID, &[], false);
        let noargs_p = b.add_ptr(noargs);
        let const_ptr = b.add_const(sp);
        let ccstr = b.add_const(cstr);
        let cpp = b.add_ptr(ccstr);
        let self_ptr = b.add_ptr(b.next_id());
        let arr_ptr = b.add_ptr(arr);
        let anon = b.add_union("", 4, &[]);
        let vararg = b.add_func_proto(int, &[("fmt", cstr)], true);
        let func = b.add_func("printk", vararg, 1);
        let btf = Btf::parse(b.build()).unwrap();
        let name = |id| btf.type_name(id);
        assert_eq!(name(u32_), "u32");
        assert_eq!(name(cstr), "const char *");
        assert_eq!(name(arr), "char[16]");
        assert_eq!(name(sp), "struct task_struct *");
        assert_eq!(name(fpp), "int (*)(void *, int n)");
        assert_eq!(name(noargs_p), "void (*)(void)");
        assert_eq!(name(const_ptr), "struct task_struct *const");
        assert_eq!(name(cpp), "const char *const *");
        assert_eq!(name(arr_ptr), "char (*)[16]");
        assert_eq!(name(anon), "union {...}");
        assert_eq!(name(func), "int printk(const char *fmt, ...)");
        assert_eq!(name(TypeId(500)), "<bad type 500>");
        assert!(name(self_ptr).starts_with("<too deep>"));
        assert_eq!(btf.c_decl(arr, "comm"), "char comm[16]");
        assert_eq!(btf.c_decl(sp, "prev"), "struct task_struct *prev");
        assert_eq!(btf.c_decl(fpp, "cb"), "int (*cb)(void *, int n)");
    }
}
