#!/usr/bin/env bash
# Index throughput (docs/s) of the tantivy indexer with the Russian/Kazakh analyzer: ~20 KB
# pages of Russian chat with Kazakh sentences, on-disk index, commit included.
# BENCH_DOCS sets the number of documents (default 10000 ≈ 200 MB). Prints a Markdown table with
# docs/s and CPU ms per document (user + system of all threads while indexing).
# BENCH_COMMIT_EVERY=500 commits at the pipeline's cadence (default: once at the end);
# BENCH_THREADS sets the writer threads (default 1); BENCH_TEXT=zipf swaps the chat (2,751
# distinct words) for text with a realistic Zipf vocabulary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
exec cargo bench --quiet -p indexer --bench index
