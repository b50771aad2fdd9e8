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

/// Inflates gzip data (told by its magic bytes) under a limit on the inflated size; other data
/// is returned as it is (a caller bounds its size when reading it).
///
/// A single-member gzip file whose trailer gives its size (every CloudTrail log file) is
/// inflated in one call by libdeflate; anything else (several members, over 4 GiB, a lying
/// trailer, trailing bytes) goes through a streaming decoder, member by member, which keeps
/// what came out before a break (as `gzip -dc` does), ignores zero padding after the last
/// member and reports other trailing bytes, and stops past `limit` bytes.
pub fn inflate(data: Vec<u8>, limit: u64) -> Inflated {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Inflated {
            data,
            problem: None,
        };
    }
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
    {
        if let Some(out) = gzip_exact(&data, size) {
            return Inflated {
                data: out,
                problem: None,
            };
        }
    }
    stream(&data, limit)
}

/// Growth step of the output buffer past its first size: doubling a large buffer could ask
/// for twice the limit at once.
const GROW_STEP: usize = 32 << 20;

fn stream(data: &[u8], limit: u64) -> Inflated {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = data;
    let mut chunk = vec![0u8; 64 << 10];
    let broken = |out: Vec<u8>, reason: String| {
        let kept = out.len() as u64;
        Inflated {
            data: out,
            problem: Some(InflateProblem::Broken { kept, reason }),
        }
    };
    while rest.starts_with(&[0x1f, 0x8b]) {
        let mut member = flate2::bufread::GzDecoder::new(rest);
        loop {
            match member.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    if out.len() as u64 + n as u64 > limit {
                        return Inflated {
                            data: Vec::new(),
                            problem: Some(InflateProblem::TooLarge { limit }),
                        };
                    }
                    if out.len() + n > out.capacity() {
                        let step = out.capacity().clamp(64 << 10, GROW_STEP);
                        if out.try_reserve_exact(step.max(n)).is_err() {
                            return Inflated {
                                data: Vec::new(),
                                problem: Some(InflateProblem::TooLarge {
                                    limit: out.len() as u64,
                                }),
                            };
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
        return Inflated {
            data: out,
            problem: None,
        };
    }
    if out.is_empty() {
        return broken(out, "not gzip data".to_string());
    }
    Inflated {
        data: out,
        problem: Some(InflateProblem::TrailingGarbage(rest.len() as u64)),
    }
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
