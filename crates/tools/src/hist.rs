//! BCC's log2 histograms (`     usecs               : count     distribution`), drawn from the
//! buckets of the script's `hist()`.
//!
//! A `hist()` bucket `k >= 2` holds `[2^(k-2), 2^(k-1))`, bucket 1 holds 0 and bucket 0 the
//! negative values. BCC's slot `i >= 1` holds `[2^i, 2^(i+1) - 1]` and slot 0 holds `0 -> 1`
//! (as in libbpf-tools), so slot 0 sums buckets 0 to 2 and slot `i` is bucket `i + 2`.

use scry_output::{AggValue, MapDump, Value};

/// BCC slots from `hist()` buckets.
pub fn slots(buckets: &[u64]) -> Vec<u64> {
    let mut slots = vec![buckets.iter().take(3).sum::<u64>()];
    slots.extend(buckets.iter().skip(3));
    while slots.len() > 1 && slots.last() == Some(&0) {
        slots.pop();
    }
    slots
}

/// The bounds of slot `i`.
pub fn bounds(i: usize) -> (u64, u64) {
    if i == 0 {
        (0, 1)
    } else {
        let low = 1u64 << i.min(63);
        (low, low.wrapping_mul(2).wrapping_sub(1))
    }
}

fn stars(value: u64, max: u64, width: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let n = ((width as f64 * value as f64 / max as f64) as usize).min(width);
    "*".repeat(n)
}

/// The histogram as BCC prints it, with `unit` (`usecs`, `msecs`, ...) in the header. Empty
/// when every bucket is empty.
pub fn log2_text(buckets: &[u64], unit: &str) -> String {
    let slots = slots(buckets);
    let max = slots.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return String::new();
    }
    let wide = slots.len() > 32;
    let mut text = if wide {
        format!("               {unit:<29} : count     distribution\n")
    } else {
        format!("     {unit:<19} : count     distribution\n")
    };
    for (i, &count) in slots.iter().enumerate() {
        let (low, high) = bounds(i);
        if wide {
            text.push_str(&format!(
                "{low:>20} -> {high:<20} : {count:<8} |{:<20}|\n",
                stars(count, max, 20)
            ));
        } else {
            text.push_str(&format!(
                "{low:>10} -> {high:<10} : {count:<8} |{:<40}|\n",
                stars(count, max, 40)
            ));
        }
    }
    text
}

/// The histogram as JSON: `[{"low": 0, "high": 1, "count": 3}, ...]`.
pub fn log2_json(buckets: &[u64]) -> serde_json::Value {
    let slots = slots(buckets);
    serde_json::Value::Array(
        slots
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let (low, high) = bounds(i);
                serde_json::json!({ "low": low, "high": high, "count": count })
            })
            .collect(),
    )
}

/// An order for map keys: numbers by value, then text.
pub fn sort_key(key: &[Value]) -> Vec<(i128, String)> {
    key.iter()
        .map(|v| match v {
            Value::Int(i) => (i128::from(*i), String::new()),
            Value::UInt(u) => (i128::from(*u), String::new()),
            other => (0, other.to_text()),
        })
        .collect()
}

/// Renders a map of histograms: one section per key, headed by `section(key)` (no header for
/// a map without keys), sorted by key; JSON: one object per key with `unit`, the named key
/// parts and the buckets.
pub fn render_map(
    map: &MapDump,
    json: bool,
    unit: &str,
    key_names: &[&'static str],
    section: &dyn Fn(&[Value]) -> String,
) -> String {
    let mut entries: Vec<_> = map
        .entries
        .iter()
        .filter_map(|e| match &e.value {
            AggValue::Hist(buckets) => Some((&e.key, buckets)),
            _ => None,
        })
        .collect();
    entries.sort_by_key(|e| sort_key(e.0));
    let mut text = String::new();
    for (key, buckets) in entries {
        if json {
            let mut object = serde_json::Map::new();
            object.insert("unit".into(), serde_json::json!(unit));
            for (name, value) in key_names.iter().zip(key.iter()) {
                object.insert((*name).into(), crate::printer::json_value(value));
            }
            object.insert("buckets".into(), log2_json(buckets));
            text.push_str(&format!("{}\n", serde_json::Value::Object(object)));
            continue;
        }
        let body = log2_text(buckets, unit);
        if body.is_empty() {
            continue;
        }
        if !key.is_empty() {
            text.push_str(&format!("\n{}\n", section(key)));
        }
        text.push_str(&body);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_bcc() {
        // hist(): [neg, 0, 1, [2,4), [4,8)]
        assert_eq!(slots(&[0, 2, 3, 4, 0, 0]), vec![5, 4]);
        assert_eq!(bounds(0), (0, 1));
        assert_eq!(bounds(1), (2, 3));
        assert_eq!(bounds(3), (8, 15));
    }

    #[test]
    fn text_matches_bcc_layout() {
        let text = log2_text(&[0, 0, 1992, 844], "usecs");
        assert_eq!(
            text,
            "     usecs               : count     distribution\n\
             \x20        0 -> 1          : 1992     |****************************************|\n\
             \x20        2 -> 3          : 844      |****************                        |\n"
        );
        assert_eq!(log2_text(&[0, 0, 0], "usecs"), "");
    }

    #[test]
    fn leading_empty_slots_are_printed() {
        let text = log2_text(&[0, 0, 0, 0, 0, 7], "msecs");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[1].starts_with("         0 -> 1          : 0 "));
        assert!(lines[4].starts_with("         8 -> 15         : 7 "));
    }
}
