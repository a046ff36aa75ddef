//! The facade the runtime uses: lazily loaded kernel symbols plus user-space
//! snapshots and symbolization.

use crate::format::{StackFormat, StackSpace, format_stack};
use crate::{KernelSymbols, ProcessCache, Result, Sym, UserSymbolizer};

/// Kernel and user symbolization with bpftrace-style stack formatting.
///
/// Loads nothing up front: `/proc/kallsyms` is read on the first kernel lookup
/// (a failed load is not cached, the next call retries). Not `Send` (see
/// [`UserSymbolizer`]).
#[derive(Debug, Default)]
pub struct Symbolizer {
    kernel: Option<KernelSymbols>,
    processes: ProcessCache,
    user: UserSymbolizer,
}

impl Symbolizer {
    /// A symbolizer that has loaded nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use `kernel` instead of loading `/proc/kallsyms`.
    pub fn with_kernel_symbols(mut self, kernel: KernelSymbols) -> Self {
        self.kernel = Some(kernel);
        self
    }

    /// Use `user` (e.g. with debug symbols enabled) for user-space addresses.
    pub fn with_user_symbolizer(mut self, user: UserSymbolizer) -> Self {
        self.user = user;
        self
    }

    /// The kernel symbol table, loading `/proc/kallsyms` on first use.
    pub fn kernel(&mut self) -> Result<&KernelSymbols> {
        let kernel = match self.kernel.take() {
            Some(k) => k,
            None => KernelSymbols::load()?,
        };
        Ok(self.kernel.insert(kernel))
    }

    /// Whether kernel symbols are loaded.
    pub fn kernel_loaded(&self) -> bool {
        self.kernel.is_some()
    }

    /// `ksym(addr)`.
    pub fn ksym(&mut self, addr: u64) -> Result<Option<Sym>> {
        Ok(self.kernel()?.ksym(addr))
    }

    /// `kaddr(name)`.
    pub fn kaddr(&mut self, name: &str) -> Result<Option<u64>> {
        Ok(self.kernel()?.kaddr(name))
    }

    /// Record the mappings of `pid` now so its addresses symbolize after it exits.
    /// Cheap when the pid is already known.
    pub fn snapshot(&mut self, pid: u32) -> Result<()> {
        self.processes.snapshot(pid)
    }

    /// The process snapshots.
    pub fn processes(&mut self) -> &mut ProcessCache {
        &mut self.processes
    }

    /// `usym(addr)` of process `pid`.
    pub fn usym(&mut self, pid: u32, addr: u64) -> Option<Sym> {
        self.usyms(pid, &[addr]).pop().flatten()
    }

    /// Symbolize several addresses of process `pid`.
    pub fn usyms(&mut self, pid: u32, addrs: &[u64]) -> Vec<Option<Sym>> {
        self.user.symbolize(&mut self.processes, pid, addrs)
    }

    /// Kernel stack text (innermost frame first).
    pub fn kstack(&mut self, addrs: &[u64], fmt: &StackFormat) -> Result<String> {
        let frames = self.kframes(addrs, fmt)?;
        Ok(format_stack(&frames, StackSpace::Kernel, fmt))
    }

    /// Kernel frames with symbols, up to the first zero address and the limit.
    pub fn kframes(&mut self, addrs: &[u64], fmt: &StackFormat) -> Result<Vec<(u64, Option<Sym>)>> {
        let addrs = trim(addrs, fmt);
        if fmt.mode == crate::StackMode::Raw {
            return Ok(addrs.iter().map(|&a| (a, None)).collect());
        }
        let kernel = self.kernel()?;
        Ok(addrs.iter().map(|&a| (a, kernel.ksym(a))).collect())
    }

    /// User stack text of process `pid` (innermost frame first).
    pub fn ustack(&mut self, pid: u32, addrs: &[u64], fmt: &StackFormat) -> String {
        let frames = self.uframes(pid, addrs, fmt);
        format_stack(&frames, StackSpace::User, fmt)
    }

