#!/usr/bin/env bash
# check_patches.sh BUDDYCHECK SOURCE_ROOT: ci/check-patches, the plain shell
# example of README's "Check your patch in CI", on the fixture series made
# into commits of a git repository: exit 1 (patch 2's counterexample), a
# SARIF of 4 results and a JUnit report; the repository's work tree and
# worktree list are as they were.
set -euo pipefail
bc=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_patches: $*"; exit 1; }
fixtures=$src/reference/intake/tests/fixtures
cp -r "$fixtures/linux" "$work/linux"
g() { git -C "$work/linux" -c user.name=t -c user.email=t@example.org -c commit.gpgsign=false "$@"; }
g init -q
g add -A
g commit -qm base
base=$(g rev-parse HEAD)
g am -q "$fixtures"/series/000[123]-*.patch
[[ $(g rev-list --count "$base..HEAD") == 3 ]] || fail "the series did not apply as 3 commits"
rc=0
bash "$src/ci/check-patches" --buddycheck "$bc" --out "$work/ci" "$work/linux" "$base" HEAD -- \
	--no-proofs --seconds 0.2 --property-seconds 0 --fuzz-seconds 0 >"$work/out" 2>"$work/err" || rc=$?
[[ $rc == 1 ]] || { cat "$work/out" "$work/err"; fail "exit $rc, not 1"; }
grep -q '^\[2/3\] .*COUNTEREXAMPLE' "$work/err" || { cat "$work/err"; fail "no table"; }
python3 - "$work/ci/buddycheck.sarif" "$work/ci/buddycheck.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
s = json.load(open(sys.argv[1]))
r = s["runs"][0]["results"]
assert len(r) == 4 and all(x["ruleId"] == "chunk_in_range" for x in r), r
assert all(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "mm/page_alloc.c" for x in r)
t = ET.parse(sys.argv[2]).getroot()
assert t.get("failures") == "4", t.attrib
PY
[[ -z $(g status --porcelain) ]] || { g status; fail "the repository's work tree changed"; }
[[ $(g worktree list | wc -l) == 1 ]] || { g worktree list; fail "a worktree was left behind"; }
echo "check_patches: ci/check-patches on a 3-commit branch: exit 1, 4 SARIF results at mm/page_alloc.c, JUnit 4 failures"
