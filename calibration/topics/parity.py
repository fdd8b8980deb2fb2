"""Parity of convqa's clustering (src/topics/cluster.rs) with the method study's scikit-learn run.

    training/.venv/bin/python calibration/topics/parity.py

For each language: the study's Q4 features (e5 `query:` on the cleaned whole conversation, from the
study's embedding cache, so run study.py first), clustered (a) by scikit-learn as study.py does
(average-linkage cosine agglomerative + k-means from its means) and (b) by
`cargo run --release --example cluster_rows` (the Rust code `convqa topics` will use). Prints NMI
against the reviewer reasons for both and the agreement between the two partitions (NMI).
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import score_topics as S  # noqa: E402
import study  # noqa: E402


def main():
    data = S.load_set()
    root = HERE.parent.parent
    for lang, (convs, reasons) in data.items():
        texts = study.texts_for(convs, lang)
        X = study.l2(S.e5_embed(texts["whole_clean"], 12, prefix="query: ", tag="whole_clean"))
        k = len(set(reasons))
        py = study.agglo_refined(study.centre(X), k, "average")[0]
        payload = json.dumps({"k": k, "rows": X.astype(np.float32).tolist()})
        out = subprocess.run(["cargo", "run", "--quiet", "--release", "--example", "cluster_rows"], cwd=root,
                             input=payload.encode(), capture_output=True, check=True).stdout
        rs = np.array(json.loads(out))
        print(f"{lang}: k {k}; NMI vs reasons: scikit-learn {nmi(reasons, py):.3f}, convqa {nmi(reasons, rs):.3f}; "
              f"partitions agree (NMI) {nmi(py, rs):.3f}")


if __name__ == "__main__":
    main()
