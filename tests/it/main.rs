//! Integration tests: one binary, one module per area. Each module drives the real `convqa`
//! binary (see `common`) on small inputs; `embed` calls the sentence embedder's library API
//! directly, to check it bit for bit.

mod agents;
mod calibrate;
mod classify;
mod common;
mod effect;
mod embed;
mod hardening;
mod redact;
mod report;
mod samples;
mod score;
mod topic_report;
mod topics;
mod vendor;
