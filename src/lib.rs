//! convqa: conversation quality and emotion analysis for contact-centre transcripts.
//!
//! Stages, each a module over plain data (see [`types`]):
//! ingest → lang (normalise, detect) → model (ONNX inference) → checklist / detect (rules and
//! detectors) → score → pipeline (orchestration, parallelism, output) → agg → coach → report;
//! calibrate compares scored results with a QA team's reviewer labels; topics groups
//! conversations into contact drivers.
//! `main.rs` is glue: it parses the CLI and calls one of [`commands`].

pub mod agg;
pub mod calibrate;
pub mod checklist;
pub mod coach;
pub mod commands;
pub mod detect;
pub mod display;
pub mod effect;
pub mod ingest;
pub mod lang;
pub mod metrics;
pub mod model;
pub mod outcome;
pub mod output;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod seen;
pub mod settings_file;
pub mod timestamp;
pub mod topics;
pub mod trend;
pub mod types;
