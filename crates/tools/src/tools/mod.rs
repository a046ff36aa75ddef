//! The tools, one module each.

pub mod opensnoop;

use crate::Tool;

/// Every tool, sorted by name.
pub static ALL: &[Tool] = &[Tool {
    name: "opensnoop",
    about: "Trace open() syscalls: file, process, fd and error",
    plan: opensnoop::plan,
}];
