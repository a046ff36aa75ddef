//! Pass 2: type inference and checking.
//!
//! Walks every probe, giving each expression, variable and map a type. Maps are shared by all
//! probes and may be assigned in a later probe than the one reading them, so the walk repeats
//! silently until nothing changes, then runs once more reporting errors (bpftrace's messages
//! where it has one).

use std::collections::HashMap;

use scry_diagnostics::{Diagnostic, Diagnostics, Span};
use scry_syntax::ast::{self, BaseType, BinaryOp, Expr, ExprKind, Stmt, StmtKind, UnaryOp};

use crate::Options;
use crate::builtins;
use crate::expand_probes::{ProbeInfo, Target};
use crate::kernel::{Field, FieldKind, KernelInfo};
use crate::types::Type;

/// What a map's values are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapValue {
    /// Assigned values of this type.
    Plain(Type),
    Count,
    Sum {
        signed: bool,
    },
    Min {
        signed: bool,
    },
    Max {
        signed: bool,
    },
    Avg {
        signed: bool,
    },
    Stats {
        signed: bool,
    },
    Hist {
        bits: u8,
    },
    Lhist {
        min: i64,
        max: i64,
        step: i64,
    },
}

impl MapValue {
    /// True for aggregations, which live in per-CPU maps.
    pub fn is_aggregation(&self) -> bool {
        !matches!(self, MapValue::Plain(_))
    }

    fn name(&self) -> String {
        match self {
            MapValue::Plain(t) => t.to_string(),
            MapValue::Count => "count".into(),
            MapValue::Sum { .. } => "sum".into(),
            MapValue::Min { .. } => "min".into(),
            MapValue::Max { .. } => "max".into(),
            MapValue::Avg { .. } => "avg".into(),
            MapValue::Stats { .. } => "stats".into(),
            MapValue::Hist { .. } => "hist".into(),
            MapValue::Lhist { .. } => "lhist".into(),
        }
    }

    /// The type a read of the map gives inside a probe.
    pub fn read_type(&self) -> Type {
        match self {
            MapValue::Plain(t) => t.clone(),
            MapValue::Count => Type::U64,
            MapValue::Sum { signed }
            | MapValue::Min { signed }
            | MapValue::Max { signed }
            | MapValue::Avg { signed } => Type::Int {
                bytes: 8,
                signed: *signed,
            },
            _ => Type::U64,
        }
    }
}

/// A map with its key and value types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// Name without `@` (empty for the anonymous map).
    pub name: String,
    /// Key part types; empty for a map without keys.
    pub keys: Vec<Type>,
    pub value: MapValue,
}

/// The pass's result.
#[derive(Debug, Default)]
pub struct Typed {
    /// Type of every expression, by `ExprId`.
    pub exprs: Vec<Type>,
    pub maps: Vec<MapInfo>,
    /// Variables of each probe.
    pub vars: Vec<HashMap<String, Type>>,
    /// Fields of tracepoint `args` accesses, by the `ExprId` of the field expression: one
    /// field per tracepoint target of the probe, in target order.
    pub args_fields: HashMap<u32, Vec<Field>>,
    /// Byte offsets of kernel struct members (`p->f`, `r.f`), by the field expression's id.
    pub member_offsets: HashMap<u32, u32>,
    /// Values of `sizeof()` and `offsetof()`, by expression id.
    pub constants: HashMap<u32, u64>,
    /// Struct members that are arrays of numbers: their value is their address.
    pub inline_arrays: std::collections::HashSet<u32>,
    /// `p[i]` of records: the record's size, by expression id.
    pub strides: HashMap<u32, u32>,
    /// Raw tracepoint arguments read by name (`args.prev`): the argument's index.
    pub raw_args: HashMap<u32, u32>,
    /// Whole records printed with `print()`: their layout and size in bytes, by the printed
    /// expression's id.
    pub record_layouts: HashMap<u32, (scry_output::Layout, u32)>,
}

impl Typed {
    pub fn ty(&self, expr: &Expr) -> &Type {
        &self.exprs[expr.id.index()]
    }

    pub fn map(&self, name: &str) -> Option<(usize, &MapInfo)> {
        self.maps.iter().enumerate().find(|(_, m)| m.name == name)
    }
}

struct Checker<'a> {
    probes: &'a [ProbeInfo],
    /// Structs and unions the script defines.
    script_records: HashMap<String, crate::script_types::ScriptRecord>,
    /// Integer `#define`s of the script.
    defines: HashMap<String, i64>,
    kernel: &'a dyn KernelInfo,
    options: &'a Options,
    typed: Typed,
    map_keys_known: HashMap<String, bool>,
    report: bool,
    changed: bool,
    diagnostics: Vec<Diagnostic>,
    probe: usize,
    loops: usize,
}

fn map_label(name: &str) -> String {
    format!("@{name}")
}

