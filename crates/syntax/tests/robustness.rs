//! Robustness: the parser never panics, whatever the input, and every installed
//! bpftrace tool script parses cleanly.

use scry_diagnostics::{SourceFile, render_all};
use std::path::{Path, PathBuf};

fn all_fixtures() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut out = Vec::new();
    for dir in ["ok", "err"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path, text));
            }
        }
    }
    out.sort();
    assert!(out.len() > 20);
    out
}

/// Checks invariants that must hold for any input.
fn check(text: &str) {
    let parse = scry_syntax::parse(text);
    let len = u32::try_from(text.len()).unwrap();
    for d in &parse.diagnostics {
        if let Some(span) = d.span {
            assert!(
                span.start <= span.end && span.end <= len,
                "bad span {span:?} for {text:?}"
            );
        }
    }
    // Rendering must not panic either.
    let _ = render_all(&parse.diagnostics, &SourceFile::new("stdin", text));
    let _ = scry_syntax::print_ast(&parse.program);
}

#[test]
fn every_prefix_of_every_fixture() {
    for (_, text) in all_fixtures() {
        for (i, _) in text.char_indices() {
            check(&text[..i]);
        }
        check(&text);
    }
}

/// A tiny deterministic PRNG (xorshift64*), enough for mutation testing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations() {
    const ALPHABET: &[u8] = b"(){}[]/*+-;:,.$@#\"'\\0123456789xabu_ \n=<>!&|^~?";
    let fixtures = all_fixtures();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for round in 0..3000 {
        let (_, text) = &fixtures[round % fixtures.len()];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + rng.below(8) {
            let pos = rng.below(bytes.len() + 1);
            match rng.below(3) {
                0 if pos < bytes.len() => {
                    bytes.remove(pos);
                }
                1 => bytes.insert(pos, ALPHABET[rng.below(ALPHABET.len())]),
                _ if pos < bytes.len() => bytes[pos] = ALPHABET[rng.below(ALPHABET.len())],
                _ => {}
            }
        }
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn random_token_soup() {
    const TOKENS: &[&str] = &[
        "BEGIN",
        "kprobe:f",
        "{",
        "}",
        "(",
        ")",
        "/",
        "$x",
        "@m",
        "[",
        "]",
        "=",
        "+=",
        "++",
        "if",
        "else",
        "while",
        "for",
        ":",
        "..",
        "1",
        "\"s\"",
        "'c'",
        "struct",
        "(uint8)",
        "->",
        ".",
        ",",
        ";",
        "?",
        "printf",
        "let",
        "config",
        "#include <x>\n",
        "\n",
        "return",
        "unroll",
        "sizeof",
        "offsetof",
        "-",
        "*",
        "&",
        "!",
        "~",
        "$1",
        "$#",
        "0x",
        "/*",
        "//",
    ];
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let n = rng.below(40);
        let text: Vec<&str> = (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect();
        check(&text.join(" "));
    }
}

#[test]
fn installed_bpftrace_tools_parse_cleanly() {
    let Ok(entries) = std::fs::read_dir("/usr/sbin") else {
        eprintln!("/usr/sbin not readable; skipping");
        return;
    };
    let mut tools: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bt"))
        .collect();
    tools.sort();
    if tools.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI installs bpftrace: its tools must be in /usr/sbin"
        );
        eprintln!("no bpftrace tools installed; skipping");
        return;
    }
    let mut failures = String::new();
    for path in &tools {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let parse = scry_syntax::parse(&text);
        if !parse.diagnostics.is_empty() || parse.program.probes.is_empty() {
            let file = SourceFile::new(path.display().to_string(), text);
            failures.push_str(&render_all(&parse.diagnostics, &file));
            failures.push_str(&format!(
                "{}: {} probes\n",
                path.display(),
                parse.program.probes.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
    eprintln!("parsed {} installed tool scripts", tools.len());
}
