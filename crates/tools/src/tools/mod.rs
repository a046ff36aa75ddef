//! The tools, one module each.

pub mod biolatency;
pub mod biosnoop;
pub mod block;
pub mod execsnoop;
pub mod opensnoop;
pub mod profile;
pub mod runqlat;

use crate::Tool;

/// Every tool, sorted by name.
pub static ALL: &[Tool] = &[
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
        name: "execsnoop",
        about: "Trace new processes (exec): command, pid, parent, result, arguments",
        plan: execsnoop::plan,
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
];
