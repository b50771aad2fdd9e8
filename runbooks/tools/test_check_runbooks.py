"""Tests of check_runbooks.py: it must catch what it claims to catch."""
import contextlib
import io
import json
import os
import sys
import tempfile
import textwrap
import unittest
from unittest import mock
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

    def test_inventory_check_paths_become_the_sample_reports(self):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            (repo / "events/inventory").mkdir(parents=True)
            for name in ("healthy.csv", "malformed.csv", "access-key-unused.csv"):
                (repo / "events/inventory" / name).write_text("")
            tokens = cr.simple_commands("iamwatch inventory check --org org.json "
                                        "--as-of <yyyy-mm-dd> --format csv report.csv")[0]
            self.assertEqual(cr.inventory_check_argv(tokens, repo),
                             ["inventory", "check", "--as-of", "2026-12-01",
                              "--format", "csv", "events/inventory/access-key-unused.csv",
                              "events/inventory/healthy.csv"])


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name):
    """The parsed JSON of fixtures/<name>.json: what `iamwatch rules` prints, as of the fixture."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fake_iamwatch(directory: Path, script: str) -> Path:
    """An executable `iamwatch` in `directory` that runs the shell `script`."""
    fake = directory / "iamwatch"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return fake


def fixture_iamwatch(directory: Path, rules: str = None, factors: str = None) -> Path:
    """A fake `iamwatch` that prints `rules` for `rules --format json` and `factors` for
    `rules --factors --format json` (default: the fixtures), and fails on anything else."""
    (directory / "rules.json").write_text(rules or (FIXTURES / "rules.json").read_text())
    (directory / "factors.json").write_text(factors or (FIXTURES / "factors.json").read_text())
    return fake_iamwatch(directory, textwrap.dedent(f"""\
        case "$*" in
          "rules --format json") cat {directory}/rules.json ;;
          "rules --factors --format json") cat {directory}/factors.json ;;
          *) echo "unexpected arguments: $*" >&2; exit 2 ;;
        esac
        """))


class ScanRunTest(unittest.TestCase):
    """check_scan_commands runs each documented command; exit 0 or 1 passes, anything else fails."""

    def run_with_status(self, status):
        with tempfile.TemporaryDirectory() as d:
            repo = Path(d)
            (repo / "runbooks").mkdir()
            (repo / "events").mkdir()
            doc = repo / "runbooks/a.md"
            doc.write_text("# A\n\n```bash\niamwatch scan --format table ./ct/\n```\n")
            fake = fake_iamwatch(repo, f"echo \"$@\" > {repo}/argv\necho 'bad input' >&2\n"
                                       f"exit {status}\n")
            with contextlib.redirect_stderr(io.StringIO()):
                problems = cr.check_scan_commands({doc: doc.read_text()},
                                                  cr.Iamwatch.locate(repo, fake))
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
    def make_repo(self, runbooks, readme_links, readme_extra=""):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        repo = Path(d.name)
        (repo / "runbooks").mkdir()
        for name, text in runbooks.items():
            (repo / "runbooks" / name).write_text(text)
        (repo / "runbooks/README.md").write_text(
            "# Runbooks\n\n" + "".join(f"- [{n}]({n})\n" for n in readme_links) + readme_extra)
        return repo

    def rule_set(self, *ids, change=None):
        """The fixture rule set cut down to `ids`; `change(rule)` edits a rule's object."""
        rules = [dict(r) for r in fixture("rules") if r["id"] in ids]
        self.assertEqual(sorted(r["id"] for r in rules), sorted(ids), "ids not in the fixture")
        for r in rules:
            if change:
                change(r)
        return cr.parse_rule_set(rules, fixture("factors"), "the fixture")

    def rule_doc(self, rid):
        """A runbook of `rid` that is right for the fixture."""
        rule = next(r for r in fixture("rules") if r["id"] == rid)
        sections = "".join(f"## {s}\n\ntext\n\n" for s in cr.RULE_SECTIONS)
        factors = "".join(f"| `{f['id']}` | {f['delta']:+d} | x |\n" for f in fixture("factors"))
        sections = sections.replace("## How the score is made\n\ntext\n",
                                    "## How the score is made\n\n| factor | delta | meaning |\n"
                                    "|---|---|---|\n" + factors)
        types = ", ".join(f"`{t}`" for t in rule["types"])
        attack = ", ".join(f"[{a} x](https://attack.mitre.org/techniques/{a.replace('.', '/')}/)"
                           for a in rule["attack"])
        archived = " or ".join(f"`{e}`" for e in rule["resolving_events"]) or "nothing"
        return (f"# {rid}: title\n\n| field | value |\n|---|---|\n| Rule id | `{rid}` |\n"
                f"| Base score | {rule['base']} (LOW before factors) |\n"
                f"| ASFF `Types` | {types} |\n| MITRE ATT&CK | {attack} |\n"
                f"| Archived by | {archived} of that user |\n\n{sections}")

    def reasons(self, repo, rule_set):
        return [p.reason for p in cr.check_rules(repo, cr.load_runbooks(repo), rule_set)]


