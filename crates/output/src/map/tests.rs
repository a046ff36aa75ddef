//! Map rendering tests. Expected texts were captured from bpftrace 0.17 on this VM on
//! 2026-11-22 (`bpftrace -e '...'` and `bpftrace -f json -e '...'`), unless noted.

use super::*;
use crate::hist::{HIST_BUCKETS, hist_bucket, lhist_bucket, lhist_buckets};

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

fn map(name: &str, kind: MapKind, entries: Vec<(Vec<Value>, AggValue)>) -> MapDump {
    MapDump {
        name: name.to_owned(),
        kind,
        entries: entries
            .into_iter()
            .map(|(key, value)| MapEntry { key, value })
            .collect(),
    }
}

fn hist(values: &[i64]) -> AggValue {
    let mut counts = vec![0; HIST_BUCKETS];
    for &v in values {
        counts[hist_bucket(v)] += 1;
    }
    AggValue::Hist(counts)
}

fn lhist(values: &[i64], min: i64, max: i64, step: i64) -> AggValue {
    let mut counts = vec![0; lhist_buckets(min, max, step)];
    for &v in values {
        counts[lhist_bucket(v, min, max, step)] += 1;
    }
    AggValue::Hist(counts)
}

fn all() -> PrintOptions {
    PrintOptions::default()
}

#[test]
fn count_map_sorted_by_value() {
    // @k["a"] = 1 count, @k["b"] = 3, @k["c"] = 2
    let m = map(
        "@k",
        MapKind::Count,
        vec![
            (vec![s("b")], AggValue::UInt(3)),
            (vec![s("a")], AggValue::UInt(1)),
            (vec![s("c")], AggValue::UInt(2)),
        ],
    );
    assert_eq!(m.to_text(all()), "@k[a]: 1\n@k[c]: 2\n@k[b]: 3\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@k\": {\"a\": 1, \"c\": 2, \"b\": 3}}}\n"
    );
}

#[test]
fn plain_maps() {
    // @s["b"] = "x"; @s["a"] = "y" → sorted by key.
    let m = map(
        "@s",
        MapKind::Plain,
        vec![
            (vec![s("b")], AggValue::Plain(s("x"))),
            (vec![s("a")], AggValue::Plain(s("y"))),
        ],
    );
    assert_eq!(m.to_text(all()), "@s[a]: y\n@s[b]: x\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@s\": {\"a\": \"y\", \"b\": \"x\"}}}\n"
    );
    // @e[1, "a"] = (1, (2, "x"))
    let tuple = Value::Tuple(vec![
        Value::Int(1),
        Value::Tuple(vec![Value::Int(2), s("x")]),
    ]);
    let m = map(
        "@e",
        MapKind::Plain,
        vec![(vec![Value::Int(1), s("a")], AggValue::Plain(tuple))],
    );
    assert_eq!(m.to_text(all()), "@e[1, a]: (1, (2, x))\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@e\": {\"1,a\": [1,[2,\"x\"]]}}}\n"
    );
    // Scalars: @c = "hello", @d = (1, "two", 3), @g = (uint32)4000000000, @b = -5.
    let m = map(
        "@c",
        MapKind::Plain,
        vec![(vec![], AggValue::Plain(s("hello")))],
    );
    assert_eq!(m.to_text(all()), "@c: hello\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@c\": \"hello\"}}\n"
    );
    let d = Value::Tuple(vec![Value::Int(1), s("two"), Value::Int(3)]);
    let m = map("@d", MapKind::Plain, vec![(vec![], AggValue::Plain(d))]);
    assert_eq!(m.to_text(all()), "@d: (1, two, 3)\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@d\": [1,\"two\",3]}}\n"
    );
    let m = map(
        "@g",
        MapKind::Plain,
        vec![(vec![], AggValue::Plain(Value::UInt(4_000_000_000)))],
    );
    assert_eq!(m.to_text(all()), "@g: 4000000000\n");
    let m = map(
        "@b",
        MapKind::Plain,
        vec![(vec![], AggValue::Plain(Value::Int(-5)))],
    );
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@b\": -5}}\n"
    );
}

