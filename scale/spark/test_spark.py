"""The Spark job against one machine, on the bundled samples (run by scripts/test.sh, so by CI).

    scale/spark/.venv/bin/python scale/spark/test_spark.py     (CONVQA_BIN and CONVQA_ORT_LIB set)

1. `convqa score samples/` and `convqa agents` in one process: the reference.
2. scripts/spark-score.sh samples/ in local[2,4] with 3 partitions, partition 1's convqa killed
   (SIGKILL) in its first attempt: the merged results and rejects are byte for byte the
   reference's, agents.json equals the reference apart from where the results were read from,
   the other agents files are identical, the killed partition was retried, every record was read
   by exactly one partition.
3. The same with 2 partitions and no failure: the same bytes (the partition count changes
   nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CONVQA_BIN") or str(REPO / "target" / "release" / "convqa")
INPUT = "samples/"


def run(cmd, env=None):
    p = subprocess.run(cmd, cwd=REPO, env=os.environ | (env or {}), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def without_sources(agents: dict) -> dict:
    """agents.json apart from provenance: which result files were read (one file against one per
    partition). The results fingerprint, computed over the records, stays in."""
    a = json.loads(json.dumps(agents))
    a["input"].pop("sources")
    return a


class SparkJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = Path(cls.tmp.name)
        cls.one = t / "one"
        cls.rc_one, out = run([BIN, "score", INPUT, "--out", str(cls.one), "--threads", "2"])
        assert cls.rc_one in (0, 1), out
        rc, out = run([BIN, "agents", "--from", str(cls.one), "--out", str(t / "one-agents")])
        assert rc in (0, 1), out
        cls.one_agents = t / "one-agents"
        cls.spark3 = t / "spark3"
        cls.rc3, cls.log3 = run(["bash", "scripts/spark-score.sh", INPUT, "--out", str(cls.spark3),
                                 "--partitions", "3"],
                                {"CONVQA_BIN": BIN, "CONVQA_SPARK_KILL_ONCE": "1"})
        cls.spark2 = t / "spark2"
        cls.rc2, cls.log2 = run(["bash", "scripts/spark-score.sh", INPUT, "--out", str(cls.spark2),
                                 "--partitions", "2"], {"CONVQA_BIN": BIN})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_code_is_that_of_one_process(self):
        self.assertEqual(self.rc3, self.rc_one, self.log3[-3000:])
        self.assertEqual(self.rc2, self.rc_one, self.log2[-3000:])

    def test_results_and_rejects_are_the_same_bytes(self):
        for d in (self.spark3, self.spark2):
            for name in ("conversations.jsonl", "rejects.jsonl"):
                got, want = (d / name).read_bytes(), (self.one / name).read_bytes()
                self.assertTrue(len(want) > 0, name)
                self.assertEqual(got, want, f"{d.name}/{name}")

    def test_agents_equal_one_machine(self):
        want = json.loads((self.one_agents / "agents.json").read_text())
        for d in (self.spark3, self.spark2):
            got = json.loads((d / "agents" / "agents.json").read_text())
            self.assertEqual(without_sources(got), without_sources(want), d.name)
            self.assertEqual(len(got["input"]["sources"]), int(d.name[-1]))
            for name in ("agents.csv", "conversations.csv", "items.csv", "item_outcomes.json"):
                self.assertEqual((d / "agents" / name).read_bytes(),
                                 (self.one_agents / name).read_bytes(), f"{d.name}/agents/{name}")

    def test_killed_partition_was_retried_and_nothing_doubled(self):
        run3 = json.loads((self.spark3 / "run.json").read_text())
        self.assertEqual(run3["spark"]["task_attempts"], [0, 1, 0], self.log3[-3000:])
        self.assertIn("killed on purpose", self.log3)
        one = json.loads((self.one / "run.json").read_text())
        self.assertEqual(run3["counts"], one["counts"])
        reads = []
        for k in range(3):
            part = json.loads((self.spark3 / "parts" / f"part-{k:05d}" / "run.json").read_text())
            self.assertEqual(part["shard"]["index"], k)
            self.assertEqual(part["shard"]["records_total"], one["counts"]["read"])
            reads.append(part["counts"]["read"])
        self.assertEqual(sum(reads), one["counts"]["read"])
        self.assertFalse(list(self.spark3.glob(".spark-tmp-*")), "temporary directory left behind")

    def test_a_bad_input_path_is_fatal(self):
        rc, log = run(["bash", "scripts/spark-score.sh", "samples/no-such-file.jsonl", "--out",
                       str(Path(self.tmp.name) / "bad")], {"CONVQA_BIN": BIN})
        self.assertEqual(rc, 2, log[-2000:])
        self.assertIn("no-such-file.jsonl", log)


class DriverParts(unittest.TestCase):
    """The driver's pure parts, without Spark."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, str(REPO / "scale" / "spark"))
        import convqa_spark

        cls.m = convqa_spark

    def test_default_partitions_fill_every_wave(self):
        mb = 1 << 20
        self.assertEqual(self.m.default_partitions(2, 1000), 2)
        self.assertEqual(self.m.default_partitions(2, 36 * mb), 4)  # 3 by size, rounded up to 2 waves
        self.assertEqual(self.m.default_partitions(3, 100 * mb), 9)
        self.assertEqual(self.m.default_partitions(0, 0), 1)

    def test_bundle_names_keep_relative_paths(self):
        self.assertEqual(self.m.bundle_name("samples/"), "samples/")
        self.assertEqual(self.m.bundle_name("./a/b.jsonl"), "./a/b.jsonl")
        self.assertEqual(self.m.bundle_name("a/../b.jsonl"), os.path.abspath("b.jsonl").lstrip("/"))
        self.assertEqual(self.m.bundle_name("/data/day.jsonl"), "data/day.jsonl")
        self.assertFalse(self.m.bundle_name("../up.jsonl").startswith(".."))

    def test_result_key_reads_the_record_start_as_json_would(self):
        lines = (REPO / "samples" / "golden" / "conversations.jsonl").read_bytes().splitlines()
        self.assertTrue(lines)
        for line in lines:
            m = self.m.RESULT_KEY.match(line)
            r = json.loads(line)
            self.assertIsNotNone(m)
            self.assertEqual(json.loads(m["id"]), r["conversation_id"])
            self.assertEqual((json.loads(m["file"]), int(m["line"])),
                             (r["source"]["file"], r["source"]["line"]))
        # An id with an escaped quote and a "source" look-alike inside it.
        odd = b'{"schema_version":"x","conversation_id":"a\\"source\\":{\\"file","agent_id":"z",' \
              b'"source":{"file":"f.jsonl","line":7},"turns":[]}'
        m = self.m.RESULT_KEY.match(odd)
        self.assertEqual((json.loads(m["file"]), int(m["line"])), ("f.jsonl", 7))


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=sys.argv[:1])
