//! Checked little readers shared by the binary decoders. Every read names the
//! field it is for, so a short buffer turns into an [`Error::Truncated`] that
//! says exactly what was missing.

use crate::error::{Error, Result};

/// A borrowed payload plus the message name used in errors.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub buf: &'a [u8],
    pub message: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], message: &'static str) -> Self {
        Reader { buf, message }
    }

    /// `len` bytes at `offset`, or an error naming `field`.
    pub fn bytes(&self, field: &'static str, offset: usize, len: usize) -> Result<&'a [u8]> {
        let end = offset.checked_add(len);
        match end {
            Some(end) if end <= self.buf.len() => Ok(&self.buf[offset..end]),
            _ => Err(Error::Truncated {
                message: self.message,
                field,
                offset,
                expected: len,
                actual: self.buf.len().saturating_sub(offset),
            }),
        }
    }

    pub fn array<const N: usize>(&self, field: &'static str, offset: usize) -> Result<[u8; N]> {
        let b = self.bytes(field, offset, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub fn u8(&self, field: &'static str, offset: usize) -> Result<u8> {
        Ok(self.bytes(field, offset, 1)?[0])
    }
    pub fn u16_le(&self, field: &'static str, offset: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(field, offset)?))
    }
    pub fn u32_le(&self, field: &'static str, offset: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(field, offset)?))
    }

    /// Error unless the buffer ends exactly at `offset`.
    pub fn expect_end(&self, offset: usize) -> Result<()> {
        if self.buf.len() > offset {
            Err(Error::Trailing { message: self.message, offset, extra: self.buf.len() - offset })
        } else {
            Ok(())
        }
    }
}

/// Infallible readers for views whose length was checked once in `new_checked`.
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