impl Checker<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        if self.report {
            self.diagnostics
                .push(Diagnostic::error(span, message.into()));
        }
    }

    fn set_type(&mut self, expr: &Expr, ty: Type) -> Type {
        let slot = &mut self.typed.exprs[expr.id.index()];
        if *slot != ty {
            *slot = ty.clone();
            self.changed = true;
        }
        ty
    }

    fn var_type(&self, name: &str) -> Option<Type> {
        self.typed.vars[self.probe].get(name).cloned()
    }

    fn assign_var(&mut self, name: &str, ty: Type, span: Span) {
        let vars = &mut self.typed.vars[self.probe];
        match vars.get(name).cloned() {
            None => {
                vars.insert(name.to_string(), ty);
                self.changed = true;
            }
            Some(old) => match Type::unify(&old, &ty) {
                Some(merged) if merged != old => {
                    vars.insert(name.to_string(), merged);
                    self.changed = true;
                }
                Some(_) => {}
                None => self.error(
                    span,
                    format!(
                        "Type mismatch for ${name}: trying to assign value of type '{ty}' when variable already contains a value of type '{old}'"
                    ),
                ),
            },
        }
    }

    fn map_index(&mut self, name: &str) -> usize {
        if let Some((index, _)) = self.typed.map(name) {
            return index;
        }
        self.typed.maps.push(MapInfo {
            name: name.to_string(),
            keys: Vec::new(),
            value: MapValue::Plain(Type::None),
        });
        self.changed = true;
        self.typed.maps.len() - 1
    }

    fn assign_map_keys(&mut self, name: &str, keys: Vec<Type>, span: Span) {
        let index = self.map_index(name);
        let known = self.map_keys_known.get(name).copied().unwrap_or(false);
        let map = &mut self.typed.maps[index];
        if !known {
            map.keys = keys;
            self.map_keys_known.insert(name.to_string(), true);
            self.changed = true;
            return;
        }
        if map.keys.len() != keys.len() {
            let (old, new) = (map.keys.len(), keys.len());
            self.error(
                span,
                format!(
                    "Argument mismatch for {}: {} keys used where {} were used before",
                    map_label(name),
                    new,
                    old
                ),
            );
            return;
        }
        let mut merged = Vec::with_capacity(keys.len());
        for (old, new) in map.keys.iter().zip(&keys) {
            match Type::unify(old, new) {
                Some(t) => merged.push(t),
                None => {
                    let message = format!(
                        "Argument mismatch for {}: trying to access with arguments: '{}' when map expects arguments: '{}'",
                        map_label(name),
                        Type::Tuple(keys.clone())
                            .to_string()
                            .trim_matches(['(', ')']),
                        Type::Tuple(map.keys.clone())
                            .to_string()
                            .trim_matches(['(', ')']),
                    );
                    self.error(span, message);
                    return;
                }
            }
        }
        if merged != map.keys {
            map.keys = merged;
            self.changed = true;
        }
    }

    fn assign_map_value(&mut self, name: &str, value: MapValue, span: Span) {
        let index = self.map_index(name);
        let map = &mut self.typed.maps[index];
        let merged = match (&map.value, &value) {
            (MapValue::Plain(Type::None), _) => Some(value.clone()),
            (MapValue::Plain(a), MapValue::Plain(b)) => Type::unify(a, b).map(MapValue::Plain),
            (a, b) if a == b => Some(a.clone()),
            (MapValue::Sum { signed: a }, MapValue::Sum { signed: b }) => {
                Some(MapValue::Sum { signed: *a || *b })
            }
            (MapValue::Min { signed: a }, MapValue::Min { signed: b }) => {
                Some(MapValue::Min { signed: *a || *b })
            }
            (MapValue::Max { signed: a }, MapValue::Max { signed: b }) => {
                Some(MapValue::Max { signed: *a || *b })
            }
            (MapValue::Avg { signed: a }, MapValue::Avg { signed: b }) => {
                Some(MapValue::Avg { signed: *a || *b })
            }
            (MapValue::Stats { signed: a }, MapValue::Stats { signed: b }) => {
                Some(MapValue::Stats { signed: *a || *b })
            }
            _ => None,
        };
        match merged {
            Some(m) if m != map.value => {
                map.value = m;
                self.changed = true;
            }
            Some(_) => {}
            None => {
                let message = format!(
                    "Type mismatch for {}: trying to assign value of type '{}' when map already contains a value of type '{}'",
                    map_label(name),
                    value.name(),
                    map.value.name()
                );
                self.error(span, message);
            }
        }
    }

    fn block(&mut self, block: &ast::Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(expr) => {
                self.expr(expr);
            }
            StmtKind::Assign { target, op, value } => self.assignment(target, *op, value),
            StmtKind::Let {
                name,
                name_span,
                ty,
                value,
            } => {
                let declared = ty.as_ref().map(|t| self.type_name(t));
                let value_ty = value.as_ref().map(|v| self.expr(v));
                match (declared, value_ty) {
                    (Some(Some(d)), _) => self.assign_var(name, d, *name_span),
                    (_, Some(v)) => self.assign_var(name, v, *name_span),
                    _ => {}
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                self.condition(cond);
                self.block(then_block);
                if let Some(otherwise) = else_block {
                    self.block(otherwise);
                }
            }
            StmtKind::Unroll { count, body } => {
                match count.as_int() {
                    Some(n) if (1..=100).contains(&n) => {}
                    _ => self.error(
                        count.span,
                        "unroll count must be an integer literal from 1 to 100",
                    ),
                }
                self.expr(count);
                self.block(body);
            }
            StmtKind::While { cond, body } => {
                self.condition(cond);
                self.loops += 1;
                self.block(body);
                self.loops -= 1;
            }
            StmtKind::For {
                var,
                var_span,
                iter,
                body,
            } => match iter {
                ast::ForIter::Range { start, end } => {
                    for bound in [start, end] {
                        let ty = self.expr(bound);
                        if !ty.is_integer() && ty != Type::None {
                            self.error(
                                bound.span,
                                format!("Range bounds must be integers ({ty} supplied)"),
                            );
                        }
                    }
                    self.assign_var(var, Type::I64, *var_span);
                    self.loops += 1;
                    self.block(body);
                    self.loops -= 1;
                }
                ast::ForIter::Map(map) => {
                    self.expr(map);
                    self.error(
                        stmt.span,
                        "for loops over maps are not supported by scry yet",
                    );
                }
            },
            StmtKind::Break | StmtKind::Continue => {
                if self.loops == 0 {
                    let word = if matches!(stmt.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(stmt.span, format!("{word} used outside of a loop"));
                }
            }
            StmtKind::Return(value) => {
                if let Some(value) = value {
                    self.expr(value);
                }
            }
            StmtKind::Block(block) => self.block(block),
        }
    }

    fn condition(&mut self, cond: &Expr) {
        let ty = self.expr(cond);
        if !ty.is_integer() && ty != Type::None {
            self.error(
                cond.span,
                format!("Invalid condition: expected an integer or boolean, got {ty}"),
            );
        }
    }

    fn assignment(&mut self, target: &Expr, op: Option<BinaryOp>, value: &Expr) {
        match &target.kind {
            ExprKind::Var(name) => {
                let ty = if op.is_some() {
                    let value_ty = self.expr(value);
                    self.integer_operand(value, &value_ty, "compound assignment");
                    if self.var_type(name).is_none() {
                        self.error(
                            target.span,
                            format!("Undefined or undeclared variable: ${name}"),
                        );
                    }
                    Type::I64
                } else {
                    let ty = self.expr(value);
                    let reported = match &value.kind {
                        ExprKind::Map { .. } | ExprKind::Var(_) => true,
                        ExprKind::Call { name, .. } => {
                            builtins::AGGREGATIONS.contains(&name.as_str())
                                || builtins::arity(name).is_none()
                        }
                        _ => false,
                    };
                    if ty == Type::None && self.report && !reported {
                        self.error(
                            value.span,
                            "Value has no type: it cannot be assigned to a variable",
                        );
                    }
                    ty
                };
                if ty == Type::Args {
                    self.error(
                        value.span,
                        "args cannot be assigned to a variable; assign one of its fields",
                    );
                }
                self.assign_var(name, ty.clone(), target.span);
                self.set_type(target, self.var_type(name).unwrap_or(ty));
            }
            ExprKind::Map { name, keys } => {
                let key_types: Vec<Type> = keys.iter().map(|k| self.key_type(k)).collect();
                for (key, ty) in keys.iter().zip(&key_types) {
                    if !is_storable(ty) && *ty != Type::None {
                        self.error(key.span, format!("{ty} cannot be used as a map key"));
                    }
                }
                self.assign_map_keys(name, key_types, target.span);
                let value_kind = match (&value.kind, op) {
                    (ExprKind::Call { name: f, args, .. }, None)
                        if builtins::AGGREGATIONS.contains(&f.as_str()) =>
                    {
                        self.aggregation(f, args, value)
                    }
                    _ => {
                        let ty = self.expr(value);
                        if op.is_some() {
                            self.integer_operand(value, &ty, "compound assignment");
                            Some(MapValue::Plain(Type::I64))
                        } else if ty == Type::None || ty == Type::Args {
                            // A value without a type had its error reported where it came
                            // from, except for calls that return nothing.
                            let returns_nothing = matches!(&value.kind, ExprKind::Call { name, .. }
                                if builtins::arity(name).is_some() && !builtins::AGGREGATIONS.contains(&name.as_str()));
                            if self.report && (ty == Type::Args || returns_nothing) {
                                self.error(
                                    value.span,
                                    "Value has no type: it cannot be stored in a map",
                                );
                            }
                            None
                        } else if !is_storable(&ty) {
                            self.error(value.span, format!("{ty} cannot be stored in a map"));
                            None
                        } else {
                            Some(MapValue::Plain(ty))
                        }
                    }
                };
                if let Some(value_kind) = value_kind {
                    self.assign_map_value(name, value_kind, target.span);
                }
                let read = self
                    .typed
                    .map(name)
                    .map(|(_, m)| m.value.read_type())
                    .unwrap_or(Type::None);
                self.set_type(target, read);
            }
            _ => {
                self.expr(target);
                self.error(target.span, "Only variables and maps can be assigned to");
            }
        }
    }

    fn integer_operand(&mut self, expr: &Expr, ty: &Type, what: &str) {
        if !ty.is_integer() && *ty != Type::None {
            self.error(
                expr.span,
                format!("{what} needs an integer operand ({ty} supplied)"),
            );
        }
    }

    fn aggregation(&mut self, name: &str, args: &[Expr], call: &Expr) -> Option<MapValue> {
        self.set_type(call, Type::None);
        if !self.check_arity(name, args.len(), call.span) {
            return None;
        }
        let arg_types: Vec<Type> = args.iter().map(|a| self.expr(a)).collect();
        for (arg, ty) in args.iter().zip(&arg_types) {
            self.integer_operand(arg, ty, &format!("{name}()"));
        }
        let signed = arg_types.first().map(|t| t.is_signed()).unwrap_or(false);
        Some(match name {
            "count" => MapValue::Count,
            "sum" => MapValue::Sum { signed },
            "avg" => MapValue::Avg { signed },
            "min" => MapValue::Min { signed },
            "max" => MapValue::Max { signed },
            "stats" => MapValue::Stats { signed },
            "hist" => {
                let bits = match args.get(1) {
                    None => 0,
                    Some(arg) => {
                        match arg.as_int() {
                            Some(b) if b <= 5 => b as u8,
                            _ => {
                                self.error(arg.span, "hist: the second argument must be an integer literal from 0 to 5");
                                0
                            }
                        }
                    }
                };
                MapValue::Hist { bits }
            }
            "lhist" => {
                let consts: Vec<Option<i64>> = args[1..].iter().map(|a| self.constant(a)).collect();
                let (Some(min), Some(max), Some(step)) = (consts[0], consts[1], consts[2]) else {
                    self.error(
                        call.span,
                        "lhist() min, max and step must be integer literals",
                    );
                    return None;
                };
                if step <= 0 || max <= min || (max - min) / step > 1000 {
                    self.error(
                        call.span,
                        "lhist(): invalid range: need min < max, step > 0 and at most 1000 buckets",
                    );
                    return None;
                }
                MapValue::Lhist { min, max, step }
            }
            _ => unreachable!("aggregation names come from builtins::AGGREGATIONS"),
        })
    }

    fn constant(&self, expr: &Expr) -> Option<i64> {
        match &expr.kind {
            ExprKind::Int { value, .. } => i64::try_from(*value).ok(),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => self.constant(expr).map(|v| -v),
            ExprKind::Positional(n) => self.options.positional.get(*n as usize - 1)?.parse().ok(),
            _ => None,
        }
    }

    fn check_arity(&mut self, name: &str, given: usize, span: Span) -> bool {
        let Some((min, max)) = builtins::arity(name) else {
            return true;
        };
        let count = |n: usize| match n {
            0 => "no arguments".to_string(),
            1 => "one argument".to_string(),
            n => format!("{n} arguments"),
        };
        if given < min {
            let at_least = if min == max { "" } else { "at least " };
            let message = format!(
                "{name}() requires {at_least}{} ({given} provided)",
                count(min)
            );
            self.error(span, message);
            return false;
        }
        if given > max {
            let at_most = if min == max { "" } else { "at most " };
            let message = format!(
                "{name}() requires {at_most}{} ({given} provided)",
                count(max)
            );
            self.error(span, message);
            return false;
        }
        true
    }

    fn type_name(&mut self, ty: &ast::TypeName) -> Option<Type> {
        let base = match &ty.base {
            BaseType::Int { bits, signed } => Type::Int {
                bytes: bits / 8,
                signed: *signed,
            },
            BaseType::Bool => Type::Bool,
            BaseType::String => {
                Type::Str(ty.array_len.unwrap_or(self.options.max_strlen as u64) as u32)
            }
            BaseType::Struct(name) | BaseType::Union(name) => {
                let keyword = if matches!(ty.base, BaseType::Struct(_)) {
                    "struct"
                } else {
                    "union"
                };
                let record = format!("{keyword} {name}");
                match self.kernel.btf() {
                    _ if self.script_records.contains_key(&record) => {}
                    Some(btf) if crate::kernel_types::record_id(btf, &record).is_some() => {}
                    Some(_) => {
                        self.error(ty.span, format!("Unknown struct/union: '{record}'"));
                        return None;
                    }
                    None => {
                        self.error(
                            ty.span,
                            format!("Cannot resolve '{record}': this kernel has no BTF"),
                        );
                        return None;
                    }
                }
                Type::Record(record)
            }
            BaseType::Void => Type::Int {
                bytes: 1,
                signed: false,
            },
            BaseType::Enum(_) => Type::I64,
            BaseType::Named(name) => match c_integer(name) {
                Some(t) => t,
                None => {
                    self.error(ty.span, format!("Unknown type: {name}"));
                    return None;
                }
            },
        };
        if ty.pointer_depth > 0 {
            // Script-defined structs describe user memory.
            let user =
                matches!(&base, Type::Record(name) if self.script_records.contains_key(name));
            let mut t = base;
            for _ in 0..ty.pointer_depth {
                t = Type::Ptr {
                    pointee: Box::new(t),
                    user,
                };
            }
            return Some(t);
        }
        if matches!(base, Type::Record(_)) {
            self.error(
                ty.span,
                format!("Cannot cast to {}: cast to a pointer instead", ty.display()),
            );
            return None;
        }
        Some(base)
    }

    /// The layout of a kernel or script-defined record, for copying it whole.
    fn record_layout(&self, record: &str) -> Result<(scry_output::Layout, u32), String> {
        match self.script_records.get(record) {
            Some(_) => crate::kernel_types::script_record_layout(&self.script_records, record),
            None => self
                .kernel
                .btf()
                .ok_or_else(|| format!("no BTF to lay out {record}"))
                .and_then(|btf| crate::kernel_types::record_layout(btf, record)),
        }
    }

    /// The type a map key expression gives the key: its own, except that a record (which
    /// stands for its address) is keyed by its bytes, as in `@[*$ts] = count()`.
    fn key_type(&mut self, key: &Expr) -> Type {
        let ty = self.expr(key);
        let Type::Record(record) = &ty else {
            return ty;
        };
        match self.record_layout(record) {
            Ok((layout, size)) => Type::RecordValue {
                name: record.clone(),
                size,
                layout: Box::new(layout),
            },
            Err(message) => {
                self.error(key.span, message);
                Type::None
            }
        }
    }

    fn expr(&mut self, expr: &Expr) -> Type {
        let ty = self.expr_inner(expr);
        self.set_type(expr, ty)
    }

    fn expr_inner(&mut self, expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::Int { value, .. } => {
                if *value > i64::MAX as u64 {
                    Type::U64
                } else {
                    Type::I64
                }
            }
            ExprKind::Char(_) => Type::Int {
                bytes: 1,
                signed: true,
            },
            ExprKind::Str(s) => Type::Str(s.len() as u32 + 1),
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Var(name) => match self.var_type(name) {
                Some(ty) => ty,
                None => {
                    self.error(
                        expr.span,
                        format!("Undefined or undeclared variable: ${name}"),
                    );
                    Type::None
                }
            },
            ExprKind::Map { name, keys } => {
                let key_types: Vec<Type> = keys.iter().map(|k| self.key_type(k)).collect();
                match self.typed.map(name).map(|(_, m)| m.clone()) {
                    Some(map) => {
                        if keys.is_empty() && !map.keys.is_empty() {
                            let message = format!(
                                "{} is used without a key, but it has {} key(s)",
                                map_label(name),
                                map.keys.len()
                            );
                            self.error(expr.span, message);
                        } else if matches!(
                            map.value,
                            MapValue::Hist { .. } | MapValue::Lhist { .. }
                        ) {
                            let message = format!(
                                "{} is a histogram: it can be printed, not read as a number",
                                map_label(name)
                            );
                            self.error(expr.span, message);
                        } else if !keys.is_empty() && (map.keys.len() == keys.len() || self.report)
                        {
                            // Reads widen key types too (a longer string key must not be cut
                            // to the size an assignment chose).
                            self.assign_map_keys(name, key_types, expr.span);
                        }
                        map.value.read_type()
                    }
                    None => {
                        self.error(expr.span, format!("Undefined map: {}", map_label(name)));
                        Type::None
                    }
                }
            }
            // Builtins first: looking a name up in BTF reads and parses the kernel's BTF.
            ExprKind::Ident(name) if builtins::variable(name).is_some() => {
                self.identifier(name, expr.span)
            }
            ExprKind::Ident(name) => match self.named_constant(name) {
                // `#define`s, kernel enum values from BTF (TCP_ESTABLISHED) and the C
                // constants scripts use without headers (AF_INET, TASK_RUNNING).
                Some(value) => {
                    self.typed.constants.insert(expr.id.0, value as u64);
                    Type::I64
                }
                _ => self.identifier(name, expr.span),
            },
            ExprKind::Positional(n) => {
                match self.options.positional.get((*n as usize).wrapping_sub(1)) {
                    Some(p) if p.parse::<i64>().is_ok() || p.starts_with("0x") => Type::I64,
                    Some(p) => Type::Str(p.len() as u32 + 1),
                    None => Type::I64,
                }
            }
            ExprKind::PositionalCount => Type::I64,
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, expr),
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs), self.expr(rhs));
                if matches!(l, Type::Str(_)) || matches!(r, Type::Str(_)) {
                    if (!matches!((&l, &r), (Type::Str(_), Type::Str(_)))
                        || !matches!(op, BinaryOp::Eq | BinaryOp::Ne))
                        && l != Type::None
                        && r != Type::None
                    {
                        self.error(
                            expr.span,
                            format!(
                                "Type mismatch for '{}': comparing '{l}' with '{r}'",
                                op.as_str()
                            ),
                        );
                    }
                    return Type::U64;
                }
                for (side, ty) in [(lhs, &l), (rhs, &r)] {
                    if !ty.is_integer()
                        && *ty != Type::None
                        && !matches!(ty, Type::Probe | Type::Username)
                    {
                        self.error(
                            side.span,
                            format!(
                                "The {} operator can not be used on expressions of type {ty}",
                                op.as_str()
                            ),
                        );
                    }
                }
                if op.is_comparison() || op.is_logical() {
                    // As bpftrace: integer comparisons and logical operators give int64.
                    Type::I64
                } else if let (Type::Ptr { .. }, BinaryOp::Add | BinaryOp::Sub) = (&l, op) {
                    l
                } else {
                    Type::Int {
                        bytes: 8,
                        // As bpftrace: signed only when both operands are.
                        signed: l.is_signed() && r.is_signed(),
                    }
                }
            }
            ExprKind::Unary { op, expr: inner } => {
                let ty = self.expr(inner);
                match op {
                    UnaryOp::Not => {
                        if !ty.is_integer() && ty != Type::None {
                            self.error(
                                expr.span,
                                format!(
                                    "The ! operator can not be used on expressions of type {ty}"
                                ),
                            );
                        }
                        Type::U64
                    }
                    UnaryOp::BitNot | UnaryOp::Neg | UnaryOp::Plus => {
                        self.integer_operand(inner, &ty, op.as_str());
                        if *op == UnaryOp::Neg { Type::I64 } else { ty }
                    }
                    UnaryOp::Deref => match ty {
                        Type::Ptr { pointee, .. }
                            if pointee.is_scalar() || matches!(*pointee, Type::Record(_)) =>
                        {
                            *pointee
                        }
                        Type::None => Type::None,
                        other => {
                            self.error(expr.span, format!("Can not dereference type {other}"));
                            Type::None
                        }
                    },
                    UnaryOp::AddrOf => {
                        self.error(
                            expr.span,
                            "The address-of operator is not supported by scry yet",
                        );
                        Type::None
                    }
                }
            }
            ExprKind::IncDec { target, .. } => {
                match &target.kind {
                    ExprKind::Var(name) => {
                        if self.var_type(name).is_none() {
                            self.error(
                                target.span,
                                format!("Undefined or undeclared variable: ${name}"),
                            );
                        }
                        self.expr(target);
                    }
                    ExprKind::Map { name, keys } => {
                        let key_types: Vec<Type> = keys.iter().map(|k| self.key_type(k)).collect();
                        self.assign_map_keys(name, key_types, target.span);
                        self.assign_map_value(name, MapValue::Plain(Type::I64), target.span);
                        self.set_type(target, Type::I64);
                    }
                    _ => self.error(target.span, "++ and -- apply to variables and maps only"),
                }
                Type::I64
            }
            ExprKind::Cast { ty, expr: inner } => {
                let from = self.expr(inner);
                let Some(to) = self.type_name(ty) else {
                    return Type::None;
                };
                if !from.is_integer() && from != Type::None && !matches!(to, Type::Ptr { .. }) {
                    self.error(
                        expr.span,
                        format!("Cannot cast from \"{from}\" to \"{to}\""),
                    );
                }
                to
            }
            ExprKind::Field {
                expr: base,
                field,
                field_span,
                ..
            } => {
                let base_ty = self.expr(base);
                match base_ty {
                    Type::Args => self.args_field(expr, field, *field_span),
                    Type::Tuple(_) => {
                        self.error(*field_span, "Tuple elements are read with .0, .1, …");
                        Type::None
                    }
                    Type::None => Type::None,
                    Type::Ptr { pointee, .. } if matches!(*pointee, Type::Record(_)) => {
                        let Type::Record(record) = *pointee else {
                            unreachable!("matched above")
                        };
                        self.record_field(expr, &record, field, *field_span)
                    }
                    Type::Record(record) => self.record_field(expr, &record, field, *field_span),
                    other => {
                        self.error(
                            expr.span,
                            format!(
                                "Can not access field '{field}' on expression of type '{other}'"
                            ),
                        );
                        Type::None
                    }
                }
            }
            ExprKind::Index { expr: base, index } => {
                let base_ty = self.expr(base);
                let index_ty = self.expr(index);
                self.integer_operand(index, &index_ty, "an index");
                if let Some(fields) = self.typed.args_fields.get(&base.id.0)
                    && let Some(FieldKind::IntArray {
                        elem_size,
                        signed,
                        len,
                    }) = fields.first().map(|f| f.kind.clone())
                {
                    if let Some(i) = self.constant(index) {
                        if i < 0 || i >= len as i64 {
                            self.error(
                                index.span,
                                format!("Index {i} is out of bounds for array of size {len}"),
                            );
                        }
                    } else {
                        self.error(index.span, "Array index must be a constant");
                    }
                    return Type::Int {
                        bytes: elem_size.min(8) as u8,
                        signed,
                    };
                }
                match base_ty {
                    Type::Ptr { pointee, .. } if pointee.is_scalar() => *pointee,
                    // `p[i]` of a struct pointer or array of structs: the i-th record's address.
                    Type::Ptr { pointee, .. } if matches!(*pointee, Type::Record(_)) => {
                        let Type::Record(name) = &*pointee else {
                            unreachable!("matched above")
                        };
                        let size = self.kernel.btf().and_then(|btf| {
                            let id = crate::kernel_types::record_id(btf, name)?;
                            btf.size_of(id).ok()
                        });
                        match size {
                            Some(size) => {
                                if self.typed.strides.insert(expr.id.0, size as u32).is_none() {
                                    self.changed = true;
                                }
                                *pointee
                            }
                            None => {
                                self.error(
                                    expr.span,
                                    format!("Cannot index {name}: its size is unknown"),
                                );
                                Type::None
                            }
                        }
                    }
                    Type::None => Type::None,
                    Type::Str(_) => {
                        self.error(expr.span, "Indexing strings is not supported by scry yet");
                        Type::None
                    }
                    other => {
                        self.error(expr.span, format!("The array index operator [] can not be used on expressions of type {other}"));
                        Type::None
                    }
                }
            }
            ExprKind::TupleIndex { expr: base, index } => match self.expr(base) {
                Type::Tuple(elems) => match elems.get(*index as usize) {
                    Some(t) => t.clone(),
                    None => {
                        self.error(
                            expr.span,
                            format!(
                                "Invalid tuple index: {index}. Found {} elements in tuple.",
                                elems.len()
                            ),
                        );
                        Type::None
                    }
                },
                Type::None => Type::None,
                other => {
                    self.error(
                        expr.span,
                        format!("Can not access index '{index}' on expression of type '{other}'"),
                    );
                    Type::None
                }
            },
            ExprKind::Tuple(elems) => {
                let types: Vec<Type> = elems.iter().map(|e| self.expr(e)).collect();
                for (e, t) in elems.iter().zip(&types) {
                    if !is_storable(t) && *t != Type::None {
                        self.error(e.span, format!("{t} cannot be a tuple element"));
                    }
                }
                Type::Tuple(types)
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                self.condition(cond);
                let a = match then {
                    Some(then) => self.expr(then),
                    None => self.typed.exprs[cond.id.index()].clone(),
                };
                let b = self.expr(otherwise);
                match Type::unify(&a, &b) {
                    Some(t) => t,
                    None => {
                        self.error(
                            expr.span,
                            format!(
                                "Ternary operator branches have different types: '{a}' and '{b}'"
                            ),
                        );
                        Type::None
                    }
                }
            }
            ExprKind::Sizeof(arg) => {
                let size = match arg {
                    ast::SizeofArg::Type(t) => {
                        let pointer_or_array = t.pointer_depth > 0 || t.array_len.is_some();
                        match (&t.base, pointer_or_array) {
                            (BaseType::Struct(_) | BaseType::Union(_), false) => {
                                let ty = self.type_name(&ast::TypeName {
                                    pointer_depth: 1,
                                    ..t.clone()
                                });
                                match (ty, self.kernel.btf()) {
                                    (Some(Type::Ptr { pointee, .. }), _) if matches!(&*pointee, Type::Record(n) if self.script_records.contains_key(n)) =>
                                    {
                                        let Type::Record(name) = *pointee else {
                                            unreachable!("matched above")
                                        };
                                        Some(self.script_records[&name].size as u64)
                                    }
                                    (Some(Type::Ptr { pointee, .. }), Some(btf)) => {
                                        match *pointee {
                                            Type::Record(name) => {
                                                crate::kernel_types::record_id(btf, &name)
                                                    .and_then(|id| btf.size_of(id).ok())
                                            }
                                            _ => None,
                                        }
                                    }
                                    _ => None,
                                }
                            }
                            _ => self.type_name(t).map(|ty| {
                                let elem = match &ty {
                                    Type::Int { bytes, .. } => *bytes as u64,
                                    Type::Bool => 1,
                                    other => other.storage_size() as u64,
                                };
                                if t.pointer_depth > 0 {
                                    8
                                } else {
                                    elem * t.array_len.unwrap_or(1)
                                }
                            }),
                        }
                    }
                    ast::SizeofArg::Expr(e) => match self.expr(e) {
                        Type::Int { bytes, .. } => Some(bytes as u64),
                        Type::Record(name) => self.kernel.btf().and_then(|btf| {
                            crate::kernel_types::record_id(btf, &name)
                                .and_then(|id| btf.size_of(id).ok())
                        }),
                        other => Some(other.storage_size() as u64),
                    },
                };
                if let Some(size) = size {
                    self.typed.constants.insert(expr.id.0, size);
                }
                Type::U64
            }
            ExprKind::Offsetof { ty, fields } => {
                let offset = match (
                    self.type_name(&ast::TypeName {
                        pointer_depth: 1,
                        ..ty.clone()
                    }),
                    self.kernel.btf(),
                ) {
                    (Some(Type::Ptr { pointee, .. }), Some(btf)) => {
                        let mut record = match *pointee {
                            Type::Record(name) => Some(name),
                            _ => None,
                        };
                        let mut total = 0u64;
                        for field in fields {
                            let Some(name) = record.take() else { break };
                            match crate::kernel_types::member(btf, &name, field) {
                                Ok((offset, ty)) => {
                                    total += offset as u64;
                                    if let Type::Record(inner) = ty {
                                        record = Some(inner);
                                    }
                                }
                                Err(message) => {
                                    self.error(expr.span, message);
                                    return Type::None;
                                }
                            }
                        }
                        Some(total)
                    }
                    _ => None,
                };
                if let Some(offset) = offset {
                    self.typed.constants.insert(expr.id.0, offset);
                    return Type::U64;
                }
                self.error(
                    expr.span,
                    "offsetof() needs a struct or union known to the kernel's BTF",
                );
                Type::None
            }
        }
    }

    /// The value of a named constant: the script's `#define NAME value`, an enumerator of the
    /// kernel's BTF, or a well-known C macro.
    fn named_constant(&self, name: &str) -> Option<i64> {
        if let Some(value) = self.defines.get(name) {
            return Some(*value);
        }
        if let Some(value) = self.kernel.btf().and_then(|btf| btf.enum_value(name)) {
            return Some(value.as_i64());
        }
        builtins::c_macro(name)
    }

    fn identifier(&mut self, name: &str, span: Span) -> Type {
        let Some(ty) = builtins::variable(name) else {
            self.error(span, format!("Unknown identifier: '{name}'"));
            return Type::None;
        };
        let info = &self.probes[self.probe];
        match name {
            "args" if !info.has_tracepoints() && !info.has_raw_tracepoints() => {
                self.error(
                    span,
                    "The args builtin can only be used with tracepoint probes here",
                );
                Type::None
            }
            "retval" if info.has_retval() => ty,
            "func" if info.has_func() => ty,
            "retval" | "func" => {
                self.error(
                    span,
                    format!("The {name} builtin can not be used with these probes"),
                );
                Type::None
            }
            n if n.starts_with("arg") && n != "args" && !info.has_raw_args() => {
                self.error(
                    span,
                    format!("The {n} builtin can only be used with rawtracepoint, uprobe, kprobe and usdt probes"),
                );
                Type::None
            }
            // curtask is a `struct task_struct *` where the kernel has BTF, as in current bpftrace.
            "curtask" => match self.kernel.btf() {
                Some(btf)
                    if crate::kernel_types::record_id(btf, "struct task_struct").is_some() =>
                {
                    Type::Ptr {
                        pointee: Box::new(Type::Record("struct task_struct".into())),
                        user: false,
                    }
                }
                _ => ty,
            },
            _ => ty,
        }
    }

    /// `args.prev` in a raw tracepoint probe: the argument's BTF type, from the tracepoint's
    /// `btf_trace_<name>` prototype (as current bpftrace does for rawtracepoint args).
    fn raw_args_field(&mut self, expr: &Expr, field: &str, span: Span) -> Type {
        // Raw tracepoints and fentry/fexit functions: (name, is a function).
        let names: Vec<(String, bool)> = self.probes[self.probe]
            .targets
            .iter()
            .filter_map(|t| match t {
                Target::RawTracepoint { name } => Some((name.clone(), false)),
                Target::Fentry { function, .. } => Some((function.clone(), true)),
                _ => None,
            })
            .collect();
        let Some(btf) = self.kernel.btf() else {
            self.error(
                span,
                "rawtracepoint args need the kernel's BTF, and this kernel has none",
            );
            return Type::None;
        };
        let mut result: Option<(u32, Type)> = None;
        for (name, function) in &names {
            let params = if *function {
                btf.func_proto(name).map(|s| s.map(|s| s.params))
            } else {
                btf.raw_tracepoint_args(name)
            };
            let params = match params {
                Ok(Some(params)) => params,
                _ => {
                    self.error(
                        span,
                        format!("No BTF signature for raw tracepoint {name}: use arg0, arg1, ..."),
                    );
                    return Type::None;
                }
            };
            let Some((index, param)) = params.iter().enumerate().find(|(_, p)| p.name == field)
            else {
                let known: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                let message = format!(
                    "rawtracepoint:{name} has no argument named '{field}' (its arguments: {})",
                    known.join(", ")
                );
                self.error(span, message);
                return Type::None;
            };
            let ty = crate::kernel_types::from_btf(btf, param.ty).unwrap_or(Type::U64);
            match &result {
                Some((i, t)) if *i != index as u32 || *t != ty => {
                    self.error(
                        span,
                        format!(
                            "Argument '{field}' differs between the raw tracepoints of this probe"
                        ),
                    );
                    return Type::None;
                }
                _ => result = Some((index as u32, ty)),
            }
        }
        let Some((index, ty)) = result else {
            return Type::None;
        };
        if self.typed.raw_args.insert(expr.id.0, index).is_none() {
            self.changed = true;
        }
        ty
    }

    /// `ptr->field` or `record.field` on a kernel struct, through BTF.
    fn record_field(&mut self, expr: &Expr, record: &str, field: &str, span: Span) -> Type {
        // Structs the script defines come first (they describe user memory).
        if let Some(script) = self.script_records.get(record) {
            let Some((_, offset, ty)) = script
                .fields
                .iter()
                .find(|(name, _, _)| name == field)
                .cloned()
            else {
                self.error(
                    span,
                    format!(
                        "Struct/union of type '{record}' does not contain a field named '{field}'"
                    ),
                );
                return Type::None;
            };
            if ty == Type::None {
                self.error(
                    span,
                    format!("Field '{field}' of {record} has a type scry cannot read yet"),
                );
                return Type::None;
            }
            if self
                .typed
                .member_offsets
                .insert(expr.id.0, offset)
                .is_none()
            {
                self.changed = true;
            }
            return ty;
        }
        let Some(btf) = self.kernel.btf() else {
            self.error(span, "Kernel structs need BTF, and this kernel has none");
            return Type::None;
        };
        match crate::kernel_types::member(btf, record, field) {
            Ok((offset, ty)) => {
                let inline = crate::kernel_types::record_id(btf, record)
                    .and_then(|id| btf.member(id, field).ok().flatten())
                    .is_some_and(|m| {
                        crate::kernel_types::inline_array(btf, m.ty).is_some()
                            || crate::kernel_types::record_array(btf, m.ty).is_some()
                    });
                if inline && self.typed.inline_arrays.insert(expr.id.0) {
                    self.changed = true;
                }
                if self
                    .typed
                    .member_offsets
                    .insert(expr.id.0, offset)
                    .is_none()
                {
                    self.changed = true;
                }
                ty
            }
            Err(message) => {
                self.error(span, message);
                Type::None
            }
        }
    }

    fn args_field(&mut self, expr: &Expr, field: &str, span: Span) -> Type {
        if !self.probes[self.probe].has_tracepoints() {
            return self.raw_args_field(expr, field, span);
        }
        let formats: Vec<_> = self.probes[self.probe]
            .targets
            .iter()
            .filter_map(|t| match t {
                Target::Tracepoint(f) => Some(f),
                _ => None,
            })
            .collect();
        let mut found = Vec::with_capacity(formats.len());
        for format in &formats {
            match format.fields.iter().find(|f| f.name == field) {
                Some(f) => found.push(f.clone()),
                None => {
                    self.error(
                        span,
                        format!(
                            "Struct/union of type 'struct _tracepoint_{}_{}' does not contain a field named '{field}'",
                            format.category, format.name
                        ),
                    );
                    return Type::None;
                }
            }
        }
        let Some(first) = found.first().cloned() else {
            return Type::None;
        };
        let ty = field_type(&first, self.options.max_strlen);
        for other in &found[1..] {
            if field_type(other, self.options.max_strlen) != ty && ty.storage_size() != 8 {
                self.error(
                    span,
                    format!("Field '{field}' has different types in the tracepoints of this probe"),
                );
            }
        }
        if self.typed.args_fields.insert(expr.id.0, found).is_none() {
            self.changed = true;
        }
        ty
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], call: &Expr) -> Type {
        if builtins::AGGREGATIONS.contains(&name) {
            for arg in args {
                self.expr(arg);
            }
            self.error(
                call.span,
                format!("{name}() should be directly assigned to a map"),
            );
            return Type::None;
        }
        if builtins::arity(name).is_none() {
            for arg in args {
                self.expr(arg);
            }
            let message = match name {
                "path" | "macaddr" | "override" | "offsetof" | "skboutput" | "cgroupid"
                | "pton" | "strerror" => {
                    format!("{name}() is not supported by scry yet")
                }
                _ => format!("Unknown function: {name}"),
            };
            self.error(name_span, message);
            return Type::None;
        }
        if !self.check_arity(name, args.len(), call.span) {
            for arg in args {
                self.expr(arg);
            }
            return Type::None;
        }
        if builtins::is_unsafe(name) && !self.options.unsafe_ok {
            self.error(
                call.span,
                format!("{name}() is an unsafe function being used in safe mode"),
            );
        }
        // Whole-map arguments.
        if matches!(
            name,
            "print" | "clear" | "zero" | "len" | "has_key" | "delete"
        ) && let Some(first) = args.first()
            && let ExprKind::Map { name: map, keys } = &first.kind
        {
            let known = self.typed.map(map).is_some();
            if keys.is_empty() || name == "delete" && keys.is_empty() {
                if !known {
                    self.error(first.span, format!("Undefined map: {}", map_label(map)));
                }

                for key in keys {
                    self.expr(key);
                }
                self.set_type(first, Type::None);
                for arg in &args[1..] {
                    self.expr(arg);
                }
                return match name {
                    "len" | "has_key" => Type::U64,
                    _ => Type::None,
                };
            }
        }
        if name == "kstack" || name == "ustack" {
            let mut mode = 0;
            let mut limit = 0;
            for arg in args {
                match (&arg.kind, self.constant(arg)) {
                        (ExprKind::Ident(m), _) if ["bpftrace", "perf", "raw"].contains(&m.as_str()) => {
                            mode = ["bpftrace", "perf", "raw"].iter().position(|x| x == m).unwrap_or(0) as u8;
                        }
                        (_, Some(n)) if (0..=127).contains(&n) => limit = n as u8,
                        _ => self.error(arg.span, format!("{name}(): expected a mode (bpftrace, perf, raw) or a frame limit from 0 to 127")),
                    }
            }
            return Type::Stack {
                user: name == "ustack",
                mode,
                limit,
            };
        }
        let types: Vec<Type> = args.iter().map(|a| self.expr(a)).collect();
        match name {
            "printf" | "system" | "cat" => {
                self.check_format(name, args, &types, call.span);
                Type::None
            }
            "print" => {
                if args.len() > 1 {
                    self.error(
                        call.span,
                        "print() with top and div arguments needs a map as its first argument",
                    );
                }
                if let Type::Record(record) = &types[0] {
                    match self.record_layout(record) {
                        Ok(layout) => {
                            self.typed.record_layouts.insert(args[0].id.0, layout);
                        }
                        Err(message) => self.error(args[0].span, message),
                    }
                }
                Type::None
            }
            "exit" => {
                if let Some(arg) = args.first() {
                    self.integer_operand(arg, &types[0], "exit()");
                }
                Type::None
            }
            "clear" | "zero" | "len" => {
                self.error(args[0].span, format!("{name}() expects a map argument"));
                Type::None
            }
            "delete" => {
                if !matches!(args[0].kind, ExprKind::Map { .. }) {
                    self.error(
                        args[0].span,
                        "delete() expects a map element argument, such as @m[key]",
                    );
                }
                Type::None
            }
            "has_key" => {
                self.error(
                    args[0].span,
                    "has_key() expects a map as its first argument",
                );
                Type::U64
            }
            "str" => {
                let size = match args.get(1) {
                    None => self.options.max_strlen,
                    Some(n) => match self.constant(n) {
                        Some(n) if n > 0 => (n as u32).min(self.options.max_strlen),
                        // str(p, 0): an empty string.
                        Some(_) => 1,
                        None => self.options.max_strlen,
                    },
                };
                match &types[0] {
                    Type::Ptr { .. } | Type::Int { .. } | Type::None => {}
                    Type::Str(n) => return Type::Str((*n).min(size)),
                    other => self.error(
                        args[0].span,
                        format!("str() expects a pointer or integer argument ({other} supplied)"),
                    ),
                }
                Type::Str(size)
            }
            "buf" => {
                let size = match args.get(1).map(|n| self.constant(n)) {
                    Some(Some(n)) if n > 0 => (n as u32).min(self.options.max_strlen),
                    Some(_) => {
                        self.error(
                            args[1].span,
                            "buf(): the length must be a positive integer literal in scry",
                        );
                        return Type::None;
                    }
                    None => match &types[0] {
                        Type::Str(n) => *n,
                        _ => {
                            self.error(call.span, "buf() needs a length for this argument");
                            return Type::None;
                        }
                    },
                };
                Type::Buf(size)
            }
            "ksym" => Type::Ksym,
            "cgroup_path" => {
                self.integer_operand(&args[0], &types[0], "cgroup_path()");
                Type::CgroupPath
            }
            // kptr()/uptr(): the same pointer, read from kernel or user memory from now on.
            "kptr" | "uptr" => match &types[0] {
                Type::Ptr { pointee, .. } => Type::Ptr {
                    pointee: pointee.clone(),
                    user: name == "uptr",
                },
                Type::Int { .. } | Type::None => Type::Ptr {
                    pointee: Box::new(Type::Int {
                        bytes: 1,
                        signed: true,
                    }),
                    user: name == "uptr",
                },
                other => {
                    self.error(
                        args[0].span,
                        format!("{name}() expects a pointer or an integer ({other} supplied)"),
                    );
                    Type::None
                }
            },
            "reg" => {
                let known = [
                    "ip", "sp", "bp", "ax", "bx", "cx", "dx", "si", "di", "r8", "r9", "r10", "r11",
                    "r12", "r13", "r14", "r15",
                ];
                match args[0].as_str() {
                    Some(r)
                        if known.contains(&r) && self.probes[self.probe].has_func()
                            || self.probes[self.probe]
                                .targets
                                .iter()
                                .any(|t| matches!(t, Target::Usdt(_))) => {}
                    Some(r) if !known.contains(&r) => {
                        self.error(args[0].span, format!("reg(): unknown register '{r}'"))
                    }
                    Some(_) => self.error(
                        call.span,
                        "reg() can only be used in uprobe, kprobe and usdt probes",
                    ),
                    None => self.error(args[0].span, "reg() expects a string literal"),
                }
                Type::U64
            }
            "uaddr" => {
                let Some(symbol) = args[0].as_str() else {
                    self.error(args[0].span, "uaddr() expects a string literal");
                    return Type::None;
                };
                let binary = self.probes[self.probe]
                    .targets
                    .iter()
                    .find_map(|t| match t {
                        Target::Uprobe { path, .. } => Some(path.clone()),
                        Target::Usdt(probe) => Some(probe.path.clone()),
                        _ => None,
                    });
                let Some(binary) = binary else {
                    self.error(
                        call.span,
                        "uaddr() can only be used in uprobe and usdt probes",
                    );
                    return Type::None;
                };
                match self.kernel.user_symbol_address(&binary, symbol) {
                    Ok((address, size)) => {
                        self.typed.constants.insert(call.id.0, address);
                        let bytes = if matches!(size, 1 | 2 | 4 | 8) {
                            size as u8
                        } else {
                            8
                        };
                        Type::Ptr {
                            pointee: Box::new(Type::Int {
                                bytes,
                                signed: false,
                            }),
                            user: true,
                        }
                    }
                    Err(message) => {
                        self.error(args[0].span, format!("uaddr: {message}"));
                        Type::None
                    }
                }
            }
            "kaddr" => {
                let Some(symbol) = args[0].as_str() else {
                    self.error(args[0].span, "kaddr() expects a string literal");
                    return Type::None;
                };
                match self.kernel.kernel_address(symbol) {
                    Some(address) => {
                        self.typed.constants.insert(call.id.0, address);
                    }
                    None => self.error(
                        args[0].span,
                        format!("kaddr: unknown kernel symbol '{symbol}'"),
                    ),
                }
                Type::U64
            }
            "usym" => Type::Usym,
            "ntop" => Type::Inet,
            "time" => {
                if let Some(arg) = args.first()
                    && arg.as_str().is_none()
                {
                    self.error(arg.span, "time() expects a string literal format");
                }
                Type::None
            }
            "strftime" => {
                if args[0].as_str().is_none() {
                    self.error(args[0].span, "strftime() expects a string literal format");
                }
                self.integer_operand(&args[1], &types[1], "strftime()");
                Type::Timestamp
            }
            "signal" => {
                // signal("SIGUSR1") or signal("KILL"): a name, resolved here.
                if let Some(name) = args[0].as_str() {
                    let short = name.strip_prefix("SIG").unwrap_or(name);
                    let number = [
                        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
                        "SEGV", "USR2", "PIPE", "ALRM", "TERM",
                    ]
                    .iter()
                    .position(|s| *s == short)
                    .map(|i| i as u64 + 1)
                    .or(match short {
                        "CHLD" => Some(17),
                        "CONT" => Some(18),
                        "STOP" => Some(19),
                        "TSTP" => Some(20),
                        _ => None,
                    });
                    match number {
                        Some(number) => {
                            self.typed.constants.insert(args[0].id.0, number);
                        }
                        None => {
                            self.error(args[0].span, format!("signal(): unknown signal {name}"))
                        }
                    }
                } else {
                    self.integer_operand(&args[0], &types[0], "signal()");
                }
                Type::None
            }
            "strncmp" => {
                for (arg, ty) in args[..2].iter().zip(&types) {
                    if !matches!(ty, Type::Str(_)) {
                        self.error(
                            arg.span,
                            format!("strncmp() expects string arguments ({ty} supplied)"),
                        );
                    }
                }
                Type::U64
            }
            "strcontains" => {
                if !matches!(types[0], Type::Str(_)) {
                    self.error(
                        args[0].span,
                        format!(
                            "strcontains() expects string arguments ({} supplied)",
                            types[0]
                        ),
                    );
                }
                if !matches!(args[1].kind, ExprKind::Str(_)) {
                    self.error(
                        args[1].span,
                        "strcontains() needs a string literal as the text to look for",
                    );
                }
                Type::U64
            }
            // A byte swap is printed unsigned, of the operand's width.
            "bswap" => match &types[0] {
                Type::Int { bytes, .. } => Type::Int {
                    bytes: *bytes,
                    signed: false,
                },
                other => other.clone(),
            },
            "join" => {
                if !matches!(types[0], Type::Ptr { .. } | Type::Int { .. } | Type::None) {
                    let message =
                        format!("join() expects an array of strings ({} supplied)", types[0]);
                    self.error(args[0].span, message);
                }
                if let Some(delim) = args.get(1)
                    && delim.as_str().is_none()
                {
                    self.error(delim.span, "join() delimiter must be a string literal");
                }
                Type::None
            }
            _ => Type::None,
        }
    }

    fn check_format(&mut self, name: &str, args: &[Expr], types: &[Type], call_span: Span) {
        let Some(fmt) = args[0].as_str() else {
            self.error(
                args[0].span,
                format!("{name}() requires a string literal as its first argument"),
            );
            return;
        };
        let format = match scry_output::parse_format(fmt) {
            Ok(f) => f,
            Err(err) => {
                self.error(args[0].span, format!("{name}: {err}"));
                return;
            }
        };
        let supplied = args.len() - 1;
        let expected = format.arg_count();
        if supplied < expected {
            self.error(args[0].span, format!("{name}: Not enough arguments for format string ({supplied} supplied, {expected} expected)"));
            return;
        }
        if supplied > expected {
            self.error(args[0].span, format!("{name}: Too many arguments for format string ({supplied} supplied, {expected} expected)"));
            return;
        }
        for ((spec, arg), ty) in format.specs().zip(&args[1..]).zip(&types[1..]) {
            if *ty == Type::None {
                continue;
            }
            let class = spec.conversion.arg_class();
            let ok = match class {
                scry_output::ArgClass::Integer => {
                    ty.is_integer()
                        || matches!(ty, Type::Probe | Type::Username | Type::Ksym | Type::Usym)
                }
                scry_output::ArgClass::Buffer => matches!(ty, Type::Buf(_) | Type::Str(_)),
                scry_output::ArgClass::Any => true,
            };
            if !is_storable(ty) {
                self.error(arg.span, format!("{name}: {ty} cannot be printed"));
            } else if !ok {
                let wanted = match class {
                    scry_output::ArgClass::Integer => "integer",
                    scry_output::ArgClass::Buffer => "buffer",
                    scry_output::ArgClass::Any => "any",
                };
                let supplied = match ty {
                    Type::Str(_) => "string".to_string(),
                    other => other.to_string(),
                };
                let _ = arg;
                self.error(call_span, format!("{name}: %{} specifier expects a value of type {wanted} ({supplied} supplied)", spec.conversion.as_str()));
            }
        }
    }
}

