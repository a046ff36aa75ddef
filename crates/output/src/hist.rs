//! Histogram bucket conventions (`hist()` log2, `lhist()` linear) and their text and JSON
//! renderings, identical to bpftrace.
//!
//! `hist()` bucket indices: 0 holds negative values, 1 holds 0, 2 holds 1, and index
//! `k >= 3` holds `[2^(k-2), 2^(k-1))`, so [`HIST_BUCKETS`] (65) cover every `i64`.
//!
//! `lhist(v, min, max, step)` bucket indices: 0 holds `v < min`, `1..=n` hold
//! `[min + (i-1)*step, min + i*step)` with `n = (max - min) / step`, and `n + 1` holds
//! everything from `max` up (including values the last partial step would hold).

/// Number of `hist()` buckets needed for any `i64` value.
pub const HIST_BUCKETS: usize = 65;

/// Buckets beyond this index cannot exist (index 65 holds `[2^63, 2^64)` for unsigned
/// values); renderers ignore them instead of overflowing.
const MAX_HIST_BUCKETS: usize = HIST_BUCKETS + 1;

/// Width of the `@` bar column.
const BAR_WIDTH: usize = 52;

/// The `hist()` bucket index of `v`.
pub fn hist_bucket(v: i64) -> usize {
    match v {
        i64::MIN..=-1 => 0,
        0 => 1,
        _ => 2 + (63 - v.leading_zeros() as usize),
    }
}

/// Number of `lhist()` buckets (including the under- and overflow buckets), or 0 when the
/// parameters are invalid (`step <= 0` or `max <= min`).
pub fn lhist_buckets(min: i64, max: i64, step: i64) -> usize {
    if step <= 0 || max <= min {
        return 0;
    }
    let inner = (i128::from(max) - i128::from(min)) / i128::from(step);
    usize::try_from(inner + 2).unwrap_or(usize::MAX)
}

/// The `lhist()` bucket index of `v` (see the module docs). Invalid parameters give 0.
pub fn lhist_bucket(v: i64, min: i64, max: i64, step: i64) -> usize {
    let buckets = lhist_buckets(min, max, step);
    if buckets == 0 || v < min {
        return 0;
    }
    let last = buckets - 1;
    if v >= max {
        return last;
    }
    let idx = (i128::from(v) - i128::from(min)) / i128::from(step) + 1;
    usize::try_from(idx).map_or(last, |idx| idx.min(last))
}

/// `2^power` as bpftrace labels it: `512`, `1K`, `4M`, `2G`, `8E`.
fn power_label(power: usize) -> String {
    const SUFFIXES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let decade = (power / 10).min(SUFFIXES.len() - 1);
    let rest = power - decade * 10;
    format!("{}{}", 1u64 << rest, SUFFIXES[decade])
}

/// A linear-histogram bound as bpftrace labels it: multiples of 1 Mi / 1 Ki use `M` / `K`.
fn linear_label(number: i64) -> String {
    const KILO: i64 = 1024;
    const MEGA: i64 = 1024 * 1024;
    if number != 0 && number % MEGA == 0 {
        format!("{}M", number / MEGA)
    } else if number != 0 && number % KILO == 0 {
        format!("{}K", number / KILO)
    } else {
        number.to_string()
    }
}

/// Indices of the first and last non-empty buckets.
fn nonempty_range(counts: &[u64]) -> Option<(usize, usize)> {
    let first = counts.iter().position(|&c| c > 0)?;
    let last = counts.iter().rposition(|&c| c > 0)?;
    Some((first, last))
}

fn push_line(out: &mut String, label: &str, shown: u64, count: u64, max: u64) {
    // bpftrace computes the bar in single precision and truncates.
    let bar = (count as f32 / max as f32 * BAR_WIDTH as f32) as usize;
    let bar = "@".repeat(bar.min(BAR_WIDTH));
    out.push_str(&format!("{label:<16}{shown:>8} |{bar:<BAR_WIDTH$}|\n"));
}

fn hist_label(idx: usize) -> String {
    match idx {
        0 => "(..., 0)".to_owned(),
        1 => "[0]".to_owned(),
        2 => "[1]".to_owned(),
        _ => format!("[{}, {})", power_label(idx - 2), power_label(idx - 1)),
    }
}

