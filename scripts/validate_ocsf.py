#!/usr/bin/env python3
"""Validates `iamwatch scan --format ocsf` output (JSON Lines, one OCSF Detection Finding a line)
against the OCSF schema, using py-ocsf-models (Prowler's pydantic models of OCSF).

Every line must:
- parse as the package's DetectionFinding in strict mode (types are not coerced: "85" is not 85),
- use no attribute the models do not know, at any depth (a misspelt attribute fails; the
  free-form `unmapped` and `resources[].data` are not looked into),
- state, not merely default to, class_uid 2004 and category_uid 2, with
  type_uid = class_uid * 100 + activity_id, and metadata.version the package's OCSF version.

Where the package is stricter than the OCSF schema it implements, or does not model an attribute
yet, the models are adjusted here, each time as the schema defines it (`Account`, `Service`, and
`Evidence` with the `actor` and `src_endpoint` the package does not have yet); nothing else is
relaxed.

Usage: validate_ocsf.py FILE... ('-' reads stdin); validate_ocsf.py --self-test.
Exit 1 on any problem, naming the file, the line and the error."""
import json
import sys
from typing import Optional

from pydantic import BaseModel, ValidationError, model_validator

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.objects.account import Account as PackageAccount
from py_ocsf_models.objects.api import API as PackageAPI
from py_ocsf_models.objects.cloud import Cloud as PackageCloud
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.service import Service as PackageService

CLASS_UID = 2004
CATEGORY_UID = 2


def at_least_one(*names):
    """OCSF's `at_least_one` constraint of an object, as a pydantic validator."""

    @model_validator(mode="after")
    def constraint(self):
        if all(getattr(self, n) is None for n in names):
            raise ValueError(f"needs at least one of {', '.join(names)}")
        return self

    return constraint


class Account(PackageAccount):
    # OCSF: `name` is recommended, not required (an account is named or has a uid; the package
    # requires the uid).
    name: Optional[str] = None


class Cloud(PackageCloud):
    account: Optional[Account] = None


class Service(PackageService):
    # OCSF: `uid` and `version` are recommended, not required (the package requires the name).
    uid: Optional[str] = None
    version: Optional[str] = None


class API(PackageAPI):
    service: Optional[Service] = None


class User(BaseModel):
    # OCSF `user` (the attributes iamwatch writes): at least one of account, name, uid.
    uid: Optional[str] = None
    name: Optional[str] = None
    type: Optional[str] = None
    type_id: Optional[int] = None
    _constraint = at_least_one("name", "uid")


class Actor(BaseModel):
    # OCSF `actor` (the attributes iamwatch writes): at least one of process, user, invoked_by,
    # session, app_name, app_uid.
    user: Optional[User] = None
    invoked_by: Optional[str] = None
    app_name: Optional[str] = None
    _constraint = at_least_one("user", "invoked_by", "app_name")


class NetworkEndpoint(BaseModel):
    # OCSF `network_endpoint` (the attributes iamwatch writes): at least one of ip, uid, name,
    # hostname, ...
    ip: Optional[str] = None
    uid: Optional[str] = None
    name: Optional[str] = None
    hostname: Optional[str] = None
    _constraint = at_least_one("ip", "uid", "name", "hostname")


class Evidence(EvidenceArtifacts):
    # OCSF `evidences` has `actor` and `src_endpoint` (the package marks them TODO).
    api: Optional[API] = None
    actor: Optional[Actor] = None
    src_endpoint: Optional[NetworkEndpoint] = None


class IamwatchDetectionFinding(DetectionFinding):
    cloud: Optional[Cloud] = None
    evidences: Optional[list[Evidence]] = None


# Objects whose content is free-form by the schema.
FREE_FORM = {"unmapped", "data"}


def unknown_attributes(data, model, path=""):
    """Attributes of `data` that the validated `model` has no field for, at any depth."""
    out = []
    if isinstance(model, BaseModel) and isinstance(data, dict):
        fields = type(model).model_fields
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if key not in fields:
                out.append(where)
            elif key not in FREE_FORM:
                out += unknown_attributes(value, getattr(model, key), where)
    elif isinstance(model, list) and isinstance(data, list):
        for i, (d, m) in enumerate(zip(data, model)):
            out += unknown_attributes(d, m, f"{path}[{i}]")
    return out


