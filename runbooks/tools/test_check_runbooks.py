"""Tests of check_runbooks.py: it must catch what it claims to catch."""
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_runbooks as cr  # noqa: E402


def aws(cmd: str) -> list[str]:
    """Reasons for every aws command in a one-block markdown document."""
    text = f"```bash\n{textwrap.dedent(cmd).strip()}\n```\n"
    return [p.reason for p in cr.check_aws_commands(Path("x.md"), text)]


class AwsCommandTest(unittest.TestCase):
    def test_valid_commands_pass(self):
        self.assertEqual(aws("aws iam update-access-key --user-name <user-name> "
                             "--access-key-id $KEY --status Inactive"), [])
        self.assertEqual(aws("""
            aws sqs start-message-move-task \\
              --source-arn arn:aws:sqs:us-east-1:<account-id>:iamwatch-events-dlq \\
              --region us-east-1
        """), [])
        self.assertEqual(aws("aws iam create-login-profile --user-name u --password p "
                             "--no-password-reset-required"), [])
        self.assertEqual(aws("KEYS=$(aws iam list-access-keys --user-name u --query "
                             "'AccessKeyMetadata[].AccessKeyId' --output text)"), [])
        self.assertEqual(aws("aws s3 sync s3://bucket/AWSLogs/ ./ct/ --exclude '*' "
                             "--include '*.json.gz'"), [])

    def test_unknown_operation(self):
        reasons = aws("aws iam deactivate-access-key --user-name u --access-key-id k")
        self.assertEqual(len(reasons), 1)
        self.assertIn("unknown operation", reasons[0])

    def test_unknown_service(self):
        self.assertIn("unknown service", aws("aws iamx list-users")[0])

    def test_unknown_parameter(self):
        reasons = aws("aws iam update-access-key --user u --access-key-id k --status Inactive")
        self.assertTrue(any("unknown parameter --user" in r for r in reasons), reasons)

    def test_missing_required_parameter(self):
        reasons = aws("aws iam update-access-key --user-name u --status Inactive")
        self.assertEqual(reasons, ["aws iam update-access-key: missing required parameter "
                                   "--access-key-id"])
        self.assertEqual(aws("aws iam update-access-key --cli-input-json file://in.json"), [])

    def test_missing_value_and_stray_argument(self):
        self.assertIn("--user-name needs a value",
                      aws("aws iam get-login-profile --user-name")[0])
        self.assertIn("unexpected argument", aws("aws iam list-users extra")[0])

    def test_enum_and_json_and_shorthand(self):
        self.assertIn("not one of", aws("aws iam update-access-key --user-name u "
                                        "--access-key-id k --status Disabled")[0])
        reasons = aws("""aws securityhub get-findings --filters '{"GeneratorId": [{"Value": "x", "Comparison": "IS"}], "Nope": []}'""")
        self.assertTrue(any("'IS' is not one of" in r for r in reasons), reasons)
        self.assertTrue(any("unknown key 'Nope'" in r for r in reasons), reasons)
        self.assertIn("not valid JSON", aws("aws securityhub get-findings --filters '{bad'")[0])
        reasons = aws("aws securityhub batch-update-findings --finding-identifiers Id=x "
                      "--workflow State=RESOLVED")
        self.assertTrue(any("missing required key 'ProductArn'" in r for r in reasons), reasons)
        self.assertTrue(any("unknown key 'State'" in r for r in reasons), reasons)

    def test_line_continuation_reports_first_line(self):
        text = "intro\n\n```bash\naws iam update-access-key \\\n  --user-name u \\\n  --bogus x\n```\n"
        problems = cr.check_aws_commands(Path("x.md"), text)
        self.assertEqual({p.line for p in problems}, {4})

    def test_non_shell_block_with_command_is_flagged(self):
        text = "```text\naws iam list-users\n```\n"
        self.assertIn("not checked", cr.check_aws_commands(Path("x.md"), text)[0].reason)


