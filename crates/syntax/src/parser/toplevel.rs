//! Program items: `config`, preprocessor lines, C definitions, map declarations, probes.

use super::attach::split_attach_point;
use super::{PResult, Parser};
use crate::ast::{
    Block, Config, ConfigEntry, ConfigValue, Directive, DirectiveKind, MacroDef, MacroParam,
    MacroParamKind, MapDecl, Probe, Program,
};
use crate::lexer::span;
use crate::token::TokenKind;
use scry_diagnostics::Span;

/// The identifier at the start of `text`, if any.
fn leading_word(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first character (outside double quotes) that cannot appear in an attach point.
/// Allowed: letters, digits and `_ - . / # + * ? : $ @ [ ] !` (paths, wildcards, offsets,
/// positional parameters); anything goes inside `"..."`.
fn invalid_attach_char(raw: &str) -> Option<(usize, char)> {
    let mut in_quotes = false;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            c if c.is_ascii_alphanumeric() => {}
            '_' | '-' | '.' | '/' | '#' | '+' | '*' | '?' | ':' | '$' | '@' | '[' | ']' | '!' => {}
            c => return Some((i, c)),
        }
    }
    None
}

impl Parser<'_> {
    /// Parses the whole input.
    pub(crate) fn program(&mut self) -> Program {
        let mut program = Program::empty(span(0, self.lexer.source().len()));
        loop {
            self.sync_raw();
            self.lexer.skip_trivia();
            let before = self.lexer.pos();
            let rest = self.lexer.rest();
            if rest.is_empty() {
                break;
            }
            let word = leading_word(rest);
            if rest.starts_with('#') {
                program.directives.push(self.directive());
            } else if word == "config" && rest[word.len()..].trim_start().starts_with('=') {
                self.item_config(&mut program);
            } else if matches!(word, "struct" | "union" | "enum" | "typedef")
                && rest[word.len()..].starts_with(|c: char| c.is_whitespace())
            {
                let def = self.c_definition();
                if let (crate::ast::CDefKind::Typedef, Some(name)) = (def.kind, &def.name) {
                    self.typedefs.insert(name.clone());
                }
                program.c_definitions.push(def);
            } else if word == "macro" && rest[word.len()..].starts_with(char::is_whitespace) {
                match self.macro_def() {
                    Ok(m) => program.macros.push(m),
                    Err(_) => self.recover_probe(),
                }
            } else if word == "let" {
                if let Ok(decl) = self.map_decl() {
                    program.map_decls.push(decl);
                } else {
                    self.recover_stmt();
                }
            } else {
                match self.probe() {
                    Ok(p) => program.probes.push(p),
                    Err(_) => self.recover_probe(),
                }
            }
            self.sync_raw();
            if self.lexer.pos() == before {
                // Guarantee progress on garbage input.
                let next = before + self.lexer.rest().chars().next().map_or(1, char::len_utf8);
                self.lexer.set_pos(next);
            }
        }
        program.expr_count = self.next_id;
        program
    }

    fn item_config(&mut self, program: &mut Program) {
        match self.config() {
            Ok(cfg) => {
                if !program.probes.is_empty() || !program.map_decls.is_empty() {
                    self.error(cfg.span, "the config block must come before any probe");
                }
                if program.config.is_some() {
                    self.error(cfg.span, "duplicate config block");
                }
                program.config = Some(cfg);
            }
            Err(_) => self.recover_probe(),
        }
    }

    /// A `#...` line, joined with `\`-continued lines.
    fn directive(&mut self) -> Directive {
        let src = self.lexer.source();
        let start = self.lexer.pos();
        let mut end = start;
        loop {
            let line_end = src[end..].find('\n').map_or(src.len(), |i| end + i);
            end = line_end;
            if src[start..line_end].trim_end().ends_with('\\') && line_end < src.len() {
                end = line_end + 1;
                continue;
            }
            break;
        }
        self.lexer.set_pos(end);
        let text = src[start..end].trim_end().to_string();
        let body = text[1..].trim_start();
        let kind = if let Some(rest) = body.strip_prefix("include") {
            let rest = rest.trim();
            let (path, system) = if let Some(p) = rest.strip_prefix('<') {
                (p.trim_end_matches('>').to_string(), true)
            } else {
                (rest.trim_matches('"').to_string(), false)
            };
            DirectiveKind::Include { path, system }
        } else if let Some(rest) = body.strip_prefix("define") {
            let rest = rest.trim_start();
            let name = leading_word(rest).to_string();
            let value = rest[name.len()..].trim().to_string();
            DirectiveKind::Define { name, value }
        } else {
            DirectiveKind::Other
        };
        Directive {
            kind,
            text,
            span: span(start, end),
        }
    }

    fn config(&mut self) -> PResult<Config> {
        let start = self.bump().span; // `config`
        self.expect(&TokenKind::Assign, "=")?;
        self.expect(&TokenKind::LBrace, "{")?;
        let mut entries = Vec::new();
        loop {
            if self.eat(&TokenKind::RBrace) {
                break;
            }
            if self.eat(&TokenKind::Semi) {
                continue;
            }
            let tok = self.peek().clone();
            let TokenKind::Ident(key) = tok.kind else {
                return Err(self.unexpected(Some("config key")));
            };
            self.bump();
            self.expect(&TokenKind::Assign, "=")?;
            let vtok = self.bump();
            let value = match vtok.kind {
                TokenKind::Int { value, .. } => ConfigValue::Int(value),
                TokenKind::Str(s) => ConfigValue::Str(s),
                TokenKind::Ident(w) if w == "true" => ConfigValue::Bool(true),
                TokenKind::Ident(w) if w == "false" => ConfigValue::Bool(false),
                TokenKind::Ident(w) => ConfigValue::Ident(w),
                other => {
                    let msg = format!("syntax error, unexpected {other}, expecting config value");
                    return Err(self.error(vtok.span, msg));
                }
            };
            entries.push(ConfigEntry {
                key,
                key_span: tok.span,
                value,
                value_span: vtok.span,
            });
            if !self.eat(&TokenKind::Semi) && !self.at(&TokenKind::RBrace) {
                return Err(self.unexpected(Some("; or }")));
            }
        }
        let span = start.to(Span::point(self.last_end));
        self.eat(&TokenKind::Semi);
        Ok(Config { entries, span })
    }

    fn macro_def(&mut self) -> PResult<MacroDef> {
        let start = self.bump().span; // `macro`
        let tok = self.peek().clone();
        let TokenKind::Ident(name) = tok.kind else {
            return Err(self.unexpected(Some("identifier")));
        };
        self.bump();
        self.expect(&TokenKind::LParen, "(")?;
        let mut params = Vec::new();
        if !self.eat(&TokenKind::RParen) {
            loop {
                let p = self.bump();
                let (kind, pname) = match p.kind {
                    TokenKind::Ident(n) => (MacroParamKind::Ident, n),
                    TokenKind::Var(n) => (MacroParamKind::Var, n),
                    TokenKind::Map(n) => (MacroParamKind::Map, n),
                    other => {
                        let msg =
                            format!("syntax error, unexpected {other}, expecting macro parameter");
                        return Err(self.error(p.span, msg));
                    }
                };
                params.push(MacroParam {
                    kind,
                    name: pname,
                    span: p.span,
                });
                if self.eat(&TokenKind::Comma) {
                    continue;
                }
                self.expect(&TokenKind::RParen, ") or \",\"")?;
                break;
            }
        }
        let body = self.block()?;
        Ok(MacroDef {
            name,
            name_span: tok.span,
            params,
            has_value: self.block_has_value,
            span: start.to(body.span),
            body,
        })
    }

    fn map_decl(&mut self) -> PResult<MapDecl> {
        let start = self.bump().span; // `let`
        let tok = self.peek().clone();
        let TokenKind::Map(name) = tok.kind else {
            return Err(self.unexpected(Some("map")));
        };
        self.bump();
        self.expect(&TokenKind::Assign, "=")?;
        let value = self.expr()?;
        let span = start.to(Span::point(self.last_end));
        if !self.eat(&TokenKind::Semi) {
            return Err(self.unexpected(Some(";")));
        }
        Ok(MapDecl {
            name,
            name_span: tok.span,
            value,
            span,
        })
    }

    fn probe(&mut self) -> PResult<Probe> {
        let mut attach_points = Vec::new();
        loop {
            let (raw, sp) = self.lexer.lex_attach_point();
            if raw.is_empty() {
                return Err(self.unexpected(Some("attach point")));
            }
            if let Some((offset, c)) = invalid_attach_char(&raw) {
                let at = sp.start as usize + offset;
                self.error(
                    span(at, at + c.len_utf8()),
                    format!("invalid character '{c}' in attach point"),
                );
            }
            attach_points.push(split_attach_point(&raw, sp));
            self.last_end = sp.end;
            self.lexer.skip_trivia();
            if self.lexer.rest().starts_with(',') {
                self.lexer.set_pos(self.lexer.pos() + 1);
                continue;
            }
            break;
        }
        let start = attach_points[0].span;
        let predicate = if self.eat(&TokenKind::Slash) {
            let e = self.expr()?;
            if !self.eat(&TokenKind::EndPred) {
                return Err(self.unexpected(Some("end predicate")));
            }
            Some(e)
        } else {
            None
        };
        if !self.at(&TokenKind::LBrace) {
            return Err(self.unexpected(Some("{")));
        }
        let body: Block = self.block()?;
        Ok(Probe {
            attach_points,
            predicate,
            span: start.to(body.span),
            body,
        })
    }

    /// After a broken probe header: skip to the next `{`, then past its block.
    fn recover_probe(&mut self) {
        loop {
            match self.peek_kind() {
                TokenKind::Eof => return,
                TokenKind::LBrace => {
                    let _ = self.block();
                    return;
                }
                TokenKind::RBrace => {
                    self.bump();
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }
}
