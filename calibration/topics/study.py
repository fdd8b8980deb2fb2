"""Method study for `convqa topics` (issue 29): what beats the peer (multilingual-e5-small on the
whole conversation + k-means) at recovering the reviewer contact reasons, per language?

    training/.venv/bin/python calibration/topics/study.py [--parts grid,texts,robust,seeds,k,timing]
                                                        [--recipes ID,...] [--threads 1] [--quick]

Parts (each merges its results into calibration/topics/study_results.json):
  grid    every feature x clustering at k-means seed 0, finalists over seeds 0-4, internal k criteria
  texts   text construction x encoder x (raw | centred), k-means seeds 0-4
  robust  named recipes (recipes(); R0 = the peer) on the full set and on 10 random 90 % subsamples,
          with the paired NMI difference from the peer on the same subsample
  seeds   named recipes (--seed-recipes) on the full set, k-means seeds 0-4
  k       choosing k for --k-recipe: silhouette, stability, an average-linkage threshold
          calibrated on one language and applied to the other
  timing  e5 (12 layers, fp32, --threads) on the 440 whole conversations and customer texts
A full run takes about 40 minutes on one shared core (embeddings cached after the first).

Uses the development set and the metrics of score_topics.py (same directory; NMI arithmetic,
purity, share of the 10 largest clusters that are mostly one reason), k = 13 per language unless
stated. Tries:
  (i)   text: whole conversation (the peer), the same cleaned, the customer's turns only (cleaned:
        @handles, URLs, numbers, Weibo [emoticons], hashtag markers, repost boilerplate removed),
        the opening customer request only (the first customer turn with content), and the opening
        weighted against all customer turns (vector level: normalise(w*open + (1-w)*customer));
  (ii)  e5 on those texts, "passage: " and "query: " prefixes (e5's card advises "query: " for
        symmetric tasks such as clustering);
  (iii) e5 combined with TF-IDF (concatenation of normalised vectors, TF-IDF raw or reduced by
        SVD to 100 dimensions), weights beta;
  (iv)  clustering: k-means n_init=10 (the peer's), n_init=100, spherical k-means (20 restarts of
        k-means++ on cosine), Ward and average-cosine agglomerative each refined by k-means, and
        automatic k (silhouette, Calinski-Harabasz, Davies-Bouldin over k = 4..30);
  (v)   cheaper encoders: e5 cut to its lower 6 layers (same weights, no fine-tuning), and the
        bundled sentiment model's mean-pooled hidden state (models/model.onnx: '/m/Div_output_0',
        the input of the heads' Gemm, exposed as an extra graph output in memory; 128 tokens);
  plus vector post-processing: centring (subtract the set mean, renormalise) and removing the top
  principal component(s) ("all-but-the-top").
Finalists are rerun with k-means seeds 0-4 (mean, sd, and the paired difference from the peer
with the same seed), and every recipe on 10 random 90 % subsamples, paired with the peer.
Writes calibration/topics/study_results.json; STUDY.md reports it.
Embeddings are cached in calibration/topics/.cache/ (score_topics.e5_embed).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import score_topics as S  # noqa: E402

ROOT = HERE.parent.parent
SEEDS = (0, 1, 2, 3, 4)

# ---------------------------------------------------------------------------------------------
# (i) Text construction
# ---------------------------------------------------------------------------------------------
URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(\[\.\]|\.)(com|net|org|cn|ly|co|me|io)\b\S*", re.I)
HANDLE_ZH = re.compile(r"(回复|对)?@[^\s@:：,，。！!?？;；、)）(（\[\]【】#/]{1,30}(\s*说)?[:：]?")
HANDLE_EN = re.compile(r"@\w+")
REPOST = re.compile(r"//|转发微博|分享自|抄送|\(来自.{0,20}\)|（来自.{0,20}）")
EMOTICON = re.compile(r"\[[^\[\]\s]{1,6}\]")
# digit runs not glued to Latin letters: "8:07", "2020", "$20" go; "4G", "ps4", "50M" stay
NUM = re.compile(r"[$¥￥]?(?<![A-Za-z\d.])\d+(?:[.,:：/-]\d+)*(?![A-Za-z\d])%?")
SPACE = re.compile(r"\s+")
CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def clean(text: str, lang: str) -> str:
    t = URL.sub(" ", text)
    t = (HANDLE_ZH if lang.startswith("zh") else HANDLE_EN).sub(" ", t)
    t = REPOST.sub(" ", t)
    t = EMOTICON.sub(" ", t)
    t = t.replace("#", " ")
    t = re.sub(r"^\s*RT\b", " ", t)
    t = re.sub(r"\^\w+\s*$", " ", t)  # agent signatures (^JS)
    t = NUM.sub(" ", t)
    return SPACE.sub(" ", t).strip()


def has_content(t: str) -> bool:
    return len(CONTENT.findall(t)) >= 6


def customer_parts(conv, lang):
    """(opening request, all customer turns): cleaned; the opening is the first customer turn with
    content (a turn of only @handles or a link gives way to the next, as the guideline says)."""
    turns = [clean(t["text"], lang) for t in conv["turns"] if t["speaker"] == "customer"]
    turns = [t for t in turns if t]
    if not turns:  # no customer text at all: fall back to the whole conversation, cleaned
        w = clean(S.whole_text(conv), lang)
        return w, w
    opening = next((t for t in turns if has_content(t)), turns[0])
    return opening, "\n".join(turns)


def texts_for(convs, lang):
    op, cu = zip(*(customer_parts(c, lang) for c in convs))
    return {
        "whole": [S.whole_text(c) for c in convs],
        "whole_clean": [clean(S.whole_text(c), lang) for c in convs],
        "cust": list(cu),
        "open": list(op),
    }


# ---------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------
def l2(X):
    X = np.asarray(X, np.float64)
    return X / np.linalg.norm(X, axis=1, keepdims=True).clip(1e-12)


def centre(X):
    return l2(X - X.mean(0, keepdims=True))


def drop_top_pcs(X, d=1):
    Xc = X - X.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    P = vt[:d]
    return l2(Xc - (Xc @ P.T) @ P)


def weighted(A, B, w):
    """normalise(w*A + (1-w)*B) of two row-normalised matrices."""
    return l2(w * l2(A) + (1 - w) * l2(B))


def tfidf_dense(texts, lang, fit_on=None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    kw = dict(sublinear_tf=True, min_df=1)
    v = (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), **kw) if lang.startswith("zh")
         else TfidfVectorizer(analyzer="word", ngram_range=(1, 2), **kw))
    v.fit(fit_on or texts)
    return v.transform(texts)


def svd(X, n=100, seed=0):
    from sklearn.decomposition import TruncatedSVD
    return l2(TruncatedSVD(n_components=n, random_state=seed).fit_transform(X))


class Sentiment:
    """The bundled sentiment model's mean-pooled hidden state (384-d), from models/model.onnx with
    the input of its heads exposed as an extra output (the files are not changed)."""

    def __init__(self, threads=1):
        import onnx
        import onnxruntime as ort
        from tokenizers import Tokenizer
        m = onnx.load(str(ROOT / "models" / "model.onnx"))
        m.graph.output.append(onnx.helper.make_tensor_value_info("/m/Div_output_0", onnx.TensorProto.FLOAT, None))
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(ROOT / "models" / "tokenizer.json"))  # truncates at 128

    def embed(self, texts):
        out = []
        for e in self.tok.encode_batch(list(texts)):
            ids = np.asarray([e.ids], np.int64)
            out.append(self.sess.run(["/m/Div_output_0"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
        return l2(np.stack(out)).astype(np.float32)


def sentiment_embed(texts, tag, threads=1, _m={}):
    import hashlib
    h = hashlib.sha1(json.dumps(["sentiment", texts], ensure_ascii=False).encode()).hexdigest()[:16]
    p = S.CACHE / f"sent-{tag}-{h}.npy"
    if p.exists():
        return np.load(p)
    S.CACHE.mkdir(exist_ok=True)
    if "m" not in _m:
        _m["m"] = Sentiment(threads)
    t0 = time.time()
    X = _m["m"].embed(texts)
    np.save(p, X)
    with open(S.CACHE / "timings.jsonl", "a") as f:
        f.write(json.dumps({"file": p.name, "texts": len(texts), "seconds": round(time.time() - t0, 2)}) + "\n")
    return X


# ---------------------------------------------------------------------------------------------
# (iv) Clustering
# ---------------------------------------------------------------------------------------------
def km(X, k, seed=0, n_init=10):
    from sklearn.cluster import KMeans
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(X)


def spherical_kmeans(X, k, seed=0, restarts=20, iters=100):
    """k-means on the unit sphere (cosine): k-means++ seeding on 1-cos, assignment by max cosine,
    centroids renormalised; the restart with the highest total cosine wins."""
    X = l2(X)
    rng = np.random.RandomState(seed)
    best, best_obj = None, -np.inf
    n = len(X)
    for _ in range(restarts):
        c = [rng.randint(n)]
        d = 1 - X @ X[c[0]]
        for _ in range(1, k):
            p = np.clip(d, 0, None) ** 2
            c.append(rng.choice(n, p=p / p.sum()) if p.sum() > 0 else rng.randint(n))
            d = np.minimum(d, 1 - X @ X[c[-1]])
        C = X[c].copy()
        lab = None
        for _ in range(iters):
            new = (X @ C.T).argmax(1)
            if lab is not None and (new == lab).all():
                break
            lab = new
            for j in range(k):
                m = X[lab == j]
                C[j] = l2(m.sum(0, keepdims=True))[0] if len(m) else X[rng.randint(n)]
        obj = (X * C[lab]).sum()
        if obj > best_obj:
            best, best_obj = lab, obj
    return best


def agglo_refined(X, k, linkage="ward"):
    from sklearn.cluster import AgglomerativeClustering, KMeans
    if linkage == "ward":
        a = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    else:
        a = AgglomerativeClustering(n_clusters=k, linkage=linkage, metric="cosine").fit_predict(X)
    C = np.stack([X[a == j].mean(0) for j in range(k)])
    return KMeans(n_clusters=k, init=C, n_init=1).fit_predict(X), a


CLUSTERERS = {
    "km10": lambda X, k, s: km(X, k, s, 10),
    "km100": lambda X, k, s: km(X, k, s, 100),
    "skm": lambda X, k, s: spherical_kmeans(X, k, s),
    "ward+km": lambda X, k, s: agglo_refined(X, k, "ward")[0],
    "avgcos+km": lambda X, k, s: agglo_refined(X, k, "average")[0],
    "ward": lambda X, k, s: agglo_refined(X, k, "ward")[1],
}


def choose_k(X, lo=4, hi=30, seed=0):
    """k-means (n_init=10) at each k; the k each internal criterion prefers."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
    rows = []
    for k in range(lo, hi + 1):
        lab = km(X, k, seed)
        rows.append((k, silhouette_score(X, lab, metric="cosine"), calinski_harabasz_score(X, lab),
                     davies_bouldin_score(X, lab), lab))
    pick = {"silhouette": max(rows, key=lambda r: r[1]), "calinski_harabasz": max(rows, key=lambda r: r[2]),
            "davies_bouldin": min(rows, key=lambda r: r[3])}
    return pick, rows


