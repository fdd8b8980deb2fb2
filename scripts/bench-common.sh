# Shared setup of the benchmark scripts (sourced by scripts/bench-*.sh, run from the repository
# root): the release binary, the ONNX Runtime library, GNU time for peak RSS, and the CPU's name
# for the results. Each benchmark reports on the machine it ran on; nothing here times anything.

# Builds the release binary and installs ONNX Runtime (scripts/setup-ort.sh, unless
# CONVQA_ORT_LIB already names a library); sets and exports CONVQA_ORT_LIB, sets `bin`.
bench_build() {
    cargo build --release --quiet --bin convqa
    if [[ -z "${CONVQA_ORT_LIB:-}" ]]; then
        CONVQA_ORT_LIB="$(bash scripts/setup-ort.sh)"
    fi
    export CONVQA_ORT_LIB
    bin="${CARGO_TARGET_DIR:-$(pwd)/target}/release/convqa"
}

# Installs GNU time (/usr/bin/time, for peak RSS) with apt-get where it is missing and can be;
# returns non-zero when it is still missing.
bench_gnu_time() {
    if [[ ! -x /usr/bin/time ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq time >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; } || true
    fi
    [[ -x /usr/bin/time ]]
}

# The CPU's model name, as the results files record it.
bench_cpu() {
    grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'
}