#[test]
fn integer_plain_values_sort_by_value_then_key() {
    // @z[3] = 1; @z[1] = 1; @z[2] = 1; @z[-1] = 5. bpftrace orders the ties in hash order;
    // we order them by key.
    let m = map(
        "@z",
        MapKind::Plain,
        vec![
            (vec![Value::Int(3)], AggValue::Plain(Value::Int(1))),
            (vec![Value::Int(1)], AggValue::Plain(Value::Int(1))),
            (vec![Value::Int(2)], AggValue::Plain(Value::Int(1))),
            (vec![Value::Int(-1)], AggValue::Plain(Value::Int(5))),
        ],
    );
    assert_eq!(
        m.to_text(all()),
        "@z[1]: 1\n@z[2]: 1\n@z[3]: 1\n@z[-1]: 5\n"
    );
    // Multi-part keys compare part by part.
    let m = map(
        "@t",
        MapKind::Plain,
        vec![
            (vec![Value::Int(2), s("x")], AggValue::Plain(Value::Int(1))),
            (vec![Value::Int(1), s("y")], AggValue::Plain(Value::Int(1))),
            (vec![Value::Int(1), s("a")], AggValue::Plain(Value::Int(1))),
        ],
    );
    assert_eq!(m.to_text(all()), "@t[1, a]: 1\n@t[1, y]: 1\n@t[2, x]: 1\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@t\": {\"1,a\": 1, \"1,y\": 1, \"2,x\": 1}}}\n"
    );
}

#[test]
fn sum_min_max() {
    // @s = sum(-5) + sum(2); @mn[1] = min(5, -3); @mn[2] = min(7); @mx: max.
    let m = map("@s", MapKind::Sum, vec![(vec![], AggValue::Int(-3))]);
    assert_eq!(m.to_text(all()), "@s: -3\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@s\": -3}}\n"
    );
    let m = map(
        "@mn",
        MapKind::Min,
        vec![
            (vec![Value::Int(2)], AggValue::Int(7)),
            (vec![Value::Int(1)], AggValue::Int(-3)),
        ],
    );
    assert_eq!(m.to_text(all()), "@mn[1]: -3\n@mn[2]: 7\n");
    // Negative max() (0.17 dropped it; current bpftrace prints it).
    let m = map("@l", MapKind::Max, vec![(vec![], AggValue::Int(-4))]);
    assert_eq!(m.to_text(all()), "@l: -4\n");
}

