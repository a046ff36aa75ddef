//! [`TextPrinter`]: bpftrace's default human-readable output.

use std::io::{self, Write};

use crate::map::{MapDump, PrintOptions};
use crate::printer::{Printer, exit_maps};
use crate::value::Value;

/// Prints bpftrace's text format. Program output goes to `out`; the attach banner and
/// lost-event warnings go to `err` (as current bpftrace does).
#[derive(Debug)]
pub struct TextPrinter<O: Write, E: Write> {
    out: O,
    err: E,
}

impl<O: Write, E: Write> TextPrinter<O, E> {
    /// A printer writing program output to `out` and diagnostics to `err`.
    pub fn new(out: O, err: E) -> Self {
        Self { out, err }
    }

    /// Returns the writers.
    pub fn into_inner(self) -> (O, E) {
        (self.out, self.err)
    }
}

impl<O: Write, E: Write> Printer for TextPrinter<O, E> {
    fn attached_probes(&mut self, count: u64) -> io::Result<()> {
        let noun = if count == 1 { "probe" } else { "probes" };
        writeln!(self.err, "Attached {count} {noun}")
    }

    fn printf(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn value(&mut self, value: &Value) -> io::Result<()> {
        writeln!(self.out, "{value}")
    }

    fn map(&mut self, map: &MapDump, opts: PrintOptions) -> io::Result<()> {
        self.out.write_all(map.to_text(opts).as_bytes())
    }

    fn time(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn join(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")
    }

    fn cat(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn syscall(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn lost_events(&mut self, count: u64) -> io::Result<()> {
        writeln!(self.err, "Lost {count} events")
    }

    fn end_of_run(&mut self, maps: &[MapDump]) -> io::Result<()> {
        self.out.write_all(b"\n\n")?;
        for map in exit_maps(maps) {
            self.out
                .write_all(map.to_text(PrintOptions::default()).as_bytes())?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}
