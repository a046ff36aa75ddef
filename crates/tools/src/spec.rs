//! BCC's probe specifications (`t:sched:sched_switch`, `p:c:malloc`, `r:/bin/bash:readline`,
//! `u:/usr/bin/python3:function__entry`, `vfs_read`), translated to scry attach points.
//!
//! As in BCC's funccount: one part is a kernel function, two parts are `library:function`,
//! three parts are `TYPE:library:function` with TYPE `p` (entry), `r` (return), `t`
//! (tracepoint `category:event`) or `u` (USDT; `u:library:provider:probe` names the
//! provider too). An empty library means the kernel. [`ProbeSpec::expand`] finds what a
//! pattern matches (BCC's "Tracing N functions"), with `*` wildcards or regular expressions;
//! [`cexpr`] translates the C expressions of trace and argdist.

pub mod cexpr;

use scry_sema::KernelInfo;

use crate::ToolError;

/// What a specification probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A kernel function (kprobe); `ret` for its return.
    Kernel { ret: bool },
    /// A function of a user binary or library (uprobe); `ret` for its return.
    User { ret: bool },
    /// A tracepoint.
    Tracepoint,
    /// A USDT probe.
    Usdt,
}

/// A parsed specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    pub kind: Kind,
    /// The binary or library as given (`c`, `/bin/bash`, `./test`); empty for kernel and
    /// tracepoint specs. scry finds `c` as libc and `bash` in PATH.
    pub library: String,
    /// The function, event (`category:event`) or USDT probe (`name` or `provider:name`),
    /// possibly with wildcards.
    pub name: String,
}

/// The probes a specification matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// The script's attach points (a wildcard stays a wildcard when scry can expand it).
    pub points: Vec<String>,
    /// The functions, `category:event`s or USDT probes matched, sorted.
    pub matched: Vec<String>,
}

impl Expansion {
    /// The attach points, one per line, for a probe block's head.
    pub fn attach_list(&self) -> String {
        self.points.join(",\n")
    }
}

