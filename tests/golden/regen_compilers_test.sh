#!/usr/bin/env bash
# ci/regen-compilers clang-O3: clang regenerates the committed corpus byte for
# byte (gcc -O3 is the build the other golden tests use); and the check can
# fail: against a copy of the corpus with one byte changed it exits 1 and
# names the file.
set -euo pipefail
src=$1 build=$2
export BNCHECK_REGEN_BUILD=$build/regen-compilers
set +e
"$src/ci/regen-compilers" clang-O3
status=$?
set -e
[ "$status" -eq 77 ] && exit 77
[ "$status" -eq 0 ] || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/golden/cases" "$tmp/cases"
# A glob, not `ls | head -1`: with pipefail, ls killed by SIGPIPE once its
# listing outgrows one write (86 cases) failed the test at random.
xs=("$tmp"/cases/*/x.npy)
victim=${xs[0]}
printf '\x01' | dd of="$victim" bs=1 seek=$(($(stat -c %s "$victim") - 1)) conv=notrunc status=none
set +e
BNCHECK_REGEN_CORPUS=$tmp/cases "$src/ci/regen-compilers" clang-O3 >"$tmp/out" 2>&1
status=$?
set -e
cat "$tmp/out"
[ "$status" -eq 1 ] || { echo "a changed byte was not found (exit $status)"; exit 1; }
grep -q "$(basename "$(dirname "$victim")")" "$tmp/out" || { echo "the report does not name the changed case"; exit 1; }
echo "a changed byte in $(basename "$(dirname "$victim")")/x.npy is found"