class ScanArgvTest(unittest.TestCase):
    def test_paths_and_files_replaced(self):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            (repo / "examples").mkdir()
            (repo / "examples/policy.toml").write_text("")
            tokens = cr.simple_commands("iamwatch scan --policy my.toml --org org.json "
                                        "--fail-on HIGH ./ct/ ./more/ > out.jsonl")[0]
            self.assertEqual(cr.scan_argv(tokens, repo),
                             ["scan", "--policy", "examples/policy.toml",
                              "--fail-on", "HIGH", "events/"])


class ScanRunTest(unittest.TestCase):
    """check_scan_commands runs each documented command; exit 0 or 1 passes, anything else fails."""

    def run_with_status(self, status):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            (repo / "runbooks").mkdir()
            (repo / "events").mkdir()
            doc = repo / "runbooks/a.md"
            doc.write_text("# A\n\n```bash\niamwatch scan --format table ./ct/\n```\n")
            fake = repo / "iamwatch"
            fake.write_text(f"#!/bin/sh\necho \"$@\" > {repo}/argv\necho 'bad input' >&2\n"
                            f"exit {status}\n")
            fake.chmod(0o755)
            problems = cr.check_scan_commands({doc: doc.read_text()}, repo, fake)
            argv = (repo / "argv").read_text().strip()
            return [p.reason for p in problems], argv

    def test_exit_codes(self):
        reasons, argv = self.run_with_status(0)
        self.assertEqual((reasons, argv), ([], "scan --format table events/"))
        self.assertEqual(self.run_with_status(1)[0], [])
        reasons, _ = self.run_with_status(2)
        self.assertEqual(len(reasons), 1)
        self.assertIn("exited 2: bad input", reasons[0])


class RuleSetHelpers:
    def make_repo(self, rules, runbooks, readme_links):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        repo = Path(d.name)
        (repo / "crates/core/src/rules").mkdir(parents=True)
        (repo / "crates/core/src/rules/mod.rs").write_text("")
        for rid in rules:
            (repo / f"crates/core/src/rules/{rid.replace('-', '_')}.rs").write_text("")
        (repo / "runbooks").mkdir()
        for name, text in runbooks.items():
            (repo / "runbooks" / name).write_text(text)
        (repo / "runbooks/README.md").write_text(
            "# Runbooks\n\n" + "".join(f"- [{n}]({n})\n" for n in readme_links))
        return repo

    def rule_doc(self, rid, base):
        sections = "".join(f"## {s}\n\ntext\n\n" for s in cr.RULE_SECTIONS)
        factors = "".join(f"| `{f}` | {d} | x |\n" for f, d in cr.BUILTIN_FACTORS.items())
        sections = sections.replace("## How the score is made\n\ntext\n",
                                    "## How the score is made\n\n| factor | delta | meaning |\n"
                                    "|---|---|---|\n" + factors)
        return (f"# {rid}: title\n\n| field | value |\n|---|---|\n| Rule id | `{rid}` |\n"
                f"| Base score | {base} |\n\n{sections}")

    def reasons(self, repo):
        return [p.reason for p in cr.check_rules(repo, cr.load_runbooks(repo))]


