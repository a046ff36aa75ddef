//! [`CapturePrinter`]: records printer calls as [`Event`]s, for tests of the runtime.

use std::io;

use crate::map::{MapDump, PrintOptions};
use crate::printer::Printer;
use crate::value::Value;

/// One recorded printer call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// [`Printer::attached_probes`].
    AttachedProbes(u64),
    /// [`Printer::printf`].
    Printf(String),
    /// [`Printer::value`].
    Value(Value),
    /// [`Printer::map`].
    Map(MapDump, PrintOptions),
    /// [`Printer::time`].
    Time(String),
    /// [`Printer::join`].
    Join(String),
    /// [`Printer::cat`].
    Cat(String),
    /// [`Printer::syscall`].
    Syscall(String),
    /// [`Printer::lost_events`].
    LostEvents(u64),
    /// [`Printer::end_of_run`].
    EndOfRun(Vec<MapDump>),
}

/// A printer that records every call instead of rendering it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturePrinter {
    /// The recorded calls, in order.
    pub events: Vec<Event>,
}

impl CapturePrinter {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends the recorded calls, in order, to another printer (e.g. to render a captured
    /// run as text and as JSON).
    pub fn replay(&self, printer: &mut dyn Printer) -> io::Result<()> {
        for event in &self.events {
            match event {
                Event::AttachedProbes(count) => printer.attached_probes(*count)?,
                Event::Printf(text) => printer.printf(text)?,
                Event::Value(value) => printer.value(value)?,
                Event::Map(map, opts) => printer.map(map, *opts)?,
                Event::Time(text) => printer.time(text)?,
                Event::Join(text) => printer.join(text)?,
                Event::Cat(text) => printer.cat(text)?,
                Event::Syscall(text) => printer.syscall(text)?,
                Event::LostEvents(count) => printer.lost_events(*count)?,
                Event::EndOfRun(maps) => printer.end_of_run(maps)?,
            }
        }
        printer.flush()
    }
}

impl Printer for CapturePrinter {
    fn attached_probes(&mut self, count: u64) -> io::Result<()> {
        self.events.push(Event::AttachedProbes(count));
        Ok(())
    }

    fn printf(&mut self, text: &str) -> io::Result<()> {
        self.events.push(Event::Printf(text.to_owned()));
        Ok(())
    }

    fn value(&mut self, value: &Value) -> io::Result<()> {
        self.events.push(Event::Value(value.clone()));
        Ok(())
    }

    fn map(&mut self, map: &MapDump, opts: PrintOptions) -> io::Result<()> {
        self.events.push(Event::Map(map.clone(), opts));
        Ok(())
    }

    fn time(&mut self, text: &str) -> io::Result<()> {
        self.events.push(Event::Time(text.to_owned()));
        Ok(())
    }

    fn join(&mut self, text: &str) -> io::Result<()> {
        self.events.push(Event::Join(text.to_owned()));
        Ok(())
    }

    fn cat(&mut self, text: &str) -> io::Result<()> {
        self.events.push(Event::Cat(text.to_owned()));
        Ok(())
    }

    fn syscall(&mut self, text: &str) -> io::Result<()> {
        self.events.push(Event::Syscall(text.to_owned()));
        Ok(())
    }

    fn lost_events(&mut self, count: u64) -> io::Result<()> {
        self.events.push(Event::LostEvents(count));
        Ok(())
    }

    fn end_of_run(&mut self, maps: &[MapDump]) -> io::Result<()> {
        self.events.push(Event::EndOfRun(maps.to_vec()));
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_into_another_printer() {
        let mut capture = CapturePrinter::new();
        capture.printf("a\n").unwrap();
        capture.join("x y").unwrap();
        capture.end_of_run(&[]).unwrap();
        let mut text = crate::text::TextPrinter::new(Vec::new(), Vec::new());
        capture.replay(&mut text).unwrap();
        assert_eq!(text.into_inner().0, b"a\nx y\n\n\n");
        let mut again = CapturePrinter::new();
        capture.replay(&mut again).unwrap();
        assert_eq!(again, capture);
    }

    #[test]
    fn records_calls_in_order() {
        let mut printer = CapturePrinter::new();
        printer.attached_probes(2).unwrap();
        printer.printf("hi\n").unwrap();
        printer.value(&Value::Int(3)).unwrap();
        printer.lost_events(4).unwrap();
        assert_eq!(
            printer.events,
            [
                Event::AttachedProbes(2),
                Event::Printf("hi\n".into()),
                Event::Value(Value::Int(3)),
                Event::LostEvents(4),
            ]
        );
    }
}
