#!/usr/bin/env bash
# ci/folder-graph passes on the tree and fails, naming the cycle, on a copy
# of a small tree where two folders include each other.
set -euo pipefail
src=$1
"$src/ci/folder-graph" "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/core" "$tmp/impl" "$tmp/adapters"
echo '#include "core/a.hpp"' > "$tmp/impl/k.cpp"
echo '#include "adapters/b.hpp"' >> "$tmp/impl/k.cpp"
echo '#include "impl/k.hpp"' > "$tmp/adapters/b.cpp"
if "$src/ci/folder-graph" "$tmp" 2> "$tmp/err"; then
  echo "folder-graph accepted a tree with a cycle"; exit 1
fi
grep -q "cycle: adapters -> impl -> adapters" "$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "a cycle is refused: $(head -1 "$tmp/err")"