# ---------------------------------------------------------------------------------------------
def grid_part(a, report):
    """Every feature x clustering at seed 0, then finalists over 5 k-means seeds, then choosing k
    by internal criteria."""
    data = S.load_set()
    report.update({"grid": {}, "finalists": {}, "choose_k": {}, "examples": {}})
    for lang, (convs, reasons) in data.items():
        k = len(set(reasons))
        T = texts_for(convs, lang)
        report["examples"][lang] = [{"id": c["conversation_id"], "open": T["open"][i][:160], "cust": T["cust"][i][:160]}
                                    for i, c in enumerate(convs[:5])]
        F = {}
        # ---- e5 features (12 layers; 6 layers for the cheap variants)
        E = {}
        for var in ("whole", "whole_clean", "cust", "open"):
            E[("p", 12, var)] = S.e5_embed(T[var], 12, prefix="passage: ", tag=var)
        for var in ("whole", "cust", "open"):
            E[("q", 12, var)] = S.e5_embed(T[var], 12, prefix="query: ", tag=var)
        if not a.quick:
            for var in ("whole", "cust", "open"):
                E[("q", 6, var)] = S.e5_embed(T[var], 6, prefix="query: ", tag=var)
            E[("p", 6, "whole")] = S.e5_embed(T["whole"], 6, prefix="passage: ", tag="whole")
        for (pf, L, var), X in E.items():
            F[f"e5-{L}L {pf}: {var}"] = l2(X)
        for pf, L in {(pf, L) for pf, L, _ in E if (pf, L, "open") in E}:
            for w in (0.5, 0.7):
                F[f"e5-{L}L {pf}: open{w}+cust"] = weighted(E[(pf, L, "open")], E[(pf, L, "cust")], w)
        # centring / all-but-the-top
        for name in list(F):
            F[name + " |centred"] = centre(F[name])
            F[name + " |-1pc"] = drop_top_pcs(F[name], 1)
        # ---- sentiment model's pooled state
        if not a.quick:
            for var in ("whole", "cust", "open"):
                F[f"sentiment: {var}"] = sentiment_embed(T[var], var, a.threads)
            F["sentiment: open0.5+cust"] = weighted(F["sentiment: open"], F["sentiment: cust"], 0.5)
            for name in [n for n in F if n.startswith("sentiment")]:
                F[name + " |centred"] = centre(F[name])
        # ---- TF-IDF (customer side) and combinations
        tf = {var: tfidf_dense(T[var], lang) for var in ("whole", "cust")}
        tf["open"] = tfidf_dense(T["open"], lang, fit_on=T["cust"])
        tf["open0.5+cust"] = None
        F["tfidf: whole"] = tf["whole"]
        F["tfidf: cust"] = tf["cust"]
        tcu = tf["cust"].toarray()
        top = tf["open"].toarray()
        F["tfidf: open0.5+cust"] = weighted(top, tcu, 0.5)
        S_cust = svd(tcu, 100)
        S_ow = svd(F["tfidf: open0.5+cust"], 100)
        report["grid"].setdefault(lang, [])
        base_e5 = ["e5-12L q: open0.5+cust |centred", "e5-12L q: cust |centred", "e5-12L p: whole |centred",
                   "e5-12L q: open0.7+cust |centred"]
        if not a.quick:
            base_e5.append("e5-6L q: open0.5+cust |centred")
        for be in base_e5:
            for beta in (0.5, 0.75, 1.0):
                F[f"[{be}] + {beta}*svd(tfidf open0.5+cust)"] = np.hstack([F[be], beta * S_ow])
                F[f"[{be}] + {beta}*svd(tfidf cust)"] = np.hstack([F[be], beta * S_cust])
            F[f"[{be}] + 1.0*tfidf open0.5+cust"] = np.hstack([F[be], F["tfidf: open0.5+cust"]])

        # ---- grid at seed 0
        t0 = time.time()
        grid = []
        for fname, X in F.items():
            dense = X.toarray() if hasattr(X, "toarray") else X
            clus = CLUSTERERS if (fname.startswith("e5-12L") and "|" in fname and "q:" in fname) or fname.startswith("[") \
                else {"km10": CLUSTERERS["km10"], "skm": CLUSTERERS["skm"]}
            if fname in ("e5-12L p: whole", "tfidf: whole"):
                clus = CLUSTERERS
            for cname, fn in clus.items():
                lab = fn(X if cname.startswith("km") else dense, k, 0)
                s = S.scores(reasons, lab)
                grid.append({"features": fname, "clustering": cname, **s})
        grid.sort(key=lambda r: -r["nmi"])
        report["grid"][lang] = grid
        print(f"\n== {lang}: {len(grid)} configurations at seed 0 ({time.time() - t0:.0f} s); top 25")
        peer = next(r for r in grid if r["features"] == "e5-12L p: whole" and r["clustering"] == "km10")
        print(f"peer: NMI {peer['nmi']:.3f} purity {peer['purity']:.3f}")
        for r in grid[:25]:
            print(f"  {r['nmi']:.3f} {r['purity']:.3f} {r['top10_mostly_one']:.1f}  {r['clustering']:10} {r['features']}")

        # ---- finalists over 5 seeds: best per family + fixed comparison points
        fixed = [("e5-12L p: whole", "km10"), ("tfidf: whole", "km10"), ("e5-12L p: whole |centred", "km10"),
                 ("e5-12L q: cust |centred", "km10"), ("e5-12L q: open0.5+cust |centred", "km10"),
                 ("e5-12L q: open0.5+cust |centred", "skm"), ("e5-12L q: open0.5+cust |centred", "km100"),
                 ("e5-12L q: open0.5+cust |centred", "ward+km"),
                 ("[e5-12L q: open0.5+cust |centred] + 0.75*svd(tfidf open0.5+cust)", "km10"),
                 ("[e5-12L q: open0.5+cust |centred] + 0.75*svd(tfidf open0.5+cust)", "skm"),
                 ("[e5-12L q: open0.5+cust |centred] + 1.0*svd(tfidf open0.5+cust)", "km10"),
                 ("tfidf: open0.5+cust", "km10")]
        if not a.quick:
            fixed += [("e5-6L q: open0.5+cust |centred", "km10"), ("e5-6L p: whole", "km10"),
                      ("[e5-6L q: open0.5+cust |centred] + 0.75*svd(tfidf open0.5+cust)", "km10"),
                      ("sentiment: open0.5+cust |centred", "km10")]
        seen = set()
        for r in grid[:6]:
            fixed.append((r["features"], r["clustering"]))
        fin = []
        peer_seeds = None
        for fname, cname in fixed:
            if (fname, cname) in seen or fname not in F:
                continue
            seen.add((fname, cname))
            X = F[fname]
            dense = X.toarray() if hasattr(X, "toarray") else X
            per = [S.scores(reasons, CLUSTERERS[cname](X if cname.startswith("km") else dense, k, s)) for s in SEEDS]
            nmis = np.array([p["nmi"] for p in per])
            if peer_seeds is None:
                peer_seeds = nmis
            fin.append({"features": fname, "clustering": cname,
                        "nmi_mean": float(nmis.mean()), "nmi_sd": float(nmis.std(ddof=1)),
                        "nmi_min": float(nmis.min()), "nmi_max": float(nmis.max()),
                        "purity_mean": float(np.mean([p["purity"] for p in per])),
                        "purity_sd": float(np.std([p["purity"] for p in per], ddof=1)),
                        "top10_mean": float(np.mean([p["top10_mostly_one"] for p in per])),
                        "diff_vs_peer_mean": float((nmis - peer_seeds).mean()),
                        "diff_vs_peer_min": float((nmis - peer_seeds).min()),
                        "seed0": per[0]})
        report["finalists"][lang] = fin
        print(f"\n== {lang}: finalists over seeds {SEEDS}")
        for f in fin:
            print(f"  NMI {f['nmi_mean']:.3f}±{f['nmi_sd']:.3f} (vs peer {f['diff_vs_peer_mean']:+.3f}, min {f['diff_vs_peer_min']:+.3f})"
                  f" purity {f['purity_mean']:.3f}±{f['purity_sd']:.3f} top10 {f['top10_mean']:.2f}  {f['clustering']:9} {f['features']}")

        # ---- choosing k
        ck = {}
        for fname in ("e5-12L p: whole", "e5-12L q: open0.5+cust |centred",
                      "[e5-12L q: open0.5+cust |centred] + 0.75*svd(tfidf open0.5+cust)"):
            pick, rows = choose_k(F[fname])
            ck[fname] = {"true_k": k,
                         "picked": {c: {"k": r[0], **{m: v for m, v in S.scores(reasons, r[4]).items() if m in ("nmi", "purity", "top10_mostly_one")}}
                                    for c, r in pick.items()},
                         "curve": [{"k": r[0], "silhouette": float(r[1]), "ch": float(r[2]), "db": float(r[3]),
                                    "nmi": S.scores(reasons, r[4])["nmi"], "purity": S.scores(reasons, r[4])["purity"]} for r in rows]}
            print(f"choose k ({fname}): " + ", ".join(f"{c} -> k={v['k']} (NMI {v['nmi']:.3f}, purity {v['purity']:.3f})"
                                                      for c, v in ck[fname]["picked"].items()) + f"; true k={k}")
        report["choose_k"][lang] = ck


