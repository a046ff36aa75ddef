//! Map dumps: the data model the runtime fills from BPF maps, bpftrace's entry ordering,
//! `print(@m, top, div)` semantics, and the text and JSON renderings of a whole map.

use std::cmp::Ordering;

use crate::hist;
use crate::value::{Value, json_string, key_json, key_text};

/// A snapshot of one bpftrace map, already read and reduced across CPUs by the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDump {
    /// Map name including the `@` (`@` alone for the anonymous map).
    pub name: String,
    /// What kind of values the map holds.
    pub kind: MapKind,
    /// The entries, in any order (printing sorts them).
    pub entries: Vec<MapEntry>,
}

/// One map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// Key parts (`@m[k1, k2]`); empty for a scalar map (`@m`).
    pub key: Vec<Value>,
    /// The value.
    pub value: AggValue,
}

/// The kind of a map, from the function that last assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// `count()`.
    Count,
    /// `sum()`.
    Sum,
    /// `min()`.
    Min,
    /// `max()`.
    Max,
    /// `avg()`.
    Avg,
    /// `stats()`.
    Stats,
    /// `hist()`.
    Hist,
    /// `lhist(v, min, max, step)`.
    Lhist {
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
        /// Bucket width.
        step: i64,
    },
    /// Plain (non-aggregate) values: integers, strings, tuples, stacks, ...
    Plain,
}

/// The value of one map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggValue {
    /// Signed `count`/`sum`/`min`/`max` result.
    Int(i64),
    /// Unsigned `count`/`sum`/`min`/`max` result.
    UInt(u64),
    /// `avg()` or `stats()` accumulator; the average is `total / count` (0 when empty).
    Avg {
        /// Sum of the values.
        total: i64,
        /// Number of values.
        count: u64,
    },
    /// `hist()` / `lhist()` counts by bucket index (see [`crate::hist_bucket`]).
    Hist(Vec<u64>),
    /// A plain (non-aggregate) value.
    Plain(Value),
}

/// The optional arguments of `print(@m, top, div)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrintOptions {
    /// Keep only the `top` largest entries (0 = all).
    pub top: usize,
    /// Divide values by `div` (0 or 1 = no division).
    pub div: u64,
}

impl AggValue {
    fn average(total: i64, count: u64) -> i64 {
        match i64::try_from(count) {
            Ok(0) => 0,
            Ok(count) => total.wrapping_div(count),
            Err(_) => (i128::from(total) / i128::from(count)) as i64,
        }
    }

    /// The number entries are sorted by, when there is one.
    fn sort_number(&self) -> Option<i128> {
        match self {
            AggValue::Int(v) => Some(i128::from(*v)),
            AggValue::UInt(v) => Some(i128::from(*v)),
            AggValue::Avg { total, count } => Some(i128::from(Self::average(*total, *count))),
            AggValue::Hist(counts) => Some(counts.iter().map(|&c| i128::from(c)).sum()),
            AggValue::Plain(value) => match value {
                Value::Int(v) => Some(i128::from(*v)),
                Value::UInt(v) => Some(i128::from(*v)),
                Value::Bool(b) => Some(i128::from(*b)),
                _ => None,
            },
        }
    }
}

/// Orders values the way bpftrace orders map keys: integers numerically, strings bytewise,
/// tuples field by field.
pub(crate) fn cmp_values(a: &Value, b: &Value) -> Ordering {
    let number = |v: &Value| match v {
        Value::Int(n) => Some(i128::from(*n)),
        Value::UInt(n) => Some(i128::from(*n)),
        Value::Bool(b) => Some(i128::from(*b)),
        _ => None,
    };
    match (a, b) {
        (Value::Tuple(x), Value::Tuple(y)) | (Value::Array(x), Value::Array(y)) => cmp_keys(x, y),
        (Value::Buf(x), Value::Buf(y)) => x.cmp(y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => a.to_text().cmp(&b.to_text()),
        },
    }
}

