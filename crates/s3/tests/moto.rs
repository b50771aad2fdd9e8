//! The S3 source against moto's S3, through the fault proxy that counts (and can fail) the
//! requests: an organization trail of 3 accounts, 3 regions and 12 days is generated in a
//! bucket, and each test reads it as `iamwatch scan s3://...` would.

use iamwatch_core::build::FindingContext;
use iamwatch_core::Policy;
use iamwatch_e2e::moto::{management_credentials, sdk_config, MotoServer};
use iamwatch_e2e::proxy::{Fault, FaultProxy};
use iamwatch_e2e::trail::{gzip, org_trail, upload, write_local, ORG};
use iamwatch_s3::layout::{parse_accounts, parse_regions};
use iamwatch_s3::{Bound, Filters, S3Source, S3Url, Window};
use iamwatch_scan::{LocalFiles, Options, Outcome, Reporter};
use std::sync::Mutex;

const BUCKET: &str = "org-trail";
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

fn trail() -> Vec<(String, Vec<u8>)> {
    org_trail(&ACCOUNTS, &REGIONS, "2024-07-25", 12)
}

/// What a scan said.
#[derive(Default)]
struct Said {
    errors: Mutex<Vec<String>>,
    notes: Mutex<Vec<String>>,
}

impl Reporter for Said {
    fn error(&self, message: &str) {
        self.errors.lock().unwrap().push(message.to_string());
    }

    fn note(&self, message: &str) {
        self.notes.lock().unwrap().push(message.to_string());
    }
}

impl Said {
    fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap().clone()
    }
}

/// moto with the generated trail, a proxy in front of it, and a runtime for the SDK.
struct Env {
    _moto: MotoServer,
    runtime: tokio::runtime::Runtime,
    proxy: FaultProxy,
    /// Through the proxy.
    client: aws_sdk_s3::Client,
    /// Straight to moto (to set up).
    direct: aws_sdk_s3::Client,
    objects: Vec<(String, Vec<u8>)>,
}

impl Env {
    fn start() -> Env {
        let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_stack_size(16 << 20)
            .enable_all()
            .build()
            .unwrap();
        let endpoint = moto.endpoint();
        let (proxy, client, direct) = runtime.block_on(async {
            let proxy = FaultProxy::start(&endpoint).await.unwrap();
            let direct =
                iamwatch_s3::client(&sdk_config(&endpoint, management_credentials()).await);
            let client =
                iamwatch_s3::client(&sdk_config(&proxy.endpoint(), management_credentials()).await);
            (proxy, client, direct)
        });
        let env = Env {
            _moto: moto,
            runtime,
            proxy,
            client,
            direct,
            objects: trail(),
        };
        env.runtime.block_on(async {
            upload(&env.direct, BUCKET, &env.objects).await.unwrap();
            // A digest file: never read.
            let digest = format!("AWSLogs/{ORG}/111111111111/CloudTrail-Digest/us-east-1/2024/08/01/111111111111_CloudTrail-Digest_us-east-1_20240801T1205Z.json.gz");
            let body = gzip(b"{\"awsAccountId\":\"111111111111\"}");
            upload(&env.direct, BUCKET, &[(digest, body)]).await.unwrap();
        });
        env
    }

    fn put_now(&self, key: &str, body: Vec<u8>) {
        let objects = [(key.to_string(), body)];
        self.runtime
            .block_on(upload(&self.direct, BUCKET, &objects))
            .unwrap();
    }

    fn source(&self, url: &str, filters: Filters) -> S3Source {
        S3Source::new(
            self.client.clone(),
            self.runtime.handle().clone(),
            vec![S3Url::parse(url).unwrap()],
            filters,
            8,
        )
        .unwrap()
    }

    fn scan(&self, url: &str, filters: Filters) -> (Outcome, Said) {
        let said = Said::default();
        let outcome = iamwatch_scan::scan(&self.source(url, filters), &options(), &said).unwrap();
        (outcome, said)
    }

