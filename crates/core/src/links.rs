//! Every link a finding, ticket or message carries, made in one place: the rule's runbook (under
//! the base URL the operator gave, or its path in the project when none is given) and the AWS
//! console pages of the user, its keys, a role and the finding in Security Hub, in the console of
//! the finding's partition.

/// The runbook of a rule as a path in the project: `runbooks/<rule-id>.md`.
pub fn runbook_path(rule_id: &str) -> String {
    format!("runbooks/{rule_id}.md")
}

/// The runbook of a rule under `base` (`<base>/<rule-id>.md`); `None` without a base URL: no
/// link is made up.
pub fn runbook_url(base: Option<&str>, rule_id: &str) -> Option<String> {
    let base = base.map(str::trim).filter(|b| !b.is_empty())?;
    Some(format!("{}/{rule_id}.md", base.trim_end_matches('/')))
}

/// The console's host for a partition's global pages (IAM), and the suffix of its regional ones.
fn console(partition: &str) -> (&'static str, &'static str) {
    match partition {
        "aws-us-gov" => (
            "console.amazonaws-us-gov.com",
            "console.amazonaws-us-gov.com",
        ),
        "aws-cn" => ("console.amazonaws.cn", "console.amazonaws.cn"),
        _ => ("console.aws.amazon.com", "console.aws.amazon.com"),
    }
}

/// Percent-encodes a URL component (RFC 3986 unreserved characters stay).
fn enc(s: &str) -> String {
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// The IAM console page of a user.
pub fn iam_user(partition: &str, user: &str) -> String {
    format!(
        "https://{}/iam/home#/users/details/{}",
        console(partition).0,
        enc(user)
    )
}

/// The IAM console page of a user's access keys and other credentials.
pub fn iam_user_credentials(partition: &str, user: &str) -> String {
    format!("{}?section=security_credentials", iam_user(partition, user))
}

/// The IAM console page of a role.
pub fn iam_role(partition: &str, role: &str) -> String {
    format!(
        "https://{}/iam/home#/roles/details/{}",
        console(partition).0,
        enc(role)
    )
}

/// The Security Hub console's findings page filtered to one finding id, in `region`.
pub fn securityhub_finding(partition: &str, region: &str, finding_id: &str) -> String {
    // The console's search filter is itself URL-encoded inside the fragment: `Id=\operator\:EQUALS\:<id>`.
    let filter = format!("Id={}", enc(&format!("\\operator\\:EQUALS\\:{finding_id}")));
    format!(
        "https://{region}.{}/securityhub/home?region={region}#/findings?search={}",
        console(partition).1,
        enc(&filter)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbooks_link_only_under_a_given_base() {
        assert_eq!(runbook_url(None, "iam-user-created"), None);
        assert_eq!(runbook_url(Some("  "), "iam-user-created"), None);
        assert_eq!(
            runbook_url(Some("https://wiki.example/runbooks/"), "iam-user-created").as_deref(),
            Some("https://wiki.example/runbooks/iam-user-created.md")
        );
        assert_eq!(
            runbook_path("iam-user-created"),
            "runbooks/iam-user-created.md"
        );
    }

    /// Every rule's runbook path names a file of the project.
    #[test]
    fn every_rule_has_its_runbook() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for id in crate::rules::ids() {
            assert!(root.join(runbook_path(id)).is_file(), "{id}: no runbook");
        }
    }

    /// Console links follow the console's URL forms in each partition.
    #[test]
    fn console_links_per_partition() {
        assert_eq!(
            iam_user("aws", "alice"),
            "https://console.aws.amazon.com/iam/home#/users/details/alice"
        );
        assert_eq!(
            iam_user_credentials("aws-us-gov", "svc+ci@x"),
            "https://console.amazonaws-us-gov.com/iam/home#/users/details/svc%2Bci%40x?section=security_credentials"
        );
        assert_eq!(
            iam_role("aws-cn", "deploy"),
            "https://console.amazonaws.cn/iam/home#/roles/details/deploy"
        );
        let url = securityhub_finding(
            "aws",
            "eu-west-1",
            "iamwatch/111122223333/iam-user-created/bob",
        );
        assert!(
            url.starts_with("https://eu-west-1.console.aws.amazon.com/securityhub/home?region=eu-west-1#/findings?search=Id%3D"),
            "{url}"
        );
        // Nothing of the id is left unencoded in the fragment: no raw '/' or ':'.
        let fragment = url.split_once('#').unwrap().1;
        assert!(
            !fragment
                .trim_start_matches("/findings?search=")
                .contains(['/', ':']),
            "{url}"
        );
        assert!(url.contains("iamwatch%252F111122223333"), "{url}");
    }
}
