//! The capture a command reads, as tcpdump and tshark users name it: `FILE`, `-r FILE`,
//! or `-` for standard input (`tcpdump -w - | peerscope analyze -`).

use std::{
    fs::File,
    io::IsTerminal,
    os::fd::{AsRawFd, FromRawFd},
    path::{Path, PathBuf},
};

use crate::{cli::CaptureInput, cmd::UsageError};

/// A capture ready to be opened by path.
pub struct Input {
    path: PathBuf,
    /// How messages name it (`-` is "standard input").
    shown: String,
    /// Standard input copied into an unnamed file (the analysis reads the capture
    /// twice); removed by the kernel when the process ends.
    _spool: Option<File>,
}

impl Input {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// The input named on the command line; standard input is copied into an unnamed
/// temporary file first.
pub fn resolve(c: &CaptureInput) -> anyhow::Result<Input> {
    let path = c.path();
    if path.as_os_str() != "-" {
        return Ok(Input { path: path.to_path_buf(), shown: path.display().to_string(), _spool: None });
    }
    let mut stdin = std::io::stdin().lock();
    if stdin.is_terminal() {
        return Err(UsageError("`-` reads a capture from standard input, which is a terminal: pipe one in (tcpdump -w - | peerscope analyze -)".into()).into());
    }
    let mut spool = unnamed_file(&std::env::temp_dir())?;
    std::io::copy(&mut stdin, &mut spool)
        .map_err(|e| anyhow::anyhow!("reading the capture from standard input: {e}"))?;
    Ok(Input {
        path: PathBuf::from(format!("/proc/self/fd/{}", spool.as_raw_fd())),
        shown: "standard input".into(),
        _spool: Some(spool),
    })
}

/// A file with no name in `dir` (`O_TMPFILE`): nothing to clean up, whatever happens.
fn unnamed_file(dir: &Path) -> anyhow::Result<File> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: open(2) with a valid C string; the descriptor is owned by the File below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC, 0o600) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        anyhow::bail!("creating a temporary file in {} for standard input: {e}", dir.display());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    #[test]
    fn test_an_unnamed_file_reads_back_by_its_proc_path() {
        let mut f = unnamed_file(&std::env::temp_dir()).unwrap();
        f.write_all(b"pcap bytes").unwrap();
        f.rewind().unwrap();
        let mut again = File::open(format!("/proc/self/fd/{}", f.as_raw_fd())).unwrap();
        let mut s = String::new();
        again.read_to_string(&mut s).unwrap();
        assert_eq!(s, "pcap bytes");
    }
}
