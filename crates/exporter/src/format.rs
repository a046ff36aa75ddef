//! The Prometheus text exposition format (0.0.4) of scry's maps.
//!
//! One metric family per map, named `scry_` + the map's name (`@syscalls` → `scry_syscalls`,
//! the anonymous map `@` → `scry_map`), with the map's keys as labels (see [`crate::labels`]):
//!
//! | map | family |
//! |---|---|
//! | `count()`, `sum()` | counter `scry_NAME_total` |
//! | `min()`, `max()`, integer values (`@x = 5`) | gauge `scry_NAME` |
//! | `avg()` | gauge `scry_NAME` (the exact average, `total / count` as a float) |
//! | `stats()` | summary without quantiles: `scry_NAME_sum`, `scry_NAME_count` |
//! | `hist()`, `lhist()` | histogram: cumulative `scry_NAME_bucket{le=...}`, `scry_NAME_count` |
//!
//! Histogram bounds are exact for the integers the kernel counts: `hist()`'s bucket
//! `[2, 4)` is `le="3"`, `[0]` is `le="0"`, negative values `le="-1"`; `lhist(v, 0, 100, 10)`'s
//! `[10, 20)` is `le="19"` and its overflow bucket only counts in `le="+Inf"`. Buckets are
//! written from the first to the last one that is non-empty in any entry of the map (earlier
//! ones are zero, later ones equal `+Inf`). BPF histograms keep no sum, so there is no `_sum`.
//! Maps of strings, stacks or other non-numeric values are not exported (a warning says so).
//!
//! Cardinality: at most `max_series` map entries are written per scrape over all maps; a map
//! that does not fit keeps its largest entries, and a warning is returned the first time
//! each map is cut. `scry_exporter_series` and `scry_exporter_dropped_series` report it.

use std::collections::HashSet;
use std::fmt::Write;

use scry_output::{AggValue, MapDump, MapEntry, MapKind, Value};

use crate::labels::{LabelNames, sanitize};

/// The text of one scrape and what it left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The exposition text.
    pub text: String,
    /// Map entries written.
    pub series: usize,
    /// Map entries left out by the cardinality limit.
    pub dropped: usize,
    /// Warnings to show once (a map cut by the limit, a map that cannot be exported).
    pub warnings: Vec<String>,
}

/// Renders maps, remembering which warnings were already given.
#[derive(Debug)]
pub struct Exporter {
    labels: LabelNames,
    max_series: usize,
    warned: HashSet<String>,
}

impl Exporter {
    /// An exporter naming keys with `labels` and writing at most `max_series` map entries.
    pub fn new(labels: LabelNames, max_series: usize) -> Exporter {
        Exporter {
            labels,
            max_series,
            warned: HashSet::new(),
        }
    }

    /// The exposition of `dumps`.
    pub fn render(&mut self, dumps: &[MapDump]) -> Rendered {
        let mut out = Rendered::default();
        for dump in dumps {
            let budget = self.max_series.saturating_sub(out.series);
            let mut entries = dump.sorted();
            if entries.len() > budget {
                out.dropped += entries.len() - budget;
                // sorted() is ascending by value: keep the largest.
                entries.drain(..entries.len() - budget);
                if self.warned.insert(format!("limit{}", dump.name)) {
                    out.warnings.push(format!(
                        "WARNING: map {} has more entries than the series limit ({}); \
                         exporting its largest {}",
                        dump.name,
                        self.max_series,
                        entries.len()
                    ));
                }
            }
            let names = self
                .labels
                .get(&dump.name)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let written = family(&mut out.text, dump, &entries, names);
            if !written && self.warned.insert(format!("type{}", dump.name)) {
                out.warnings.push(format!(
                    "WARNING: map {} holds non-numeric values; it is not exported",
                    dump.name
                ));
            }
            out.series += entries.len();
        }
        let _ = write!(
            out.text,
            "# HELP scry_exporter_series Map entries exported in this scrape.\n\
             # TYPE scry_exporter_series gauge\n\
             scry_exporter_series {}\n\
             # HELP scry_exporter_dropped_series Map entries left out by the series limit.\n\
             # TYPE scry_exporter_dropped_series gauge\n\
             scry_exporter_dropped_series {}\n",
            out.series, out.dropped
        );
        out
    }
}

/// The metric family name of map `@name`.
pub fn metric_name(map: &str) -> String {
    let bare = map.strip_prefix('@').unwrap_or(map);
    if bare.is_empty() {
        "scry_map".to_string()
    } else {
        format!("scry_{}", sanitize(bare).trim_start_matches('_'))
    }
}

fn kind_name(kind: &MapKind) -> &'static str {
    match kind {
        MapKind::Count => "count()",
        MapKind::Sum => "sum()",
        MapKind::Min => "min()",
        MapKind::Max => "max()",
        MapKind::Avg => "avg()",
        MapKind::Stats => "stats()",
        MapKind::Hist => "hist()",
        MapKind::Lhist { .. } => "lhist()",
        MapKind::Plain => "values",
    }
}

