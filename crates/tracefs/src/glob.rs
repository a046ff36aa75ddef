//! Wildcard matching of event names and `available_events` filtering.

/// Shell-style match: `*` any run, `?` one character, `[abc]`, `[a-z]`, `[!x]`/`[^x]`.
/// An unterminated `[` matches itself literally.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Position after the last `*` and the name position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class_match(&p[pi..], n[ni]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                None if n[ni] == '[' => Some(1),
                None => None,
            },
            Some(&c) if c == n[ni] => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(len), _) => {
                pi += len;
                ni += 1;
            }
            (None, Some((sp, sn))) => {
                pi = sp;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `class[0] == '['`. Returns whether it
/// matched and the pattern length of the class, or `None` if the class is unterminated.
fn class_match(class: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(class.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &ch = class.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        if class.get(i + 1) == Some(&'-') && class.get(i + 2).is_some_and(|&e| e != ']') {
            let end = class[i + 2];
            matched |= ch <= c && c <= end;
            i += 3;
        } else {
            matched |= ch == c;
            i += 1;
        }
    }
}

/// A `category:name` entry of `available_events`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName {
    /// Category (subsystem directory), e.g. `syscalls`.
    pub category: String,
    /// Event name, e.g. `sys_enter_openat`.
    pub name: String,
}

impl std::fmt::Display for EventName {
    /// `category:name`; sorting by this string gives bpftrace's `-l` order.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.category, self.name)
    }
}

/// Parses the text of `available_events` (`cat:name` per line); other lines are skipped.
pub fn parse_available_events(text: &str) -> Vec<EventName> {
    text.lines()
        .filter_map(|line| {
            let (category, name) = line.trim().split_once(':')?;
            (!category.is_empty() && !name.is_empty()).then(|| EventName {
                category: category.to_string(),
                name: name.to_string(),
            })
        })
        .collect()
}

/// Events of `available_events` whose category and name match the patterns, in file
/// order without duplicates.
pub fn match_events(available: &str, cat_pattern: &str, name_pattern: &str) -> Vec<EventName> {
    let mut seen = std::collections::HashSet::new();
    parse_available_events(available)
        .into_iter()
        .filter(|e| {
            wildcard_match(cat_pattern, &e.category) && wildcard_match(name_pattern, &e.name)
        })
        .filter(|e| seen.insert(e.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("sys_enter_*", "sys_enter_openat"));
        assert!(!wildcard_match("sys_enter_*", "sys_exit_openat"));
        assert!(wildcard_match("block_rq_i*", "block_rq_issue"));
        assert!(wildcard_match("block_rq_i*", "block_rq_insert"));
        assert!(!wildcard_match("block_rq_i*", "block_rq_complete"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("sys_?nter_open", "sys_enter_open"));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("*open*", "sys_enter_openat2"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
        assert!(!wildcard_match("a*b*c", "aXbYbZ"));
        assert!(wildcard_match("exact", "exact"));
        assert!(!wildcard_match("exact", "exactly"));
        assert!(wildcard_match("**x", "x"));
        assert!(wildcard_match("sys_e[nx]*", "sys_exit_read"));
        assert!(!wildcard_match("sys_e[!nx]*", "sys_exit_read"));
        assert!(wildcard_match("cpu[0-9]", "cpu7"));
        assert!(!wildcard_match("cpu[0-9]", "cpux"));
        assert!(
            wildcard_match("a[]b", "a[]b"),
            "unterminated class is literal"
        );
        assert!(wildcard_match("[]]", "]"));
    }

    const EVENTS: &str = "syscalls:sys_enter_openat\nsyscalls:sys_exit_openat\n\
        block:block_rq_issue\nblock:block_rq_insert\nblock:block_rq_complete\n\
        sched:sched_switch\n\nbogus line\nsyscalls:sys_enter_openat\n";

    #[test]
    fn available_events_matching() {
        let names = |v: Vec<EventName>| -> Vec<String> {
            v.into_iter()
                .map(|e| format!("{}:{}", e.category, e.name))
                .collect()
        };
        assert_eq!(parse_available_events(EVENTS).len(), 7);
        assert_eq!(
            names(match_events(EVENTS, "syscalls", "sys_enter_*")),
            ["syscalls:sys_enter_openat"]
        );
        assert_eq!(
            names(match_events(EVENTS, "block", "block_rq_i*")),
            ["block:block_rq_issue", "block:block_rq_insert"]
        );
        assert_eq!(match_events(EVENTS, "*", "*").len(), 6);
        assert_eq!(
            names(match_events(EVENTS, "s*", "*switch")),
            ["sched:sched_switch"]
        );
        assert!(match_events(EVENTS, "nope", "*").is_empty());
    }
}