# ---------------------------------------------------------------------------------------------
# Robustness: the same recipes on 10 random 90 % subsamples (features refitted on the subsample)
# ---------------------------------------------------------------------------------------------
class Views:
    """Raw per-conversation blocks of one language; features for a subset are built from them
    (centring, TF-IDF and SVD are refitted on the subset, as `convqa topics` would on its batch)."""

    def __init__(self, convs, lang):
        self.lang, self.convs = lang, convs
        self.T = texts_for(convs, lang)
        self.E = {(pf, var): S.e5_embed(self.T[var], 12, prefix=f"{'passage' if pf == 'p' else 'query'}: ", tag=var)
                  for pf, var in (("p", "whole"), ("p", "whole_clean"), ("q", "whole"), ("q", "whole_clean"), ("q", "cust"), ("q", "open"),
                                  ("p", "cust"), ("p", "open"))}

    def turn_vectors(self):
        """Each turn embedded on its own ("query: " + cleaned turn; the 512-token limit never binds):
        per conversation the mean over all turns, the opening customer turn, the mean over the
        customer turns. One encoder pass over every turn costs about what the whole text costs."""
        if hasattr(self, "_tv"):
            return self._tv
        per = []
        for c in self.convs:
            ts = [(t["speaker"], clean(t["text"], self.lang)) for t in c["turns"]]
            ts = [(sp, t) for sp, t in ts if t]
            cust = [t for sp, t in ts if sp == "customer"]
            opening = next((t for t in cust if has_content(t)), cust[0] if cust else ts[0][1])
            per.append((ts, cust or [opening], opening))
        uniq = sorted({t for ts, _, _ in per for _, t in ts} | {o for _, _, o in per})
        U = S.e5_embed(uniq, 12, prefix="query: ", tag="turns")
        row = {t: i for i, t in enumerate(uniq)}
        allm = l2(np.stack([U[[row[t] for _, t in ts]].mean(0) for ts, _, _ in per]))
        custm = l2(np.stack([U[[row[t] for t in cu]].mean(0) for _, cu, _ in per]))
        op = l2(np.stack([U[row[o]] for _, _, o in per]))
        self._tv = {"all": allm, "cust": custm, "open": op}
        return self._tv

    def turns_open_cust(self, idx, w=0.7):
        tv = self.turn_vectors()
        return weighted(tv["open"][idx], tv["cust"][idx], w)

    def e5(self, idx, pf, var):
        return l2(self.E[(pf, var)][idx])

    def e5_open_cust(self, idx, pf, w):
        return weighted(self.E[(pf, "open")][idx], self.E[(pf, "cust")][idx], w)

    def tfidf_oc(self, idx, w=0.5):
        cu = [self.T["cust"][i] for i in idx]
        op = [self.T["open"][i] for i in idx]
        return weighted(tfidf_dense(op, self.lang, fit_on=cu).toarray(), tfidf_dense(cu, self.lang).toarray(), w)

    def tfidf(self, idx, var):
        return tfidf_dense([self.T[var][i] for i in idx], self.lang)


