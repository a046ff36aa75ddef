//! ext4slower, xfsslower, btrfsslower: file-system reads, writes, opens and fsyncs slower than
//! a threshold, with BCC's options and columns.
//!
//! BCC times the file system's own functions (`ext4_file_read_iter`, ...) with kprobes. Without
//! kernel-function probes this measures the syscalls instead, keeping those whose file lives on
//! the file system (`task->files->fdt->fd[fd]->f_inode->i_sb->s_magic`).

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser};
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// A file system these tools know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fs {
    /// Its name in `/proc/filesystems` and the tool's name (`ext4` → `ext4slower`).
    pub name: &'static str,
    /// The tool's name.
    pub tool: &'static str,
    /// The superblock magic (`s_magic`).
    pub magic: u64,
}

pub const EXT4: Fs = Fs {
    name: "ext4",
    tool: "ext4slower",
    magic: 0xEF53,
};
pub const XFS: Fs = Fs {
    name: "xfs",
    tool: "xfsslower",
    magic: 0x5846_5342,
};
pub const BTRFS: Fs = Fs {
    name: "btrfs",
    tool: "btrfsslower",
    magic: 0x9123_683E,
};

/// Trace common file-system operations slower than a threshold.
#[derive(Debug, Parser)]
struct Opts {
    /// Minimum I/O duration to trace, in ms (0 traces everything).
    #[arg(default_value_t = 10)]
    min_ms: u64,
    /// Print parsable output (CSV).
    #[arg(short = 'j', long)]
    csv: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Total duration of the trace, in seconds.
    #[arg(short = 'd', long)]
    duration: Option<u64>,
    /// Refuse to run when the file-system functions cannot be probed (instead of measuring
    /// at the syscall level).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: Common,
}

fn help(fs: Fs) -> String {
    let tool = format!("{}slower", fs.name);
    format!(
        "Examples:
  {tool}             # trace operations slower than 10 ms (default)
  {tool} 1           # trace operations slower than 1 ms
  {tool} -j 1        # ... 1 ms, parsable output (csv)
  {tool} 0           # trace all operations (warning: verbose)
  {tool} -p 185      # trace PID 185 only
  {tool} -d 10       # trace for 10 seconds only
  {tool} --json 5    # one JSON object per operation slower than 5 ms

Columns: T is the operation: R read, W write, O open, S fsync. BYTES is the syscall's result
(0 for opens and fsyncs), OFF_KB the file offset in KiB, LAT(ms) the latency, FILENAME the
file's name (without directories).

Hooks: tracepoints syscalls:sys_{{enter,exit}}_{{read,write,pread64,pwrite64,readv,writev,preadv,
pwritev,preadv2,pwritev2,fsync,fdatasync,open,openat,openat2}}, keeping files whose superblock
magic is {name}'s ({magic:#x}).

ACCURACY: BCC's {tool} times {name}'s own file operations with kernel-function probes
(kprobes or fentry). This kernel may have neither, so {tool} measures the syscalls instead:
- the latency includes the syscall's VFS work, locking and the copy to or from user memory
  (slightly more than BCC shows; about the same for slow operations); an open's latency
  includes the path lookup;
- I/O that makes none of these syscalls is missed: mmap page faults, sendfile, splice,
  copy_file_range, io_uring, AIO, and the kernel's own users (nfsd, loop devices, overlayfs
  lower layers), as are fsyncs made by O_SYNC writes or msync;
- 32-bit (compat) processes are not seen (their syscalls skip these tracepoints).
--strict refuses to run instead of measuring this way.",
        name = fs.name,
        magic = fs.magic,
    )
}

/// The syscalls of one operation type, and how each finds its file offset.
struct Group {
    letter: &'static str,
    /// (syscall, offset expression using the file `$f`).
    calls: &'static [(&'static str, &'static str)],
}

/// `pos_l` of preadv2/pwritev2 is -1 for "the current position".
const POS_L: &str = "args->pos_l == 0xffffffffffffffff ? $f->f_pos : args->pos_l";

