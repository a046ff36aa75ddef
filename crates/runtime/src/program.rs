//! Loading programs into the kernel.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use scry_ebpf::Insn;

use crate::sys::{self, BpfAttr};

/// The program types scry loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgType {
    /// kprobes and uprobes.
    Kprobe,
    Tracepoint,
    PerfEvent,
    RawTracepoint,
    SocketFilter,
    /// fentry/fexit: `attach_type` is BPF_TRACE_FENTRY (24) or BPF_TRACE_FEXIT (25), on the
    /// kernel function with BTF id `btf_id`.
    Tracing {
        attach_type: u32,
        btf_id: u32,
    },
}

impl ProgType {
    fn raw(self) -> u32 {
        match self {
            ProgType::SocketFilter => 1,
            ProgType::Kprobe => 2,
            ProgType::Tracepoint => 5,
            ProgType::PerfEvent => 7,
            ProgType::RawTracepoint => 17,
            ProgType::Tracing { .. } => 26,
        }
    }
}

/// Why a program did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The verifier refused the program; `log` is its full log.
    #[error("the BPF verifier rejected program {name}: {source}")]
    Verifier {
        name: String,
        log: String,
        #[source]
        source: io::Error,
    },
    #[error("loading program {name}: {source}")]
    Other {
        name: String,
        #[source]
        source: io::Error,
    },
}

/// A loaded program.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    pub name: String,
    pub ty: ProgType,
}

fn kernel_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let cleaned = name.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || b == b'_' {
            b
        } else {
            b'_'
        }
    });
    for (slot, byte) in out.iter_mut().zip(cleaned.take(15)) {
        *slot = byte;
    }
    out
}

/// BTF for a program with subprograms: the kernel needs a FUNC record for the main program
/// and for each callback (`bpf_for_each_map_elem`). Returns the loaded BTF and the
/// `bpf_func_info` records (instruction offset, FUNC type id).
fn subprogram_btf(subprograms: &[usize]) -> io::Result<(OwnedFd, Vec<[u32; 2]>)> {
    use scry_btf::{BtfBuilder, TypeId};
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, scry_btf::INT_SIGNED);
    let void_ptr = b.add_ptr(TypeId(0));
    let main_proto = b.add_func_proto(int, &[("ctx", void_ptr)], false);
    let main = b.add_func("prog", main_proto, 1);
    let params = [
        ("map", void_ptr),
        ("key", void_ptr),
        ("value", void_ptr),
        ("ctx", void_ptr),
    ];
    let callback_proto = b.add_func_proto(int, &params, false);
    let mut records = vec![[0, main.0]];
    for (i, &start) in subprograms.iter().enumerate() {
        let func = b.add_func(&format!("callback{i}"), callback_proto, 0);
        records.push([start as u32, func.0]);
    }
    let blob = b.build();
    let mut attr = BpfAttr::default();
    attr.put_u64(0, blob.as_ptr() as u64)
        .put_u32(16, blob.len() as u32);
    let fd = sys::bpf_fd(sys::BPF_BTF_LOAD, &mut attr)?;
    Ok((fd, records))
}

/// The GPL license string every program is loaded under (needed by most tracing helpers).
static LICENSE: &[u8] = b"GPL\0";

/// The `BPF_PROG_LOAD` attributes of a program without subprograms or a log: type, code,
/// license, name and, for fentry/fexit, the attach type and the target's BTF id. Pure, so
/// that what the kernel would see is unit-tested even where the program cannot load.
fn load_attr(ty: ProgType, name: &str, code: &[u8]) -> BpfAttr {
    let mut attr = BpfAttr::default();
    attr.put_u32(0, ty.raw())
        .put_u32(4, (code.len() / 8) as u32)
        .put_u64(8, code.as_ptr() as u64)
        .put_u64(16, LICENSE.as_ptr() as u64)
        .put_bytes(48, &kernel_name(name));
    if let ProgType::Tracing {
        attach_type,
        btf_id,
    } = ty
    {
        attr.put_u32(68, attach_type).put_u32(108, btf_id);
    }
    attr
}

