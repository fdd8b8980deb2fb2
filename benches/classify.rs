//! Throughput of the classifier (turns/s) on ~2,000 generated customer-service turns, half
//! Chinese (simplified and traditional) and half English, averaging roughly 26 tokens, like the
//! measurements in shared/research/onnx-runtime-feasibility.md.
//!
//! Needs the bundled model (`models/`) and the ONNX Runtime library (run scripts/setup-ort.sh);
//! without them it says so and measures nothing. The cross-call cache is cleared before every
//! iteration so repeated iterations measure the model, not the cache.
//!
//! `cargo bench --bench classify` (criterion reports elements/s = turns/s). CONVQA_BENCH_THREADS
//! and CONVQA_BENCH_BATCH override the worker count (default 2) and batch size.

use convqa::model::{Classifier, ModelOptions, TurnClassifier};
use criterion::{BatchSize, Criterion, Throughput};
use std::path::PathBuf;
use std::time::Duration;

const N_TURNS: usize = 2000;

/// Deterministic generator (a fixed LCG): the same turns on every run and machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.next() % v.len()]
    }
}

/// Customer and agent turns from template combinations; numbers make most of them distinct.
pub fn generate_turns(n: usize, seed: u64) -> Vec<String> {
    let mut r = Lcg(seed);
    let zh_open = ["您好，", "你好，", "喂，", "請問一下，", "麻烦问一下，", ""];
    let zh_issue = [
        "我的订单{n}号已经{d}天了还没有发货",
        "我上周买的手机屏幕坏了，想申请退货",
        "你们的客服电话一直打不通，我已经打了{d}次了",
        "這個帳單多扣了我{n}元，請幫我查一下",
        "快递显示已签收但是我根本没有收到",
        "我要投诉，你们的服务态度太差了",
        "會員卡的積分為什麼突然清零了",
        "退款申请提交了{d}天还没有到账",
    ];
    let zh_close = [
        "，谢谢。",
        "，太让人失望了！",
        "，能不能快点处理？",
        "。",
        "，麻煩儘快回覆。",
        "，我真的很着急。",
    ];
    let zh_agent = [
        "非常抱歉给您带来不便，我马上为您查询订单{n}的物流信息。",
        "好的，请您提供一下订单号，我这边帮您核实。",
        "感謝您的耐心等待，您的退款已經處理完成，預計{d}個工作天到賬。",
        "理解您的心情，我已经为您升级处理，主管会在{d}小时内联系您。",
    ];
    let en_open = ["Hi, ", "Hello, ", "Excuse me, ", "Hey, ", ""];
    let en_issue = [
        "my order {n} has not arrived after {d} days",
        "I was charged twice for the same subscription",
        "the app keeps crashing every time I try to log in",
        "I have called {d} times and nobody has fixed my internet",
        "the replacement you sent me is also broken",
        "I want to cancel my account and get a refund",
    ];
    let en_close = [
        ", thanks.",
        ". This is unacceptable!",
        ", can you help?",
        ".",
        ". I am really frustrated.",
        ", please hurry.",
    ];
    let en_agent = [
        "I am sorry for the trouble, let me check the status of order {n} for you right away.",
        "Thank you for your patience, your refund has been processed and should arrive within {d} business days.",
        "I completely understand, I have escalated this to my supervisor who will call you back today.",
        "Could you please confirm the email address on the account so I can look into this?",
    ];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let zh = i % 2 == 0;
        let agent = r.next() % 3 == 0;
        let t = match (zh, agent) {
            (true, false) => format!(
                "{}{}{}",
                r.pick(&zh_open),
                r.pick(&zh_issue),
                r.pick(&zh_close)
            ),
            (true, true) => r.pick(&zh_agent).to_string(),
            (false, false) => format!(
                "{}{}{}",
                r.pick(&en_open),
                r.pick(&en_issue),
                r.pick(&en_close)
            ),
            (false, true) => r.pick(&en_agent).to_string(),
        };
        let num = 10_000 + r.next() % 90_000;
        let days = 2 + r.next() % 9;
        out.push(
            t.replace("{n}", &num.to_string())
                .replace("{d}", &days.to_string()),
        );
    }
    out
}

fn env_usize(k: &str, default: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let opts = ModelOptions {
        model_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")),
        ort_lib: None,
        threads: env_usize("CONVQA_BENCH_THREADS", 2),
        batch_size: env_usize("CONVQA_BENCH_BATCH", 0),
    };
    let clf = match Classifier::load(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench classify skipped: {e}");
            return;
        }
    };
    let turns = generate_turns(N_TURNS, 42);
    let texts: Vec<&str> = turns.iter().map(String::as_str).collect();

    // Defaults first, so command-line flags (--measurement-time, --sample-size, ...) win.
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(40))
        .warm_up_time(Duration::from_secs(3))
        .configure_from_args();
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function(
        format!("{}_turns_threads{}", texts.len(), clf.workers()),
        |b| {
            b.iter_batched(
                || clf.clear_cache(),
                |_| clf.classify(&texts).expect("classify"),
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();
    c.final_summary();
}