/// True for types that can be stored in maps, records and variables.
pub fn is_storable(ty: &Type) -> bool {
    !matches!(ty, Type::None | Type::Args | Type::Record(_))
}

/// C integer type names users write in casts.
fn c_integer(name: &str) -> Option<Type> {
    let (bytes, signed) = match name {
        "char" | "signed char" | "__s8" | "s8" => (1, true),
        "unsigned char" | "__u8" | "u8" => (1, false),
        "short" | "__s16" | "s16" => (2, true),
        "unsigned short" | "__u16" | "u16" => (2, false),
        "int" | "__s32" | "s32" | "pid_t" => (4, true),
        "unsigned int" | "unsigned" | "__u32" | "u32" | "uid_t" | "gid_t" => (4, false),
        "long" | "long long" | "__s64" | "s64" | "ssize_t" | "loff_t" => (8, true),
        "unsigned long" | "unsigned long long" | "__u64" | "u64" | "size_t" | "uintptr_t" => {
            (8, false)
        }
        _ => return None,
    };
    Some(Type::Int { bytes, signed })
}

/// The type of a tracepoint field.
pub fn field_type(field: &Field, max_strlen: u32) -> Type {
    match &field.kind {
        FieldKind::Int { signed } => Type::Int {
            bytes: field.size.clamp(1, 8).next_power_of_two() as u8,
            signed: *signed,
        },
        FieldKind::Pointer { char: true, user } => Type::Ptr {
            pointee: Box::new(Type::Int {
                bytes: 1,
                signed: true,
            }),
            user: *user,
        },
        FieldKind::Pointer { char: false, user } => Type::Ptr {
            pointee: Box::new(Type::U64),
            user: *user,
        },
        FieldKind::CharArray => Type::Str(field.size),
        FieldKind::DataLocString => Type::Str(max_strlen),
        FieldKind::IntArray { .. } => Type::None,
        FieldKind::Other => {
            if matches!(field.size, 1 | 2 | 4 | 8) {
                Type::Int {
                    bytes: field.size as u8,
                    signed: false,
                }
            } else {
                Type::None
            }
        }
    }
}

