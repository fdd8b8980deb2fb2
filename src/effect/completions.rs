//! Reading training completions: which agent completed which module, when.
//!
//! Three shapes, told apart by content (not by file name, except `.csv`):
//! - JSON lines or a JSON array of `{"agent_id", "module_id", "completed_at"}`;
//! - CSV with the same three columns (any order, more columns ignored, UTF-8 BOM allowed);
//! - xAPI statements (a JSON array, JSON lines, or an LRS response `{"statements": [...]}`)
//!   with the ADL `completed` verb (`…/verbs/completed`), the agent as an account (`name`, as
//!   `convqa export --format xapi` writes it) and the module as an activity whose id ends in
//!   `/modules/{module_id}`. Statements with other verbs (the `recommended` ones convqa writes, say)
//!   are skipped and counted, not rejected.
//!
//! A record that cannot be read is set aside with its file and line (or array position) and the
//! reason; the rest are kept, as the scoring stage does with transcripts.

use crate::timestamp::parse_instant;
use serde_json::Value;
use std::path::Path;

/// One completed course.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Completion {
    /// Seconds since the epoch (UTC); first, so completions sort by time.
    pub at: i64,
    pub agent_id: String,
    pub module_id: String,
    /// As given, for the output.
    pub completed_at: String,
}

/// A record set aside.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rejected {
    pub file: String,
    /// Line in a JSON-lines or CSV file, position (1-based) in a JSON array.
    pub line: u64,
    pub error: String,
}

#[derive(Debug, Default)]
pub struct Read {
    pub completions: Vec<Completion>,
    pub rejected: Vec<Rejected>,
    /// xAPI statements with a verb other than `completed`.
    pub other_statements: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: cannot read completions: {source}", path.display())]
pub struct ReadError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

pub fn read(path: &Path) -> Result<Read, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut out = Read::default();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        read_csv(&file, text, &mut out);
    } else {
        let trimmed = text.trim_start();
        let whole = (trimmed.starts_with('[') || trimmed.starts_with('{'))
            .then(|| serde_json::from_str::<Value>(trimmed).ok())
            .flatten();
        match whole {
            Some(Value::Array(items)) => {
                for (i, v) in items.iter().enumerate() {
                    take(&file, i as u64 + 1, v, &mut out);
                }
            }
            Some(Value::Object(o)) if o.get("statements").is_some_and(Value::is_array) => {
                for (i, v) in o["statements"].as_array().into_iter().flatten().enumerate() {
                    take(&file, i as u64 + 1, v, &mut out);
                }
            }
            _ => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Value>(line) {
                        Ok(v) => take(&file, i as u64 + 1, &v, &mut out),
                        Err(e) => reject(&file, i as u64 + 1, format!("not JSON: {e}"), &mut out),
                    }
                }
            }
        }
    }
    out.completions.sort();
    Ok(out)
}

fn reject(file: &str, line: u64, error: String, out: &mut Read) {
    out.rejected.push(Rejected {
        file: file.to_string(),
        line,
        error,
    });
}

fn take(file: &str, line: u64, v: &Value, out: &mut Read) {
    let r = if v.get("verb").is_some() {
        match from_statement(v) {
            Ok(Some(c)) => Ok(c),
            Ok(None) => {
                out.other_statements += 1;
                return;
            }
            Err(e) => Err(e),
        }
    } else {
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        make(field("agent_id"), field("module_id"), field("completed_at"))
    };
    match r {
        Ok(c) => out.completions.push(c),
        Err(e) => reject(file, line, e, out),
    }
}

fn make(agent: &str, module: &str, when: &str) -> Result<Completion, String> {
    let (agent, module, when) = (agent.trim(), module.trim(), when.trim());
    if agent.is_empty() || module.is_empty() {
        return Err("needs agent_id, module_id and completed_at".into());
    }
    let at = parse_instant(when).ok_or_else(|| {
        format!("completed_at {when:?} is not an RFC 3339 timestamp (2026-03-02T09:00:00Z)")
    })?;
    Ok(Completion {
        at,
        agent_id: agent.to_string(),
        module_id: module.to_string(),
        completed_at: when.to_string(),
    })
}

/// `Ok(None)`: a statement with another verb.
fn from_statement(v: &Value) -> Result<Option<Completion>, String> {
    let verb = v["verb"]["id"].as_str().unwrap_or("");
    if !verb.trim_end_matches('/').ends_with("/completed") {
        return Ok(None);
    }
    if v["result"]["completion"] == Value::Bool(false) {
        return Err("statement says result.completion = false".into());
    }
    let actor = &v["actor"];
    let agent = actor["account"]["name"]
        .as_str()
        .or_else(|| actor["name"].as_str())
        .ok_or("statement's actor has no account name (the agent id)")?;
    let object = v["object"]["id"]
        .as_str()
        .ok_or("statement has no object id (the module)")?;
    let module = match object.rfind("/modules/") {
        Some(i) => &object[i + "/modules/".len()..],
        None => object.rsplit('/').next().unwrap_or(""),
    };
    let when = v["timestamp"]
        .as_str()
        .or_else(|| v["stored"].as_str())
        .ok_or("statement has no timestamp")?;
    make(agent, module.trim_end_matches('/'), when).map(Some)
}

fn read_csv(file: &str, text: &str, out: &mut Read) {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = match rd.headers() {
        Ok(h) => h.clone(),
        Err(e) => return reject(file, 1, format!("bad CSV header: {e}"), out),
    };
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(a), Some(m), Some(t)) = (col("agent_id"), col("module_id"), col("completed_at"))
    else {
        return reject(
            file,
            1,
            "CSV header needs agent_id, module_id and completed_at".into(),
            out,
        );
    };
    for rec in rd.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let get = |i: usize| r.get(i).unwrap_or("");
                match make(get(a), get(m), get(t)) {
                    Ok(c) => out.completions.push(c),
                    Err(e) => reject(file, line, e, out),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                reject(file, line, format!("bad CSV record: {e}"), out);
            }
        }
    }
}
