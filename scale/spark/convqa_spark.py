"""convqa on Apache Spark: one batch scored by N partitions, merged into one result directory.

Run through scripts/spark-score.sh (which installs PySpark, builds convqa and finds ONNX Runtime),
or with spark-submit on a cluster (README, "Spark"):

    spark-submit --master URL scale/spark/convqa_spark.py --bin target/release/convqa \
        --ort-lib /path/libonnxruntime.so INPUT... --out DIR [--partitions N] [score options]

How the work is split. Partition K runs the real `convqa score INPUT... --shard K/N`: every
record of the batch (numbered over all inputs in order, rejects included) belongs to exactly one
shard, and each shard reads all inputs, so duplicate ids, rejects and their file and line are
exactly those of one process (src/ingest/shard.rs). Reading is a small part of a shard's time
next to the model.

What travels. The driver packs one tar archive (the convqa binary, the ONNX Runtime library, the
model files, every input and every file a score option names, each at the path it was given; with
--topics and no --embedder, the bundled sentence embedder the topic model was made with) and
ships it with SparkContext.addArchive: executors unpack it themselves, no shared disk. convqa runs
with the unpacked archive as its working directory, so relative paths, file names in rejects and
results are the same as on one machine. An absolute path (or one with '..') travels without its
leading '/' (absolute form, inside the archive); the driver names it back as it was given in every
part it collects (results' source.file, rejects' source, run.json, messages) before merging, so
the results are the bytes one process writes for the same command line.

Retries. Scoring runs as one Spark stage whose partitions are kept (DISK_ONLY) once a task attempt
succeeds; a failed or killed attempt leaves nothing behind (its output lives in the attempt's own
temporary directory), and the retried attempt produces the same bytes (convqa is deterministic).
The driver then streams the kept partitions back one at a time, so its memory holds one
partition, and writes:

    DIR/parts/part-NNNNN/   one `convqa score` directory per partition (run.json says the shard)
    DIR/conversations.jsonl the partitions' results in input order: the bytes one process writes
    DIR/rejects.jsonl       the same for rejects
    DIR/run.json            counts summed, the parts' inputs, and a "spark" section
    DIR/agents/             `convqa agents --from DIR/parts/part-*`: the per-partition results
                            merged into agents.json, agents.csv (same numbers as one machine)

Everything is written under DIR/.spark-tmp-* and moved into place only when the job succeeded.

Exit codes as `convqa score`: 0 all scored, 1 some records set aside (or inputs skipped), 2 fatal,
3 nothing scored.

Test hook: CONVQA_SPARK_KILL_ONCE=K kills partition K's convqa process (SIGKILL) in the task's
first attempt, after it has started writing, and fails the attempt, as a lost executor would.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

BUNDLE = "convqa-bundle.tar"
TOOL_DIR = ".convqa"
INPUT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
# Bytes of input per partition when --partitions is not given (see default_partitions): a
# partition's results (about 5-7 times its input) pass through the driver one partition at a time.
BYTES_PER_PARTITION = 16 << 20
CHUNK = 8 << 20
# Options of `convqa score` passed through: name → kind ("file", "dir", "value", "flag").
SCORE_OPTIONS = {
    "--checklist": "file",
    "--detect": "file",
    "--map": "file",
    "--config": "file",
    "--model": "dir",
    "--topics": "dir",
    "--embedder": "dir",
    "--batch-size": "value",
    "--max-turns": "value",
    "--max-turn-chars": "value",
    "--format": "value",
    "--redact-types": "value",
    "--redact": "flag",
    "--follow-links": "flag",
}


# The start of a result line (docs/SCHEMA.md: fields in a fixed order): its id and source.
RESULT_KEY = re.compile(
    rb'\{"schema_version":"[^"]*","conversation_id":(?P<id>"(?:[^"\\]|\\.)*")'
    rb'.*?"source":\{"file":(?P<file>"(?:[^"\\]|\\.)*"),"line":(?P<line>\d+)\}'
)
# The start of a reject line (docs/SCHEMA.md, "Rejects"): the input it came from.
REJECT_KEY = re.compile(rb'\{"source":(?P<file>"(?:[^"\\]|\\.)*")')
REJECT_REASON = re.compile(rb',"reason":(?P<reason>"(?:[^"\\]|\\.)*")')


class JobError(Exception):
    """A fatal problem: exit code 2 with this message."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="spark-score",
        description="Score INPUT... with convqa on Spark and merge the partitions into --out DIR.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or directories, as for convqa score")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--partitions", type=int, default=0, metavar="N",
                   help="partitions (default: Spark's default parallelism, more for big inputs)")
    p.add_argument("--bin", required=True, help="the convqa binary to ship")
    p.add_argument("--ort-lib", required=True, help="the ONNX Runtime library to ship")
    for name, kind in SCORE_OPTIONS.items():
        if kind == "flag":
            p.add_argument(name, action="store_true")
        else:
            p.add_argument(name, metavar="VALUE")
    a = p.parse_args(argv)
    if "-" in a.inputs:
        p.error("standard input ('-') cannot be distributed; give files or directories")
    if a.partitions < 0:
        p.error("--partitions must be at least 1")
    return a


