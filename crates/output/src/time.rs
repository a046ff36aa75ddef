//! `time(fmt)` / `strftime(fmt, ns)` formatting and `join()`, without touching the system.
//!
//! [`strftime`] implements C `strftime` in the C locale (glibc's extensions included) plus
//! bpftrace's `%f` (microseconds, 6 digits). The caller supplies the instant and the UTC
//! offset of the local time zone (the runtime gets them from `clock_gettime` and
//! `localtime_r`, or from [`TimeZone`] given the bytes of `/etc/localtime`), so this
//! module stays pure.

mod tz;

pub use tz::{TimeZone, TzError};

/// The format `time()` uses without an argument.
pub const DEFAULT_TIME_FORMAT: &str = "%H:%M:%S\n";

/// An instant and the local time zone it is displayed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    /// Nanoseconds within the second (0..1e9).
    pub nanos: u32,
    /// Offset of local time from UTC, in seconds east (e.g. 3600 for CET).
    pub utc_offset: i32,
    /// Time-zone abbreviation for `%Z` (e.g. `UTC`, `CET`).
    pub zone: String,
}

impl LocalTime {
    /// An instant displayed in UTC.
    pub fn utc(secs: i64, nanos: u32) -> Self {
        Self {
            secs,
            nanos,
            utc_offset: 0,
            zone: "UTC".to_owned(),
        }
    }
}

/// Broken-down local time, like C's `struct tm`.
#[derive(Debug, Clone, Copy)]
struct Tm {
    year: i64,
    /// 1..=12
    month: u32,
    /// 1..=31
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// 0 = Sunday
    weekday: u32,
    /// 0-based day of the year
    yday: u32,
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Tm {
    fn from_local(t: &LocalTime) -> Self {
        let local = t.secs.saturating_add(i64::from(t.utc_offset));
        let days = local.div_euclid(86_400);
        let secs_of_day = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        const CUMULATIVE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let leap_extra = u32::from(month > 2 && is_leap(year));
        Tm {
            year,
            month,
            day,
            hour: secs_of_day / 3600,
            minute: secs_of_day / 60 % 60,
            second: secs_of_day % 60,
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: CUMULATIVE[month as usize - 1] + day - 1 + leap_extra,
        }
    }

    /// ISO 8601 week-based year and week number.
    fn iso_week(&self) -> (i64, u32) {
        let iso_wday = (self.weekday + 6) % 7; // Monday = 0
        let yday = i64::from(self.yday);
        let week = (yday - i64::from(iso_wday) + 10) / 7;
        if week < 1 {
            let prev = self.year - 1;
            let prev_days = if is_leap(prev) { 366 } else { 365 };
            let week = (yday + prev_days - i64::from(iso_wday) + 10) / 7;
            (prev, week as u32)
        } else {
            let days = if is_leap(self.year) { 366 } else { 365 };
            if week == 53 && yday - i64::from(iso_wday) + 3 >= days {
                (self.year + 1, 1)
            } else {
                (self.year, week as u32)
            }
        }
    }
}

/// Padding requested by a glibc flag (`%-d`, `%_d`, `%0e`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pad {
    Default,
    None,
    Space,
    Zero,
}

fn number(out: &mut String, value: i64, width: usize, default_fill: char, pad: Pad) {
    let fill = match pad {
        Pad::Default => Some(default_fill),
        Pad::None => None,
        Pad::Space => Some(' '),
        Pad::Zero => Some('0'),
    };
    let digits = value.unsigned_abs().to_string();
    if value < 0 {
        out.push('-');
    }
    if let Some(fill) = fill {
        for _ in digits.len()..width {
            out.push(fill);
        }
    }
    out.push_str(&digits);
}