    /// The `ListObjectsV2` requests: (prefix, with a delimiter).
    fn listings(&self) -> Vec<(String, bool)> {
        self.proxy
            .targets("ListObjectsV2")
            .iter()
            .map(|t| {
                let query = t.split_once('?').map_or("", |(_, q)| q);
                let param = |name: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                        .map(str::to_string)
                };
                (
                    param("prefix").unwrap_or_default(),
                    param("delimiter").is_some(),
                )
            })
            .collect()
    }

    /// The keys of the `GetObject` requests.
    fn gets(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .proxy
            .targets("GetObject")
            .iter()
            .map(|t| {
                let path = t.split('?').next().unwrap_or(t);
                path.trim_start_matches(&format!("/{BUCKET}/")).to_string()
            })
            .collect();
        keys.sort();
        keys
    }

    /// The generated keys that `keep` takes, sorted.
    fn keys(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut keys: Vec<String> = self
            .objects
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| keep(k))
            .collect();
        keys.sort();
        keys
    }
}

fn options() -> Options {
    Options {
        policy: Policy::default(),
        org: None,
        context: FindingContext {
            region: "us-east-1".to_string(),
            partition: "aws".to_string(),
            runbook_base_url: None,
        },
        threads: Some(8),
        limits: iamwatch_scan::Limits::default(),
    }
}

fn window(since: &str, until: &str) -> Window {
    Window {
        since: Some(Bound::parse(since).unwrap()),
        until: Some(Bound::parse(until).unwrap()),
    }
}

#[test]
fn two_days_list_only_those_days_and_get_only_their_objects() {
    let env = Env::start();
    let filters = Filters {
        window: window("2024-08-01", "2024-08-02"),
        ..Filters::default()
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}/"), filters);
    assert_eq!(said.errors(), Vec::<String>::new());
    let in_range = |k: &str| k.contains("/2024/08/01/") || k.contains("/2024/08/02/");
    let expected = env.keys(in_range);
    assert_eq!(expected.len(), 18);
    assert_eq!(
        env.gets(),
        expected,
        "only the objects of the two days are read"
    );
    assert_eq!(outcome.totals.files, 18);
    assert_eq!(
        outcome.findings.len(),
        18,
        "one CreateUser finding per object"
    );

    let listings = env.listings();
    // Folder names only: AWSLogs/ (the organization), its accounts, each account's regions.
    let delimited: Vec<&str> = listings
        .iter()
        .filter(|(_, d)| *d)
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(delimited.len(), 1 + 1 + 3, "{delimited:?}");
    assert!(delimited.contains(&"AWSLogs/"));
    assert!(delimited.contains(&format!("AWSLogs/{ORG}/").as_str()));
    // Objects: one listing per account, region and day of the range, no other day.
    let mut days: Vec<&str> = listings
        .iter()
        .filter(|(_, d)| !*d)
        .map(|(p, _)| p.as_str())
        .collect();
    days.sort();
    let mut want = Vec::new();
    for a in ACCOUNTS {
        for r in REGIONS {
            for d in ["2024/08/01", "2024/08/02"] {
                want.push(format!("AWSLogs/{ORG}/{a}/CloudTrail/{r}/{d}/"));
            }
        }
    }
    want.sort();
    assert_eq!(days, want);
}

#[test]
fn accounts_and_regions_are_named_not_listed() {
    let env = Env::start();
    let filters = Filters {
        window: window("2024-07-31T12:00:00Z", "2024-08-01"),
        accounts: parse_accounts("222222222222").unwrap(),
        regions: parse_regions("eu-west-1,us-east-1").unwrap(),
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}"), filters);
    assert_eq!(said.errors(), Vec::<String>::new());
    let expected = env.keys(|k| {
        k.contains("/222222222222/")
            && (k.contains("/eu-west-1/") || k.contains("/us-east-1/"))
            && (k.contains("/2024/07/31/") || k.contains("/2024/08/01/"))
    });
    assert_eq!(expected.len(), 4);
    assert_eq!(env.gets(), expected);
    // Only AWSLogs/ is listed for folder names (to find the organization); the account and
    // the regions are named.
    let delimited: Vec<String> = env
        .listings()
        .into_iter()
        .filter(|(_, d)| *d)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(delimited, ["AWSLogs/"]);
    assert_eq!(env.listings().len(), 1 + 4);
    // The 2024-07-31 CreateUser events are at 10:30, before the window's start: the scan
    // reads them (their day is in range); the CLI keeps findings by the window's instants.
    assert_eq!(outcome.findings.len(), 4);
}

