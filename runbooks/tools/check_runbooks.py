#!/usr/bin/env python3
"""Checks of the runbooks in runbooks/.

Run from anywhere: `python3 runbooks/tools/check_runbooks.py` (see runbooks/check.sh).
Every problem is printed as `path:line: reason`; the exit status is 1 when there is any.

Checks:
  rules   the rule runbooks are exactly the rule ids that `iamwatch rules --format json` lists;
          each names its id, has the template's sections, every factor of
          `iamwatch rules --factors --format json` with its delta (and no other), the rule's
          base score, ASFF Types and ATT&CK ids, and only resolving events of the rule in its
          "Archived by" row; README.md links every rule runbook and ops-*.md, and its table's
          base scores are the rules' ones.
  aws     every `aws ...` command in a fenced shell block names an operation of botocore's
          service model, only parameters of its input shape (or global CLI options), every
          required parameter, valid JSON / shorthand keys and enum values where literal.
  scan    every `iamwatch scan ...` command runs against events/, every
          `iamwatch inventory check ...` against the sample reports of events/inventory/
          (exit 0 or 1).
  links   relative links resolve to files in the repository, anchors to headings.
  lint    pymarkdown (config runbooks/.pymarkdown.json) reports nothing.

iamwatch is the binary named by --iamwatch or $IAMWATCH_BIN, else `cargo run -p iamwatch-cli` in
the repository. When it cannot be run or prints what the checker does not understand, nothing is
checked and the exit status is 2.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The sections of the rule runbook template, in order.
RULE_SECTIONS = [
    "What it means",
    "Why it matters",
    "How the score is made",
    "Triage",
    "Evidence",
    "Containment",
    "Eradication and recovery",
    "False positive: close or suppress",
    "References",
]

# Global AWS CLI options: name -> takes a value.
AWS_GLOBAL_OPTIONS = {
    "region": True, "profile": True, "output": True, "query": True, "endpoint-url": True,
    "color": True, "ca-bundle": True, "cli-read-timeout": True, "cli-connect-timeout": True,
    "cli-binary-format": True, "cli-input-json": True, "cli-input-yaml": True,
    "max-items": True, "starting-token": True, "page-size": True,
    "debug": False, "no-verify-ssl": False, "no-paginate": False, "no-sign-request": False,
    "no-cli-pager": False, "cli-auto-prompt": False, "no-cli-auto-prompt": False,
    "generate-cli-skeleton": False,
}
# CLI command names that differ from botocore service names.
CLI_SERVICE_NAMES = {"s3api": "s3", "configservice": "config"}
# High-level CLI commands that are not in the service models: (service, command) -> options
# (name -> takes a value). Positional arguments are allowed for these.
AWS_CUSTOM_COMMANDS = {
    ("s3", "ls"): {"recursive": False, "human-readable": False, "summarize": False},
    ("s3", "cp"): {"recursive": False, "exclude": True, "include": True, "quiet": False,
                   "only-show-errors": False},
    ("s3", "sync"): {"exclude": True, "include": True, "exact-timestamps": False,
                     "quiet": False, "only-show-errors": False, "size-only": False},
}
SHELL_LANGS = {"", "bash", "sh", "shell", "console", "zsh"}
SEPARATORS = {"|", "||", "&&", ";", "(", ")", "&"}


@dataclass
class Problem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        try:
            rel = self.path.resolve().relative_to(REPO)
        except ValueError:
            rel = self.path
        return f"{rel}:{self.line}: {self.reason}"


# --------------------------------------------------------------------------- markdown parsing

@dataclass
class Block:
    start: int          # line number of the opening fence
    lang: str
    lines: list         # [(line number, text)]


def fenced_blocks(text: str) -> list[Block]:
    blocks, cur, fence = [], None, ""
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if cur is None:
            m = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if m:
                fence = m.group(1)
                cur = Block(n, m.group(2).lower(), [])
        elif stripped.startswith(fence) and stripped.strip("`~") == "":
            blocks.append(cur)
            cur = None
        else:
            cur.lines.append((n, line))
    return blocks


def prose_lines(text: str):
    """(line number, text) of lines outside fenced code blocks."""
    inside, fence = False, ""
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not inside:
            m = re.match(r"^(`{3,}|~{3,})", s)
            if m:
                inside, fence = True, m.group(1)
                continue
            yield n, line
        elif s.startswith(fence) and s.strip("`~") == "":
            inside = False


def slugify(heading: str) -> str:
    """GitHub's anchor for a heading."""
    h = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links -> their text
    h = h.strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line, level, title) of ATX headings outside code blocks."""
    out = []
    for n, line in prose_lines(text):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            out.append((n, len(m.group(1)), m.group(2)))
    return out


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, _, title in headings(text):
        slug = slugify(title)
        if slug in seen:
            seen[slug] += 1
            out.add(f"{slug}-{seen[slug]}")
        else:
            seen[slug] = 0
            out.add(slug)
    return out


# --------------------------------------------------------------------------- shell parsing

def logical_commands(block: Block):
    """Join backslash continuations and skip heredoc bodies: yields (line, command text)."""
    out, buf, start, heredoc = [], "", 0, None
    for n, line in block.lines:
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        if not buf:
            start = n
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", buf)
        if m:
            heredoc = m.group(1)
        text = buf.strip()
        if text.startswith("$ "):  # a prompt
            text = text[2:]
        if text:
            out.append((start, text))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def simple_commands(command: str) -> list[list[str]]:
    """Split a shell command line into simple commands (token lists), dropping redirections and
    leading VAR=value assignments. Raises ValueError on unbalanced quotes."""
    lex = shlex.shlex(command, posix=True, punctuation_chars="|;()&")
    lex.whitespace_split = True
    tokens = list(lex)
    segments, cur = [], []
    for tok in tokens:
        if tok in SEPARATORS or set(tok) <= set("|;()&"):
            segments.append(cur)
            cur = []
        else:
            cur.append(tok)
    segments.append(cur)
    result = []
    for seg in segments:
        cleaned, skip = [], False
        for tok in seg:
            if skip:
                skip = False
                continue
            if re.fullmatch(r"\d*>>?|<", tok):
                skip = True       # redirection, its target is the next token
                continue
            if re.fullmatch(r"\d*>>?\S+", tok) or tok in ("2>", ">"):
                continue          # redirection with its target attached
            cleaned.append(tok)
        while cleaned and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", cleaned[0]):
            cleaned.pop(0)
        if cleaned and cleaned[-1] == "$":
            cleaned.pop()
        while cleaned and cleaned[0] in ("sudo", "time", "exec", "!"):
            cleaned.pop(0)
        if cleaned:
            result.append(cleaned)
    return result


def shell_commands(text: str):
    """Yields (line, block language, simple command tokens, error) for every fenced block."""
    for block in fenced_blocks(text):
        if block.lang not in SHELL_LANGS:
            for n, line in block.lines:
                if re.match(r"^\s*(\$ )?(aws|iamwatch) ", line):
                    yield n, block.lang, None, (
                        f"command in a ```{block.lang} block is not checked; use ```bash")
            continue
        for n, cmd in logical_commands(block):
            try:
                for tokens in simple_commands(cmd):
                    yield n, block.lang, tokens, None
            except ValueError as e:
                if re.search(r"\b(aws|iamwatch)\b", cmd):
                    yield n, block.lang, None, f"cannot parse shell command ({e}): {cmd[:60]}"


# --------------------------------------------------------------------------- AWS CLI check

_SESSION = None


def botocore_session():
    global _SESSION
    if _SESSION is None:
        import botocore.session
        _SESSION = botocore.session.get_session()
    return _SESSION


def is_placeholder(value: str) -> bool:
    return bool(re.search(r"<[^>]+>|\$\{?\w+|\.\.\.", value))


def kebab(name: str) -> str:
    from botocore import xform_name
    return xform_name(name, "-")


def _split_top(value: str, sep: str) -> list[str]:
    """Split shorthand on sep outside brackets, braces and quotes."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return parts


