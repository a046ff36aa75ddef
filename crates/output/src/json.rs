//! [`JsonPrinter`]: bpftrace's `-f json` output, one JSON object per line (NDJSON).

use std::io::{self, Write};

use crate::map::{MapDump, PrintOptions};
use crate::printer::{Printer, exit_maps};
use crate::value::{Value, json_string};

/// Prints bpftrace's NDJSON format to `out`.
#[derive(Debug)]
pub struct JsonPrinter<O: Write> {
    out: O,
}

impl<O: Write> JsonPrinter<O> {
    /// A printer writing NDJSON records to `out`.
    pub fn new(out: O) -> Self {
        Self { out }
    }

    /// Returns the writer.
    pub fn into_inner(self) -> O {
        self.out
    }

    fn message(&mut self, kind: &str, text: &str) -> io::Result<()> {
        let mut line = format!("{{\"type\": \"{kind}\", \"data\": ");
        json_string(text, &mut line);
        line.push_str("}\n");
        self.out.write_all(line.as_bytes())
    }

    fn counter(&mut self, kind: &str, field: &str, count: u64) -> io::Result<()> {
        writeln!(
            self.out,
            "{{\"type\": \"{kind}\", \"data\": {{\"{field}\": {count}}}}}"
        )
    }
}

impl<O: Write> Printer for JsonPrinter<O> {
    fn attached_probes(&mut self, count: u64) -> io::Result<()> {
        self.counter("attached_probes", "probes", count)
    }

    fn printf(&mut self, text: &str) -> io::Result<()> {
        self.message("printf", text)
    }

    fn value(&mut self, value: &Value) -> io::Result<()> {
        writeln!(
            self.out,
            "{{\"type\": \"value\", \"data\": {}}}",
            value.to_json()
        )
    }

    fn map(&mut self, map: &MapDump, opts: PrintOptions) -> io::Result<()> {
        match map.to_json(opts) {
            Some(line) => self.out.write_all(line.as_bytes()),
            None => Ok(()),
        }
    }

    fn time(&mut self, text: &str) -> io::Result<()> {
        self.message("time", text)
    }

    fn join(&mut self, text: &str) -> io::Result<()> {
        self.message("join", text)
    }

    fn cat(&mut self, text: &str) -> io::Result<()> {
        self.message("cat", text)
    }

    fn syscall(&mut self, text: &str) -> io::Result<()> {
        self.message("syscall", text)
    }

    fn lost_events(&mut self, count: u64) -> io::Result<()> {
        self.counter("lost_events", "events", count)
    }

    fn end_of_run(&mut self, maps: &[MapDump]) -> io::Result<()> {
        for map in exit_maps(maps) {
            self.map(map, PrintOptions::default())?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
