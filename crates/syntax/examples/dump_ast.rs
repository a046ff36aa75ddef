//! Debug helper: `cargo run -p scry-syntax --example dump_ast -- FILE|-e PROG`
//! prints the AST and any diagnostics in bpftrace format.

use scry_diagnostics::{SourceFile, render_all};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, text) = match args.as_slice() {
        [flag, prog] if flag == "-e" => ("stdin".to_string(), prog.clone()),
        [path] => match std::fs::read_to_string(path) {
            Ok(t) => (path.clone(), t),
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        },
        _ => {
            eprintln!("usage: dump_ast FILE | -e PROGRAM");
            std::process::exit(2);
        }
    };
    let parse = scry_syntax::parse(&text);
    print!("{}", scry_syntax::print_ast(&parse.program));
    let file = SourceFile::new(name, text);
    eprint!("{}", render_all(&parse.diagnostics, &file));
    if parse.has_errors() {
        std::process::exit(1);
    }
}
