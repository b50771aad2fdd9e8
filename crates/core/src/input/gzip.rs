//! Inflating compressed input, told by its magic bytes, not the file name.
//!
//! A single-member gzip file whose trailer gives its size (every CloudTrail log file) is inflated
//! in one call by libdeflate, about twice as fast as a streaming inflater when the output size
//! is known; anything else goes through flate2's streaming decoder.

use libdeflate_sys as sys;
use std::io::Read;

/// The largest file inflated in one call (a CloudTrail log file is a few MiB at most).
const ONE_SHOT_MAX: usize = 512 << 20;

/// Why inflating did not give the whole file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateProblem {
    /// More than the limit came out (a decompression bomb, or a limit set too low).
    #[error("inflates to more than {limit} bytes (the limit on a file's inflated size)")]
    TooLarge { limit: u64 },
    /// The data breaks off or is corrupt after `kept` good bytes, which are kept.
    #[error("gzip data is cut off or corrupt after {kept} inflated bytes ({reason})")]
    Broken { kept: u64, reason: String },
    /// Bytes that are not gzip follow the last complete member; they are ignored.
    #[error("{0} bytes of trailing garbage after the gzip data were ignored")]
    TrailingGarbage(u64),
}

impl InflateProblem {
    /// Whether the data that came out before the problem is worth reading.
    pub fn keeps_data(&self) -> bool {
        !matches!(self, InflateProblem::TooLarge { .. })
    }
}

/// What inflating gave: the data (all of it, or what came before a problem) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflated {
    pub data: Vec<u8>,
    pub problem: Option<InflateProblem>,
}

/// Whether `data` starts with gzip's magic bytes.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Inflates gzip data (told by its magic bytes) under a limit on the inflated size; other data
/// is returned as it is (a caller bounds its size when reading it).
///
/// A single-member gzip file whose trailer gives its size (every CloudTrail log file) is
/// inflated in one call by libdeflate; anything else (several members, over 4 GiB, a lying
/// trailer, trailing bytes) goes through a streaming decoder, member by member, which keeps
/// what came out before a break (as `gzip -dc` does), ignores zero padding after the last
/// member and reports other trailing bytes, and stops past `limit` bytes.
pub fn inflate(data: Vec<u8>, limit: u64) -> Inflated {
    if !is_gzip(&data) {
        return Inflated {
            data,
            problem: None,
        };
    }
    let mut out = Vec::new();
    let problem = inflate_into(&data, limit, &mut out);
    Inflated { data: out, problem }
}

/// [`inflate`] of gzip data into `out`, whose allocation is reused: a reader that inflates
/// file after file into the same buffer allocates, zeroes and faults in no new memory once it
/// is as large as the largest file. `out` is cleared first; it then holds what [`inflate`]
/// would return as its data (nothing after [`InflateProblem::TooLarge`]).
pub fn inflate_into(data: &[u8], limit: u64, out: &mut Vec<u8>) -> Option<InflateProblem> {
    out.clear();
    // The gzip trailer holds the inflated size mod 2^32.
    let size = data
        .len()
        .checked_sub(4)
        .map(|i| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize)
        .unwrap_or(0);
    // The trailer is only a claim: trust it for the one-shot path only within deflate's
    // largest possible ratio (1032:1), the limit and a cap; a bigger or lying one takes the
    // streaming path, whose buffer grows with what really comes out.
    if size > 0
        && size <= ONE_SHOT_MAX
        && (size as u64) <= limit
        && size <= data.len().saturating_mul(1032)
        && gzip_exact_into(data, size, out)
    {
        return None;
    }
    out.clear();
    stream(data, limit, out)
}

/// Growth step of the output buffer past its first size: doubling a large buffer could ask
/// for twice the limit at once.
const GROW_STEP: usize = 32 << 20;

fn stream(data: &[u8], limit: u64, out: &mut Vec<u8>) -> Option<InflateProblem> {
    let mut rest = data;
    let mut chunk = vec![0u8; 64 << 10];
    let broken = |out: &Vec<u8>, reason: String| {
        Some(InflateProblem::Broken {
            kept: out.len() as u64,
            reason,
        })
    };
    while is_gzip(rest) {
        let mut member = flate2::bufread::GzDecoder::new(rest);
        loop {
            match member.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    if out.len() as u64 + n as u64 > limit {
                        out.clear();
                        return Some(InflateProblem::TooLarge { limit });
                    }
                    if out.len() + n > out.capacity() {
                        let step = out.capacity().clamp(64 << 10, GROW_STEP);
                        if out.try_reserve_exact(step.max(n)).is_err() {
                            let limit = out.len() as u64;
                            out.clear();
                            return Some(InflateProblem::TooLarge { limit });
                        }
                    }
                    out.extend_from_slice(&chunk[..n]);
                }
                Err(e) => return broken(out, e.to_string()),
            }
        }
        rest = member.into_inner();
    }
    if rest.is_empty() || rest.iter().all(|b| *b == 0) {
        return None;
    }
    if out.is_empty() {
        return broken(out, "not gzip data".to_string());
    }
    Some(InflateProblem::TrailingGarbage(rest.len() as u64))
}

/// Inflates gzip data under [`super::DEFAULT_MAX_INFLATED`]; any problem is an error. Callers
/// that want what came before a break use [`inflate`].
pub fn decompress(data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let out = inflate(data, super::DEFAULT_MAX_INFLATED);
    match out.problem {
        None => Ok(out.data),
        Some(p) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            p.to_string(),
        )),
    }
}

/// Inflates the first gzip member of `data` into a buffer of exactly `size` bytes. Returns the
/// output only when that member fills it exactly and is the whole input (one member, no
/// trailing bytes); `None` sends the caller to a streaming inflater.
pub fn gzip_exact(data: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    gzip_exact_into(data, size, &mut out).then_some(out)
}

/// A libdeflate decompressor, one per thread, freed with it.
struct Decompressor(*mut sys::libdeflate_decompressor);

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once, here.
        unsafe { sys::libdeflate_free_decompressor(self.0) }
    }
}

thread_local! {
    static DECOMPRESSOR: Decompressor =
        // SAFETY: no precondition; a null result is checked before use.
        Decompressor(unsafe { sys::libdeflate_alloc_decompressor() });
}

/// [`gzip_exact`] into `out` (cleared, its allocation reused and grown to `size` if needed).
/// On false, `out` is empty.
fn gzip_exact_into(data: &[u8], size: usize, out: &mut Vec<u8>) -> bool {
    out.clear();
    if out.try_reserve_exact(size).is_err() {
        return false;
    }
    let mut consumed = 0usize;
    let mut produced = 0usize;
    let result = DECOMPRESSOR.with(|d| {
        if d.0.is_null() {
            return None;
        }
        // SAFETY: the decompressor belongs to this thread and is used by one call at a time;
        // `data` is valid for its length and `out` has room for `size` bytes past its
        // (zero) length; libdeflate writes at most `size` bytes there and the two counters.
        Some(unsafe {
            sys::libdeflate_gzip_decompress_ex(
                d.0,
                data.as_ptr().cast(),
                data.len(),
                out.as_mut_ptr().cast(),
                size,
                &mut consumed,
                &mut produced,
            )
        })
    });
    let ok = result == Some(sys::libdeflate_result_LIBDEFLATE_SUCCESS)
        && consumed == data.len()
        && produced == size;
    if ok {
        // SAFETY: libdeflate initialized the first `produced` (== `size`) bytes, within the
        // capacity reserved above.
        unsafe { out.set_len(produced) };
    }
    ok
}
