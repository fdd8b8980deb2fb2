//! The sentence embedders (`convqa::model::Embedder`) with both bundled models: the default
//! 12-layer encoder in `models/embed` and the static one learnt from it in `models/embed-fast`. Batch
//! independence (bit for bit), semantic sanity across Chinese and English, unit vectors. `topics`
//! and `score --topics` use them (tests/it/topics.rs); these tests call the library.

use crate::common::*;
use convqa::model::{Embedder, ModelOptions};

/// The bundled embedders, each with the prefix its config.json must give.
const MODELS: [(&str, &str); 2] = [("models/embed", "query: "), ("models/embed-fast", "")];

fn embedder(dir: &str, threads: usize, batch_size: usize) -> Embedder {
    Embedder::load(&ModelOptions {
        model_dir: Some(repo().join(dir)),
        ort_lib: Some(ort_lib().to_path_buf()),
        threads,
        batch_size,
    })
    .unwrap_or_else(|e| panic!("loading {dir}: {e}"))
}

/// Contact reasons in every script and of many lengths; the numbered ones share a token length,
/// so a batch size of 32 puts several texts in one batch. One text appears twice.
fn texts() -> Vec<String> {
    let mut v: Vec<String> = [
        "我的宽带断网了，一直连不上",
        "退款什么时候到账",
        "您好，請問我的包裹什麼時候會送到？已經等了一個星期了。",
        "my home broadband keeps disconnecting",
        "how do I get a refund for my order",
        "I was charged twice for the same order and nobody answers my emails, this is the third time I am writing",
        "我想 cancel 我的 order, please",
        "好",
        "唔該幫我查下張單去咗邊",
        "The app crashes every time I open the payment page. I reinstalled it twice and restarted my phone, but it still closes immediately after the splash screen.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in 1..=4 {
        v.push(format!("订单 {n} 还没有发货"));
        v.push(format!("order {n} has not arrived yet"));
    }
    v.push("退款什么时候到账".into());
    v.push(String::new());
    assert_eq!(v.len(), 20);
    v
}

fn bits(vectors: &[Vec<f32>]) -> Vec<Vec<u32>> {
    vectors
        .iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn vectors_do_not_depend_on_batch_order_batch_size_or_threads() {
    for (dir, prefix) in MODELS {
        same_vectors_however_batched(dir, prefix);
    }
}

fn same_vectors_however_batched(dir: &str, prefix: &str) {
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    // Guard: the set really forms multi-text batches (else this test would prove little).
    let tok = tokenizers::Tokenizer::from_file(repo().join(dir).join("tokenizer.json")).unwrap();
    let mut lengths: Vec<usize> = refs
        .iter()
        .map(|t| {
            tok.encode(format!("{prefix}{t}"), true)
                .unwrap()
                .get_ids()
                .len()
        })
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    assert!(
        lengths.len() <= 14,
        "{dir}: want shared token lengths, got {lengths:?}"
    );

    let two = embedder(dir, 2, 32);
    let together = two.embed(&refs).unwrap();
    assert_eq!(together.len(), refs.len());
    assert_eq!(
        bits(&together[1..2]),
        bits(&together[18..19]),
        "{dir}: duplicate text"
    );

    let one_by_one: Vec<Vec<f32>> = refs
        .iter()
        .map(|t| two.embed(&[t]).unwrap().remove(0))
        .collect();
    assert_eq!(
        bits(&one_by_one),
        bits(&together),
        "{dir}: one text per call"
    );

    let reversed: Vec<&str> = refs.iter().rev().copied().collect();
    let mut back = two.embed(&reversed).unwrap();
    back.reverse();
    assert_eq!(bits(&back), bits(&together), "{dir}: reversed order");

    let one_thread = embedder(dir, 1, 32).embed(&refs).unwrap();
    assert_eq!(bits(&one_thread), bits(&together), "{dir}: threads 1 vs 2");

    let batch_of_one = embedder(dir, 1, 1).embed(&refs).unwrap();
    assert_eq!(
        bits(&batch_of_one),
        bits(&together),
        "{dir}: batch size 1 vs 32"
    );
}

#[test]
fn chinese_and_english_about_the_same_problem_are_close() {
    for (dir, prefix) in MODELS {
        same_problem_close_across_languages(dir, prefix);
    }
}

fn same_problem_close_across_languages(dir: &str, prefix: &str) {
    let e = embedder(dir, 2, 16);
    assert_eq!(e.dim(), 384);
    assert_eq!(e.config().prefix, prefix, "{dir}");
    let texts = [
        "我的宽带断网了，一直连不上",
        "退款什么时候到账",
        "my home broadband keeps disconnecting",
        "how do I get a refund for my order",
    ];
    let v = e.embed(&texts).unwrap();
    for (t, x) in texts.iter().zip(&v) {
        assert_eq!(x.len(), 384, "{dir}: {t}");
        let norm = cos(x, x).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{dir}: {t}: norm {norm}");
    }
    let (net_zh, refund_zh, net_en, refund_en) = (&v[0], &v[1], &v[2], &v[3]);
    assert!(
        cos(net_zh, net_en) > cos(net_zh, refund_en),
        "{dir}: broadband: {} vs refund {}",
        cos(net_zh, net_en),
        cos(net_zh, refund_en)
    );
    assert!(
        cos(refund_zh, refund_en) > cos(refund_zh, net_en),
        "{dir}: refund: {} vs broadband {}",
        cos(refund_zh, refund_en),
        cos(refund_zh, net_en)
    );
    assert!(e.embed(&[]).unwrap().is_empty());
}
