//! scry-output: the pure, user-space formatting layer of scry's bpftrace-compatible runtime.
//!
//! Everything a bpftrace program prints goes through this crate: `printf` formatting,
//! `print()` of values and maps, histograms, the end-of-run map dump, `time()`/`strftime()`
//! and the NDJSON output of `-f json`. The output is byte-identical to bpftrace (0.17 is the
//! reference, with the bug fixes of current bpftrace listed in `API.md`).
//!
//! The crate does no I/O except writing to the [`std::io::Write`] values handed to a
//! [`Printer`]; decoding kernel bytes into [`Value`]s and [`MapDump`]s is the runtime's job.
//!
//! ```
//! use scry_output::{
//!     AggValue, MapDump, MapEntry, MapKind, PrintOptions, Printer, TextPrinter, Value,
//!     parse_format,
//! };
//!
//! // The compiler parses the format once and checks the argument count and classes.
//! let format = parse_format("%s: %d\n").unwrap();
//! assert_eq!(format.arg_count(), 2);
//!
//! // The runtime formats each event and hands the text to the printer.
//! let mut printer = TextPrinter::new(Vec::new(), Vec::new());
//! let text = format.format(&[Value::Str("bash".into()), Value::Int(42)]).unwrap();
//! printer.printf(&text).unwrap();
//! let counts = MapDump {
//!     name: "@calls".into(),
//!     kind: MapKind::Count,
//!     entries: vec![MapEntry { key: vec![Value::Str("read".into())], value: AggValue::UInt(7) }],
//! };
//! printer.end_of_run(&[counts]).unwrap();
//! let (out, _err) = printer.into_inner();
//! assert_eq!(String::from_utf8(out).unwrap(), "bash: 42\n\n\n@calls[read]: 7\n");
//! ```

#![warn(missing_docs)]

mod capture;
mod hist;
mod json;
mod layout;
mod map;
mod printer;
mod printf;
mod text;
mod time;
mod value;

pub use capture::{CapturePrinter, Event};
pub use hist::{HIST_BUCKETS, hist_bucket, lhist_bucket, lhist_buckets};
pub use json::JsonPrinter;
pub use layout::{Layout, Member};
pub use map::{AggValue, MapDump, MapEntry, MapKind, PrintOptions};
pub use printer::Printer;
pub use printf::{
    ArgClass, Conversion, Flags, Format, FormatError, FormatPiece, FormatSpec, Length,
    format_printf, parse_format,
};
pub use text::TextPrinter;
pub use time::{DEFAULT_TIME_FORMAT, LocalTime, TimeZone, TzError, join, strftime};
pub use value::{BufMode, Stack, StackMode, Value, format_buffer};
