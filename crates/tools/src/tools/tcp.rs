//! What the TCP tools (tcpconnect, tcpaccept, tcplife, tcpretrans) share: the tracepoints
//! they need, port and family filters, and TCP state names.

use scry_output::{AggValue, Value};
use scry_sema::KernelInfo;

use crate::{ToolError, script};

/// `AF_INET`.
pub const AF_INET: u64 = 2;
/// `AF_INET6`.
pub const AF_INET6: u64 = 10;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u64 = 6;

/// `TCP_ESTABLISHED` ... `TCP_NEW_SYN_RECV` (include/net/tcp_states.h).
pub const ESTABLISHED: u64 = 1;
pub const SYN_SENT: u64 = 2;
pub const SYN_RECV: u64 = 3;
pub const FIN_WAIT1: u64 = 4;
pub const CLOSE: u64 = 7;
pub const LAST_ACK: u64 = 9;

/// Fails unless tracepoint `category:name` exists; `needed` says what for.
pub fn require_tracepoint(
    kernel: &dyn KernelInfo,
    category: &str,
    name: &str,
    needed: &str,
) -> Result<(), ToolError> {
    if script::has_tracepoint(kernel, category, name) {
        return Ok(());
    }
    Err(ToolError::Unsupported(format!(
        "this kernel has no tracepoint {category}:{name}, which {needed} \
         (it exists since Linux 4.16; is CONFIG_TRACEPOINTS set?)"
    )))
}

/// The ports of a `-P 80,443` list, checked to be TCP ports.
pub fn ports(text: Option<&str>, what: &str) -> Result<Vec<u64>, ToolError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let ports = script::number_list(text, what)?;
    if let Some(bad) = ports.iter().find(|p| **p > 65535) {
        return Err(ToolError::BadArgument(format!(
            "invalid {what} {bad} in '{text}': ports are 0 to 65535"
        )));
    }
    if ports.is_empty() {
        return Err(ToolError::BadArgument(format!("no {what} in '{text}'")));
    }
    Ok(ports)
}

/// The condition `-4`/`-6` put on the address family `family` (an expression).
pub fn family_condition(ipv4: bool, ipv6: bool, family: &str) -> Option<String> {
    match (ipv4, ipv6) {
        (true, false) => Some(format!("{family} == {AF_INET}")),
        (false, true) => Some(format!("{family} == {AF_INET6}")),
        _ => None,
    }
}

/// BCC's name of TCP state `state` (`tcp.state2str`).
pub fn state_name(state: u64) -> String {
    let name = match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        13 => "BOUND_INACTIVE",
        other => return format!("UNKNOWN({other})"),
    };
    name.to_string()
}

/// The count of a `count()` map entry.
pub fn count(value: &AggValue) -> u64 {
    match value {
        AggValue::Int(i) => (*i).max(0) as u64,
        AggValue::UInt(u) => *u,
        AggValue::Plain(v) => crate::printer::as_u64(v),
        _ => 0,
    }
}

/// A key part or printf value as text (addresses, names, numbers).
pub fn text(value: Option<&Value>) -> String {
    value.map(scry_output::Value::to_text).unwrap_or_default()
}

/// Whether an address as text is IPv6 (BCC lists IPv4 flows before IPv6 ones).
pub fn is_ipv6(address: &str) -> bool {
    address.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists() {
        assert_eq!(ports(Some("80,443"), "port").unwrap(), vec![80, 443]);
        assert!(ports(Some("70000"), "port").is_err());
        assert!(ports(Some(","), "port").is_err());
        assert!(ports(None, "port").unwrap().is_empty());
    }

    #[test]
    fn families_and_states() {
        assert_eq!(
            family_condition(true, false, "args->family").as_deref(),
            Some("args->family == 2")
        );
        assert_eq!(
            family_condition(false, true, "$f").as_deref(),
            Some("$f == 10")
        );
        assert_eq!(family_condition(false, false, "$f"), None);
        assert_eq!(state_name(1), "ESTABLISHED");
        assert_eq!(state_name(4), "FIN_WAIT1");
        assert_eq!(state_name(99), "UNKNOWN(99)");
        assert!(is_ipv6("::1") && !is_ipv6("10.0.0.1"));
    }
}