impl ProbeSpec {
    /// Parses `text` (without predicate or format: those are the tool's business).
    pub fn parse(text: &str) -> Result<ProbeSpec, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let (ty, library, name) = match parts.as_slice() {
            [name] => ("p", "", name.to_string()),
            [library, name] => ("p", *library, name.to_string()),
            ["t", category, event] => {
                if category.is_empty() {
                    return Err(format!("tracepoint '{text}' names no category"));
                }
                ("t", "", format!("{category}:{event}"))
            }
            ["u", library, provider, name] => ("u", *library, format!("{provider}:{name}")),
            [ty, library, name] => (*ty, *library, name.to_string()),
            _ => return Err(format!("invalid probe specification '{text}'")),
        };
        if name.is_empty() || name.ends_with(':') {
            return Err(format!("probe specification '{text}' names no function"));
        }
        let kind = match (ty, library.is_empty()) {
            ("p" | "", true) => Kind::Kernel { ret: false },
            ("r", true) => Kind::Kernel { ret: true },
            ("p" | "", false) => Kind::User { ret: false },
            ("r", false) => Kind::User { ret: true },
            ("t", _) => Kind::Tracepoint,
            ("u", false) => Kind::Usdt,
            ("u", true) => return Err(format!("USDT specification '{text}' needs a binary")),
            _ => {
                return Err(format!(
                    "invalid probe type '{ty}' in '{text}': use p, r, t or u"
                ));
            }
        };
        Ok(ProbeSpec {
            kind,
            library: library.to_string(),
            name,
        })
    }

    /// The scry attach point (`tracepoint:sched:sched_switch`, `uprobe:c:malloc`, ...).
    pub fn attach_point(&self) -> String {
        match self.kind {
            Kind::Kernel { ret: false } => format!("kprobe:{}", self.name),
            Kind::Kernel { ret: true } => format!("kretprobe:{}", self.name),
            Kind::User { ret: false } => format!("uprobe:{}:{}", self.library, self.name),
            Kind::User { ret: true } => format!("uretprobe:{}:{}", self.library, self.name),
            Kind::Tracepoint => format!("tracepoint:{}", self.name),
            Kind::Usdt => format!("usdt:{}:{}", self.library, self.name),
        }
    }

    /// Whether the probe is a function return.
    pub fn is_return(&self) -> bool {
        matches!(
            self.kind,
            Kind::Kernel { ret: true } | Kind::User { ret: true }
        )
    }

    /// The name BCC shows for the probe: the function, the tracepoint's event, the USDT
    /// probe's name.
    pub fn short_name(&self) -> &str {
        match self.kind {
            Kind::Tracepoint | Kind::Usdt => self
                .name
                .rsplit_once(':')
                .map_or(self.name.as_str(), |(_, n)| n),
            _ => &self.name,
        }
    }

    /// Whether the name has wildcards.
    pub fn has_wildcards(&self) -> bool {
        self.name.contains(['*', '?'])
    }

    /// Fails with BCC-tool-style advice when this is a kernel-function specification and the
    /// kernel can probe no kernel function.
    pub fn check(&self, tool: &str, kernel: &dyn KernelInfo) -> Result<(), ToolError> {
        if !matches!(self.kind, Kind::Kernel { .. }) || kernel.has_kprobes() {
            return Ok(());
        }
        Err(ToolError::Unsupported(kernel_function_error(
            tool, &self.name, kernel,
        )))
    }

    /// What the specification matches on this system: `*` wildcards (or, with `regex`, a
    /// regular expression matched from the start of each name) against tracepoints, the
    /// binary's functions or its USDT probes; with `pid`, libraries are found in that
    /// process. Kernel functions fail as [`ProbeSpec::check`] does; no match is an error.
    pub fn expand(
        &self,
        tool: &str,
        kernel: &dyn KernelInfo,
        pid: Option<u32>,
        regex: bool,
    ) -> Result<Expansion, ToolError> {
        self.check(tool, kernel)?;
        let matcher = Matcher::new(&self.name, regex)?;
        match self.kind {
            Kind::Kernel { .. } => Ok(Expansion {
                points: vec![self.attach_point()],
                matched: vec![self.name.clone()],
            }),
            Kind::Tracepoint => self.expand_tracepoints(kernel, &matcher, regex),
            Kind::User { ret } => self.expand_functions(kernel, &matcher, regex, pid, ret),
            Kind::Usdt => self.expand_usdt(kernel, &matcher, regex, pid),
        }
    }

    fn expand_tracepoints(
        &self,
        kernel: &dyn KernelInfo,
        matcher: &Matcher,
        regex: bool,
    ) -> Result<Expansion, ToolError> {
        let all = kernel.tracepoints().map_err(ToolError::Other)?;
        let mut matched: Vec<String> = all
            .into_iter()
            .map(|(c, e)| format!("{c}:{e}"))
            .filter(|name| matcher.is_match(name))
            .collect();
        matched.sort();
        matched.dedup();
        if matched.is_empty() {
            return Err(ToolError::BadArgument(format!(
                "no tracepoint matches 't:{}' (list them with: scry -l 'tracepoint:*')",
                self.name
            )));
        }
        let points = if regex {
            matched.iter().map(|m| format!("tracepoint:{m}")).collect()
        } else {
            vec![self.attach_point()]
        };
        Ok(Expansion { points, matched })
    }

    fn expand_functions(
        &self,
        kernel: &dyn KernelInfo,
        matcher: &Matcher,
        regex: bool,
        pid: Option<u32>,
        ret: bool,
    ) -> Result<Expansion, ToolError> {
        let pattern = if regex { "*" } else { self.name.as_str() };
        let symbols = kernel
            .uprobe_symbols(&self.library, pattern, pid)
            .map_err(|e| ToolError::BadArgument(format!("{}: {e}", self.library)))?;
        // Aliases (`snprintf`, `__snprintf`) are one function: probe it once, by the name
        // with the fewest leading underscores.
        let mut by_address: Vec<(String, u64, usize, String)> = symbols
            .into_iter()
            .filter(|s| matcher.is_match(&s.symbol))
            .map(|s| {
                let underscores = s.symbol.len() - s.symbol.trim_start_matches('_').len();
                (s.path, s.offset, underscores, s.symbol)
            })
            .collect();
        by_address.sort();
        let listed = by_address.len();
        by_address.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        let mut found: Vec<(String, String)> = by_address
            .into_iter()
            .map(|(path, _, _, symbol)| (symbol, path))
            .collect();
        found.sort();
        found.dedup();
        if found.is_empty() {
            return Err(ToolError::BadArgument(format!(
                "no function matches '{}' in {}",
                self.name, self.library
            )));
        }
        let provider = if ret { "uretprobe" } else { "uprobe" };
        let first_path = found[0].1.clone();
        let one_pattern =
            !regex && listed == found.len() && found.iter().all(|(_, p)| *p == first_path);
        let points = if one_pattern {
            vec![format!("{provider}:{first_path}:{}", self.name)]
        } else {
            found
                .iter()
                .map(|(symbol, path)| format!("{provider}:{path}:{symbol}"))
                .collect()
        };
        let mut matched: Vec<String> = found.into_iter().map(|(s, _)| s).collect();
        matched.dedup();
        Ok(Expansion { points, matched })
    }

    fn expand_usdt(
        &self,
        kernel: &dyn KernelInfo,
        matcher: &Matcher,
        regex: bool,
        pid: Option<u32>,
    ) -> Result<Expansion, ToolError> {
        let with_provider = self.name.contains(':');
        let (provider, name) = match self.name.split_once(':') {
            Some((p, n)) if !regex => (p, n),
            _ if regex => ("*", "*"),
            _ => ("*", self.name.as_str()),
        };
        let probes = kernel
            .usdt_probes(&self.library, provider, name, pid)
            .map_err(|e| ToolError::BadArgument(format!("{}: {e}", self.library)))?;
        let mut found: Vec<(String, String, String)> = probes
            .into_iter()
            .filter(|p| {
                let full = format!("{}:{}", p.provider, p.name);
                matcher.is_match(if with_provider { &full } else { &p.name })
            })
            .map(|p| (p.name, p.provider, p.path))
            .collect();
        found.sort();
        found.dedup();
        if found.is_empty() {
            return Err(ToolError::BadArgument(format!(
                "no USDT probe matches '{}' in {} (list them with: scry -l 'usdt:{}:*')",
                self.name, self.library, self.library
            )));
        }
        let points = found
            .iter()
            .map(|(name, provider, path)| format!("usdt:{path}:{provider}:{name}"))
            .collect();
        let mut matched: Vec<String> = found.into_iter().map(|(n, _, _)| n).collect();
        matched.dedup();
        Ok(Expansion { points, matched })
    }
}