def coassoc(views, k, seed, runs=5):
    """Co-association ensemble: k-means (n_init=10) `runs` times on each view, the share of runs
    that put two conversations together, average linkage on 1 - share."""
    from sklearn.cluster import AgglomerativeClustering
    n = views[0].shape[0]
    M = np.zeros((n, n))
    for X in views:
        for r in range(runs):
            lab = km(X, k, seed * 100 + r)
            M += lab[:, None] == lab[None, :]
    M /= len(views) * runs
    return AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average").fit_predict(1 - M)


def recipes():
    """(name, features(V, idx), clustering(X, k, seed)). R0 is the peer, R1 the floor."""
    C = CLUSTERERS
    wc = lambda V, i: centre(V.e5(i, "p", "whole"))
    oc7 = lambda V, i: centre(V.e5_open_cust(i, "q", 0.7))
    oc5 = lambda V, i: centre(V.e5_open_cust(i, "q", 0.5))
    tsvd = lambda V, i: svd(V.tfidf_oc(i), 100)
    wcc = lambda V, i: centre(V.e5(i, "p", "whole_clean"))
    qwcc = lambda V, i: centre(V.e5(i, "q", "whole_clean"))
    return [
        ("R0 peer: e5 whole, k-means", lambda V, i: V.e5(i, "p", "whole"), C["km10"]),
        ("R1 floor: tfidf whole, k-means", lambda V, i: V.tfidf(i, "whole"), C["km10"]),
        ("R2 e5 whole centred, k-means", wc, C["km10"]),
        ("R3 e5 whole centred, k-means n_init=100", wc, C["km100"]),
        ("R4 e5 whole centred, avgcos+km", wc, C["avgcos+km"]),
        ("R5 e5 whole centred, ward+km", wc, C["ward+km"]),
        ("R6 e5 whole_clean centred, k-means", lambda V, i: centre(V.e5(i, "p", "whole_clean")), C["km10"]),
        ("R7 e5 q cust centred, k-means", lambda V, i: centre(V.e5(i, "q", "cust")), C["km10"]),
        ("R8 e5 q cust centred, avgcos+km", lambda V, i: centre(V.e5(i, "q", "cust")), C["avgcos+km"]),
        ("R9 e5 q open0.7+cust centred, k-means", oc7, C["km10"]),
        ("R10 e5 q open0.7+cust centred, avgcos+km", oc7, C["avgcos+km"]),
        ("R11 e5 q open0.7+cust centred, ward+km", oc7, C["ward+km"]),
        ("R12 e5 p open0.5+cust centred, k-means", lambda V, i: centre(V.e5_open_cust(i, "p", 0.5)), C["km10"]),
        ("R13 [e5 whole c] + 0.5 svd(tfidf open0.5+cust), k-means", lambda V, i: np.hstack([wc(V, i), 0.5 * tsvd(V, i)]), C["km10"]),
        ("R14 [e5 whole c] + 0.75 svd(tfidf open0.5+cust), avgcos+km", lambda V, i: np.hstack([wc(V, i), 0.75 * tsvd(V, i)]), C["avgcos+km"]),
        ("R15 [e5 q open0.7+cust c] + 0.75 svd(tfidf open0.5+cust), avgcos+km", lambda V, i: np.hstack([oc7(V, i), 0.75 * tsvd(V, i)]), C["avgcos+km"]),
        ("R16 [e5 q open0.5+cust c] + 0.75 svd(tfidf open0.5+cust), avgcos+km", lambda V, i: np.hstack([oc5(V, i), 0.75 * tsvd(V, i)]), C["avgcos+km"]),
        ("R17 [e5 q open0.7+cust c] + 0.75 svd(tfidf open0.5+cust), k-means", lambda V, i: np.hstack([oc7(V, i), 0.75 * tsvd(V, i)]), C["km10"]),
        ("R18 [e5 whole c] + 0.75 svd(tfidf open0.5+cust), ward+km", lambda V, i: np.hstack([wc(V, i), 0.75 * tsvd(V, i)]), C["ward+km"]),
        ("R19 co-association of {e5 whole c, e5 q open0.7+cust c, svd tfidf}", lambda V, i: [wc(V, i), oc7(V, i), tsvd(V, i)],
         lambda X, k, s: coassoc(X, k, s)),
        ("R20 [e5 whole c, e5 q open0.7+cust c] concatenated, k-means", lambda V, i: np.hstack([wc(V, i), oc7(V, i)]), C["km10"]),
        ("R21 [e5 whole c, e5 q open0.7+cust c] concatenated, avgcos+km", lambda V, i: np.hstack([wc(V, i), oc7(V, i)]), C["avgcos+km"]),
        # added after the first robustness run (so chosen with knowledge of it): whole_clean in
        # place of whole, more restarts, and the same vectors built from per-turn embeddings
        ("R22 [e5 whole_clean c, e5 q open0.7+cust c] concatenated, k-means", lambda V, i: np.hstack([wcc(V, i), oc7(V, i)]), C["km10"]),
        ("R23 [e5 whole_clean c, e5 q open0.7+cust c] concatenated, avgcos+km", lambda V, i: np.hstack([wcc(V, i), oc7(V, i)]), C["avgcos+km"]),
        ("R24 [e5 whole c, e5 q open0.7+cust c] concatenated, k-means n_init=100", lambda V, i: np.hstack([wc(V, i), oc7(V, i)]), C["km100"]),
        # e5's model card advises "query: " for symmetric tasks (clustering); added after the
        # texts part showed it ahead of "passage: " on the whole conversation in both languages
        ("Q1 e5 q whole centred, k-means", lambda V, i: centre(V.e5(i, "q", "whole")), C["km10"]),
        ("Q2 e5 q whole_clean centred, k-means", qwcc, C["km10"]),
        ("Q3 e5 q whole_clean centred, k-means n_init=100", qwcc, C["km100"]),
        ("Q4 e5 q whole_clean centred, avgcos+km", qwcc, C["avgcos+km"]),
        ("Q5 [e5 q whole_clean c, e5 q open0.7+cust c] concatenated, k-means", lambda V, i: np.hstack([qwcc(V, i), oc7(V, i)]), C["km10"]),
        ("Q6 [e5 q whole_clean c, e5 q open0.7+cust c] concatenated, k-means n_init=100", lambda V, i: np.hstack([qwcc(V, i), oc7(V, i)]), C["km100"]),
        ("Q7 [e5 q whole_clean c, e5 q open0.7+cust c] concatenated, avgcos+km", lambda V, i: np.hstack([qwcc(V, i), oc7(V, i)]), C["avgcos+km"]),
        ("Q8 [e5 q whole c, e5 q open0.7+cust c] concatenated, avgcos+km", lambda V, i: np.hstack([centre(V.e5(i, "q", "whole")), oc7(V, i)]), C["avgcos+km"]),
        ("Q9 e5 q whole_clean centred, spherical k-means", qwcc, C["skm"]),
        ("Q10 e5 q whole_clean centred, ward+km", qwcc, C["ward+km"]),
        ("Q11 e5 q whole_clean centred, avgcos (no refinement)", qwcc, lambda X, k, s: agglo_refined(X, k, "average")[1]),
        ("Q12 e5 q whole_clean raw (not centred), avgcos+km", lambda V, i: V.e5(i, "q", "whole_clean"), C["avgcos+km"]),
        ("Q13 e5 p whole centred, avgcos+km", lambda V, i: centre(V.e5(i, "p", "whole")), C["avgcos+km"]),
        ("Q14 e5 q whole centred, avgcos+km", lambda V, i: centre(V.e5(i, "q", "whole")), C["avgcos+km"]),
        ("T1 turns: mean of all turns c, k-means", lambda V, i: centre(V.turn_vectors()["all"][i]), C["km10"]),
        ("T2 turns: [all turns c, open0.7+cust turns c], k-means", lambda V, i: np.hstack([centre(V.turn_vectors()["all"][i]), centre(V.turns_open_cust(i))]), C["km10"]),
        ("T3 turns: [all turns c, open0.7+cust turns c], avgcos+km", lambda V, i: np.hstack([centre(V.turn_vectors()["all"][i]), centre(V.turns_open_cust(i))]), C["avgcos+km"]),
        ("T4 turns: open0.7+cust turns c, avgcos+km", lambda V, i: centre(V.turns_open_cust(i)), C["avgcos+km"]),
        ("T5 turns: [all turns c, open0.7+cust turns c], k-means n_init=100", lambda V, i: np.hstack([centre(V.turn_vectors()["all"][i]), centre(V.turns_open_cust(i))]), C["km100"]),
    ]


