//! cachestat: page-cache hits and misses per interval, with BCC's options and columns.
//!
//! BCC counts calls of kernel functions (mark_page_accessed, add_to_page_cache_lru, ...) with
//! kprobes. Without them this counts the page cache's tracepoints: the pages a read looks up
//! (`filemap:mm_filemap_get_pages`), page faults and fault-around on file mappings, pages
//! added to the cache, and folios and buffers dirtied.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{AggValue, MapDump, Value};
use scry_sema::KernelInfo;

use crate::script::{self, Common};
use crate::{Plan, ToolError};

/// Count cache kernel function calls: page-cache hits, misses and dirtied pages.
#[derive(Debug, Parser)]
#[command(
    name = "cachestat",
    after_help = "Examples:
  cachestat             # print a line every second
  cachestat -T          # include a timestamp
  cachestat 5           # print a line every 5 seconds
  cachestat 1 10        # print 1 second summaries, 10 times
  cachestat --json 1 5  # one JSON object per second, 5 times

Columns: HITS and MISSES are page-cache lookups that found or did not find their page,
DIRTIES pages dirtied, HITRATIO hits / (hits + misses); BUFFERS_MB and CACHED_MB are
Buffers and Cached of /proc/meminfo.

Hooks: tracepoints filemap:mm_filemap_get_pages (the pages a read() looks up),
filemap:mm_filemap_fault and filemap:mm_filemap_map_pages (faults on file mappings),
filemap:mm_filemap_add_to_page_cache (pages added: misses), writeback:writeback_dirty_folio
(dirtied) and block:block_dirty_buffer. As BCC: misses = added - dirtied (at least 0),
hits = accesses - misses; when that is negative, every access is a miss.

ACCURACY: BCC counts calls of page-cache kernel functions with kernel-function probes
(kprobes or fentry), which this kernel may not have; cachestat counts tracepoints instead:
- page accesses made by buffered writes are not counted (no tracepoint marks them), so a
  write-heavy load shows fewer hits than BCC would;
- a large folio dirtied counts as one page;
- readahead pages count as misses (BCC has the same bias), and a read's page range may be
  off by one page per call on other kernel versions.
The ratio is right in direction and size (a cold read is mostly misses, a warm re-read
nearly all hits); treat small counts as approximate. --strict refuses to run instead."
)]
struct Opts {
    /// Include a TIME column (HH:MM:SS).
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Output interval, in seconds.
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    /// Number of outputs.
    count: Option<u64>,
    /// Refuse to run when the page-cache kernel functions cannot be probed (instead of
    /// counting tracepoints).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: Common,
}

/// The counters of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Pages looked up in the page cache.
    pub accesses: u64,
    /// Pages added to the page cache.
    pub added: u64,
    /// Folios dirtied.
    pub dirtied: u64,
    /// Buffers dirtied (mark_buffer_dirty).
    pub buffers: u64,
}

/// One line of cachestat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub hits: u64,
    pub misses: u64,
    pub dirties: u64,
    /// Percent.
    pub ratio: f64,
}

impl Counts {
    /// BCC's arithmetic: misses are additions not caused by dirtying, hits the rest of the
    /// accesses; when there are more misses than accesses, all accesses are misses.
    pub fn row(&self) -> Row {
        let misses = self.added.saturating_sub(self.dirtied);
        let (hits, misses) = if misses > self.accesses {
            (0, self.accesses)
        } else {
            (self.accesses - misses, misses)
        };
        let ratio = if hits + misses == 0 {
            0.0
        } else {
            hits as f64 * 100.0 / (hits + misses) as f64
        };
        Row {
            hits,
            misses,
            dirties: self.dirtied,
            ratio,
        }
    }

    fn from_map(map: &MapDump) -> Counts {
        let mut counts = Counts::default();
        for entry in &map.entries {
            let value = match &entry.value {
                AggValue::Int(i) => (*i).max(0) as u64,
                AggValue::UInt(u) => *u,
                _ => 0,
            };
            let slot = match entry.key.first() {
                Some(Value::Str(name)) => match name.as_str() {
                    "accesses" => &mut counts.accesses,
                    "added" => &mut counts.added,
                    "dirtied" => &mut counts.dirtied,
                    "buffers" => &mut counts.buffers,
                    _ => continue,
                },
                _ => continue,
            };
            *slot += value;
        }
        counts
    }
}