fn prog_load(
    ty: ProgType,
    name: &str,
    code: &[u8],
    subprograms: &[usize],
    log: Option<&mut Vec<u8>>,
) -> io::Result<OwnedFd> {
    let mut attr = load_attr(ty, name, code);
    // Kept alive until the load below.
    let btf = if subprograms.is_empty() {
        None
    } else {
        Some(subprogram_btf(subprograms)?)
    };
    if let Some((fd, records)) = &btf {
        attr.put_u32(72, fd.as_raw_fd() as u32)
            .put_u32(76, 8)
            .put_u64(80, records.as_ptr() as u64)
            .put_u32(88, records.len() as u32);
    }
    if let Some(log) = log {
        attr.put_u32(24, 1)
            .put_u32(28, log.len() as u32)
            .put_u64(32, log.as_mut_ptr() as u64);
        return sys::bpf_fd(sys::BPF_PROG_LOAD, &mut attr);
    }
    sys::bpf_fd(sys::BPF_PROG_LOAD, &mut attr)
}

impl Program {
    /// Loads `insns` (map fds already patched in). On failure the program is loaded again with
    /// the verifier log enabled, and the log is returned in [`LoadError::Verifier`].
    pub fn load(ty: ProgType, name: &str, insns: &[Insn]) -> Result<Program, LoadError> {
        Self::load_with_subprograms(ty, name, insns, &[])
    }

    /// Loads a program whose `subprograms` (instruction offsets of callbacks) need BTF
    /// function records.
    pub fn load_with_subprograms(
        ty: ProgType,
        name: &str,
        insns: &[Insn],
        subprograms: &[usize],
    ) -> Result<Program, LoadError> {
        let code = scry_ebpf::insn::encode_all(insns);
        match prog_load(ty, name, &code, subprograms, None) {
            Ok(fd) => Ok(Program {
                fd,
                name: name.to_string(),
                ty,
            }),
            Err(first)
                if matches!(
                    first.raw_os_error(),
                    Some(libc::EACCES)
                        | Some(libc::EINVAL)
                        | Some(libc::E2BIG)
                        | Some(libc::EFAULT)
                ) =>
            {
                let mut size = 1 << 20;
                loop {
                    let mut log = vec![0u8; size];
                    let result = prog_load(ty, name, &code, subprograms, Some(&mut log));
                    match result {
                        Ok(fd) => {
                            return Ok(Program {
                                fd,
                                name: name.to_string(),
                                ty,
                            });
                        }
                        Err(err)
                            if err.raw_os_error() == Some(libc::ENOSPC) && size < (1 << 28) =>
                        {
                            size *= 4;
                        }
                        Err(err) => {
                            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                            let text = String::from_utf8_lossy(&log[..end]).into_owned();
                            return Err(LoadError::Verifier {
                                name: name.to_string(),
                                log: text,
                                source: err,
                            });
                        }
                    }
                }
            }
            Err(source) => Err(LoadError::Other {
                name: name.to_string(),
                source,
            }),
        }
    }

    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Runs the program once with `BPF_PROG_TEST_RUN` and an empty context (how BEGIN and END
    /// probes run). Returns the program's return value.
    pub fn test_run(&self) -> io::Result<u32> {
        let mut attr = BpfAttr::default();
        attr.put_u32(0, self.fd() as u32);
        sys::bpf(sys::BPF_PROG_TEST_RUN, &mut attr)?;
        Ok(attr.get_u32(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fentry_load_attributes_name_the_target_btf_id() {
        let code = [0u8; 16];
        let ty = ProgType::Tracing {
            attach_type: 25,
            btf_id: 4242,
        };
        let attr = load_attr(ty, "fexit:vfs_read", &code);
        assert_eq!(attr.get_u32(0), 26, "BPF_PROG_TYPE_TRACING");
        assert_eq!(attr.get_u32(4), 2, "instruction count");
        assert_eq!(attr.get_u32(68), 25, "expected_attach_type BPF_TRACE_FEXIT");
        assert_eq!(attr.get_u32(108), 4242, "attach_btf_id");
        assert_eq!(&attr.0[48..64], b"fexit_vfs_read\0\0", "object name");
        let license = u64::from_ne_bytes(attr.0[16..24].try_into().unwrap());
        assert_eq!(license, LICENSE.as_ptr() as u64);
    }

    #[test]
    fn other_programs_have_no_attach_target() {
        let attr = load_attr(ProgType::Kprobe, "kprobe:vfs_read", &[0u8; 8]);
        assert_eq!(attr.get_u32(0), 2, "BPF_PROG_TYPE_KPROBE");
        assert_eq!(attr.get_u32(68), 0);
        assert_eq!(attr.get_u32(108), 0);
        assert_eq!(&attr.0[48..64], b"kprobe_vfs_read\0");
    }
}