def bundle_name(path: str) -> str:
    """Where a path given on the command line lives inside the archive (and what convqa is given
    on the executor): the path itself when it is relative without '..', else its absolute form
    without the leading '/' (so it resolves inside the unpacked archive)."""
    if not os.path.isabs(path) and ".." not in Path(path).parts:
        return path
    return os.path.abspath(path).lstrip("/")


class Names:
    """The paths convqa saw on the executors (inside the archive) mapped back to the paths the
    user gave: only those that travelled under another name (absolute, or with '..'). A file
    under a given directory is named as convqa names it there: the directory as given, joined
    with the file's path below it."""

    def __init__(self) -> None:
        self.given: dict[str, str] = {}  # renamed ones only
        # (normalised name inside, given, renamed, shallow)
        self.seen: list[tuple[str, str, bool, bool]] = []
        # The renamed names, longest first (so a name goes back by its longest renamed prefix),
        # and for each the pattern that finds it in a message: built once here, used per line.
        self.order: list[str] = []
        self.in_text: list[re.Pattern] = []

    def add(self, given: str, shallow: bool = False) -> str:
        """Record one path given on the command line; return its name inside the archive. Two
        given paths whose names inside overlap (the same file or directory, or one inside the
        other) are refused when either travels renamed: their files would be one file in the
        archive, read twice, and no single name could be given back. Two `shallow` ones (model
        directories, of which only the files directly inside travel) may nest: the classifier's
        models/ holds the embedders' models/embed and models/embed-fast, and no file is both."""
        name = bundle_name(given)
        renamed = name != given
        norm = os.path.normpath(name)
        for other_norm, other_given, other_renamed, other_shallow in self.seen:
            overlap = norm == other_norm or norm.startswith(other_norm + "/") or other_norm.startswith(norm + "/")
            nested_models = shallow and other_shallow and norm != other_norm
            if overlap and (renamed or other_renamed) and given != other_given and not nested_models:
                raise JobError(f"{other_given!r} and {given!r} would overlap inside the Spark archive "
                               f"({other_norm!r}, {norm!r}); give both in the same form, or only one")
        self.seen.append((norm, given, renamed, shallow))
        if renamed and name not in self.given:
            self.given[name] = given
            self.order = sorted(self.given, key=len, reverse=True)
            # A path in a message starts after a space, '(' or the start of a line and runs to a
            # space or ':'.
            self.in_text = [re.compile(r"(?<![^\s(])" + re.escape(inside) + r"(?:/[^\s:]*)?(?=[\s:)]|$)", re.M)
                            for inside in self.order]
        return name

    def back(self, name: str) -> str:
        """The name the user would see for a path convqa reported on an executor."""
        for inside in self.order:
            given = self.given[inside]
            if name == inside:
                return given
            if name.startswith(inside + "/"):
                rest = name[len(inside) + 1:]
                return given + rest if given.endswith("/") else f"{given}/{rest}"
        return name

    def back_json_string(self, m: re.Match, group: str) -> bytes:
        """A JSON string in a match, renamed, as serde_json writes it (UTF-8, short escapes)."""
        old = json.loads(m[group])
        new = self.back(old)
        if new == old:
            return m[group]
        return json.dumps(new, ensure_ascii=False).encode()

    def rename_part(self, part: Path) -> None:
        """Rename every path in one collected partition (its files as `convqa score` wrote them)."""
        if not self.given:
            return
        for name, pattern in (("conversations.jsonl", RESULT_KEY), ("rejects.jsonl", REJECT_KEY)):
            f = part / name
            if not f.exists():
                continue
            out = part / (name + ".renamed")
            with open(f, "rb") as src, open(out, "wb") as dst:
                for line in src:
                    m = pattern.match(line)
                    if m is None:
                        raise JobError(f"{f}: a line that does not start as convqa writes it")
                    line = line[:m.start("file")] + self.back_json_string(m, "file") + line[m.end("file"):]
                    if name == "rejects.jsonl":
                        # A duplicate's reason names where the first one was ("first seen at
                        # PATH:LINE"); the excerpt is the record's own text and stays as it is.
                        r = REJECT_REASON.search(line)
                        if r:
                            reason = json.loads(r["reason"])
                            new = self.back_in_text(reason)
                            if new != reason:
                                line = (line[:r.start("reason")] + json.dumps(new, ensure_ascii=False).encode()
                                        + line[r.end("reason"):])
                    dst.write(line)
            os.replace(out, f)
        run = part / "run.json"
        if run.exists():
            r = json.loads(run.read_text())
            r = self._rename_values(r)
            run.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
        msgs = part / "messages.txt"
        if msgs.exists():
            text = msgs.read_bytes().decode("utf-8", errors="replace")
            msgs.write_bytes(self.back_in_text(text).encode("utf-8"))

    def back_in_text(self, text: str) -> str:
        """Paths in a message ("convqa: rejected PATH:LINE: why", "first seen at PATH:LINE")."""
        for pattern in self.in_text:
            text = pattern.sub(lambda m: self.back(m[0]), text)
        return text

    # run.json's fields that hold a path: inputs[].path, model.dir, the settings files' source.
    PATH_KEYS = ("path", "dir", "source", "file")

    def _rename_values(self, v):
        if isinstance(v, dict):
            return {k: self.back(x) if k in self.PATH_KEYS and isinstance(x, str) else self._rename_values(x)
                    for k, x in v.items()}
        if isinstance(v, list):
            return [self._rename_values(x) for x in v]
        return v


