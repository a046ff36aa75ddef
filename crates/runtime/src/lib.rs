//! The kernel side of scry.
//!
//! This is the only crate that talks to the kernel: `bpf()`, `perf_event_open()`, `mmap` of ring
//! buffers, tracefs and `/sys`. Everything the kernel hands out is an owned file descriptor, so
//! every probe, program and map disappears with the process however it ends (exit, signal,
//! SIGKILL): scry never creates tracefs probe entries (`kprobe_events`, `uprobe_events`).
//!
//! - [`sys`]: the raw syscalls, the only `unsafe` code in scry.
//! - [`map`]: maps with byte-level keys and values (sizes are known only at run time).
//! - [`program`]: program loading, with the verifier log kept on failure.
//! - [`attach`]: tracepoints, perf events (interval, profile, software), raw tracepoints.
//! - [`ringbuf`]: the BPF ring buffer reader.
//! - [`tracefs`]: locating (and if needed mounting) tracefs, event ids, formats and listings.
//! - [`cpu`]: possible/online CPU lists.

pub mod attach;
pub mod cpu;
pub mod features;
pub mod map;
pub mod program;
pub mod ringbuf;
pub mod sys;
pub mod syscalls;
pub mod tracefs;

pub use map::{Map, MapSpec, MapType};
pub use program::{LoadError, ProgType, Program};
