//! `-l` and `-lv`: listing probes.

use scry_sema::KernelInfo;

use crate::kernel::LiveKernel;

/// Lists tracepoints (and software events, intervals…) matching `pattern`, bpftrace style.
/// With `pid`, `usdt:*` lists the USDT probes of the process's executable and libraries.
pub fn list(
    kernel: &LiveKernel,
    pattern: Option<&str>,
    verbose: bool,
    pid: Option<u32>,
) -> Result<String, String> {
    let pattern = pattern.unwrap_or("*");
    let (provider, rest) = match pattern.split_once(':') {
        Some((p, r)) => (expand_alias(p), r.to_string()),
        None => ("*".to_string(), pattern.to_string()),
    };
    let mut out = String::new();
    if scry_sema::expand_probes::glob(&provider, "tracepoint") {
        let (category, event) = match rest.split_once(':') {
            Some((c, e)) => (c.to_string(), e.to_string()),
            None if provider == "*" => ("*".to_string(), rest.clone()),
            None => (rest.clone(), "*".to_string()),
        };
        let mut events: Vec<(String, String)> = kernel
            .tracepoints()?
            .into_iter()
            .filter(|(c, e)| {
                scry_sema::expand_probes::glob(&category, c)
                    && scry_sema::expand_probes::glob(&event, e)
                    || provider == "*" && scry_sema::expand_probes::glob(&rest, &format!("{c}:{e}"))
            })
            .collect();
        events.sort();
        events.dedup();
        for (category, event) in events {
            out.push_str(&format!("tracepoint:{category}:{event}\n"));
            if verbose {
                let tracefs = kernel.tracefs()?;
                if let Ok(text) = tracefs.event_format(&category, &event)
                    && let Ok(format) = scry_tracefs::parse_format(&text)
                {
                    out.push_str(&scry_tracefs::format_args_listing(&format));
                }
            }
        }
    }
    if let (Some(pid), "usdt") = (pid, provider.as_str()) {
        // usdt:[PROVIDER:]NAME patterns over every file the process maps.
        let (provider_pattern, name_pattern) = match rest.split_once(':') {
            Some((p, n)) => (p.to_string(), n.to_string()),
            None => (
                "*".to_string(),
                if rest.is_empty() {
                    "*".to_string()
                } else {
                    rest.clone()
                },
            ),
        };
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .map_err(|e| format!("/proc/{pid}/maps: {e}"))?;
        let mut files: Vec<&str> = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .filter(|p| p.starts_with('/'))
            .collect();
        files.sort();
        files.dedup();
        for file in files {
            let path = std::path::PathBuf::from(format!("/proc/{pid}/root{file}"));
            for probe in
                crate::usdt::probes(&path, &provider_pattern, &name_pattern).unwrap_or_default()
            {
                out.push_str(&format!("usdt:{file}:{}:{}\n", probe.provider, probe.name));
            }
        }
        return Ok(out);
    }
    if provider == "uprobe" || provider == "usdt" {
        // uprobe:PATH:FUNCTIONS and usdt:PATH:[PROVIDER:]NAME list what a binary offers.
        let mut parts = rest.splitn(3, ':');
        let target = parts.next().unwrap_or_default();
        let first = parts.next().unwrap_or("*");
        let second = parts.next();
        let path = crate::uprobe::resolve(target, None)?;
        if provider == "uprobe" {
            for symbol in crate::uprobe::symbols(&path, first)? {
                out.push_str(&format!("uprobe:{}:{}\n", symbol.path, symbol.symbol));
                // -lv shows C++ and Rust names in source form.
                let demangled = crate::decode::demangle(&symbol.symbol);
                if verbose && demangled != symbol.symbol {
                    out.push_str(&format!("    {demangled}\n"));
                }
            }
        } else {
            let (provider_pattern, name_pattern) = match second {
                Some(name) => (first, name),
                None => ("*", first),
            };
            for probe in crate::usdt::probes(&path, provider_pattern, name_pattern)? {
                out.push_str(&format!(
                    "usdt:{}:{}:{}\n",
                    probe.path, probe.provider, probe.name
                ));
            }
        }
        return Ok(out);
    }
    if scry_sema::expand_probes::glob(&provider, "rawtracepoint") && provider != "*" {
        let mut names: Vec<String> = kernel
            .tracepoints()?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| scry_sema::expand_probes::glob(&rest, e))
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            out.push_str(&format!("rawtracepoint:{name}\n"));
        }
    }
    if scry_sema::expand_probes::glob(&provider, "hardware")
        && scry_runtime::features::has_hardware_pmu()
    {
        for (name, _, _, _) in scry_sema::expand_probes::HARDWARE_EVENTS {
            if scry_sema::expand_probes::glob(&rest, name)
                || provider == "*"
                    && scry_sema::expand_probes::glob(&rest, &format!("hardware:{name}"))
            {
                out.push_str(&format!("hardware:{name}:\n"));
            }
        }
    }
    if scry_sema::expand_probes::glob(&provider, "software") {
        for (name, alias, _, _) in scry_sema::expand_probes::SOFTWARE_EVENTS {
            let _ = alias;
            if scry_sema::expand_probes::glob(&rest, name)
                || provider == "*"
                    && scry_sema::expand_probes::glob(&rest, &format!("software:{name}"))
            {
                out.push_str(&format!("software:{name}:\n"));
            }
        }
    }
    Ok(out)
}

fn expand_alias(provider: &str) -> String {
    match provider {
        "t" => "tracepoint",
        "s" => "software",
        "h" => "hardware",
        "rt" => "rawtracepoint",
        "u" => "uprobe",
        "U" => "usdt",
        other => other,
    }
    .to_string()
}