/// A name pattern: `*`/`?` wildcards over the whole name, or a regular expression matched
/// from the start of the name (as BCC's `-r`).
pub enum Matcher {
    Glob(regex::Regex),
    Regex(regex::Regex),
}

impl Matcher {
    pub fn new(pattern: &str, regex: bool) -> Result<Matcher, ToolError> {
        let bad =
            |e: regex::Error| ToolError::BadArgument(format!("invalid pattern '{pattern}': {e}"));
        if regex {
            return Ok(Matcher::Regex(
                regex::Regex::new(&format!("^(?:{pattern})")).map_err(bad)?,
            ));
        }
        let mut text = String::from("^");
        for c in pattern.chars() {
            match c {
                '*' => text.push_str(".*"),
                '?' => text.push('.'),
                c => text.push_str(&regex::escape(&c.to_string())),
            }
        }
        text.push('$');
        Ok(Matcher::Glob(regex::Regex::new(&text).map_err(bad)?))
    }

    pub fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::Glob(re) | Matcher::Regex(re) => re.is_match(name),
        }
    }
}

/// The name BCC shows for the value of scry's `probe` builtin: `category:event` for a
/// tracepoint, the function for a uprobe, the probe's name for USDT.
pub fn display_name(probe: &str) -> String {
    if let Some(rest) = probe.strip_prefix("tracepoint:") {
        return rest.to_string();
    }
    for prefix in ["uprobe:", "uretprobe:", "usdt:", "kprobe:", "kretprobe:"] {
        if let Some(rest) = probe.strip_prefix(prefix) {
            return rest.rsplit(':').next().unwrap_or(rest).to_string();
        }
    }
    probe.to_string()
}