const GROUPS: &[Group] = &[
    Group {
        letter: "R",
        calls: &[
            ("read", "$f->f_pos"),
            ("readv", "$f->f_pos"),
            ("pread64", "args->pos"),
            ("preadv", "args->pos_l"),
            ("preadv2", POS_L),
        ],
    },
    Group {
        letter: "W",
        calls: &[
            ("write", "$f->f_pos"),
            ("writev", "$f->f_pos"),
            ("pwrite64", "args->pos"),
            ("pwritev", "args->pos_l"),
            ("pwritev2", POS_L),
        ],
    },
    Group {
        letter: "S",
        calls: &[("fsync", "0"), ("fdatasync", "0")],
    },
];

const OPENS: &[&str] = &["open", "openat", "openat2"];

pub fn ext4(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    plan(EXT4, args, kernel)
}

pub fn xfs(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    plan(XFS, args, kernel)
}

pub fn btrfs(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    plan(BTRFS, args, kernel)
}

fn parse(fs: Fs, args: &[OsString]) -> Result<Opts, ToolError> {
    let name = fs.tool;
    let command = Opts::command()
        .name(name)
        .bin_name(name)
        .about(format!(
            "Trace common {} file operations slower than a threshold",
            fs.name
        ))
        .after_help(help(fs));
    let argv = std::iter::once(OsString::from(name)).chain(args.iter().cloned());
    let matches = command.try_get_matches_from(argv)?;
    Ok(Opts::from_arg_matches(&matches)?)
}

/// Whether the kernel knows file system `name` (`/proc/filesystems`), and whether one is
/// mounted (`/proc/mounts`).
fn fs_state(name: &str) -> (bool, bool) {
    let listed = |path: &str, column: usize| {
        std::fs::read_to_string(path)
            .map(|text| {
                text.lines()
                    .any(|l| l.split_whitespace().nth(column) == Some(name))
            })
            .ok()
    };
    // /proc/filesystems: "nodev\tname" or "\tname"; the name is the last column.
    let known = std::fs::read_to_string("/proc/filesystems")
        .map(|text| {
            text.lines()
                .any(|l| l.split_whitespace().last() == Some(name))
        })
        .unwrap_or(true);
    let mounted = listed("/proc/mounts", 2).unwrap_or(true);
    (known, mounted)
}