def input_files(path: str, name: str, follow_links: bool, skip: Path) -> list[tuple[str, str]]:
    """(file on this machine, name in the archive) for one input given as `path`, whose name in
    the archive is `name`: the file itself, or the files convqa would look at in a directory
    (symbolic links travel as links, so convqa skips them there as it would here)."""
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise JobError(f"cannot read input {path}: no such file or directory")
        # A file named on the command line is read through a link, so it travels as the file.
        return [(os.path.realpath(path), name)]
    out = []
    for root, dirs, files in os.walk(path, followlinks=follow_links):
        # What convqa's walk looks at (src/ingest/source.rs): no hidden entries, not the output
        # directory, the input extensions in any case.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and Path(root, d).resolve() != skip)
        for f in sorted(files):
            low = f.lower()
            base = low[:-3] if low.endswith(".gz") else low
            if not f.startswith(".") and base.endswith(INPUT_SUFFIXES):
                local = os.path.join(root, f)
                arc = os.path.join(name, os.path.relpath(local, path))
                # Links travel as links (convqa skips them there too) unless --follow-links.
                out.append((os.path.realpath(local) if follow_links else local, arc))
    return out


def default_model() -> str:
    env = os.environ.get("CONVQA_MODEL_DIR")
    if env:
        return env
    here = Path("models")
    if (here / "model.onnx").is_file():
        return "models"
    return str(Path(__file__).resolve().parents[2] / "models")


def bundled_dir(env: str, sub: str) -> str:
    """A bundled model directory as convqa finds it: the env variable, else under the current
    directory, else the repository's."""
    if os.environ.get(env):
        return os.environ[env]
    if (Path(sub) / "model.onnx").is_file():
        return sub
    return str(Path(__file__).resolve().parents[2] / sub)


