//! Prints the `tcpdump -d` listing of each argument (link type from `SCRY_DLT`).

fn main() {
    let linktype = std::env::var("SCRY_DLT")
        .ok()
        .and_then(|n| scry_cbpf::LinkType::from_name(&n))
        .unwrap_or(scry_cbpf::LinkType::En10mb);
    let opts = scry_cbpf::Options {
        linktype,
        ..Default::default()
    };
    for e in std::env::args().skip(1) {
        match scry_cbpf::compile(&e, &opts) {
            Ok(p) => print!("{}", scry_cbpf::insn::listing(&p)),
            Err(err) => println!("error: {err}"),
        }
    }
}
