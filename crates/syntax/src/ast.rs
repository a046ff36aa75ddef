//! The bpftrace abstract syntax tree.
//!
//! Every node carries a [`Span`] (byte offsets into the parsed text). Every [`Expr`]
//! additionally has an [`ExprId`] that is unique within its [`Program`] and dense
//! (`0..Program::expr_count`), so later passes can keep types and other facts in side
//! tables (`Vec<T>` indexed by `ExprId::index()`).
//!
//! Names are stored WITHOUT their sigils: `$x` is `ExprKind::Var("x")`, `@m` is
//! `ExprKind::Map { name: "m", .. }`, and the anonymous map `@` has the empty name.

pub use scry_diagnostics::Span;

/// Dense per-program expression identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

impl ExprId {
    /// The id as a `usize` index for side tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A whole bpftrace script.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The `config = { ... }` block, if any.
    pub config: Option<Config>,
    /// `#include` / `#define` / other preprocessor lines, in source order.
    pub directives: Vec<Directive>,
    /// C `struct` / `union` / `enum` / `typedef` definitions written in the script.
    pub c_definitions: Vec<CDefinition>,
    /// Top-level map declarations `let @m = hash(N);` (newer bpftrace).
    pub map_decls: Vec<MapDecl>,
    /// Macro definitions `macro name(params) { ... }` (newer bpftrace).
    pub macros: Vec<MacroDef>,
    /// Probes in source order.
    pub probes: Vec<Probe>,
    /// Number of expressions; every `ExprId` is `< expr_count`.
    pub expr_count: u32,
    /// The whole text.
    pub span: Span,
}

impl Program {
    /// A program with no items covering `span`.
    pub fn empty(span: Span) -> Self {
        Self {
            config: None,
            directives: Vec::new(),
            c_definitions: Vec::new(),
            map_decls: Vec::new(),
            macros: Vec::new(),
            probes: Vec::new(),
            expr_count: 0,
            span,
        }
    }
}

/// `config = { key = value; ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Entries in source order.
    pub entries: Vec<ConfigEntry>,
    /// From `config` to the closing `}`.
    pub span: Span,
}

/// One `key = value` entry of the config block.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigEntry {
    /// The key as written (e.g. `max_strlen`, `BPFTRACE_MAX_STRLEN`).
    pub key: String,
    /// Span of the key.
    pub key_span: Span,
    /// The value.
    pub value: ConfigValue,
    /// Span of the value.
    pub value_span: Span,
}

/// A config value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigValue {
    /// An integer literal (durations already in nanoseconds).
    Int(u64),
    /// A string literal.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// A bare identifier such as `warn`.
    Ident(String),
}

/// A preprocessor line (`#include <linux/sched.h>`, `#define X 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Which directive.
    pub kind: DirectiveKind,
    /// The full line text including `#` (continuation lines joined as written).
    pub text: String,
    /// Span of the line(s).
    pub span: Span,
}

/// Directive classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectiveKind {
    /// `#include <path>` or `#include "path"`; `system` is true for `<...>`.
    Include { path: String, system: bool },
    /// `#define NAME rest-of-line`.
    Define { name: String, value: String },
    /// Any other `#...` line (`#if`, `#endif`, `#undef`, ...).
    Other,
}

/// Which kind of C definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CDefKind {
    /// `struct X { ... };`
    Struct,
    /// `union X { ... };`
    Union,
    /// `enum X { ... };`
    Enum,
    /// `typedef ...;`
    Typedef,
}

/// A C definition written in the script, with its raw text and parsed members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CDefinition {
    /// struct / union / enum / typedef.
    pub kind: CDefKind,
    /// Tag name (`X` of `struct X`) or, for typedefs, the new type name.
    pub name: Option<String>,
    /// The raw text from the keyword to the terminating `;` inclusive.
    pub raw: String,
    /// Members of a struct/union body (also of a `typedef struct {...} T;`).
    pub members: Vec<CField>,
    /// Enumerators of an enum body: name and optional explicit value text.
    pub enumerators: Vec<(String, Option<String>)>,
    /// For a typedef: the aliased type (e.g. `unsigned long`, `struct foo *`).
    pub typedef_target: Option<String>,
    /// Span of `raw`.
    pub span: Span,
}

/// One member of a C struct/union definition: `type_name *...* name[len] : bits;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CField {
    /// The base type as written, whitespace-normalised (`unsigned long`, `struct foo`, `u32`).
    pub type_name: String,
    /// Number of `*`.
    pub pointer_depth: u32,
    /// Array dimensions, outermost first (`char x[4][2]` → `[4, 2]`; `[]` → `0`).
    pub array_lens: Vec<u64>,
    /// Member name (empty for anonymous nested struct/union members).
    pub name: String,
    /// Bit-field width, if any.
    pub bit_width: Option<u32>,
    /// Span of the member declaration.
    pub span: Span,
}

