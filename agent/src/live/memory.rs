//! Giving the memory of a window's passing buffers back to the system.
//!
//! Each window builds and drops buffers the size of the flows of the last idle timeout
//! (the closed window, the report file, the baseline). glibc's allocator keeps freed
//! memory for reuse and raises its mmap threshold after large frees, so without a
//! trim the process keeps its largest moment's footprint for good.

/// Returns the allocator's free memory to the system (glibc's `malloc_trim`; elsewhere
/// nothing).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no
    // pointer of ours and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