def embedder_for(topics: str) -> str:
    """The bundled sentence embedder a saved topic model was made with (the default or the fast
    one whose config.json records the model.onnx SHA-256 the topic model names), as
    `convqa score --topics` picks it. The executors see only what the archive carries, so the
    driver packs it; when none matches, the default travels and convqa refuses the model with the
    reason (convqa also checks the model.onnx bytes themselves)."""
    path = Path(topics)
    try:
        doc = json.loads((path / "topic-model.json" if path.is_dir() else path).read_text(encoding="utf-8"))
        want = doc["embedder"]["onnx_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        want = None
    dirs = [bundled_dir("CONVQA_EMBED_DIR", "models/embed"), bundled_dir("CONVQA_EMBED_FAST_DIR", "models/embed-fast")]
    for d in dirs:
        try:
            recorded = json.loads((Path(d) / "config.json").read_text(encoding="utf-8")).get("onnx_sha256")
        except (OSError, ValueError, AttributeError):
            continue
        if want and recorded == want:
            return d
    return dirs[0]


def build_bundle(a: argparse.Namespace, workdir: Path) -> tuple[Path, list[str], int, Names]:
    """Pack the archive; return it, the score arguments as the executors must pass them, the
    bytes of input (for the default partition count) and the paths that travelled renamed."""
    names = Names()
    follow = bool(a.follow_links)
    skip = Path(a.out).resolve()
    tar_path = workdir / BUNDLE
    score_args: list[str] = []
    input_bytes = 0
    with tarfile.open(tar_path, "w", dereference=False) as tar:
        tar.add(a.bin, arcname=f"{TOOL_DIR}/convqa")
        tar.add(a.ort_lib, arcname=f"{TOOL_DIR}/lib/{os.path.basename(a.ort_lib)}")
        for given in a.inputs:
            inside = names.add(given)
            for local, name in input_files(given, inside, follow, skip):
                tar.add(local, arcname=name, recursive=False, filter=None)
                if os.path.isfile(local):
                    input_bytes += os.path.getsize(local)
            score_args.append(inside)
        model = a.model or default_model()
        embedder = a.embedder or (embedder_for(a.topics) if a.topics else None)
        for name, kind in SCORE_OPTIONS.items():
            value = getattr(a, name[2:].replace("-", "_"))
            if name == "--model":
                value = model
            if name == "--embedder":
                value = embedder
            if value is None or value is False:
                continue
            if kind == "flag":
                score_args.append(name)
                continue
            if kind == "value":
                score_args += [name, value]
                continue
            if not os.path.exists(value):
                raise JobError(f"{name} {value}: no such file or directory")
            target = names.add(value, shallow=kind == "dir")
            # --topics takes a model directory or its topic-model.json, as convqa score does.
            if kind == "file" or os.path.isfile(value):
                tar.add(value, arcname=target)
            else:
                # A model directory: its files, not the models beside it in subdirectories.
                for f in sorted(os.listdir(value)):
                    if os.path.isfile(os.path.join(value, f)):
                        tar.add(os.path.join(value, f), arcname=os.path.join(target, f))
            score_args += [name, target]
    return tar_path, score_args, input_bytes, names


def default_partitions(slots: int, input_bytes: int) -> int:
    """One partition per BYTES_PER_PARTITION of input, at least one per task slot, rounded up to
    a multiple of the slots: N = slots + 1 would leave all but one slot idle for the last wave."""
    slots = max(1, slots)
    want = max(slots, -(-input_bytes // BYTES_PER_PARTITION))
    return -(-want // slots) * slots


def score_partition(bundle_file, score_args, count, threads, kill_once):
    """The task: run `convqa score --shard K/N` in the unpacked archive and yield its files as
    (partition, attempt, file name, chunk of bytes)."""

    def task(index, _rows):
        from pyspark import SparkFiles, TaskContext

        ctx = TaskContext.get()
        attempt = ctx.attemptNumber() if ctx else 0
        root = Path(SparkFiles.get(bundle_file))
        if (root / bundle_file).is_dir():  # some Spark versions unpack into a directory of that name
            root = root / bundle_file
        exe = root / TOOL_DIR / "convqa"
        if not os.access(exe, os.X_OK):
            os.chmod(exe, 0o755)  # Spark's unpacking drops the executable bit
        libs = sorted((root / TOOL_DIR / "lib").iterdir())
        scratch = Path(tempfile.mkdtemp(prefix=f"convqa-part{index}-attempt{attempt}-"))
        try:
            out = scratch / "out"
            cmd = [str(exe), "score", *score_args, "--out", str(out),
                   "--shard", f"{index}/{count}", "--threads", str(threads),
                   "--ort-lib", str(libs[0])]
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONVQA_")}
            with open(scratch / "stderr.txt", "wb") as err:
                proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=err, stderr=err)
                if kill_once == index and attempt == 0:
                    # Let it get going (model loaded, output started), then kill it like a
                    # lost executor would, and fail the attempt.
                    deadline = time.time() + 60
                    while proc.poll() is None and time.time() < deadline:
                        if out.is_dir() and any(out.iterdir()):
                            time.sleep(0.2)
                            break
                        time.sleep(0.05)
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    raise RuntimeError(f"partition {index}: convqa killed on purpose (CONVQA_SPARK_KILL_ONCE)")
                rc = proc.wait()
            messages = (scratch / "stderr.txt").read_bytes()
            if rc not in (0, 1, 3):
                tail = messages.decode("utf-8", "replace")[-4000:]
                raise RuntimeError(f"partition {index}: convqa score exited with {rc}:\n{tail}")
            yield (index, attempt, "exit", str(rc).encode())
            yield (index, attempt, "messages.txt", messages)
            for name in ("conversations.jsonl", "rejects.jsonl", "run.json"):
                f = out / name
                if not f.exists():
                    continue
                with open(f, "rb") as fh:
                    while True:
                        chunk = fh.read(CHUNK)
                        if not chunk:
                            break
                        yield (index, attempt, name, chunk)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return task


def input_order(run: dict) -> dict[str, int]:
    return {info["path"]: i for i, info in enumerate(run.get("inputs", []))}


def sorted_lines(path: Path, key):
    """A part's lines grouped by (input, line) with ties (several records starting on one line of
    a file) put in a fixed order, so that the merge does not depend on the partition count."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for _, group in itertools.groupby(((key(l), l) for l in fh), key=lambda kl: kl[0][:2]):
            yield from sorted(group)


def merge_lines(parts: list[Path], name: str, out: Path, key) -> None:
    with open(out, "wb") as fh:
        for _, line in heapq.merge(*(sorted_lines(p / name, key) for p in parts)):
            fh.write(line)


def merge(tmp: Path, parts: list[Path], count: int, meta: dict,
          wall_ms: float) -> tuple[dict, list[int]]:
    runs = [json.loads((p / "run.json").read_text()) for p in parts]
    first = runs[0]
    for k, r in enumerate(runs):
        shard = r.get("shard") or {}
        if shard.get("index") != k or shard.get("count") != count:
            raise JobError(f"part {k}: run.json says shard {shard}, expected {k}/{count}")
        if r["inputs"] != first["inputs"] or shard["records_total"] != first["shard"]["records_total"]:
            raise JobError(f"part {k} read other inputs than part 0: refusing to merge")
    total = first["shard"]["records_total"]
    read = sum(r["counts"]["read"] for r in runs)
    if read != total:
        raise JobError(f"the parts read {read} records, the inputs hold {total}: refusing to merge")
    order = input_order(first)
    unknown = len(order)

    def result_key(line: bytes):
        # The fields before `source` are short strings, so its first match is the record's own
        # (a quote inside a string is escaped): no need to parse a whole result for its key.
        m = RESULT_KEY.match(line)
        if m:
            file, at, cid = json.loads(m["file"]), int(m["line"]), json.loads(m["id"])
        else:
            c = json.loads(line)
            s = c.get("source") or {}
            file, at, cid = s.get("file"), s.get("line", 0), c.get("conversation_id", "")
        return (order.get(file, unknown), at, cid)

    def reject_key(line: bytes):
        r = json.loads(line)
        return (order.get(r.get("source"), unknown), r.get("line", 0), line)

    merge_lines(parts, "conversations.jsonl", tmp / "conversations.jsonl", result_key)
    merge_lines(parts, "rejects.jsonl", tmp / "rejects.jsonl", reject_key)
    merged = dict(first)
    merged.pop("shard", None)
    merged["counts"] = {k: sum(r["counts"][k] for r in runs) for k in first["counts"]}
    # Stage times summed over the partitions (task time); total is the job's wall time.
    merged["timings_ms"] = {k: round(sum(r["timings_ms"][k] for r in runs), 3) for k in first["timings_ms"]}
    merged["timings_ms"]["total"] = wall_ms
    merged["spark"] = meta | {"partitions": count, "records_total": total}
    (tmp / "run.json").write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return merged, [r["counts"]["read"] for r in runs]


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".spark-tmp-", dir=out))
    started = time.time()
    try:
        bundle, score_args, input_bytes, names = build_bundle(a, tmp)

        from pyspark import SparkConf, SparkContext, StorageLevel

        conf = SparkConf().setAppName("convqa-score")
        sc = SparkContext.getOrCreate(conf)
        sc.setLogLevel("WARN")
        sc.addArchive(str(bundle))
        count = a.partitions or default_partitions(sc.defaultParallelism, input_bytes)
        threads = int(sc.getConf().get("spark.task.cpus", "1"))
        kill = os.environ.get("CONVQA_SPARK_KILL_ONCE")
        task = score_partition(BUNDLE, score_args, count, threads, int(kill) if kill else None)
        scored = sc.parallelize(range(count), count).mapPartitionsWithIndex(task)
        scored.persist(StorageLevel.DISK_ONLY)
        t0 = time.time()
        scored.count()  # every partition in parallel; retried attempts replace failed ones
        compute_s = time.time() - t0
        parts = [tmp / "parts" / f"part-{k:05d}" for k in range(count)]
        for p in parts:
            p.mkdir(parents=True)
        attempts, exits = [0] * count, [0] * count
        for index, attempt, name, chunk in scored.toLocalIterator():
            attempts[index] = attempt
            if name == "exit":
                exits[index] = int(chunk)
                continue
            with open(parts[index] / name, "ab") as fh:
                fh.write(chunk)
        scored.unpersist()
        for p in parts:
            names.rename_part(p)
        meta = {
            "master": sc.master,
            "spark_version": sc.version,
            "task_threads": threads,
            "task_attempts": attempts,
            "score_seconds": round(compute_s, 3),
        }
        sc.stop()
        wall_ms = round((time.time() - started) * 1000, 3)
        merged, reads = merge(tmp, parts, count, meta, wall_ms)
        # Run where DIR's files will be, so agents.json names them as DIR/parts/... relative to DIR.
        agents = subprocess.run(
            [os.path.abspath(a.bin), "agents",
             *sum((["--from", str(p.relative_to(tmp))] for p in parts), []), "--out", "agents"],
            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        if agents.returncode not in (0, 1):
            raise JobError("convqa agents failed:\n" + agents.stdout.decode("utf-8", "replace")[-4000:])
        for name in ("parts", "agents", "conversations.jsonl", "rejects.jsonl", "run.json"):
            dest = out / name
            if dest.is_dir():
                shutil.rmtree(dest)
            elif dest.exists():
                dest.unlink()
        for name in ("parts", "agents", "conversations.jsonl", "rejects.jsonl"):
            os.replace(tmp / name, out / name)
        os.replace(tmp / "run.json", out / "run.json")  # last: a complete directory
        c = merged["counts"]
        retried = sum(1 for x in attempts if x > 0)
        print(
            f"spark-score: scored {c['scored']} conversations ({c['turns']} turns) in {count} partitions"
            f" ({', '.join(map(str, reads))} records) on {merged['spark']['master']} in"
            f" {merged['timings_ms']['total'] / 1000:.1f} s"
            + (f"; {c['rejected']} rejected (see {out / 'rejects.jsonl'})" if c["rejected"] else "")
            + (f"; {retried} partition(s) retried" if retried else "")
            + f" → {out}",
            file=sys.stderr,
        )
        if c["scored"] == 0:
            return 3
        return 1 if c["rejected"] or any(e == 1 for e in exits) else 0
    except JobError as e:
        print(f"spark-score: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a failed Spark job (after its retries) is fatal
        print(f"spark-score: error: the Spark job failed: {str(e)[-4000:]}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