#[test]
fn top_and_div() {
    // @[1] = 10; @[2] = 25; @[3] = 5; @[4] = 100;
    let m = map(
        "@",
        MapKind::Plain,
        vec![
            (vec![Value::Int(1)], AggValue::Plain(Value::Int(10))),
            (vec![Value::Int(2)], AggValue::Plain(Value::Int(25))),
            (vec![Value::Int(3)], AggValue::Plain(Value::Int(5))),
            (vec![Value::Int(4)], AggValue::Plain(Value::Int(100))),
        ],
    );
    // print(@, 2)
    assert_eq!(
        m.to_text(PrintOptions { top: 2, div: 0 }),
        "@[2]: 25\n@[4]: 100\n"
    );
    // print(@, 0, 10)
    assert_eq!(
        m.to_text(PrintOptions { top: 0, div: 10 }),
        "@[3]: 0\n@[1]: 1\n@[2]: 2\n@[4]: 10\n"
    );
    // print(@, 2, 10)
    assert_eq!(
        m.to_text(PrintOptions { top: 2, div: 10 }),
        "@[2]: 2\n@[4]: 10\n"
    );
    assert_eq!(
        m.to_json(PrintOptions { top: 2, div: 0 }).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@\": {\"2\": 25, \"4\": 100}}}\n"
    );
    assert_eq!(
        m.to_json(PrintOptions { top: 0, div: 10 }).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@\": {\"3\": 0, \"1\": 1, \"2\": 2, \"4\": 10}}}\n"
    );
    // @h[1] = hist(5); @h[2] = hist(5), hist(6); print(@h, 1)
    let h = map(
        "@h",
        MapKind::Hist,
        vec![
            (vec![Value::Int(1)], hist(&[5])),
            (vec![Value::Int(2)], hist(&[5, 6])),
        ],
    );
    assert_eq!(
        h.to_text(PrintOptions { top: 1, div: 0 }),
        "@h[2]: \n[4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n"
    );
    assert_eq!(
        h.to_json(PrintOptions { top: 1, div: 0 }).unwrap(),
        "{\"type\": \"hist\", \"data\": {\"@h\": {\"2\": [{\"min\": 4, \"max\": 7, \"count\": 2}]}}}\n"
    );
    // @c = count(); print(@c, 0, 2) → 0
    let c = map("@c", MapKind::Count, vec![(vec![], AggValue::UInt(1))]);
    assert_eq!(c.to_text(PrintOptions { top: 0, div: 2 }), "@c: 0\n");
    // Captured: @a[1] = 1 count, @a[2] = 2 counts; print(@a, 1, 2) → "@a[2]: 1".
    let a = map(
        "@a",
        MapKind::Count,
        vec![
            (vec![Value::Int(1)], AggValue::UInt(1)),
            (vec![Value::Int(2)], AggValue::UInt(2)),
        ],
    );
    assert_eq!(a.to_text(PrintOptions { top: 1, div: 2 }), "@a[2]: 1\n");
    assert_eq!(
        a.to_json(PrintOptions { top: 1, div: 2 }).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@a\": {\"2\": 1}}}\n"
    );
}

#[test]
fn hist_maps() {
    // @h["a"] = hist(5); @h["b"] = hist(5), hist(100); @h["c"] = hist(1)
    let m = map(
        "@h",
        MapKind::Hist,
        vec![
            (vec![s("a")], hist(&[5])),
            (vec![s("b")], hist(&[5, 100])),
            (vec![s("c")], hist(&[1])),
        ],
    );
    let expected = "\
@h[a]: 
[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@h[c]: 
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@h[b]: 
[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

";
    assert_eq!(m.to_text(all()), expected);
    let json = r#"{"type": "hist", "data": {"@h": {"a": [{"min": 4, "max": 7, "count": 1}], "c": [{"min": 1, "max": 1, "count": 1}], "b": [{"min": 4, "max": 7, "count": 1}, {"min": 8, "max": 15, "count": 0}, {"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, {"min": 64, "max": 127, "count": 1}]}}}
"#;
    assert_eq!(m.to_json(all()).unwrap(), json);
    // Scalar: @b = hist(5)
    let m = map("@b", MapKind::Hist, vec![(vec![], hist(&[5]))]);
    assert_eq!(
        m.to_text(all()),
        "@b: \n[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n"
    );
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"hist\", \"data\": {\"@b\": [{\"min\": 4, \"max\": 7, \"count\": 1}]}}\n"
    );
}

#[test]
fn lhist_maps() {
    // @l[1] = lhist(5, 0, 10, 1); @l[2] = lhist(5), lhist(6)
    let m = map(
        "@l",
        MapKind::Lhist {
            min: 0,
            max: 10,
            step: 1,
        },
        vec![
            (vec![Value::Int(2)], lhist(&[5, 6], 0, 10, 1)),
            (vec![Value::Int(1)], lhist(&[5], 0, 10, 1)),
        ],
    );
    let expected = "\
@l[1]: 
[5, 6)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@l[2]: 
[5, 6)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[6, 7)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

";
    assert_eq!(m.to_text(all()), expected);
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"hist\", \"data\": {\"@l\": {\"1\": [{\"min\": 5, \"max\": 5, \"count\": 1}], \"2\": [{\"min\": 5, \"max\": 5, \"count\": 1}, {\"min\": 6, \"max\": 6, \"count\": 1}]}}}\n"
    );
}

