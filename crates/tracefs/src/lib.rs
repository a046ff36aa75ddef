//! scry-tracefs: pure parsers for tracefs text.
//!
//! * [`parse_format`] reads a tracepoint `format` file into an [`EventFormat`] whose
//!   fields carry a structured [`FieldType`] (integers, chars, pointers, arrays,
//!   `__data_loc`/`__rel_loc` strings).
//! * [`format_args_listing`] / [`format_listing`] print the fields like `bpftrace -lv`.
//! * [`wildcard_match`] and [`match_events`] select events from `available_events`.
//!
//! Nothing here touches the file system; callers read the files.

mod field_type;
mod format;
mod glob;
mod listing;

pub use field_type::FieldType;
pub use format::{EventFormat, Field, FormatError, parse_format};
pub use glob::{EventName, match_events, parse_available_events, wildcard_match};
pub use listing::{format_args_listing, format_listing};
