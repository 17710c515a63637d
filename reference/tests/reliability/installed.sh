#!/usr/bin/env bash
# installed.sh BC SRC WORK BUILD: `cmake --install` into a DESTDIR staging
# prefix, the copy made read-only, the source and build trees hidden (a
# tmpfs mounted over them in a private mount namespace: needs root and
# unshare; else skipped, status 77), then `buddycheck check` from PATH in
# another directory.
. "$(dirname "$0")/lib.sh"
build=$1
# Outside both trees, which are hidden below.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/buddycheck-installed.XXXXXX")
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
export BUDDYCHECK_CACHE_DIR=$WORK/cache
DESTDIR=$WORK/stage cmake --install "$build" --prefix /opt/buddycheck >install.log 2>&1 || { cat install.log; fail "install failed"; }
prefix=$WORK/stage/opt/buddycheck
[[ -x $prefix/bin/buddycheck ]] || fail "no bin/buddycheck"
grep -q "$SRC" "$prefix/share/buddycheck/recipes.json" && fail "the installed recipes name the source tree"
chmod -R a-w "$prefix"
unshare -m true 2>/dev/null || { echo "skip: no mount namespace here"; exit 77; }
mkdir -p elsewhere
unshare -m bash -c '
	mount -t tmpfs none "$1" || exit 77
	cd "$2/elsewhere" && PATH=$3/bin:$PATH buddycheck check --seconds 0.2 --property-seconds 0.2 --fuzz-seconds 0 naive neg_uncapped_order
' _ "$SRC" "$WORK" "$prefix" >installed.out 2>&1
echo $? >installed.rc
chmod -R u+w "$prefix"
[[ $(cat installed.rc) == 77 ]] && { echo "skip: cannot mount over the source tree"; exit 77; }
expect_status installed 1
expect_output installed '^naive\.c +not-batched +not-batched +not-batched +not-batched +pass'
expect_output installed '^neg_uncapped_order\.c +COUNTEREXAMPLE'
expect_output installed '^reference chunk routine [(]self-check[)]: 12 obligations'
echo "ok: the installed copy runs from PATH with the source tree hidden"
