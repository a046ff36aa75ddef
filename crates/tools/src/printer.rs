//! [`ToolPrinter`]: a tool's events as BCC's columns, or as one JSON object per line.

use std::io::{self, Write};

use scry_output::{MapDump, PrintOptions, Printer, Value};

use crate::plan::{Collect, Plan};

/// Prints a running tool's output as its [`Plan`] describes.
pub struct ToolPrinter<W: Write> {
    plan: Plan,
    out: W,
    /// `nsecs` of the first event, the origin of `TIME(s)` columns.
    first_ns: Option<u64>,
    /// Parts of lines being assembled (see [`Collect`]), by key.
    parts: std::collections::HashMap<u64, Vec<String>>,
}

impl<W: Write> ToolPrinter<W> {
    pub fn new(plan: Plan, out: W) -> Self {
        ToolPrinter {
            plan,
            out,
            first_ns: None,
            parts: std::collections::HashMap::new(),
        }
    }

    pub fn flush_out(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Returns the writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn json_line(&mut self, value: serde_json::Value) -> io::Result<()> {
        writeln!(self.out, "{value}")
    }
}

/// A printf argument as JSON.
pub fn json_value(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::None => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Str(s) | Value::Sym(s) => J::String(s.clone()),
        Value::Buf(bytes) => J::String(String::from_utf8_lossy(bytes).into_owned()),
        Value::Tuple(values) | Value::Array(values) => {
            J::Array(values.iter().map(json_value).collect())
        }
        Value::Record(fields) => J::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), json_value(v)))
                .collect(),
        ),
        Value::Stack(stack) => J::Array(
            stack
                .frames
                .iter()
                .map(|f| J::String(f.trim().to_string()))
                .collect(),
        ),
    }
}

/// An integer argument (timestamps, counters).
pub fn as_u64(value: &Value) -> u64 {
    match value {
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        _ => 0,
    }
}

impl<W: Write> Printer for ToolPrinter<W> {
    fn attached_probes(&mut self, _count: u64) -> io::Result<()> {
        if !self.plan.json && !self.plan.header.is_empty() {
            self.out.write_all(self.plan.header.as_bytes())?;
        }
        self.out.flush()
    }

    fn printf(&mut self, text: &str) -> io::Result<()> {
        if self.plan.json {
            self.json_line(serde_json::json!({ "message": text }))
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    fn printf_event(&mut self, format: &str, values: &[Value], text: &str) -> io::Result<()> {
        let Some(index) = self.plan.events.iter().position(|e| e.format == format) else {
            return self.printf(text);
        };
        let event = &self.plan.events[index];
        let mut assembled;
        let mut values = values;
        let mut text = std::borrow::Cow::Borrowed(text);
        match event.collect {
            Some(Collect::Part { key, index, value }) => {
                let key = values.get(key).map(as_u64).unwrap_or(0);
                let part = match values.get(value) {
                    Some(Value::Str(s)) => s.clone(),
                    Some(other) => other.to_text(),
                    None => String::new(),
                };
                let list = self.parts.entry(key).or_default();
                if values.get(index).map(as_u64) == Some(0) {
                    list.clear();
                }
                list.push(part);
                return Ok(());
            }
            Some(Collect::Final { key, quote }) => {
                let key = values.get(key).map(as_u64).unwrap_or(0);
                let parts = self.parts.remove(&key).unwrap_or_default();
                let joined = parts
                    .iter()
                    .map(|p| {
                        if quote && p != "..." {
                            format!("\"{}\"", p.replace('"', "\\\""))
                        } else {
                            p.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                assembled = values.to_vec();
                if let Some(last) = assembled.last_mut() {
                    *last = Value::Str(joined);
                }
                values = &assembled;
                let offset = usize::from(event.seconds.is_some());
                let format = if offset == 1 {
                    format.strip_prefix("%llu ").unwrap_or(format)
                } else {
                    format
                };
                if let Ok(t) =
                    scry_output::parse_format(format).and_then(|f| f.format(&values[offset..]))
                {
                    text = std::borrow::Cow::Owned(t);
                }
            }
            None => {}
        }
        if let Some(filter) = &event.filter
            && !filter(values)
        {
            return Ok(());
        }
        let mut line = String::new();
        let mut object = serde_json::Map::new();
        let mut rest = values;
        if let Some((width, precision)) = event.seconds {
            let ns = values.first().map(as_u64).unwrap_or(0);
            let first = *self.first_ns.get_or_insert(ns);
            let seconds = ns.saturating_sub(first) as f64 / 1e9;
            line = format!("{seconds:<width$.precision$}");
            object.insert("time_s".into(), serde_json::json!(seconds));
            object.insert("timestamp_ns".into(), serde_json::json!(ns));
            rest = values.get(1..).unwrap_or_default();
        }
        if self.plan.json {
            for (name, value) in event.fields.iter().zip(rest) {
                // "x" then "x.frac2": a number printed as "%d.%02d", one JSON number.
                if let Some(whole) = name.strip_suffix(".frac2") {
                    let int = object.get(whole).and_then(|v| v.as_f64()).unwrap_or(0.0);
                    let frac = as_u64(value) as f64 / 100.0;
                    object.insert(whole.to_string(), serde_json::json!(int + frac));
                    continue;
                }
                object.insert((*name).to_string(), json_value(value));
            }
            return self.json_line(serde_json::Value::Object(object));
        }
        if let Some(draw) = &event.text {
            line.push_str(&draw(rest));
        } else if event.seconds.is_some() {
            let format = format.strip_prefix("%llu ").unwrap_or(format);
            match scry_output::parse_format(format).and_then(|f| f.format(rest)) {
                Ok(text) => line.push_str(&text),
                Err(err) => line.push_str(&format!("[printf error: {err}]\n")),
            }
        } else {
            line.push_str(&text);
        }
        self.out.write_all(line.as_bytes())
    }

    fn value(&mut self, value: &Value) -> io::Result<()> {
        if self.plan.json {
            self.json_line(json_value(value))
        } else {
            writeln!(self.out, "{}", value.to_json())
        }
    }

    fn map(&mut self, map: &MapDump, _opts: PrintOptions) -> io::Result<()> {
        let text = match &self.plan.maps {
            Some(render) => render(map, self.plan.json),
            None => String::new(),
        };
        self.out.write_all(text.as_bytes())
    }

    fn time(&mut self, text: &str) -> io::Result<()> {
        if self.plan.json {
            self.json_line(serde_json::json!({ "time": text.trim() }))
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    fn join(&mut self, text: &str) -> io::Result<()> {
        self.printf(&format!("{text}\n"))
    }

    fn cat(&mut self, text: &str) -> io::Result<()> {
        self.printf(text)
    }

    fn syscall(&mut self, text: &str) -> io::Result<()> {
        self.printf(text)
    }

    fn lost_events(&mut self, count: u64) -> io::Result<()> {
        eprintln!("Possibly lost {count} events");
        if self.plan.json {
            self.json_line(serde_json::json!({ "lost": count }))?;
        }
        Ok(())
    }

    fn end_of_run(&mut self, _maps: &[MapDump]) -> io::Result<()> {
        if !self.plan.json && !self.plan.footer.is_empty() {
            self.out.write_all(self.plan.footer.as_bytes())?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn wants_exit(&self) -> bool {
        self.plan.stop.get()
    }
}