/// Formats `t` with a C `strftime` format (C locale), plus `%f` for microseconds.
/// Unknown conversions are copied through unchanged, as glibc does.
pub fn strftime(fmt: &str, t: &LocalTime) -> String {
    let tm = Tm::from_local(t);
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let mut pad = Pad::Default;
        let mut upper = false;
        let mut spec = String::from("%");
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => pad = Pad::None,
                '_' => pad = Pad::Space,
                '0' => pad = Pad::Zero,
                '^' => upper = true,
                '#' => {}
                _ => break,
            }
            spec.push(flag);
            chars.next();
        }
        // `E` and `O` modifiers select alternative representations; the C locale has none.
        if let Some(&modifier @ ('E' | 'O')) = chars.peek() {
            spec.push(modifier);
            chars.next();
        }
        let Some(conv) = chars.next() else {
            out.push_str(&spec);
            break;
        };
        let start = out.len();
        if !format_one(&mut out, conv, &tm, t, pad) {
            out.push_str(&spec);
            out.push(conv);
        }
        if upper {
            let tail = out.split_off(start).to_uppercase();
            out.push_str(&tail);
        }
    }
    out
}

/// Appends one conversion; returns false for an unknown conversion character.
fn format_one(out: &mut String, conv: char, tm: &Tm, t: &LocalTime, pad: Pad) -> bool {
    let hour12 = match tm.hour % 12 {
        0 => 12,
        h => h,
    };
    match conv {
        'a' => out.push_str(&WEEKDAYS[tm.weekday as usize][..3]),
        'A' => out.push_str(WEEKDAYS[tm.weekday as usize]),
        'b' | 'h' => out.push_str(&MONTHS[tm.month as usize - 1][..3]),
        'B' => out.push_str(MONTHS[tm.month as usize - 1]),
        'c' => out.push_str(&strftime("%a %b %e %H:%M:%S %Y", t)),
        'C' => number(out, tm.year.div_euclid(100), 2, '0', pad),
        'd' => number(out, i64::from(tm.day), 2, '0', pad),
        'D' | 'x' => out.push_str(&strftime("%m/%d/%y", t)),
        'e' => number(out, i64::from(tm.day), 2, ' ', pad),
        'f' => number(out, i64::from(t.nanos / 1000), 6, '0', pad),
        'F' => out.push_str(&strftime("%Y-%m-%d", t)),
        'g' => number(out, tm.iso_week().0.rem_euclid(100), 2, '0', pad),
        'G' => number(out, tm.iso_week().0, 1, '0', pad),
        'H' => number(out, i64::from(tm.hour), 2, '0', pad),
        'I' => number(out, i64::from(hour12), 2, '0', pad),
        'j' => number(out, i64::from(tm.yday) + 1, 3, '0', pad),
        'k' => number(out, i64::from(tm.hour), 2, ' ', pad),
        'l' => number(out, i64::from(hour12), 2, ' ', pad),
        'm' => number(out, i64::from(tm.month), 2, '0', pad),
        'M' => number(out, i64::from(tm.minute), 2, '0', pad),
        'n' => out.push('\n'),
        'p' => out.push_str(if tm.hour < 12 { "AM" } else { "PM" }),
        'P' => out.push_str(if tm.hour < 12 { "am" } else { "pm" }),
        'r' => out.push_str(&strftime("%I:%M:%S %p", t)),
        'R' => out.push_str(&strftime("%H:%M", t)),
        's' => out.push_str(&t.secs.to_string()),
        'S' => number(out, i64::from(tm.second), 2, '0', pad),
        't' => out.push('\t'),
        'T' | 'X' => out.push_str(&strftime("%H:%M:%S", t)),
        'u' => number(out, i64::from((tm.weekday + 6) % 7 + 1), 1, '0', pad),
        'U' => number(out, i64::from((tm.yday + 7 - tm.weekday) / 7), 2, '0', pad),
        'V' => number(out, i64::from(tm.iso_week().1), 2, '0', pad),
        'w' => number(out, i64::from(tm.weekday), 1, '0', pad),
        'W' => {
            let monday_based = (tm.weekday + 6) % 7;
            number(
                out,
                i64::from((tm.yday + 7 - monday_based) / 7),
                2,
                '0',
                pad,
            );
        }
        'y' => number(out, tm.year.rem_euclid(100), 2, '0', pad),
        'Y' => number(out, tm.year, 1, '0', pad),
        'z' => {
            let offset = t.utc_offset;
            out.push(if offset < 0 { '-' } else { '+' });
            let abs = offset.unsigned_abs();
            out.push_str(&format!("{:02}{:02}", abs / 3600, abs / 60 % 60));
        }
        'Z' => out.push_str(&t.zone),
        '%' => out.push('%'),
        _ => return false,
    }
    true
}

