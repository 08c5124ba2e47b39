//! Requirements of a test. A missing one makes the test fail under CI (CI=true), and
//! otherwise skip with a loud message: never a silent pass.

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

fn missing(test: &str, what: &str) -> bool {
    if in_ci() {
        panic!("{test}: {what}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("\n*** SKIPPED {test}: {what} ***\n");
    false
}

/// True when running as root; otherwise fails (CI) or announces the skip.
pub fn require_root(test: &str) -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        true
    } else {
        missing(test, "needs root (network namespaces, BPF)")
    }
}

/// True when `tool` is on PATH.
pub fn require_tool(test: &str, tool: &str) -> bool {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file())).unwrap_or(false);
    found || missing(test, &format!("needs `{tool}` (install it with `cargo xtask setup`)"))
}
