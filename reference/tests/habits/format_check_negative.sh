#!/usr/bin/env bash
# format_check_negative.sh SOURCE_DIR: ci/format-check's controls, in a
# throwaway git repository (a temporary directory) with the project's
# .clang-format and script:
#   - a badly formatted change fails (exit 1) and names that file only;
#   - a formatted change passes, and so do badly formatted lines it leaves alone;
#   - a moved file is checked on its changed lines only;
#   - the base: the merge-base with origin/main (not HEAD~1) when there is
#     one, BUDDYCHECK_FORMAT_BASE over both; a bad one is an error (exit 2);
#   - no base commit: it says so and passes.
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# No settings of the machine's or the user's git configuration.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
unset BUDDYCHECK_FORMAT_BASE

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
# expect STATUS REGEX [ENV=VALUE...]: run the check, compare its status, and
# match its whole output (stdout and stderr, several lines) with REGEX.
expect() {
	local want=$1 regex=$2 got=0 out
	shift 2
	out=$(env "$@" bash ci/format-check 2>&1) || got=$?
	if [[ $got != "$want" ]]; then
		fail "exit $got, expected $want; output:"$'\n'"$out"
	elif ! [[ $out =~ $regex ]]; then
		fail "output does not match /$regex/:"$'\n'"$out"
	fi
	printf '%s\n' "$out"
}
commit() { git add -A && git commit -qm "$1"; }

cd "$work"
git init -q repo
cd repo
mkdir ci
cp "$src/.clang-format" .
cp "$src/ci/format-check" ci/
printf 'int good(int a)\n{\n\tint b = a + 1;\n\treturn b;\n}\n' >good.cpp
# Badly formatted from the start: only lines changed later may be flagged.
printf 'int   old_style( int a ) { return a; }\n\nint keep(int a)\n{\n\tint b = a;\n\treturn b;\n}\n' >legacy.cpp
commit initial

echo "== no base commit"
expect 0 "no base commit"

echo "== a formatted change next to badly formatted lines it leaves alone"
printf '\nint added(int b)\n{\n\tint c = b * 2;\n\treturn c;\n}\n' >>legacy.cpp
commit formatted
expect 0 "are formatted"
git update-ref refs/remotes/origin/main HEAD

echo "== a badly formatted change"
printf 'int bad( int x ){return x*2;}\n' >>good.cpp
commit unformatted
expect 1 "not formatted in:"$'\n'"  good.cpp"$'\n'"ci/format-check"
if grep -q legacy.cpp <<<"$(bash ci/format-check 2>&1 || true)"; then
	fail "legacy.cpp flagged: its badly formatted lines are not changed"
fi

echo "== the merge-base with origin/main, not HEAD~1"
printf 'int also_good(int a) { return a; }\n' >other.cpp
commit "formatted on top"
expect 1 "merge-base with origin/main.*"$'\n'"  good.cpp"$'\n'"ci/format-check"
expect 0 "BUDDYCHECK_FORMAT_BASE=HEAD~1" BUDDYCHECK_FORMAT_BASE=HEAD~1
expect 2 "not a commit" BUDDYCHECK_FORMAT_BASE=no-such-commit

echo "== a moved file: its changed lines only"
git update-ref refs/remotes/origin/main HEAD
git mv legacy.cpp moved.cpp
commit moved
expect 0 "are formatted"
printf 'int  worse ( ){return 0;}\n' >>moved.cpp
expect 1 "not formatted in:"$'\n'"  moved.cpp"$'\n'"ci/format-check"

if ((failures)); then
	echo "format_check_negative: $failures failure(s)" >&2
	exit 1
fi
echo "format_check_negative: all controls behave"
