//! Listing what a scan reads: the levels of the layout the prefix does not name are found
//! with delimiter listings (`ListObjectsV2` with `Delimiter=/`: folder names only) unless the
//! flags name them, the day folders of the range are named without listing, and only then are
//! objects listed, under each prefix left. Listings at one level run concurrently, at most
//! `concurrency` at once; each SDK call runs as a task of the runtime.

use crate::layout::{
    child_name, day_prefixes, is_account, is_log_name, is_org, is_trail_log, parse_day, Filters,
    Position, S3Url,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::Client;
use futures_util::stream::{self, StreamExt};
use iamwatch_scan::Reporter;
use tokio::runtime::Handle;

/// A listed object: its key and size.
pub(crate) type Listed = (String, Option<u64>);

/// What one listing found: the child prefixes (with a delimiter) and the objects.
#[derive(Default)]
struct Page {
    children: Vec<String>,
    objects: Vec<Listed>,
}

/// An SDK error as `Code: message`, or its whole chain when it has no code.
pub(crate) fn describe<E>(e: &aws_sdk_s3::error::SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

pub(crate) struct Lister<'a> {
    pub client: &'a Client,
    pub handle: &'a Handle,
    pub url: &'a S3Url,
    pub concurrency: usize,
    pub reporter: &'a dyn Reporter,
}

impl Lister<'_> {
    /// Every page under `prefix`; `None` (reported, naming the prefix) when a call fails.
    async fn list(&self, prefix: String, delimiter: bool) -> Option<Page> {
        let client = self.client.clone();
        let bucket = self.url.bucket.clone();
        let p = prefix.clone();
        let task = self.handle.spawn(async move {
            let mut page = Page::default();
            let mut token: Option<String> = None;
            loop {
                let mut req = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&p)
                    .set_continuation_token(token.take());
                if delimiter {
                    req = req.delimiter("/");
                }
                let out = req.send().await.map_err(|e| describe(&e))?;
                page.children.extend(
                    out.common_prefixes()
                        .iter()
                        .filter_map(|c| c.prefix().map(str::to_string)),
                );
                page.objects.extend(out.contents().iter().filter_map(|o| {
                    let size = o.size().and_then(|s| u64::try_from(s).ok());
                    o.key().map(|k| (k.to_string(), size))
                }));
                match out.next_continuation_token() {
                    Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => return Ok::<Page, String>(page),
                }
            }
        });
        let result = task.await.unwrap_or_else(|e| Err(e.to_string()));
        match result {
            Ok(page) => Some(page),
            Err(e) => {
                self.reporter
                    .error(&format!("{}: cannot list: {e}", self.url.name(&prefix)));
                None
            }
        }
    }

    /// Delimiter listings of `prefixes`, concurrently, in order (`None`: the listing failed,
    /// and was reported).
    async fn children_of(&self, prefixes: Vec<String>) -> Vec<(String, Option<Vec<String>>)> {
        stream::iter(prefixes)
            .map(|p| async move {
                let children = self.list(p.clone(), true).await.map(|page| page.children);
                (p, children)
            })
            .buffered(self.concurrency)
            .collect()
            .await
    }

    /// The objects under `prefixes`, concurrently.
    async fn objects_under(&self, prefixes: Vec<String>) -> Vec<Listed> {
        let pages: Vec<Option<Page>> = stream::iter(prefixes)
            .map(|p| self.list(p, false))
            .buffered(self.concurrency)
            .collect()
            .await;
        pages
            .into_iter()
            .flatten()
            .flat_map(|p| p.objects)
            .collect()
    }

    /// The log objects of the layout under `pos` that `filters` keep.
    pub async fn plan(&self, pos: &Position, filters: &Filters) -> Vec<Listed> {
        let (leaves, found_layout) = self.leaves(pos, filters).await;
        let mut objects = self.objects_under(leaves).await;
        if pos.implied && objects.is_empty() && !found_layout && filters.is_empty() {
            // Not CloudTrail's layout: every log file under the prefix, as a folder is read.
            let all = self.objects_under(vec![self.url.prefix.clone()]).await;
            return self.keep(all, is_log_name);
        }
        if pos.implied && !found_layout && !filters.is_empty() {
            self.reporter.error(&format!(
                "{}: no AWSLogs/ folder under this prefix: --since, --until, --accounts and \
                 --regions select folders of CloudTrail's layout ([PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/)",
                self.url
            ));
            return Vec::new();
        }
        objects.retain(|(k, _)| k.starts_with(&self.url.prefix));
        self.keep(objects, is_trail_log)
    }

    /// `objects` that `wanted` takes; the others are counted in a note.
    fn keep(&self, mut objects: Vec<Listed>, wanted: fn(&str) -> bool) -> Vec<Listed> {
        let before = objects.len();
        objects.retain(|(k, _)| wanted(k));
        let skipped = before - objects.len();
        if skipped > 0 {
            self.reporter.note(&format!(
                "{}: skipped {skipped} object{} not CloudTrail log files (digests, Insights, folder markers, other names)",
                self.url,
                if skipped == 1 { "" } else { "s" }
            ));
        }
        objects
    }

    /// The prefixes whose objects are read, and whether a level of the layout was found
    /// below the base.
    async fn leaves(&self, pos: &Position, filters: &Filters) -> (Vec<String>, bool) {
        if pos.file.is_some() {
            return (vec![self.url.prefix.clone()], true);
        }
        let bounded = filters.window.is_bounded() || !pos.date.is_empty();
        let below_region = bounded;
        let below_account = below_region || !filters.regions.is_empty();
        let below_org = below_account || !filters.accounts.is_empty();

        // Accounts.
        let mut found = false;
        let accounts: Vec<String> = if let Some(account) = &pos.account {
            let org = pos
                .org
                .as_ref()
                .map(|o| format!("{o}/"))
                .unwrap_or_default();
            vec![format!("{}{org}{account}/", pos.base)]
        } else if !below_org {
            let org = pos
                .org
                .as_ref()
                .map(|o| format!("{o}/"))
                .unwrap_or_default();
            return (vec![format!("{}{org}", pos.base)], false);
        } else {
            let (orgs, mut direct) = match &pos.org {
                Some(org) => (vec![format!("{}{org}/", pos.base)], Vec::new()),
                None => {
                    let listed = self.children_of(vec![pos.base.clone()]).await;
                    // A failed listing is reported as such, not as a missing folder.
                    found = listed.iter().any(|(_, c)| c.is_none());
                    let children = listed.into_iter().flat_map(|(_, c)| c.unwrap_or_default());
                    let (mut orgs, mut direct) = (Vec::new(), Vec::new());
                    for c in children {
                        let name = child_name(&pos.base, &c);
                        if is_org(name) {
                            orgs.push(c);
                        } else if is_account(name) {
                            direct.push(c);
                        }
                    }
                    found |= !orgs.is_empty() || !direct.is_empty();
                    (orgs, direct)
                }
            };
            let mut accounts = if filters.accounts.is_empty() {
                self.children_of(orgs)
                    .await
                    .into_iter()
                    .flat_map(|(parent, children)| {
                        children
                            .unwrap_or_default()
                            .into_iter()
                            .filter(move |c| is_account(child_name(&parent, c)))
                    })
                    .collect()
            } else {
                orgs.iter()
                    .flat_map(|o| filters.accounts.iter().map(move |a| format!("{o}{a}/")))
                    .collect::<Vec<_>>()
            };
            if !filters.accounts.is_empty() {
                direct.retain(|c| {
                    filters
                        .accounts
                        .iter()
                        .any(|a| child_name(&pos.base, c) == a)
                });
            }
            accounts.append(&mut direct);
            accounts
        };
        let trails: Vec<String> = accounts
            .into_iter()
            .map(|a| format!("{a}CloudTrail/"))
            .collect();
        if !below_account {
            return (trails, found);
        }

        // Regions.
        let regions: Vec<String> = if let Some(region) = &pos.region {
            trails.iter().map(|t| format!("{t}{region}/")).collect()
        } else if !filters.regions.is_empty() {
            trails
                .iter()
                .flat_map(|t| filters.regions.iter().map(move |r| format!("{t}{r}/")))
                .collect()
        } else {
            self.children_of(trails)
                .await
                .into_iter()
                .flat_map(|(_, children)| children.unwrap_or_default())
                .collect()
        };
        if !below_region {
            return (regions, found);
        }

        // Days.
        let Some((first, last)) = pos.days(&filters.window) else {
            self.reporter.note(&format!(
                "{}: the prefix names no day of the --since/--until range: nothing to read",
                self.url
            ));
            return (Vec::new(), found);
        };
        let (open, closed): (Vec<String>, Vec<String>) = if first.is_none() || last.is_none() {
            (regions, Vec::new())
        } else {
            (Vec::new(), regions)
        };
        let mut ranges: Vec<(String, i64, i64)> = closed
            .into_iter()
            .map(|r| (r, first.unwrap_or(0), last.unwrap_or(0)))
            .collect();
        // An open end: the years present bound it (one delimiter listing per region).
        for (region, children) in self.children_of(open).await {
            let years: Vec<i64> = children
                .unwrap_or_default()
                .iter()
                .filter_map(|c| {
                    let y = child_name(&region, c);
                    (y.len() == 4).then(|| y.parse::<i64>().ok()).flatten()
                })
                .collect();
            let (Some(min), Some(max)) = (years.iter().min(), years.iter().max()) else {
                continue;
            };
            let f = first.or_else(|| parse_day(&format!("{min:04}-01-01")));
            let l = last.or_else(|| parse_day(&format!("{max:04}-12-31")));
            if let (Some(f), Some(l)) = (f, l) {
                ranges.push((region, f, l));
            }
        }
        let leaves = ranges
            .into_iter()
            .flat_map(|(region, f, l)| {
                day_prefixes(f, l)
                    .into_iter()
                    .map(move |d| format!("{region}{d}"))
            })
            .collect();
        (leaves, found)
    }
}
