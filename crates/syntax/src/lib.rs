//! scry-syntax.
