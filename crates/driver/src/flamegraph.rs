//! Flame graphs and folded stacks from maps keyed by stacks (`@[kstack, ustack, comm] = count()`).

use scry_output::{AggValue, MapDump, Value};

/// Frame names without the `+offset` of the printed frames.
fn names(frames: &[String]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            // perf mode frames are "ADDR sym+off (module)": keep the symbol.
            let sym = f
                .split_whitespace()
                .find(|w| !w.chars().all(|c| c.is_ascii_hexdigit()))
                .unwrap_or(f);
            match sym.rsplit_once('+') {
                Some((name, off)) if off.chars().all(|c| c.is_ascii_digit()) => name.to_string(),
                _ => sym.to_string(),
            }
        })
        .collect()
}

/// Folded stacks (`comm;user;frames;-;kernel;frames count`) of every map with a stack in
/// its key; None when there is none.
pub fn folded(maps: &[MapDump]) -> Option<String> {
    let mut entries = Vec::new();
    for map in maps {
        for entry in &map.entries {
            let (mut kstack, mut ustack, mut comm, mut pid) = (None, None, None, None);
            for part in &entry.key {
                match part {
                    Value::Stack(stack)
                        if kstack.is_none() && ustack.is_none() && stack_is_kernel(stack) =>
                    {
                        kstack = Some(names(&stack.frames))
                    }
                    Value::Stack(stack) if ustack.is_none() => ustack = Some(names(&stack.frames)),
                    Value::Stack(stack) => kstack = Some(names(&stack.frames)),
                    Value::Str(s) => comm = Some(s.clone()),
                    Value::Int(n) => pid = Some(*n as u32),
                    Value::UInt(n) => pid = Some(*n as u32),
                    _ => {}
                }
            }
            if kstack.is_none() && ustack.is_none() {
                continue;
            }
            let count = match &entry.value {
                AggValue::UInt(n) => *n,
                AggValue::Int(n) => (*n).max(0) as u64,
                AggValue::Avg { count, .. } => *count,
                _ => 1,
            };
            let (kstack, ustack) = (kstack.unwrap_or_default(), ustack.unwrap_or_default());
            let frames = scry_flamegraph::sample_frames(&scry_flamegraph::SampleFrames {
                comm: comm.as_deref(),
                pid,
                ustack: &ustack,
                kstack: &kstack,
                annotate_kernel: false,
                delimiter: !ustack.is_empty() && !kstack.is_empty(),
            });
            entries.push((frames, count));
        }
    }
    if entries.is_empty() {
        None
    } else {
        Some(scry_flamegraph::fold(&entries))
    }
}

/// Kernel frames print as bare `sym+off`; user frames in perf mode carry a module.
/// Without a marker in the value, the first stack of a key is taken as the kernel's when the
/// key holds two stacks (bpftrace's `@[kstack, ustack]` convention) — see [`folded`].
fn stack_is_kernel(stack: &scry_output::Stack) -> bool {
    !stack.frames.iter().any(|f| f.contains(" ("))
}

/// An SVG flame graph of the folded stacks.
pub fn svg(folded: &str, title: &str) -> Result<String, String> {
    scry_flamegraph::svg(folded, title).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_output::{MapEntry, MapKind, Stack};

    #[test]
    fn folds_stacks_with_comm() {
        let map = MapDump {
            name: "@".into(),
            kind: MapKind::Count,
            entries: vec![MapEntry {
                key: vec![
                    Value::Stack(Stack::new(vec!["inner+4".into(), "outer+10".into()])),
                    Value::Str("busy".into()),
                ],
                value: AggValue::UInt(7),
            }],
        };
        assert_eq!(folded(&[map]).as_deref(), Some("busy;outer;inner 7\n"));
    }

    #[test]
    fn maps_without_stacks_give_nothing() {
        let map = MapDump {
            name: "@".into(),
            kind: MapKind::Count,
            entries: vec![],
        };
        assert_eq!(folded(&[map]), None);
    }
}
