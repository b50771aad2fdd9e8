//! `iamwatch scan s3://BUCKET/PREFIX`: an [`iamwatch_scan::Source`] of CloudTrail log objects
//! in S3, listed by key prefix in the layout CloudTrail writes and streamed as they are read.
//!
//! The scan walk stays the same as for local files (the same limits, formats, messages and
//! exit codes); only where the bytes come from changes. Its workers are plain threads: each
//! one that opens an object runs the `GetObject` on the tokio runtime given here and then
//! pulls the body chunk by chunk as the reader asks for it, so at most one object per worker
//! is in flight and in memory (within `--max-file-size`).
//!
//! # Layout
//!
//! - [`layout`]: `s3://` URLs, CloudTrail's key layout, the `--since` / `--until` range and the
//!   day prefixes of a range, `--accounts` / `--regions` (pure, no SDK).
//! - `list`: the listings a scan makes: delimiter listings for the levels the flags do not
//!   name, then the objects under each prefix left, concurrently.
//! - [`source`]: [`S3Source`], the scan's source, and [`S3Object`].
//!
//! Retries are the SDK's standard mode (the client is built from the caller's configuration:
//! `iamwatch_aws::config::load_sdk_config` for the CLI): exponential backoff with jitter on
//! throttling (`SlowDown`, HTTP 503) and on 5xx answers, up to `AWS_MAX_ATTEMPTS` attempts.

pub mod layout;
mod list;
pub mod source;

pub use layout::{Bound, Filters, LayoutError, S3Url, Window};
pub use source::{S3Object, S3Source};

/// An S3 client of `sdk`; path-style addressing (`http://host/bucket/key`) when the
/// configuration names an endpoint (`AWS_ENDPOINT_URL`: moto, an S3-compatible store),
/// virtual-hosted style against AWS.
pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
