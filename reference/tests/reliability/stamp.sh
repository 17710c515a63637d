#!/usr/bin/env bash
# stamp.sh BC SRC WORK: a cache entry is used only when its stamp matches its
# inputs.  An edit of a local header the candidate includes changes the
# verdict (the header is part of the key: without it the second run would
# reuse the first build and pass), and another compiler is another entry.
. "$(dirname "$0")/lib.sh"
quick=(check --no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0)
# reference.c with its MAX_PAGE_ORDER cap taken from a local header.
sed -e 's/min_t(unsigned int, __ffs(pfn), MAX_PAGE_ORDER)/min_t(unsigned int, __ffs(pfn), CHUNK_CAP)/' \
	-e 's/^\t\t\t    : MAX_PAGE_ORDER;/\t\t\t    : CHUNK_CAP;/' \
	-e 's|^#include <linux/mm.h>|#include <linux/mm.h>\n#include "cap.h"|' \
	"$SRC/reference/candidates/reference.c" >cand.c
grep -q CHUNK_CAP cand.c && grep -q '"cap.h"' cand.c || fail "the fixture was not made (reference.c changed?)"
echo '#define CHUNK_CAP MAX_PAGE_ORDER' >cap.h
run_bc capped "${quick[@]}" cand.c
expect_status capped 0
expect_output capped '^cand\.c +pass +pass +pass +pass'
echo '#define CHUNK_CAP 31 /* no cap */' >cap.h
run_bc uncapped "${quick[@]}" cand.c
expect_status uncapped 1
expect_output uncapped '^cand\.c +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE'
expect_output uncapped 'chunk_order_cap'
before=$(ls "$BUDDYCHECK_CACHE_DIR/entries" | wc -l)
printf '#!/bin/sh\nexec clang-14 "$@"\n' >cc && chmod +x cc
BUDDYCHECK_CC=$WORK/cc run_bc other_cc "${quick[@]}" cand.c
expect_status other_cc 1
after=$(ls "$BUDDYCHECK_CACHE_DIR/entries" | wc -l)
((after == before + 1)) || fail "another compiler did not make another cache entry ($before -> $after)"
echo "ok: a header edit and another compiler are new builds"