/// Runs the pass.
pub fn run(
    program: &ast::Program,
    probes: &[ProbeInfo],
    kernel: &dyn KernelInfo,
    options: &Options,
    diagnostics: &mut Diagnostics,
) -> Typed {
    let defines = program
        .directives
        .iter()
        .filter_map(|d| match &d.kind {
            ast::DirectiveKind::Define { name, value } => {
                let value = value.trim();
                let parsed = match value.strip_prefix("0x") {
                    Some(hex) => i64::from_str_radix(hex, 16).ok(),
                    None => value.parse().ok(),
                };
                parsed.map(|v| (name.clone(), v))
            }
            _ => None,
        })
        .chain(
            program
                .c_definitions
                .iter()
                .filter(|d| d.kind == ast::CDefKind::Enum)
                .flat_map(|d| {
                    // C enumerators: an explicit value or one more than the previous.
                    let mut next = 0i64;
                    d.enumerators
                        .iter()
                        .map(|(name, value)| {
                            let value = value
                                .as_deref()
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(next);
                            next = value + 1;
                            (name.clone(), value)
                        })
                        .collect::<Vec<_>>()
                }),
        )
        .collect();
    let (script_records, layout_errors) = crate::script_types::layout(&program.c_definitions);
    for message in layout_errors {
        diagnostics.push(Diagnostic::error_global(message));
    }
    let mut checker = Checker {
        probes,
        script_records,
        defines,
        kernel,
        options,
        typed: Typed {
            exprs: vec![Type::None; program.expr_count as usize],
            maps: Vec::new(),
            vars: vec![HashMap::new(); program.probes.len()],
            args_fields: HashMap::new(),
            member_offsets: HashMap::new(),
            constants: HashMap::new(),
            inline_arrays: Default::default(),
            strides: Default::default(),
            raw_args: HashMap::new(),
            record_layouts: HashMap::new(),
        },
        map_keys_known: HashMap::new(),
        report: false,
        changed: true,
        diagnostics: Vec::new(),
        probe: 0,
        loops: 0,
    };
    let mut rounds = 0;
    while checker.changed && rounds < 8 {
        checker.changed = false;
        walk(&mut checker, program);
        rounds += 1;
    }
    checker.report = true;
    walk(&mut checker, program);
    for diagnostic in checker.diagnostics {
        diagnostics.push(diagnostic);
    }
    checker.typed
}

fn walk(checker: &mut Checker<'_>, program: &ast::Program) {
    for (index, probe) in program.probes.iter().enumerate() {
        checker.probe = index;
        if let Some(predicate) = &probe.predicate {
            checker.condition(predicate);
        }
        checker.block(&probe.body);
    }
}
