//! Time zones from TZif data (`/etc/localtime`, RFC 8536), so local time needs no libc.
//!
//! The runtime reads the file and hands over the bytes; [`TimeZone::local_time`] then finds
//! the UTC offset and abbreviation for an instant: from the transition table, and past its
//! end from the POSIX `TZ` rule in the footer (e.g. `CET-1CEST,M3.5.0,M10.5.0/3`).

use thiserror::Error;

use super::{LocalTime, civil_from_days, is_leap};

/// Errors from parsing TZif data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TzError {
    /// The data does not start with the `TZif` magic.
    #[error("not a TZif file")]
    BadMagic,
    /// The data ends before the sizes in its header say it should.
    #[error("truncated TZif data")]
    Truncated,
    /// A count or index in the data is inconsistent.
    #[error("invalid TZif data: {0}")]
    Invalid(&'static str),
}

/// One local time type: offset, DST flag and abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ZoneType {
    utc_offset: i32,
    is_dst: bool,
    abbrev: String,
}

/// A time zone parsed from TZif data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    /// Transition instants (Unix seconds, ascending) and the type in effect from each.
    transitions: Vec<(i64, usize)>,
    types: Vec<ZoneType>,
    /// Rule for instants after the last transition.
    footer: Option<PosixRule>,
}

/// Reads big-endian fields from a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], TzError> {
        let end = self.pos.checked_add(len).ok_or(TzError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(TzError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, TzError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self) -> Result<usize, TzError> {
        usize::try_from(self.u32()?).map_err(|_| TzError::Invalid("count"))
    }

    fn time(&mut self, wide: bool) -> Result<i64, TzError> {
        if wide {
            let b = self.take(8)?;
            Ok(i64::from_be_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]))
        } else {
            Ok(i64::from(self.u32()? as i32))
        }
    }
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

fn header(reader: &mut Reader<'_>) -> Result<Header, TzError> {
    if reader.take(4).map_err(|_| TzError::BadMagic)? != b"TZif" {
        return Err(TzError::BadMagic);
    }
    let version = reader.take(1)?[0];
    reader.take(15)?;
    Ok(Header {
        version,
        isutcnt: reader.count()?,
        isstdcnt: reader.count()?,
        leapcnt: reader.count()?,
        timecnt: reader.count()?,
        typecnt: reader.count()?,
        charcnt: reader.count()?,
    })
}

/// The decoded contents of one TZif data block.
struct Block {
    transitions: Vec<(i64, usize)>,
    types: Vec<ZoneType>,
}

/// Parses one data block; `wide` selects 64-bit times (version 2+ second block).
fn data_block(reader: &mut Reader<'_>, head: &Header, wide: bool) -> Result<Block, TzError> {
    if head.typecnt == 0 {
        return Err(TzError::Invalid("no local time types"));
    }
    let mut times = Vec::with_capacity(head.timecnt.min(4096));
    for _ in 0..head.timecnt {
        times.push(reader.time(wide)?);
    }
    let indices = reader.take(head.timecnt)?;
    let mut raw_types = Vec::with_capacity(head.typecnt.min(256));
    for _ in 0..head.typecnt {
        let b = reader.take(6)?;
        let utc_offset = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        raw_types.push((utc_offset, b[4] != 0, usize::from(b[5])));
    }
    let chars = reader.take(head.charcnt)?;
    let leap_size = if wide { 12 } else { 8 };
    reader.take(
        head.leapcnt
            .checked_mul(leap_size)
            .ok_or(TzError::Truncated)?,
    )?;
    reader.take(head.isstdcnt)?;
    reader.take(head.isutcnt)?;

    let types = raw_types
        .into_iter()
        .map(|(utc_offset, is_dst, idx)| {
            let tail = chars
                .get(idx..)
                .ok_or(TzError::Invalid("abbreviation index"))?;
            let end = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
            Ok(ZoneType {
                utc_offset,
                is_dst,
                abbrev: String::from_utf8_lossy(&tail[..end]).into_owned(),
            })
        })
        .collect::<Result<Vec<_>, TzError>>()?;
    let transitions = times
        .into_iter()
        .zip(indices)
        .map(|(time, &idx)| {
            let idx = usize::from(idx);
            if idx < types.len() {
                Ok((time, idx))
            } else {
                Err(TzError::Invalid("type index"))
            }
        })
        .collect::<Result<Vec<_>, TzError>>()?;
    Ok(Block { transitions, types })
}

