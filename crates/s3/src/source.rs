//! [`S3Source`]: the objects under one or more `s3://` URLs, as a scan's [`Source`].

use crate::layout::{Filters, LayoutError, Position, S3Url};
use crate::list::{describe, Lister};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::{Buf, Bytes};
use iamwatch_scan::{Object, Reporter, Source};
use std::collections::BTreeMap;
use std::io::{self, Read};
use tokio::runtime::Handle;

/// An object of an [`S3Source`], named `s3://BUCKET/KEY` in messages.
pub struct S3Object {
    name: String,
    bucket: String,
    key: String,
    size: Option<u64>,
}

impl S3Object {
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Object for S3Object {
    fn name(&self) -> &str {
        &self.name
    }

    fn size(&self) -> Option<u64> {
        self.size
    }
}

/// CloudTrail log objects under `s3://` URLs, pruned by [`Filters`].
///
/// [`Source::list`] and [`Source::open`] block the calling thread on `handle`: call them from
/// threads outside the runtime (the scan's workers, `main`), never from one of its tasks.
pub struct S3Source {
    client: Client,
    handle: Handle,
    urls: Vec<(S3Url, Position)>,
    filters: Filters,
    concurrency: usize,
}

impl S3Source {
    /// Checks the URLs against the layout and the flags (a prefix naming an account or a
    /// region the flags leave out is an error, naming both).
    pub fn new(
        client: Client,
        handle: Handle,
        urls: Vec<S3Url>,
        filters: Filters,
        concurrency: usize,
    ) -> Result<S3Source, LayoutError> {
        filters.window.check()?;
        let urls = urls
            .into_iter()
            .map(|url| {
                let pos =
                    Position::parse(&url.prefix).map_err(|e| LayoutError(format!("{url}: {e}")))?;
                if let Some(a) = &pos.account {
                    if !filters.accounts.is_empty() && !filters.accounts.contains(a) {
                        return Err(LayoutError(format!(
                            "{url} names account {a}, which --accounts leaves out"
                        )));
                    }
                }
                if let Some(r) = &pos.region {
                    if !filters.regions.is_empty() && !filters.regions.contains(r) {
                        return Err(LayoutError(format!(
                            "{url} names region {r}, which --regions leaves out"
                        )));
                    }
                }
                Ok((url, pos))
            })
            .collect::<Result<_, _>>()?;
        Ok(S3Source {
            client,
            handle,
            urls,
            filters,
            concurrency: concurrency.max(1),
        })
    }
}

impl Source for S3Source {
    type Object = S3Object;

    fn list(&self, reporter: &dyn Reporter) -> Vec<S3Object> {
        let mut out: BTreeMap<String, S3Object> = BTreeMap::new();
        for (url, pos) in &self.urls {
            let lister = Lister {
                client: &self.client,
                handle: &self.handle,
                url,
                concurrency: self.concurrency,
                reporter,
            };
            for (key, size) in self.handle.block_on(lister.plan(pos, &self.filters)) {
                let name = url.name(&key);
                out.entry(name.clone()).or_insert(S3Object {
                    name,
                    bucket: url.bucket.clone(),
                    key,
                    size,
                });
            }
        }
        out.into_values().collect()
    }

    fn open<'a>(&'a self, object: &'a S3Object) -> io::Result<Box<dyn Read + 'a>> {
        let request = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key);
        let got = self
            .handle
            .block_on(self.handle.spawn(request.send()))
            .map_err(io::Error::other)?
            .map_err(|e| io::Error::other(format!("cannot get: {}", describe(&e))))?;
        Ok(Box::new(Body {
            handle: &self.handle,
            body: got.body,
            chunk: Bytes::new(),
        }))
    }
}

/// An object's body as a blocking reader: each chunk is awaited when the last one is used
/// up, so only what the reader asked for is held.
struct Body<'a> {
    handle: &'a Handle,
    body: ByteStream,
    chunk: Bytes,
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.body.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(io::Error::other(format!("reading the body: {e}"))),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
