//! bashreadline: commands typed into interactive bash shells, read from readline's return.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Print entered bash commands from all running shells.
#[derive(Debug, Parser)]
#[command(
    name = "bashreadline",
    after_help = "Examples:
  bashreadline                           # trace commands typed into /bin/bash
  bashreadline -s                        # bash uses /lib/libreadline.so
  bashreadline -s /usr/lib/libreadline.so.8  # bash uses this libreadline
  bashreadline --json                    # one JSON object per command

Hooks: a uretprobe on readline_internal_teardown (newer readline) or else readline, in
/bin/bash, or in the library given with -s (then only processes named bash are shown). When
/bin/bash has neither function, its libreadline is probed. The line is the function's return
value, read when it returns."
)]
struct Opts {
    /// Probe this libreadline instead of /bin/bash (without PATH: /lib/libreadline.so).
    #[arg(
        short = 's',
        long = "shared",
        value_name = "PATH",
        num_args = 0..=1,
        default_missing_value = "/lib/libreadline.so"
    )]
    shared: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// The functions whose return value is the line, best first.
const FUNCTIONS: &[&str] = &["readline_internal_teardown", "readline"];

/// The first of [`FUNCTIONS`] that `target` defines, as (resolved path, function), or why
/// there is none.
fn find(kernel: &dyn KernelInfo, target: &str) -> Result<(String, &'static str), String> {
    let mut why = format!("{target} defines neither {}", FUNCTIONS.join(" nor "));
    for f in FUNCTIONS {
        match kernel.uprobe_symbols(target, f, None) {
            Ok(found) => {
                if let Some(symbol) = found.into_iter().find(|s| s.symbol == *f) {
                    return Ok((symbol.path, *f));
                }
            }
            Err(err) if !err.contains(f) => why = err,
            Err(_) => {}
        }
    }
    Err(why)
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("bashreadline", args)?;
    let mut filter = Predicate::tool();
    let (path, function) = match &o.shared {
        Some(lib) => {
            // As BCC: a shared libreadline serves other programs too; keep bash's lines.
            filter = filter.and("comm == \"bash\"");
            find(kernel, lib)
                .map_err(|why| ToolError::BadArgument(format!("{why} (is it a libreadline?)")))?
        }
        None => match find(kernel, "/bin/bash") {
            Ok(found) => found,
            Err(_) => {
                // bash linked against a shared libreadline (BCC's -s case).
                filter = filter.and("comm == \"bash\"");
                find(kernel, "libreadline").map_err(|why| {
                    ToolError::Unsupported(format!(
                        "neither /bin/bash nor a libreadline defines {} ({why}); \
                         give the library with -s PATH",
                        FUNCTIONS.join(" or ")
                    ))
                })?
            }
        },
    };
    let format = "%-9s %-7d %s\\n";
    let s = format!(
        "// bashreadline: the line {function}() returns in {path}.\n\
         uretprobe:{path}:{function}{}\n{{\n  \
         printf(\"{format}\", strftime(\"%H:%M:%S\", nsecs), pid, str(retval));\n}}\n",
        filter.slashes()
    );
    let header = format!("{:<9} {:<7} {}\n", "TIME", "PID", "COMMAND");
    Ok(Plan::new(s, &o.common).header(header).event(EventSpec::new(
        format.replace("\\n", "\n"),
        &["time", "pid", "command"],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_without_a_path_means_lib_libreadline() {
        let o: Opts = script::parse("bashreadline", &[OsString::from("-s")]).unwrap();
        assert_eq!(o.shared.as_deref(), Some("/lib/libreadline.so"));
        let o: Opts = script::parse(
            "bashreadline",
            &[OsString::from("-s"), OsString::from("/x.so")],
        )
        .unwrap();
        assert_eq!(o.shared.as_deref(), Some("/x.so"));
        let o: Opts = script::parse("bashreadline", &[]).unwrap();
        assert_eq!(o.shared, None);
    }
}
