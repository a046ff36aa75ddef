//! Reader for `BPF_MAP_TYPE_RINGBUF`.
//!
//! Layout (kernel `kernel/bpf/ringbuf.c`): page 0 holds the consumer position (we write it),
//! page 1 the producer position, then the data area mapped twice so records that wrap are
//! contiguous. Each record has an 8-byte header: a length word with the BUSY (bit 31) and
//! DISCARD (bit 30) flags, and a page offset; records are padded to 8 bytes.

use std::io;

use crate::map::{Map, MapError, MapSpec, MapType};
use crate::sys::{self, Mmap};

const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HEADER: usize = 8;

/// A ring buffer map and its mappings.
pub struct RingBuf {
    map: Map,
    consumer: Mmap,
    producer: Mmap,
    data_offset: usize,
    mask: u64,
}

/// Errors setting up a ring buffer.
#[derive(Debug, thiserror::Error)]
pub enum RingBufError {
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("mapping the ring buffer: {0}")]
    Mmap(#[source] io::Error),
}

impl RingBuf {
    /// Creates a ring buffer of `size` bytes (a power of two, a multiple of the page size).
    pub fn create(name: &str, size: u32) -> Result<RingBuf, RingBufError> {
        let spec = MapSpec {
            name: name.to_string(),
            ty: MapType::RingBuf,
            key_size: 0,
            value_size: 0,
            max_entries: size,
            no_prealloc: false,
        };
        let map = Map::create(spec, 1)?;
        let page = sys::page_size();
        let consumer = Mmap::new(map.fd(), page, 0, true).map_err(RingBufError::Mmap)?;
        let producer = Mmap::new(map.fd(), page + 2 * size as usize, page as i64, false)
            .map_err(RingBufError::Mmap)?;
        Ok(RingBuf {
            map,
            consumer,
            producer,
            data_offset: page,
            mask: size as u64 - 1,
        })
    }

    /// The map, for code generation (its fd goes into `ringbuf_output` calls).
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// Calls `handle` on every complete record available now; returns how many were read.
    pub fn drain(&mut self, mut handle: impl FnMut(&[u8])) -> usize {
        let mut consumer_pos = self.consumer.load_acquire_u64(0);
        let mut count = 0;
        loop {
            let producer_pos = self.producer.load_acquire_u64(0);
            if consumer_pos >= producer_pos {
                break;
            }
            let offset = self.data_offset + (consumer_pos & self.mask) as usize;
            let header = self.producer.load_acquire_u32(offset);
            if header & BUSY != 0 {
                break;
            }
            let len = (header & !(BUSY | DISCARD)) as usize;
            if header & DISCARD == 0 {
                handle(self.producer.slice(offset + HEADER, len));
                count += 1;
            }
            consumer_pos += ((len + HEADER).div_ceil(8) * 8) as u64;
            self.consumer.store_release_u64(0, consumer_pos);
        }
        count
    }

    /// Waits up to `timeout_ms` for data. Returns false on timeout or signal.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<bool> {
        sys::poll_readable(&[self.map.fd()], timeout_ms)
    }
}
