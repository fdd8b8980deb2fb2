#!/usr/bin/env bash
# Score a batch with convqa on Apache Spark: each partition runs the real `convqa score --shard
# K/N` on its share of the records; the partitions are merged into one result directory, the same
# as one machine's, and into `convqa agents` (scale/spark/convqa_spark.py says how).
#
#   scripts/spark-score.sh INPUT... --out DIR [--master URL] [--partitions N] [score options]
#
# Without --master it runs Spark in this process as local[2,4]: two task threads, and a failed
# task retried up to 4 times as on a cluster (plain local[2] never retries). Installs PySpark
# (scale/spark/requirements.txt) into scale/spark/.venv when missing, builds convqa (or takes
# CONVQA_BIN) and finds ONNX Runtime (scripts/setup-ort.sh). Needs Java 17 (or 11) on the PATH or
# in JAVA_HOME. Score options (--checklist, --detect, --map, --config, --model, --redact, ...)
# are passed on to every partition, their files shipped with the job. On a real cluster, see the
# README ("Spark").
#
# Exit code: that of `convqa score` (0 all scored, 1 some set aside, 2 fatal, 3 nothing scored).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

master="local[2,4]"
args=()
while (($#)); do
    case "$1" in
        --master) master=${2:?--master needs a URL}; shift 2 ;;
        --master=*) master=${1#--master=}; shift ;;
        *) args+=("$1"); shift ;;
    esac
done

venv="$repo/scale/spark/.venv"
if [[ ! -x "$venv/bin/spark-submit" ]] || ! cmp -s "$repo/scale/spark/requirements.txt" "$venv/requirements.txt"; then
    echo "spark-score.sh: installing PySpark into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$repo/scale/spark/requirements.txt"
    cp "$repo/scale/spark/requirements.txt" "$venv/requirements.txt"
fi
if ! command -v java >/dev/null 2>&1 && [[ -z "${JAVA_HOME:-}" ]]; then
    echo "spark-score.sh: Java (17) is needed for Spark and was not found" >&2
    exit 2
fi

if [[ -z "${CONVQA_ORT_LIB:-}" ]]; then
    CONVQA_ORT_LIB=$(bash "$repo/scripts/setup-ort.sh")
    export CONVQA_ORT_LIB
fi
bin=${CONVQA_BIN:-}
if [[ -z "$bin" ]]; then
    (cd "$repo" && cargo build --release --locked --quiet --bin convqa)
    bin="${CARGO_TARGET_DIR:-$repo/target}/release/convqa"
fi

export PYSPARK_PYTHON="$venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$venv/bin/python"
# Spark's own start-up chatter (log4j, native-hadoop warnings) stays out of the way.
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
exec "$venv/bin/spark-submit" --master "$master" \
    --conf spark.ui.enabled=false \
    --conf spark.driver.extraJavaOptions=-Dlog4j2.level=warn \
    "$repo/scale/spark/convqa_spark.py" --bin "$bin" --ort-lib "$CONVQA_ORT_LIB" "${args[@]}"
