//! Unit tests of the exposition format.

use super::*;

fn dump(name: &str, kind: MapKind, entries: Vec<(Vec<Value>, AggValue)>) -> MapDump {
    MapDump {
        name: name.to_string(),
        kind,
        entries: entries
            .into_iter()
            .map(|(key, value)| MapEntry { key, value })
            .collect(),
    }
}

fn names(pairs: &[(&str, &[&str])]) -> LabelNames {
    pairs
        .iter()
        .map(|(m, l)| (m.to_string(), l.iter().map(|s| s.to_string()).collect()))
        .collect()
}

const META_ZERO: &str = "# HELP scry_exporter_series Map entries exported in this scrape.
# TYPE scry_exporter_series gauge
scry_exporter_series 0
# HELP scry_exporter_dropped_series Map entries left out by the series limit.
# TYPE scry_exporter_dropped_series gauge
scry_exporter_dropped_series 0
";

#[test]
fn counters_with_labels_and_escaping() {
    let d = dump(
        "@syscalls",
        MapKind::Count,
        vec![
            (vec![Value::Str("bash".into())], AggValue::UInt(7)),
            (vec![Value::Str("a\"b\\c\nd".into())], AggValue::UInt(2)),
        ],
    );
    let mut e = Exporter::new(names(&[("@syscalls", &["comm"])]), 100);
    let r = e.render(&[d]);
    assert!(r.warnings.is_empty());
    assert_eq!(r.series, 2);
    let expected = "# HELP scry_syscalls_total scry map @syscalls (count()) by comm.
# TYPE scry_syscalls_total counter
scry_syscalls_total{comm=\"a\\\"b\\\\c\\nd\"} 2
scry_syscalls_total{comm=\"bash\"} 7
";
    assert!(r.text.starts_with(expected), "{}", r.text);
    assert!(r.text.contains("scry_exporter_series 2\n"));
}

#[test]
fn scalars_gauges_avg_and_stats() {
    let maps = [
        dump("@", MapKind::Sum, vec![(vec![], AggValue::Int(-3))]),
        dump("@m", MapKind::Max, vec![(vec![], AggValue::Int(9))]),
        dump(
            "@a",
            MapKind::Avg,
            vec![(vec![Value::UInt(1)], AggValue::Avg { total: 5, count: 2 })],
        ),
        dump(
            "@s",
            MapKind::Stats,
            vec![(
                vec![],
                AggValue::Avg {
                    total: 10,
                    count: 4,
                },
            )],
        ),
        dump(
            "@p",
            MapKind::Plain,
            vec![(vec![], AggValue::Plain(Value::Int(-1)))],
        ),
    ];
    let mut e = Exporter::new(LabelNames::new(), 100);
    let r = e.render(&maps);
    let expected = "# HELP scry_map_total scry map @ (sum()).
# TYPE scry_map_total counter
scry_map_total -3
# HELP scry_m scry map @m (max()).
# TYPE scry_m gauge
scry_m 9
# HELP scry_a scry map @a (avg()) by key0.
# TYPE scry_a gauge
scry_a{key0=\"1\"} 2.5
# HELP scry_s scry map @s (stats()).
# TYPE scry_s summary
scry_s_sum 10
scry_s_count 4
# HELP scry_p scry map @p (values).
# TYPE scry_p gauge
scry_p -1
";
    assert_eq!(
        r.text,
        format!(
            "{expected}{}",
            META_ZERO.replace(
                "series 0\n# HELP scry_exporter_dropped",
                "series 5\n# HELP scry_exporter_dropped"
            )
        )
    );
}

#[test]
fn hist_buckets_are_cumulative_with_exact_bounds() {
    // hist: [0] x1, [1] x2, [2, 4) x3, [8, 16) x4; another key only [4, 8) x1.
    let mut a = vec![0u64; 7];
    a[1] = 1;
    a[2] = 2;
    a[3] = 3;
    a[5] = 4;
    let mut b = vec![0u64; 5];
    b[4] = 1;
    let d = dump(
        "@h",
        MapKind::Hist,
        vec![
            (vec![Value::Str("x".into())], AggValue::Hist(a)),
            (vec![Value::Str("y".into())], AggValue::Hist(b)),
        ],
    );
    let mut e = Exporter::new(names(&[("@h", &["comm"])]), 100);
    let r = e.render(&[d]);
    let expected = "# HELP scry_h scry map @h (hist()) by comm.
# TYPE scry_h histogram
scry_h_bucket{comm=\"y\",le=\"0\"} 0
scry_h_bucket{comm=\"y\",le=\"1\"} 0
scry_h_bucket{comm=\"y\",le=\"3\"} 0
scry_h_bucket{comm=\"y\",le=\"7\"} 1
scry_h_bucket{comm=\"y\",le=\"15\"} 1
scry_h_bucket{comm=\"y\",le=\"+Inf\"} 1
scry_h_count{comm=\"y\"} 1
scry_h_bucket{comm=\"x\",le=\"0\"} 1
scry_h_bucket{comm=\"x\",le=\"1\"} 3
scry_h_bucket{comm=\"x\",le=\"3\"} 6
scry_h_bucket{comm=\"x\",le=\"7\"} 6
scry_h_bucket{comm=\"x\",le=\"15\"} 10
scry_h_bucket{comm=\"x\",le=\"+Inf\"} 10
scry_h_count{comm=\"x\"} 10
";
    assert!(r.text.starts_with(expected), "{}", r.text);
}

#[test]
fn lhist_overflow_only_in_inf() {
    // lhist(v, 0, 30, 10): buckets <0, [0,10), [10,20), [20,30), >=30.
    let d = dump(
        "@l",
        MapKind::Lhist {
            min: 0,
            max: 30,
            step: 10,
        },
        vec![(vec![], AggValue::Hist(vec![1, 0, 2, 0, 5]))],
    );
    let mut e = Exporter::new(LabelNames::new(), 100);
    let r = e.render(&[d]);
    let expected = "# HELP scry_l scry map @l (lhist()).
# TYPE scry_l histogram
scry_l_bucket{le=\"-1\"} 1
scry_l_bucket{le=\"9\"} 1
scry_l_bucket{le=\"19\"} 3
scry_l_bucket{le=\"29\"} 3
scry_l_bucket{le=\"+Inf\"} 8
scry_l_count 8
";
    assert!(r.text.starts_with(expected), "{}", r.text);
}

#[test]
fn series_limit_keeps_largest_and_warns_once() {
    let entries: Vec<_> = (0..10u64)
        .map(|i| (vec![Value::UInt(i)], AggValue::UInt(i * 10)))
        .collect();
    let d = dump("@c", MapKind::Count, entries);
    let mut e = Exporter::new(names(&[("@c", &["pid"])]), 3);
    let r = e.render(std::slice::from_ref(&d));
    assert_eq!((r.series, r.dropped), (3, 7));
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("@c"), "{:?}", r.warnings);
    assert!(r.text.contains("scry_c_total{pid=\"9\"} 90\n"));
    assert!(r.text.contains("scry_c_total{pid=\"7\"} 70\n"));
    assert!(!r.text.contains("pid=\"6\""));
    assert!(r.text.contains("scry_exporter_dropped_series 7\n"));
    let again = e.render(&[d]);
    assert!(again.warnings.is_empty());
    assert_eq!(again.dropped, 7);
}

#[test]
fn strings_are_not_exported() {
    let d = dump(
        "@who",
        MapKind::Plain,
        vec![(vec![], AggValue::Plain(Value::Str("x".into())))],
    );
    let mut e = Exporter::new(LabelNames::new(), 10);
    let r = e.render(&[d]);
    assert_eq!(
        r.text,
        META_ZERO.replace(
            "series 0\n# HELP scry_exporter_dropped",
            "series 1\n# HELP scry_exporter_dropped"
        )
    );
    assert_eq!(r.warnings.len(), 1);
}
