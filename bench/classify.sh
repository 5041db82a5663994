#!/usr/bin/env bash
# Detection benchmark (DESIGN §9): 10,000 generated rules over >= 200 MB of Cyrillic text, the
# compiled matcher against a naive loop of one regex per rule, same input, same run.
# Prints a Markdown table. Options through the environment: BENCH_RULES (10000), BENCH_MB (200),
# BENCH_NAIVE_MB (4 — the naive loop runs over the first megabytes of the same input).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
exec cargo bench --quiet -p classifier --bench matcher