#[test]
fn a_prefix_below_awslogs_is_read_as_it_names() {
    let env = Env::start();
    // One account and region, one month, the days of the window in it.
    let url =
        format!("s3://{BUCKET}/AWSLogs/{ORG}/333333333333/CloudTrail/ap-southeast-2/2024/07/");
    let filters = Filters {
        window: Window {
            since: Some(Bound::parse("2024-07-30").unwrap()),
            until: None,
        },
        ..Filters::default()
    };
    let (outcome, said) = env.scan(&url, filters);
    assert_eq!(said.errors(), Vec::<String>::new());
    let expected = env.keys(|k| k.contains("/333333333333/CloudTrail/ap-southeast-2/2024/07/3"));
    assert_eq!(expected.len(), 2);
    assert_eq!(env.gets(), expected);
    assert_eq!(outcome.findings.len(), 2);
    let mut listed: Vec<String> = env.listings().into_iter().map(|(p, _)| p).collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            format!("AWSLogs/{ORG}/333333333333/CloudTrail/ap-southeast-2/2024/07/30/"),
            format!("AWSLogs/{ORG}/333333333333/CloudTrail/ap-southeast-2/2024/07/31/"),
        ]
    );

    // One day, no flags: one listing.
    let env = Env::start();
    let url = format!("s3://{BUCKET}/AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/2024/08/05/");
    let (outcome, _) = env.scan(&url, Filters::default());
    assert_eq!(env.listings().len(), 1);
    assert_eq!(outcome.findings.len(), 1);

    // A flag that contradicts the prefix is refused up front.
    let e = S3Source::new(
        env.client.clone(),
        env.runtime.handle().clone(),
        vec![S3Url::parse(&url).unwrap()],
        Filters {
            regions: parse_regions("eu-west-1").unwrap(),
            ..Filters::default()
        },
        4,
    )
    .err()
    .unwrap();
    assert!(
        e.0.contains("names region us-east-1, which --regions leaves out"),
        "{e}"
    );
}

#[test]
fn an_open_range_is_bounded_by_the_years_listed() {
    let env = Env::start();
    let filters = Filters {
        window: Window {
            since: None,
            until: Some(Bound::parse("2024-07-26").unwrap()),
        },
        accounts: parse_accounts("111111111111").unwrap(),
        regions: parse_regions("us-east-1").unwrap(),
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}/"), filters);
    assert_eq!(said.errors(), Vec::<String>::new());
    assert_eq!(outcome.findings.len(), 2);
    let region = format!("AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/");
    let listings = env.listings();
    assert!(listings.contains(&(region.clone(), true)), "{listings:?}");
    // From the first year present to the bound: 2024-01 .. 2024-06 whole, then days.
    assert!(listings.contains(&(format!("{region}2024/01/"), false)));
    assert!(listings.contains(&(format!("{region}2024/07/26/"), false)));
    assert!(!listings.iter().any(|(p, _)| p.contains("2024/07/27")));
}

#[test]
fn without_flags_one_recursive_listing_and_digests_skipped() {
    let env = Env::start();
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}"), Filters::default());
    assert_eq!(said.errors(), Vec::<String>::new());
    assert_eq!(env.listings(), [("AWSLogs/".to_string(), false)]);
    assert_eq!(outcome.totals.files, 108);
    assert_eq!(outcome.findings.len(), 108);
    assert_eq!(
        said.notes(),
        [format!("s3://{BUCKET}/: skipped 1 object not CloudTrail log files (digests, Insights, folder markers, other names)")]
    );
}

