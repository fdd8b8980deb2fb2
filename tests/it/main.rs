//! Integration tests: one binary, one module per area. Each module drives the real `convqa`
//! binary (see `common`) on small inputs; `embed` calls the library, as no command uses the
//! sentence embedder yet.

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
mod vendor;
