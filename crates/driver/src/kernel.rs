//! The running kernel as the analysis sees it, read through tracefs on first use.

use std::cell::OnceCell;

use scry_runtime::tracefs::{Tracefs, TracefsError};
use scry_sema::{Field, FieldKind, KernelInfo, TracepointFormat};
use scry_tracefs::FieldType;

/// Kernel facts from tracefs and `/sys`.
pub struct LiveKernel {
    tracefs: OnceCell<Result<Tracefs, String>>,
    btf: OnceCell<Option<scry_btf::Btf>>,
    events: OnceCell<Result<Vec<(String, String)>, String>>,
}

impl Default for LiveKernel {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveKernel {
    pub fn new() -> LiveKernel {
        LiveKernel {
            tracefs: OnceCell::new(),
            btf: OnceCell::new(),
            events: OnceCell::new(),
        }
    }

    /// tracefs, mounted on first use when it is missing.
    pub fn tracefs(&self) -> Result<&Tracefs, String> {
        self.tracefs
            .get_or_init(|| Tracefs::open().map_err(|e: TracefsError| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Converts a parsed format file into the analysis's layout, without the common fields.
pub fn convert_format(
    category: &str,
    name: &str,
    format: &scry_tracefs::EventFormat,
) -> TracepointFormat {
    let user = category == "syscalls";
    let fields = format
        .args()
        .map(|f| {
            let kind = match &f.ty {
                FieldType::Int { signed, .. } => FieldKind::Int { signed: *signed },
                FieldType::Char => FieldKind::Int { signed: true },
                FieldType::Pointer { pointee } => {
                    let base = pointee
                        .trim_start_matches("const ")
                        .trim_end_matches(" const")
                        .trim();
                    FieldKind::Pointer {
                        char: base == "char",
                        user,
                    }
                }
                FieldType::Array { elem, len } => match elem.as_ref() {
                    FieldType::Char => FieldKind::CharArray,
                    FieldType::Int { size, signed } => FieldKind::IntArray {
                        elem_size: *size,
                        len: *len,
                        signed: *signed,
                    },
                    _ => FieldKind::Other,
                },
                FieldType::DataLoc { elem } if elem == "char" => FieldKind::DataLocString,
                _ => FieldKind::Other,
            };
            Field {
                name: f.name.clone(),
                c_type: f.c_type.clone(),
                offset: f.offset,
                size: f.size,
                kind,
            }
        })
        .collect();
    let syscall_nr = if user {
        name.strip_prefix("sys_enter_")
            .or_else(|| name.strip_prefix("sys_exit_"))
            .and_then(scry_runtime::syscalls::number)
    } else {
        None
    };
    TracepointFormat {
        category: category.to_string(),
        name: name.to_string(),
        fields,
        syscall_nr,
    }
}

impl KernelInfo for LiveKernel {
    fn tracepoints(&self) -> Result<Vec<(String, String)>, String> {
        self.events
            .get_or_init(|| {
                let tracefs = self.tracefs()?;
                let text = tracefs.available_events().map_err(|e| e.to_string())?;
                Ok(scry_tracefs::parse_available_events(&text)
                    .into_iter()
                    .map(|e| (e.category, e.name))
                    .collect())
            })
            .clone()
    }

    fn tracepoint_format(&self, category: &str, event: &str) -> Result<TracepointFormat, String> {
        let tracefs = self.tracefs()?;
        let text = tracefs
            .event_format(category, event)
            .map_err(|e| e.to_string())?;
        let format = scry_tracefs::parse_format(&text).map_err(|e| e.to_string())?;
        Ok(convert_format(category, event, &format))
    }

    fn btf(&self) -> Option<&scry_btf::Btf> {
        self.btf
            .get_or_init(scry_runtime::sys::vmlinux_btf)
            .as_ref()
    }

    fn uprobe_symbols(
        &self,
        target: &str,
        pattern: &str,
        pid: Option<u32>,
    ) -> Result<Vec<scry_sema::UprobeSymbol>, String> {
        let path = crate::uprobe::resolve(target, pid)?;
        crate::uprobe::symbols(&path, pattern)
    }

    fn usdt_probes(
        &self,
        target: &str,
        provider: &str,
        name: &str,
        pid: Option<u32>,
    ) -> Result<Vec<scry_sema::UsdtProbe>, String> {
        let path = crate::uprobe::resolve(target, pid)?;
        crate::usdt::probes(&path, provider, name)
    }

    fn user_symbol_address(&self, path: &str, symbol: &str) -> Result<(u64, u64), String> {
        crate::uprobe::symbol_address(std::path::Path::new(path), symbol)
    }

    fn kernel_address(&self, name: &str) -> Option<u64> {
        scry_symbolize::KernelSymbols::load().ok()?.kaddr(name)
    }

    fn has_hardware_pmu(&self) -> bool {
        scry_runtime::features::has_hardware_pmu()
    }

    fn has_kprobes(&self) -> bool {
        std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists()
            || self
                .tracefs()
                .map(|t| t.root().join("kprobe_events").exists())
                .unwrap_or(false)
    }

    /// A raw tracepoint exists when the kernel's BTF describes it (`btf_trace_NAME`), which
    /// spares reading the list of every event; without BTF, the list decides.
    fn has_raw_tracepoint(&self, name: &str) -> bool {
        match self.btf() {
            Some(btf) => btf
                .find(&format!("btf_trace_{name}"), scry_btf::Kind::Typedef)
                .is_some(),
            None => self
                .tracepoints()
                .map(|tps| tps.iter().any(|(_, e)| e == name))
                .unwrap_or(false),
        }
    }

    fn has_fentry(&self) -> bool {
        self.btf()
            .is_some_and(scry_runtime::features::fentry_loadable_with)
    }
}