#[test]
fn stats_and_avg() {
    // @s = stats(10), stats(21); @t[1..3] = stats(5 | -7 | 100)
    let m = map(
        "@s",
        MapKind::Stats,
        vec![(
            vec![],
            AggValue::Avg {
                total: 31,
                count: 2,
            },
        )],
    );
    assert_eq!(m.to_text(all()), "@s: count 2, average 15, total 31\n\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 2, \"average\": 15, \"total\": 31}}}\n"
    );
    let m = map(
        "@t",
        MapKind::Stats,
        vec![
            (vec![Value::Int(1)], AggValue::Avg { total: 5, count: 1 }),
            (
                vec![Value::Int(2)],
                AggValue::Avg {
                    total: -7,
                    count: 1,
                },
            ),
            (
                vec![Value::Int(3)],
                AggValue::Avg {
                    total: 100,
                    count: 1,
                },
            ),
        ],
    );
    assert_eq!(
        m.to_text(all()),
        "@t[2]: count 1, average -7, total -7\n@t[1]: count 1, average 5, total 5\n@t[3]: count 1, average 100, total 100\n\n"
    );
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"stats\", \"data\": {\"@t\": {\"2\": {\"count\": 1, \"average\": -7, \"total\": -7}, \"1\": {\"count\": 1, \"average\": 5, \"total\": 5}, \"3\": {\"count\": 1, \"average\": 100, \"total\": 100}}}}\n"
    );
    // @a[1] = avg(10); @a[2] = avg(-3), avg(-4) → -3 (C division truncates toward zero)
    let m = map(
        "@a",
        MapKind::Avg,
        vec![
            (
                vec![Value::Int(1)],
                AggValue::Avg {
                    total: 10,
                    count: 1,
                },
            ),
            (
                vec![Value::Int(2)],
                AggValue::Avg {
                    total: -7,
                    count: 2,
                },
            ),
        ],
    );
    assert_eq!(m.to_text(all()), "@a[2]: -3\n@a[1]: 10\n\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"stats\", \"data\": {\"@a\": {\"2\": -3, \"1\": 10}}}\n"
    );
    let m = map(
        "@b",
        MapKind::Avg,
        vec![(
            vec![],
            AggValue::Avg {
                total: 31,
                count: 2,
            },
        )],
    );
    assert_eq!(m.to_text(all()), "@b: 15\n\n");
    assert_eq!(
        m.to_json(all()).unwrap(),
        "{\"type\": \"stats\", \"data\": {\"@b\": 15}}\n"
    );
    // An empty accumulator averages to 0 instead of dividing by zero.
    let m = map(
        "@z",
        MapKind::Stats,
        vec![(vec![], AggValue::Avg { total: 0, count: 0 })],
    );
    assert_eq!(m.to_text(all()), "@z: count 0, average 0, total 0\n\n");
}

#[test]
fn empty_maps() {
    // print(@x) of an emptied map prints an empty line in text mode, nothing in JSON.
    let m = map("@x", MapKind::Plain, vec![]);
    assert_eq!(m.to_text(all()), "\n");
    assert_eq!(m.to_json(all()), None);
    let m = map("@s", MapKind::Stats, vec![]);
    assert_eq!(m.to_text(all()), "\n\n");
}