class RuleSetTest(RuleSetHelpers, unittest.TestCase):
    def test_complete_set_passes(self):
        repo = self.make_repo(["iam-user-created"],
                              {"iam-user-created.md": self.rule_doc("iam-user-created", 40),
                               "ops-dlq.md": "# DLQ\n"},
                              ["iam-user-created.md", "ops-dlq.md"])
        self.assertEqual(self.reasons(repo), [])

    def test_missing_runbook_is_caught(self):
        repo = self.make_repo(["iam-user-created", "access-key-created"],
                              {"iam-user-created.md": self.rule_doc("iam-user-created", 40)},
                              ["iam-user-created.md"])
        reasons = self.reasons(repo)
        self.assertEqual(len(reasons), 1, reasons)
        self.assertIn("rule access-key-created", reasons[0])
        self.assertIn("has no runbook", reasons[0])

    def test_runbook_without_rule_and_unlinked_ops(self):
        repo = self.make_repo(["iam-user-created"],
                              {"iam-user-created.md": self.rule_doc("iam-user-created", 40),
                               "old-rule.md": self.rule_doc("old-rule", 10),
                               "ops-dlq.md": "# DLQ\n"},
                              ["iam-user-created.md", "old-rule.md"])
        reasons = self.reasons(repo)
        self.assertTrue(any("names no rule id that exists" in r for r in reasons), reasons)
        self.assertTrue(any("does not link ops-dlq.md" in r for r in reasons), reasons)

    def test_wrong_id_base_and_missing_section(self):
        doc = self.rule_doc("iam-user-created", 45).replace("`iam-user-created` |", "`x` |")
        doc = doc.replace("## Triage\n", "## Questions\n").replace("| `no-mfa` | +10", "| `no-mfa` | +5")
        repo = self.make_repo(["iam-user-created"], {"iam-user-created.md": doc},
                              ["iam-user-created.md"])
        reasons = self.reasons(repo)
        self.assertTrue(any("metadata names rule 'x'" in r for r in reasons), reasons)
        self.assertTrue(any("base score 45" in r for r in reasons), reasons)
        self.assertTrue(any("'## Triage' missing" in r for r in reasons), reasons)
        self.assertTrue(any("factor no-mfa has delta +5" in r for r in reasons), reasons)


class CoreMetaTest(RuleSetHelpers, unittest.TestCase):
    """Metadata must match the rule's RuleMeta in the Rust core."""

    def test_types_attack_and_base_from_core(self):
        doc = self.rule_doc("iam-user-created", 40).replace(
            "| Base score | 40 |",
            "| Base score | 40 |\n| ASFF `Types` | `TTPs/Persistence/Create Account` |\n"
            "| MITRE ATT&CK | [T1136.003](https://attack.mitre.org/techniques/T1136/003/) |")
        repo = self.make_repo(["iam-user-created"], {"iam-user-created.md": doc},
                              ["iam-user-created.md"])
        rs = repo / "crates/core/src/rules/iam_user_created.rs"
        rs.write_text('pub static META: RuleMeta = RuleMeta {\n    id: "iam-user-created",\n'
                      '    base: 40,\n    types: &["TTPs/Persistence/Create Account"],\n'
                      '    attack: &["T1136.003"],\n};\n')
        self.assertEqual(self.reasons(repo), [])
        rs.write_text(rs.read_text().replace("base: 40", "base: 45")
                      .replace('"T1136.003"', '"T1136"')
                      .replace('types: &["TTPs/Persistence/Create Account"]',
                               'types: &["TTPs/Persistence/Create Account", "Unusual Behaviors/User"]'))
        reasons = self.reasons(repo)
        self.assertTrue(any("base score 40, the rule's base is 45" in r for r in reasons), reasons)
        self.assertTrue(any("ASFF `Types` row lists" in r for r in reasons), reasons)
        self.assertTrue(any("does not name T1136 " in r for r in reasons), reasons)


class LinkTest(unittest.TestCase):
    def test_broken_file_and_anchor(self):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            (repo / "runbooks").mkdir()
            (repo / "runbooks/a.md").write_text("# A\n\n## Containment steps\n\n"
                                                "[ok](#containment-steps) [bad](#nope) "
                                                "[gone](b.md) [ext](https://example.com) "
                                                "`[code](x.md)`\n")
            files = cr.load_runbooks(repo)
            reasons = [p.reason for p in cr.check_links(repo, files)]
            self.assertEqual(len(reasons), 2, reasons)
            self.assertIn("no heading #nope", reasons[0])
            self.assertIn("no such file", reasons[1])


if __name__ == "__main__":
    unittest.main()
