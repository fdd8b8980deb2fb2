//! convqa: conversation quality and emotion analysis for contact-centre transcripts.
//!
//! Stages, each a module over plain data (see [`types`]):
//! ingest → lang (normalise, detect) → model (ONNX inference) → checklist / detect (rules and
//! detectors) → score → pipeline (orchestration, parallelism, output) → agg → coach → report.
//! `main.rs` is glue: it parses the CLI and calls one of [`commands`].

pub mod commands;
pub mod lang;
pub mod model;
pub mod types;