def robust_part(a, report, n_sub=10, frac=0.9):
    data = S.load_set()
    out = {}
    for lang, (convs, reasons) in data.items():
        V = Views(convs, lang)
        reasons = np.asarray(reasons)
        n = len(convs)
        subs = [np.sort(np.random.RandomState(1000 + r).choice(n, int(round(frac * n)), replace=False)) for r in range(n_sub)]
        subs = [np.arange(n)] + subs  # run 0: the full set
        res = {}
        t0 = time.time()
        for name, feat, clus in recipes():
            if a.recipes and name.split()[0] not in a.recipes.split(",") and not name.startswith("R0 "):
                continue
            rows = []
            for r, idx in enumerate(subs):
                k = len(set(reasons[idx]))
                lab = clus(feat(V, idx), k, r)
                rows.append(S.scores(reasons[idx], lab))
            res[name] = rows
        peer = np.array([x["nmi"] for x in res["R0 peer: e5 whole, k-means"][1:]])
        summary = []
        for name, rows in res.items():
            nmi = np.array([x["nmi"] for x in rows[1:]])
            pur = np.array([x["purity"] for x in rows[1:]])
            t10 = np.array([x["top10_mostly_one"] for x in rows[1:]])
            d = nmi - peer
            summary.append({"recipe": name, "full_set": rows[0], "nmi_mean": float(nmi.mean()), "nmi_sd": float(nmi.std(ddof=1)),
                            "purity_mean": float(pur.mean()), "purity_sd": float(pur.std(ddof=1)), "top10_mean": float(t10.mean()),
                            "diff_vs_peer_mean": float(d.mean()), "diff_vs_peer_sd": float(d.std(ddof=1)),
                            "wins_vs_peer": int((d > 0).sum()), "subsamples": len(d)})
        out[lang] = summary
        print(f"\n== {lang}: recipes on the full set and on {n_sub} random {frac:.0%} subsamples ({time.time() - t0:.0f} s)")
        print(f"  {'full NMI':>8} {'pur':>5} | {'sub NMI':>12} {'purity':>12} {'top10':>5} | {'diff vs peer':>14} wins  recipe")
        for x in summary:
            f = x["full_set"]
            print(f"  {f['nmi']:8.3f} {f['purity']:5.3f} | {x['nmi_mean']:.3f}±{x['nmi_sd']:.3f} {x['purity_mean']:.3f}±{x['purity_sd']:.3f}"
                  f" {x['top10_mean']:5.2f} | {x['diff_vs_peer_mean']:+.3f}±{x['diff_vs_peer_sd']:.3f} {x['wins_vs_peer']:2}/{x['subsamples']}  {x['recipe']}")
    report.setdefault("robust", {})
    for lang, summary in out.items():  # merge: a run with --recipes updates only its recipes
        old = {x["recipe"]: x for x in report["robust"].get(lang, [])}
        old.update({x["recipe"]: x for x in summary})
        report["robust"][lang] = sorted(old.values(), key=lambda x: ("RQT".index(x["recipe"][0]), int(x["recipe"].split()[0][1:])))


