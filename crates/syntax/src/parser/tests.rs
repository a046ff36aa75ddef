//! Unit tests for the parser: structure, spans, ids, disambiguation and recovery.

use crate::ast::*;
use crate::parse;
use crate::visit::walk_program;

fn ok(src: &str) -> Program {
    let p = parse(src);
    assert!(p.diagnostics.is_empty(), "{src}: {:?}", p.diagnostics);
    p.program
}

fn body_expr(src: &str) -> Expr {
    let prog = ok(&format!("BEGIN {{ {src}; }}"));
    match &prog.probes[0].body.stmts[0].kind {
        StmtKind::Expr(e) => e.clone(),
        StmtKind::Assign { value, .. } => value.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

fn errors(src: &str) -> Vec<String> {
    parse(src)
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect()
}

#[test]
fn expr_ids_are_dense_and_unique() {
    let prog = ok(include_str!("../../test_data/ok/control_flow.bt"));
    let mut seen = vec![false; prog.expr_count as usize];
    walk_program(&prog, &mut |e| {
        assert!(!seen[e.id.index()], "duplicate id {:?}", e.id);
        seen[e.id.index()] = true;
    });
    assert!(seen.iter().all(|&s| s), "ids not dense");
    assert!(prog.expr_count > 20);
}

#[test]
fn call_spans() {
    let prog = ok("BEGIN { foo(); }");
    let StmtKind::Expr(e) = &prog.probes[0].body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(e.span, Span::new(8, 13));
    let ExprKind::Call {
        name,
        name_span,
        args,
    } = &e.kind
    else {
        panic!()
    };
    assert_eq!(
        (name.as_str(), *name_span, args.len()),
        ("foo", Span::new(8, 11), 0)
    );
    assert_eq!(prog.probes[0].body.span, Span::new(6, 16));
    assert_eq!(prog.probes[0].span, Span::new(0, 16));
    assert_eq!(prog.probes[0].attach_points[0].span, Span::new(0, 5));
}

#[test]
fn precedence() {
    let e = body_expr("1 + 2 * 3 == 7 && 1 || 0");
    let ExprKind::Binary {
        op: BinaryOp::LogOr,
        lhs,
        ..
    } = e.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinaryOp::LogAnd,
        lhs,
        ..
    } = lhs.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinaryOp::Eq,
        lhs,
        ..
    } = lhs.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinaryOp::Add,
        rhs,
        ..
    } = lhs.kind
    else {
        panic!()
    };
    assert!(matches!(
        rhs.kind,
        ExprKind::Binary {
            op: BinaryOp::Mul,
            ..
        }
    ));
    // Left associativity.
    let e = body_expr("10 - 4 - 3");
    let ExprKind::Binary { lhs, .. } = e.kind else {
        panic!()
    };
    assert!(matches!(
        lhs.kind,
        ExprKind::Binary {
            op: BinaryOp::Sub,
            ..
        }
    ));
}

#[test]
fn cast_versus_parenthesis() {
    assert!(matches!(body_expr("(uint8)-1").kind, ExprKind::Cast { .. }));
    assert!(matches!(
        body_expr("(x) - 1").kind,
        ExprKind::Binary {
            op: BinaryOp::Sub,
            ..
        }
    ));
    assert!(matches!(
        body_expr("(pid) * 2").kind,
        ExprKind::Binary {
            op: BinaryOp::Mul,
            ..
        }
    ));
    assert!(matches!(
        body_expr("(foo_t *)arg0").kind,
        ExprKind::Cast { .. }
    ));
    assert!(matches!(body_expr("(a, b)").kind, ExprKind::Tuple(ref v) if v.len() == 2));
    // A cast binds tighter than binary operators but looser than postfix.
    let e = body_expr("(struct s *)arg0->f + 1");
    let ExprKind::Binary { lhs, .. } = e.kind else {
        panic!()
    };
    let ExprKind::Cast { ty, expr } = lhs.kind else {
        panic!()
    };
    assert_eq!(ty.display(), "struct s *");
    assert!(matches!(expr.kind, ExprKind::Field { arrow: true, .. }));
}

