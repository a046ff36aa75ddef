//! The builtin variables and functions scry knows, with their types and arities.

use crate::types::Type;

/// A builtin variable's type, or None when `name` is not one.
pub fn variable(name: &str) -> Option<Type> {
    Some(match name {
        "pid" | "tid" | "uid" | "gid" | "cpu" | "cgroup" | "cpid" | "numaid" | "ncpus" => Type::U64,
        "nsecs" | "elapsed" | "jiffies" => Type::U64,
        "rand" => Type::Int {
            bytes: 4,
            signed: false,
        },
        "comm" => Type::Str(16),
        "probe" => Type::Probe,
        "func" => Type::Func,
        "username" => Type::Username,
        "curtask" => Type::U64,
        "retval" => Type::I64,
        "args" => Type::Args,
        "kstack" => Type::Stack {
            user: false,
            mode: 0,
            limit: 0,
        },
        "ustack" => Type::Stack {
            user: true,
            mode: 0,
            limit: 0,
        },
        _ => {
            let n = name.strip_prefix("arg")?;
            let index: u32 = n.parse().ok()?;
            if index > 11 || n.starts_with('0') && n.len() > 1 {
                return None;
            }
            Type::U64
        }
    })
}

/// C macros scripts use without headers (their values are Linux ABI).
pub fn c_macro(name: &str) -> Option<i64> {
    Some(match name {
        "AF_UNSPEC" => 0,
        "AF_UNIX" | "AF_LOCAL" => 1,
        "AF_INET" => 2,
        "AF_INET6" => 10,
        "AF_NETLINK" => 16,
        "AF_PACKET" => 17,
        "TASK_RUNNING" => 0,
        "TASK_INTERRUPTIBLE" => 1,
        "TASK_UNINTERRUPTIBLE" => 2,
        "__TASK_STOPPED" => 4,
        "__TASK_TRACED" => 8,
        "EXIT_DEAD" => 16,
        "EXIT_ZOMBIE" => 32,
        "TASK_PARKED" => 64,
        "TASK_DEAD" => 128,
        "TASK_WAKEKILL" => 256,
        "TASK_NOLOAD" => 1024,
        "O_RDONLY" => 0,
        "O_WRONLY" => 1,
        "O_RDWR" => 2,
        "O_CREAT" => 0o100,
        "O_TRUNC" => 0o1000,
        "O_APPEND" => 0o2000,
        "O_DIRECT" => 0o40000,
        "SIGKILL" => 9,
        "SIGTERM" => 15,
        "SIGINT" => 2,
        "SIGUSR1" => 10,
        "SIGUSR2" => 12,
        _ => return None,
    })
}

/// Aggregation functions: only valid as the value of a map assignment.
pub const AGGREGATIONS: &[&str] = &[
    "count", "sum", "avg", "min", "max", "stats", "hist", "lhist",
];

/// (name, minimum arguments, maximum arguments) of every function.
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("count", 0, 0),
    ("sum", 1, 1),
    ("avg", 1, 1),
    ("min", 1, 1),
    ("max", 1, 1),
    ("stats", 1, 1),
    ("hist", 1, 2),
    ("lhist", 4, 4),
    ("printf", 1, 64),
    ("print", 1, 3),
    ("exit", 0, 1),
    ("clear", 1, 1),
    ("zero", 1, 1),
    ("delete", 1, 2),
    ("str", 1, 2),
    ("buf", 1, 2),
    ("ksym", 1, 1),
    ("kaddr", 1, 1),
    ("uaddr", 1, 1),
    ("reg", 1, 1),
    ("kptr", 1, 1),
    ("cgroup_path", 1, 1),
    ("uptr", 1, 1),
    ("usym", 1, 1),
    ("ntop", 1, 2),
    ("time", 0, 1),
    ("strftime", 2, 2),
    ("system", 1, 64),
    ("cat", 1, 64),
    ("signal", 1, 1),
    ("has_key", 2, 2),
    ("strncmp", 3, 3),
    ("strcontains", 2, 2),
    ("bswap", 1, 1),
    ("join", 1, 2),
    ("len", 1, 1),
    ("kstack", 0, 2),
    ("ustack", 0, 2),
];

/// Arity of a function, or None when it is unknown.
pub fn arity(name: &str) -> Option<(usize, usize)> {
    FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, min, max)| (min, max))
}

/// Functions that need `--unsafe`.
pub fn is_unsafe(name: &str) -> bool {
    matches!(name, "system" | "signal" | "override")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argn_variables() {
        assert_eq!(variable("arg0"), Some(Type::U64));
        assert_eq!(variable("arg11"), Some(Type::U64));
        assert_eq!(variable("arg12"), None);
        assert_eq!(variable("argx"), None);
        assert_eq!(variable("comm"), Some(Type::Str(16)));
    }
}
