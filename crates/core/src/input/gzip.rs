//! Inflating compressed input, told by its magic bytes, not the file name.
//!
//! A single-member gzip file whose trailer gives its size (every CloudTrail log file) is inflated
//! in one call by libdeflate, about twice as fast as a streaming inflater when the output size
//! is known; anything else goes through flate2's streaming decoder.

use libdeflate_sys as sys;
use std::io::Read;

/// The largest file inflated in one call (a CloudTrail log file is a few MiB at most).
const ONE_SHOT_MAX: usize = 512 << 20;

/// Inflates gzip data (told by its magic bytes); other data is returned as it is.
///
/// A single-member gzip file whose trailer gives its size (every CloudTrail log file) is
/// inflated in one call by libdeflate, about twice as fast as a streaming inflater; anything
/// else (several members, over 4 GiB, a lying trailer) goes through flate2's streaming decoder.
pub fn decompress(data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Ok(data);
    }
    // The gzip trailer holds the inflated size mod 2^32.
    let size = data
        .len()
        .checked_sub(4)
        .map(|i| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize)
        .unwrap_or(0);
    // The trailer is only a claim: trust it for the one-shot path only within deflate's
    // largest possible ratio (1032:1) and a cap; a bigger or lying one takes the streaming
    // path, whose buffer grows with what really comes out.
    if size > 0 && size <= ONE_SHOT_MAX && size <= data.len().saturating_mul(1032) {
        if let Some(out) = gzip_exact(&data, size) {
            return Ok(out);
        }
    }
    let mut out = Vec::new();
    out.try_reserve(size.min(data.len().saturating_mul(16)).min(ONE_SHOT_MAX))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::OutOfMemory, e))?;
    flate2::read::MultiGzDecoder::new(&data[..]).read_to_end(&mut out)?;
    Ok(out)
}

/// Inflates the first gzip member of `data` into a buffer of exactly `size` bytes. Returns the
/// output only when that member fills it exactly and is the whole input (one member, no
/// trailing bytes); `None` sends the caller to a streaming inflater.
pub fn gzip_exact(data: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; size];
    let mut consumed = 0usize;
    let mut produced = 0usize;
    // SAFETY: the decompressor is allocated, used and freed here only; `data` and `out` are
    // valid for their lengths, and libdeflate writes at most `out.len()` bytes and the two
    // counters.
    let result = unsafe {
        let d = sys::libdeflate_alloc_decompressor();
        if d.is_null() {
            return None;
        }
        let r = sys::libdeflate_gzip_decompress_ex(
            d,
            data.as_ptr().cast(),
            data.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut consumed,
            &mut produced,
        );
        sys::libdeflate_free_decompressor(d);
        r
    };
    (result == sys::libdeflate_result_LIBDEFLATE_SUCCESS
        && consumed == data.len()
        && produced == size)
        .then_some(out)
}
