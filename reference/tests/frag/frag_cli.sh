#!/usr/bin/env bash
# ctest frag/cli: `buddycheck frag --quick` end to end (the files, the plots,
# the report rendered again from the data it wrote), and its bad input.
#   frag_cli.sh BUDDYCHECK WORKDIR
set -u
bc=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
fail=0
no() {
	echo "FAIL: $*"
	fail=1
}

"$bc" frag --quick -q --out "$work/q" --plots --report "$work/q.md" >"$work/stdout" 2>"$work/stderr" ||
	no "frag --quick exited $? ($(head -3 "$work/stderr"))"
for f in summary.csv series.csv results.json meta.json; do
	[ -s "$work/q/$f" ] || no "no $f"
done
# A row per policy and metric, each with 2 seeds behind it.
policies=$(cut -d, -f4 "$work/q/summary.csv" | tail -n +2 | sort -u | wc -l)
[ "$policies" = 5 ] || no "summary.csv has $policies policies, not 5"
grep -q ',high+bulk,thp_success_pct,[0-9.e+-]*,[0-9.e+-]*,2$' "$work/q/summary.csv" || no "no high+bulk thp_success_pct row over 2 seeds"
# Every plot the meta lists exists and is an SVG.
nplots=0
for p in "$work"/q/plots/*.svg; do
	nplots=$((nplots + 1))
	grep -q '<svg' "$p" || no "$p is not an SVG"
done
[ "$nplots" -ge 10 ] || no "only $nplots plots"
# The report is what --render-report makes of the data alone.
(cd "$work" && "$bc" frag --render-report q) >"$work/rendered.md" || no "--render-report exited $?"
cmp -s "$work/q.md" "$work/rendered.md" || no "the report differs from the one rendered from its data: $(diff "$work/q.md" "$work/rendered.md" | head -4)"
grep -q '^## The answer' "$work/q.md" || no "no answer section"

# The same data from two worker processes as from one.
"$bc" frag --quick -q --jobs 2 --out "$work/q2" >/dev/null 2>&1 || no "frag --quick --jobs 2 exited $?"
cmp -s "$work/q/summary.csv" "$work/q2/summary.csv" || no "--jobs 2 gives another summary.csv than --jobs 1"
cmp -s "$work/q/series.csv" "$work/q2/series.csv" || no "--jobs 2 gives another series.csv than --jobs 1"

# Killed, buddycheck takes its workers with it.
"$bc" frag --quick -q --jobs 2 --ops 400000000 --out "$work/killed" >/dev/null 2>&1 &
parent=$!
sleep 1
kill -TERM "$parent"
wait "$parent" 2>/dev/null
sleep 0.5
if pgrep -f -- "--out $work/killed" >/dev/null; then
	no "workers outlived their killed buddycheck"
	pkill -KILL -f -- "--out $work/killed"
fi

# A worker over its memory limit (lowered to 20 MiB; the model alone
# takes more) is killed, and that is buddycheck's own failure (exit 3).
BUDDYCHECK_FRAG_WORKER_RSS_MB=20 "$bc" frag --quick -q --out "$work/oom" >/dev/null 2>"$work/oom.err"
rc=$?
[ $rc = 3 ] || no "a worker over its memory limit: exit $rc, not 3"
grep -q 'memory limit' "$work/oom.err" || no "a worker over its memory limit: $(cat "$work/oom.err")"

# Bad input: one line, exit status 2.
expect2() {
	"$bc" frag "$@" >"$work/bad.out" 2>"$work/bad.err"
	local rc=$?
	[ $rc = 2 ] || no "frag $* exited $rc, not 2"
	[ "$(wc -l <"$work/bad.err")" = 1 ] || no "frag $*: $(wc -l <"$work/bad.err") lines on stderr, not 1"
}
expect2 --policy nope --quick
expect2 --plots --quick
expect2 --render-report "$work/nowhere"
expect2 --scenario nope
expect2 --free-target 2
printf 'scenario,x\n' >"$work/q/summary.csv"
expect2 --render-report "$work/q"
exit $fail
