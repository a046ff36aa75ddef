//! BPF maps with byte-level keys and values.
//!
//! A bpftrace map's key and value layouts are decided by the compiler at run time, so maps are
//! handled as byte strings; the caller decodes them with the layouts it generated.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::sys::{self, BpfAttr};

/// The map types scry creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    Hash,
    Array,
    PerCpuHash,
    PerCpuArray,
    StackTrace,
    LruHash,
    RingBuf,
}

impl MapType {
    fn raw(self) -> u32 {
        match self {
            MapType::Hash => 1,
            MapType::Array => 2,
            MapType::PerCpuHash => 5,
            MapType::PerCpuArray => 6,
            MapType::StackTrace => 7,
            MapType::LruHash => 9,
            MapType::RingBuf => 27,
        }
    }

    /// True for maps whose lookups return one value per possible CPU.
    pub fn is_per_cpu(self) -> bool {
        matches!(self, MapType::PerCpuHash | MapType::PerCpuArray)
    }
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSpec {
    pub name: String,
    pub ty: MapType,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// Allocate hash map entries as they are inserted (`BPF_F_NO_PREALLOC`) instead of all
    /// at creation: preallocating 10,240 per-CPU histograms takes tens of milliseconds.
    /// Programs of type perf_event may only use preallocated hash maps.
    pub no_prealloc: bool,
}

/// Errors creating or using maps.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("creating map {name}: {source}")]
    Create {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("map {name}: {op}: {source}")]
    Op {
        name: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
}

/// A live map.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    pub spec: MapSpec,
    n_cpus: usize,
}

/// The kernel's map name: at most 15 characters of `[A-Za-z0-9_.]`.
fn kernel_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let cleaned = name.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || b == b'.' {
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

fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

const BPF_F_NO_PREALLOC: u32 = 1;

impl Map {
    /// Creates the map. `n_possible_cpus` sizes per-CPU value buffers.
    pub fn create(spec: MapSpec, n_possible_cpus: usize) -> Result<Map, MapError> {
        let mut attr = BpfAttr::default();
        attr.put_u32(0, spec.ty.raw())
            .put_u32(4, spec.key_size)
            .put_u32(8, spec.value_size)
            .put_u32(12, spec.max_entries)
            .put_u32(
                16,
                if spec.no_prealloc {
                    BPF_F_NO_PREALLOC
                } else {
                    0
                },
            )
            .put_bytes(28, &kernel_name(&spec.name));
        let fd =
            sys::bpf_fd(sys::BPF_MAP_CREATE, &mut attr).map_err(|source| MapError::Create {
                name: spec.name.clone(),
                source,
            })?;
        Ok(Map {
            fd,
            spec,
            n_cpus: n_possible_cpus.max(1),
        })
    }

    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    fn op_error(&self, op: &'static str, source: io::Error) -> MapError {
        MapError::Op {
            name: self.spec.name.clone(),
            op,
            source,
        }
    }

    /// Size of the buffer a lookup fills: one 8-byte-aligned slot per CPU for per-CPU maps.
    pub fn lookup_size(&self) -> usize {
        if self.spec.ty.is_per_cpu() {
            round8(self.spec.value_size as usize) * self.n_cpus
        } else {
            self.spec.value_size as usize
        }
    }

    /// The value for `key`, or None. Per-CPU maps return every CPU's value back to back,
    /// each in a slot of `value_size` rounded up to 8 bytes.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        debug_assert_eq!(key.len(), self.spec.key_size as usize);
        let mut value = vec![0u8; self.lookup_size()];
        let mut attr = BpfAttr::default();
        attr.put_u32(0, self.fd() as u32)
            .put_u64(8, key.as_ptr() as u64)
            .put_u64(16, value.as_mut_ptr() as u64);
        match sys::bpf(sys::BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(_) => Ok(Some(value)),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(err) => Err(self.op_error("lookup", err)),
        }
    }

    /// The per-CPU values of `key`, split into one slice each.
    pub fn lookup_per_cpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, MapError> {
        let Some(raw) = self.lookup(key)? else {
            return Ok(None);
        };
        if !self.spec.ty.is_per_cpu() {
            return Ok(Some(vec![raw]));
        }
        let stride = round8(self.spec.value_size as usize);
        Ok(Some(
            raw.chunks(stride)
                .map(|c| c[..self.spec.value_size as usize].to_vec())
                .collect(),
        ))
    }

    /// Sets `key` to `value` (for per-CPU maps `value` holds every CPU's slot).
    pub fn update(&self, key: &[u8], value: &[u8]) -> Result<(), MapError> {
        let mut attr = BpfAttr::default();
        attr.put_u32(0, self.fd() as u32)
            .put_u64(8, key.as_ptr() as u64)
            .put_u64(16, value.as_ptr() as u64)
            .put_u64(24, 0);
        sys::bpf(sys::BPF_MAP_UPDATE_ELEM, &mut attr).map_err(|e| self.op_error("update", e))?;
        Ok(())
    }

    /// Deletes `key`; a missing key is not an error.
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        let mut attr = BpfAttr::default();
        attr.put_u32(0, self.fd() as u32)
            .put_u64(8, key.as_ptr() as u64);
        match sys::bpf(sys::BPF_MAP_DELETE_ELEM, &mut attr) {
            Ok(_) => Ok(()),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(err) => Err(self.op_error("delete", err)),
        }
    }

    /// The key after `key` (the first key when `key` is None), or None at the end.
    pub fn next_key(&self, key: Option<&[u8]>) -> Result<Option<Vec<u8>>, MapError> {
        let mut next = vec![0u8; self.spec.key_size as usize];
        let mut attr = BpfAttr::default();
        attr.put_u32(0, self.fd() as u32)
            .put_u64(8, key.map(|k| k.as_ptr() as u64).unwrap_or(0))
            .put_u64(16, next.as_mut_ptr() as u64);
        match sys::bpf(sys::BPF_MAP_GET_NEXT_KEY, &mut attr) {
            Ok(_) => Ok(Some(next)),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(err) => Err(self.op_error("next key", err)),
        }
    }

    /// Every key currently in the map.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, MapError> {
        let mut keys = Vec::new();
        let mut current: Option<Vec<u8>> = None;
        while let Some(next) = self.next_key(current.as_deref())? {
            keys.push(next.clone());
            current = Some(next);
            if keys.len() > self.spec.max_entries as usize {
                break; // Concurrent deletes can restart the walk; never loop forever.
            }
        }
        Ok(keys)
    }

    /// Removes every key (hash maps) or zeroes every value (array maps).
    pub fn clear(&self) -> Result<(), MapError> {
        match self.spec.ty {
            MapType::Array | MapType::PerCpuArray => {
                let zero = vec![0u8; self.lookup_size()];
                for index in 0..self.spec.max_entries {
                    self.update(&index.to_ne_bytes(), &zero)?;
                }
                Ok(())
            }
            _ => {
                for key in self.keys()? {
                    self.delete(&key)?;
                }
                Ok(())
            }
        }
    }

    /// Zeroes every value, keeping the keys.
    pub fn zero(&self) -> Result<(), MapError> {
        let zero = vec![0u8; self.lookup_size()];
        for key in self.keys()? {
            self.update(&key, &zero)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_sanitised_and_cut() {
        assert_eq!(&kernel_name("@start")[..7], b"_start\0");
        assert_eq!(kernel_name("a_very_long_map_name_indeed")[15], 0);
    }
}