def texts_part(a, report):
    """(i), (ii), (v) at a glance: every text construction x encoder, raw and centred, k-means
    (n_init=10) with seeds 0-4 on the full set."""
    data = S.load_set()
    out = {}
    for lang, (convs, reasons) in data.items():
        k = len(set(reasons))
        T = texts_for(convs, lang)
        F = {}
        for L in (12, 6):
            for pf in ("passage", "query"):
                E = {v: S.e5_embed(T[v], L, prefix=pf + ": ", tag=v) for v in ("whole", "whole_clean", "cust", "open")} \
                    if L == 12 else {v: S.e5_embed(T[v], L, prefix=pf + ": ", tag=v) for v in ("whole", "cust", "open")}
                for v, X in E.items():
                    F[f"e5-{L}L {pf}: {v}"] = l2(X)
                F[f"e5-{L}L {pf}: open0.7+cust"] = weighted(E["open"], E["cust"], 0.7)
                F[f"e5-{L}L {pf}: open0.5+cust"] = weighted(E["open"], E["cust"], 0.5)
        for v in ("whole", "cust", "open"):
            F[f"sentiment model: {v}"] = sentiment_embed(T[v], v, a.threads)
        F["sentiment model: open0.7+cust"] = weighted(F["sentiment model: open"], F["sentiment model: cust"], 0.7)
        for v in ("whole", "whole_clean", "cust"):
            F[f"tfidf: {v}"] = tfidf_dense(T[v], lang)
        F["tfidf: open0.5+cust"] = weighted(tfidf_dense(T["open"], lang, fit_on=T["cust"]).toarray(),
                                            tfidf_dense(T["cust"], lang).toarray(), 0.5)
        rows = []
        for name, X in F.items():
            for tr in ("raw", "centred"):
                if tr == "centred":
                    if name.startswith("tfidf"):
                        continue
                    X = centre(X)
                per = [S.scores(reasons, km(X, k, s)) for s in SEEDS]
                nmi = np.array([p["nmi"] for p in per])
                pur = np.array([p["purity"] for p in per])
                rows.append({"features": name, "transform": tr, "nmi_mean": float(nmi.mean()), "nmi_sd": float(nmi.std(ddof=1)),
                             "purity_mean": float(pur.mean()), "purity_sd": float(pur.std(ddof=1)),
                             "top10_mean": float(np.mean([p["top10_mostly_one"] for p in per]))})
                print(f"  {lang:7} {name:36} {tr:8} NMI {nmi.mean():.3f}±{nmi.std(ddof=1):.3f} purity {pur.mean():.3f}±{pur.std(ddof=1):.3f}", flush=True)
        out[lang] = rows
    report["texts_5seeds"] = out


