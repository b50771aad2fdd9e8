//! Jira and Slack clients of iamwatch.