def check_enum(shape, value, where: str) -> list[str]:
    enum = getattr(shape, "enum", None) or []
    if enum and isinstance(value, str) and not is_placeholder(value) and value not in enum:
        return [f"{where}: {value!r} is not one of {', '.join(enum)}"]
    return []


def check_json_value(shape, value, where: str) -> list[str]:
    """Validate a parsed JSON value against a botocore shape: member names, required members,
    enum values."""
    errors = []
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object for {shape.name}"]
        for key, sub in value.items():
            if key not in shape.members:
                close = difflib.get_close_matches(key, list(shape.members), 1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                errors.append(f"{where}: unknown key {key!r} in {shape.name}{hint}")
            else:
                errors += check_json_value(shape.members[key], sub, f"{where}.{key}")
        for req in shape.required_members:
            if req not in value:
                errors.append(f"{where}: missing required key {req!r} of {shape.name}")
    elif shape.type_name == "list":
        if isinstance(value, list):
            for i, item in enumerate(value):
                errors += check_json_value(shape.member, item, f"{where}[{i}]")
        else:
            errors.append(f"{where}: expected a list for {shape.name}")
    elif shape.type_name == "map":
        if isinstance(value, dict):
            for key, sub in value.items():
                errors += check_json_value(shape.value, sub, f"{where}.{key}")
        else:
            errors.append(f"{where}: expected an object for {shape.name}")
    elif shape.type_name == "string":
        errors += check_enum(shape, value, where)
    return errors


def check_shorthand(shape, value: str, where: str) -> list[str]:
    """Validate the keys of CLI shorthand syntax (Key=Value,Key2=[a,b]) for structures."""
    target = shape.member if shape.type_name == "list" else shape
    if target.type_name != "structure" or "=" not in value:
        return []
    errors, keys = [], set()
    for part in _split_top(value, ","):
        m = re.match(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*=(.*)$", part, re.S)
        if not m:
            continue  # continuation of a list value (a,b,c)
        key, raw = m.group(1), m.group(2).strip().strip("\"'")
        keys.add(key)
        if key not in target.members:
            close = difflib.get_close_matches(key, list(target.members), 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(f"{where}: unknown key {key!r} in {target.name}{hint}")
        else:
            errors += check_enum(target.members[key], raw, f"{where}.{key}")
    for req in target.required_members:
        if req not in keys:
            errors.append(f"{where}: missing required key {req!r} of {target.name}")
    return errors


def check_value(shape, values: list[str], where: str) -> list[str]:
    errors = []
    for value in values:
        if value.startswith(("file://", "fileb://")) or not value:
            continue
        if shape.type_name in ("structure", "list", "map") and value.lstrip()[:1] in "{[":
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: value is not valid JSON ({e.msg} at char {e.pos})")
                continue
            if shape.type_name == "list" and not isinstance(parsed, list):
                parsed = [parsed]
            errors += check_json_value(shape, parsed, where)
        elif shape.type_name in ("structure", "list"):
            errors += check_shorthand(shape, value, where)
        elif shape.type_name == "string":
            errors += check_enum(shape, value, where)
    return errors


def check_aws_command(tokens: list[str]) -> list[str]:
    """Validate one `aws ...` command (tokens[0] == 'aws') against botocore. Returns reasons."""
    from botocore.exceptions import UnknownServiceError
    i = 1
    while i < len(tokens) and tokens[i].startswith("--"):
        name = tokens[i][2:].split("=", 1)[0]
        if name not in AWS_GLOBAL_OPTIONS:
            return [f"unknown global option --{name}"]
        i += 2 if AWS_GLOBAL_OPTIONS[name] and "=" not in tokens[i] else 1
    if i + 1 >= len(tokens):
        return [f"incomplete command: {' '.join(tokens)}"]
    cli_service, op = tokens[i], tokens[i + 1]
    rest = tokens[i + 2:]
    label = f"aws {cli_service} {op}"
    service = CLI_SERVICE_NAMES.get(cli_service, cli_service)
    if cli_service != "s3api" and (cli_service, op) in AWS_CUSTOM_COMMANDS:
        return check_custom(label, AWS_CUSTOM_COMMANDS[(cli_service, op)], rest)
    if cli_service == "s3":
        return [f"{label}: unknown s3 command (for API operations use `aws s3api`)"]
    try:
        model = botocore_session().get_service_model(service)
    except UnknownServiceError:
        return [f"aws {cli_service}: unknown service"]
    ops = {kebab(name): name for name in model.operation_names}
    if op not in ops:
        close = difflib.get_close_matches(op, list(ops), 1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return [f"{label}: unknown operation of {service}{hint}"]
    op_model = model.operation_model(ops[op])
    shape = op_model.input_shape
    members = {kebab(m): (m, s) for m, s in shape.members.items()} if shape else {}
    errors, seen, values = [], set(), {}
    current = None
    for tok in rest:
        if tok.startswith("--"):
            name, _, attached = tok[2:].partition("=")
            current = None
            if name in AWS_GLOBAL_OPTIONS:
                seen.add(name)
                if AWS_GLOBAL_OPTIONS[name] and not attached:
                    current = name
                    values[name] = []
                continue
            if name in members:
                seen.add(name)
                if members[name][1].type_name == "boolean":
                    continue
                current = name
                values[name] = [attached] if attached else []
                continue
            if name.startswith("no-") and name[3:] in members and \
                    members[name[3:]][1].type_name == "boolean":
                seen.add(name[3:])
                continue
            close = difflib.get_close_matches(name, list(members), 1)
            hint = f" (did you mean --{close[0]}?)" if close else ""
            errors.append(f"{label}: unknown parameter --{name}{hint}")
            current = "?"
        elif current is None:
            errors.append(f"{label}: unexpected argument {tok!r}")
        elif current != "?":
            values.setdefault(current, []).append(tok)
            if current in AWS_GLOBAL_OPTIONS:
                current = None
    for name, vals in values.items():
        if name in members:
            if not vals:
                errors.append(f"{label}: --{name} needs a value")
            else:
                errors += check_value(members[name][1], vals, f"{label} --{name}")
        elif name in AWS_GLOBAL_OPTIONS and not vals:
            errors.append(f"{label}: --{name} needs a value")
    if shape and "cli-input-json" not in seen and "cli-input-yaml" not in seen:
        for req in shape.required_members:
            if kebab(req) not in seen:
                errors.append(f"{label}: missing required parameter --{kebab(req)}")
    return errors


def check_custom(label: str, options: dict, rest: list[str]) -> list[str]:
    errors, skip = [], False
    for tok in rest:
        if skip:
            skip = False
            continue
        if tok.startswith("--"):
            name = tok[2:].split("=", 1)[0]
            if name in options:
                skip = options[name] and "=" not in tok
            elif name in AWS_GLOBAL_OPTIONS:
                skip = AWS_GLOBAL_OPTIONS[name] and "=" not in tok
            else:
                errors.append(f"{label}: unknown option --{name}")
    return errors


def check_aws_commands(path: Path, text: str) -> list[Problem]:
    problems = []
    for line, _lang, tokens, error in shell_commands(text):
        if error:
            if "aws" in error or "```" in error:
                problems.append(Problem(path, line, error))
            continue
        if tokens[0] == "aws":
            problems += [Problem(path, line, r) for r in check_aws_command(tokens)]
    return problems


# --------------------------------------------------------------------------- the iamwatch binary

# How to run iamwatch when IAMWATCH_BIN is not set: build and run it from the repository.
CARGO_RUN = ["cargo", "run", "--quiet", "--locked", "-p", "iamwatch-cli", "--"]


class BinaryError(Exception):
    """iamwatch could not be run, or printed what the checker does not understand."""


@dataclass
class Iamwatch:
    """How to run iamwatch: `command` followed by iamwatch's own arguments, in `repo`."""
    command: list
    repo: Path

    @classmethod
    def locate(cls, repo: Path, binary: Path | None = None) -> "Iamwatch":
        """`binary` if given, else $IAMWATCH_BIN, else `cargo run` in the repository."""
        if binary is None and os.environ.get("IAMWATCH_BIN"):
            binary = Path(os.environ["IAMWATCH_BIN"])
        if binary is None:
            return cls(list(CARGO_RUN), repo)
        if not binary.is_file():
            raise BinaryError(f"iamwatch binary {binary} (--iamwatch or IAMWATCH_BIN) does not "
                              "exist; build it with `cargo build --locked -p iamwatch-cli`")
        return cls([str(binary.resolve())], repo)

    def show(self, args: list[str]) -> str:
        return "`" + " ".join(["iamwatch"] + args) + "`"

    def run(self, args: list[str]) -> subprocess.CompletedProcess:
        """Runs iamwatch with `args`; raises BinaryError when it cannot be started."""
        try:
            return subprocess.run(self.command + args, cwd=self.repo, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=600,
                                  env={**os.environ, "NO_COLOR": "1"})
        except OSError as e:
            raise BinaryError(f"cannot run {' '.join(self.command)}: {e}") from e

    def json(self, args: list[str]):
        """What iamwatch prints for `args`, parsed as JSON; raises BinaryError when it fails."""
        try:
            proc = self.run(args)
        except subprocess.TimeoutExpired as e:
            raise BinaryError(f"{self.show(args)} timed out") from e
        if proc.returncode != 0:
            err = " | ".join([ln for ln in proc.stderr.splitlines() if ln.strip()][-5:])
            raise BinaryError(f"{self.show(args)} ({' '.join(self.command)}) exited "
                              f"{proc.returncode}: {err}")
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            raise BinaryError(f"{self.show(args)} did not print JSON ({e.msg} at line "
                              f"{e.lineno}): {proc.stdout[:80]!r}") from e


# --------------------------------------------------------------------------- iamwatch scan

SCAN_VALUE_OPTIONS = {"--policy", "--org", "--format", "--min-severity", "--fail-on"}


def documented_argv(tokens: list[str], repo: Path, command: list[str], value_options: set[str],
                    sample_paths, value_for=lambda _name, value: value) -> list[str]:
    """The argv to run for a documented `iamwatch <command>` command: paths -> `sample_paths()`,
    --policy and --org files -> the examples in examples/ (dropped when there is no example), the
    value of another option of `value_options` through `value_for(name, value)`."""
    examples = {"--policy": repo / "examples/policy.toml",
                "--org": repo / "examples/org.json"}
    argv, paths, i = list(command), False, 1 + len(command)
    while i < len(tokens):
        tok = tokens[i]
        name, eq, attached = tok.partition("=")
        if name in value_options:
            value = attached if eq else (tokens[i + 1] if i + 1 < len(tokens) else "")
            i += 1 if eq else 2
            if name in examples:
                if examples[name].is_file():
                    argv += [name, str(examples[name].relative_to(repo))]
            else:
                argv += [name, value_for(name, value)]
        elif tok.startswith("-"):
            argv.append(tok)  # unknown to us: let the CLI judge it
            i += 1
        else:
            paths = True
            i += 1
    if paths:
        argv += sample_paths()
    return argv


def scan_argv(tokens: list[str], repo: Path) -> list[str]:
    """The argv to run for a documented `iamwatch scan` command: paths -> events/, --policy and
    --org files -> the examples in examples/ (dropped when there is no example)."""
    return documented_argv(tokens, repo, ["scan"], SCAN_VALUE_OPTIONS, lambda: ["events/"])


INVENTORY_VALUE_OPTIONS = SCAN_VALUE_OPTIONS | {"--as-of"}


def inventory_check_argv(tokens: list[str], repo: Path) -> list[str]:
    """The argv to run for a documented `iamwatch inventory check` command: paths -> the sample
    reports of events/inventory/ (but the malformed one), --policy and --org files -> the
    examples, --as-of -> a fixed day when it is a placeholder."""
    def sample_reports() -> list[str]:
        return sorted(str(p.relative_to(repo)) for p in (repo / "events/inventory").glob("*.csv")
                      if p.name != "malformed.csv")

    def value_for(name: str, value: str) -> str:
        return "2026-12-01" if name == "--as-of" and is_placeholder(value) else value

    return documented_argv(tokens, repo, ["inventory", "check"], INVENTORY_VALUE_OPTIONS,
                           sample_reports, value_for)


def check_scan_commands(files: dict, iamwatch: Iamwatch) -> list[Problem]:
    problems, commands = [], []
    for path, text in files.items():
        for line, _lang, tokens, error in shell_commands(text):
            if error and "iamwatch" in error:
                problems.append(Problem(path, line, error))
            elif tokens and tokens[0] == "iamwatch" and len(tokens) > 1 and tokens[1] == "scan":
                commands.append((path, line, tokens))
            elif tokens[:3] == ["iamwatch", "inventory", "check"]:
                commands.append((path, line, tokens))
    for path, line, tokens in commands:
        if tokens[1] == "inventory":
            argv = inventory_check_argv(tokens, iamwatch.repo)
        else:
            argv = scan_argv(tokens, iamwatch.repo)
        try:
            proc = iamwatch.run(argv)
        except subprocess.TimeoutExpired:
            problems.append(Problem(path, line, f"{iamwatch.show(argv)} timed out"))
            continue
        if proc.returncode not in (0, 1):
            err = " | ".join(proc.stderr.strip().splitlines()[-3:])
            problems.append(Problem(path, line, f"{iamwatch.show(argv)} exited "
                                                f"{proc.returncode}: {err}"))
    print(f"ran {len(commands)} `iamwatch scan` and `iamwatch inventory check` commands",
          file=sys.stderr)
    return problems


# --------------------------------------------------------------------------- rule set

RULES_ARGS = ["rules", "--format", "json"]
FACTORS_ARGS = ["rules", "--factors", "--format", "json"]
# The fields the checker reads, with their JSON types (other fields are ignored).
RULE_FIELDS = {"id": str, "base": int, "types": list, "attack": list, "resolving_events": list}
FACTOR_FIELDS = {"id": str, "delta": int}


@dataclass
class RuleSet:
    """The rules and factors as iamwatch lists them."""
    rules: dict     # rule id -> the rule's object of `iamwatch rules --format json`
    factors: dict   # factor id -> delta
    source: str     # where they came from, for messages


def _objects(value, fields: dict, what: str) -> list[dict]:
    """`value` as a list of objects that have `fields` with their types; BinaryError if not."""
    if not isinstance(value, list) or not value:
        raise BinaryError(f"{what}: expected a non-empty JSON array, got {str(value)[:60]!r}")
    seen = set()
    for i, obj in enumerate(value):
        if not isinstance(obj, dict):
            raise BinaryError(f"{what}[{i}]: expected an object, got {str(obj)[:60]!r}")
        for key, typ in fields.items():
            v = obj.get(key)
            ok = isinstance(v, typ) and not isinstance(v, bool)
            if ok and typ is list:
                ok = all(isinstance(x, str) for x in v)
            if not ok:
                kind = "a list of strings" if typ is list else typ.__name__
                raise BinaryError(f"{what}[{i}] ({obj.get('id', 'no id')}): "
                                  f"field {key!r} must be {kind}, got {v!r}")
        if obj["id"] in seen:
            raise BinaryError(f"{what}: id {obj['id']!r} listed twice")
        seen.add(obj["id"])
    return value


def parse_rule_set(rules, factors, source: str = "iamwatch rules") -> RuleSet:
    """The rule set from the parsed JSON of `iamwatch rules --format json` and
    `iamwatch rules --factors --format json`."""
    rules = _objects(rules, RULE_FIELDS, "`iamwatch " + " ".join(RULES_ARGS) + "`")
    factors = _objects(factors, FACTOR_FIELDS, "`iamwatch " + " ".join(FACTORS_ARGS) + "`")
    return RuleSet({r["id"]: r for r in rules}, {f["id"]: f["delta"] for f in factors}, source)


def load_rule_set(iamwatch: Iamwatch) -> RuleSet:
    return parse_rule_set(iamwatch.json(RULES_ARGS), iamwatch.json(FACTORS_ARGS),
                          "`iamwatch rules`")


def check_rules(repo: Path, files: dict, rule_set: RuleSet) -> list[Problem]:
    problems = []
    rb = repo / "runbooks"
    ids, source = set(rule_set.rules), rule_set.source
    for rid in sorted(ids):
        path = rb / f"{rid}.md"
        if path not in files:
            problems.append(Problem(rb / "README.md", 1,
                                    f"rule {rid} ({source}) has no runbook runbooks/{rid}.md"))
    for path, text in files.items():
        name = path.stem
        if path.name == "README.md" or name.startswith(("ops-", "guide-")):
            continue
        if name not in ids:
            problems.append(Problem(path, 1, f"runbook names no rule id that exists ({source}); "
                                             "pipeline runbooks are named ops-*.md, "
                                             "guides guide-*.md"))
            continue
        problems += check_rule_runbook(path, text, rule_set.rules[name], rule_set.factors)
    readme = rb / "README.md"
    if readme not in files:
        return problems + [Problem(readme, 1, "runbooks/README.md is missing")]
    linked = {Path(os.path.normpath(rb / t.split("#")[0]))
              for _, t in links(files[readme]) if not re.match(r"^[a-z]+:", t)}
    for path in files:
        if path != readme and path not in linked:
            problems.append(Problem(readme, 1, f"README.md does not link {path.name}"))
    for n, line in enumerate(files[readme].splitlines(), 1):
        m = re.match(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*(\d+)\s*\|", line)
        if m and m.group(1) in rule_set.rules:
            base = rule_set.rules[m.group(1)]["base"]
            if int(m.group(2)) != base:
                problems.append(Problem(readme, n, f"{m.group(1)} has base score {m.group(2)}, "
                                                   f"the rule's base is {base}"))
    return problems


def check_rule_runbook(path: Path, text: str, rule: dict, factors: dict) -> list[Problem]:
    """Problems of the runbook of `rule` (its object of `iamwatch rules --format json`);
    `factors` maps factor ids to deltas."""
    problems = []
    rid = rule["id"]
    lines = text.splitlines()
    rows = {}
    for n, line in enumerate(lines, 1):
        mr = re.match(r"^\|\s*([^|]+?)\s*\|(.*)\|\s*$", line)
        if mr and mr.group(1) not in rows:
            rows[mr.group(1)] = (n, mr.group(2))
    n, cell = rows.get("ASFF `Types`", (1, ""))
    listed = re.findall(r"`([^`]+)`", cell)
    if sorted(listed) != sorted(rule["types"]):
        problems.append(Problem(path, n, f"ASFF `Types` row lists {listed}, the rule's "
                                         f"types are {rule['types']}"))
    for technique in rule["attack"]:
        n, cell = rows.get("MITRE ATT&CK", (1, ""))
        cell = re.sub(r"\]\([^)]*\)", "]", cell)  # only the visible text, not link targets
        if not re.search(rf"\b{re.escape(technique)}\b(?!\.)", cell):
            problems.append(Problem(path, n, f"MITRE ATT&CK row does not name {technique} "
                                             "(the rule's attack)"))
    if "Archived by" in rows:
        n, cell = rows["Archived by"]
        for code in re.findall(r"`([^`]+)`", cell):
            event = code.split()[0]
            if re.fullmatch(r"[A-Z][A-Za-z]+", event) and event not in rule["resolving_events"]:
                problems.append(Problem(path, n, f"Archived by row names {event}, which is not "
                                                 f"among the rule's resolving events "
                                                 f"{rule['resolving_events']}"))
    first = lines[0] if lines else ""
    if not re.match(rf"^# {re.escape(rid)}\b", first):
        problems.append(Problem(path, 1, f"title must start with '# {rid}'"))
    m = None
    for n, line in enumerate(lines, 1):
        m = re.match(r"^\|\s*Rule id\s*\|\s*`([^`]+)`\s*\|", line)
        if m:
            if m.group(1) != rid:
                problems.append(Problem(path, n, f"metadata names rule {m.group(1)!r}, "
                                                 f"file is {rid}.md"))
            break
    else:
        problems.append(Problem(path, 1, f"metadata row '| Rule id | `{rid}` |' missing"))
    base = rule["base"]
    for n, line in enumerate(lines, 1):
        mb = re.match(r"^\|\s*Base score\s*\|\s*(\d+)", line)
        if mb:
            if int(mb.group(1)) != base:
                problems.append(Problem(path, n, f"base score {mb.group(1)}, the rule's "
                                                 f"base is {base}"))
            break
    else:
        problems.append(Problem(path, 1, "metadata row '| Base score | N |' missing"))
    hs = [(n, t) for n, lvl, t in headings(text) if lvl == 2]
    titles = [t for _, t in hs]
    pos = -1
    for section in RULE_SECTIONS:
        if section not in titles:
            problems.append(Problem(path, 1, f"template section '## {section}' missing"))
            continue
        idx = titles.index(section)
        if idx < pos:
            problems.append(Problem(path, hs[idx][0], f"section '## {section}' out of order"))
        pos = idx
    if "How the score is made" in titles:
        idx = titles.index("How the score is made")
        start = hs[idx][0]
        end = hs[idx + 1][0] if idx + 1 < len(hs) else len(lines) + 1
        body = "\n".join(lines[start:end - 1])
        for fid, delta in factors.items():
            row = re.search(rf"^\|\s*`{re.escape(fid)}`\s*\|\s*([+-−]?\d+)", body, re.M)
            if not row:
                problems.append(Problem(path, start, f"score section does not list factor {fid}"))
            elif int(row.group(1).replace("−", "-")) != delta:
                problems.append(Problem(path, start, f"factor {fid} has delta "
                                                     f"{row.group(1)}, the factor's delta is "
                                                     f"{delta:+d}"))
        for row in re.finditer(r"^\|\s*`([a-z][a-z0-9-]*)`\s*\|\s*[+-−]?\d+", body, re.M):
            if row.group(1) not in factors:
                problems.append(Problem(path, start, f"score section lists factor "
                                                     f"{row.group(1)}, which iamwatch does "
                                                     "not have"))
    return problems


# --------------------------------------------------------------------------- links

LINK_RE = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(text: str):
    for n, line in prose_lines(text):
        line = re.sub(r"`[^`]*`", "", line)
        for m in LINK_RE.finditer(line):
            yield n, m.group(1)


def check_links(repo: Path, files: dict) -> list[Problem]:
    problems = []
    anchor_cache: dict[Path, set] = {}
    for path, text in files.items():
        for n, target in links(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http(s), mailto: not checked offline
            file_part, _, anchor = target.partition("#")
            dest = path if not file_part else Path(os.path.normpath(path.parent / file_part))
            if file_part.startswith("/"):
                problems.append(Problem(path, n, f"absolute link {target!r}; use a relative one"))
                continue
            try:
                dest.relative_to(repo)
            except ValueError:
                problems.append(Problem(path, n, f"link {target!r} leaves the repository"))
                continue
            if not dest.exists():
                problems.append(Problem(path, n, f"link {target!r}: no such file"))
                continue
            if anchor:
                if dest.suffix != ".md" or not dest.is_file():
                    continue
                if dest not in anchor_cache:
                    anchor_cache[dest] = anchors(dest.read_text(encoding="utf-8"))
                if anchor not in anchor_cache[dest]:
                    problems.append(Problem(path, n, f"link {target!r}: no heading "
                                                     f"#{anchor} in {dest.name}"))
    return problems


# --------------------------------------------------------------------------- lint

def check_lint(repo: Path) -> list[Problem]:
    config = repo / "runbooks/.pymarkdown.json"
    try:
        proc = subprocess.run([sys.executable, "-m", "pymarkdown", "--config", str(config),
                               "scan", "--recurse", "runbooks"],
                              cwd=repo, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError as e:
        return [Problem(config, 1, f"cannot run pymarkdown: {e}")]
    problems = []
    for line in (proc.stdout + proc.stderr).splitlines():
        m = re.match(r"^(.+?):(\d+):(\d+): (.*)$", line)
        if m:
            problems.append(Problem(repo / m.group(1), int(m.group(2)), f"lint: {m.group(4)}"))
        elif line.strip():
            problems.append(Problem(config, 1, f"pymarkdown: {line.strip()}"))
    if proc.returncode != 0 and not problems:
        problems.append(Problem(config, 1, f"pymarkdown exited {proc.returncode}"))
    return problems


# --------------------------------------------------------------------------- main

def load_runbooks(repo: Path) -> dict:
    return {p: p.read_text(encoding="utf-8") for p in sorted((repo / "runbooks").glob("*.md"))}


def run(repo: Path, checks: set[str], iamwatch: Iamwatch) -> list[Problem]:
    """Problems found by `checks`; raises BinaryError when iamwatch cannot tell its rules."""
    files = load_runbooks(repo)
    problems = []
    if "rules" in checks:
        problems += check_rules(repo, files, load_rule_set(iamwatch))
    if "aws" in checks:
        for path, text in files.items():
            problems += check_aws_commands(path, text)
    if "scan" in checks:
        problems += check_scan_commands(files, iamwatch)
    if "links" in checks:
        problems += check_links(repo, files)
    if "lint" in checks:
        problems += check_lint(repo)
    return problems


def main(argv=None) -> int:
    all_checks = ["rules", "aws", "scan", "links", "lint"]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=REPO)
    ap.add_argument("--iamwatch", type=Path,
                    help="the iamwatch binary (default: $IAMWATCH_BIN, else `cargo run`)")
    ap.add_argument("--only", action="append", choices=all_checks,
                    help="run only this check (repeatable)")
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    try:
        problems = run(repo, set(args.only or all_checks), Iamwatch.locate(repo, args.iamwatch))
    except BinaryError as e:
        print(f"error: {e}", file=sys.stderr)
        print("error: the runbooks were not checked", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    files = len(load_runbooks(repo))
    print(f"{files} runbooks, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
