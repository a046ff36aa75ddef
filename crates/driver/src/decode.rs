//! Kernel bytes → output values, using the layouts the code generator chose.

use std::collections::HashMap;

use scry_codegen::{Compiled, MapLayout};
use scry_output::{AggValue, MapDump, MapEntry, MapKind, Value};
use scry_sema::{MapValue, Type};

/// Reads a little-endian u64 at `offset` (zero past the end).
pub fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0u8; 8];
    if let Some(slice) = bytes.get(offset..) {
        let n = slice.len().min(8);
        word[..n].copy_from_slice(&slice[..n]);
    }
    u64::from_ne_bytes(word)
}

/// Reads the frames of a stack id from the kernel's stack map.
pub type StackReader<'a> = Box<dyn Fn(u32) -> Option<Vec<u64>> + 'a>;

/// What decoding needs besides the bytes.
pub struct Decoder<'a> {
    pub compiled: &'a Compiled,
    /// Frames of stack ids (set by the session once the stack map exists).
    pub stacks: Option<StackReader<'a>>,
    pub symbolizer: std::cell::RefCell<scry_symbolize::Symbolizer>,
    /// Boot time in wall-clock nanoseconds, for strftime().
    pub boot_wall_ns: i64,
    pub time_zone: Option<scry_output::TimeZone>,
    users: std::cell::RefCell<Option<HashMap<u32, String>>>,
}

