//! Privilege checks, so that a user without them hears which capability is missing
//! instead of a bare EPERM from the kernel.

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// The effective capability set of this process, from `/proc/self/status`.
pub fn effective() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("CapEff:")).and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// Names of the capabilities missing for loading and attaching BPF programs to an
/// interface (CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON).
pub fn missing_for_attach(eff: u64) -> Vec<&'static str> {
    let has = |c: u32| eff & (1 << c) != 0;
    let mut missing = Vec::new();
    if !has(CAP_BPF) && !has(CAP_SYS_ADMIN) {
        missing.push("CAP_BPF");
    }
    if !has(CAP_PERFMON) && !has(CAP_SYS_ADMIN) {
        missing.push("CAP_PERFMON");
    }
    if !has(CAP_NET_ADMIN) {
        missing.push("CAP_NET_ADMIN");
    }
    missing
}

/// Reading pinned maps needs CAP_BPF (or CAP_SYS_ADMIN).
pub fn missing_for_read(eff: u64) -> Vec<&'static str> {
    let has = |c: u32| eff & (1 << c) != 0;
    if has(CAP_BPF) || has(CAP_SYS_ADMIN) {
        Vec::new()
    } else {
        vec!["CAP_BPF"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_root_has_everything() {
        assert!(missing_for_attach(u64::MAX).is_empty());
        assert!(missing_for_read(u64::MAX).is_empty());
    }

    #[test]
    fn test_nothing_names_each_missing_capability() {
        assert_eq!(missing_for_attach(0), vec!["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"]);
        assert_eq!(missing_for_attach(1 << CAP_SYS_ADMIN), vec!["CAP_NET_ADMIN"]);
        assert_eq!(missing_for_read(1 << CAP_BPF), Vec::<&str>::new());
    }
}
