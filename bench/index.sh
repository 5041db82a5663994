#!/usr/bin/env bash
# Index throughput (docs/s) of the tantivy indexer with the Russian/Kazakh analyzer: ~20 KB
# pages of Russian chat with Kazakh sentences, on-disk index, commit included.
# BENCH_DOCS sets the number of documents (default 10000 ≈ 200 MB). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
exec cargo bench --quiet -p indexer --bench index
