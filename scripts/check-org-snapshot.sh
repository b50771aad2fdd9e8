#!/usr/bin/env bash
# `iamwatch org snapshot` against moto's Organizations: an org with nested OUs and tagged
# accounts is made with boto3, the snapshot is written by the CLI (built with the `aws` feature),
# checked field by field, and then fed to `iamwatch scan --org`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p iamwatch-cli --features aws
bin="${CARGO_TARGET_DIR:-target}/debug/iamwatch"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$tmp"' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 50); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$tmp/expected.json" <<'PY'
import json, sys, boto3
org = boto3.client("organizations")
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
workloads = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
prod = org.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"]["Id"]
sandbox = org.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]
expected = {}
for name, parent, path, tags in [("payments-prod", prod, ["Workloads", "Prod"], {"env": "prod"}),
                                 ("dev-sandbox", sandbox, ["Sandbox"], {}),
                                 ("at-the-root", root, [], {})]:
    acct = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
    if parent != root:
        org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
    if tags:
        org.tag_resource(ResourceId=acct, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    expected[acct] = {"name": name, "ou_path": path, "tags": tags}
json.dump(expected, open(sys.argv[1], "w"))
PY

"$bin" org snapshot >"$tmp/org.json"

python3 - "$tmp/expected.json" "$tmp/org.json" <<'PY'
import json, sys
expected = json.load(open(sys.argv[1]))
snapshot = json.load(open(sys.argv[2]))
got = {a["id"]: a for a in snapshot["accounts"]}
for acct, want in expected.items():
    a = got.get(acct)
    assert a is not None, f"account {acct} missing from the snapshot"
    for key in ("name", "ou_path", "tags"):
        assert a[key] == want[key], f"{acct} {key}: {a[key]!r} != {want[key]!r}"
print(f"org snapshot: {len(expected)} accounts with names, OU paths and tags as made ({len(got)} in all)")
PY

# The snapshot feeds scan --org: a CreateUser in the prod account gets its name and OU.
prod=$(python3 -c "import json; print([a for a in json.load(open('$tmp/org.json'))['accounts'] if a['name']=='payments-prod'][0]['id'])")
sed "s/111111111111/$prod/g" events/iam-user-created.json >"$tmp/event.json"
out=$("$bin" scan --format csv --org "$tmp/org.json" --policy examples/policy.toml "$tmp/event.json")
echo "$out" | grep -q ",payments-prod,Workloads/Prod," || { echo "scan --org did not use the snapshot: $out" >&2; exit 1; }
echo "$out" | grep -q "critical-account" || { echo "critical-account factor missing: $out" >&2; exit 1; }
echo "org snapshot -> scan --org: ok"
