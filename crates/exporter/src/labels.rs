//! Label names for map keys, from the script's source.
//!
//! The first place a map is used with keys names its labels, key by key:
//! an identifier key gives its own name (`comm`, `pid`, `cpu`), a field access gives the
//! field (`args->filename` → `filename`, `$t.len` → `len`), a scratch variable gives the
//! variable's name (`$fd` → `fd`); any other expression gives `key0`, `key1`, ... after its
//! position. Names are made valid Prometheus label names (`[a-zA-Z_][a-zA-Z0-9_]*`, no
//! leading `__`), `le` and `quantile` are avoided (they mean something for histograms and
//! summaries), and a name used twice in one key gets the position appended (`pid`, `pid1`).

use std::collections::HashMap;

use scry_syntax::ast::{Expr, ExprKind, Program};

/// Label names by map name as [`scry_output::MapDump::name`] spells it (`@name`, `@`).
pub type LabelNames = HashMap<String, Vec<String>>;

/// The label names of every keyed map of `program`.
pub fn label_names(program: &Program) -> LabelNames {
    let mut names = LabelNames::new();
    scry_syntax::visit::walk_program(program, &mut |expr: &Expr| {
        if let ExprKind::Map { name, keys } = &expr.kind
            && !keys.is_empty()
        {
            names
                .entry(format!("@{name}"))
                .or_insert_with(|| key_labels(keys));
        }
    });
    names
}

fn key_labels(keys: &[Expr]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let raw = match &key.kind {
            ExprKind::Ident(name) | ExprKind::Var(name) => Some(name.as_str()),
            ExprKind::Field { field, .. } => Some(field.as_str()),
            _ => None,
        };
        let mut name = raw.map(sanitize).unwrap_or_else(|| format!("key{i}"));
        if name == "le" || name == "quantile" || name.is_empty() {
            name = format!("key{i}");
        }
        if out.contains(&name) {
            name = format!("{name}{i}");
        }
        out.push(name);
    }
    out
}

/// `name` as a valid metric or label name: characters outside `[a-zA-Z0-9_]` become `_`,
/// a leading digit gets a `_` prefix, and leading `__` (reserved) is cut to one `_`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    while out.starts_with("__") {
        out.remove(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> LabelNames {
        label_names(&scry_syntax::parse(src).program)
    }

    #[test]
    fn identifiers_fields_and_positions() {
        let n = names(
            "tracepoint:a:b { @syscalls[comm] = count(); @h[args->fd, pid, 1 + 2] = hist(1); \
             @v[$fd, comm, comm] = sum(1); @s = count(); }",
        );
        assert_eq!(n["@syscalls"], vec!["comm"]);
        assert_eq!(n["@h"], vec!["fd", "pid", "key2"]);
        assert_eq!(n["@v"], vec!["fd", "comm", "comm2"]);
        assert!(!n.contains_key("@s"));
    }

    #[test]
    fn first_use_wins_and_reserved_names_are_avoided() {
        let n = names("BEGIN { @[le, quantile] = count(); } END { @[pid, tid] = count(); }");
        assert_eq!(n["@"], vec!["key0", "key1"]);
    }

    #[test]
    fn sanitizing() {
        assert_eq!(sanitize("a-b.c"), "a_b_c");
        assert_eq!(sanitize("1x"), "_1x");
        assert_eq!(sanitize("__x"), "_x");
    }
}
