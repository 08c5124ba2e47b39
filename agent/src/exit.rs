//! The exit statuses of every `peerscope` command, defined once: `--help`, the man page
//! and the code all read them from here.

/// Everything asked for was done.
pub const SUCCESS: u8 = 0;
/// A runtime failure: attaching, a system call, writing an output, a lost interface.
pub const FAILURE: u8 = 1;
/// Bad usage: an unknown or malformed flag, a bad value, a bad configuration file (the
/// status clap gives its own usage errors).
pub const USAGE: u8 = 2;
/// Damaged input, partial results: everything before the damage was analysed and
/// written, and the damage (packet number, byte offset, cause) reported on stderr.
pub const DAMAGED: u8 = 3;
/// No usable input: the capture file is missing, unreadable, not a capture, or holds
/// no packet of a supported link type.
pub const NO_INPUT: u8 = 4;
/// `demo` only: the measurement disagreed with the swarm's ground truth.
pub const MISMATCH: u8 = 5;
/// The output pipe was closed by its reader (`peerscope flows | head -1`): the command
/// ends quietly, as if killed by SIGPIPE, which a shell reports as 128 + 13.
pub const BROKEN_PIPE: u8 = 128 + libc::SIGPIPE as u8;

/// Every status with its meaning, for `--help` and the man page.
pub const TABLE: &[(u8, &str)] = &[
    (SUCCESS, "success"),
    (FAILURE, "runtime failure (attaching, a system call, an output that cannot be written, the interface lost)"),
    (USAGE, "bad usage: an unknown flag, a bad value, a bad configuration file"),
    (
        DAMAGED,
        "damaged input, partial results: what came before the damage was analysed and written, the damage reported",
    ),
    (NO_INPUT, "no usable input: a capture file missing, unreadable, not a capture, or without a supported packet"),
    (MISMATCH, "demo: the measurement disagreed with the swarm's ground truth"),
    (BROKEN_PIPE, "the reader of the output went away (as SIGPIPE ends a command)"),
];

/// The statuses in one paragraph, for the `--help` of the commands that read a capture.
pub const HELP: &str = "Exit status: 0 success; 1 runtime failure; 2 bad usage (flags, values, configuration file); \
3 damaged input: the results cover everything before the damage, which is reported (packet number, byte offset, \
cause); 4 no usable input (the file cannot be opened, is not a capture, or has no packet of a link type peerscope \
reads: the message says what it holds); 141 the output pipe was closed (as SIGPIPE ends a command).";

/// The table as text lines, `  N  meaning`.
pub fn describe() -> String {
    TABLE.iter().map(|(code, what)| format!("  {code:>3}  {what}\n")).collect()
}

/// Ends the process the way a closed pipe ends a command that does not handle it: by
/// SIGPIPE with its default action, so a shell shows status 141 and `set -o pipefail`
/// sees what it expects. Flushes nothing (the reader is gone).
pub fn broken_pipe() -> ! {
    // SAFETY: restoring a signal's default disposition and raising it have no memory
    // effects; if raising returns (it should not), we exit with the same status.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(BROKEN_PIPE as i32)
}

/// Whether an error (or one of its causes) is a write to a closed pipe.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_codes_are_distinct_and_described() {
        let mut codes: Vec<u8> = TABLE.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "two meanings share a status");
        assert_eq!(BROKEN_PIPE, 141);
        assert!(describe().contains("  3  damaged input"));
        for (code, _) in TABLE.iter().filter(|(c, _)| *c != MISMATCH) {
            assert!(HELP.contains(&format!(" {code} ")), "HELP does not explain {code}");
        }
    }

    #[test]
    fn test_broken_pipe_is_found_in_a_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("writing the table")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&e));
        let other = Outer(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
