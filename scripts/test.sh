#!/usr/bin/env bash
# The project's full check, as CI runs it (.ci/run calls this): install the ONNX Runtime library
# if needed, then formatting, lints and the whole test suite (unit + integration, with the real
# bundled model) in release mode, the Spark job against one process (installs PySpark from PyPI
# into scale/spark/.venv; needs Java 17), then the browser check of the HTML report (installs Debian
# chromium with apt when missing). Works on a fresh clone with empty caches.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup-ort"
CONVQA_ORT_LIB="$(bash scripts/setup-ort.sh)"
export CONVQA_ORT_LIB
echo "ONNX Runtime: $CONVQA_ORT_LIB"

echo "== cargo fmt --check"
cargo fmt --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo test --release --locked"
cargo test --release --locked

echo "== Spark job: local[2,4], 3 partitions, one task killed once, against one process (scale/spark/test_spark.py)"
CONVQA_BIN="${CARGO_TARGET_DIR:-target}/release/convqa" python3 scale/spark/test_spark.py

echo "== browser check of the coach report (headless chromium)"
CONVQA_BIN="${CARGO_TARGET_DIR:-target}/release/convqa" bash tests/browser/check.sh