impl TimeZone {
    /// UTC, for when no zone data is available.
    pub fn utc() -> Self {
        Self {
            transitions: Vec::new(),
            types: vec![ZoneType {
                utc_offset: 0,
                is_dst: false,
                abbrev: "UTC".to_owned(),
            }],
            footer: None,
        }
    }

    /// Parses TZif data (versions 1 to 4).
    pub fn from_tzif(bytes: &[u8]) -> Result<Self, TzError> {
        let mut reader = Reader { bytes, pos: 0 };
        let head = header(&mut reader)?;
        let mut block = data_block(&mut reader, &head, false)?;
        let mut footer = None;
        if head.version >= b'2' {
            let head = header(&mut reader)?;
            block = data_block(&mut reader, &head, true)?;
            let rest = &bytes[reader.pos..];
            if rest.first() == Some(&b'\n') {
                let end = rest[1..].iter().position(|&c| c == b'\n');
                if let Some(end) = end {
                    let text = String::from_utf8_lossy(&rest[1..1 + end]);
                    footer = PosixRule::parse(&text);
                }
            }
        }
        Ok(Self {
            transitions: block.transitions,
            types: block.types,
            footer,
        })
    }

    /// The local time of an instant in this zone.
    pub fn local_time(&self, secs: i64, nanos: u32) -> LocalTime {
        let (utc_offset, zone) = self.offset_at(secs);
        LocalTime {
            secs,
            nanos,
            utc_offset,
            zone,
        }
    }

    fn offset_at(&self, secs: i64) -> (i32, String) {
        let after_last = self.transitions.last().is_none_or(|&(t, _)| secs >= t);
        if after_last && let Some(rule) = &self.footer {
            return rule.offset_at(secs);
        }
        let idx = match self.transitions.partition_point(|&(t, _)| t <= secs) {
            0 => self.types.iter().position(|t| !t.is_dst).unwrap_or(0),
            n => self.transitions[n - 1].1,
        };
        let ty = &self.types[idx];
        (ty.utc_offset, ty.abbrev.clone())
    }
}

/// A POSIX `TZ` rule such as `CET-1CEST,M3.5.0,M10.5.0/3`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PosixRule {
    std_abbrev: String,
    /// Seconds east of UTC.
    std_offset: i32,
    dst: Option<DstRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct DstRule {
    abbrev: String,
    offset: i32,
    start: (RuleDate, i32),
    end: (RuleDate, i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDate {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian1(u32),
    /// `n`: day 0..=365, February 29 counted.
    Julian0(u32),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay(u32, u32, u32),
}

/// A tiny cursor over the rule text.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.text[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn abbrev(&mut self) -> Option<String> {
        let (start, end) = if self.eat(b'<') {
            let start = self.pos;
            while self.peek().is_some_and(|c| c != b'>') {
                self.pos += 1;
            }
            let end = self.pos;
            self.eat(b'>').then_some((start, end))?
        } else {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
            (start, self.pos)
        };
        (end > start).then(|| String::from_utf8_lossy(&self.text[start..end]).into_owned())
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    fn hms(&mut self) -> Option<i32> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let mut secs = i32::try_from(self.number()?).ok()?.checked_mul(3600)?;
        for scale in [60, 1] {
            if !self.eat(b':') {
                break;
            }
            secs = secs.checked_add(i32::try_from(self.number()?).ok()?.checked_mul(scale)?)?;
        }
        Some(sign * secs)
    }

    fn date(&mut self) -> Option<(RuleDate, i32)> {
        let date = if self.eat(b'J') {
            RuleDate::Julian1(self.number()?)
        } else if self.eat(b'M') {
            let month = self.number()?;
            self.eat(b'.').then_some(())?;
            let week = self.number()?;
            self.eat(b'.').then_some(())?;
            let day = self.number()?;
            ((1..=12).contains(&month) && (1..=5).contains(&week) && day <= 6).then_some(())?;
            RuleDate::MonthWeekDay(month, week, day)
        } else {
            RuleDate::Julian0(self.number()?)
        };
        let time = if self.eat(b'/') { self.hms()? } else { 7200 };
        Some((date, time))
    }
}

