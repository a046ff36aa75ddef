//! Looking types up by their C spelling (`struct task_struct *`, `unsigned long`).

use crate::blob::Btf;
use crate::types::{Kind, Type, TypeId};

/// Words ignored when looking a C type up.
const QUALIFIERS: &[&str] = &[
    "const", "volatile", "restrict", "__user", "__rcu", "__percpu",
];

/// A C type as a BTF base type plus pointer levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CType {
    /// The type after removing all `*`.
    pub base: TypeId,
    /// Number of pointer levels.
    pub pointers: u32,
}

impl Btf {
    /// Finds a type by C spelling: `struct task_struct`, `union bpf_attr`, `enum x`,
    /// typedef or base type names (`u32`, `unsigned long`, `char`, `void`). Qualifiers
    /// (`const`, `volatile`, `restrict`) are ignored; pointers are not accepted here, see
    /// [`Btf::parse_c_type`].
    pub fn find_c_type(&self, text: &str) -> Option<TypeId> {
        let words: Vec<&str> = text
            .split_whitespace()
            .filter(|w| !QUALIFIERS.contains(w))
            .collect();
        match words.as_slice() {
            [] => None,
            ["void"] => Some(TypeId::VOID),
            ["struct", name] => self
                .find(name, Kind::Struct)
                .or_else(|| self.find_fwd(name, false)),
            ["union", name] => self
                .find(name, Kind::Union)
                .or_else(|| self.find_fwd(name, true)),
            ["enum", name] => self
                .find(name, Kind::Enum)
                .or_else(|| self.find(name, Kind::Enum64)),
            _ => {
                let joined = words.join(" ");
                let spellings = base_type_spellings(&joined);
                spellings.iter().find_map(|s| {
                    [Kind::Typedef, Kind::Int, Kind::Float]
                        .iter()
                        .find_map(|&k| self.find(s, k))
                })
            }
        }
    }

    /// Parses a C type with pointer levels: `struct task_struct *`, `const char *`,
    /// `const char *const *`, `u64`. Returns the base type and the number of `*`.
    pub fn parse_c_type(&self, text: &str) -> Option<CType> {
        let base_end = text.find('*').unwrap_or(text.len());
        let (base, stars) = text.split_at(base_end);
        let mut pointers = 0;
        for word in stars.replace('*', " * ").split_whitespace() {
            match word {
                "*" => pointers += 1,
                w if QUALIFIERS.contains(&w) => {}
                _ => return None,
            }
        }
        Some(CType {
            base: self.find_c_type(base)?,
            pointers,
        })
    }

    fn find_fwd(&self, name: &str, union: bool) -> Option<TypeId> {
        self.find_all(name)
            .into_iter()
            .find(|&id| matches!(self.get(id), Ok(Type::Fwd { is_union, .. }) if is_union == union))
    }
}

/// Alternative spellings of a C base type (BTF from DWARF uses GCC's names).
fn base_type_spellings(text: &str) -> Vec<&str> {
    let alts: &[&str] = match text {
        "unsigned" | "unsigned int" => &["unsigned int"],
        "signed" | "signed int" => &["int"],
        "long" | "long int" | "signed long" | "signed long int" => &["long int", "long"],
        "unsigned long" | "long unsigned int" | "unsigned long int" => {
            &["long unsigned int", "unsigned long"]
        }
        "long long" | "long long int" | "signed long long" => &["long long int", "long long"],
        "unsigned long long" | "long long unsigned int" | "unsigned long long int" => {
            &["long long unsigned int", "unsigned long long"]
        }
        "short" | "short int" | "signed short" => &["short int", "short"],
        "unsigned short" | "short unsigned int" | "unsigned short int" => {
            &["short unsigned int", "unsigned short"]
        }
        "bool" => &["bool", "_Bool"],
        _ => &[],
    };
    if alts.is_empty() {
        vec![text]
    } else {
        alts.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BtfBuilder, INT_CHAR, INT_SIGNED};

    #[test]
    fn c_type_lookup() {
        let mut b = BtfBuilder::new();
        let chr = b.add_int("char", 1, INT_CHAR | INT_SIGNED);
        let ulong = b.add_int("long unsigned int", 8, 0);
        let u64_ = b.add_typedef("u64", ulong);
        let fwd = b.add_fwd("sock", false);
        let task = b.add_struct("task_struct", 8, &[]);
        let attr = b.add_union("bpf_attr", 8, &[]);
        let e = b.add_enum64("big", 8, false, &[]);
        let btf = Btf::parse(b.build()).unwrap();
        assert_eq!(btf.find_c_type("char"), Some(chr));
        assert_eq!(btf.find_c_type("const char"), Some(chr));
        assert_eq!(btf.find_c_type("unsigned long"), Some(ulong));
        assert_eq!(btf.find_c_type("unsigned  long int"), Some(ulong));
        assert_eq!(btf.find_c_type("u64"), Some(u64_));
        assert_eq!(btf.find_c_type("struct sock"), Some(fwd));
        assert_eq!(btf.find_c_type("union bpf_attr"), Some(attr));
        assert_eq!(btf.find_c_type("enum big"), Some(e));
        assert_eq!(btf.find_c_type("struct nope"), None);
        assert_eq!(btf.find_c_type(""), None);
        let ct = |t| btf.parse_c_type(t);
        assert_eq!(
            ct("struct task_struct *"),
            Some(CType {
                base: task,
                pointers: 1
            })
        );
        assert_eq!(
            ct("const char *const *"),
            Some(CType {
                base: chr,
                pointers: 2
            })
        );
        assert_eq!(
            ct("u64"),
            Some(CType {
                base: u64_,
                pointers: 0
            })
        );
        assert_eq!(
            ct("void*"),
            Some(CType {
                base: TypeId::VOID,
                pointers: 1
            })
        );
        assert_eq!(ct("char * x"), None);
        assert_eq!(ct("*"), None);
    }
}
