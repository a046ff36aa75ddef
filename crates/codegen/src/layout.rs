//! Byte layouts of user maps' keys and values, shared with the decoder in user space.

use scry_sema::{MapInfo, MapValue, Type};

use crate::MapKind;

/// How a user map is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapLayout {
    pub info: MapInfo,
    pub kind: MapKind,
    /// Key parts and their offsets; a map without keys has one u64 key 0.
    pub key_parts: Vec<(Type, u32)>,
    /// The user-visible key's size (without the hist bucket suffix).
    pub key_size: u32,
    /// hist/lhist maps append a u64 bucket index to the key.
    pub bucketed: bool,
    pub value_size: u32,
}

impl MapLayout {
    pub fn new(info: &MapInfo) -> MapLayout {
        let offsets = Type::tuple_offsets(&info.keys);
        let key_parts: Vec<(Type, u32)> = info.keys.iter().cloned().zip(offsets).collect();
        let key_size = if info.keys.is_empty() {
            8
        } else {
            Type::Tuple(info.keys.clone()).storage_size().max(8)
        };
        let bucketed = matches!(info.value, MapValue::Hist { .. } | MapValue::Lhist { .. });
        let value_size = match &info.value {
            MapValue::Plain(ty) => ty.storage_size().max(8).div_ceil(8) * 8,
            MapValue::Min { .. }
            | MapValue::Max { .. }
            | MapValue::Avg { .. }
            | MapValue::Stats { .. } => 16,
            _ => 8,
        };
        let kind = if info.value.is_aggregation() {
            MapKind::PerCpuHash
        } else {
            MapKind::Hash
        };
        MapLayout {
            info: info.clone(),
            kind,
            key_parts,
            key_size,
            bucketed,
            value_size,
        }
    }

    /// The kernel key size (with the bucket suffix for histograms).
    pub fn full_key_size(&self) -> u32 {
        self.key_size + if self.bucketed { 8 } else { 0 }
    }
}
