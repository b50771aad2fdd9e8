"""Lints policy documents with parliament (pinned in scripts/requirements-test.txt).

Usage: python3 lint_policies.py FILE...  (each file one policy document, JSON)

Each document is linted twice: as written (unknown actions, malformed statements, condition
keys and operators), and with every Deny turned into an Allow, because parliament checks an
action's resource formats only in Allow statements: a Deny whose resource an action cannot
match would silently deny nothing. In that second pass, the findings about what an Allow would
grant (the very calls an SCP exists to deny) are not errors.
Prints a JSON list of the findings that are errors; exits 1 if there is any.
"""
import json
import sys

from parliament import analyze_policy_string

# What an Allow of these calls would grant: the point of a Deny, not a mistake in it.
GRANT_RISKS = {"PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION", "CREDENTIALS_EXPOSURE", "RESOURCE_STAR"}

errors = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    for finding in analyze_policy_string(text, include_community_auditors=True).findings:
        errors.append({"file": path, "pass": "as written", "issue": finding.issue, "detail": str(finding.detail)})
    doc = json.loads(text)
    for statement in doc["Statement"]:
        statement["Effect"] = "Allow"
    for finding in analyze_policy_string(json.dumps(doc), include_community_auditors=True).findings:
        if finding.issue not in GRANT_RISKS:
            errors.append({"file": path, "pass": "as Allow", "issue": finding.issue, "detail": str(finding.detail)})
print(json.dumps(errors, indent=1))
sys.exit(1 if errors else 0)
