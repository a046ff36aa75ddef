//! Locating tracefs (mounting it when it is missing) and reading event ids and formats.

use std::io;
use std::path::{Path, PathBuf};

use crate::sys;

/// Where tracefs is (or was just mounted).
#[derive(Clone, Debug)]
pub struct Tracefs {
    root: PathBuf,
}

/// Errors reaching tracefs.
#[derive(Debug, thiserror::Error)]
pub enum TracefsError {
    #[error("tracefs is not mounted and mounting it at /sys/kernel/tracing failed: {0}")]
    Mount(#[source] io::Error),
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl Tracefs {
    /// Finds tracefs at its usual places, mounting it at `/sys/kernel/tracing` if needed.
    pub fn open() -> Result<Tracefs, TracefsError> {
        for candidate in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
            if Path::new(candidate).join("events").is_dir() {
                return Ok(Tracefs {
                    root: candidate.into(),
                });
            }
        }
        sys::mount_tracefs("/sys/kernel/tracing").map_err(TracefsError::Mount)?;
        Ok(Tracefs {
            root: "/sys/kernel/tracing".into(),
        })
    }

    /// A tracefs at an explicit path (tests).
    pub fn at(root: impl Into<PathBuf>) -> Tracefs {
        Tracefs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self, relative: &str) -> Result<String, TracefsError> {
        let path = self.root.join(relative);
        std::fs::read_to_string(&path).map_err(|source| TracefsError::Read {
            path: path.display().to_string(),
            source,
        })
    }

    /// The `available_events` listing: one `category:event` per line.
    pub fn available_events(&self) -> Result<String, TracefsError> {
        self.read("available_events")
    }

    /// The numeric id of a tracepoint.
    pub fn event_id(&self, category: &str, event: &str) -> Result<u64, TracefsError> {
        let relative = format!("events/{category}/{event}/id");
        let text = self.read(&relative)?;
        text.trim().parse().map_err(|_| TracefsError::Read {
            path: relative,
            source: io::Error::new(io::ErrorKind::InvalidData, "not a number"),
        })
    }

    /// The `format` file of a tracepoint.
    pub fn event_format(&self, category: &str, event: &str) -> Result<String, TracefsError> {
        self.read(&format!("events/{category}/{event}/format"))
    }

    /// True when the tracepoint exists.
    pub fn has_event(&self, category: &str, event: &str) -> bool {
        self.root
            .join("events")
            .join(category)
            .join(event)
            .join("id")
            .exists()
    }
}
