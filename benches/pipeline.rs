//! Benchmarks of the `score` pipeline around the model: ingest (parse + validate), metrics, and
//! the whole pipeline with a constant classifier double (so the numbers show the pipeline's own
//! cost: chunking, the checklist, the detectors, metrics, serialisation). End-to-end numbers with
//! the real model come from `scripts/bench-pipeline.sh`.
//!
//! Run: `cargo bench --bench pipeline` (add `-- --quick` for a short run).

use std::io::Write;
use std::path::PathBuf;

use convqa::ingest::{IngestOptions, InputSpec, Reader, Record};
use convqa::model::{ModelError, ModelOptions, TurnClassifier};
use convqa::output::{ChecklistIdentity, ModelIdentity, ResultSink};
use convqa::pipeline::{self, ChunkLimits, Config};
use convqa::types::{Language, Probs, SentimentOut, TurnLabels};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CONVERSATIONS: usize = 500;

/// Deterministic pseudo-random numbers (no dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const ZH_CUSTOMER: &[&str] = &[
    "你好，我家的宽带从昨天开始就断了",
    "已经打了三次电话了，还是没解决，我要投诉",
    "路由器的灯一直在闪红灯",
    "好了，谢谢",
    "还是不行，你们到底能不能修好",
];
const ZH_AGENT: &[&str] = &[
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "非常抱歉给您带来不便，我马上帮您查一下",
    "请您重启一下路由器再试试",
    "请问还有其他可以帮您的吗？感谢您的来电，再见",
];
const EN_CUSTOMER: &[&str] = &[
    "Hi, my internet has been down since yesterday",
    "This is the third time I'm calling, I want to speak to a supervisor",
    "The router light keeps blinking red",
    "Thanks, that fixed it",
    "It's still not working",
];
const EN_AGENT: &[&str] = &[
    "Hello, thank you for calling, how can I help you today?",
    "I'm sorry about that, let me check your line",
    "Could you restart the router and try again?",
    "Is there anything else I can help with? Have a nice day",
];

fn synthetic_jsonl(n: usize) -> String {
    let mut rng = Lcg(42);
    let mut out = String::new();
    for i in 0..n {
        let zh = rng.next(2) == 0;
        let voice = rng.next(2) == 0;
        let turns = 6 + rng.next(15);
        let (cust, agent) = if zh {
            (ZH_CUSTOMER, ZH_AGENT)
        } else {
            (EN_CUSTOMER, EN_AGENT)
        };
        let mut t = 0u64;
        let mut items = Vec::new();
        for k in 0..turns {
            let (speaker, text) = if k % 2 == 0 {
                ("customer", cust[rng.next(cust.len())])
            } else {
                ("agent", agent[rng.next(agent.len())])
            };
            let dur = 1_000 + rng.next(6_000) as u64;
            let gap = rng.next(3_000) as u64;
            let times = if voice {
                format!(r#","start_ms":{},"end_ms":{}"#, t + gap, t + gap + dur)
            } else {
                String::new()
            };
            t += gap + dur;
            items.push(format!(
                r#"{{"speaker":"{speaker}","text":"{text}"{times}}}"#
            ));
        }
        out.push_str(&format!(
            r#"{{"conversation_id":"bench-{i:06}","agent_id":"a-{}","channel":"{}","turns":[{}]}}"#,
            i % 50,
            if voice { "voice" } else { "chat" },
            items.join(",")
        ));
        out.push('\n');
    }
    out
}

/// Labels every text neutral: the pipeline's cost without the model's.
struct Constant;
impl TurnClassifier for Constant {
    fn classify(&self, texts: &[&str]) -> Result<Vec<TurnLabels>, ModelError> {
        Ok(texts
            .iter()
            .map(|_| TurnLabels {
                language: Language::En,
                sentiment: SentimentOut {
                    label: "neutral".into(),
                    score: 0.0,
                    probs: Probs(vec![
                        ("negative".into(), 0.1),
                        ("neutral".into(), 0.8),
                        ("positive".into(), 0.1),
                    ]),
                },
                emotion: None,
                truncated: false,
                rule: None,
            })
            .collect())
    }
}

/// Discards results (the pipeline has already serialised them, as for the real output).
struct NullSink;
impl ResultSink for NullSink {
    fn conversation(
        &mut self,
        _: &convqa::types::ConversationResult,
        json: &str,
    ) -> Result<(), convqa::output::OutputError> {
        std::hint::black_box(json);
        Ok(())
    }
    fn reject(&mut self, _: &convqa::ingest::Reject) -> Result<(), convqa::output::OutputError> {
        Ok(())
    }
}

fn config(input: PathBuf, threads: usize) -> Config {
    Config {
        inputs: vec![InputSpec::File(input)],
        skipped_inputs: Vec::new(),
        out_dir: PathBuf::from("unused"),
        ingest: IngestOptions::default(),
        threads,
        batch_size: 16,
        chunk: ChunkLimits::default(),
        checklist: convqa::checklist::Checklist::builtin().clone(),
        checklist_identity: ChecklistIdentity {
            source: "builtin".into(),
            sha256: String::new(),
        },
        detect: convqa::detect::DetectConfig::default(),
        detect_identity: ChecklistIdentity {
            source: "builtin".into(),
            sha256: String::new(),
        },
        model: ModelOptions::default(),
        model_identity: ModelIdentity {
            dir: "constant".into(),
            onnx_sha256: String::new(),
            model_type: None,
            version: None,
            files_sha256: Default::default(),
        },
        redact: None,
        settings_identity: None,
        topics: None,
        topics_identity: None,
        shard: None,
    }
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.jsonl");
    let data = synthetic_jsonl(CONVERSATIONS);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data.as_bytes()))
        .expect("write fixture");

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(CONVERSATIONS as u64));
    g.sample_size(10);

    g.bench_function("ingest", |b| {
        b.iter(|| {
            let r = Reader::new(
                vec![InputSpec::File(path.clone())],
                IngestOptions::default(),
            );
            r.filter(|x| matches!(x, Record::Conversation(_))).count()
        })
    });

    let conversations: Vec<_> = Reader::new(
        vec![InputSpec::File(path.clone())],
        IngestOptions::default(),
    )
    .filter_map(|r| match r {
        Record::Conversation(c) => Some(c.conversation),
        Record::Rejected(_) => None,
    })
    .collect();
    let labels: Vec<Vec<TurnLabels>> = conversations
        .iter()
        .map(|c| {
            let texts: Vec<&str> = c.turns.iter().map(|t| t.text.as_str()).collect();
            Constant.classify(&texts).expect("constant labels")
        })
        .collect();
    g.bench_function("metrics", |b| {
        b.iter(|| {
            conversations
                .iter()
                .zip(&labels)
                .map(|(c, l)| convqa::metrics::compute(c, l).turns)
                .sum::<usize>()
        })
    });

    for threads in [1, 2] {
        let cfg = config(path.clone(), threads);
        g.bench_function(format!("run_without_model/threads={threads}"), |b| {
            b.iter(|| {
                let mut sink = NullSink;
                pipeline::run(&cfg, &Constant, None, &mut sink, &mut |_| {})
                    .expect("pipeline run")
                    .counts
                    .scored
            })
        });
    }
    g.finish();
}

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);
