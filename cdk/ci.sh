#!/usr/bin/env bash
# Every check of the CDK app, from a clean clone: install from the lockfile, type-check, assertion
# and cdk-nag tests, `cdk synth --no-lookups`, cfn-lint on every synthesized template (the
# StackSet's member template included). Needs the npm registry and PyPI only; no AWS credentials,
# no Docker, no Rust build (the functions' packages are replaced by placeholder `bootstrap` files).
set -euo pipefail
cd "$(dirname "$0")"
export CI=true

step() { printf '\n==> cdk: %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error </dev/null

step "type-check (tsc --noEmit)"
npx --no-install tsc --noEmit -p .

step "Python tools of the tests: parliament (policy linter), sqlglot and duckdb (saved queries), pinned in scripts/requirements-test.txt"
# shellcheck disable=SC2046
python3 -m pip install --quiet --disable-pip-version-check $(grep -E '^(parliament|sqlglot|duckdb)==' ../scripts/requirements-test.txt)

step "assertion and cdk-nag tests"
node --import tsx --test test/*.test.ts </dev/null

# Placeholder function packages, shaped like scripts/package-lambdas.sh's output.
fixture="$(mktemp -d)"
trap 'rm -rf "$fixture"' EXIT
for pkg in iamwatch-detect iamwatch-ticket iamwatch-inventory; do
  mkdir -p "$fixture/$pkg"
  printf '#!/bin/sh\n# placeholder for %s\n' "$pkg" >"$fixture/$pkg/bootstrap"
  chmod 755 "$fixture/$pkg/bootstrap"
done

step "cdk synth --no-lookups (fails on unacknowledged cdk-nag findings of the app's stacks)"
rm -rf cdk.out
npx --no-install cdk synth --no-lookups --quiet -c "iamwatch:lambdaAssetDir=$fixture" </dev/null

step "cdk-nag report of the synthesis"
node -e '
  const report = require("./cdk.out/validation-report.json");
  const violations = (report.pluginReports ?? []).flatMap((r) => r.violations ?? []);
  if (violations.length > 0) {
    console.error(JSON.stringify(violations, null, 2));
    process.exit(1);
  }
  console.log("0 unacknowledged AwsSolutions findings in the app stacks (the member stage is checked by test/cdk-nag.test.ts)");
'

step "templates: the synthesized ones and the StackSet template body"
node -e '
  const fs = require("fs");
  const path = require("path");
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name.startsWith("assembly-")) walk(p);
      else if (e.isFile() && e.name.endsWith(".template.json")) out.push(p);
    }
  };
  walk("cdk.out");
  // The StackSet body is a string inside the central template: lint it as its own template too.
  for (const file of [...out]) {
    const t = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const [id, r] of Object.entries(t.Resources ?? {})) {
      if (r.Type === "AWS::CloudFormation::StackSet" && typeof r.Properties?.TemplateBody === "string") {
        const body = path.join("cdk.out", `stackset-body-${id}.json`);
        fs.writeFileSync(body, JSON.stringify(JSON.parse(r.Properties.TemplateBody), null, 1));
        out.push(body);
      }
    }
  }
  fs.writeFileSync("cdk.out/templates.txt", out.join("\n") + "\n");
  console.log(out.join("\n"));
'
mapfile -t templates <cdk.out/templates.txt
if [ "${#templates[@]}" -lt 4 ]; then
  echo "expected at least 4 templates (central, management, member, StackSet body), found ${#templates[@]}" >&2
  exit 1
fi

step "cfn-lint (errors fail, warnings are shown)"
if ! command -v cfn-lint >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'cfn-lint>=1.20'
fi
cfn-lint --version
rc=0
cfn-lint --regions us-east-1 -- "${templates[@]}" || rc=$?
# cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 a failure to run.
if (( rc & 3 )); then
  echo "cfn-lint found errors (exit status $rc)" >&2
  exit 1
fi
echo "cfn-lint: 0 errors in ${#templates[@]} templates"

step "cdk checks passed"
