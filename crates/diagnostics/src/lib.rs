//! scry-diagnostics.
