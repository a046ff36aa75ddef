//! scry-syntax: lexer, parser and AST for the bpftrace language.
//!
//! Entry point: [`parse`] turns program text into a [`Parse`] holding the
//! [`ast::Program`] and any [`Diagnostics`]. Parsing never panics; on errors it
//! recovers and returns a partial program.
//!
//! ```
//! use scry_syntax::ast::{ExprKind, StmtKind};
//!
//! let parse = scry_syntax::parse("kprobe:vfs_read /pid == 1/ { @reads[comm] = count(); }");
//! assert!(!parse.has_errors());
//! let probe = &parse.program.probes[0];
//! assert_eq!(probe.attach_points[0].provider, "kprobe");
//! assert_eq!(probe.attach_points[0].parts, ["vfs_read"]);
//! let StmtKind::Assign { target, .. } = &probe.body.stmts[0].kind else { unreachable!() };
//! assert!(matches!(&target.kind, ExprKind::Map { name, keys } if name == "reads" && keys.len() == 1));
//! ```
//!
//! Errors render like bpftrace's through [`scry_diagnostics::render`]:
//!
//! ```
//! use scry_diagnostics::{SourceFile, render_all};
//!
//! let src = "BEGIN { @x = 1 +; }";
//! let parse = scry_syntax::parse(src);
//! let text = render_all(&parse.diagnostics, &SourceFile::new("stdin", src));
//! assert_eq!(
//!     text,
//!     "stdin:1:17-18: ERROR: syntax error, unexpected ;\nBEGIN { @x = 1 +; }\n                ~\n"
//! );
//! ```

pub mod ast;
mod lexer;
mod token;

pub use scry_diagnostics::{Diagnostic, Diagnostics, Span};
mod parser;
mod printer;
pub mod visit;

pub use parser::{canonical_provider, split_attach_point};
pub use printer::print_ast;

/// The result of [`parse`]: a (possibly partial) program and its diagnostics.
#[derive(Clone, Debug)]
pub struct Parse {
    /// The program; after errors it contains everything that could be recovered.
    pub program: ast::Program,
    /// Syntax errors (and warnings), ordered by position.
    pub diagnostics: Diagnostics,
}

impl Parse {
    /// True if parsing reported at least one error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// The span of the assignment operator (`=`, `+=`, ...) of a
/// [`ast::StmtKind::Assign`] statement, found by re-lexing `source` after `target`.
/// bpftrace reports variable type mismatches at this operator.
pub fn assign_op_span(source: &str, target: &ast::Expr, value: &ast::Expr) -> Option<Span> {
    let mut lexer = lexer::Lexer::new(source);
    lexer.set_pos(target.span.end as usize);
    let tok = lexer.next_token();
    let is_assign = matches!(
        tok.kind,
        token::TokenKind::Assign
            | token::TokenKind::PlusEq
            | token::TokenKind::MinusEq
            | token::TokenKind::StarEq
            | token::TokenKind::SlashEq
            | token::TokenKind::PercentEq
            | token::TokenKind::AmpEq
            | token::TokenKind::PipeEq
            | token::TokenKind::CaretEq
            | token::TokenKind::ShlEq
            | token::TokenKind::ShrEq
    );
    (is_assign && tok.span.end <= value.span.start).then_some(tok.span)
}

/// Stack size for the parsing thread: deep (but bounded) nesting must not overflow.
const PARSE_STACK_SIZE: usize = 64 << 20;

/// Inputs whose estimated nesting is below this parse on the caller's thread.
const INLINE_NESTING_LIMIT: usize = 48;

/// Over-approximates how deeply the parser may recurse on `source`: bracket depth
/// plus the longest run of prefix operators plus every `?` and `else` (ternary and
/// else-if chains nest).
fn nesting_estimate(source: &str) -> usize {
    let (mut depth, mut max_depth, mut run, mut max_run, mut chains) = (0usize, 0, 0, 0, 0);
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'?' => chains += 1,
            _ => {}
        }
        match b {
            b'-' | b'+' | b'!' | b'~' | b'*' | b'&' | b'(' => {
                run += 1;
                max_run = max_run.max(run);
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => run = 0,
        }
    }
    chains += source.matches("else").count();
    max_depth + max_run + chains
}

/// Parses a bpftrace program. Never panics.
///
/// Ordinary programs are parsed on the current thread. Inputs with deep nesting are
/// parsed on a helper thread with a large stack, so pathological nesting is reported
/// as an error (the parser caps its depth) instead of overflowing the caller's stack;
/// if that thread cannot be spawned, parsing happens on the current thread.
pub fn parse(source: &str) -> Parse {
    if nesting_estimate(source) < INLINE_NESTING_LIMIT {
        return parse_here(source);
    }
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("scry-parse".into())
            .stack_size(PARSE_STACK_SIZE)
            .spawn_scoped(scope, || parse_here(source));
        match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|_| internal_error(source)),
            Err(_) => parse_here(source),
        }
    })
}

/// The result reported if the parser thread panicked (a bug in this crate).
fn internal_error(source: &str) -> Parse {
    let mut diagnostics = Diagnostics::new();
    diagnostics.push(Diagnostic::error_global(
        "internal error: the parser crashed on this input",
    ));
    Parse {
        program: ast::Program::empty(Span::from(0..source.len())),
        diagnostics,
    }
}

/// Runs the parser on the current thread.
fn parse_here(source: &str) -> Parse {
    let mut parser = parser::Parser::new(source);
    let program = parser.program();
    Parse {
        program,
        diagnostics: parser.finish_diagnostics(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_operator_span() {
        let src = "BEGIN { $x = 1; @y[2] /* c */ <<= 3; }";
        let parse = parse(src);
        let spans: Vec<_> = parse.program.probes[0]
            .body
            .stmts
            .iter()
            .filter_map(|s| match &s.kind {
                ast::StmtKind::Assign { target, value, .. } => assign_op_span(src, target, value),
                _ => None,
            })
            .collect();
        assert_eq!(spans, vec![Span::new(11, 12), Span::new(30, 33)]);
    }

    #[test]
    fn nesting_estimate_counts_brackets_runs_and_chains() {
        assert_eq!(nesting_estimate("BEGIN { f(1); }"), 2 + 1);
        assert!(nesting_estimate(&"(".repeat(100)) >= 100);
        assert!(nesting_estimate(&"- ".repeat(100)) >= 100);
        assert!(nesting_estimate(&"a ? b : ".repeat(60)) >= 60);
        assert!(nesting_estimate(&"else if (x) {} ".repeat(60)) >= 60);
    }

    #[test]
    fn deep_inputs_take_the_big_stack_path() {
        let deep = format!("BEGIN {{ $x = {}1; }}", "!".repeat(100));
        let parse = parse(&deep);
        assert!(!parse.has_errors());
        let deeper = format!("BEGIN {{ $x = {}1; }}", "!".repeat(1000));
        assert!(parse_has_depth_error(&deeper));
    }

    fn parse_has_depth_error(src: &str) -> bool {
        parse(src)
            .diagnostics
            .iter()
            .any(|d| d.message.contains("nested too deeply"))
    }
}
