#!/usr/bin/env bash
# Installs this build into a temporary prefix, builds examples/plugin as an
# out-of-tree project against it with find_package(bncheck), and runs the
# installed bncheck on that plugin from a folder outside the checkout, so
# that the corpus it judges on is the installed one (share/bncheck/golden).
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
test -f "$tmp/prefix/include/bncheck/bncheck_kernel.h"
test -f "$tmp/prefix/lib/cmake/bncheck/bncheckConfig.cmake"
test -f "$tmp/prefix/share/bncheck/golden/$(ls "$src/golden/cases" | head -1)/manifest.json"

# The vendor's project: its own copy of the example, nothing of the checkout.
mkdir -p "$tmp/vendor"
cp "$src/examples/plugin/CMakeLists.txt" "$src/examples/plugin/example_plugin.c" "$tmp/vendor/"
cmake -S "$tmp/vendor" -B "$tmp/vendor/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log" ||
  { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/vendor/build" > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
plugin=$tmp/vendor/build/libexample_plugin.so
test -f "$plugin"
# Only the getter is exported, as the header asks.
exported=$(nm -D --defined-only "$plugin" | awk '$2 == "T" {print $3}')
[ "$exported" = "bnc_get_kernel_api" ] || { echo "exported: $exported"; exit 1; }

cd "$tmp"  # no golden/cases here: the installed corpus is the default
set +e
"$tmp/prefix/bin/bncheck" run --kernel "$plugin" --no-properties --quiet > run.out 2>&1
status=$?
set -e
cat run.out
[ "$status" -eq 0 ] || { echo "installed bncheck exited $status"; exit 1; }
cases=$(ls "$src/golden/cases" | wc -l)
grep -Eq "^kernel .*: [1-9][0-9]* passed, 0 failed" run.out || { echo "no passing summary line"; exit 1; }
echo "out-of-tree plugin judged by the installed bncheck on $cases installed cases"
