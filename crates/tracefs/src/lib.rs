//! scry-tracefs.
