#!/usr/bin/env bash
# Builds the Lambda functions for AWS Lambda arm64 (Graviton) on the provided.al2023 runtime, in
# release mode, into the folders the CDK app deploys:
#
#   target/lambda/iamwatch-detect/bootstrap
#   target/lambda/iamwatch-ticket/bootstrap
#   target/lambda/iamwatch-inventory/bootstrap
#
# Usage: scripts/package-lambdas.sh [--no-install] [--check] [PACKAGE...]
#   PACKAGE       cargo packages to build (default: iamwatch-detect iamwatch-ticket iamwatch-inventory)
#   --no-install  do not install the tools (cargo-lambda and zig from PyPI, the Rust target);
#                 fail if they are missing
#   --check       check the packages and the tools, build nothing
#
# Tools: cargo-lambda (PyPI; it brings zig, used as the cross linker) and the Rust target
# aarch64-unknown-linux-gnu. No Docker. The policy file is not part of this build: the CDK app adds
# it to the detect function's package (cdk.json, context key iamwatch:policyFile).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
CARGO_LAMBDA_SPEC='cargo-lambda>=1.8,<2'
install=1
check_only=0
packages=()

die() { printf 'package-lambdas: error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    --check) check_only=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) packages+=("$arg") ;;
  esac
done
if [ "${#packages[@]}" -eq 0 ]; then
  packages=(iamwatch-detect iamwatch-ticket iamwatch-inventory)
fi

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup (https://rustup.rs)"

step "checking the workspace has the packages: ${packages[*]}"
metadata="$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null || cargo metadata --no-deps --format-version 1)" \
  || die "cargo metadata failed: is Cargo.toml valid?"
# Each package must be a workspace member with exactly one binary target. cargo-lambda names its
# output folder after the binary (target/lambda/<binary>/bootstrap); the CDK app reads
# target/lambda/<package>/bootstrap, so the binary is copied there when the names differ.
plan="$(python3 - "$metadata" "${packages[@]}" <<'PY'
import json, sys
meta = json.loads(sys.argv[1])
members = set(meta.get("workspace_members", []))
found = {}
for p in meta["packages"]:
    if p["id"] in members:
        found[p["name"]] = [t["name"] for t in p["targets"] if "bin" in t["kind"]]
errors = []
for name in sys.argv[2:]:
    if name not in found:
        errors.append(f"{name}: not a package of the workspace (add it to [workspace] members in Cargo.toml)")
    elif len(found[name]) != 1:
        bins = ", ".join(found[name]) or "none"
        errors.append(f"{name}: needs exactly one binary target, has {bins}")
    else:
        print(f"{name} {found[name][0]}")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(3)
PY
)" || die "cannot build the packages above"
echo "$plan" | while read -r pkg bin; do printf '  %s (binary %s)\n' "$pkg" "$bin"; done

step "tools: cargo-lambda (with zig) and the Rust target $TARGET"
if ! cargo lambda --version >/dev/null 2>&1; then
  [ "$install" -eq 1 ] || die "cargo-lambda not found: pip install '$CARGO_LAMBDA_SPEC' (or run without --no-install)"
  python3 -m pip install --quiet --disable-pip-version-check "$CARGO_LAMBDA_SPEC"
  # pip puts the binary in the interpreter's scripts folder, which may not be on PATH (pyenv, --user).
  scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
  user_scripts="$(python3 -c 'import site, os; print(os.path.join(site.getuserbase(), "bin"))')"
  export PATH="$PATH:$scripts:$user_scripts"
  cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda was installed but is not on PATH (looked in $scripts and $user_scripts)"
fi
cargo lambda --version
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    [ "$install" -eq 1 ] || die "Rust target $TARGET not installed: rustup target add $TARGET"
    rustup target add "$TARGET"
  fi
else
  echo "rustup not found: assuming the toolchain has the $TARGET standard library" >&2
fi

if [ "$check_only" -eq 1 ]; then
  printf '\nPackages and tools are ready; nothing built (--check).\n'
  exit 0
fi

# One package at a time: two packages may both name their binary `bootstrap`, and cargo-lambda
# would write both to target/lambda/bootstrap/. The second build reuses the first one's dependencies.
while read -r pkg bin; do
  step "cargo lambda build --release --arm64 -p $pkg --bin $bin"
  cargo lambda build --release --arm64 --locked -p "$pkg" --bin "$bin" </dev/null
  if [ "$bin" != "$pkg" ]; then
    mkdir -p "target/lambda/$pkg"
    cp -f "target/lambda/$bin/bootstrap" "target/lambda/$pkg/bootstrap"
    rm -rf "target/lambda/$bin"
  fi
done <<<"$plan"

step "checking the packages"
status=0
for p in "${packages[@]}"; do
  bin="target/lambda/$p/bootstrap"
  if [ ! -f "$bin" ]; then
    echo "package-lambdas: error: $bin was not produced" >&2
    status=1
    continue
  fi
  # ELF header: e_machine (2 bytes little-endian at offset 18) is 183 (0xb7) for aarch64.
  machine="$(od -An -t u2 -j 18 -N 2 "$bin" | tr -d ' ')"
  if [ "$machine" != "183" ]; then
    echo "package-lambdas: error: $bin is not an aarch64 executable (ELF machine $machine)" >&2
    status=1
    continue
  fi
  printf '%s  %s bytes  aarch64\n' "$bin" "$(wc -c <"$bin" | tr -d ' ')"
done
[ "$status" -eq 0 ] || exit 1

printf '\nDone. Deploy with: cd cdk && npx cdk deploy IamwatchCentral (see cdk/README.md)\n'