/// The script: the syscalls of `groups` and `opens` (those that exist), filtered by `pid` and
/// the superblock magic, printing operations of at least `min_ns`.
fn script(
    fs: Fs,
    o: &Opts,
    found: &[&str],
    format: &str,
    values: &dyn Fn(&str, &str) -> String,
) -> String {
    let filter = Predicate::tool().and_if(o.pid, "pid == {}");
    let min_ns = o.min_ms * 1_000_000;
    let file = |fd: &str| {
        format!(
            "$fdt = curtask->files->fdt;\n  \
             $f = {fd} < $fdt->max_fds ? $fdt->fd[{fd}] : (struct file *)0;"
        )
    };
    let is_fs = format!("$f != 0 && $f->f_inode->i_sb->s_magic == {:#x}", fs.magic);
    let mut s = format!(
        "// {}slower: {} reads, writes, opens and fsyncs of at least {} ms, timed at the\n\
         // syscall level (the fd's file is on {} when its superblock magic is {:#x}).\n",
        fs.name, fs.name, o.min_ms, fs.name, fs.magic
    );
    // The statements that print an operation of latency `$d` ns on file `$f`, indented.
    let print = |letter: &str, bytes: &str, offset: &str, indent: &str| {
        let line = format!(
            "printf(\"{format}\", {});",
            values(letter, bytes).replace("$OFF", offset)
        );
        if min_ns == 0 {
            format!("{indent}$us = $d / 1000;\n{indent}{line}\n")
        } else {
            format!(
                "{indent}if ($d >= {min_ns}) {{\n{indent}  $us = $d / 1000;\n{indent}  {line}\n{indent}}}\n"
            )
        }
    };
    for group in GROUPS {
        let calls: Vec<&(&str, &str)> = group
            .calls
            .iter()
            .filter(|c| found.contains(&c.0))
            .collect();
        if calls.is_empty() {
            continue;
        }
        for (call, offset) in &calls {
            s.push_str(&format!(
                "tracepoint:syscalls:sys_enter_{call}{}\n{{\n  {}\n  if ({is_fs}) {{\n    \
                 @start[tid] = nsecs;\n    @file[tid] = $f;\n    @offset[tid] = {offset};\n  }}\n}}\n\n",
                filter.slashes(),
                file("args->fd")
            ));
        }
        let names: Vec<&str> = calls.iter().map(|c| c.0).collect();
        let bytes = if group.letter == "S" {
            "0"
        } else {
            "args->ret"
        };
        s.push_str(&format!(
            "{}\n/has_key(@start, tid)/\n{{\n  $d = nsecs - @start[tid];\n  $f = @file[tid];\n{}  \
             delete(@start, tid);\n  delete(@file, tid);\n  delete(@offset, tid);\n}}\n\n",
            script::syscall_probes(&names, "exit"),
            print(group.letter, bytes, "@offset[tid]", "  ")
        ));
    }
    let opens: Vec<&str> = OPENS
        .iter()
        .copied()
        .filter(|c| found.contains(c))
        .collect();
    if !opens.is_empty() {
        s.push_str(&format!(
            "{}{}\n{{\n  @opened[tid] = nsecs;\n}}\n\n",
            script::syscall_probes(&opens, "enter"),
            filter.slashes()
        ));
        s.push_str(&format!(
            "{}\n/has_key(@opened, tid)/\n{{\n  $d = nsecs - @opened[tid];\n  \
             delete(@opened, tid);\n  if (args->ret >= 0) {{\n    {}\n    if ({is_fs}) {{\n{}    }}\n  }}\n}}\n\n",
            script::syscall_probes(&opens, "exit"),
            file("args->ret").replace("\n  ", "\n    "),
            print("O", "0", "0", "      ")
        ));
    }
    if let Some(d) = o.duration {
        s.push_str(&format!("interval:s:{d} {{ exit(); }}\n\n"));
    }
    s.push_str("END { clear(@start); clear(@file); clear(@offset); clear(@opened); }\n");
    s
}

