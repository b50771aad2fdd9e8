//! Whole-buffer gzip inflation with libdeflate: about twice as fast as a streaming inflater
//! when the output size is known, which a gzip trailer tells for files under 4 GiB.

use libdeflate_sys as sys;

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