/// Tracepoints that do the job of commonly probed kernel functions.
const NEAREST: &[(&str, &[&str])] = &[
    (
        "vfs_read",
        &["syscalls:sys_enter_read", "syscalls:sys_enter_pread64"],
    ),
    (
        "vfs_write",
        &["syscalls:sys_enter_write", "syscalls:sys_enter_pwrite64"],
    ),
    ("vfs_open", &["syscalls:sys_enter_openat"]),
    (
        "do_sys_open",
        &["syscalls:sys_enter_open", "syscalls:sys_enter_openat"],
    ),
    (
        "do_sys_openat2",
        &["syscalls:sys_enter_openat", "syscalls:sys_enter_openat2"],
    ),
    (
        "tcp_v4_connect",
        &["sock:inet_sock_set_state", "syscalls:sys_enter_connect"],
    ),
    (
        "tcp_v6_connect",
        &["sock:inet_sock_set_state", "syscalls:sys_enter_connect"],
    ),
    (
        "tcp_connect",
        &["sock:inet_sock_set_state", "syscalls:sys_enter_connect"],
    ),
    (
        "inet_csk_accept",
        &["syscalls:sys_exit_accept", "syscalls:sys_exit_accept4"],
    ),
    ("tcp_set_state", &["sock:inet_sock_set_state"]),
    ("tcp_retransmit_skb", &["tcp:tcp_retransmit_skb"]),
    ("tcp_drop", &["skb:kfree_skb"]),
    ("kfree_skb", &["skb:kfree_skb"]),
    ("blk_account_io_start", &["block:block_io_start"]),
    ("blk_account_io_done", &["block:block_io_done"]),
    ("blk_mq_start_request", &["block:block_rq_issue"]),
    ("submit_bio", &["block:block_bio_queue"]),
    (
        "add_to_page_cache_lru",
        &["filemap:mm_filemap_add_to_page_cache"],
    ),
    (
        "filemap_add_folio",
        &["filemap:mm_filemap_add_to_page_cache"],
    ),
    (
        "folio_account_dirtied",
        &["writeback:writeback_dirty_folio"],
    ),
    ("account_page_dirtied", &["writeback:writeback_dirty_folio"]),
    ("mark_buffer_dirty", &["block:block_dirty_buffer"]),
    ("try_to_wake_up", &["sched:sched_wakeup"]),
    ("ttwu_do_wakeup", &["sched:sched_wakeup"]),
    ("wake_up_new_task", &["sched:sched_wakeup_new"]),
    ("finish_task_switch", &["sched:sched_switch"]),
    ("schedule", &["sched:sched_switch"]),
    ("do_exit", &["sched:sched_process_exit"]),
    ("oom_kill_process", &["oom:mark_victim"]),
    ("cap_capable", &["capability:cap_capable"]),
    ("security_capable", &["capability:cap_capable"]),
    ("__kmalloc", &["kmem:kmalloc"]),
    ("kmalloc", &["kmem:kmalloc"]),
    ("kfree", &["kmem:kfree"]),
    (
        "ext4_sync_file",
        &["ext4:ext4_sync_file_enter", "ext4:ext4_sync_file_exit"],
    ),
];

/// Tracepoints near kernel function `pattern`: the curated table, `__x64_sys_NAME` →
/// `syscalls:sys_enter_NAME`, then events whose name contains the pattern's words.
pub fn nearest_tracepoints(pattern: &str, kernel: &dyn KernelInfo) -> Vec<String> {
    let bare = pattern.trim_matches('*');
    let mut found: Vec<String> = NEAREST
        .iter()
        .filter(|(f, _)| *f == bare || (pattern.contains('*') && f.contains(bare)))
        .flat_map(|(_, tps)| tps.iter().map(|t| t.to_string()))
        .collect();
    for prefix in ["__x64_sys_", "__arm64_sys_", "__se_sys_", "sys_", "ksys_"] {
        if let Some(name) = bare.strip_prefix(prefix) {
            found.push(format!("syscalls:sys_enter_{name}"));
        }
    }
    if found.is_empty()
        && bare.len() >= 3
        && let Ok(events) = kernel.tracepoints()
    {
        let words: Vec<&str> = bare.split('_').filter(|w| w.len() >= 3).collect();
        for (category, event) in events {
            if words.iter().any(|w| event.contains(w)) {
                found.push(format!("{category}:{event}"));
            }
            if found.len() >= 6 {
                break;
            }
        }
    }
    // Keep the curated order (the best match first), without repeats.
    let mut seen = std::collections::HashSet::new();
    found.retain(|t| seen.insert(t.clone()));
    found
        .into_iter()
        .filter(|t| {
            let (c, e) = t.split_once(':').unwrap_or(("", ""));
            kernel.tracepoint_format(c, e).is_ok()
        })
        .collect()
}

