//! BCC's probe specifications (`t:sched:sched_switch`, `p:c:malloc`, `r:/bin/bash:readline`,
//! `u:/usr/bin/python3:function__entry`, `vfs_read`), translated to scry attach points.
//!
//! As in BCC's funccount: one part is a kernel function, two parts are `library:function`,
//! three parts are `TYPE:library:function` with TYPE `p` (entry), `r` (return), `t`
//! (tracepoint `category:event`) or `u` (USDT). An empty library means the kernel.

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
    /// The binary or library (`c`, `/bin/bash`); empty for kernel and tracepoint specs.
    pub library: String,
    /// The function, event (`category:event`) or USDT probe, possibly with wildcards.
    pub name: String,
}

impl ProbeSpec {
    /// Parses `text` (without predicate or format: those are the tool's business).
    pub fn parse(text: &str) -> Result<ProbeSpec, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let (ty, library, name) = match parts.as_slice() {
            [name] => ("p", "", name.to_string()),
            [library, name] => ("p", *library, name.to_string()),
            ["t", category, event] => ("t", "", format!("{category}:{event}")),
            [ty, library, name] => (*ty, *library, name.to_string()),
            _ => return Err(format!("invalid probe specification '{text}'")),
        };
        if name.is_empty() {
            return Err(format!("probe specification '{text}' names no function"));
        }
        let kind = match (ty, library.is_empty()) {
            ("p", true) => Kind::Kernel { ret: false },
            ("r", true) => Kind::Kernel { ret: true },
            ("p", false) => Kind::User { ret: false },
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
            library: library_path(library),
            name,
        })
    }

    /// The scry attach point (`tracepoint:sched:sched_switch`, `uprobe:libc:malloc`, ...).
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
}

/// BCC's library shorthand: `c` is libc, `pthread` is libpthread; paths stay as they are.
fn library_path(library: &str) -> String {
    if library.is_empty() || library.contains('/') || library.starts_with("lib") {
        library.to_string()
    } else {
        format!("lib{library}")
    }
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
    found.sort();
    found.dedup();
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
        text.push_str(&format!("\n  try: {tool} '{}'", specs[0]));
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

    fn spec(text: &str) -> ProbeSpec {
        ProbeSpec::parse(text).unwrap()
    }

    #[test]
    fn bcc_forms() {
        assert_eq!(spec("vfs_read").attach_point(), "kprobe:vfs_read");
        assert_eq!(spec("p::vfs_*").attach_point(), "kprobe:vfs_*");
        assert_eq!(
            spec("r::do_sys_open").attach_point(),
            "kretprobe:do_sys_open"
        );
        assert_eq!(spec("c:malloc").attach_point(), "uprobe:libc:malloc");
        assert_eq!(spec("p:c:malloc").attach_point(), "uprobe:libc:malloc");
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
        assert!(spec("r:c:malloc").is_return());
    }

    #[test]
    fn bad_forms() {
        assert!(ProbeSpec::parse("x:c:malloc").is_err());
        assert!(ProbeSpec::parse("u::probe").is_err());
        assert!(ProbeSpec::parse("a:b:c:d").is_err());
        assert!(ProbeSpec::parse("p:c:").is_err());
    }
}
