# Shared by the reliability tests: BC (the buddycheck binary), SRC (the
# source tree) and WORK (this test's own scratch directory, emptied) come
# from ctest's command line.  Every test sets its own cache and output
# directories under WORK, so that tests running at once share nothing.
set -uo pipefail
BC=$1 SRC=$2 WORK=$3
shift 3
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
export BUDDYCHECK_CACHE_DIR=$WORK/cache
CHAOS=$SRC/reference/tests/fixtures/chaos

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run_bc NAME ARGS...: runs buddycheck, output in NAME.out, status in NAME.rc
run_bc() {
	local name=$1
	shift
	"$BC" "$@" >"$name.out" 2>&1
	echo $? >"$name.rc"
}

expect_status() { # NAME STATUS
	local got
	got=$(cat "$1.rc")
	[[ "$got" == "$2" ]] || { cat "$1.out" >&2; fail "$1: exit status $got, expected $2"; }
}

expect_output() { # NAME REGEX
	grep -Eq -- "$2" "$1.out" || { cat "$1.out" >&2; fail "$1: output does not match '$2'"; }
}

# The table's rows only (the lines that name a candidate), for comparisons.
rows() { grep -E '^[A-Za-z0-9_ .-]+\.c +' "$1.out"; }