/// `let @name = kind(args);` at top level.
#[derive(Clone, Debug, PartialEq)]
pub struct MapDecl {
    /// Map name without `@`.
    pub name: String,
    /// Span of `@name`.
    pub name_span: Span,
    /// The initialiser, normally a [`ExprKind::Call`] like `hash(100)`.
    pub value: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `macro name(a, $b, @c) { stmts; [value] }` (bpftrace ≥ 0.24).
#[derive(Clone, Debug, PartialEq)]
pub struct MacroDef {
    /// Macro name.
    pub name: String,
    /// Span of the name.
    pub name_span: Span,
    /// Parameters in order.
    pub params: Vec<MacroParam>,
    /// The body.
    pub body: Block,
    /// True when the body ends with an expression statement that is not followed by
    /// `;`: that expression is the macro's value.
    pub has_value: bool,
    /// From `macro` to the closing `}`.
    pub span: Span,
}

/// One macro parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroParam {
    /// Bare identifier, `$var` or `@map`.
    pub kind: MacroParamKind,
    /// Name without sigil.
    pub name: String,
    /// Source range.
    pub span: Span,
}

/// Kind of a macro parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacroParamKind {
    /// `name` (substituted by any expression).
    Ident,
    /// `$name`.
    Var,
    /// `@name`.
    Map,
}

/// `attach, attach /predicate/ { body }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// At least one attach point (empty only after a parse error).
    pub attach_points: Vec<AttachPoint>,
    /// Optional `/expr/` predicate.
    pub predicate: Option<Expr>,
    /// The action block.
    pub body: Block,
    /// From the first attach point to the closing `}`.
    pub span: Span,
}

/// One attach point, split into provider and `:`-separated parts.
///
/// `uprobe:/bin/bash:readline` → provider `uprobe`, parts `["/bin/bash", "readline"]`;
/// `t:syscalls:sys_enter_*` → provider `tracepoint`, parts `["syscalls", "sys_enter_*"]`;
/// `BEGIN` → provider `BEGIN`, no parts. Aliases are expanded (`k` → `kprobe`, `kfunc` →
/// `fentry`, `begin` → `BEGIN`, ...); unknown providers are kept verbatim (sema reports them).
/// Wildcards and `$N` positional parameters stay as text. Double-quoted segments
/// (`uprobe:"/a b":f`) are unquoted in `parts` but kept in `raw`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachPoint {
    /// Exactly as written.
    pub raw: String,
    /// Canonical provider name.
    pub provider: String,
    /// Parts after the provider.
    pub parts: Vec<String>,
    /// Span of `raw`.
    pub span: Span,
}

/// `{ stmt; stmt }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What kind.
    pub kind: StmtKind,
    /// Source range (without the trailing `;`).
    pub span: Span,
}

/// Statement kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// An expression evaluated for its effect (`printf(...)`, `$x++`, `@m[k]`).
    Expr(Expr),
    /// `target = value` or compound `target op= value`. `target` is a
    /// [`ExprKind::Var`] or [`ExprKind::Map`] (anything else is reported as an error
    /// by the parser but still stored). `op` is `Some(Add)` for `+=`, etc.
    Assign {
        target: Expr,
        op: Option<BinaryOp>,
        value: Expr,
    },
    /// `let $x;`, `let $x: type;`, `let $x = e;`, `let $x: type = e;`.
    Let {
        name: String,
        name_span: Span,
        ty: Option<TypeName>,
        value: Option<Expr>,
    },
    /// `if (cond) {..} else ..`. `else if` is represented as an else-block containing a
    /// single `If` statement.
    If {
        cond: Expr,
        then_block: Block,
        else_block: Option<Block>,
    },
    /// `unroll (count) { .. }`.
    Unroll { count: Expr, body: Block },
    /// `while (cond) { .. }`.
    While { cond: Expr, body: Block },
    /// `for ($var : @map) {..}` or `for ($var : start..end) {..}`.
    For {
        var: String,
        var_span: Span,
        iter: ForIter,
        body: Block,
    },
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `return` or `return expr`.
    Return(Option<Expr>),
    /// A nested `{ .. }` block.
    Block(Block),
}

/// What a `for` loop iterates over.
#[derive(Clone, Debug, PartialEq)]
pub enum ForIter {
    /// `for ($kv : @map)`; the expression is an [`ExprKind::Map`] without keys.
    Map(Expr),
    /// `for ($i : start..end)` (end exclusive).
    Range { start: Expr, end: Expr },
}