class RuleSetTest(RuleSetHelpers, unittest.TestCase):
    def test_complete_set_passes(self):
        repo = self.make_repo({"iam-user-created.md": self.rule_doc("iam-user-created"),
                               "ops-dlq.md": "# DLQ\n",
                               "guide-iam-users-to-zero.md": "# Guide\n"},
                              ["iam-user-created.md", "ops-dlq.md", "guide-iam-users-to-zero.md"])
        self.assertEqual(self.reasons(repo, self.rule_set("iam-user-created")), [])

    def test_every_rule_of_the_fixture_passes(self):
        ids = [r["id"] for r in fixture("rules")]
        repo = self.make_repo({f"{rid}.md": self.rule_doc(rid) for rid in ids},
                              [f"{rid}.md" for rid in ids])
        self.assertEqual(self.reasons(repo, self.rule_set(*ids)), [])

    def test_missing_runbook_is_caught(self):
        repo = self.make_repo({"iam-user-created.md": self.rule_doc("iam-user-created")},
                              ["iam-user-created.md"])
        reasons = self.reasons(repo, self.rule_set("iam-user-created", "access-key-created"))
        self.assertEqual(len(reasons), 1, reasons)
        self.assertIn("rule access-key-created (the fixture) has no runbook", reasons[0])

    def test_runbook_without_rule_and_unlinked_ops(self):
        repo = self.make_repo({"iam-user-created.md": self.rule_doc("iam-user-created"),
                               "old-rule.md": self.rule_doc("access-key-created")
                               .replace("access-key-created", "old-rule"),
                               "ops-dlq.md": "# DLQ\n"},
                              ["iam-user-created.md", "old-rule.md"])
        reasons = self.reasons(repo, self.rule_set("iam-user-created"))
        self.assertEqual(len(reasons), 2, reasons)
        self.assertTrue(any("names no rule id that exists" in r for r in reasons), reasons)
        self.assertTrue(any("does not link ops-dlq.md" in r for r in reasons), reasons)

    def test_wrong_id_base_and_missing_section(self):
        doc = self.rule_doc("iam-user-created").replace("`iam-user-created` |", "`x` |")
        doc = doc.replace("| Base score | 40", "| Base score | 45")
        doc = doc.replace("## Triage\n", "## Questions\n").replace("| `no-mfa` | +10",
                                                                   "| `no-mfa` | +5")
        repo = self.make_repo({"iam-user-created.md": doc}, ["iam-user-created.md"])
        reasons = self.reasons(repo, self.rule_set("iam-user-created"))
        self.assertEqual(len(reasons), 4, reasons)
        self.assertTrue(any("metadata names rule 'x'" in r for r in reasons), reasons)
        self.assertTrue(any("base score 45, the rule's base is 40" in r for r in reasons),
                        reasons)
        self.assertTrue(any("'## Triage' missing" in r for r in reasons), reasons)
        self.assertTrue(any("factor no-mfa has delta +5, the factor's delta is +10" in r
                            for r in reasons), reasons)

    def test_factors_missing_unknown_and_negative(self):
        doc = self.rule_doc("iam-user-created")
        doc = doc.replace("| `critical-account` | +15 | x |\n", "")
        doc = doc.replace("| `trusted-service` | -20", "| `trusted-service` | −25")
        doc = doc.replace("| `no-mfa` |", "| `old-factor` | +5 | x |\n| `no-mfa` |")
        repo = self.make_repo({"iam-user-created.md": doc}, ["iam-user-created.md"])
        reasons = self.reasons(repo, self.rule_set("iam-user-created"))
        self.assertEqual(sorted(reasons), sorted([
            "score section does not list factor critical-account",
            "factor trusted-service has delta −25, the factor's delta is -20",
            "score section lists factor old-factor, which iamwatch does not have",
        ]))
        # The minus sign U+2212 is read as '-'.
        doc = self.rule_doc("iam-user-created").replace("| -30 |", "| −30 |")
        repo = self.make_repo({"iam-user-created.md": doc}, ["iam-user-created.md"])
        self.assertEqual(self.reasons(repo, self.rule_set("iam-user-created")), [])

    def test_readme_base_scores(self):
        table = ("\n| rule id | base score |\n| --- | --- |\n"
                 "| `iam-user-created` | 40 |\n| `access-key-created` | 35 |\n")
        repo = self.make_repo({"iam-user-created.md": self.rule_doc("iam-user-created"),
                               "access-key-created.md": self.rule_doc("access-key-created")},
                              ["iam-user-created.md", "access-key-created.md"], table)
        reasons = self.reasons(repo, self.rule_set("iam-user-created", "access-key-created"))
        self.assertEqual(reasons, ["access-key-created has base score 35, the rule's base is 30"])


