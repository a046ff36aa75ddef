//! scry-output.