impl PosixRule {
    fn parse(text: &str) -> Option<Self> {
        let mut cur = Cursor {
            text: text.as_bytes(),
            pos: 0,
        };
        let std_abbrev = cur.abbrev()?;
        // POSIX offsets count hours west of UTC.
        let std_offset = -cur.hms()?;
        if cur.peek().is_none() {
            return Some(Self {
                std_abbrev,
                std_offset,
                dst: None,
            });
        }
        let abbrev = cur.abbrev()?;
        let offset = match cur.peek() {
            Some(b',') | None => std_offset + 3600,
            _ => -cur.hms()?,
        };
        // Without rules POSIX says "implementation defined"; use the US rules like glibc.
        let (start, end) = if cur.eat(b',') {
            let start = cur.date()?;
            cur.eat(b',').then_some(())?;
            (start, cur.date()?)
        } else {
            (
                (RuleDate::MonthWeekDay(3, 2, 0), 7200),
                (RuleDate::MonthWeekDay(11, 1, 0), 7200),
            )
        };
        cur.peek().is_none().then_some(())?;
        Some(Self {
            std_abbrev,
            std_offset,
            dst: Some(DstRule {
                abbrev,
                offset,
                start,
                end,
            }),
        })
    }

    fn offset_at(&self, secs: i64) -> (i32, String) {
        let std = (self.std_offset, self.std_abbrev.clone());
        let Some(dst) = &self.dst else {
            return std;
        };
        let local_days = secs
            .saturating_add(i64::from(self.std_offset))
            .div_euclid(86_400);
        let (year, _, _) = civil_from_days(local_days);
        // Transition instants in UTC: the start is given in standard time, the end in DST.
        // i128 keeps the arithmetic exact for instants near the ends of the i64 range.
        let instant = |date: RuleDate, time: i32, offset: i32| {
            i128::from(rule_day(year, date)) * 86_400 + i128::from(time) - i128::from(offset)
        };
        let start = instant(dst.start.0, dst.start.1, self.std_offset);
        let end = instant(dst.end.0, dst.end.1, dst.offset);
        let secs = i128::from(secs);
        let in_dst = if start < end {
            (start..end).contains(&secs)
        } else {
            !(end..start).contains(&secs)
        };
        if in_dst {
            (dst.offset, dst.abbrev.clone())
        } else {
            std
        }
    }
}

/// Days since 1970-01-01 of January 1st of `year`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since the epoch of a rule date in `year`.
fn rule_day(year: i64, date: RuleDate) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    match date {
        RuleDate::Julian0(n) => jan1 + i64::from(n.min(365)),
        RuleDate::Julian1(n) => {
            let n = i64::from(n.clamp(1, 365));
            let leap_shift = i64::from(is_leap(year) && n >= 60);
            jan1 + n - 1 + leap_shift
        }
        RuleDate::MonthWeekDay(month, week, weekday) => {
            let first = days_from_civil(year, month, 1);
            let first_wday = (first + 4).rem_euclid(7);
            let mut day = first + (i64::from(weekday) - first_wday).rem_euclid(7);
            day += 7 * (i64::from(week) - 1);
            let next_month = if month == 12 {
                days_from_civil(year + 1, 1, 1)
            } else {
                days_from_civil(year, month + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
        }
    }
}

#[cfg(test)]
mod tests;
