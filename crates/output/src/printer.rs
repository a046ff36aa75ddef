//! The [`Printer`] trait: everything a running bpftrace program can print, independent of
//! the output format (`-f text` or `-f json`).

use std::io;

use crate::map::{MapDump, PrintOptions};
use crate::value::Value;

/// Receives the output events of a running program and renders them in one format.
///
/// The runtime calls these methods in event order; implementations write to the
/// [`io::Write`] values they were built with and never read anything.
pub trait Printer {
    /// The probes are attached (`Attached N probes` / `attached_probes`).
    fn attached_probes(&mut self, count: u64) -> io::Result<()>;
    /// Output of `printf()`, already formatted (see [`crate::format_printf`]).
    fn printf(&mut self, text: &str) -> io::Result<()>;
    /// Output of `printf(format, values...)`: the format, the decoded arguments and the text
    /// formatted from them. Printers that want the values themselves (scry's tools, which
    /// print each event as a JSON object of named fields) override this; the default prints
    /// the text.
    fn printf_event(&mut self, format: &str, values: &[Value], text: &str) -> io::Result<()> {
        let _ = (format, values);
        self.printf(text)
    }
    /// `print(value)` of a non-map value.
    fn value(&mut self, value: &Value) -> io::Result<()>;
    /// `print(@m, top, div)`.
    fn map(&mut self, map: &MapDump, opts: PrintOptions) -> io::Result<()>;
    /// Output of `time(fmt)`, already formatted (see [`crate::strftime`]).
    fn time(&mut self, text: &str) -> io::Result<()>;
    /// Output of `join(array, delim)`, already joined (see [`crate::join`]).
    fn join(&mut self, text: &str) -> io::Result<()>;
    /// Output of `cat(path)`.
    fn cat(&mut self, text: &str) -> io::Result<()>;
    /// Output of `system(cmd)`.
    fn syscall(&mut self, text: &str) -> io::Result<()>;
    /// Events were lost (ring buffer full).
    fn lost_events(&mut self, count: u64) -> io::Result<()>;
    /// The run is over: print the separator and every non-empty map, sorted by name.
    fn end_of_run(&mut self, maps: &[MapDump]) -> io::Result<()>;
    /// Flushes the underlying writers.
    fn flush(&mut self) -> io::Result<()>;
    /// Whether the printer wants the run to end now, as `exit()` would (a tool that has
    /// printed its maximum number of events). Checked after each batch of events.
    fn wants_exit(&self) -> bool {
        false
    }
}

/// The non-empty maps sorted by name, as bpftrace prints them at exit.
pub(crate) fn exit_maps(maps: &[MapDump]) -> Vec<&MapDump> {
    let mut maps: Vec<&MapDump> = maps.iter().filter(|m| !m.is_empty()).collect();
    maps.sort_by(|a, b| a.name.cmp(&b.name));
    maps
}

#[cfg(test)]
mod tests;
