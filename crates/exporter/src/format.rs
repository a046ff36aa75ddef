//! The OpenMetrics exposition of scry's maps, encoded by the `prometheus-client` crate.
//!
//! One metric family per map, named `scry_` + the map's name (`@syscalls` → `scry_syscalls`,
//! the anonymous map `@` → `scry_map`), with the map's keys as labels (see [`crate::labels`]):
//!
//! | map | family |
//! |---|---|
//! | `count()`, `sum()` | counter `scry_NAME` (samples `scry_NAME_total`) |
//! | `min()`, `max()`, integer values (`@x = 5`) | gauge `scry_NAME` |
//! | `avg()` | gauge `scry_NAME` (the exact average, `total / count` as a float) |
//! | `stats()` | histogram with only the `+Inf` bucket: `scry_NAME_sum`, `scry_NAME_count` |
//! | `hist()`, `lhist()` | histogram: cumulative `scry_NAME_bucket{le=...}`, `scry_NAME_count` |
//!
//! `prometheus-client` has no summary type, so `stats()` is a histogram with the single
//! `+Inf` bucket, which carries the same `_sum` and `_count` series a quantile-less summary
//! would. Histogram bounds are exact for the integers the kernel counts: `hist()`'s bucket
//! `[2, 4)` is `le="3.0"`, `[0]` is `le="0.0"`, negative values `le="-1.0"`;
//! `lhist(v, 0, 100, 10)`'s `[10, 20)` is `le="19.0"` and its overflow bucket only counts in
//! `le="+Inf"`. Buckets are written from the first to the last one that is non-empty in any
//! entry of the map (earlier ones are zero, later ones equal `+Inf`). BPF histograms keep no
//! sum of the values, so `hist()`/`lhist()` families have `_sum NaN` (unknown).
//! Maps of strings, stacks or other non-numeric values are not exported (a warning says so).
//!
//! Each refresh, [`Exporter::update`] picks the entries to export into a [`Snapshot`]; each
//! scrape encodes the latest snapshot through its [`Collector`] implementation
//! ([`Snapshot::encode`]), ending with `# EOF`.
//!
//! Cardinality: at most `max_series` map entries are kept per refresh over all maps; a map
//! that does not fit keeps its largest entries, and a warning is returned the first time
//! each map is cut. `scry_exporter_series` and `scry_exporter_dropped_series` report it.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use scry_output::{AggValue, MapDump, MapEntry, MapKind, Value};

use crate::labels::{LabelNames, sanitize};

/// The maps of one refresh, as exported: the entries kept under the series limit.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    families: Vec<Family>,
    series: usize,
    dropped: usize,
}

/// One map's entries with its label names.
#[derive(Clone, Debug)]
struct Family {
    map: String,
    kind: MapKind,
    labels: Vec<String>,
    entries: Vec<MapEntry>,
}

/// What one refresh produced: the snapshot to serve and warnings to show once.
#[derive(Clone, Debug, Default)]
pub struct Update {
    /// The entries to serve until the next refresh.
    pub snapshot: Snapshot,
    /// Warnings to show once (a map cut by the limit, a map that cannot be exported).
    pub warnings: Vec<String>,
}

impl Snapshot {
    /// Map entries exported.
    pub fn series(&self) -> usize {
        self.series
    }

    /// Map entries left out by the cardinality limit.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The OpenMetrics text of this snapshot, ending with `# EOF`.
    pub fn encode(self: &Arc<Self>) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::with_capacity(128 + self.series * 64);
        // Writing to a String cannot fail, and every value written is encodable.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        for family in &self.families {
            family.encode(&mut encoder)?;
        }
        let own = [
            (
                "scry_exporter_series",
                "Map entries exported in this scrape.",
                self.series,
            ),
            (
                "scry_exporter_dropped_series",
                "Map entries left out by the series limit.",
                self.dropped,
            ),
        ];
        for (name, help, value) in own {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&(value as u64))?;
        }
        Ok(())
    }
}

/// Picks the entries to export, remembering which warnings were already given.
#[derive(Debug)]
pub struct Exporter {
    labels: LabelNames,
    max_series: usize,
    warned: HashSet<String>,
}

impl Exporter {
    /// An exporter naming keys with `labels` and keeping at most `max_series` map entries.
    pub fn new(labels: LabelNames, max_series: usize) -> Exporter {
        Exporter {
            labels,
            max_series,
            warned: HashSet::new(),
        }
    }