/// Buffers and Cached of `/proc/meminfo`, in MiB.
fn meminfo_mb() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("Buffers"), field("Cached"))
}

/// The local time of day, `HH:MM:SS`.
fn now_hms() -> String {
    let zone = std::env::var("TZ")
        .ok()
        .map(|tz| format!("/usr/share/zoneinfo/{}", tz.trim_start_matches(':')))
        .and_then(|path| std::fs::read(path).ok())
        .or_else(|| std::fs::read("/etc/localtime").ok())
        .and_then(|bytes| scry_output::TimeZone::from_tzif(&bytes).ok())
        .unwrap_or_else(scry_output::TimeZone::utc);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let local = zone.local_time(now.as_secs() as i64, now.subsec_nanos());
    scry_output::strftime("%H:%M:%S", &local)
}

/// One line (or JSON object) for the counts.
fn render(counts: Counts, time: Option<&str>, meminfo: (f64, f64), json: bool) -> String {
    let row = counts.row();
    let (buffers, cached) = meminfo;
    if json {
        let mut object = serde_json::json!({
            "hits": row.hits,
            "misses": row.misses,
            "dirties": row.dirties,
            "hitratio": (row.ratio * 100.0).round() / 100.0,
            "buffers_mb": buffers.round(),
            "cached_mb": cached.round(),
            "accesses": counts.accesses,
            "added": counts.added,
            "buffers_dirtied": counts.buffers,
        });
        if let (Some(t), Some(map)) = (time, object.as_object_mut()) {
            map.insert("time".into(), serde_json::json!(t));
        }
        return format!("{object}\n");
    }
    let mut line = String::new();
    if let Some(t) = time {
        line.push_str(&format!("{t:<8} "));
    }
    line.push_str(&format!(
        "{:8} {:8} {:8} {:7.2}% {:12.0} {:10.0}\n",
        row.hits, row.misses, row.dirties, row.ratio, buffers, cached
    ));
    line
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("cachestat", args)?;
    let probes = script::kernel_function_probes(kernel);
    if o.strict {
        return Err(ToolError::Unsupported(format!(
            "{probes}: cannot count page-cache function calls (--strict); without --strict \
             cachestat counts page-cache tracepoints (see 'cachestat --help', ACCURACY)"
        )));
    }
    let has = |c: &str, e: &str| script::has_tracepoint(kernel, c, e);
    for event in ["mm_filemap_get_pages", "mm_filemap_add_to_page_cache"] {
        if !has("filemap", event) {
            return Err(ToolError::Unsupported(format!(
                "this kernel lacks the tracepoint filemap:{event}, which cachestat counts \
                 page-cache lookups and additions with (and it has no kernel-function probes)"
            )));
        }
    }
    let mut s = String::from(
        "// cachestat: page-cache lookups (accesses), additions, and dirtied folios and buffers,\n\
         // summed per interval; the map renderer turns them into hits and misses.\n\
         tracepoint:filemap:mm_filemap_get_pages\n{\n  \
         @c[\"accesses\"] = sum(args->last_index >= args->index ? args->last_index - args->index + 1 : 1);\n}\n\n",
    );
    if has("filemap", "mm_filemap_fault") {
        s.push_str("tracepoint:filemap:mm_filemap_fault\n{\n  @c[\"accesses\"] = sum(1);\n}\n\n");
    }
    if has("filemap", "mm_filemap_map_pages") {
        s.push_str(
            "tracepoint:filemap:mm_filemap_map_pages\n{\n  \
             @c[\"accesses\"] = sum(args->last_index >= args->index ? args->last_index - args->index + 1 : 1);\n}\n\n",
        );
    }
    s.push_str(
        "tracepoint:filemap:mm_filemap_add_to_page_cache\n{\n  \
         @c[\"added\"] = sum(1 << args->order);\n}\n\n",
    );
    if has("writeback", "writeback_dirty_folio") {
        s.push_str(
            "tracepoint:writeback:writeback_dirty_folio\n{\n  @c[\"dirtied\"] = sum(1);\n}\n\n",
        );
    } else if has("writeback", "writeback_dirty_page") {
        s.push_str(
            "tracepoint:writeback:writeback_dirty_page\n{\n  @c[\"dirtied\"] = sum(1);\n}\n\n",
        );
    }
    if has("block", "block_dirty_buffer") {
        s.push_str("tracepoint:block:block_dirty_buffer\n{\n  @c[\"buffers\"] = sum(1);\n}\n\n");
    }
    s.push_str(&script::report_every(
        Some(o.interval),
        o.count,
        false,
        "print(@c);\n  zero(@c);",
    ));
    s.push_str("\nEND { clear(@c); }\n");

    let mut header = String::new();
    if o.timestamp {
        header.push_str(&format!("{:<8} ", "TIME"));
    }
    header.push_str(&format!(
        "{:>8} {:>8} {:>8} {:>8} {:>12} {:>10}\n",
        "HITS", "MISSES", "DIRTIES", "HITRATIO", "BUFFERS_MB", "CACHED_MB"
    ));
    let timestamp = o.timestamp;
    let render = Box::new(move |dump: &MapDump, json: bool| {
        let time = timestamp.then(now_hms);
        render(Counts::from_map(dump), time.as_deref(), meminfo_mb(), json)
    });
    Ok(Plan::new(s, &o.common)
        .header(header)
        .maps(render)
        .footer("Detaching...\n")
        .note(format!(
            "{probes}; counting page-cache tracepoints (filemap, writeback) instead of \
             kernel functions — see 'cachestat --help' (ACCURACY)"
        )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::killsnoop::tests::{kernel_with, os_args};

    #[test]
    fn hits_and_misses_follow_bcc() {
        let warm = Counts {
            accesses: 1000,
            added: 10,
            dirtied: 4,
            buffers: 0,
        };
        let row = warm.row();
        assert_eq!((row.hits, row.misses, row.dirties), (994, 6, 4));
        assert!((row.ratio - 99.4).abs() < 1e-9);
        // More additions than accesses (readahead): every access is a miss.
        let cold = Counts {
            accesses: 100,
            added: 400,
            dirtied: 0,
            buffers: 0,
        };
        let row = cold.row();
        assert_eq!((row.hits, row.misses), (0, 100));
        assert_eq!(row.ratio, 0.0);
        // Dirtying adds pages without a miss.
        let writes = Counts {
            accesses: 0,
            added: 5,
            dirtied: 9,
            buffers: 2,
        };
        assert_eq!(writes.row().misses, 0);
        assert_eq!(Counts::default().row().ratio, 0.0);
    }

    #[test]
    fn lines_have_bcc_widths() {
        let counts = Counts {
            accesses: 30904,
            added: 13750,
            dirtied: 15,
            buffers: 0,
        };
        let line = render(counts, None, (277.2, 4422.4), false);
        assert_eq!(
            line,
            "   17169    13735       15   55.56%          277       4422\n"
        );
        let line = render(counts, Some("12:00:01"), (1.0, 2.0), false);
        assert!(line.starts_with("12:00:01    17169 "), "{line}");
        let json: serde_json::Value =
            serde_json::from_str(&render(counts, None, (1.0, 2.0), true)).unwrap();
        assert_eq!(json["hits"], 17169);
        assert_eq!(json["hitratio"], 55.56);
    }

    #[test]
    fn needs_the_filemap_tracepoints() {
        let kernel = kernel_with(&["filemap:mm_filemap_get_pages"]);
        assert!(matches!(plan(&[], &kernel), Err(ToolError::Unsupported(_))));
        let kernel = kernel_with(&[
            "filemap:mm_filemap_get_pages",
            "filemap:mm_filemap_add_to_page_cache",
            "writeback:writeback_dirty_folio",
        ]);
        let plan = plan(&os_args(&["-T", "2", "3"]), &kernel).unwrap();
        assert!(plan.script.contains("interval:s:2"), "{}", plan.script);
        assert!(plan.script.contains("writeback_dirty_folio"));
        assert!(!plan.script.contains("mm_filemap_fault"));
        assert!(
            plan.header.starts_with("TIME         HITS"),
            "{}",
            plan.header
        );
        assert_eq!(plan.footer, "Detaching...\n");
    }
}