impl<'a> Decoder<'a> {
    pub fn new(compiled: &'a Compiled) -> Decoder<'a> {
        let time_zone = std::env::var("TZ")
            .ok()
            .map(|tz| format!("/usr/share/zoneinfo/{}", tz.trim_start_matches(':')))
            .and_then(|path| std::fs::read(path).ok())
            .or_else(|| std::fs::read("/etc/localtime").ok())
            .and_then(|bytes| scry_output::TimeZone::from_tzif(&bytes).ok());
        Decoder {
            compiled,
            stacks: None,
            symbolizer: std::cell::RefCell::new(scry_symbolize::Symbolizer::new()),
            boot_wall_ns: boot_wall_ns(),
            time_zone,
            users: std::cell::RefCell::new(None),
        }
    }

    /// Local time for a Unix time.
    pub fn local_time(&self, secs: i64, nanos: u32) -> scry_output::LocalTime {
        match &self.time_zone {
            Some(tz) => tz.local_time(secs, nanos),
            None => scry_output::LocalTime::utc(secs, nanos),
        }
    }

    fn username(&self, uid: u32) -> String {
        let mut users = self.users.borrow_mut();
        let table = users.get_or_insert_with(|| {
            std::fs::read_to_string("/etc/passwd")
                .unwrap_or_default()
                .lines()
                .filter_map(|line| {
                    let mut parts = line.split(':');
                    let name = parts.next()?;
                    let id = parts.nth(1)?.parse().ok()?;
                    Some((id, name.to_string()))
                })
                .collect()
        });
        table.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }

    fn probe_name(&self, id: u64) -> String {
        self.compiled
            .probe_names
            .get(id as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Decodes a value of type `ty` stored at the start of `bytes`.
    pub fn value(&self, ty: &Type, bytes: &[u8]) -> Value {
        let word = u64_at(bytes, 0);
        match ty {
            Type::Int {
                bytes: width,
                signed: true,
            } => {
                let shift = 64 - *width as u32 * 8;
                Value::Int(((word << shift) as i64) >> shift)
            }
            Type::Int {
                bytes: width,
                signed: false,
            } => {
                let shift = 64 - *width as u32 * 8;
                Value::UInt((word << shift) >> shift)
            }
            Type::Bool => Value::Bool(word != 0),
            Type::Str(n) => {
                let raw = &bytes[..(*n as usize).min(bytes.len())];
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                Value::Str(String::from_utf8_lossy(&raw[..end]).into_owned())
            }
            Type::Buf(n) => {
                let len = (word as usize).min(*n as usize);
                Value::Buf(bytes.get(8..8 + len).unwrap_or_default().to_vec())
            }
            Type::Tuple(elems) => {
                let offsets = Type::tuple_offsets(elems);
                Value::Tuple(
                    elems
                        .iter()
                        .zip(offsets)
                        .map(|(t, at)| self.value(t, bytes.get(at as usize..).unwrap_or_default()))
                        .collect(),
                )
            }
            Type::Probe => Value::Sym(self.probe_name(word)),
            Type::CgroupPath => Value::Str(cgroup_path(word)),
            Type::Func => {
                let name = self.probe_name(word);
                Value::Sym(demangle(name.rsplit(':').next().unwrap_or_default()))
            }
            Type::Username => Value::Sym(self.username(word as u32)),
            Type::Ksym => {
                let sym = self.symbolizer.borrow_mut().ksym(word).ok().flatten();
                Value::Sym(scry_symbolize::format_sym(word, sym.as_ref(), false))
            }
            Type::Usym => {
                let pid = u64_at(bytes, 8) as u32;
                let sym = self.symbolizer.borrow_mut().usym(pid, word);
                Value::Sym(scry_symbolize::format_sym(word, sym.as_ref(), false))
            }
            Type::Stack { user, mode, limit } => self.stack(*user, *mode, *limit, word),
            Type::Ptr { .. } => Value::UInt(word),
            Type::Inet => Value::Sym(format_inet(word, bytes.get(8..24).unwrap_or_default())),
            Type::RecordValue { layout, .. } => layout.decode(bytes, 0),
            Type::Timestamp => {
                let format = self
                    .compiled
                    .strftime_formats
                    .get(word as usize)
                    .cloned()
                    .unwrap_or_default();
                let ns = self.boot_wall_ns + u64_at(bytes, 8) as i64;
                let time = self.local_time(
                    ns.div_euclid(1_000_000_000),
                    ns.rem_euclid(1_000_000_000) as u32,
                );
                Value::Str(scry_output::strftime(&format, &time))
            }
            Type::None | Type::Args | Type::Record(_) => Value::None,
        }
    }

    /// A stack value: frames from the stack map, symbolized.
    fn stack(&self, user: bool, mode: u8, limit: u8, word: u64) -> Value {
        let id = word as u32;
        let pid = (word >> 32) as u32;
        let mut addrs = self
            .stacks
            .as_ref()
            .and_then(|read| read(id))
            .unwrap_or_default();
        if let Some(end) = addrs.iter().position(|&a| a == 0) {
            addrs.truncate(end);
        }
        if limit > 0 {
            addrs.truncate(limit as usize);
        }
        let mut symbolizer = self.symbolizer.borrow_mut();
        let all_frames = scry_symbolize::StackFormat::printf(scry_symbolize::StackMode::Bpftrace);
        let frames = if mode == 2 {
            addrs.iter().map(|&a| (a, None)).collect()
        } else if user {
            symbolizer.uframes(pid, &addrs, &all_frames)
        } else {
            symbolizer
                .kframes(&addrs, &all_frames)
                .unwrap_or_else(|_| addrs.iter().map(|&a| (a, None)).collect())
        };
        let frames = frames
            .iter()
            .map(|(addr, sym)| match mode {
                1 => {
                    let text = scry_symbolize::format_sym(*addr, sym.as_ref(), true);
                    match (user, sym.as_ref().and_then(|s| s.module.as_deref())) {
                        (true, Some(module)) => format!("{addr:x} {text} ({module})"),
                        (true, None) => format!("{addr:x} {text} ([unknown])"),
                        _ => format!("{addr:x} {text}"),
                    }
                }
                2 => format!("{addr:x}"),
                _ => scry_symbolize::format_sym(*addr, sym.as_ref(), true),
            })
            .collect();
        let mode = if mode == 1 {
            scry_output::StackMode::Perf
        } else {
            scry_output::StackMode::Bpftrace
        };
        Value::Stack(scry_output::Stack { mode, frames })
    }

    /// Decodes the arguments of a record laid out like a tuple after its 8-byte id.
    pub fn args(&self, types: &[Type], record: &[u8]) -> Vec<Value> {
        let offsets = Type::tuple_offsets(types);
        types
            .iter()
            .zip(offsets)
            .map(|(t, at)| self.value(t, record.get(8 + at as usize..).unwrap_or_default()))
            .collect()
    }

    /// A map's contents as a dump, merging per-CPU values.
    pub fn map_dump(&self, layout: &MapLayout, entries: Vec<(Vec<u8>, Vec<Vec<u8>>)>) -> MapDump {
        let kind = match &layout.info.value {
            MapValue::Plain(_) => MapKind::Plain,
            MapValue::Count => MapKind::Count,
            MapValue::Sum { .. } => MapKind::Sum,
            MapValue::Min { .. } => MapKind::Min,
            MapValue::Max { .. } => MapKind::Max,
            MapValue::Avg { .. } => MapKind::Avg,
            MapValue::Stats { .. } => MapKind::Stats,
            MapValue::Hist { .. } => MapKind::Hist,
            MapValue::Lhist { min, max, step } => MapKind::Lhist {
                min: *min,
                max: *max,
                step: *step,
            },
        };
        let key_of = |key: &[u8]| -> Vec<Value> {
            layout
                .key_parts
                .iter()
                .map(|(ty, at)| self.value(ty, key.get(*at as usize..).unwrap_or_default()))
                .collect()
        };
        let mut result: Vec<MapEntry> = Vec::new();
        if layout.bucketed {
            let mut grouped: Vec<(Vec<u8>, Vec<u64>)> = Vec::new();
            for (key, values) in entries {
                let user_key = key[..layout.key_size as usize].to_vec();
                let bucket = u64_at(&key, layout.key_size as usize) as usize;
                let count: u64 = values.iter().map(|v| u64_at(v, 0)).sum();
                let slot = match grouped.iter().position(|(k, _)| *k == user_key) {
                    Some(i) => i,
                    None => {
                        grouped.push((user_key, Vec::new()));
                        grouped.len() - 1
                    }
                };
                let counts = &mut grouped[slot].1;
                if counts.len() <= bucket {
                    counts.resize(bucket + 1, 0);
                }
                counts[bucket] += count;
            }
            for (key, counts) in grouped {
                result.push(MapEntry {
                    key: key_of(&key),
                    value: AggValue::Hist(counts),
                });
            }
        } else {
            for (key, values) in entries {
                let value = match &layout.info.value {
                    MapValue::Count => AggValue::UInt(values.iter().map(|v| u64_at(v, 0)).sum()),
                    MapValue::Sum { signed: true } => {
                        AggValue::Int(values.iter().map(|v| u64_at(v, 0) as i64).sum())
                    }
                    MapValue::Sum { signed: false } => {
                        AggValue::UInt(values.iter().map(|v| u64_at(v, 0)).sum())
                    }
                    MapValue::Min { signed } | MapValue::Max { signed } => {
                        let is_min = matches!(layout.info.value, MapValue::Min { .. });
                        let set = values
                            .iter()
                            .filter(|v| u64_at(v, 8) != 0)
                            .map(|v| u64_at(v, 0));
                        if *signed {
                            let set = set.map(|v| v as i64);
                            AggValue::Int(if is_min { set.min() } else { set.max() }.unwrap_or(0))
                        } else {
                            AggValue::UInt(if is_min { set.min() } else { set.max() }.unwrap_or(0))
                        }
                    }
                    MapValue::Avg { .. } | MapValue::Stats { .. } => AggValue::Avg {
                        total: values.iter().map(|v| u64_at(v, 0) as i64).sum(),
                        count: values.iter().map(|v| u64_at(v, 8)).sum(),
                    },
                    MapValue::Plain(ty) => AggValue::Plain(
                        self.value(ty, values.first().map(Vec::as_slice).unwrap_or_default()),
                    ),
                    MapValue::Hist { .. } | MapValue::Lhist { .. } => {
                        unreachable!("bucketed maps handled above")
                    }
                };
                let key = if layout.info.keys.is_empty() {
                    Vec::new()
                } else {
                    key_of(&key)
                };
                result.push(MapEntry { key, value });
            }
        }
        let name = format!("@{}", layout.info.name);
        MapDump {
            name,
            kind,
            entries: result,
        }
    }
}

/// The paths of cgroup `id` in every mounted hierarchy, as bpftrace prints them
/// (`unified:/user.slice,cpu:/,…`): the cgroup v2 hierarchy first, then v1 by name. A cgroup's
/// id is its directory's inode number.
pub fn cgroup_path(id: u64) -> String {
    use std::os::unix::fs::MetadataExt;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut hierarchies: Vec<(String, String)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            let mut fields = right.split_whitespace();
            let fstype = fields.next()?;
            let options = fields.nth(1).unwrap_or_default();
            let name = match fstype {
                "cgroup2" => "unified".to_string(),
                "cgroup" => options
                    .split(',')
                    .filter(|o| *o != "rw" && *o != "ro")
                    .map(|o| o.strip_prefix("name=").unwrap_or(o))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => return None,
            };
            Some((name, mount_point.to_string()))
        })
        .collect();
    hierarchies.sort_by(|a, b| (a.0 != "unified", &a.0).cmp(&(b.0 != "unified", &b.0)));
    let find = |root: &str| -> Option<String> {
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            if std::fs::metadata(&dir).map(|m| m.ino()).ok() == Some(id) {
                let relative = dir.strip_prefix(root).ok()?.to_string_lossy().into_owned();
                return Some(format!("/{relative}"));
            }
            if let Ok(entries) = std::fs::read_dir(&dir) {
                stack.extend(
                    entries
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                        .map(|e| e.path()),
                );
            }
        }
        None
    };
    hierarchies
        .iter()
        .filter_map(|(name, root)| find(root).map(|path| format!("{name}:{path}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// A C++ or Rust symbol in source form (`_ZN3foo3barEv` → `foo::bar`); others unchanged.
pub fn demangle(symbol: &str) -> String {
    if let Ok(demangled) = rustc_demangle::try_demangle(symbol) {
        return format!("{demangled:#}");
    }
    if symbol.starts_with("_Z")
        && let Ok(parsed) = cpp_demangle::Symbol::new(symbol)
        && let Ok(text) = parsed.demangle()
    {
        return text;
    }
    symbol.to_string()
}

fn format_inet(family: u64, addr: &[u8]) -> String {
    match family {
        2 if addr.len() >= 4 => {
            std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string()
        }
        10 if addr.len() >= 16 => {
            let octets: [u8; 16] = addr[..16].try_into().expect("16 bytes");
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => String::new(),
    }
}

/// Wall-clock time of boot, in nanoseconds (realtime − boottime).
fn boot_wall_ns() -> i64 {
    use scry_runtime::sys::clock_ns;
    clock_ns(libc::CLOCK_REALTIME) - clock_ns(libc::CLOCK_BOOTTIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_cpp_and_rust() {
        assert_eq!(demangle("_ZN3foo3barEv"), "foo::bar()");
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE"),
            "core::fmt::write"
        );
        assert_eq!(demangle("readline"), "readline");
    }

    #[test]
    fn inet_formats() {
        assert_eq!(format_inet(2, &[127, 0, 0, 1]), "127.0.0.1");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(format_inet(10, &v6), "::1");
    }
}