pub fn plan(fs: Fs, args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o = parse(fs, args)?;
    let tool = format!("{}slower", fs.name);
    let probes = script::kernel_function_probes(kernel);
    if o.strict {
        return Err(ToolError::Unsupported(format!(
            "{probes}: cannot time {} file operations exactly (--strict); without --strict \
             they are measured at the syscall level (see '{tool} --help', ACCURACY)",
            fs.name
        )));
    }
    let (known, mounted) = fs_state(fs.name);
    if !known {
        return Err(ToolError::Unsupported(format!(
            "this kernel does not support {} (it is not in /proc/filesystems)",
            fs.name
        )));
    }
    let names: Vec<&str> = GROUPS
        .iter()
        .flat_map(|g| g.calls.iter().map(|c| c.0))
        .chain(OPENS.iter().copied())
        .collect();
    let found = script::syscalls(kernel, &names)?;
    let (format, fields, header): (&str, &[&'static str], String) = if o.csv {
        (
            "%llu,%s,%d,%s,%lld,%lld,%lld,%s\\n",
            &[
                "endtime_us",
                "task",
                "pid",
                "type",
                "bytes",
                "offset_b",
                "latency_us",
                "file",
            ],
            "ENDTIME_us,TASK,PID,TYPE,BYTES,OFFSET_b,LATENCY_us,FILE\n".into(),
        )
    } else {
        let banner = if o.min_ms == 0 {
            format!("Tracing {} operations\n", fs.name)
        } else {
            format!(
                "Tracing {} operations slower than {} ms\n",
                fs.name, o.min_ms
            )
        };
        (
            "%-8s %-14.14s %-6d %1s %-7d %-8d %4d.%02d %s\\n",
            &[
                "time",
                "comm",
                "pid",
                "t",
                "bytes",
                "off_kb",
                "lat_ms",
                "lat_ms.frac2",
                "filename",
            ],
            format!(
                "{banner}{:<8} {:<14} {:<6} {:1} {:<7} {:<8} {:>7} {}\n",
                "TIME", "COMM", "PID", "T", "BYTES", "OFF_KB", "LAT(ms)", "FILENAME"
            ),
        )
    };
    let csv = o.csv;
    let values = move |letter: &str, bytes: &str| {
        let name = "str($f->f_path.dentry->d_name.name)";
        let letter = script::quote(letter);
        if csv {
            format!("nsecs / 1000, comm, pid, {letter}, {bytes}, $OFF, $us, {name}")
        } else {
            format!(
                "strftime(\"%H:%M:%S\", nsecs), comm, pid, {letter}, {bytes}, ($OFF) / 1024, \
                 $us / 1000, ($us % 1000) / 10, {name}"
            )
        }
    };
    let s = script(fs, &o, &found, format, &values);
    let mut plan = Plan::new(s, &o.common)
        .header(header)
        .event(EventSpec::new(format.replace("\\n", "\n"), fields))
        .note(format!(
            "{probes}; measuring read/write/open/fsync at the syscall level for {} files \
             — see '{tool} --help' (ACCURACY)",
            fs.name
        ));
    if !mounted {
        plan = plan.note(format!(
            "no {} file system is mounted now; its operations show once one is",
            fs.name
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::killsnoop::tests::{kernel_with, os_args};

    fn kernel() -> scry_sema::kernel::StaticKernel {
        kernel_with(&[
            "syscalls:sys_enter_read",
            "syscalls:sys_enter_pwrite64",
            "syscalls:sys_enter_fsync",
            "syscalls:sys_enter_openat",
        ])
    }

    #[test]
    fn header_and_threshold_follow_bcc() {
        let plan = plan(EXT4, &os_args(&["5"]), &kernel()).unwrap();
        assert_eq!(
            plan.header,
            "Tracing ext4 operations slower than 5 ms\n\
             TIME     COMM           PID    T BYTES   OFF_KB   LAT(ms) FILENAME\n"
        );
        let s = &plan.script;
        assert!(s.contains("s_magic == 0xef53"), "{s}");
        assert!(s.contains("if ($d >= 5000000)"), "{s}");
        assert!(s.contains("@offset[tid] = args->pos;"), "{s}");
        assert!(s.contains("\"S\", 0,"), "{s}");
        assert!(s.contains("\"O\", 0, (0) / 1024"), "{s}");
        assert!(!s.contains("readv"), "{s}");
        assert!(!plan.notes.is_empty());
    }

    #[test]
    fn zero_traces_everything_and_csv_has_bcc_columns() {
        let plan = plan(XFS, &os_args(&["-j", "0", "-p", "7", "-d", "3"]), &kernel()).unwrap();
        assert_eq!(
            plan.header,
            "ENDTIME_us,TASK,PID,TYPE,BYTES,OFFSET_b,LATENCY_us,FILE\n"
        );
        let s = &plan.script;
        assert!(s.contains("s_magic == 0x58465342"), "{s}");
        assert!(!s.contains("$d >="), "{s}");
        assert!(s.contains("&& pid == 7/"), "{s}");
        assert!(s.contains("interval:s:3 { exit(); }"), "{s}");
        assert_eq!(plan.events[0].format, "%llu,%s,%d,%s,%lld,%lld,%lld,%s\n");
    }

    #[test]
    fn strict_refuses_and_help_explains() {
        assert!(matches!(
            plan(BTRFS, &os_args(&["--strict"]), &kernel()),
            Err(ToolError::Unsupported(_))
        ));
        match plan(BTRFS, &os_args(&["--help"]), &kernel()) {
            Err(ToolError::Usage(e)) => {
                let text = e.to_string();
                assert!(text.contains("btrfsslower 1 "), "{text}");
                assert!(text.contains("ACCURACY"), "{text}");
            }
            _ => panic!("--help is a usage message"),
        }
    }
}
