#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library that `convqa` loads at run time (ort's `load-dynamic`).
#
# The library comes from the PyPI wheel onnxruntime==1.31.1 (the only registry this project may
# use for it); the wheel holds just the versioned file, which is all ort needs via init_from().
# Idempotent: when the library is already in the cache this only prints its path.
#
# Output: the absolute path of libonnxruntime.so.1.31.1 on stdout (progress goes to stderr), so
#   export CONVQA_ORT_LIB="$(scripts/setup-ort.sh)"
# works. Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/convqa/onnxruntime-1.31.1/ (the path convqa
# looks in by default, see src/model/runtime.rs).
set -euo pipefail

version=1.31.1
lib_name="libonnxruntime.so.${version}"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/convqa"
dest_dir="${cache_root}/onnxruntime-${version}"
dest="${dest_dir}/${lib_name}"

if [[ -s "$dest" ]]; then
    echo "$dest"
    exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-ort.sh: $python not found; it is needed to download the onnxruntime wheel (set PYTHON=...)" >&2
    exit 1
fi

wheel_dir="${cache_root}/wheels"
mkdir -p "$wheel_dir" "$dest_dir"

shopt -s nullglob
wheels=("$wheel_dir"/onnxruntime-"${version}"-*.whl)
if (( ${#wheels[@]} == 0 )); then
    echo "setup-ort.sh: downloading onnxruntime==${version} wheel (about 24 MB) ..." >&2
    # --python-version/--platform pick the manylinux wheel whatever python runs pip; the .so in it
    # does not depend on the Python version.
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux_2_28_x86_64 \
        -d "$wheel_dir" "onnxruntime==${version}" >&2
    wheels=("$wheel_dir"/onnxruntime-"${version}"-*.whl)
fi
if (( ${#wheels[@]} == 0 )); then
    echo "setup-ort.sh: pip reported success but no onnxruntime-${version} wheel is in $wheel_dir" >&2
    exit 1
fi

# Extract to a temp file in the same directory, then rename: a half-written library must never
# sit at the path convqa loads from (e.g. when two test runs set up at once).
tmp="$(mktemp "${dest_dir}/.${lib_name}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$python" - "${wheels[0]}" "$tmp" "$lib_name" <<'PY'
import sys, zipfile
wheel, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    with open(out, "wb") as f:
        f.write(z.read("onnxruntime/capi/" + name))
PY
chmod 0755 "$tmp"
mv -f "$tmp" "$dest"
trap - EXIT
echo "setup-ort.sh: installed $dest" >&2
echo "$dest"
