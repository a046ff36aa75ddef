//! `-l` and `-lv`: listing probes.

use scry_sema::KernelInfo;

use crate::kernel::LiveKernel;

/// Lists tracepoints (and software events, intervals…) matching `pattern`, bpftrace style.
pub fn list(kernel: &LiveKernel, pattern: Option<&str>, verbose: bool) -> Result<String, String> {
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
        "rt" => "rawtracepoint",
        other => other,
    }
    .to_string()
}