#[test]
fn a_corrupt_object_is_named_and_the_others_yield_their_findings() {
    let env = Env::start();
    let bad = format!("AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/2024/08/01/111111111111_CloudTrail_us-east-1_20240801T2355Z_bad.json.gz");
    let mut body = gzip(b"{\"Records\": []}");
    body.truncate(body.len() / 2);
    body.extend_from_slice(b"not gzip");
    env.put_now(&bad, body);
    let filters = Filters {
        window: window("2024-08-01", "2024-08-01"),
        ..Filters::default()
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}/AWSLogs/"), filters);
    let errors = said.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!("s3://{BUCKET}/{bad}: cannot decompress")),
        "{errors:?}"
    );
    assert_eq!(outcome.totals.errors, 1);
    assert_eq!(outcome.totals.files, 10);
    assert_eq!(outcome.findings.len(), 9);
}

#[test]
fn an_object_past_the_file_limit_is_refused_before_it_is_read() {
    let env = Env::start();
    let url = format!("s3://{BUCKET}/AWSLogs/{ORG}/111111111111/CloudTrail/us-east-1/2024/08/");
    let source = env.source(&url, Filters::default());
    let mut opts = options();
    opts.limits.max_file_size = 100;
    let said = Said::default();
    let outcome = iamwatch_scan::scan(&source, &opts, &said).unwrap();
    assert_eq!(outcome.totals.errors, 5);
    assert!(
        said.errors()
            .iter()
            .all(|e| e.starts_with(&format!("s3://{BUCKET}/AWSLogs/"))
                && e.ends_with("larger than 100 bytes, the limit on a file (--max-file-size)")),
        "{:?}",
        said.errors()
    );
    assert_eq!(env.gets(), Vec::<String>::new(), "no object is fetched");
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let env = Env::start();
    env.proxy.inject("ListObjectsV2", Fault::Throttle, 3);
    env.proxy.inject("GetObject", Fault::ServerError, 2);
    env.proxy.inject("GetObject", Fault::Throttle, 2);
    let filters = Filters {
        window: window("2024-08-04", "2024-08-05"),
        ..Filters::default()
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}/"), filters);
    assert_eq!(said.errors(), Vec::<String>::new());
    assert_eq!(outcome.findings.len(), 18);
    assert_eq!(env.proxy.faults("ListObjectsV2"), 3);
    assert_eq!(env.proxy.faults("GetObject"), 4);
    assert_eq!(env.proxy.requests("GetObject"), 18 + 4);
    assert_eq!(env.proxy.requests("ListObjectsV2"), 5 + 18 + 3);
}

#[test]
fn a_listing_that_keeps_failing_is_named_and_the_rest_goes_on() {
    let env = Env::start();
    env.proxy.inject("ListObjectsV2", Fault::AccessDenied, 1);
    let filters = Filters {
        window: window("2024-08-04", "2024-08-04"),
        accounts: parse_accounts("111111111111,222222222222").unwrap(),
        regions: parse_regions("us-east-1").unwrap(),
    };
    let (outcome, said) = env.scan(&format!("s3://{BUCKET}/"), filters);
    // The first listing (AWSLogs/, to find the organization) is denied: nothing is below it.
    assert_eq!(
        said.errors(),
        [format!(
            "s3://{BUCKET}/AWSLogs/: cannot list: AccessDenied: injected access denied"
        )]
    );
    assert_eq!(outcome.totals.errors, 1);
    assert_eq!(outcome.findings.len(), 0);
}

#[test]
fn findings_equal_those_of_a_local_scan_of_the_same_files() {
    let env = Env::start();
    let dir = tempfile::tempdir().unwrap();
    write_local(dir.path(), &env.objects).unwrap();
    let said = Said::default();
    let local = iamwatch_scan::scan(
        &LocalFiles::new([dir.path().to_path_buf()]),
        &options(),
        &said,
    )
    .unwrap();
    let (remote, _) = env.scan(&format!("s3://{BUCKET}"), Filters::default());
    assert_eq!(local.findings.len(), 108);
    assert_eq!(
        serde_json::to_value(&remote.findings).unwrap(),
        serde_json::to_value(&local.findings).unwrap()
    );
    assert_eq!(remote.totals.stats, local.totals.stats);
    assert_eq!(remote.totals.bytes, local.totals.bytes);
}
