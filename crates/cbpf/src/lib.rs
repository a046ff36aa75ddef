//! scry-cbpf.
