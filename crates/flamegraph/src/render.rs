//! SVG rendering of folded stacks through inferno.

use inferno::flamegraph::{self, Direction, Options};

use crate::{Error, Result};

/// Options of [`svg_with`].
#[derive(Clone, Debug, PartialEq)]
pub struct SvgOptions {
    /// Title at the top of the image.
    pub title: String,
    /// Optional second line under the title.
    pub subtitle: Option<String>,
    /// What a count measures, shown in tooltips (`samples`, `bytes`, …).
    pub count_name: String,
    /// Image width in pixels (inferno's default 1200 when `None`).
    pub width: Option<usize>,
    /// Icicle graph: root at the top.
    pub inverted: bool,
    /// Frames narrower than this many pixels are left out.
    pub min_width: f64,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            title: "Flame Graph".to_owned(),
            subtitle: None,
            count_name: "samples".to_owned(),
            width: None,
            inverted: false,
            min_width: 0.1,
        }
    }
}

/// Render folded stacks (`a;b;c 12` lines) as an SVG flame graph titled `title`.
pub fn svg(folded: &str, title: &str) -> Result<String> {
    svg_with(
        folded,
        &SvgOptions {
            title: title.to_owned(),
            ..SvgOptions::default()
        },
    )
}

/// Render folded stacks with explicit options. Colors are derived from frame names,
/// so the same input gives the same image.
pub fn svg_with(folded: &str, opts: &SvgOptions) -> Result<String> {
    if !has_stack(folded) {
        return Err(Error::NoStacks);
    }
    let mut o = Options::default();
    o.title = opts.title.clone();
    o.subtitle = opts.subtitle.clone();
    o.count_name = opts.count_name.clone();
    o.image_width = opts.width;
    o.min_width = opts.min_width;
    o.deterministic = true;
    if opts.inverted {
        o.direction = Direction::Inverted;
    }
    let mut out = Vec::new();
    flamegraph::from_lines(&mut o, folded.lines(), &mut out).map_err(Error::Render)?;
    String::from_utf8(out)
        .map_err(|e| Error::Render(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Whether some line ends in a positive count.
fn has_stack(folded: &str) -> bool {
    folded.lines().any(|line| {
        line.trim()
            .rsplit_once(' ')
            .and_then(|(stack, n)| (!stack.trim().is_empty()).then_some(n))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    /// Parse the whole document, checking tags balance; return the text content.
    fn well_formed_text(svg: &str) -> String {
        let mut reader = Reader::from_str(svg);
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut text = String::new();
        let mut root = None;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    let name = e.name().as_ref().to_vec();
                    root.get_or_insert_with(|| name.clone());
                    stack.push(name);
                }
                Event::End(e) => {
                    assert_eq!(stack.pop().as_deref(), Some(e.name().as_ref()));
                    text.push('\n');
                }
                Event::Text(t) => text.push_str(&t.decode().expect("utf-8 text")),
                Event::GeneralRef(r) => {
                    let resolved = match r.as_ref() {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => r
                            .resolve_char_ref()
                            .expect("valid character reference")
                            .expect("known entity"),
                    };
                    text.push(resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        assert_eq!(root.as_deref(), Some(&b"svg"[..]));
        text
    }

    const FOLDED: &str = "\
busy-7;main;busy_fn 90
busy-7;main;other_fn 10
bash-9;main;readline 50
";

    #[test]
    fn renders_well_formed_svg_with_frame_names() {
        let out = svg(FOLDED, "CPU <profile>").unwrap();
        assert!(out.starts_with("<?xml"));
        let text = well_formed_text(&out);
        for name in [
            "busy_fn", "other_fn", "readline", "main", "busy-7", "bash-9",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
        // Title escaped and present.
        assert!(out.contains("CPU &lt;profile&gt;"));
        assert!(text.contains("CPU <profile>"));
        // 150 samples in total: the root frame reports them.
        assert!(text.contains("all (150 samples, 100%)"), "{text}");
    }

    #[test]
    fn same_input_same_output() {
        assert_eq!(svg(FOLDED, "t").unwrap(), svg(FOLDED, "t").unwrap());
    }

    #[test]
    fn options_apply() {
        let out = svg_with(
            "a;b 3\n",
            &SvgOptions {
                title: "Allocations".to_owned(),
                subtitle: Some("pid 7".to_owned()),
                count_name: "bytes".to_owned(),
                width: Some(800),
                inverted: true,
                min_width: 0.0,
            },
        )
        .unwrap();
        let text = well_formed_text(&out);
        assert!(text.contains("Allocations") && text.contains("pid 7"));
        assert!(text.contains("3 bytes"), "{text}");
        assert!(out.contains("width=\"800\""));
    }

    #[test]
    fn escapes_special_names() {
        let out = svg("main;std::vector<int>::push_back&x 4\n", "t").unwrap();
        let text = well_formed_text(&out);
        assert!(text.contains("std::vector<int>::push_back&x"));
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(svg("", "t"), Err(Error::NoStacks)));
        assert!(matches!(svg("a;b 0\n\n", "t"), Err(Error::NoStacks)));
        assert!(matches!(svg("garbage\n", "t"), Err(Error::NoStacks)));
        assert!(svg("a 1\n", "t").is_ok());
    }

    #[test]
    fn folded_from_fold_renders() {
        let entries = vec![(vec!["main".to_owned(), "hot".to_owned()], 4)];
        let out = svg(&crate::fold(&entries), "t").unwrap();
        assert!(well_formed_text(&out).contains("hot"));
    }
}