def check(line):
    """The problems of one line (empty when valid)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    if not isinstance(data, dict):
        return ["not a JSON object"]
    problems = []
    for key, want in (("class_uid", CLASS_UID), ("category_uid", CATEGORY_UID)):
        if data.get(key) != want:
            problems.append(f"{key} is {data.get(key)!r}, not {want}")
    activity = data.get("activity_id")
    if data.get("type_uid") != CLASS_UID * 100 + (activity if isinstance(activity, int) else 0):
        problems.append(f"type_uid {data.get('type_uid')!r} is not class_uid * 100 + activity_id")
    version = (data.get("metadata") or {}).get("version")
    if version != OCSF_VERSION:
        problems.append(f"metadata.version is {version!r}, not {OCSF_VERSION}")
    try:
        model = IamwatchDetectionFinding.model_validate_json(line, strict=True)
    except ValidationError as e:
        return problems + [str(e)]
    problems += [f"unknown attribute {a}" for a in unknown_attributes(data, model)]
    return problems


def validate(paths):
    failed = 0
    checked = 0
    for path in paths:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        lines = [(n, l) for n, l in enumerate(text.splitlines(), 1) if l.strip()]
        if not lines:
            print(f"{path}: no findings to validate", file=sys.stderr)
            failed += 1
        for n, line in lines:
            checked += 1
            for problem in check(line):
                failed += 1
                print(f"{path}: line {n}: {problem}", file=sys.stderr)
    print(f"validated {checked} OCSF findings in {len(paths)} files: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


def self_test():
    """The checks reject what they must: a valid finding passes, each broken copy fails."""
    good = {
        "class_uid": 2004, "category_uid": 2, "activity_id": 1, "type_uid": 200401,
        "time": 1722376393000, "severity_id": 4, "status_id": 1,
        "metadata": {"version": OCSF_VERSION,
                     "product": {"name": "iamwatch", "vendor_name": "iamwatch"}},
        "finding_info": {"uid": "iamwatch/1/rule/x", "title": "t",
                         "analytic": {"uid": "rule", "name": "Rule", "type_id": 1}},
        "cloud": {"provider": "AWS", "account": {"uid": "111111111111", "type_id": 10}},
        "evidences": [{"api": {"operation": "CreateUser",
                               "service": {"name": "iam.amazonaws.com"}},
                       "actor": {"user": {"uid": "arn:aws:iam::111111111111:user/a"}}}],
        "unmapped": {"anything": {"goes": 1}},
    }

    def without(key):
        return {k: v for k, v in good.items() if k != key}

    def nested(**change):
        out = json.loads(json.dumps(good))
        for path, value in change.items():
            *parents, last = path.split("__")
            target = out
            for p in parents:
                target = target[p]
            target[last] = value
        return out

    broken = {
        "no class_uid": without("class_uid"),
        "another class": {**good, "class_uid": 2003, "type_uid": 200301},
        "no category_uid": without("category_uid"),
        "type_uid not class * 100 + activity": {**good, "type_uid": 200403},
        "no time": without("time"),
        "time as a string": {**good, "time": "1722376393000"},
        "severity_id out of its enum": {**good, "severity_id": 7},
        "no finding_info": without("finding_info"),
        "finding_info without uid": nested(finding_info__uid=None),
        "metadata without product": nested(metadata={"version": OCSF_VERSION}),
        "another OCSF version": nested(metadata__version="0.9.0"),
        "a misspelt attribute": {**good, "risk_scor": 80},
        "a misspelt nested attribute": nested(cloud__acount={"uid": "1"}),
        "evidence actor with an unknown attribute": nested(evidences=[{"actor": {"usr": {}}}]),
        "evidence actor user with neither uid nor name": nested(evidences=[{"actor": {"user": {}}}]),
        "api service with neither name nor uid": nested(
            evidences=[{"api": {"operation": "CreateUser", "service": {}}}]),
    }
    failures = []
    if check(json.dumps(good)):
        failures.append(f"the valid finding is rejected: {check(json.dumps(good))}")
    for name, doc in broken.items():
        if not check(json.dumps(doc)):
            failures.append(f"not rejected: {name}")
    for f in failures:
        print(f"self-test: {f}", file=sys.stderr)
    print(f"self-test: 1 valid and {len(broken)} broken findings: {'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(validate(sys.argv[1:] or ["-"]))
