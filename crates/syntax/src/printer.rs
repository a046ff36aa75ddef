//! Indented tree dump of the AST (`--emit ast`), also used by snapshot tests.

use crate::ast::{
    Block, CDefKind, ConfigValue, Expr, ExprKind, ForIter, IncDecOp, IntSuffix, MacroParamKind,
    Program, SizeofArg, Stmt, StmtKind,
};
use std::fmt::Write;

/// Renders `program` as an indented tree, one node per line (two spaces per level).
pub fn print_ast(program: &Program) -> String {
    let mut p = Printer { out: String::new() };
    p.program(program);
    p.out
}

struct Printer {
    out: String,
}

fn escape(s: &str) -> String {
    s.escape_debug().to_string()
}

impl Printer {
    fn line(&mut self, depth: usize, text: impl AsRef<str>) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text.as_ref());
        self.out.push('\n');
    }

    fn program(&mut self, program: &Program) {
        self.line(0, "Program");
        if let Some(cfg) = &program.config {
            self.line(1, "config");
            for e in &cfg.entries {
                let v = match &e.value {
                    ConfigValue::Int(i) => i.to_string(),
                    ConfigValue::Str(s) => format!("\"{}\"", escape(s)),
                    ConfigValue::Bool(b) => b.to_string(),
                    ConfigValue::Ident(i) => i.clone(),
                };
                self.line(2, format!("{} = {v}", e.key));
            }
        }
        for d in &program.directives {
            self.line(1, format!("directive {}", d.text));
        }
        for def in &program.c_definitions {
            let kw = match def.kind {
                CDefKind::Struct => "struct",
                CDefKind::Union => "union",
                CDefKind::Enum => "enum",
                CDefKind::Typedef => "typedef",
            };
            let name = def.name.as_deref().unwrap_or("<anonymous>");
            match &def.typedef_target {
                Some(t) => self.line(1, format!("{kw} {name} = {t}")),
                None => self.line(1, format!("{kw} {name}")),
            }
            for m in &def.members {
                let mut text = format!(
                    "{} {}{}",
                    m.type_name,
                    "*".repeat(m.pointer_depth as usize),
                    m.name
                );
                for len in &m.array_lens {
                    let _ = write!(text, "[{len}]");
                }
                if let Some(w) = m.bit_width {
                    let _ = write!(text, " : {w}");
                }
                self.line(2, text);
            }
            for (n, v) in &def.enumerators {
                match v {
                    Some(v) => self.line(2, format!("{n} = {v}")),
                    None => self.line(2, n),
                }
            }
        }
        for decl in &program.map_decls {
            self.line(1, format!("let @{}", decl.name));
            self.expr(2, &decl.value);
        }
        for m in &program.macros {
            let params: Vec<String> = m
                .params
                .iter()
                .map(|p| {
                    let sigil = match p.kind {
                        MacroParamKind::Ident => "",
                        MacroParamKind::Var => "$",
                        MacroParamKind::Map => "@",
                    };
                    format!("{sigil}{}", p.name)
                })
                .collect();
            let value = if m.has_value { " -> value" } else { "" };
            self.line(1, format!("macro {}({}){value}", m.name, params.join(", ")));
            self.block(2, &m.body);
        }
        for probe in &program.probes {
            self.line(1, "probe");
            for ap in &probe.attach_points {
                self.line(
                    2,
                    format!("{}  [{}: {}]", ap.raw, ap.provider, ap.parts.join(" | ")),
                );
            }
            if let Some(pred) = &probe.predicate {
                self.line(2, "predicate");
                self.expr(3, pred);
            }
            self.block(2, &probe.body);
        }
    }

    fn block(&mut self, depth: usize, block: &Block) {
        self.line(depth, "block");
        for s in &block.stmts {
            self.stmt(depth + 1, s);
        }
    }

    fn stmt(&mut self, d: usize, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr(d, e),
            StmtKind::Assign { target, op, value } => {
                self.line(d, format!("{}=", op.map_or("", |o| o.as_str())));
                self.expr(d + 1, target);
                self.expr(d + 1, value);
            }
            StmtKind::Let {
                name, ty, value, ..
            } => {
                match ty {
                    Some(t) => self.line(d, format!("let ${name}: {}", t.display())),
                    None => self.line(d, format!("let ${name}")),
                }
                if let Some(v) = value {
                    self.expr(d + 1, v);
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                self.line(d, "if");
                self.expr(d + 1, cond);
                self.block(d + 1, then_block);
                if let Some(e) = else_block {
                    self.line(d, "else");
                    self.block(d + 1, e);
                }
            }
            StmtKind::Unroll { count, body } => {
                self.line(d, "unroll");
                self.expr(d + 1, count);
                self.block(d + 1, body);
            }
            StmtKind::While { cond, body } => {
                self.line(d, "while");
                self.expr(d + 1, cond);
                self.block(d + 1, body);
            }
            StmtKind::For {
                var, iter, body, ..
            } => {
                self.line(d, format!("for ${var}"));
                match iter {
                    ForIter::Map(m) => self.expr(d + 1, m),
                    ForIter::Range { start, end } => {
                        self.line(d + 1, "range");
                        self.expr(d + 2, start);
                        self.expr(d + 2, end);
                    }
                }
                self.block(d + 1, body);
            }
            StmtKind::Break => self.line(d, "break"),
            StmtKind::Continue => self.line(d, "continue"),
            StmtKind::Return(v) => {
                self.line(d, "return");
                if let Some(v) = v {
                    self.expr(d + 1, v);
                }
            }
            StmtKind::Block(b) => self.block(d, b),
        }
    }

    fn expr(&mut self, d: usize, expr: &Expr) {
        match &expr.kind {
            ExprKind::Int { value, suffix } => {
                let s = match suffix {
                    IntSuffix::None => String::new(),
                    IntSuffix::U => " (u)".into(),
                    IntSuffix::L => " (l)".into(),
                    IntSuffix::Ul => " (ul)".into(),
                    IntSuffix::Ll => " (ll)".into(),
                    IntSuffix::Ull => " (ull)".into(),
                    IntSuffix::Duration(u) => format!(" ({})", u.as_str()),
                };
                self.line(d, format!("int {value}{s}"));
            }
            ExprKind::Char(c) => self.line(d, format!("char {}", c.escape_ascii())),
            ExprKind::Str(s) => self.line(d, format!("string \"{}\"", escape(s))),
            ExprKind::Bool(b) => self.line(d, format!("bool {b}")),
            ExprKind::Var(v) => self.line(d, format!("variable ${v}")),
            ExprKind::Map { name, keys } => {
                self.line(d, format!("map @{name}"));
                for k in keys {
                    self.expr(d + 1, k);
                }
            }
            ExprKind::Ident(i) => self.line(d, format!("identifier {i}")),
            ExprKind::Positional(n) => self.line(d, format!("positional ${n}")),
            ExprKind::PositionalCount => self.line(d, "positional count $#"),
            ExprKind::Call { name, args, .. } => {
                self.line(d, format!("call {name}"));
                for a in args {
                    self.expr(d + 1, a);
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.line(d, op.as_str());
                self.expr(d + 1, lhs);
                self.expr(d + 1, rhs);
            }
            ExprKind::Unary { op, expr } => {
                self.line(d, format!("unary {}", op.as_str()));
                self.expr(d + 1, expr);
            }
            ExprKind::IncDec { op, prefix, target } => {
                let op = if *op == IncDecOp::Inc { "++" } else { "--" };
                let fix = if *prefix { "pre" } else { "post" };
                self.line(d, format!("{op} ({fix})"));
                self.expr(d + 1, target);
            }
            ExprKind::Cast { ty, expr } => {
                self.line(d, format!("cast ({})", ty.display()));
                self.expr(d + 1, expr);
            }
            ExprKind::Field {
                expr, field, arrow, ..
            } => {
                self.line(d, format!("{}{field}", if *arrow { "->" } else { "." }));
                self.expr(d + 1, expr);
            }
            ExprKind::Index { expr, index } => {
                self.line(d, "[]");
                self.expr(d + 1, expr);
                self.expr(d + 1, index);
            }
            ExprKind::TupleIndex { expr, index } => {
                self.line(d, format!(".{index}"));
                self.expr(d + 1, expr);
            }
            ExprKind::Tuple(items) => {
                self.line(d, "tuple");
                for i in items {
                    self.expr(d + 1, i);
                }
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                self.line(d, "?:");
                self.expr(d + 1, cond);
                match then {
                    Some(t) => self.expr(d + 1, t),
                    None => self.line(d + 1, "<condition>"),
                }
                self.expr(d + 1, otherwise);
            }
            ExprKind::Sizeof(arg) => match arg {
                SizeofArg::Type(t) => self.line(d, format!("sizeof ({})", t.display())),
                SizeofArg::Expr(e) => {
                    self.line(d, "sizeof");
                    self.expr(d + 1, e);
                }
            },
            ExprKind::Offsetof { ty, fields } => {
                self.line(
                    d,
                    format!("offsetof ({}, {})", ty.display(), fields.join(".")),
                );
            }
        }
    }
}
