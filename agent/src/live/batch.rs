//! Reading a whole per-CPU hash map with `BPF_MAP_LOOKUP_BATCH` (Linux 5.6+): a few
//! syscalls for the whole table instead of two per flow. aya has no batch API, so
//! this is the raw syscall; the caller falls back to per-key iteration on error.

use std::{io, os::fd::RawFd};

use bytemuck::Pod;

const BPF_MAP_LOOKUP_BATCH: libc::c_long = 24;

/// `union bpf_attr`'s batch member.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// Reads the map chunk by chunk into fixed buffers and hands each chunk (keys, and
/// `ncpu` values per key) to `f`: memory stays at one chunk whatever the table size.
pub fn for_each_chunk<K: Pod, V: Pod>(fd: RawFd, ncpu: usize, chunk: u32, mut f: impl FnMut(&[K], &[V])) -> io::Result<()> {
    assert_eq!(std::mem::size_of::<V>() % 8, 0, "per-CPU values are 8-byte padded");
    let mut keys: Vec<K> = vec![K::zeroed(); chunk as usize];
    let mut values: Vec<V> = vec![V::zeroed(); chunk as usize * ncpu];
    let mut token = [0u64; 2];
    let mut next = [0u64; 2];
    let mut first = true;
    loop {
        let mut attr = BatchAttr {
            in_batch: if first { 0 } else { token.as_mut_ptr() as u64 },
            out_batch: next.as_mut_ptr() as u64,
            keys: keys.as_mut_ptr() as u64,
            values: values.as_mut_ptr() as u64,
            count: chunk,
            map_fd: fd as u32,
            ..Default::default()
        };
        // SAFETY: the buffers hold `chunk` keys and `chunk * ncpu` values, and the
        // tokens 16 bytes (a hash map's token is 4).
        let r = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_LOOKUP_BATCH, &mut attr as *mut BatchAttr, std::mem::size_of::<BatchAttr>()) };
        let err = (r < 0).then(io::Error::last_os_error);
        let got = (attr.count as usize).min(chunk as usize);
        match err {
            None => f(&keys[..got], &values[..got * ncpu]),
            // ENOENT: that was the last batch (it may still carry entries).
            Some(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                f(&keys[..got], &values[..got * ncpu]);
                return Ok(());
            }
            Some(e) => return Err(e),
        }
        token = next;
        first = false;
    }
}
