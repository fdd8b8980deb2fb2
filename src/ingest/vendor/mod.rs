//! Adapters for contact-centre vendors' transcript exports, recognised by their content (not
//! their file name): each turns one vendor record into convqa's own conversation object, which
//! then goes through the same validation as any input.
//!
//! - `contact_lens`: Amazon Connect Contact Lens analysis output, voice and chat;
//! - `transcribe`: Amazon Transcribe Call Analytics output;
//! - `ccai`: Google CCAI Insights conversation JSON.
//!
//! Field mappings are in docs/SCHEMA.md ("Vendor exports"). A record that names no agent gets
//! agent id `unknown` and a warning saying so, never an invented one. The vendor's own
//! categories and sentiment are kept in `metadata.vendor`.

use serde_json::{Map, Value};

pub(super) mod ccai;
pub(super) mod contact_lens;
pub(super) mod transcribe;

/// The agent id used when a vendor record names none.
pub const UNKNOWN_AGENT: &str = "unknown";

/// If `v` is a vendor record, convqa's conversation object for it (with `warnings` to add).
pub(super) fn adapt(v: &Value) -> Option<Result<(Value, Vec<String>), String>> {
    let m = v.as_object()?;
    if contact_lens::is(m) {
        Some(contact_lens::convert(m))
    } else if transcribe::is(m) {
        Some(transcribe::convert(m))
    } else if ccai::is(m) {
        Some(ccai::convert(m))
    } else {
        None
    }
}

/// A turn object in convqa's format.
pub(super) fn turn(speaker: &str, text: &str, start: Option<u64>, end: Option<u64>) -> Value {
    let mut t = Map::new();
    t.insert("speaker".into(), Value::from(speaker));
    t.insert("text".into(), Value::from(text));
    if let Some(s) = start {
        t.insert("start_ms".into(), Value::from(s));
    }
    if let Some(e) = end {
        t.insert("end_ms".into(), Value::from(e));
    }
    Value::Object(t)
}

/// Milliseconds since the Unix epoch of an RFC 3339 / ISO 8601 UTC-or-offset timestamp
/// ("2024-03-15T14:30:05.123Z", "2024-03-15T22:30:05+08:00"); `None` if it is not one.
pub(super) fn epoch_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        rest = &frac[digits.len()..];
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse().ok()?;
    }
    let offset_min = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(rest.len() - 2..)?.parse().ok()?;
            sign * (hh * 60 + mm)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms)
}

/// A Google protobuf Duration as JSON ("1.500s", "12s") in milliseconds.
pub(super) fn duration_ms(s: &str) -> Option<u64> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// Times relative to the first one, for exports that give wall-clock times.
pub(super) fn relative(times: &[Option<i64>]) -> Vec<Option<u64>> {
    let first = times.iter().flatten().min().copied();
    times
        .iter()
        .map(|t| match (t, first) {
            (Some(t), Some(f)) => u64::try_from(t - f).ok(),
            _ => None,
        })
        .collect()
}

pub(super) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

#[cfg(test)]
mod tests;