fn cmp_keys(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = cmp_values(x, y);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

impl MapDump {
    /// Whether the map has no entries (bpftrace skips such maps at exit).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the map is a scalar (`@m` rather than `@m[k]`).
    pub fn is_scalar(&self) -> bool {
        self.entries.first().is_some_and(|e| e.key.is_empty())
    }

    /// The entries in bpftrace's print order: ascending by value (count, sum, min, max,
    /// integer values), by average (avg, stats), by total count (hist, lhist), otherwise by
    /// key. Ties are ordered by key.
    pub fn sorted(&self) -> Vec<&MapEntry> {
        let mut entries: Vec<&MapEntry> = self.entries.iter().collect();
        entries.sort_by(|a, b| cmp_keys(&a.key, &b.key));
        let by_value = entries.iter().all(|e| e.value.sort_number().is_some());
        if by_value {
            entries.sort_by_key(|e| e.value.sort_number());
        }
        entries
    }

    /// The sorted entries limited to the `top` largest.
    fn selected(&self, opts: PrintOptions) -> Vec<&MapEntry> {
        let mut entries = self.sorted();
        if opts.top > 0 && entries.len() > opts.top {
            entries.drain(..entries.len() - opts.top);
        }
        entries
    }

    /// Text rendering, exactly as bpftrace prints `print(@m, top, div)` and the maps at exit.
    pub fn to_text(&self, opts: PrintOptions) -> String {
        let div = opts.div.max(1);
        let entries = self.selected(opts);
        let mut parts = Vec::with_capacity(entries.len());
        let mut delim = "\n";
        for entry in &entries {
            let head = if entry.key.is_empty() {
                self.name.clone()
            } else {
                format!("{}[{}]", self.name, key_text(&entry.key))
            };
            if matches!(entry.value, AggValue::Plain(Value::Stack(_))) {
                // Stacks end with a newline; bpftrace joins them without one.
                delim = "";
            }
            parts.push(format!("{head}: {}", self.value_text(&entry.value, div)));
        }
        let mut out = parts.join(delim);
        out.push('\n');
        if matches!(self.kind, MapKind::Avg | MapKind::Stats) {
            out.push('\n');
        }
        out
    }

    fn value_text(&self, value: &AggValue, div: u64) -> String {
        match value {
            AggValue::Int(v) => divide_signed(*v, div).to_string(),
            AggValue::UInt(v) => (v / div).to_string(),
            AggValue::Avg { total, count } => {
                let average = AggValue::average(*total, *count);
                if self.kind == MapKind::Stats {
                    format!("count {count}, average {average}, total {total}")
                } else {
                    divide_signed(average, div).to_string()
                }
            }
            // Histograms start on the line after `@m[k]: ` and end with their own newline,
            // so entries end up separated by an empty line.
            AggValue::Hist(counts) => match self.kind {
                MapKind::Lhist { min, max, step } => {
                    format!("\n{}", hist::lhist_text(counts, min, max, step))
                }
                _ => format!("\n{}", hist::hist_text(counts, div)),
            },
            AggValue::Plain(Value::Int(v)) => divide_signed(*v, div).to_string(),
            AggValue::Plain(Value::UInt(v)) => (v / div).to_string(),
            AggValue::Plain(v) => v.to_text(),
        }
    }

    /// The JSON message type of this map (`map`, `hist` or `stats`).
    pub fn json_type(&self) -> &'static str {
        match self.kind {
            MapKind::Hist | MapKind::Lhist { .. } => "hist",
            MapKind::Avg | MapKind::Stats => "stats",
            _ => "map",
        }
    }

    /// JSON rendering (one NDJSON line including the newline), or `None` for an empty map.
    pub fn to_json(&self, opts: PrintOptions) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let div = opts.div.max(1);
        let mut out = format!("{{\"type\": \"{}\", \"data\": {{", self.json_type());
        json_string(&self.name, &mut out);
        out.push_str(": ");
        let entries = self.selected(opts);
        if self.is_scalar() {
            if let Some(entry) = entries.first() {
                out.push_str(&self.value_json(&entry.value, div));
            }
        } else {
            out.push('{');
            for (idx, entry) in entries.iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                key_json(&entry.key, &mut out);
                out.push_str(": ");
                out.push_str(&self.value_json(&entry.value, div));
            }
            out.push('}');
        }
        out.push_str("}}\n");
        Some(out)
    }

    fn value_json(&self, value: &AggValue, div: u64) -> String {
        match value {
            AggValue::Avg { total, count } if self.kind == MapKind::Stats => {
                let average = AggValue::average(*total, *count);
                format!("{{\"count\": {count}, \"average\": {average}, \"total\": {total}}}")
            }
            AggValue::Hist(counts) => match self.kind {
                MapKind::Lhist { min, max, step } => hist::lhist_json(counts, min, max, step),
                _ => hist::hist_json(counts, div),
            },
            AggValue::Plain(v) if !v.is_integer() => v.to_json(),
            other => self.value_text(other, div),
        }
    }
}

fn divide_signed(value: i64, div: u64) -> i64 {
    match i64::try_from(div) {
        Ok(div) => value.wrapping_div(div),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests;
