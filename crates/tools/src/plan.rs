//! What a tool runs and how its output is shown.

use scry_output::{MapDump, Value};

/// Renders one `print(@map)` of the script: text, or JSON lines when `json` is set.
pub type MapRender = Box<dyn Fn(&MapDump, bool) -> String>;

/// Decides in user space whether an event is shown (regular expressions on strings, which
/// BPF cannot match).
pub type EventFilter = Box<dyn Fn(&[Value]) -> bool>;

/// Draws an event's text line (after any `TIME(s)` column) from its values, for columns a
/// printf cannot lay out, such as BCC's `ADDR:PORT` padded as one column.
pub type EventText = Box<dyn Fn(&[Value]) -> String>;

/// A `printf` of the script that is one event of the tool: a line of its columns in text, a
/// JSON object with `--json`.
pub struct EventSpec {
    /// The printf format, exactly as in the script: how the printer recognises the event.
    pub format: String,
    /// The JSON field name of each printf argument, in order. A field `x.frac2` after `x`
    /// makes them one number `x + frac/100` (the script prints `"%d.%02d"`: BPF has no
    /// floating point).
    pub fields: Vec<&'static str>,
    /// The first argument is `nsecs`, shown as BCC's `TIME(s)` column: seconds since the
    /// first event, `width` wide with `precision` decimals (BCC puts no space after it). The
    /// script's format then starts with `"%llu "`, which the printer replaces with the column.
    pub seconds: Option<(usize, usize)>,
    /// An extra condition on the event's values.
    pub filter: Option<EventFilter>,
    /// How the event takes part in assembling a line from several events.
    pub collect: Option<Collect>,
    /// Draws the text line instead of the printf format (JSON is unchanged).
    pub text: Option<EventText>,
}

/// Lines assembled from several events, such as execsnoop's arguments: BPF sends each
/// argument as a part, then a final event whose last value is replaced by the parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collect {
    /// Part `index` (0 starts a new list) of the list of `key`, from value `value`. Printed
    /// nothing.
    Part {
        key: usize,
        index: usize,
        value: usize,
    },
    /// The final event of the list of `key`: its last value (a placeholder in the script)
    /// becomes the parts joined by spaces, each quoted when `quote` is set.
    Final { key: usize, quote: bool },
}

impl EventSpec {
    pub fn new(format: impl Into<String>, fields: &[&'static str]) -> EventSpec {
        EventSpec {
            format: format.into(),
            fields: fields.to_vec(),
            seconds: None,
            filter: None,
            collect: None,
            text: None,
        }
    }

    /// With a `TIME(s)` column of `width` and `precision` (the first argument is `nsecs`).
    pub fn seconds(mut self, width: usize, precision: usize) -> EventSpec {
        self.seconds = Some((width, precision));
        self
    }

    pub fn collect(mut self, collect: Collect) -> EventSpec {
        self.collect = Some(collect);
        self
    }

    pub fn filter(mut self, filter: EventFilter) -> EventSpec {
        self.filter = Some(filter);
        self
    }

    /// With a text line drawn by `text` from the values (without the leading `nsecs` of a
    /// `TIME(s)` column).
    pub fn text(mut self, text: EventText) -> EventSpec {
        self.text = Some(text);
        self
    }
}

/// A planned run of a tool.
pub struct Plan {
    /// The program, in scry's (bpftrace's) language.
    pub script: String,
    /// Printed on stdout once every probe is attached (text output only).
    pub header: String,
    /// Printed on stderr before the run: what an approximation misses.
    pub notes: Vec<String>,
    /// The script's event printfs.
    pub events: Vec<EventSpec>,
    /// How `print(@map)` is shown; `None` when the script prints no map.
    pub maps: Option<MapRender>,
    /// Printed on stdout at the end (text output only), e.g. `Detaching...`.
    pub footer: String,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Print the script instead of running it.
    pub print_script: bool,
    /// Set (by an event filter) to end the run, as `exit()` would.
    pub stop: std::rc::Rc<std::cell::Cell<bool>>,
    pub max_strlen: u32,
    pub map_keys_max: u32,
    pub ringbuf_size: u32,
}

impl Plan {
    /// A plan with the defaults shared by the tools.
    pub fn new(script: String, common: &crate::script::Common) -> Plan {
        Plan {
            script,
            header: String::new(),
            notes: Vec::new(),
            events: Vec::new(),
            maps: None,
            footer: String::new(),
            json: common.json,
            print_script: common.script,
            stop: Default::default(),
            max_strlen: 256,
            map_keys_max: 10240,
            ringbuf_size: 1 << 20,
        }
    }

    pub fn header(mut self, header: impl Into<String>) -> Plan {
        self.header = header.into();
        self
    }

    pub fn event(mut self, event: EventSpec) -> Plan {
        self.events.push(event);
        self
    }

    pub fn maps(mut self, render: MapRender) -> Plan {
        self.maps = Some(render);
        self
    }

    pub fn footer(mut self, footer: impl Into<String>) -> Plan {
        self.footer = footer.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Plan {
        self.notes.push(note.into());
        self
    }
}
