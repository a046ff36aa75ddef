//! scry-btf.