/// The message for a kernel-function probe on a kernel without kprobes.
pub fn kernel_function_error(tool: &str, pattern: &str, kernel: &dyn KernelInfo) -> String {
    let fentry = if kernel.has_fentry() {
        "fentry:  available, but these tools do not use it for kernel functions"
    } else {
        "fentry:  not permitted (loading a tracing/fentry program is refused)"
    };
    let mut text = format!(
        "cannot probe kernel function(s) '{pattern}': this kernel provides no kernel-function probes\n  \
         kprobes: not built in (CONFIG_KPROBES=n: no kprobe PMU, no kprobe_events in tracefs)\n  \
         {fentry}\n  Tracepoints, uprobes and USDT work."
    );
    let near = nearest_tracepoints(pattern, kernel);
    if !near.is_empty() {
        text.push_str(" Nearest tracepoints:\n    ");
        let specs: Vec<String> = near.iter().map(|t| format!("t:{t}")).collect();
        text.push_str(&specs.join("  "));
        let example = match tool {
            // argdist's specifiers name a signature, empty for tracepoints.
            "argdist" => format!("argdist -C '{}()'", specs[0]),
            _ => format!("{tool} '{}'", specs[0]),
        };
        text.push_str(&format!("\n  try: {example}"));
    } else {
        text.push_str(&format!(
            "\n  list tracepoints with: scry -l 'tracepoint:*{}*'",
            pattern.trim_matches('*')
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_sema::kernel::StaticKernel;
    use scry_sema::{UprobeSymbol, UsdtProbe};

    fn spec(text: &str) -> ProbeSpec {
        ProbeSpec::parse(text).unwrap()
    }

    /// The sample kernel plus a binary `/bin/prog` with three functions and two USDT probes.
    struct Fake(StaticKernel);

    impl KernelInfo for Fake {
        fn tracepoints(&self) -> Result<Vec<(String, String)>, String> {
            self.0.tracepoints()
        }
        fn tracepoint_format(
            &self,
            category: &str,
            event: &str,
        ) -> Result<scry_sema::TracepointFormat, String> {
            self.0.tracepoint_format(category, event)
        }
        fn has_kprobes(&self) -> bool {
            false
        }
        fn has_fentry(&self) -> bool {
            false
        }
        fn uprobe_symbols(
            &self,
            target: &str,
            pattern: &str,
            _pid: Option<u32>,
        ) -> Result<Vec<UprobeSymbol>, String> {
            if target != "prog" {
                return Err(format!("could not find {target}"));
            }
            let m = Matcher::new(pattern, false).map_err(|e| e.to_string())?;
            Ok([
                ("read_all", 0x1000),
                ("read_one", 0x2000),
                ("write_one", 0x3000),
                ("__write_one", 0x3000),
            ]
            .iter()
            .filter(|(s, _)| m.is_match(s))
            .map(|(s, offset)| UprobeSymbol {
                path: "/bin/prog".into(),
                symbol: s.to_string(),
                offset: *offset,
            })
            .collect())
        }
        fn usdt_probes(
            &self,
            _target: &str,
            provider: &str,
            name: &str,
            _pid: Option<u32>,
        ) -> Result<Vec<UsdtProbe>, String> {
            let (p, n) = (
                Matcher::new(provider, false).ok(),
                Matcher::new(name, false).ok(),
            );
            Ok([("app", "gc_start"), ("app", "gc_done"), ("db", "query")]
                .iter()
                .filter(|(pp, nn)| {
                    p.as_ref().is_some_and(|m| m.is_match(pp))
                        && n.as_ref().is_some_and(|m| m.is_match(nn))
                })
                .map(|(pp, nn)| UsdtProbe {
                    path: "/bin/prog".into(),
                    provider: pp.to_string(),
                    name: nn.to_string(),
                    offset: 0,
                    semaphore: 0,
                    args: Vec::new(),
                })
                .collect())
        }
    }

    fn fake() -> Fake {
        Fake(StaticKernel::sample())
    }

    #[test]
    fn bcc_forms() {
        assert_eq!(spec("vfs_read").attach_point(), "kprobe:vfs_read");
        assert_eq!(spec("p::vfs_*").attach_point(), "kprobe:vfs_*");
        assert_eq!(
            spec("r::do_sys_open").attach_point(),
            "kretprobe:do_sys_open"
        );
        assert_eq!(spec("c:malloc").attach_point(), "uprobe:c:malloc");
        assert_eq!(spec("p:c:malloc").attach_point(), "uprobe:c:malloc");
        assert_eq!(
            spec("r:/bin/bash:readline").attach_point(),
            "uretprobe:/bin/bash:readline"
        );
        assert_eq!(
            spec("t:sched:sched_switch").attach_point(),
            "tracepoint:sched:sched_switch"
        );
        assert_eq!(
            spec("u:/usr/bin/python3:function__entry").attach_point(),
            "usdt:/usr/bin/python3:function__entry"
        );
        assert_eq!(spec("u:/bin/x:prov:name").name, "prov:name");
        assert_eq!(spec("u:/bin/x:prov:name").short_name(), "name");
        assert_eq!(spec("t:sched:sched_switch").short_name(), "sched_switch");
        assert!(spec("r:c:malloc").is_return());
    }

    #[test]
    fn bad_forms() {
        assert!(ProbeSpec::parse("x:c:malloc").is_err());
        assert!(ProbeSpec::parse("u::probe").is_err());
        assert!(ProbeSpec::parse("a:b:c:d").is_err());
        assert!(ProbeSpec::parse("p:c:").is_err());
        assert!(ProbeSpec::parse("t::x").is_err());
    }

    #[test]
    fn tracepoint_wildcards_stay_wildcards_and_regexes_are_listed() {
        let k = fake();
        let e = spec("t:syscalls:sys_enter_*")
            .expand("funccount", &k, None, false)
            .unwrap();
        assert_eq!(e.points, ["tracepoint:syscalls:sys_enter_*"]);
        assert!(e.matched.contains(&"syscalls:sys_enter_openat".to_string()));
        assert!(
            e.matched
                .iter()
                .all(|m| m.starts_with("syscalls:sys_enter_"))
        );
        let e = spec("t:syscalls:sys_(enter|exit)_read")
            .expand("funccount", &k, None, true)
            .unwrap();
        assert_eq!(
            e.points,
            [
                "tracepoint:syscalls:sys_enter_read",
                "tracepoint:syscalls:sys_exit_read"
            ]
        );
        assert!(matches!(
            spec("t:nosuch:*").expand("funccount", &k, None, false),
            Err(ToolError::BadArgument(_))
        ));
    }

    #[test]
    fn functions_and_usdt_probes_expand() {
        let k = fake();
        let e = spec("prog:read_*")
            .expand("funccount", &k, None, false)
            .unwrap();
        assert_eq!(e.points, ["uprobe:/bin/prog:read_*"]);
        assert_eq!(e.matched, ["read_all", "read_one"]);
        let e = spec("p:prog:.*_one")
            .expand("funccount", &k, None, true)
            .unwrap();
        assert_eq!(
            e.points,
            ["uprobe:/bin/prog:read_one", "uprobe:/bin/prog:write_one"]
        );
        let e = spec("prog:*write_one")
            .expand("funccount", &k, None, false)
            .unwrap();
        assert_eq!(e.points, ["uprobe:/bin/prog:write_one"]);
        assert_eq!(e.matched, ["write_one"]);
        let e = spec("r:prog:write_one")
            .expand("trace", &k, None, false)
            .unwrap();
        assert_eq!(e.points, ["uretprobe:/bin/prog:write_one"]);
        assert!(
            spec("prog:nothing*")
                .expand("funccount", &k, None, false)
                .is_err()
        );
        assert!(
            spec("other:f")
                .expand("funccount", &k, None, false)
                .is_err()
        );
        let e = spec("u:prog:gc_*")
            .expand("funccount", &k, None, false)
            .unwrap();
        assert_eq!(
            e.points,
            ["usdt:/bin/prog:app:gc_done", "usdt:/bin/prog:app:gc_start"]
        );
        assert_eq!(e.matched, ["gc_done", "gc_start"]);
        let e = spec("u:prog:db:*")
            .expand("funccount", &k, None, false)
            .unwrap();
        assert_eq!(e.matched, ["query"]);
    }

    #[test]
    fn kernel_functions_fail_with_tracepoint_advice() {
        let k = fake();
        let Err(ToolError::Unsupported(msg)) =
            spec("vfs_read").expand("funccount", &k, None, false)
        else {
            panic!("kernel function accepted");
        };
        assert!(msg.contains("kprobes"), "{msg}");
        assert!(msg.contains("t:syscalls:sys_enter_read"), "{msg}");
    }

    #[test]
    fn display_names() {
        assert_eq!(
            display_name("tracepoint:sched:sched_switch"),
            "sched:sched_switch"
        );
        assert_eq!(display_name("uprobe:/usr/lib/libc.so.6:malloc"), "malloc");
        assert_eq!(display_name("usdt:/bin/node:node:gc__start"), "gc__start");
        assert_eq!(display_name("other"), "other");
    }

    #[test]
    fn globs_match_whole_names() {
        let m = Matcher::new("sys_*_read", false).unwrap();
        assert!(m.is_match("sys_enter_read"));
        assert!(!m.is_match("sys_enter_readv"));
        let r = Matcher::new("sys_e", true).unwrap();
        assert!(r.is_match("sys_enter_readv"));
        assert!(!r.is_match("x_sys_e"));
    }
}