def seeds_part(a, report):
    """The full set, k-means seeds 0-4, for the recipes named in --seed-recipes (and the peer)."""
    data = S.load_set()
    ids = a.seed_recipes.split(",")
    out = {}
    for lang, (convs, reasons) in data.items():
        V = Views(convs, lang)
        k = len(set(reasons))
        idx = np.arange(len(reasons))
        rows = []
        for name, feat, clus in recipes():
            if name.split()[0] not in ids and not name.startswith("R0 "):
                continue
            X = feat(V, idx)
            per = [S.scores(reasons, clus(X, k, s)) for s in SEEDS]
            nmi = np.array([p["nmi"] for p in per])
            pur = np.array([p["purity"] for p in per])
            t10 = np.array([p["top10_mostly_one"] for p in per])
            rows.append({"recipe": name, "nmi_mean": float(nmi.mean()), "nmi_sd": float(nmi.std(ddof=1)),
                         "purity_mean": float(pur.mean()), "purity_sd": float(pur.std(ddof=1)), "top10_mean": float(t10.mean()),
                         "per_seed": per})
            print(f"  {lang:7} NMI {nmi.mean():.3f}±{nmi.std(ddof=1):.3f} purity {pur.mean():.3f}±{pur.std(ddof=1):.3f}"
                  f" top10 {t10.mean():.2f}  {name}", flush=True)
        out[lang] = rows
    report["seeds_full_set"] = out


