//! The tools, one module each.

pub mod argdist;
pub mod bashreadline;
pub mod biolatency;
pub mod biosnoop;
pub mod block;
pub mod cachestat;
pub mod execsnoop;
pub mod fsslower;
pub mod funccount;
pub mod killsnoop;
pub mod opensnoop;
pub mod profile;
pub mod runqlat;
pub mod stackcount;
pub mod statsnoop;
pub mod tcp;
pub mod tcpaccept;
pub mod tcpconnect;
pub mod tcplife;
pub mod tcpretrans;
pub mod trace;

use crate::Tool;

/// Every tool, sorted by name.
pub static ALL: &[Tool] = &[
    Tool {
        name: "argdist",
        about: "Summarize argument or return values as counts or log2 histograms",
        plan: argdist::plan,
    },
    Tool {
        name: "bashreadline",
        about: "Print commands typed into interactive bash shells",
        plan: bashreadline::plan,
    },
    Tool {
        name: "biolatency",
        about: "Summarize block device I/O latency as a histogram",
        plan: biolatency::plan,
    },
    Tool {
        name: "biosnoop",
        about: "Trace block device I/O: process, disk, sector, size and latency",
        plan: biosnoop::plan,
    },
    Tool {
        name: "btrfsslower",
        about: "Trace btrfs reads, writes, opens and fsyncs slower than a threshold",
        plan: fsslower::btrfs,
    },
    Tool {
        name: "cachestat",
        about: "Count page-cache hits, misses and dirtied pages per interval",
        plan: cachestat::plan,
    },
    Tool {
        name: "execsnoop",
        about: "Trace new processes (exec): command, pid, parent, result, arguments",
        plan: execsnoop::plan,
    },
    Tool {
        name: "ext4slower",
        about: "Trace ext4 reads, writes, opens and fsyncs slower than a threshold",
        plan: fsslower::ext4,
    },
    Tool {
        name: "funccount",
        about: "Count calls of user functions, tracepoints and USDT probes matching a pattern",
        plan: funccount::plan,
    },
    Tool {
        name: "killsnoop",
        about: "Trace signals sent by kill() and its relatives: sender, signal, target, result",
        plan: killsnoop::plan,
    },
    Tool {
        name: "opensnoop",
        about: "Trace open() syscalls: file, process, fd and error",
        plan: opensnoop::plan,
    },
    Tool {
        name: "profile",
        about: "Profile CPU usage by sampling kernel and user stack traces",
        plan: profile::plan,
    },
    Tool {
        name: "runqlat",
        about: "Summarize run queue (scheduler) latency as a histogram",
        plan: runqlat::plan,
    },
    Tool {
        name: "stackcount",
        about: "Count the stack traces that led to events (functions, tracepoints, USDT)",
        plan: stackcount::plan,
    },
    Tool {
        name: "statsnoop",
        about: "Trace stat() syscalls: path, process and result",
        plan: statsnoop::plan,
    },
    Tool {
        name: "tcpaccept",
        about: "Trace TCP accepts: accepting process, addresses and ports",
        plan: tcpaccept::plan,
    },
    Tool {
        name: "tcpconnect",
        about: "Trace active TCP connections (connect): process, addresses, ports",
        plan: tcpconnect::plan,
    },
    Tool {
        name: "tcplife",
        about: "Trace TCP sessions at close: process, addresses, ports, bytes, lifespan",
        plan: tcplife::plan,
    },
    Tool {
        name: "tcpretrans",
        about: "Trace TCP retransmits: addresses, ports and TCP state",
        plan: tcpretrans::plan,
    },
    Tool {
        name: "trace",
        about: "Print a line per event of functions, returns, tracepoints and USDT probes",
        plan: trace::plan,
    },
    Tool {
        name: "xfsslower",
        about: "Trace xfs reads, writes, opens and fsyncs slower than a threshold",
        plan: fsslower::xfs,
    },
];
