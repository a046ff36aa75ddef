//! scry-codegen.