# ---------------------------------------------------------------------------------------------
# Choosing k
# ---------------------------------------------------------------------------------------------
def k_part(a, report, lo=4, hi=30):
    """For the recommended recipe: internal criteria over k, the stability of k, and an
    average-linkage cosine threshold calibrated on one language and applied to the other."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    data = S.load_set()
    rec = {r[0]: r for r in recipes()}
    name = a.k_recipe
    _, feat, clus = rec[name]
    out = {"recipe": name, "per_language": {}}
    trees = {}
    for lang, (convs, reasons) in data.items():
        V = Views(convs, lang)
        reasons = np.asarray(reasons)
        n = len(reasons)
        idx = np.arange(n)
        X = feat(V, idx)
        true_k = len(set(reasons))
        curve = []
        for k in range(lo, hi + 1):
            lab = clus(X, k, 0)
            s = S.scores(reasons, lab)
            # stability: two 80 % subsamples, clustered separately, ARI on the conversations in both
            stab = []
            for r in range(5):
                rs = np.random.RandomState(500 + r)
                i1 = np.sort(rs.choice(n, int(0.8 * n), replace=False))
                i2 = np.sort(rs.choice(n, int(0.8 * n), replace=False))
                l1 = dict(zip(i1, clus(feat(V, i1), k, r)))
                l2_ = dict(zip(i2, clus(feat(V, i2), k, r)))
                both = sorted(set(i1) & set(i2))
                stab.append(adjusted_rand_score([l1[i] for i in both], [l2_[i] for i in both]))
            curve.append({"k": k, "nmi": s["nmi"], "purity": s["purity"], "top10": s["top10_mostly_one"],
                          "silhouette": float(silhouette_score(X, lab, metric="cosine")), "stability": float(np.mean(stab))})
        sil = max(curve, key=lambda c: c["silhouette"])
        sil8 = max((c for c in curve if c["k"] >= 8), key=lambda c: c["silhouette"])
        stb = max((c for c in curve if c["k"] >= 6), key=lambda c: c["stability"])
        Z = linkage(l2(X), method="average", metric="cosine")
        trees[lang] = (Z, reasons, X, true_k)
        # the cosine distance at which the tree has exactly true_k clusters
        heights = Z[::-1, 2]
        thr = float((heights[true_k - 2] + heights[true_k - 1]) / 2)
        out["per_language"][lang] = {"true_k": true_k, "curve": curve,
                                     "silhouette_pick": sil, "silhouette_pick_k_ge_8": sil8, "stability_pick_k_ge_6": stb,
                                     "avg_linkage_threshold_at_true_k": thr}
        print(f"\n== {lang} ({name}); true k = {true_k}")
        print("   k   NMI  purity top10  silhouette stability")
        for c in curve:
            print(f"  {c['k']:2} {c['nmi']:.3f} {c['purity']:.3f} {c['top10']:.1f}  {c['silhouette']:.4f}    {c['stability']:.3f}")
        print(f"  silhouette picks k={sil['k']} (NMI {sil['nmi']:.3f}); on k>=8: k={sil8['k']} (NMI {sil8['nmi']:.3f}); "
              f"stability (k>=6) picks k={stb['k']} (NMI {stb['nmi']:.3f}); average-linkage threshold at true k: {thr:.4f}")
    # transfer the threshold across languages
    for src, dst in (("zh-Hans", "en"), ("en", "zh-Hans")):
        thr = out["per_language"][src]["avg_linkage_threshold_at_true_k"]
        Z, reasons, X, true_k = trees[dst]
        k = int(len(set(fcluster(Z, thr, criterion="distance"))))
        k_eff = max(2, min(k, len(reasons) - 1))
        s = S.scores(reasons, clus(X, k_eff, 0))
        out["per_language"][dst][f"threshold_from_{src}"] = {"threshold": thr, "k": k, "nmi": s["nmi"], "purity": s["purity"]}
        print(f"threshold calibrated on {src} ({thr:.4f}) gives {dst} k={k} (true {true_k}): NMI {s['nmi']:.3f} purity {s['purity']:.3f}")
    report["choose_k_recommended"] = out


# ---------------------------------------------------------------------------------------------
# Runtime of the e5 embedding on these CPUs
# ---------------------------------------------------------------------------------------------
def timing_part(a, report):
    import torch
    data = S.load_set()
    enc = S.encoder(12, 512)
    out = []
    for var in ("whole", "cust"):
        texts = []
        for lang, (convs, _) in data.items():
            texts += texts_for(convs, lang)[var]
        prefix = "passage: " if var == "whole" else "query: "
        toks = enc.n_tokens(texts, prefix)
        enc.embed(texts[:8], prefix=prefix)  # warm-up
        t0 = time.time()
        enc.embed(texts, prefix=prefix)
        dt = time.time() - t0
        row = {"text": var, "conversations": len(texts), "threads": torch.get_num_threads(), "seconds": round(dt, 1),
               "tokens_mean": round(float(np.mean(toks)), 1), "s_per_1000_conversations": round(1000 * dt / len(texts), 1),
               "tokens_per_s": round(sum(toks) / dt)}
        out.append(row)
        print(row)
    report["timing"] = out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="grid: skip the 6-layer and sentiment encoders")
    ap.add_argument("--parts", default="grid,texts,robust,seeds,k,timing")
    ap.add_argument("--recipes", help="robust: only these recipe ids (comma-separated; the peer R0 always runs)")
    ap.add_argument("--seed-recipes", default="R1,R2,R6,R20,R21,R23,R24,T3")
    ap.add_argument("--k-recipe", default="R20 [e5 whole c, e5 q open0.7+cust c] concatenated, k-means")
    a = ap.parse_args()
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(a.threads)
    threadpool_limits(a.threads)
    path = HERE / "study_results.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    for part in a.parts.split(","):
        {"grid": grid_part, "texts": texts_part, "robust": robust_part, "seeds": seeds_part, "k": k_part, "timing": timing_part}[part](a, report)
        report["timings"] = [json.loads(l) for l in open(S.CACHE / "timings.jsonl")]
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print("updated", path, flush=True)


if __name__ == "__main__":
    main()
