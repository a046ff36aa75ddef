//! Folded stacks: one line per distinct stack, `frame;frame;frame count`, root first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The order of the frames given to [`fold_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrameOrder {
    /// Outermost frame (e.g. `main`) first.
    #[default]
    RootFirst,
    /// Innermost frame first, as `kstack`/`ustack` and bpftrace print them.
    LeafFirst,
}

/// Options of [`fold_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldOptions {
    /// Order of the frames in the entries.
    pub order: FrameOrder,
    /// Frames put before every stack (after ordering), e.g. a tool name.
    pub prefix: Vec<String>,
}

/// Fold `(frames, count)` entries whose frames are **root first**.
///
/// Identical stacks are merged (counts summed), zero counts and empty stacks
/// dropped, lines sorted by stack. Frame names are sanitized: `;` becomes `:`,
/// line breaks become spaces, an empty name becomes `[unknown]`.
pub fn fold(entries: &[(Vec<String>, u64)]) -> String {
    fold_with(entries, &FoldOptions::default())
}

/// Fold entries with explicit frame order and prefix frames.
pub fn fold_with(entries: &[(Vec<String>, u64)], opts: &FoldOptions) -> String {
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for (frames, count) in entries {
        if *count == 0 || frames.is_empty() {
            continue;
        }
        let ordered: Box<dyn Iterator<Item = &String>> = match opts.order {
            FrameOrder::RootFirst => Box::new(frames.iter()),
            FrameOrder::LeafFirst => Box::new(frames.iter().rev()),
        };
        let mut line = String::new();
        for frame in opts.prefix.iter().chain(ordered) {
            if !line.is_empty() {
                line.push(';');
            }
            push_sanitized(&mut line, frame);
        }
        let total = merged.entry(line).or_insert(0);
        *total = total.saturating_add(*count);
    }
    let mut out = String::new();
    for (stack, count) in merged {
        let _ = writeln!(out, "{stack} {count}");
    }
    out
}

fn push_sanitized(line: &mut String, frame: &str) {
    let frame = frame.trim();
    if frame.is_empty() {
        line.push_str("[unknown]");
        return;
    }
    line.extend(frame.chars().map(|c| match c {
        ';' => ':',
        '\n' | '\r' | '\t' => ' ',
        c => c,
    }));
}

/// The parts of one sample (one map entry) to lay out as a flame graph stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct SampleFrames<'a> {
    /// Process name, the root frame.
    pub comm: Option<&'a str>,
    /// Process id, appended to the comm frame as `comm-pid` (or alone).
    pub pid: Option<u32>,
    /// User stack, innermost frame first.
    pub ustack: &'a [String],
    /// Kernel stack, innermost frame first.
    pub kstack: &'a [String],
    /// Suffix kernel frames with `_[k]` (flamegraph.pl's kernel annotation, which
    /// inferno's `java`/`perl`/`js` palettes color differently).
    pub annotate_kernel: bool,
    /// Put a `-` frame between user and kernel frames when both are present (BCC).
    pub delimiter: bool,
}

/// Root-first frames of a sample: `comm[-pid]`, the user stack from its outermost
/// frame, then the kernel stack from its outermost frame (kernel code runs on top of
/// the user code that entered it).
pub fn sample_frames(s: &SampleFrames<'_>) -> Vec<String> {
    let mut frames = Vec::with_capacity(2 + s.ustack.len() + s.kstack.len());
    match (s.comm, s.pid) {
        (Some(c), Some(p)) => frames.push(format!("{c}-{p}")),
        (Some(c), None) => frames.push(c.to_owned()),
        (None, Some(p)) => frames.push(p.to_string()),
        (None, None) => {}
    }
    frames.extend(s.ustack.iter().rev().cloned());
    if s.delimiter && !s.ustack.is_empty() && !s.kstack.is_empty() {
        frames.push("-".to_owned());
    }
    frames.extend(s.kstack.iter().rev().map(|f| {
        if s.annotate_kernel {
            format!("{f}_[k]")
        } else {
            f.clone()
        }
    }));
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(frames: &[&str]) -> Vec<String> {
        frames.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn folds_merges_and_sorts() {
        let entries = vec![
            (v(&["main", "work", "busy"]), 5),
            (v(&["main", "idle"]), 2),
            (v(&["main", "work", "busy"]), 7),
            (v(&["main", "zero"]), 0),
            (v(&[]), 9),
        ];
        assert_eq!(fold(&entries), "main;idle 2\nmain;work;busy 12\n");
    }

    #[test]
    fn leaf_first_and_prefix() {
        let entries = vec![(v(&["busy", "work", "main"]), 3)];
        let opts = FoldOptions {
            order: FrameOrder::LeafFirst,
            prefix: v(&["bash-42"]),
        };
        assert_eq!(fold_with(&entries, &opts), "bash-42;main;work;busy 3\n");
    }

    #[test]
    fn sanitizes_frames() {
        let entries = vec![(v(&["a;b", "", "x\ny", " std::vector<int>::push_back "]), 1)];
        assert_eq!(
            fold(&entries),
            "a:b;[unknown];x y;std::vector<int>::push_back 1\n"
        );
    }

    #[test]
    fn counts_saturate() {
        let entries = vec![(v(&["a"]), u64::MAX), (v(&["a"]), 5)];
        assert_eq!(fold(&entries), format!("a {}\n", u64::MAX));
    }

    #[test]
    fn sample_layout() {
        let u = v(&["busy_fn", "main", "__libc_start_call_main"]);
        let k = v(&["do_syscall_64", "entry_SYSCALL_64"]);
        let frames = sample_frames(&SampleFrames {
            comm: Some("busy"),
            pid: Some(7),
            ustack: &u,
            kstack: &k,
            annotate_kernel: true,
            delimiter: true,
        });
        assert_eq!(
            frames,
            v(&[
                "busy-7",
                "__libc_start_call_main",
                "main",
                "busy_fn",
                "-",
                "entry_SYSCALL_64_[k]",
                "do_syscall_64_[k]",
            ])
        );
        let only_kernel = sample_frames(&SampleFrames {
            comm: Some("swapper/0"),
            kstack: &k,
            delimiter: true,
            ..SampleFrames::default()
        });
        assert_eq!(
            only_kernel,
            v(&["swapper/0", "entry_SYSCALL_64", "do_syscall_64"])
        );
        let pid_only = sample_frames(&SampleFrames {
            pid: Some(9),
            ustack: &u[..1],
            ..SampleFrames::default()
        });
        assert_eq!(pid_only, v(&["9", "busy_fn"]));
    }
}
