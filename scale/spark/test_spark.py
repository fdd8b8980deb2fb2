"""The Spark job against one machine, on the bundled samples (run by scripts/test.sh, so by CI).

    scale/spark/.venv/bin/python scale/spark/test_spark.py     (CONVQA_BIN and CONVQA_ORT_LIB set)

1. `convqa score samples/` and `convqa agents` in one process: the reference.
2. scripts/spark-score.sh samples/ in local[2,4] with 3 partitions, partition 1's convqa killed
   (SIGKILL) in its first attempt: the merged results and rejects are byte for byte the
   reference's, agents.json equals the reference apart from where the results were read from,
   the other agents files are identical, the killed partition was retried, every record was read
   by exactly one partition.
3. The same with 2 partitions, no failure, the input given as an absolute path (which travels
   inside the archive under another name) and `--topics` with a topic model fitted `--fast` (the
   driver packs the embedder it was made with): the bytes one process writes for that same
   command line (neither the partition count nor the archive changes anything).
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
ABS_INPUT = str(REPO / "samples") + "/"


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
        # A topic model fitted with the fast embedder, which only the driver's choice ships.
        rc, out = run([BIN, "topics", "--from", str(cls.one), "--out", str(t / "topics"), "--fast",
                       "--topics", "4"])
        assert rc == 0, out
        # Given as the model's file (convqa score takes the directory or the file; the driver
        # packed only directories once).
        cls.topics = str(t / "topics" / "model" / "topic-model.json")
        # The reference for the absolute path: the same command line on one machine.
        cls.one_abs = t / "one-abs"
        rc, out = run([BIN, "score", ABS_INPUT, "--out", str(cls.one_abs), "--threads", "2",
                       "--topics", cls.topics])
        assert rc == cls.rc_one, out
        rc, out = run([BIN, "agents", "--from", str(cls.one_abs), "--out", str(t / "one-abs-agents")])
        assert rc in (0, 1), out
        cls.one_abs_agents = t / "one-abs-agents"
        cls.spark3 = t / "spark3"
        cls.rc3, cls.log3 = run(["bash", "scripts/spark-score.sh", INPUT, "--out", str(cls.spark3),
                                 "--partitions", "3"],
                                {"CONVQA_BIN": BIN, "CONVQA_SPARK_KILL_ONCE": "1"})
        cls.spark2 = t / "spark2"
        cls.rc2, cls.log2 = run(["bash", "scripts/spark-score.sh", ABS_INPUT, "--out", str(cls.spark2),
                                 "--partitions", "2", "--topics", cls.topics], {"CONVQA_BIN": BIN})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_code_is_that_of_one_process(self):
        self.assertEqual(self.rc3, self.rc_one, self.log3[-3000:])
        self.assertEqual(self.rc2, self.rc_one, self.log2[-3000:])

    def pairs(self):
        """(Spark run, the one-machine run of the same command line)."""
        return ((self.spark3, self.one, self.one_agents), (self.spark2, self.one_abs, self.one_abs_agents))

    def test_results_and_rejects_are_the_same_bytes(self):
        for d, one, _ in self.pairs():
            for name in ("conversations.jsonl", "rejects.jsonl"):
                got, want = (d / name).read_bytes(), (one / name).read_bytes()
                self.assertTrue(len(want) > 0, name)
                self.assertEqual(got, want, f"{d.name}/{name}")

    def test_an_absolute_input_keeps_its_name(self):
        rejects = (self.spark2 / "rejects.jsonl").read_text()
        self.assertIn(json.dumps(ABS_INPUT + "bad/bad.csv"), rejects)
        self.assertIn("first seen at " + ABS_INPUT, rejects)
        run2 = json.loads((self.spark2 / "run.json").read_text())
        self.assertTrue(all(i["path"].startswith(ABS_INPUT) for i in run2["inputs"]), run2["inputs"])
        one = json.loads((self.one_abs / "run.json").read_text())
        self.assertEqual(run2["inputs"], one["inputs"])
        messages = (self.spark2 / "parts" / "part-00000" / "messages.txt").read_text()
        self.assertIn("rejected " + ABS_INPUT + "bad/", messages)
        self.assertNotIn(" " + ABS_INPUT.lstrip("/"), messages)

    def test_topics_travel_with_their_embedder(self):
        results = (self.spark2 / "conversations.jsonl").read_text().splitlines()
        self.assertTrue(results)
        self.assertTrue(all('"topic":{"id":' in l for l in results), results[0][:300])

    def test_agents_equal_one_machine(self):
        for d, one, one_agents in self.pairs():
            want = json.loads((one_agents / "agents.json").read_text())
            got = json.loads((d / "agents" / "agents.json").read_text())
            self.assertEqual(without_sources(got), without_sources(want), d.name)
            self.assertEqual(len(got["input"]["sources"]), int(d.name[-1]))
            for name in ("agents.csv", "conversations.csv", "items.csv", "item_outcomes.json"):
                self.assertEqual((d / "agents" / name).read_bytes(),
                                 (one_agents / name).read_bytes(), f"{d.name}/agents/{name}")

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

    def test_model_directories_may_nest_when_renamed(self):
        n = self.m.Names()
        self.assertEqual(n.add("/repo/models", shallow=True), "repo/models")
        self.assertEqual(n.add("/repo/models/embed-fast", shallow=True), "repo/models/embed-fast")
        self.assertEqual(n.back("repo/models/embed-fast/model.onnx"), "/repo/models/embed-fast/model.onnx")
        self.assertEqual(n.back("repo/models/model.onnx"), "/repo/models/model.onnx")
        with self.assertRaises(self.m.JobError):  # an input is read, not only its top files
            n.add("/repo/models/embed", shallow=False)

    def test_the_embedder_a_topic_model_was_made_with_is_packed(self):
        import hashlib
        with tempfile.TemporaryDirectory() as t:
            t = Path(t)
            for name, data in (("default", b"encoder"), ("fast", b"static")):
                (t / name).mkdir()
                (t / name / "model.onnx").write_bytes(data)
                sha = hashlib.sha256(data).hexdigest()
                (t / name / "config.json").write_text(json.dumps({"onnx_sha256": sha}))
            model = t / "topics"
            model.mkdir()
            env = {"CONVQA_EMBED_DIR": str(t / "default"), "CONVQA_EMBED_FAST_DIR": str(t / "fast")}
            saved = os.environ.copy()
            os.environ.update(env)
            try:
                for data, want in ((b"static", "fast"), (b"encoder", "default"), (b"other", "default")):
                    doc = {"embedder": {"onnx_sha256": hashlib.sha256(data).hexdigest()}}
                    (model / "topic-model.json").write_text(json.dumps(doc))
                    self.assertEqual(self.m.embedder_for(str(model)), str(t / want), data)
                    self.assertEqual(self.m.embedder_for(str(model / "topic-model.json")), str(t / want))
                self.assertEqual(self.m.embedder_for(str(t / "missing")), str(t / "default"))
            finally:
                os.environ.clear()
                os.environ.update(saved)

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

    def test_names_go_back_as_given(self):
        n = self.m.Names()
        self.assertEqual(n.add("samples/"), "samples/")  # relative: travels as it is
        self.assertEqual(n.add("/data/day/"), "data/day")
        self.assertEqual(n.add("/data/one.jsonl"), "data/one.jsonl")
        self.assertEqual(n.add("/data/one.jsonl"), "data/one.jsonl")  # given twice: fine
        self.assertEqual(n.back("data/day"), "/data/day/")
        self.assertEqual(n.back("data/day/a/b.csv"), "/data/day/a/b.csv")
        self.assertEqual(n.back("data/one.jsonl"), "/data/one.jsonl")
        self.assertEqual(n.back("data/daybreak.jsonl"), "data/daybreak.jsonl")  # not under data/day
        self.assertEqual(n.back("samples/x.jsonl"), "samples/x.jsonl")
        m = self.m.Names()
        m.add("/data/day")
        self.assertEqual(m.back("data/day/a.csv"), "/data/day/a.csv")
        with self.assertRaises(self.m.JobError):
            m.add("data/day")  # relative, and the same name inside
        k = self.m.Names()
        k.add("data/day")
        with self.assertRaises(self.m.JobError):
            k.add("/data/day")  # the other order
        for first, second in (("data/day/", "/data/day/"), ("./data/day", "/data/day"),
                              ("data/day/x.jsonl", "/data/day"), ("/data/./day/", "/data/day/a.jsonl")):
            j = self.m.Names()
            j.add(first)
            with self.assertRaises(self.m.JobError, msg=(first, second)):
                j.add(second)
        ok = self.m.Names()
        ok.add("samples/")
        ok.add("samples/bad/bad.csv")  # relative and overlapping: as one process reads them
        ok.add("/data/a.jsonl")
        ok.add("/data/b.jsonl")  # renamed, side by side

    def test_a_collected_part_is_renamed(self):
        n = self.m.Names()
        n.add("/in/")
        with tempfile.TemporaryDirectory() as t:
            part = Path(t)
            result = (b'{"schema_version":"x","conversation_id":"in/a.jsonl","agent_id":"z",'
                      b'"source":{"file":"in/a.jsonl","line":3},"turns":[]}\n')
            (part / "conversations.jsonl").write_bytes(result)
            (part / "rejects.jsonl").write_bytes(
                b'{"source":"in/b.csv","line":2,"conversation_id":"c","reason":"duplicate conversation_id'
                b' \'c\': first seen at in/a.jsonl:1, the first one is kept","excerpt":"in/a.jsonl x"}\n')
            (part / "run.json").write_text(json.dumps({"inputs": [{"path": "in/a.jsonl", "format": "in"}], "n": 1}))
            (part / "messages.txt").write_bytes(b"convqa: rejected in/b.csv:2: why\nkept in/a.jsonl\n")
            n.rename_part(part)
            self.assertEqual((part / "conversations.jsonl").read_bytes(),
                             result.replace(b'"file":"in/a.jsonl"', b'"file":"/in/a.jsonl"'))
            self.assertEqual((part / "rejects.jsonl").read_bytes(),
                             b'{"source":"/in/b.csv","line":2,"conversation_id":"c","reason":"duplicate'
                             b' conversation_id \'c\': first seen at /in/a.jsonl:1, the first one is kept",'
                             b'"excerpt":"in/a.jsonl x"}\n')
            self.assertEqual(json.loads((part / "run.json").read_text()),
                             {"inputs": [{"path": "/in/a.jsonl", "format": "in"}], "n": 1})
            self.assertEqual((part / "messages.txt").read_bytes(),
                             b"convqa: rejected /in/b.csv:2: why\nkept /in/a.jsonl\n")
            (part / "rejects.jsonl").write_bytes(b'not a reject\n')
            with self.assertRaises(self.m.JobError):
                n.rename_part(part)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=sys.argv[:1])
