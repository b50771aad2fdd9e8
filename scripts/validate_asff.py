#!/usr/bin/env python3
"""Validates `{"Findings": [...]}` documents against Security Hub's BatchImportFindings input
shape, using botocore's service model (the same validation the AWS CLI and boto3 run before
sending). Usage: validate_asff.py FILE... ('-' reads stdin). Exit 1 on any problem."""
import json
import sys

import botocore.session
from botocore.validate import ParamValidator


def main(paths):
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    validator = ParamValidator()
    failed = 0
    checked = 0
    for path in paths:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        doc = json.loads(text)
        findings = doc.get("Findings", [])
        if not findings:
            print(f"{path}: no findings to validate", file=sys.stderr)
            failed += 1
            continue
        # BatchImportFindings takes at most 100 findings a call.
        for start in range(0, len(findings), 100):
            report = validator.validate({"Findings": findings[start:start + 100]}, shape)
            if report.has_errors():
                failed += 1
                print(f"{path}: {report.generate_report()}", file=sys.stderr)
        for f in findings:
            checked += 1
            for field, limit in (("Id", 512), ("Title", 256), ("Description", 1024)):
                if len(f.get(field, "")) > limit:
                    failed += 1
                    print(f"{path}: {f['Id'][:80]}: {field} longer than {limit}", file=sys.stderr)
    print(f"validated {checked} findings in {len(paths)} documents: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["-"]))