    /// User frames with symbols, up to the first zero address and the limit.
    pub fn uframes(
        &mut self,
        pid: u32,
        addrs: &[u64],
        fmt: &StackFormat,
    ) -> Vec<(u64, Option<Sym>)> {
        let addrs = trim(addrs, fmt);
        if fmt.mode == crate::StackMode::Raw {
            return addrs.iter().map(|&a| (a, None)).collect();
        }
        let syms = self.usyms(pid, addrs);
        addrs.iter().copied().zip(syms).collect()
    }
}

fn trim<'a>(addrs: &'a [u64], fmt: &StackFormat) -> &'a [u64] {
    let live = addrs.iter().position(|&a| a == 0).unwrap_or(addrs.len());
    &addrs[..live.min(fmt.limit.unwrap_or(usize::MAX))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StackMode;

    const KALLSYMS: &str = "\
ffffffff81000000 T _stext
ffffffff81001000 T do_syscall_64
ffffffff81002000 T entry_SYSCALL_64_after_hwframe
ffffffffc0001000 t ext4_fn\t[ext4]
";

    fn sym_with_kernel() -> Symbolizer {
        Symbolizer::new().with_kernel_symbols(KernelSymbols::parse(KALLSYMS).unwrap())
    }

    #[test]
    fn kernel_lookups_and_stacks() {
        let mut s = sym_with_kernel();
        assert!(s.kernel_loaded());
        assert_eq!(
            s.ksym(0xffffffff81001010).unwrap().unwrap().name,
            "do_syscall_64"
        );
        assert_eq!(s.kaddr("ext4_fn").unwrap(), Some(0xffffffffc0001000));
        let addrs = [
            0xffffffff81001010,
            0xffffffff81002076,
            0x10,
            0,
            0xffffffff81001000,
        ];
        assert_eq!(
            s.kstack(&addrs, &StackFormat::map_key(StackMode::Bpftrace))
                .unwrap(),
            "\n    do_syscall_64+16\n    entry_SYSCALL_64_after_hwframe+118\n    0x10\n"
        );
        assert_eq!(
            s.kstack(&addrs, &StackFormat::printf(StackMode::Perf).with_limit(1))
                .unwrap(),
            "\n\tffffffff81001010 do_syscall_64+16\n"
        );
        assert_eq!(
            s.kstack(&addrs, &StackFormat::printf(StackMode::Raw))
                .unwrap(),
            "\nffffffff81001010\nffffffff81002076\n10\n"
        );
    }

    #[test]
    fn not_loaded_until_used() {
        let mut s = Symbolizer::new();
        assert!(!s.kernel_loaded());
        // User symbolization does not load kernel symbols either.
        let _ = s.usym(std::process::id(), crate::test_support::marker_addr());
        assert!(!s.kernel_loaded());
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        match s.kaddr("do_syscall_64") {
            Ok(addr) => {
                assert!(s.kernel_loaded());
                let addr = addr.expect("do_syscall_64 exists");
                let text = s
                    .kstack(&[addr + 1], &StackFormat::map_key(StackMode::Bpftrace))
                    .unwrap();
                assert_eq!(text, "\n    do_syscall_64+1\n");
            }
            Err(e) if !ci => eprintln!("skipping kallsyms part: {e}"),
            Err(e) => panic!("kallsyms must be readable in CI: {e}"),
        }
    }

    #[test]
    fn user_stack_of_self() {
        let mut s = Symbolizer::new();
        let pid = std::process::id();
        s.snapshot(pid).unwrap();
        let f = crate::test_support::marker_addr();
        let text = s.ustack(
            pid,
            &[f + 1, 0xdead],
            &StackFormat::printf(StackMode::Bpftrace),
        );
        assert_eq!(
            text,
            "\n        scry_symbolize_support_marker+1\n        0xdead\n"
        );
        assert_eq!(
            s.usym(pid, f).map(|s| s.name),
            Some("scry_symbolize_support_marker".to_owned())
        );
    }
}
