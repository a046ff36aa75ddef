//! Unit tests of the exposition format.

use std::sync::Arc;

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

/// The update of `dumps` and its OpenMetrics text.
fn render(e: &mut Exporter, dumps: &[MapDump]) -> (Update, String) {
    let update = e.update(dumps);
    let text = Arc::new(update.snapshot.clone()).encode();
    (update, text)
}

const META_ZERO: &str = "# HELP scry_exporter_series Map entries exported in this scrape.
# TYPE scry_exporter_series gauge
scry_exporter_series 0
# HELP scry_exporter_dropped_series Map entries left out by the series limit.
# TYPE scry_exporter_dropped_series gauge
scry_exporter_dropped_series 0
# EOF
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
    let (r, r_text) = render(&mut e, &[d]);
    assert!(r.warnings.is_empty());
    assert_eq!(r.snapshot.series(), 2);
    let expected = "# HELP scry_syscalls scry map @syscalls (count()) by comm.
# TYPE scry_syscalls counter
scry_syscalls_total{comm=\"a\\\"b\\\\c\\nd\"} 2
scry_syscalls_total{comm=\"bash\"} 7
";
    assert!(r_text.starts_with(expected), "{}", r_text);
    assert!(r_text.contains("scry_exporter_series 2\n"));
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
    let (_, r_text) = render(&mut e, &maps);
    let expected = "# HELP scry_map scry map @ (sum()).
# TYPE scry_map counter
scry_map_total -3.0
# HELP scry_m scry map @m (max()).
# TYPE scry_m gauge
scry_m 9
# HELP scry_a scry map @a (avg()) by key0.
# TYPE scry_a gauge
scry_a{key0=\"1\"} 2.5
# HELP scry_s scry map @s (stats()).
# TYPE scry_s histogram
scry_s_sum 10.0
scry_s_count 4
scry_s_bucket{le=\"+Inf\"} 4
# HELP scry_p scry map @p (values).
# TYPE scry_p gauge
scry_p -1
";
    assert_eq!(
        r_text,
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
    let (_, r_text) = render(&mut e, &[d]);
    let expected = "# HELP scry_h scry map @h (hist()) by comm.
# TYPE scry_h histogram
scry_h_sum{comm=\"y\"} NaN
scry_h_count{comm=\"y\"} 1
scry_h_bucket{le=\"0.0\",comm=\"y\"} 0
scry_h_bucket{le=\"1.0\",comm=\"y\"} 0
scry_h_bucket{le=\"3.0\",comm=\"y\"} 0
scry_h_bucket{le=\"7.0\",comm=\"y\"} 1
scry_h_bucket{le=\"15.0\",comm=\"y\"} 1
scry_h_bucket{le=\"+Inf\",comm=\"y\"} 1
scry_h_sum{comm=\"x\"} NaN
scry_h_count{comm=\"x\"} 10
scry_h_bucket{le=\"0.0\",comm=\"x\"} 1
scry_h_bucket{le=\"1.0\",comm=\"x\"} 3
scry_h_bucket{le=\"3.0\",comm=\"x\"} 6
scry_h_bucket{le=\"7.0\",comm=\"x\"} 6
scry_h_bucket{le=\"15.0\",comm=\"x\"} 10
scry_h_bucket{le=\"+Inf\",comm=\"x\"} 10
";
    assert!(r_text.starts_with(expected), "{}", r_text);
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
    let (_, r_text) = render(&mut e, &[d]);
    let expected = "# HELP scry_l scry map @l (lhist()).
# TYPE scry_l histogram
scry_l_sum NaN
scry_l_count 8
scry_l_bucket{le=\"-1.0\"} 1
scry_l_bucket{le=\"9.0\"} 1
scry_l_bucket{le=\"19.0\"} 3
scry_l_bucket{le=\"29.0\"} 3
scry_l_bucket{le=\"+Inf\"} 8
";
    assert!(r_text.starts_with(expected), "{}", r_text);
}

#[test]
fn series_limit_keeps_largest_and_warns_once() {
    let entries: Vec<_> = (0..10u64)
        .map(|i| (vec![Value::UInt(i)], AggValue::UInt(i * 10)))
        .collect();
    let d = dump("@c", MapKind::Count, entries);
    let mut e = Exporter::new(names(&[("@c", &["pid"])]), 3);
    let (r, r_text) = render(&mut e, std::slice::from_ref(&d));
    assert_eq!((r.snapshot.series(), r.snapshot.dropped()), (3, 7));
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("@c"), "{:?}", r.warnings);
    assert!(r_text.contains("scry_c_total{pid=\"9\"} 90\n"));
    assert!(r_text.contains("scry_c_total{pid=\"7\"} 70\n"));
    assert!(!r_text.contains("pid=\"6\""));
    assert!(r_text.contains("scry_exporter_dropped_series 7\n"));
    let (again, again_text) = render(&mut e, &[d]);
    assert!(again.warnings.is_empty());
    assert!(again_text.contains("scry_exporter_dropped_series 7\n"));
    assert_eq!(again.snapshot.dropped(), 7);
}

#[test]
fn strings_are_not_exported() {
    let d = dump(
        "@who",
        MapKind::Plain,
        vec![(vec![], AggValue::Plain(Value::Str("x".into())))],
    );
    let mut e = Exporter::new(LabelNames::new(), 10);
    let (r, r_text) = render(&mut e, &[d]);
    assert_eq!(
        r_text,
        META_ZERO.replace(
            "series 0\n# HELP scry_exporter_dropped",
            "series 1\n# HELP scry_exporter_dropped"
        )
    );
    assert_eq!(r.warnings.len(), 1);
}

#[test]
fn unnamed_keys_bools_and_empty_histograms() {
    let maps = [
        dump(
            "@k",
            MapKind::Plain,
            vec![(
                vec![Value::UInt(4), Value::Str("x".into())],
                AggValue::Plain(Value::Bool(true)),
            )],
        ),
        dump("@e", MapKind::Hist, vec![(vec![], AggValue::Hist(vec![]))]),
    ];
    let mut e = Exporter::new(LabelNames::new(), 10);
    let (r, text) = render(&mut e, &maps);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let expected = "# HELP scry_k scry map @k (values) by key0, key1.
# TYPE scry_k gauge
scry_k{key0=\"4\",key1=\"x\"} 1
# HELP scry_e scry map @e (hist()).
# TYPE scry_e histogram
scry_e_sum NaN
scry_e_count 0
scry_e_bucket{le=\"+Inf\"} 0
";
    assert!(text.starts_with(expected), "{text}");
}