#[test]
fn predicate_slash_disambiguation() {
    let prog = ok("uprobe:/bin/bash:readline /pid/ { }\nkprobe:f /arg0 / 2 > 1/ {}");
    assert_eq!(
        prog.probes[0].attach_points[0].parts,
        vec!["/bin/bash", "readline"]
    );
    assert!(matches!(
        prog.probes[0].predicate.as_ref().unwrap().kind,
        ExprKind::Ident(ref i) if i == "pid"
    ));
    let pred = prog.probes[1].predicate.as_ref().unwrap();
    assert!(matches!(
        pred.kind,
        ExprKind::Binary {
            op: BinaryOp::Gt,
            ..
        }
    ));
}

#[test]
fn literal_values() {
    assert_eq!(body_expr("010").as_int(), Some(8));
    assert_eq!(body_expr("1_000").as_int(), Some(1000));
    assert_eq!(body_expr("1e3").as_int(), Some(1000));
    assert_eq!(body_expr("5ms").as_int(), Some(5_000_000));
    assert_eq!(body_expr(r#""a\x41\101""#).as_str(), Some("aAA"));
    assert_eq!(body_expr("'z'").kind, ExprKind::Char(b'z'));
    assert_eq!(body_expr("true").kind, ExprKind::Bool(true));
    assert_eq!(body_expr("$3").kind, ExprKind::Positional(3));
    assert_eq!(body_expr("$#").kind, ExprKind::PositionalCount);
    assert!(matches!(
        body_expr("@").kind,
        ExprKind::Map { ref name, ref keys } if name.is_empty() && keys.is_empty()
    ));
}

#[test]
fn statements() {
    let prog = ok("BEGIN { $x += 2; @m[1, 2]--; let $y: uint16 = 3; for ($k : @m) { } }");
    let stmts = &prog.probes[0].body.stmts;
    assert!(matches!(
        stmts[0].kind,
        StmtKind::Assign {
            op: Some(BinaryOp::Add),
            ..
        }
    ));
    assert!(matches!(
        &stmts[1].kind,
        StmtKind::Expr(Expr {
            kind: ExprKind::IncDec {
                prefix: false,
                op: IncDecOp::Dec,
                ..
            },
            ..
        })
    ));
    let StmtKind::Let {
        name,
        ty: Some(ty),
        value: Some(_),
        ..
    } = &stmts[2].kind
    else {
        panic!()
    };
    assert_eq!((name.as_str(), ty.display()), ("y", "uint16".to_string()));
    assert!(matches!(
        &stmts[3].kind,
        StmtKind::For {
            iter: ForIter::Map(_),
            ..
        }
    ));
}

#[test]
fn semicolons_optional_after_blocks() {
    let prog = ok("BEGIN { if (1) { } $x = 1; while (0) { } unroll(2) { } @a = 1 }");
    assert_eq!(prog.probes[0].body.stmts.len(), 5);
}

#[test]
fn recovery_keeps_later_probes() {
    let p = parse("BEGIN { @x = ; } END { @y = 1; } kprobe:f { ) } i:s:1 { exit() }");
    assert_eq!(p.diagnostics.error_count(), 2);
    assert_eq!(p.program.probes.len(), 4);
    assert_eq!(p.program.probes[3].attach_points[0].provider, "interval");
    assert_eq!(p.program.probes[1].body.stmts.len(), 1);
}

#[test]
fn error_messages() {
    assert_eq!(
        errors("BEGIN { @x = 1 +; }"),
        vec!["syntax error, unexpected ;"]
    );
    assert_eq!(
        errors("BEGIN { f(1 }"),
        vec!["syntax error, unexpected }, expecting ) or \",\""]
    );
    assert_eq!(
        errors("BEGIN { @x = 1"),
        vec!["syntax error, unexpected end of file, expecting }"]
    );
    assert_eq!(
        errors("kprobe:f"),
        vec!["syntax error, unexpected end of file, expecting {"]
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "BEGIN {{ $x = {}1{}; }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(
        errors(&deep)
            .iter()
            .any(|m| m.contains("nested too deeply"))
    );
    let deep = format!("BEGIN {{ {} }}", "{".repeat(5000));
    assert!(!errors(&deep).is_empty());
    let deep = format!("BEGIN {{ $x = {}1; }}", "-".repeat(5000));
    assert!(
        errors(&deep)
            .iter()
            .any(|m| m.contains("nested too deeply"))
    );
}

#[test]
fn config_and_directives() {
    let prog = ok("#include <linux/sched.h>\n#define N 5\nconfig = { max_strlen = 64 }\nBEGIN {}");
    let cfg = prog.config.unwrap();
    assert_eq!(cfg.entries[0].key, "max_strlen");
    assert_eq!(cfg.entries[0].value, ConfigValue::Int(64));
    assert_eq!(
        prog.directives[0].kind,
        DirectiveKind::Include {
            path: "linux/sched.h".into(),
            system: true
        }
    );
    assert_eq!(
        prog.directives[1].kind,
        DirectiveKind::Define {
            name: "N".into(),
            value: "5".into()
        }
    );
}

#[test]
fn typedef_names_become_cast_types() {
    let prog = ok("typedef unsigned int myint;\nBEGIN { $x = (myint)arg0; }");
    assert_eq!(prog.c_definitions[0].name.as_deref(), Some("myint"));
    assert_eq!(
        prog.c_definitions[0].typedef_target.as_deref(),
        Some("unsigned int")
    );
    let StmtKind::Assign { value, .. } = &prog.probes[0].body.stmts[0].kind else {
        panic!()
    };
    assert!(matches!(value.kind, ExprKind::Cast { .. }));
}

#[test]
fn macros() {
    let prog = ok(
        "macro inc($x, @m, y) { @m[y] = $x + 1; $x }\nmacro noval() { foo(); }\nBEGIN { inc($a, @b, 1) }",
    );
    assert_eq!(prog.macros.len(), 2);
    let m = &prog.macros[0];
    assert_eq!(m.name, "inc");
    let kinds: Vec<_> = m.params.iter().map(|p| (p.kind, p.name.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (MacroParamKind::Var, "x"),
            (MacroParamKind::Map, "m"),
            (MacroParamKind::Ident, "y")
        ]
    );
    assert!(m.has_value);
    assert!(!prog.macros[1].has_value);
    assert_eq!(prog.probes.len(), 1);
}

#[test]
fn typedef_style_casts_need_an_operand_after_the_paren() {
    assert!(matches!(
        body_expr("(mytype)arg0").kind,
        ExprKind::Cast { .. }
    ));
    assert!(matches!(
        body_expr("(mytype)(arg0)").kind,
        ExprKind::Cast { .. }
    ));
    assert!(matches!(body_expr("(x) + y").kind, ExprKind::Binary { .. }));
    assert!(matches!(body_expr("(x)").kind, ExprKind::Ident(_)));
}

#[test]
fn tuples_allow_trailing_comma_calls_do_not() {
    assert!(matches!(body_expr("(1, 2,)").kind, ExprKind::Tuple(ref v) if v.len() == 2));
    assert!(matches!(body_expr("(1,)").kind, ExprKind::Tuple(ref v) if v.len() == 1));
    assert!(matches!(body_expr("()").kind, ExprKind::Tuple(ref v) if v.is_empty()));
    assert_eq!(
        errors("BEGIN { print(1,); }"),
        vec!["syntax error, unexpected )"]
    );
}

#[test]
fn config_must_come_first() {
    assert_eq!(
        errors("BEGIN {} config = { a = 1 }"),
        vec!["the config block must come before any probe"]
    );
}

#[test]
fn path_wildcards_in_attach_points() {
    let prog = ok("usdt:/my/*program:ns:probe { }\nuprobe:/lib/*/libc.so:malloc// comment\n{ }");
    assert_eq!(
        prog.probes[0].attach_points[0].parts,
        vec!["/my/*program", "ns", "probe"]
    );
    assert_eq!(
        prog.probes[1].attach_points[0].raw,
        "uprobe:/lib/*/libc.so:malloc"
    );
}
