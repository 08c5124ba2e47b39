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

/// Keys, and for each key `ncpu` values (one per possible CPU), in the order read.
pub struct PerCpuTable<K, V> {
    pub keys: Vec<K>,
    pub values: Vec<V>,
    pub ncpu: usize,
}

impl<K, V> PerCpuTable<K, V> {
    pub fn per_cpu(&self, i: usize) -> &[V] {
        &self.values[i * self.ncpu..(i + 1) * self.ncpu]
    }
}

/// Reads every entry of the per-CPU hash map behind `fd`. `V`'s size must be a
/// multiple of 8 (the kernel pads per-CPU values to 8 bytes).
pub fn lookup_all<K: Pod, V: Pod>(fd: RawFd, ncpu: usize, chunk: u32) -> io::Result<PerCpuTable<K, V>> {
    assert_eq!(std::mem::size_of::<V>() % 8, 0, "per-CPU values are 8-byte padded");
    let mut keys: Vec<K> = Vec::new();
    let mut values: Vec<V> = Vec::new();
    let mut token = [0u64; 2];
    let mut next = [0u64; 2];
    let mut first = true;
    loop {
        let have = keys.len();
        keys.resize(have + chunk as usize, K::zeroed());
        values.resize((have + chunk as usize) * ncpu, V::zeroed());
        let mut attr = BatchAttr {
            in_batch: if first { 0 } else { token.as_mut_ptr() as u64 },
            out_batch: next.as_mut_ptr() as u64,
            keys: keys[have..].as_mut_ptr() as u64,
            values: values[have * ncpu..].as_mut_ptr() as u64,
            count: chunk,
            map_fd: fd as u32,
            ..Default::default()
        };
        // SAFETY: the buffers hold `chunk` keys and `chunk * ncpu` values, and the
        // tokens 16 bytes (a hash map's token is 4).
        let r = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_LOOKUP_BATCH, &mut attr as *mut BatchAttr, std::mem::size_of::<BatchAttr>()) };
        let err = (r < 0).then(io::Error::last_os_error);
        let got = attr.count as usize;
        keys.truncate(have + got);
        values.truncate((have + got) * ncpu);
        match err {
            None => {}
            // ENOENT: that was the last batch.
            Some(e) if e.raw_os_error() == Some(libc::ENOENT) => break,
            Some(e) => return Err(e),
        }
        token = next;
        first = false;
    }
    Ok(PerCpuTable { keys, values, ncpu })
}