    /// The snapshot of `dumps` to serve.
    pub fn update(&mut self, dumps: &[MapDump]) -> Update {
        let mut out = Update::default();
        let snap = &mut out.snapshot;
        for dump in dumps {
            let budget = self.max_series.saturating_sub(snap.series);
            let mut entries = dump.sorted();
            if entries.len() > budget {
                snap.dropped += entries.len() - budget;
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
            snap.series += entries.len();
            let exportable = dump.kind != MapKind::Plain
                || entries
                    .iter()
                    .all(|e| matches!(e.value, AggValue::Plain(ref v) if number(v).is_some()));
            if !exportable {
                if self.warned.insert(format!("type{}", dump.name)) {
                    out.warnings.push(format!(
                        "WARNING: map {} holds non-numeric values; it is not exported",
                        dump.name
                    ));
                }
                continue;
            }
            let mut labels = self.labels.get(&dump.name).cloned().unwrap_or_default();
            let width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
            labels.extend((labels.len()..width).map(|i| format!("key{i}")));
            snap.families.push(Family {
                map: dump.name.clone(),
                kind: dump.kind,
                labels,
                entries: entries.into_iter().cloned().collect(),
            });
        }
        out
    }
}

impl Family {
    /// Writes this map's descriptor and samples.
    fn encode(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        let ty = match self.kind {
            MapKind::Count | MapKind::Sum => MetricType::Counter,
            MapKind::Stats | MapKind::Hist | MapKind::Lhist { .. } => MetricType::Histogram,
            _ => MetricType::Gauge,
        };
        let by = if self.labels.is_empty() {
            String::new()
        } else {
            format!(" by {}", self.labels.join(", "))
        };
        let help = format!("scry map {} ({}){by}.", self.map, kind_name(&self.kind));
        let name = metric_name(&self.map);
        let mut metric = encoder.encode_descriptor(&name, &help, None, ty)?;
        let hist = matches!(self.kind, MapKind::Hist | MapKind::Lhist { .. });
        let bounds = if hist { self.bucket_range() } else { None };
        for entry in &self.entries {
            if entry.key.is_empty() {
                self.sample(&mut metric, entry, bounds)?;
            } else {
                let labels: Vec<(&str, String)> = self
                    .labels
                    .iter()
                    .map(String::as_str)
                    .zip(entry.key.iter().map(Value::to_text))
                    .collect();
                self.sample(&mut metric.encode_family(&labels)?, entry, bounds)?;
            }
        }
        Ok(())
    }

    /// Writes one entry's sample(s); `bounds` are the histogram buckets to write.
    fn sample(
        &self,
        metric: &mut MetricEncoder,
        entry: &MapEntry,
        bounds: Option<(usize, usize)>,
    ) -> fmt::Result {
        let counter = matches!(self.kind, MapKind::Count | MapKind::Sum);
        match &entry.value {
            AggValue::UInt(v) if counter => metric.encode_counter::<NoLabelSet, _, f64>(v, None),
            AggValue::Int(v) if counter => match u64::try_from(*v) {
                Ok(v) => metric.encode_counter::<NoLabelSet, _, f64>(&v, None),
                // sum() of negative values: the exact value, even if counters should not go down.
                Err(_) => metric.encode_counter::<NoLabelSet, _, f64>(&(*v as f64), None),
            },
            AggValue::UInt(v) => metric.encode_gauge(v),
            AggValue::Int(v) => metric.encode_gauge(v),
            AggValue::Plain(v) => match number(v) {
                Some(Number::Signed(n)) => metric.encode_gauge(&n),
                Some(Number::Unsigned(n)) => metric.encode_gauge(&n),
                None => Ok(()),
            },
            AggValue::Avg { total, count } if self.kind == MapKind::Stats => metric
                .encode_histogram::<NoLabelSet>(
                    *total as f64,
                    *count,
                    &[(f64::INFINITY, *count)],
                    None,
                ),
            AggValue::Avg { total, count } => {
                let avg = if *count == 0 {
                    0.0
                } else {
                    *total as f64 / *count as f64
                };
                metric.encode_gauge(&avg)
            }
            AggValue::Hist(counts) => {
                let buckets = self.buckets(counts, bounds);
                let total = counts.iter().sum();
                // BPF histograms keep no sum of the values: it is unknown.
                metric.encode_histogram::<NoLabelSet>(f64::NAN, total, &buckets, None)
            }
        }
    }

    /// The first and last bucket non-empty in any entry.
    fn bucket_range(&self) -> Option<(usize, usize)> {
        let mut range: Option<(usize, usize)> = None;
        for entry in &self.entries {
            if let AggValue::Hist(b) = &entry.value
                && let (Some(lo), Some(hi)) = (
                    b.iter().position(|&c| c != 0),
                    b.iter().rposition(|&c| c != 0),
                )
            {
                range = Some(range.map_or((lo, hi), |(l, h)| (l.min(lo), h.max(hi))));
            }
        }
        range
    }

    /// `(upper bound, count)` per bucket for the encoder (which accumulates them): the
    /// first written bucket also holds the empty ones below it, `+Inf` whatever is left.
    fn buckets(&self, counts: &[u64], bounds: Option<(usize, usize)>) -> Vec<(f64, u64)> {
        let mut out = Vec::new();
        let mut written: u64 = 0;
        if let Some((lo, hi)) = bounds {
            for i in lo..=hi {
                let Some(bound) = upper_bound(&self.kind, i) else {
                    break;
                };
                let mut n = counts.get(i).copied().unwrap_or(0);
                if i == lo {
                    n += counts[..lo.min(counts.len())].iter().sum::<u64>();
                }
                written += n;
                out.push((bound as f64, n));
            }
        }
        let total: u64 = counts.iter().sum();
        out.push((f64::INFINITY, total.saturating_sub(written)));
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

/// An integer value of a plain map.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Number {
    Signed(i64),
    Unsigned(u64),
}

fn number(v: &Value) -> Option<Number> {
    match v {
        Value::Int(n) => Some(Number::Signed(*n)),
        Value::UInt(n) => Some(Number::Unsigned(*n)),
        Value::Bool(b) => Some(Number::Unsigned(u64::from(*b))),
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

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
