//! Run-time feature detection: what this kernel can do, found by trying.

use crate::sys::{self, BpfAttr};

const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_FENTRY: u32 = 24;

/// Whether an fentry program can be loaded: tries to load a trivial one on `vfs_read`
/// (some kernels refuse BPF trampolines, e.g. with EPERM under lockdown).
pub fn fentry_loadable() -> bool {
    sys::vmlinux_btf().is_some_and(|btf| fentry_loadable_with(&btf))
}

/// [`fentry_loadable`] with the kernel's BTF already at hand.
pub fn fentry_loadable_with(btf: &scry_btf::Btf) -> bool {
    let Some(id) = btf.find("vfs_read", scry_btf::Kind::Func) else {
        return false;
    };
    // r0 = 0; exit
    let code: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    let license = b"GPL\0";
    let mut attr = BpfAttr::default();
    attr.put_u32(0, BPF_PROG_TYPE_TRACING)
        .put_u32(4, 2)
        .put_u64(8, code.as_ptr() as u64)
        .put_u64(16, license.as_ptr() as u64)
        .put_u32(68, BPF_TRACE_FENTRY)
        .put_u32(108, id.0);
    sys::bpf_fd(sys::BPF_PROG_LOAD, &mut attr).is_ok()
}

/// Whether a CPU PMU exists for hardware perf events.
/// Found by opening a disabled cycle counter for this thread: virtual machines often expose
/// the `cpu` PMU in sysfs but refuse its events.
pub fn has_hardware_pmu() -> bool {
    let attr = sys::PerfEventAttr {
        type_: sys::PERF_TYPE_HARDWARE,
        config: 0,
        flags: sys::PERF_FLAG_DISABLED,
        ..Default::default()
    };
    sys::perf_event_open(&attr, 0, -1).is_ok()
}