/// An expression node.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Unique, dense id within the program.
    pub id: ExprId,
    /// Source range.
    pub span: Span,
    /// What kind.
    pub kind: ExprKind,
}

/// Integer literal suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IntSuffix {
    /// No suffix.
    #[default]
    None,
    /// `u` / `U`.
    U,
    /// `l` / `L`.
    L,
    /// `ul`.
    Ul,
    /// `ll`.
    Ll,
    /// `ull`.
    Ull,
    /// A duration suffix (`ns us ms s m h d`); the value is already in nanoseconds.
    Duration(TimeUnit),
}

/// Duration literal units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Ns,
    Us,
    Ms,
    S,
    M,
    H,
    D,
}

impl TimeUnit {
    /// Nanoseconds per unit.
    pub fn nanos(self) -> u64 {
        match self {
            TimeUnit::Ns => 1,
            TimeUnit::Us => 1_000,
            TimeUnit::Ms => 1_000_000,
            TimeUnit::S => 1_000_000_000,
            TimeUnit::M => 60_000_000_000,
            TimeUnit::H => 3_600_000_000_000,
            TimeUnit::D => 86_400_000_000_000,
        }
    }

    /// The suffix text.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Ns => "ns",
            TimeUnit::Us => "us",
            TimeUnit::Ms => "ms",
            TimeUnit::S => "s",
            TimeUnit::M => "m",
            TimeUnit::H => "h",
            TimeUnit::D => "d",
        }
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
}

impl BinaryOp {
    /// The operator token.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::LogAnd => "&&",
            BinaryOp::LogOr => "||",
        }
    }

    /// True for `== != < <= > >=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// True for `&&` and `||`.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::LogAnd | BinaryOp::LogOr)
    }
}

/// Prefix unary operators (increments are [`ExprKind::IncDec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `~`
    BitNot,
    /// `-`
    Neg,
    /// `+`
    Plus,
    /// `*` (dereference)
    Deref,
    /// `&` (address-of)
    AddrOf,
}

impl UnaryOp {
    /// The operator token.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::BitNot => "~",
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
            UnaryOp::Deref => "*",
            UnaryOp::AddrOf => "&",
        }
    }
}

/// `++` or `--`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IncDecOp {
    Inc,
    Dec,
}

/// Expression kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Integer literal; negative numbers are `Unary { Neg, Int }`.
    Int { value: u64, suffix: IntSuffix },
    /// Character literal `'a'` (its byte value).
    Char(u8),
    /// String literal with escapes decoded.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// Scratch variable `$name` (name without `$`).
    Var(String),
    /// Map access `@name` / `@name[k1, k2]` (name without `@`, empty for `@`).
    /// `keys` is empty for scalar maps; several keys form a tuple key.
    Map { name: String, keys: Vec<Expr> },
    /// Bare identifier: builtin variable (`pid`, `args`, `arg0`, `comm`) or an
    /// identifier argument such as `perf` in `kstack(perf)`. Sema resolves it.
    Ident(String),
    /// Positional parameter `$1` (number ≥ 1; `$0` is also accepted as 0).
    Positional(u32),
    /// `$#`, the number of positional parameters.
    PositionalCount,
    /// Function call `name(args)`.
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// Binary operation.
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Prefix unary operation.
    Unary { op: UnaryOp, expr: Box<Expr> },
    /// `++x`, `x++`, `--x`, `x--` (on variables and maps).
    IncDec {
        op: IncDecOp,
        prefix: bool,
        target: Box<Expr>,
    },
    /// `(type) expr`.
    Cast { ty: TypeName, expr: Box<Expr> },
    /// `expr.field` (`arrow == false`) or `expr->field`.
    Field {
        expr: Box<Expr>,
        field: String,
        field_span: Span,
        arrow: bool,
    },
    /// `expr[index]`.
    Index { expr: Box<Expr>, index: Box<Expr> },
    /// `expr.N` tuple element access.
    TupleIndex { expr: Box<Expr>, index: u32 },
    /// `(a, b, ...)`: usually two or more elements; `(a,)` is a one-tuple and `()` the
    /// empty tuple.
    Tuple(Vec<Expr>),
    /// `cond ? then : otherwise`; `then` is `None` for the GNU `cond ?: otherwise` form.
    Ternary {
        cond: Box<Expr>,
        then: Option<Box<Expr>>,
        otherwise: Box<Expr>,
    },
    /// `sizeof(type)` or `sizeof(expr)`.
    Sizeof(SizeofArg),
    /// `offsetof(type, field.subfield)`.
    Offsetof { ty: TypeName, fields: Vec<String> },
}

/// Argument of `sizeof`.
#[derive(Clone, Debug, PartialEq)]
pub enum SizeofArg {
    /// `sizeof(struct x)`, `sizeof(uint32)`.
    Type(TypeName),
    /// `sizeof($x)`.
    Expr(Box<Expr>),
}