/// Writes one map's family; false when its values cannot be exported.
fn family(out: &mut String, dump: &MapDump, entries: &[&MapEntry], names: &[String]) -> bool {
    let base = metric_name(&dump.name);
    let (name, ty) = match dump.kind {
        MapKind::Count | MapKind::Sum => (format!("{base}_total"), "counter"),
        MapKind::Stats => (base.clone(), "summary"),
        MapKind::Hist | MapKind::Lhist { .. } => (base.clone(), "histogram"),
        _ => (base.clone(), "gauge"),
    };
    if dump.kind == MapKind::Plain
        && entries
            .iter()
            .any(|e| !matches!(e.value, AggValue::Plain(ref v) if number(v).is_some()))
    {
        return false;
    }
    let by = if names.is_empty() && entries.first().is_some_and(|e| !e.key.is_empty()) {
        String::from(" by key0")
    } else if names.is_empty() {
        String::new()
    } else {
        format!(" by {}", names.join(", "))
    };
    let _ = writeln!(
        out,
        "# HELP {name} scry map {} ({}){by}.",
        dump.name,
        kind_name(&dump.kind)
    );
    let _ = writeln!(out, "# TYPE {name} {ty}");
    match dump.kind {
        MapKind::Hist | MapKind::Lhist { .. } => histogram(out, &base, dump, entries, names),
        _ => {
            for entry in entries {
                let labels = labels(&entry.key, names, None);
                match &entry.value {
                    AggValue::Int(v) => {
                        let _ = writeln!(out, "{name}{labels} {v}");
                    }
                    AggValue::UInt(v) => {
                        let _ = writeln!(out, "{name}{labels} {v}");
                    }
                    AggValue::Avg { total, count } if dump.kind == MapKind::Stats => {
                        let _ = writeln!(out, "{name}_sum{labels} {total}");
                        let _ = writeln!(out, "{name}_count{labels} {count}");
                    }
                    AggValue::Avg { total, count } => {
                        let avg = if *count == 0 {
                            0.0
                        } else {
                            *total as f64 / *count as f64
                        };
                        let _ = writeln!(out, "{name}{labels} {avg}");
                    }
                    AggValue::Plain(v) => {
                        if let Some(n) = number(v) {
                            let _ = writeln!(out, "{name}{labels} {n}");
                        }
                    }
                    AggValue::Hist(_) => {}
                }
            }
        }
    }
    true
}

fn number(v: &Value) -> Option<String> {
    match v {
        Value::Int(n) => Some(n.to_string()),
        Value::UInt(n) => Some(n.to_string()),
        Value::Bool(b) => Some(u8::from(*b).to_string()),
        _ => None,
    }
}

/// The inclusive upper bound of bucket `i`, or `None` for the bucket only `+Inf` covers.
fn upper_bound(kind: &MapKind, i: usize) -> Option<i128> {
    match *kind {
        MapKind::Lhist { min, max, step } => {
            let last = scry_output::lhist_buckets(min, max, step).checked_sub(1)?;
            (i < last).then(|| min as i128 + i as i128 * step as i128 - 1)
        }
        _ => match i {
            0 => Some(-1),
            1 => Some(0),
            2 => Some(1),
            3..=65 => Some((1i128 << (i - 1)) - 1),
            _ => None,
        },
    }
}

fn histogram(
    out: &mut String,
    base: &str,
    dump: &MapDump,
    entries: &[&MapEntry],
    names: &[String],
) {
    let buckets = |e: &MapEntry| match &e.value {
        AggValue::Hist(b) => b.clone(),
        _ => Vec::new(),
    };
    let used = |pick: fn(&[u64]) -> Option<usize>| {
        entries
            .iter()
            .filter_map(|e| match &e.value {
                AggValue::Hist(b) => pick(b),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let lo = used(|b| b.iter().position(|&c| c != 0)).into_iter().min();
    let hi = used(|b| b.iter().rposition(|&c| c != 0)).into_iter().max();
    for entry in entries {
        let counts = buckets(entry);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let mut cumulative: u64 = counts[..lo.min(counts.len())].iter().sum();
            for i in lo..=hi {
                let Some(bound) = upper_bound(&dump.kind, i) else {
                    break;
                };
                cumulative += counts.get(i).copied().unwrap_or(0);
                let labels = labels(&entry.key, names, Some(&bound.to_string()));
                let _ = writeln!(out, "{base}_bucket{labels} {cumulative}");
            }
        }
        let total: u64 = counts.iter().sum();
        let inf = labels(&entry.key, names, Some("+Inf"));
        let _ = writeln!(out, "{base}_bucket{inf} {total}");
        let plain = labels(&entry.key, names, None);
        let _ = writeln!(out, "{base}_count{plain} {total}");
    }
}

/// `{a="x",b="y",le="3"}`, or nothing for a scalar map without `le`.
fn labels(key: &[Value], names: &[String], le: Option<&str>) -> String {
    if key.is_empty() && le.is_none() {
        return String::new();
    }
    let mut s = String::from("{");
    for (i, part) in key.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match names.get(i) {
            Some(n) => s.push_str(n),
            None => {
                let _ = write!(s, "key{i}");
            }
        }
        s.push_str("=\"");
        escape(&mut s, &part.to_text());
        s.push('"');
    }
    if let Some(le) = le {
        if !key.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "le=\"{le}\"");
    }
    s.push('}');
    s
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
