//! scry-runtime.
