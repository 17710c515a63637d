#!/usr/bin/env bash
# reports_cli.sh BUDDYCHECK SOURCE_ROOT: check's machine-readable reports on
# the fixture series (reference/intake/tests/fixtures): SARIF valid against
# the SARIF 2.1.0 schema subset beside this script (and a broken one
# refused by it: the validation can fail), one result per finding at the
# tree's line; JUnit read back (a testcase per candidate and column);
# --format json (the table, every finding, the timings, the version).
# Bad report paths and formats: exit 2, one line.
set -euo pipefail
bc=$1 src=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "reports_cli: $*"; exit 1; }
fixtures=$src/reference/intake/tests/fixtures
quick=(--no-proofs --seconds 0.2 --property-seconds 0 --fuzz-seconds 0)
cd "$work"
rc=0
"$bc" check "${quick[@]}" --out "$work/run" --tree "$fixtures/linux" "$fixtures"/series/000[123]-*.patch \
	--format json --sarif "$work/out.sarif" --junit "$work/out.xml" >out.json 2>table || rc=$?
[[ $rc == 1 ]] || { cat table; fail "exit $rc, not 1"; }
grep -q '^\[2/3\] .*COUNTEREXAMPLE' table || { cat table; fail "the table is not on stderr with --format json"; }
# Where patch 2 leaves the __free_frozen_pages() call.
cp -r "$fixtures/linux" after2
(cd after2 && git apply "$fixtures"/series/0001-*.patch "$fixtures"/series/0002-mm-*.patch)
l2=$(grep -n -m1 -F '__free_frozen_pages(page, order, FPI_PREPARED);' after2/mm/page_alloc.c | cut -d: -f1)
python3 - "$here/sarif-2.1.0-subset.schema.json" out.sarif out.xml out.json "$l2" "$("$bc" --version)" <<'PY'
import copy, json, sys, xml.etree.ElementTree as ET
import jsonschema
schema_path, sarif_path, junit_path, json_path, l2, version = sys.argv[1:7]
schema = json.load(open(schema_path))
sarif = json.load(open(sarif_path))
jsonschema.validate(sarif, schema, format_checker=jsonschema.FormatChecker())
# The validation can fail: a log without its version, a region at line 0.
for breakage in ("version", "line0"):
    bad = copy.deepcopy(sarif)
    if breakage == "version":
        del bad["version"]
    else:
        bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise SystemExit("the schema accepts a broken log (%s)" % breakage)
run = sarif["runs"][0]
results = run["results"]
assert len(results) == 4, [r["message"]["text"] for r in results]  # patch 2, each memory-model column
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
for r in results:
    assert r["ruleId"] == "chunk_in_range", r
    assert rules[r["ruleId"]]["help"]["text"].startswith("Every chunk lies inside the pages"), rules
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "mm/page_alloc.c", "uriBaseId": "SRCROOT"}, loc
    assert loc["region"]["startLine"] == int(l2), (loc, l2)
    rel = r["relatedLocations"][0]
    assert rel["physicalLocation"]["artifactLocation"]["uri"].endswith(".trace"), rel
    assert "replay" in rel["message"]["text"], rel
    assert r["message"]["text"].startswith("[2/3] "), r["message"]
assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file:///"), run["originalUriBaseIds"]
assert run["tool"]["driver"]["version"] in version, (run["tool"]["driver"]["version"], version)

suites = ET.parse(junit_path).getroot()
assert suites.tag == "testsuites", suites.tag
cases = suites.findall("./testsuite/testcase")
assert len(cases) == 16, len(cases)  # 4 rows (base, 3 patches) x 4 columns
failed = [c for c in cases if c.find("failure") is not None]
assert len(failed) == 4 and all(c.get("classname").startswith("buddycheck.[2/3]") for c in failed), [c.attrib for c in failed]
assert int(suites.get("failures")) == 4 and int(suites.get("tests")) == 16, suites.attrib
assert "chunk_in_range" in failed[0].find("failure").get("message"), failed[0].find("failure").attrib
assert all(float(c.get("time")) >= 0 for c in cases)

j = json.load(open(json_path))
assert j["version"] and j["version"] in version, j["version"]
assert j["exit_status"] == 1 and j["seconds"] > 0, (j["exit_status"], j["seconds"])
assert [r["candidate"][:5] for r in j["rows"]] == ["base", "[1/3]", "[2/3]", "[3/3]"], [r["candidate"] for r in j["rows"]]
assert [c["name"] for c in j["columns"]] == ["flat", "vmemmap", "sparse", "sparse-hotplug"], j["columns"]
p2 = j["rows"][2]
assert all(c["status"] == "finding" and c["findings"][0]["source"] == "mm/page_alloc.c:" + l2 for c in p2["cells"]), p2
assert all(c["status"] == "pass" for r in (j["rows"][0], j["rows"][1], j["rows"][3]) for c in r["cells"])
assert any(f["function"] == "chunk_order (helper of free_prepared_contig_range)" for f in p2["from"]), p2["from"]
print("reports: SARIF valid, %d results at mm/page_alloc.c:%s; JUnit %d testcases, 4 failures; JSON %d rows" %
      (len(results), l2, len(cases), len(j["rows"])))
PY
# Bad report paths and formats: one line, exit 2, before any work.
for args in "--sarif /proc/no/such.sarif" "--junit /proc/no/such.xml" "--format xml"; do
	rc=0
	# shellcheck disable=SC2086 # the cases are word lists
	"$bc" check "${quick[@]}" --out "$work/bad" $args reference >bad.out 2>bad.err || rc=$?
	[[ $rc == 2 ]] || { cat bad.err; fail "$args: exit $rc, not 2"; }
	[[ $(wc -l <bad.err) == 1 ]] || { cat bad.err; fail "$args: not one line"; }
done
echo "reports_cli: bad report paths and formats give one line and exit 2"
