//! The findings and how they are printed: aligned text, or one JSON document.

use serde::Serialize;

/// What a group of findings is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Privileges,
    Facilities,
    ProbeKinds,
    ProgramTypes,
    MapTypes,
    Helpers,
    KernelConfig,
}

impl Section {
    fn title(self) -> &'static str {
        match self {
            Section::Privileges => "Privileges",
            Section::Facilities => "Kernel facilities",
            Section::ProbeKinds => "Probe kinds (attached for real)",
            Section::ProgramTypes => "Program types (loaded for real)",
            Section::MapTypes => "Map types (created for real)",
            Section::Helpers => "Helpers (called from a loaded program)",
            Section::KernelConfig => "Kernel configuration",
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Available,
    Unavailable,
    /// Could not be decided (e.g. no kernel configuration to read).
    Unknown,
    /// A setting reported for information (a sysctl value), neither good nor bad.
    Info,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Available => "yes",
            Status::Unavailable => "NO",
            Status::Unknown => "?",
            Status::Info => "-",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub section: Section,
    /// What was checked (`kprobe`, `BPF_MAP_TYPE_HASH`, `bpf_probe_read_kernel`...).
    pub name: String,
    pub status: Status,
    /// What was tried and what happened.
    pub detail: String,
    /// What it means for the user (empty when there is nothing to add).
    pub meaning: String,
}

impl Check {
    pub fn new(
        section: Section,
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        meaning: impl Into<String>,
    ) -> Check {
        Check {
            section,
            name: name.into(),
            status,
            detail: detail.into(),
            meaning: meaning.into(),
        }
    }

    /// Available when `ok`, else unavailable.
    pub fn yes_no(
        section: Section,
        name: impl Into<String>,
        ok: bool,
        detail: impl Into<String>,
        meaning: impl Into<String>,
    ) -> Check {
        let status = if ok {
            Status::Available
        } else {
            Status::Unavailable
        };
        Check::new(section, name, status, detail, meaning)
    }
}

/// Every finding, in sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// The finding named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The report as text: one section after another, one line per finding
    /// (`  yes  name  detail`), its meaning indented below.
    pub fn to_text(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        let mut section = None;
        for c in &self.checks {
            if section != Some(c.section) {
                if section.is_some() {
                    out.push('\n');
                }
                out.push_str(c.section.title());
                out.push('\n');
                section = Some(c.section);
            }
            out.push_str(&format!(
                "  {:<3}  {:<width$}  {}\n",
                c.status.word(),
                c.name,
                c.detail
            ));
            if !c.meaning.is_empty() {
                out.push_str(&format!("       {:<width$}  -> {}\n", "", c.meaning));
            }
        }
        out
    }

    /// The report as one JSON document: `{"checks": [{"section", "name", "status",
    /// "detail", "meaning"}, ...]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            checks: vec![
                Check::yes_no(Section::Privileges, "root", true, "euid 0", ""),
                Check::yes_no(
                    Section::ProbeKinds,
                    "kprobe",
                    false,
                    "no kprobe PMU",
                    "use tracepoint: instead",
                ),
                Check::new(Section::ProbeKinds, "x", Status::Unknown, "?", ""),
            ],
        }
    }

    #[test]
    fn text_layout() {
        assert_eq!(
            sample().to_text(),
            "Privileges\n  yes  root    euid 0\n\nProbe kinds (attached for real)\n  \
             NO   kprobe  no kprobe PMU\n               -> use tracepoint: instead\n  \
             ?    x       ?\n"
        );
    }

    #[test]
    fn info_lines() {
        let r = Report {
            checks: vec![Check::new(
                Section::Privileges,
                "k.x",
                Status::Info,
                "= 2",
                "",
            )],
        };
        assert_eq!(r.to_text(), "Privileges\n  -    k.x  = 2\n");
        assert!(
            r.to_json().contains("\"status\": \"info\""),
            "{}",
            r.to_json()
        );
    }

    #[test]
    fn json_layout() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).expect("json");
        assert_eq!(v["checks"][1]["section"], "probe_kinds");
        assert_eq!(v["checks"][1]["status"], "unavailable");
        assert_eq!(v["checks"][1]["meaning"], "use tracepoint: instead");
        assert_eq!(v["checks"][2]["status"], "unknown");
        assert_eq!(
            sample().get("kprobe").map(|c| c.status),
            Some(Status::Unavailable)
        );
    }
}
