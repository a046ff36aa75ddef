//! Time-zone tests. Expected offsets were checked with GNU `date` (`TZ=... date -d @secs`)
//! on the development VM.

use super::*;

/// `/usr/share/zoneinfo/Europe/Berlin` from the VM's tzdata (2025 release).
const BERLIN: &[u8] = include_bytes!("../../../testdata/Europe-Berlin.tzif");

fn offset(tz: &TimeZone, secs: i64) -> (i32, String) {
    let t = tz.local_time(secs, 0);
    (t.utc_offset, t.zone)
}

#[test]
fn berlin_from_transition_table() {
    let tz = TimeZone::from_tzif(BERLIN).unwrap();
    // 2026-03-29 00:59:59 / 01:00:00 UTC and 2026-10-25 00:59:59 / 01:00:00 UTC.
    assert_eq!(offset(&tz, 1_774_745_999), (3600, "CET".into()));
    assert_eq!(offset(&tz, 1_774_746_000), (7200, "CEST".into()));
    assert_eq!(offset(&tz, 1_792_889_999), (7200, "CEST".into()));
    assert_eq!(offset(&tz, 1_792_890_000), (3600, "CET".into()));
    assert_eq!(offset(&tz, -2_208_988_800), (3600, "CET".into()));
    let t = tz.local_time(1_774_746_000, 0);
    assert_eq!(
        super::super::strftime("%F %T %Z %z", &t),
        "2026-03-29 03:00:00 CEST +0200"
    );
}

#[test]
fn berlin_from_footer_rule() {
    let tz = TimeZone::from_tzif(BERLIN).unwrap();
    assert!(tz.footer.is_some());
    // 2040 is past the table (it ends in 2037): the `CET-1CEST,M3.5.0,M10.5.0/3` rule applies.
    assert_eq!(offset(&tz, 2_216_249_999), (3600, "CET".into()));
    assert_eq!(offset(&tz, 2_216_250_000), (7200, "CEST".into()));
    assert_eq!(offset(&tz, 2_234_998_799), (7200, "CEST".into()));
    assert_eq!(offset(&tz, 2_234_998_800), (3600, "CET".into()));
}

#[test]
fn extreme_instants() {
    let tz = TimeZone::from_tzif(BERLIN).unwrap();
    for secs in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        let t = tz.local_time(secs, 999_999_999);
        let text = super::super::strftime("%c %G %V %j %z %f", &t);
        assert!(!text.is_empty());
    }
}

#[test]
fn posix_rules() {
    let ny = PosixRule::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
    assert_eq!(ny.offset_at(1_772_953_199), (-5 * 3600, "EST".into()));
    assert_eq!(ny.offset_at(1_772_953_200), (-4 * 3600, "EDT".into()));
    assert_eq!(ny.offset_at(1_793_512_799), (-4 * 3600, "EDT".into()));
    assert_eq!(ny.offset_at(1_793_512_800), (-5 * 3600, "EST".into()));
    // Southern hemisphere: DST spans the new year.
    let sydney = PosixRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
    assert_eq!(sydney.offset_at(1_775_318_399), (11 * 3600, "AEDT".into()));
    assert_eq!(sydney.offset_at(1_775_318_400), (10 * 3600, "AEST".into()));
    assert_eq!(sydney.offset_at(1_791_043_199), (10 * 3600, "AEST".into()));
    assert_eq!(sydney.offset_at(1_791_043_200), (11 * 3600, "AEDT".into()));
    // Quoted abbreviations, explicit offsets with minutes, no DST.
    let india = PosixRule::parse("IST-5:30").unwrap();
    assert_eq!(india.offset_at(0), (5 * 3600 + 1800, "IST".into()));
    let quoted = PosixRule::parse("<-03>3").unwrap();
    assert_eq!(quoted.offset_at(0), (-3 * 3600, "-03".into()));
    // Julian dates: J60 is March 1st every year, 59 is March 1st only in leap years.
    assert_eq!(
        rule_day(2024, RuleDate::Julian1(60)),
        days_from_civil(2024, 3, 1)
    );
    assert_eq!(
        rule_day(2023, RuleDate::Julian1(60)),
        days_from_civil(2023, 3, 1)
    );
    assert_eq!(
        rule_day(2024, RuleDate::Julian0(59)),
        days_from_civil(2024, 2, 29)
    );
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    for bad in [
        "",
        "EST",
        "EST5EDT,M13.1.0,M11.1.0",
        "EST5EDT,M3.2.0",
        "EST5EDT,M3.2.0,M11.1.0x",
    ] {
        assert_eq!(PosixRule::parse(bad), None, "{bad}");
    }
}

/// Builds a version-1 TZif file with the given transitions and types (no footer).
fn tzif_v1(transitions: &[(i32, u8)], types: &[(i32, bool, &str)]) -> Vec<u8> {
    let mut chars = Vec::new();
    let mut type_bytes = Vec::new();
    for (offset, dst, abbrev) in types {
        type_bytes.extend(offset.to_be_bytes());
        type_bytes.push(u8::from(*dst));
        type_bytes.push(chars.len() as u8);
        chars.extend(abbrev.as_bytes());
        chars.push(0);
    }
    let mut out = b"TZif\0".to_vec();
    out.extend([0; 15]);
    for count in [0, 0, 0, transitions.len(), types.len(), chars.len()] {
        out.extend((count as u32).to_be_bytes());
    }
    for (time, _) in transitions {
        out.extend(time.to_be_bytes());
    }
    out.extend(transitions.iter().map(|(_, idx)| *idx));
    out.extend(type_bytes);
    out.extend(chars);
    out
}

#[test]
fn version_one_files() {
    let data = tzif_v1(
        &[(1000, 1), (2000, 0)],
        &[(0, false, "AAA"), (3600, true, "BBB")],
    );
    let tz = TimeZone::from_tzif(&data).unwrap();
    assert_eq!(offset(&tz, 0), (0, "AAA".into()));
    assert_eq!(offset(&tz, 1000), (3600, "BBB".into()));
    assert_eq!(offset(&tz, 1999), (3600, "BBB".into()));
    assert_eq!(offset(&tz, 2000), (0, "AAA".into()));
    assert_eq!(offset(&TimeZone::utc(), 5), (0, "UTC".into()));
}

#[test]
fn malformed_files() {
    assert_eq!(TimeZone::from_tzif(b""), Err(TzError::BadMagic));
    assert_eq!(
        TimeZone::from_tzif(b"TZxf0000000000000000"),
        Err(TzError::BadMagic)
    );
    let good = tzif_v1(&[(1000, 1)], &[(0, false, "AAA"), (3600, true, "BBB")]);
    for len in 0..good.len() {
        assert!(TimeZone::from_tzif(&good[..len]).is_err(), "prefix {len}");
    }
    let bad_index = tzif_v1(&[(1000, 7)], &[(0, false, "AAA")]);
    assert_eq!(
        TimeZone::from_tzif(&bad_index),
        Err(TzError::Invalid("type index"))
    );
    let no_types = tzif_v1(&[], &[]);
    assert_eq!(
        TimeZone::from_tzif(&no_types),
        Err(TzError::Invalid("no local time types"))
    );
    // Every truncation of the real file fails cleanly instead of panicking.
    for len in (0..BERLIN.len()).step_by(7) {
        let _ = TimeZone::from_tzif(&BERLIN[..len]);
    }
}
