//! scry-sema.
