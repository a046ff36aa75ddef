//! What biolatency and biosnoop share: the block-layer hooks and request flag names.

use scry_sema::KernelInfo;

use crate::ToolError;

/// The disk name of request `$rq`.
pub const DISK: &str = "$rq->q->disk->disk_name";

/// Checks that the BTF raw tracepoints of the block layer exist.
pub fn check(kernel: &dyn KernelInfo, tracepoints: &[&str]) -> Result<(), ToolError> {
    for tp in tracepoints {
        if !kernel.has_raw_tracepoint(tp) {
            return Err(ToolError::Unsupported(format!(
                "the block tracepoint {tp} is missing on this kernel (CONFIG_BLOCK and \
                 CONFIG_BLK_DEV_IO_TRACE or BTF raw tracepoints are needed)"
            )));
        }
    }
    Ok(())
}

/// The names of the request operations (`REQ_OP_*`, the low 8 bits of `cmd_flags`).
fn op_name(op: u64) -> &'static str {
    match op {
        0 => "Read",
        1 => "Write",
        2 => "Flush",
        3 => "Discard",
        5 => "SecureErase",
        9 => "WriteZeroes",
        10 => "ZoneOpen",
        11 => "ZoneClose",
        12 => "ZoneFinish",
        13 => "ZoneAppend",
        15 => "ZoneReset",
        17 => "ZoneResetAll",
        34 => "DrvIn",
        35 => "DrvOut",
        _ => "Unknown",
    }
}

/// Request flag names, by their `__REQ_*` enumerator (values from the kernel's BTF).
const FLAGS: &[(&str, &str)] = &[
    ("__REQ_FAILFAST_DEV", "FailfastDev"),
    ("__REQ_FAILFAST_TRANSPORT", "FailfastTransport"),
    ("__REQ_FAILFAST_DRIVER", "FailfastDriver"),
    ("__REQ_SYNC", "Sync"),
    ("__REQ_META", "Metadata"),
    ("__REQ_PRIO", "Priority"),
    ("__REQ_NOMERGE", "NoMerge"),
    ("__REQ_IDLE", "Idle"),
    ("__REQ_INTEGRITY", "Integrity"),
    ("__REQ_FUA", "ForcedUnitAccess"),
    ("__REQ_PREFLUSH", "Preflush"),
    ("__REQ_RAHEAD", "ReadAhead"),
    ("__REQ_BACKGROUND", "Background"),
    ("__REQ_NOWAIT", "NoWait"),
];

/// A decoder of `cmd_flags` into BCC's `Sync-Write` style names, with bit positions from
/// `kernel`'s BTF.
pub fn flag_names(kernel: &dyn KernelInfo) -> Vec<(u64, &'static str)> {
    let Some(btf) = kernel.btf() else {
        return Vec::new();
    };
    FLAGS
        .iter()
        .filter_map(|(enumerator, name)| {
            let bit = btf.enum_value(enumerator)?.as_i64();
            (0..64).contains(&bit).then_some((1u64 << bit, *name))
        })
        .collect()
}

/// `Sync-Write`, `Read`, `Metadata-Sync-Write`...
pub fn describe(flags: u64, names: &[(u64, &'static str)]) -> String {
    let mut parts: Vec<&str> = names
        .iter()
        .filter(|(mask, _)| flags & mask != 0)
        .map(|(_, name)| *name)
        .collect();
    parts.push(op_name(flags & 0xff));
    parts.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_like_bcc() {
        let names = [(1 << 11, "Sync"), (1 << 12, "Metadata")];
        assert_eq!(describe(1 | 1 << 11, &names), "Sync-Write");
        assert_eq!(describe(0, &names), "Read");
        assert_eq!(describe(2 | 1 << 12, &names), "Metadata-Flush");
    }
}