/// Text rendering of a `hist()` value: one line per bucket from the first to the last
/// non-empty one; empty string when all buckets are empty. Shown counts are divided by
/// `div` (bars are not), as bpftrace.
pub(crate) fn hist_text(counts: &[u64], div: u64) -> String {
    let counts = &counts[..counts.len().min(MAX_HIST_BUCKETS)];
    let mut out = String::new();
    let Some((first, last)) = nonempty_range(counts) else {
        return out;
    };
    let max = counts.iter().copied().max().unwrap_or(1);
    for (idx, &count) in counts.iter().enumerate().take(last + 1).skip(first) {
        push_line(&mut out, &hist_label(idx), count / div.max(1), count, max);
    }
    out
}

/// Text rendering of an `lhist()` value (see [`hist_text`]); counts are never divided.
pub(crate) fn lhist_text(counts: &[u64], min: i64, max: i64, step: i64) -> String {
    let mut out = String::new();
    let buckets = lhist_buckets(min, max, step);
    let counts = &counts[..counts.len().min(buckets)];
    let Some((first, last)) = nonempty_range(counts) else {
        return out;
    };
    let max_count = counts.iter().copied().max().unwrap_or(1);
    for (idx, &count) in counts.iter().enumerate().take(last + 1).skip(first) {
        let label = if idx == 0 {
            format!("(..., {})", linear_label(min))
        } else if idx == buckets - 1 {
            format!("[{}, ...)", linear_label(max))
        } else {
            let low = lhist_low(idx, min, step);
            format!(
                "[{}, {})",
                linear_label(low),
                linear_label(low.saturating_add(step))
            )
        };
        push_line(&mut out, &label, count, count, max_count);
    }
    out
}

/// Lower bound of inner lhist bucket `idx`.
fn lhist_low(idx: usize, min: i64, step: i64) -> i64 {
    let idx = i64::try_from(idx).unwrap_or(i64::MAX);
    (idx - 1).saturating_mul(step).saturating_add(min)
}

/// JSON rendering of a `hist()` value: `[{"min": 4, "max": 7, "count": 1}, ...]`.
pub(crate) fn hist_json(counts: &[u64], div: u64) -> String {
    let counts = &counts[..counts.len().min(MAX_HIST_BUCKETS)];
    let Some((first, last)) = nonempty_range(counts) else {
        return "[]".to_owned();
    };
    let entries: Vec<String> = (first..=last)
        .map(|idx| {
            let bounds = match idx {
                0 => "\"max\": -1, ".to_owned(),
                1 => "\"min\": 0, \"max\": 0, ".to_owned(),
                2 => "\"min\": 1, \"max\": 1, ".to_owned(),
                _ => {
                    let low = 1u128 << (idx - 2);
                    let high = (1u128 << (idx - 1)) - 1;
                    format!("\"min\": {low}, \"max\": {high}, ")
                }
            };
            format!("{{{bounds}\"count\": {}}}", counts[idx] / div.max(1))
        })
        .collect();
    format!("[{}]", entries.join(", "))
}