/// A type written in a cast, `sizeof`, `offsetof` or `let` annotation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeName {
    /// The base type.
    pub base: BaseType,
    /// Number of `*`.
    pub pointer_depth: u32,
    /// `Some(n)` for array types `int8[4]` (applied to the pointer-free base).
    pub array_len: Option<u64>,
    /// Source range.
    pub span: Span,
}

/// Base of a [`TypeName`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// Sized integer: `int8`..`int64`, `uint8`..`uint64`, `u8`..`u64`, `s8`..`s64`,
    /// `i8`..`i64`.
    Int { bits: u8, signed: bool },
    /// `bool`.
    Bool,
    /// `void`.
    Void,
    /// `string` (or `string[N]` via `array_len`).
    String,
    /// `struct name` (name without the keyword).
    Struct(String),
    /// `union name`.
    Union(String),
    /// `enum name`.
    Enum(String),
    /// Any other identifier (C typedef name such as `pid_t`, `inet_sock`).
    Named(String),
}

impl BaseType {
    /// The C spelling (`struct task_struct`, `uint32`, `pid_t`).
    pub fn c_name(&self) -> String {
        match self {
            BaseType::Int { bits, signed } => {
                format!("{}int{bits}", if *signed { "" } else { "u" })
            }
            BaseType::Bool => "bool".to_string(),
            BaseType::Void => "void".to_string(),
            BaseType::String => "string".to_string(),
            BaseType::Struct(n) => format!("struct {n}"),
            BaseType::Union(n) => format!("union {n}"),
            BaseType::Enum(n) => format!("enum {n}"),
            BaseType::Named(n) => n.clone(),
        }
    }

    /// Parses a builtin scalar type keyword (`uint32`, `u8`, `bool`, `void`, `string`...).
    pub fn from_keyword(word: &str) -> Option<BaseType> {
        match word {
            "bool" => return Some(BaseType::Bool),
            "void" => return Some(BaseType::Void),
            "string" => return Some(BaseType::String),
            _ => {}
        }
        let (signed, digits) = if let Some(d) = word.strip_prefix("uint") {
            (false, d)
        } else if let Some(d) = word.strip_prefix("int") {
            (true, d)
        } else if let Some(d) = word.strip_prefix('u') {
            (false, d)
        } else if let Some(d) = word.strip_prefix('s').or_else(|| word.strip_prefix('i')) {
            (true, d)
        } else {
            return None;
        };
        let bits = match digits {
            "8" => 8,
            "16" => 16,
            "32" => 32,
            "64" => 64,
            _ => return None,
        };
        Some(BaseType::Int { bits, signed })
    }
}

impl TypeName {
    /// The type in C-like spelling: `struct task_struct *`, `int8[4]`.
    pub fn display(&self) -> String {
        let mut s = self.base.c_name();
        if self.pointer_depth > 0 {
            s.push(' ');
            s.push_str(&"*".repeat(self.pointer_depth as usize));
        }
        if let Some(n) = self.array_len {
            s.push_str(&format!("[{n}]"));
        }
        s
    }
}

impl Expr {
    /// True for `$var` and `@map[...]` expressions (valid assignment targets).
    pub fn is_lvalue(&self) -> bool {
        matches!(self.kind, ExprKind::Var(_) | ExprKind::Map { .. })
    }

    /// The literal string if this is a [`ExprKind::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The literal integer if this is an [`ExprKind::Int`].
    pub fn as_int(&self) -> Option<u64> {
        match self.kind {
            ExprKind::Int { value, .. } => Some(value),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_keywords() {
        assert_eq!(
            BaseType::from_keyword("uint32"),
            Some(BaseType::Int {
                bits: 32,
                signed: false
            })
        );
        assert_eq!(
            BaseType::from_keyword("s16"),
            Some(BaseType::Int {
                bits: 16,
                signed: true
            })
        );
        assert_eq!(
            BaseType::from_keyword("u8"),
            Some(BaseType::Int {
                bits: 8,
                signed: false
            })
        );
        assert_eq!(BaseType::from_keyword("int12"), None);
        assert_eq!(BaseType::from_keyword("pid"), None);
        assert_eq!(BaseType::from_keyword("bool"), Some(BaseType::Bool));
        let t = TypeName {
            base: BaseType::Struct("task_struct".into()),
            pointer_depth: 1,
            array_len: None,
            span: Span::default(),
        };
        assert_eq!(t.display(), "struct task_struct *");
    }

    #[test]
    fn time_units() {
        assert_eq!(TimeUnit::Ms.nanos(), 1_000_000);
        assert_eq!(TimeUnit::D.as_str(), "d");
    }
}