class RuleMetaTest(RuleSetHelpers, unittest.TestCase):
    """Metadata must match the rule as `iamwatch rules --format json` lists it."""

    def test_types_attack_and_base(self):
        repo = self.make_repo({"iam-user-created.md": self.rule_doc("iam-user-created")},
                              ["iam-user-created.md"])
        self.assertEqual(self.reasons(repo, self.rule_set("iam-user-created")), [])

        def change(rule):
            rule["base"] = 45
            rule["attack"] = ["T1136"]
            rule["types"] = ["TTPs/Persistence/Create Account", "Unusual Behaviors/User"]
        reasons = self.reasons(repo, self.rule_set("iam-user-created", change=change))
        self.assertEqual(len(reasons), 3, reasons)
        self.assertTrue(any("base score 40, the rule's base is 45" in r for r in reasons), reasons)
        self.assertTrue(any("ASFF `Types` row lists ['TTPs/Persistence/Create Account'], the "
                            "rule's types are" in r for r in reasons), reasons)
        self.assertTrue(any("does not name T1136 " in r for r in reasons), reasons)

    def test_archived_by_names_only_resolving_events(self):
        doc = self.rule_doc("access-key-created").replace(
            "| Archived by |", "| Archived by | `DeleteLoginProfile`, `UpdateAccessKey --status "
                               "Inactive`,")
        repo = self.make_repo({"access-key-created.md": doc}, ["access-key-created.md"])
        reasons = self.reasons(repo, self.rule_set("access-key-created"))
        self.assertEqual(len(reasons), 1, reasons)
        self.assertIn("Archived by row names DeleteLoginProfile, which is not among the rule's "
                      "resolving events", reasons[0])