/// JSON rendering of an `lhist()` value.
pub(crate) fn lhist_json(counts: &[u64], min: i64, max: i64, step: i64) -> String {
    let buckets = lhist_buckets(min, max, step);
    let counts = &counts[..counts.len().min(buckets)];
    let Some((first, last)) = nonempty_range(counts) else {
        return "[]".to_owned();
    };
    let entries: Vec<String> = (first..=last)
        .map(|idx| {
            let bounds = if idx == 0 {
                format!("\"max\": {}, ", i128::from(min) - 1)
            } else if idx == buckets - 1 {
                format!("\"min\": {max}, ")
            } else {
                let low = lhist_low(idx, min, step);
                format!(
                    "\"min\": {low}, \"max\": {}, ",
                    i128::from(low) + i128::from(step) - 1
                )
            };
            format!("{{{bounds}\"count\": {}}}", counts[idx])
        })
        .collect();
    format!("[{}]", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist_of(values: &[i64]) -> Vec<u64> {
        let mut counts = vec![0; HIST_BUCKETS];
        for &v in values {
            counts[hist_bucket(v)] += 1;
        }
        counts
    }

    fn lhist_of(values: &[i64], min: i64, max: i64, step: i64) -> Vec<u64> {
        let mut counts = vec![0; lhist_buckets(min, max, step)];
        for &v in values {
            counts[lhist_bucket(v, min, max, step)] += 1;
        }
        counts
    }

    #[test]
    fn hist_buckets() {
        assert_eq!(hist_bucket(i64::MIN), 0);
        assert_eq!(hist_bucket(-1), 0);
        assert_eq!(hist_bucket(0), 1);
        assert_eq!(hist_bucket(1), 2);
        assert_eq!(hist_bucket(2), 3);
        assert_eq!(hist_bucket(3), 3);
        assert_eq!(hist_bucket(4), 4);
        assert_eq!(hist_bucket(1000), 11);
        assert_eq!(hist_bucket(1023), 11);
        assert_eq!(hist_bucket(1024), 12);
        assert_eq!(hist_bucket(i64::MAX), HIST_BUCKETS - 1);
    }

    #[test]
    fn lhist_buckets_and_edges() {
        assert_eq!(lhist_buckets(0, 100, 10), 12);
        assert_eq!(lhist_buckets(0, 10, 3), 5);
        assert_eq!(lhist_buckets(0, 0, 1), 0);
        assert_eq!(lhist_buckets(0, 10, 0), 0);
        assert_eq!(lhist_bucket(-1, 0, 100, 10), 0);
        assert_eq!(lhist_bucket(0, 0, 100, 10), 1);
        assert_eq!(lhist_bucket(99, 0, 100, 10), 10);
        assert_eq!(lhist_bucket(100, 0, 100, 10), 11);
        assert_eq!(lhist_bucket(i64::MAX, 0, 100, 10), 11);
        // The partial last step (9 with min 0, max 10, step 3) goes to the overflow bucket.
        assert_eq!(lhist_bucket(9, 0, 10, 3), 4);
        assert_eq!(lhist_bucket(5, 0, 10, 0), 0);
    }

    #[test]
    fn hist_text_edges() {
        // Captured from bpftrace 0.17 on 2026-11-22:
        // @h = hist(-1), hist(0), hist(1), hist(3), hist(3), hist(1000)
        let expected = "\
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[4, 8)                 0 |                                                    |
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |                                                    |
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
";
        assert_eq!(hist_text(&hist_of(&[-1, 0, 1, 3, 3, 1000]), 1), expected);
        let json = r#"[{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 1}, {"min": 1, "max": 1, "count": 1}, {"min": 2, "max": 3, "count": 2}, {"min": 4, "max": 7, "count": 0}, {"min": 8, "max": 15, "count": 0}, {"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, {"min": 64, "max": 127, "count": 0}, {"min": 128, "max": 255, "count": 0}, {"min": 256, "max": 511, "count": 0}, {"min": 512, "max": 1023, "count": 1}]"#;
        assert_eq!(hist_json(&hist_of(&[-1, 0, 1, 3, 3, 1000]), 1), json);
    }

    #[test]
    fn hist_bar_scaling() {
        // Captured from bpftrace 0.17: counts 3, 0, 2, 0, 1, 7.
        let values = [2, 2, 2, 8, 8, 32, 64, 64, 64, 64, 64, 64, 64];
        let expected = "\
[2, 4)                 3 |@@@@@@@@@@@@@@@@@@@@@@                              |
[4, 8)                 0 |                                                    |
[8, 16)                2 |@@@@@@@@@@@@@@                                      |
[16, 32)               0 |                                                    |
[32, 64)               1 |@@@@@@@                                             |
[64, 128)              7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
";
        assert_eq!(hist_text(&hist_of(&values), 1), expected);
    }

    #[test]
    fn hist_large_values() {
        // bpftrace 0.17 folded values >= 2^32 into [2G, 4G) (a bug fixed in current
        // bpftrace); the labels up to 2^32 match the 0.17 capture, the rest follow the
        // current K/M/G/T/P/E scheme.
        let text = hist_text(&hist_of(&[1 << 20, 1 << 30, 1 << 40, i64::MAX]), 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 64 - 22 + 1);
        assert_eq!(
            lines[0],
            "[1M, 2M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
        );
        assert!(lines[10].starts_with("[1G, 2G)               1 |"));
        assert!(lines[11].starts_with("[2G, 4G)               0 |"));
        assert!(lines[20].starts_with("[1T, 2T)               1 |"));
        assert!(lines[42].starts_with("[4E, 8E)               1 |"));
        assert_eq!(power_label(9), "512");
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(53), "8P");
        let json = hist_json(&hist_of(&[i64::MAX]), 1);
        assert_eq!(
            json,
            r#"[{"min": 4611686018427387904, "max": 9223372036854775807, "count": 1}]"#
        );
    }

    #[test]
    fn hist_div_and_empty() {
        let counts = hist_of(&[5, 5, 6, 100]);
        assert_eq!(
            hist_text(&counts, 2),
            "\
[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |@@@@@@@@@@@@@@@@@                                   |
"
        );
        assert_eq!(hist_text(&[0; HIST_BUCKETS], 1), "");
        assert_eq!(hist_json(&[], 1), "[]");
        assert_eq!(hist_text(&[], 1), "");
    }

    #[test]
    fn lhist_text_edges() {
        // Captured from bpftrace 0.17: lhist(-1|0|99|100|1000, 0, 100, 10).
        let counts = lhist_of(&[-1, 0, 99, 100, 1000], 0, 100, 10);
        let expected = "\
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[0, 10)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[10, 20)               0 |                                                    |
[20, 30)               0 |                                                    |
[30, 40)               0 |                                                    |
[40, 50)               0 |                                                    |
[50, 60)               0 |                                                    |
[60, 70)               0 |                                                    |
[70, 80)               0 |                                                    |
[80, 90)               0 |                                                    |
[90, 100)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[100, ...)             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
";
        assert_eq!(lhist_text(&counts, 0, 100, 10), expected);
        let json = r#"[{"max": -1, "count": 1}, {"min": 0, "max": 9, "count": 1}, {"min": 10, "max": 19, "count": 0}, {"min": 20, "max": 29, "count": 0}, {"min": 30, "max": 39, "count": 0}, {"min": 40, "max": 49, "count": 0}, {"min": 50, "max": 59, "count": 0}, {"min": 60, "max": 69, "count": 0}, {"min": 70, "max": 79, "count": 0}, {"min": 80, "max": 89, "count": 0}, {"min": 90, "max": 99, "count": 1}, {"min": 100, "count": 2}]"#;
        assert_eq!(lhist_json(&counts, 0, 100, 10), json);
    }

    #[test]
    fn lhist_uneven_step() {
        // Captured from bpftrace 0.17: lhist(7|9|10, 0, 10, 3).
        let counts = lhist_of(&[7, 9, 10], 0, 10, 3);
        assert_eq!(
            lhist_text(&counts, 0, 10, 3),
            "\
[6, 9)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[10, ...)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
"
        );
        assert_eq!(
            lhist_json(&counts, 0, 10, 3),
            r#"[{"min": 6, "max": 8, "count": 1}, {"min": 10, "count": 2}]"#
        );
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        // More buckets than any hist can have: the extra ones are ignored.
        let many = vec![1; 200];
        let text = hist_text(&many, 1);
        assert_eq!(text.lines().count(), MAX_HIST_BUCKETS);
        assert!(
            text.lines()
                .last()
                .unwrap()
                .starts_with("[8E, 16E)              1 |")
        );
        assert!(hist_json(&many, 0).ends_with(
            r#"{"min": 9223372036854775808, "max": 18446744073709551615, "count": 1}]"#
        ));
        let huge = [u64::MAX, 1];
        assert!(hist_text(&huge, 0).starts_with("(..., 0)        18446744073709551615 |@@@"));
        // Extreme lhist parameters.
        let counts = [1, 1, 1];
        let text = lhist_text(&counts, i64::MIN, i64::MAX, i64::MAX);
        assert_eq!(text.lines().count(), 3);
        let json = lhist_json(&counts, i64::MIN, i64::MAX, 1);
        assert!(json.starts_with(r#"[{"max": -9223372036854775809, "count": 1}"#));
        assert_eq!(lhist_bucket(0, i64::MIN, i64::MAX, 1), (1 << 63) + 1);
        assert_eq!(lhist_buckets(i64::MIN, i64::MAX, 1), usize::MAX);
    }

    #[test]
    fn lhist_labels() {
        assert_eq!(linear_label(0), "0");
        assert_eq!(linear_label(1024), "1K");
        assert_eq!(linear_label(3072), "3K");
        assert_eq!(linear_label(1048576), "1M");
        assert_eq!(linear_label(1000), "1000");
        assert_eq!(linear_label(-2048), "-2K");
        let counts = lhist_of(&[1500, 5000], 1024, 4096, 1024);
        assert_eq!(
            lhist_text(&counts, 1024, 4096, 1024),
            "\
[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[2K, 3K)               0 |                                                    |
[3K, 4K)               0 |                                                    |
[4K, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
"
        );
        // Invalid parameters render nothing rather than panicking.
        assert_eq!(lhist_text(&[1, 2], 0, 0, 1), "");
        assert_eq!(lhist_json(&[1, 2], 5, 1, 1), "[]");
    }
}
