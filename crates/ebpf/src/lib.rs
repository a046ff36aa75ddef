//! scry-ebpf.