#[test]
fn stack_maps() {
    // Captured from bpftrace 0.17 on 2026-11-22 with
    // `tracepoint:syscalls:sys_enter_getpid { @[kstack] = count(); @s = kstack; ... }`.
    let frames: Vec<String> = [
        "perf_syscall_enter+397",
        "syscall_trace_enter+384",
        "do_syscall_64+506",
        "entry_SYSCALL_64_after_hwframe+118",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect();
    let stack = Value::Stack(crate::value::Stack::new(frames));
    let keyed = map(
        "@",
        MapKind::Count,
        vec![(vec![stack.clone()], AggValue::UInt(1))],
    );
    let expected = "\
@[
    perf_syscall_enter+397
    syscall_trace_enter+384
    do_syscall_64+506
    entry_SYSCALL_64_after_hwframe+118
]: 1
";
    assert_eq!(keyed.to_text(all()), expected);
    let json = r#"{"type": "map", "data": {"@": {"\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n    do_syscall_64+506\n    entry_SYSCALL_64_after_hwframe+118\n": 1}}}
"#;
    assert_eq!(keyed.to_json(all()).unwrap(), json);
    let scalar = map("@s", MapKind::Plain, vec![(vec![], AggValue::Plain(stack))]);
    let expected = "\
@s: 
        perf_syscall_enter+397
        syscall_trace_enter+384
        do_syscall_64+506
        entry_SYSCALL_64_after_hwframe+118

";
    assert_eq!(scalar.to_text(all()), expected);
    let json = r#"{"type": "map", "data": {"@s": "\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n        do_syscall_64+506\n        entry_SYSCALL_64_after_hwframe+118\n"}}
"#;
    assert_eq!(scalar.to_json(all()).unwrap(), json);
    let perf = Value::Stack(crate::value::Stack {
        mode: crate::value::StackMode::Perf,
        frames: vec![
            "ffffffff814b2b2d perf_syscall_enter+397".to_owned(),
            "ffffffff81417d70 syscall_trace_enter+384".to_owned(),
        ],
    });
    let keyed = map("@p", MapKind::Count, vec![(vec![perf], AggValue::UInt(1))]);
    assert_eq!(
        keyed.to_text(all()),
        "@p[\n\tffffffff814b2b2d perf_syscall_enter+397\n\tffffffff81417d70 syscall_trace_enter+384\n]: 1\n"
    );
}

