//! Running a compiled program: maps, loading, attaching, the event loop, END and the final
//! map dump.
//!
//! Order of events, as in current bpftrace: every probe is attached, `Attached N probes` is
//! printed, BEGIN runs, the readiness line `__BPFTRACE_NOTIFY_PROBES_ATTACHED` is printed when
//! that variable is set, and the `-c` command is released. The run ends on `exit()`, Ctrl-C,
//! SIGTERM or the command's exit; then END runs, the ring buffer is drained, every non-empty
//! map is printed and the probes are detached.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use scry_codegen::{EventDef, MapKind, ProgKind, ProgramSpec};
use scry_output::{PrintOptions, Printer};
use scry_runtime::attach::{self, Attachment, Sampling};
use scry_runtime::map::MapError;
use scry_runtime::ringbuf::RingBuf;
use scry_runtime::tracefs::Tracefs;
use scry_runtime::{LoadError, Map, MapSpec, MapType, ProgType, Program, sys};
use scry_sema::Target;

use crate::compile::Output;
use crate::decode::{Decoder, u64_at};

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `-c`: a command to start once attached; the run ends when it exits.
    pub command: Option<Vec<String>>,
    /// `-v`: print load statistics on stderr.
    pub verbose: bool,
    /// Print `__BPFTRACE_NOTIFY_PROBES_ATTACHED` on stderr once ready.
    pub notify: bool,
    /// Load the programs, then stop without attaching.
    pub dry_run: bool,
    /// Write an SVG flame graph of the stack-keyed maps here at exit.
    pub flamegraph: Option<std::path::PathBuf>,
    /// Write the stack-keyed maps as folded stacks here at exit.
    pub folded: Option<std::path::PathBuf>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Map(#[from] MapError),
    #[error("creating the output ring buffer: {0}")]
    RingBuf(#[from] scry_runtime::ringbuf::RingBufError),
    /// A verifier rejection, already rendered with the script location.
    #[error("{0}")]
    Verifier(String),
    #[error("{0}")]
    Load(LoadError),
    #[error("{0}")]
    Attach(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

const SOFTWARE: u32 = sys::PERF_TYPE_SOFTWARE;
const CPU_CLOCK: u64 = 0;

struct Live {
    maps: Vec<Option<Map>>,
    /// The ring buffer's fd (the map sits in `maps` as `None`).
    ring_fd: i32,
}

fn create_maps(output: &Output, n_cpus: usize) -> Result<(Live, RingBuf), RunError> {
    let compiled = &output.compiled;
    // Hash maps fill as they are used, except those a perf_event program (profile, interval,
    // software, hardware) uses: such programs only accept preallocated hash maps.
    let mut preallocated = std::collections::HashSet::new();
    for program in compiled
        .programs
        .iter()
        .filter(|p| p.kind == ProgKind::PerfEvent)
    {
        let _ = program.code.relocated(|id| {
            preallocated.insert(id);
            0
        });
    }
    let mut maps = Vec::with_capacity(compiled.maps.len());
    let mut ring = None;
    for (id, def) in compiled.maps.iter().enumerate() {
        let ty = match def.kind {
            MapKind::Hash => MapType::Hash,
            MapKind::PerCpuHash => MapType::PerCpuHash,
            MapKind::Array => MapType::Array,
            MapKind::StackTrace => MapType::StackTrace,
            MapKind::RingBuf => {
                ring = Some(RingBuf::create(&def.name, def.max_entries)?);
                maps.push(None);
                continue;
            }
        };
        let max_entries = if def.max_entries == 0 {
            n_cpus as u32
        } else {
            def.max_entries
        };
        let spec = MapSpec {
            name: def.name.clone(),
            ty,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries,
            no_prealloc: !preallocated.contains(&(id as u32))
                && matches!(ty, MapType::Hash | MapType::PerCpuHash),
        };
        maps.push(Some(Map::create(spec, n_cpus)?));
    }
    let ring: RingBuf = ring.expect("the code generator always defines a ring buffer");
    Ok((
        Live {
            maps,
            ring_fd: ring.map().fd(),
        },
        ring,
    ))
}

fn map_fd(live: &Live, id: u32) -> i32 {
    match &live.maps[id as usize] {
        Some(map) => map.fd(),
        None => live.ring_fd,
    }
}

fn prog_type(kind: &ProgKind) -> ProgType {
    match kind {
        ProgKind::Begin
        | ProgKind::End
        | ProgKind::RawTracepoint
        | ProgKind::SyscallDispatch { .. } => ProgType::RawTracepoint,
        ProgKind::Tracepoint => ProgType::Tracepoint,
        ProgKind::PerfEvent => ProgType::PerfEvent,
        ProgKind::Uprobe => ProgType::Kprobe,
        ProgKind::Fentry { ret, btf_id } => ProgType::Tracing {
            attach_type: if *ret { 25 } else { 24 },
            btf_id: *btf_id,
        },
    }
}

/// Loads a program. Raw tracepoints are loaded as BTF raw tracepoints (`tp_btf`) when the
/// kernel's BTF describes them (their `btf_trace_NAME` ids were found while compiling), and
/// as plain raw tracepoints otherwise (or when that fails).
fn load(output: &Output, live: &Live, spec: &ProgramSpec) -> Result<(Program, bool), RunError> {
    let insns = spec.code.relocated(|id| map_fd(live, id));
    if let (ProgKind::RawTracepoint, [Target::RawTracepoint { name }]) =
        (&spec.kind, spec.targets.as_slice())
        && let Some(&btf_id) = output.tp_btf_ids.get(name)
    {
        const BPF_TRACE_RAW_TP: u32 = 23;
        let ty = ProgType::Tracing {
            attach_type: BPF_TRACE_RAW_TP,
            btf_id,
        };
        if let Ok(program) =
            Program::load_with_subprograms(ty, &spec.name, &insns, &spec.code.subprograms)
        {
            return Ok((program, true));
        }
    }
    Program::load_with_subprograms(
        prog_type(&spec.kind),
        &spec.name,
        &insns,
        &spec.code.subprograms,
    )
    .map_err(|err| match err {
        LoadError::Verifier { log, .. } => {
            if std::env::var_os("SCRY_VERIFIER_LOG").is_some() {
                eprintln!("{log}");
            }
            RunError::Verifier(crate::verifier::render(spec, &log, &output.source))
        }
        other => RunError::Load(other),
    })
    .map(|program| (program, false))
}

fn attach_program(
    program: &Program,
    spec: &ProgramSpec,
    live: &Live,
    tracefs: &mut Option<Tracefs>,
    decoder: &mut Decoder<'_>,
    attachments: &mut Vec<Attachment>,
) -> Result<(), RunError> {
    if let (ProgKind::SyscallDispatch { exit }, Some(map)) = (&spec.kind, spec.dispatch) {
        let map = live.maps[map as usize]
            .as_ref()
            .expect("dispatch maps are arrays");
        for target in &spec.targets {
            let Target::Tracepoint(format) = target else {
                continue;
            };
            let Some(nr) = format.syscall_nr else {
                continue;
            };
            let name = target.probe_name();
            let cookie = decoder
                .compiled
                .probe_names
                .iter()
                .position(|n| *n == name)
                .unwrap_or(0) as u64;
            map.update(&nr.to_ne_bytes(), &(cookie + 1).to_ne_bytes())?;
        }
        let tracepoint = if *exit { "sys_exit" } else { "sys_enter" };
        let attachment = attach::raw_tracepoint(program, tracepoint).map_err(|e| {
            RunError::Attach(format!("ERROR: could not attach the syscall probes: {e}"))
        })?;
        attachments.push(attachment);
        return Ok(());
    }
    let online = || scry_runtime::cpu::online().map_err(RunError::Io);
    for target in &spec.targets {
        let what = target.probe_name();
        // The index of the probe's name: the attach cookie multi-target programs read.
        let cookie = decoder
            .compiled
            .probe_names
            .iter()
            .position(|n| *n == what)
            .unwrap_or(0) as u64;
        let attach_error = |e: attach::AttachError| {
            RunError::Attach(format!("ERROR: could not attach probe {what}: {e}"))
        };
        match target {
            Target::Begin | Target::End => {}
            Target::Tracepoint(format) => {
                if tracefs.is_none() {
                    *tracefs =
                        Some(Tracefs::open().map_err(|e| RunError::Attach(format!("ERROR: {e}")))?);
                }
                let tracefs = tracefs.as_ref().expect("opened above");
                let id = tracefs
                    .event_id(&format.category, &format.name)
                    .map_err(|e| {
                        RunError::Attach(format!("ERROR: could not attach probe {what}: {e}"))
                    })?;
                attachments
                    .push(attach::tracepoint(program, id, cookie, &what).map_err(attach_error)?);
            }
            Target::Interval { period_ns, .. } => {
                attachments.push(
                    attach::perf_event(
                        program,
                        SOFTWARE,
                        CPU_CLOCK,
                        Sampling::Period(*period_ns),
                        0,
                        &what,
                    )
                    .map_err(attach_error)?,
                );
            }
            Target::Profile { period_ns, hz, .. } => {
                let sampling = match (period_ns, hz) {
                    (Some(ns), _) => Sampling::Period(*ns),
                    (None, Some(hz)) => Sampling::Frequency(*hz),
                    (None, None) => Sampling::Frequency(99),
                };
                for cpu in online()? {
                    attachments.push(
                        attach::perf_event(program, SOFTWARE, CPU_CLOCK, sampling, cpu, &what)
                            .map_err(attach_error)?,
                    );
                }
            }
            Target::Hardware { config, period, .. } => {
                for cpu in online()? {
                    let sampling = Sampling::Period(*period);
                    let attachment = attach::perf_event(
                        program,
                        sys::PERF_TYPE_HARDWARE,
                        *config,
                        sampling,
                        cpu,
                        &what,
                    )
                    .map_err(attach_error)?;
                    attachments.push(attachment);
                }
            }
            Target::Kprobe {
                function,
                offset,
                ret,
            } => {
                attachments.push(
                    attach::kprobe(program, function, *offset, *ret, cookie, &what)
                        .map_err(attach_error)?,
                );
            }
            Target::Software { config, period, .. } => {
                for cpu in online()? {
                    attachments.push(
                        attach::perf_event(
                            program,
                            SOFTWARE,
                            *config,
                            Sampling::Period(*period),
                            cpu,
                            &what,
                        )
                        .map_err(attach_error)?,
                    );
                }
            }
            Target::Uprobe {
                path, offset, ret, ..
            } => {
                attachments.push(
                    attach::uprobe(program, path, *offset, *ret, None, cookie, &what)
                        .map_err(attach_error)?,
                );
            }
            Target::Fentry { .. } => {
                attachments.push(attach::tracing(program, &what).map_err(attach_error)?);
            }
            Target::Usdt(probe) => {
                let attachment = attach::uprobe_with_semaphore(
                    program,
                    &probe.path,
                    probe.offset,
                    probe.semaphore,
                    false,
                    None,
                    cookie,
                    &what,
                )
                .map_err(attach_error)?;
                attachments.push(attachment);
            }
            Target::RawTracepoint { name } => {
                attachments.push(attach::raw_tracepoint(program, name).map_err(attach_error)?);
            }
        }
    }
    Ok(())
}

/// What the event loop should do next.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Exit(i32),
}

struct Handler<'a, 'p> {
    output: &'a Output,
    live: &'a Live,
    decoder: Decoder<'a>,
    printer: &'p mut dyn Printer,
    warned_full: Vec<bool>,
    exit_code: Option<i32>,
    io_error: Option<std::io::Error>,
}

impl Handler<'_, '_> {
    fn user_map(&self, index: usize) -> &Map {
        let id = self.output.compiled.user_map_ids[index];
        self.live.maps[id as usize]
            .as_ref()
            .expect("user maps are not ring buffers")
    }

    fn dump(&self, index: usize) -> Result<scry_output::MapDump, MapError> {
        let map = self.user_map(index);
        let mut entries = Vec::new();
        for key in map.keys()? {
            if let Some(values) = map.lookup_per_cpu(&key)? {
                entries.push((key, values));
            }
        }
        Ok(self
            .decoder
            .map_dump(&self.output.compiled.user_maps[index], entries))
    }

    fn handle(&mut self, record: &[u8]) -> std::io::Result<Flow> {
        if self.exit_code.is_some() {
            return Ok(Flow::Exit(self.exit_code.unwrap_or(0)));
        }
        let id = u64_at(record, 0) as usize;
        let Some(event) = self.output.compiled.events.get(id) else {
            return Ok(Flow::Continue);
        };
        match event {
            EventDef::Printf { format, args }
            | EventDef::System { format, args }
            | EventDef::Cat { format, args } => {
                let values = self.decoder.args(args, record);
                let text = match scry_output::parse_format(format).and_then(|f| f.format(&values)) {
                    Ok(text) => text,
                    Err(err) => format!("[printf error: {err}]"),
                };
                match event {
                    EventDef::Printf { .. } => self.printer.printf_event(format, &values, &text)?,
                    EventDef::System { .. } => {
                        let out = std::process::Command::new("/bin/sh")
                            .arg("-c")
                            .arg(&text)
                            .output()?;
                        self.printer
                            .syscall(&String::from_utf8_lossy(&out.stdout))?;
                    }
                    _ => {
                        let content = std::fs::read_to_string(&text)
                            .unwrap_or_else(|e| format!("{text}: {e}\n"));
                        self.printer.cat(&content)?;
                    }
                }
            }
            EventDef::Exit => {
                let code = u64_at(record, 8) as i32;
                self.exit_code = Some(code);
                return Ok(Flow::Exit(code));
            }
            EventDef::PrintMap { map, top, div } => {
                let dump = self.dump(*map).map_err(std::io::Error::other)?;
                self.printer.map(
                    &dump,
                    PrintOptions {
                        top: *top as usize,
                        div: *div,
                    },
                )?;
            }
            EventDef::PrintValue { ty } => {
                let value = self.decoder.value(ty, record.get(8..).unwrap_or_default());
                self.printer.value(&value)?;
            }
            EventDef::PrintRecord { layout } => {
                let value = layout.decode(record.get(8..).unwrap_or_default(), 0);
                self.printer.value(&value)?;
            }
            EventDef::Clear { map } => {
                self.user_map(*map).clear().map_err(std::io::Error::other)?
            }
            EventDef::Zero { map } => self.user_map(*map).zero().map_err(std::io::Error::other)?,
            EventDef::Time { format } => {
                let ns = sys::clock_ns(libc::CLOCK_REALTIME);
                let time = self.decoder.local_time(
                    ns.div_euclid(1_000_000_000),
                    ns.rem_euclid(1_000_000_000) as u32,
                );
                let format = format
                    .as_deref()
                    .unwrap_or(scry_output::DEFAULT_TIME_FORMAT);
                self.printer.time(&scry_output::strftime(format, &time))?;
            }
            EventDef::Join { delim, size } => {
                let count = (u64_at(record, 8) as usize).min(scry_codegen::JOIN_ARGS as usize);
                let parts: Vec<String> = (0..count)
                    .map(|i| {
                        let start = 16 + i * *size as usize;
                        let raw = record
                            .get(start..start + *size as usize)
                            .unwrap_or_default();
                        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                        String::from_utf8_lossy(&raw[..end]).into_owned()
                    })
                    .collect();
                let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                self.printer.join(&scry_output::join(&parts, delim))?;
            }
        }
        Ok(Flow::Continue)
    }

    /// The `counters` map: lost records, then failed updates per user map.
    fn counters(&self) -> Vec<u64> {
        let id = self.output.compiled.internal.counters as usize;
        let Some(Ok(Some(bytes))) = self.live.maps[id]
            .as_ref()
            .map(|m| m.lookup(&0u32.to_ne_bytes()))
        else {
            return Vec::new();
        };
        bytes.chunks(8).map(|c| u64_at(c, 0)).collect()
    }

    /// Warns once about each map that refused updates (it is full).
    fn check_full_maps(&mut self) {
        let counters = self.counters();
        for (index, warned) in self.warned_full.iter_mut().enumerate() {
            let failed = counters
                .get(scry_codegen::counters::MAP_FULL as usize + index)
                .copied()
                .unwrap_or(0);
            if failed > 0 && !*warned {
                *warned = true;
                let layout = &self.output.compiled.user_maps[index];
                let id = self.output.compiled.user_map_ids[index] as usize;
                let max = self.live.maps[id]
                    .as_ref()
                    .map(|m| m.spec.max_entries)
                    .unwrap_or(0);
                eprintln!(
                    "WARNING: map @{} is full ({max} entries): further updates are dropped; raise BPFTRACE_MAP_KEYS_MAX",
                    layout.info.name
                );
            }
        }
    }

    fn drain(&mut self, ring: &mut RingBuf) -> Flow {
        let mut flow = Flow::Continue;
        ring.drain(|record| {
            if self.io_error.is_some() {
                return;
            }
            match self.handle(record) {
                Ok(Flow::Exit(code)) => flow = Flow::Exit(code),
                Ok(Flow::Continue) => {}
                Err(err) => self.io_error = Some(err),
            }
        });
        if self.io_error.is_some() || self.printer.wants_exit() {
            return Flow::Exit(0);
        }
        flow
    }
}

/// Runs `output` until it exits; returns the exit code.
pub fn run(
    output: &Output,
    printer: &mut dyn Printer,
    options: &RunOptions,
) -> Result<i32, RunError> {
    run_observed(output, printer, options, None)
}

/// Something that wants every map's contents while a program runs (the Prometheus exporter).
pub trait MapObserver {
    /// How often to read the maps.
    fn period(&self) -> std::time::Duration;
    /// Every user map, decoded; called from the event loop every `period`, and once at the end.
    fn maps(&mut self, dumps: &[scry_output::MapDump]);
}

/// [`run`], reading every map for `observer` every `observer.period()`.
pub fn run_observed(
    output: &Output,
    printer: &mut dyn Printer,
    options: &RunOptions,
    mut observer: Option<&mut dyn MapObserver>,
) -> Result<i32, RunError> {
    if let Some(argv) = &options.command {
        let program = &argv[0];
        let found = if program.contains('/') {
            std::path::Path::new(program).is_file()
        } else {
            std::env::var("PATH")
                .unwrap_or_default()
                .split(':')
                .any(|dir| std::path::Path::new(dir).join(program).is_file())
        };
        if !found {
            return Err(RunError::Attach(format!(
                "ERROR: -c: command not found: {program}"
            )));
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let started = Instant::now();
    let n_cpus = scry_runtime::cpu::possible()?.len();
    let (live, mut ring) = create_maps(output, n_cpus)?;
    let compiled = &output.compiled;
    // Run-time constants: start time for `elapsed`.
    let config_map = live.maps[compiled.internal.config as usize]
        .as_ref()
        .expect("config is an array map");
    let mut config = vec![0u8; scry_codegen::config::SIZE as usize];
    let start_ns = sys::clock_ns(libc::CLOCK_BOOTTIME) as u64;
    config[scry_codegen::config::START_NS as usize..][..8].copy_from_slice(&start_ns.to_ne_bytes());
    config[scry_codegen::config::NCPUS as usize..][..8]
        .copy_from_slice(&(n_cpus as u64).to_ne_bytes());
    config_map.update(&0u32.to_ne_bytes(), &config)?;

    let mut programs = Vec::with_capacity(compiled.programs.len());
    // Which programs were loaded as BTF raw tracepoints (attached by their BTF id).
    let mut tp_btf = Vec::with_capacity(compiled.programs.len());
    let mut n_insns = 0;
    for spec in &compiled.programs {
        n_insns += spec.code.insns.len();
        let (program, is_tp_btf) = load(output, &live, spec)?;
        programs.push(program);
        tp_btf.push(is_tp_btf);
    }
    let loaded = started.elapsed();
    if options.dry_run {
        if options.verbose {
            eprintln!(
                "scry: {} programs ({n_insns} instructions) loaded in {loaded:.2?}",
                programs.len()
            );
        }
        return Ok(0);
    }
    let mut decoder = Decoder::new(compiled);
    if let Some(stacks) = live.maps[compiled.internal.stacks as usize].as_ref() {
        decoder.stacks = Some(Box::new(move |id: u32| {
            let value = stacks.lookup(&id.to_ne_bytes()).ok().flatten()?;
            Some(value.chunks(8).map(|c| u64_at(c, 0)).collect())
        }));
    }
    if compiled.uses_user_stacks {
        // Stacks are symbolized when printed; by then short-lived processes may be gone.
        decoder.symbolizer.borrow_mut().processes().snapshot_all();
    }
    let mut tracefs = None;
    let mut attachments: Vec<Attachment> = Vec::new();
    for ((program, spec), is_tp_btf) in programs.iter().zip(&compiled.programs).zip(&tp_btf) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if *is_tp_btf {
            let what = spec.targets[0].probe_name();
            let attachment = attach::tracing(program, &what).map_err(|e| {
                RunError::Attach(format!("ERROR: could not attach probe {what}: {e}"))
            })?;
            attachments.push(attachment);
            continue;
        }
        attach_program(
            program,
            spec,
            &live,
            &mut tracefs,
            &mut decoder,
            &mut attachments,
        )?;
    }
    let n_probes: usize = compiled.programs.iter().map(|p| p.targets.len()).sum();
    let attached = started.elapsed();
    if options.verbose {
        eprintln!(
            "scry: {} programs ({} instructions), {} maps; loaded in {:.2?}, attached in {:.2?}",
            compiled.programs.len(),
            n_insns,
            compiled.maps.len(),
            loaded,
            attached - loaded
        );
    }
    printer.attached_probes(n_probes as u64)?;
    printer.flush()?;

    let mut handler = Handler {
        output,
        live: &live,
        decoder,
        printer,
        warned_full: vec![false; compiled.user_maps.len()],
        exit_code: None,
        io_error: None,
    };
    let mut flow = Flow::Continue;
    // The -c command exists (held before exec) before BEGIN runs, so BEGIN sees `cpid`.
    let mut child = match &options.command {
        Some(argv) => {
            let child = sys::spawn_held(argv)?;
            let cpid = child.pid as u64;
            config[scry_codegen::config::CPID as usize..][..8].copy_from_slice(&cpid.to_ne_bytes());
            config_map.update(&0u32.to_ne_bytes(), &config)?;
            Some(child)
        }
        None => None,
    };
    for (program, spec) in programs.iter().zip(&compiled.programs) {
        if spec.kind == ProgKind::Begin {
            program.test_run()?;
        }
    }
    let ring = &mut ring;
    if handler.drain(ring) != Flow::Continue {
        flow = Flow::Exit(handler.exit_code.unwrap_or(0));
    }
    handler.printer.flush()?;
    if options.notify {
        eprintln!("__BPFTRACE_NOTIFY_PROBES_ATTACHED");
    }
    if let (Some(child), Flow::Continue) = (child.as_mut(), &flow) {
        child.release();
    }
    let mut last_snapshot = Instant::now();
    let mut last_observed = Instant::now();
    while flow == Flow::Continue {
        if let Some(observer) = observer.as_deref_mut()
            && last_observed.elapsed() >= observer.period()
        {
            let dumps: Vec<_> = (0..compiled.user_maps.len())
                .filter_map(|i| handler.dump(i).ok())
                .collect();
            observer.maps(&dumps);
            last_observed = Instant::now();
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(child) = child.as_mut()
            && child.has_exited()
        {
            break;
        }
        ring.wait(100)?;
        flow = handler.drain(ring);
        handler.check_full_maps();
        // The -c command was snapshotted before its exec: refresh it while it runs, so that
        // its stacks still symbolize after it exits.
        if let (true, Some(child)) = (compiled.uses_user_stacks, child.as_ref()) {
            let _ = handler
                .decoder
                .symbolizer
                .borrow_mut()
                .processes()
                .refresh(child.pid);
        }
        if compiled.uses_user_stacks && last_snapshot.elapsed() >= std::time::Duration::from_secs(1)
        {
            handler
                .decoder
                .symbolizer
                .borrow_mut()
                .processes()
                .snapshot_all();
            last_snapshot = Instant::now();
        }
        if handler.printer.flush().is_err() {
            break;
        }
    }
    for (program, spec) in programs.iter().zip(&compiled.programs) {
        if spec.kind == ProgKind::End {
            program.test_run()?;
        }
    }
    handler.exit_code = None;
    handler.drain(ring);
    let mut dumps = Vec::with_capacity(compiled.user_maps.len());
    for index in 0..compiled.user_maps.len() {
        dumps.push(handler.dump(index)?);
    }
    handler.check_full_maps();
    let lost = handler.counters().first().copied().unwrap_or(0);
    if let Some(observer) = observer {
        observer.maps(&dumps);
    }
    let result = handler.printer.end_of_run(&dumps).and_then(|_| {
        if lost > 0 {
            handler.printer.lost_events(lost)?;
        }
        handler.printer.flush()
    });
    if let Err(err) = result
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(err.into());
    }
    if options.flamegraph.is_some() || options.folded.is_some() {
        write_flamegraph(&dumps, options)?;
    }
    if let Some(mut child) = child {
        child.stop();
    }
    attach::detach_all(attachments);
    drop(programs);
    Ok(match flow {
        Flow::Exit(code) => code,
        Flow::Continue => 0,
    })
}

/// Writes the folded stacks and the flame graph the options ask for.
fn write_flamegraph(dumps: &[scry_output::MapDump], options: &RunOptions) -> Result<(), RunError> {
    let Some(folded) = crate::flamegraph::folded(dumps) else {
        eprintln!("WARNING: no map is keyed by kstack or ustack: no flame graph written");
        return Ok(());
    };
    if let Some(path) = &options.folded {
        std::fs::write(path, &folded)?;
    }
    if let Some(path) = &options.flamegraph {
        let svg = crate::flamegraph::svg(&folded, "scry")
            .map_err(|e| RunError::Attach(format!("ERROR: flame graph: {e}")))?;
        std::fs::write(path, svg)?;
    }
    Ok(())
}
