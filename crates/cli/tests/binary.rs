//! The binary stands alone: no LLVM, clang, libbpf, libelf or zlib at run time.

#[test]
fn links_no_compiler_or_bpf_libraries() {
    let binary = env!("CARGO_BIN_EXE_scry");
    let output = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd runs");
    let libraries = String::from_utf8_lossy(&output.stdout).to_lowercase();
    assert!(
        libraries.contains("libc.so"),
        "ldd output looks wrong: {libraries}"
    );
    for forbidden in ["llvm", "clang", "libbpf", "libelf", "libz.", "libbcc"] {
        assert!(
            !libraries.contains(forbidden),
            "scry links {forbidden}:\n{libraries}"
        );
    }
}
