#!/usr/bin/env bash
# disk_full.sh BC SRC WORK: an output directory on a full file system is
# exit 2 and one line before any work (needs root to mount a small tmpfs;
# skipped, status 77, elsewhere).
. "$(dirname "$0")/lib.sh"
mkdir -p full
mount -t tmpfs -o size=1m tmpfs full 2>/dev/null || { echo "skip: cannot mount a tmpfs here"; exit 77; }
trap 'umount "$WORK/full"' EXIT
head -c 900k /dev/zero >full/filler 2>/dev/null
SECONDS=0
run_bc full check --no-proofs --out "$WORK/full/out" reference
expect_status full 2
expect_output full 'output directory .* MiB free; 64 MiB are needed'
((SECONDS < 5)) || fail "took $SECONDS s"
echo "ok: full disk -> exit 2 at once"