#[test]
fn div_applies_per_kind() {
    // Captured from bpftrace 0.17 on 2026-11-22:
    // @h[1] = hist(5) x3 + hist(100); @h[2] = hist(1); @l = lhist(5, 0, 10, 1) x2;
    // @s[1..3] = stats(10 | 20 | 5); @a[1..3] = avg(10 | 20 | 30);
    // print(@h, 0, 2); print(@l, 0, 2); print(@s, 0, 2); print(@a, 1, 3)
    let h = map(
        "@h",
        MapKind::Hist,
        vec![
            (vec![Value::Int(1)], hist(&[5, 5, 5, 100])),
            (vec![Value::Int(2)], hist(&[1])),
        ],
    );
    let expected = "\
@h[2]: 
[1]                    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@h[1]: 
[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |@@@@@@@@@@@@@@@@@                                   |

";
    let div2 = PrintOptions { top: 0, div: 2 };
    assert_eq!(h.to_text(div2), expected);
    assert_eq!(
        h.to_json(div2).unwrap(),
        "{\"type\": \"hist\", \"data\": {\"@h\": {\"2\": [{\"min\": 1, \"max\": 1, \"count\": 0}], \"1\": [{\"min\": 4, \"max\": 7, \"count\": 1}, {\"min\": 8, \"max\": 15, \"count\": 0}, {\"min\": 16, \"max\": 31, \"count\": 0}, {\"min\": 32, \"max\": 63, \"count\": 0}, {\"min\": 64, \"max\": 127, \"count\": 0}]}}}\n"
    );
    let l = map(
        "@l",
        MapKind::Lhist {
            min: 0,
            max: 10,
            step: 1,
        },
        vec![(vec![], lhist(&[5, 5], 0, 10, 1))],
    );
    assert_eq!(
        l.to_text(div2),
        "@l: \n[5, 6)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n"
    );
    assert_eq!(
        l.to_json(div2).unwrap(),
        "{\"type\": \"hist\", \"data\": {\"@l\": [{\"min\": 5, \"max\": 5, \"count\": 2}]}}\n"
    );
    let s = map(
        "@s",
        MapKind::Stats,
        vec![
            (
                vec![Value::Int(1)],
                AggValue::Avg {
                    total: 10,
                    count: 1,
                },
            ),
            (
                vec![Value::Int(2)],
                AggValue::Avg {
                    total: 20,
                    count: 1,
                },
            ),
            (vec![Value::Int(3)], AggValue::Avg { total: 5, count: 1 }),
        ],
    );
    assert_eq!(
        s.to_text(div2),
        "@s[3]: count 1, average 5, total 5\n@s[1]: count 1, average 10, total 10\n@s[2]: count 1, average 20, total 20\n\n"
    );
    // 0.17 ignored `top` for stats (`print(@s, 1)` printed all three); current bpftrace
    // honours it, and so do we.
    assert_eq!(
        s.to_text(PrintOptions { top: 1, div: 0 }),
        "@s[2]: count 1, average 20, total 20\n\n"
    );
    let a = map(
        "@a",
        MapKind::Avg,
        vec![
            (
                vec![Value::Int(1)],
                AggValue::Avg {
                    total: 10,
                    count: 1,
                },
            ),
            (
                vec![Value::Int(2)],
                AggValue::Avg {
                    total: 20,
                    count: 1,
                },
            ),
            (
                vec![Value::Int(3)],
                AggValue::Avg {
                    total: 30,
                    count: 1,
                },
            ),
        ],
    );
    let top1_div3 = PrintOptions { top: 1, div: 3 };
    assert_eq!(a.to_text(top1_div3), "@a[3]: 10\n\n");
    assert_eq!(
        a.to_json(top1_div3).unwrap(),
        "{\"type\": \"stats\", \"data\": {\"@a\": {\"3\": 10}}}\n"
    );
}

#[test]
fn lhist_k_labels_and_escaped_keys() {
    // Captured from bpftrace 0.17 on 2026-11-22:
    // @l = lhist(1500 | 9000 | 5, 1024, 8192, 1024); @m = lhist(600 | 1600, 0, 2048, 512);
    // @k["a\"b,c"] = 1; @k["x\ty"] = 2
    let l = map(
        "@l",
        MapKind::Lhist {
            min: 1024,
            max: 8192,
            step: 1024,
        },
        vec![(vec![], lhist(&[1500, 9000, 5], 1024, 8192, 1024))],
    );
    let expected = "\
@l: 
(..., 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[2K, 3K)               0 |                                                    |
[3K, 4K)               0 |                                                    |
[4K, 5K)               0 |                                                    |
[5K, 6K)               0 |                                                    |
[6K, 7K)               0 |                                                    |
[7K, 8K)               0 |                                                    |
[8K, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

";
    assert_eq!(l.to_text(all()), expected);
    let json = r#"{"type": "hist", "data": {"@l": [{"max": 1023, "count": 1}, {"min": 1024, "max": 2047, "count": 1}, {"min": 2048, "max": 3071, "count": 0}, {"min": 3072, "max": 4095, "count": 0}, {"min": 4096, "max": 5119, "count": 0}, {"min": 5120, "max": 6143, "count": 0}, {"min": 6144, "max": 7167, "count": 0}, {"min": 7168, "max": 8191, "count": 0}, {"min": 8192, "count": 1}]}}
"#;
    assert_eq!(l.to_json(all()).unwrap(), json);
    let m = map(
        "@m",
        MapKind::Lhist {
            min: 0,
            max: 2048,
            step: 512,
        },
        vec![(vec![], lhist(&[600, 1600], 0, 2048, 512))],
    );
    let expected = "\
@m: 
[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1K, 1536)             0 |                                                    |
[1536, 2K)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

";
    assert_eq!(m.to_text(all()), expected);
    let k = map(
        "@k",
        MapKind::Plain,
        vec![
            (vec![s("x\ty")], AggValue::Plain(Value::Int(2))),
            (vec![s("a\"b,c")], AggValue::Plain(Value::Int(1))),
        ],
    );
    assert_eq!(k.to_text(all()), "@k[a\"b,c]: 1\n@k[x\ty]: 2\n");
    assert_eq!(
        k.to_json(all()).unwrap(),
        "{\"type\": \"map\", \"data\": {\"@k\": {\"a\\\"b,c\": 1, \"x\\ty\": 2}}}\n"
    );
}