class ParseRuleSetTest(unittest.TestCase):
    """What iamwatch prints must have the fields the checker reads, or nothing is checked."""

    def test_fixture_parses(self):
        rs = cr.parse_rule_set(fixture("rules"), fixture("factors"))
        self.assertEqual(len(rs.rules), 11)
        self.assertEqual(rs.rules["root-access-key-created"]["base"], 90)
        self.assertEqual(rs.factors["trusted-principal"], -30)

    def test_bad_shapes_are_errors(self):
        rules, factors = fixture("rules"), fixture("factors")
        cases = [
            ({"rules": []}, factors, "expected a non-empty JSON array"),
            ([{**rules[0], "base": "40"}], factors, "field 'base' must be int, got '40'"),
            ([{**rules[0], "types": "x"}], factors, "field 'types' must be a list of strings"),
            ([{k: v for k, v in rules[0].items() if k != "attack"}], factors,
             "(iam-user-created): field 'attack' must be a list of strings, got None"),
            ([rules[0], rules[0]], factors, "id 'iam-user-created' listed twice"),
            (rules, [{"id": "actor-root", "delta": True}], "field 'delta' must be int"),
            (rules, ["actor-root"], "expected an object"),
        ]
        for r, f, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(cr.BinaryError) as e:
                    cr.parse_rule_set(r, f)
                self.assertIn(message, str(e.exception))


class BinaryTest(unittest.TestCase):
    """The checker asks the iamwatch binary for the rules, and stops when it cannot."""

    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = Path(d.name)

    def test_rule_set_from_the_binary(self):
        rs = cr.load_rule_set(cr.Iamwatch.locate(self.dir, fixture_iamwatch(self.dir)))
        self.assertEqual(set(rs.rules), {r["id"] for r in fixture("rules")})
        self.assertEqual(rs.factors["actor-root"], 30)

    def test_iamwatch_bin_is_used(self):
        fake = fixture_iamwatch(self.dir)
        with mock.patch.dict(os.environ, {"IAMWATCH_BIN": str(fake)}):
            self.assertEqual(cr.Iamwatch.locate(self.dir).command, [str(fake.resolve())])
        with mock.patch.dict(os.environ, {"IAMWATCH_BIN": ""}):
            self.assertEqual(cr.Iamwatch.locate(self.dir).command, cr.CARGO_RUN)

    def test_missing_binary_is_an_error(self):
        with mock.patch.dict(os.environ, {"IAMWATCH_BIN": str(self.dir / "nope")}):
            with self.assertRaises(cr.BinaryError) as e:
                cr.Iamwatch.locate(self.dir)
        self.assertIn("nope (--iamwatch or IAMWATCH_BIN) does not exist", str(e.exception))
        iamwatch = cr.Iamwatch([str(self.dir / "not-a-program")], self.dir)
        with self.assertRaises(cr.BinaryError) as e:
            cr.load_rule_set(iamwatch)
        self.assertIn("cannot run", str(e.exception))

    def test_failing_or_garbled_binary_is_an_error(self):
        fake = fake_iamwatch(self.dir, "echo 'error: unexpected argument --format' >&2\nexit 2\n")
        with self.assertRaises(cr.BinaryError) as e:
            cr.load_rule_set(cr.Iamwatch.locate(self.dir, fake))
        self.assertIn("`iamwatch rules --format json`", str(e.exception))
        self.assertIn("exited 2: error: unexpected argument --format", str(e.exception))
        fake = fixture_iamwatch(self.dir, rules="RULES (score = base + factors)\n")
        with self.assertRaises(cr.BinaryError) as e:
            cr.load_rule_set(cr.Iamwatch.locate(self.dir, fake))
        self.assertIn("did not print JSON", str(e.exception))

    def test_main_exits_2_without_checking(self):
        (self.dir / "runbooks").mkdir()
        fake = fake_iamwatch(self.dir, "exit 101\n")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = cr.main(["--repo", str(self.dir), "--iamwatch", str(fake),
                              "--only", "rules"])
        self.assertEqual(status, 2)
        self.assertIn("exited 101", err.getvalue())
        self.assertIn("the runbooks were not checked", err.getvalue())

    def test_main_checks_against_the_binary(self):
        (self.dir / "runbooks").mkdir()
        (self.dir / "runbooks/README.md").write_text("# Runbooks\n")
        fake = fixture_iamwatch(self.dir)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cr.main(["--repo", str(self.dir), "--iamwatch", str(fake),
                              "--only", "rules"])
        self.assertEqual(status, 1)
        missing = [line for line in out.getvalue().splitlines() if "has no runbook" in line]
        self.assertEqual(len(missing), len(fixture("rules")), out.getvalue())


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