/// Joins `join()` array elements with `delim` (bpftrace's default delimiter is a space).
pub fn join(parts: &[&str], delim: &str) -> String {
    parts.join(delim)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22 01:02:03.456789 UTC, a Sunday, day 326 of the year.
    const SECS: i64 = 1_795_309_323;

    fn at(secs: i64, nanos: u32) -> LocalTime {
        LocalTime::utc(secs, nanos)
    }

    #[test]
    fn epoch() {
        assert_eq!(
            strftime("%Y-%m-%d %H:%M:%S %f %%", &at(0, 0)),
            "1970-01-01 00:00:00 000000 %"
        );
        assert_eq!(
            strftime("%a %A %b %B %j %u %w", &at(0, 0)),
            "Thu Thursday Jan January 001 4 4"
        );
    }

    #[test]
    fn common_conversions() {
        let t = at(SECS, 456_789_000);
        assert_eq!(strftime("%F %T.%f", &t), "2026-11-22 01:02:03.456789");
        assert_eq!(strftime("%H:%M:%S\n", &t), "01:02:03\n");
        assert_eq!(strftime("%c", &t), "Sun Nov 22 01:02:03 2026");
        assert_eq!(
            strftime("%D %x %X %R %r", &t),
            "11/22/26 11/22/26 01:02:03 01:02 01:02:03 AM"
        );
        assert_eq!(strftime("%e|%k|%l|%I|%p|%P", &t), "22| 1| 1|01|AM|am");
        assert_eq!(
            strftime("%C %y %G %g %V %U %W", &t),
            "20 26 2026 26 47 47 46"
        );
        assert_eq!(strftime("%s %z %Z %n%t", &t), "1795309323 +0000 UTC \n\t");
        assert_eq!(strftime("%-d|%_m|%0e|%^a|%Ey", &t), "22|11|22|SUN|26");
    }

    #[test]
    fn offsets_and_zones() {
        let t = LocalTime {
            secs: SECS,
            nanos: 0,
            utc_offset: -(5 * 3600 + 30 * 60),
            zone: "XST".into(),
        };
        assert_eq!(strftime("%F %T %z %Z", &t), "2026-11-21 19:32:03 -0530 XST");
    }

    #[test]
    fn leap_years_and_iso_weeks() {
        // 2024-12-30 is in ISO week 1 of 2025; 2021-01-03 is in week 53 of 2020.
        let days_2024_12_30 = 20_087;
        assert_eq!(
            strftime("%F %G-W%V-%u %j", &at(days_2024_12_30 * 86_400, 0)),
            "2024-12-30 2025-W01-1 365"
        );
        let days_2021_01_03 = 18_630;
        assert_eq!(
            strftime("%F %G-W%V-%u", &at(days_2021_01_03 * 86_400, 0)),
            "2021-01-03 2020-W53-7"
        );
        assert_eq!(strftime("%F %j", &at(951_782_400, 0)), "2000-02-29 060");
        assert_eq!(strftime("%F %a", &at(-86_400, 0)), "1969-12-31 Wed");
    }

    #[test]
    fn unknown_and_truncated() {
        let t = at(0, 0);
        assert_eq!(strftime("%Q %", &t), "%Q %");
        assert_eq!(strftime("100%", &t), "100%");
        assert_eq!(strftime("%-", &t), "%-");
    }

    #[test]
    fn joins() {
        assert_eq!(join(&["ls", "-l", "/tmp"], " "), "ls -l /tmp");
        assert_eq!(join(&["a", "b"], ","), "a,b");
        assert_eq!(join(&[], ","), "");
    }
}
