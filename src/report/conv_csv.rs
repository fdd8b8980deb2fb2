//! `conversations.csv` and `items.csv` of `convqa agents` (issue 26, item 5): one row per
//! conversation, and one per conversation × checklist item, for a QA lead's spreadsheet, next to
//! `agents.csv`. UTF-8 with a byte-order mark (Excel then opens Chinese text correctly); every
//! text cell goes through the same guard as `agents.csv` (formula characters neutralised,
//! control characters spelled out). Rows are sorted by conversation id, items in checklist order,
//! so the same results always give the same bytes whatever the order of the `--from` paths.
//! Both files grow with the batch, so the rows are sorted in bounded memory
//! ([`SpillSorter`]: beyond its budget, sorted runs go to temporary files) and streamed to disk.

use std::path::Path;

use super::csv_out::cell;
use super::ReportError;
use crate::output::spill::SpillSorter;
use crate::output::{remove_stale_temps, write_atomic_streamed};
use crate::types::{ConversationResult, ItemStatus};

/// Collects the rows of the two files, one result at a time, already encoded as CSV.
#[derive(Debug, Default)]
pub struct ConversationCsv {
    conversations: SpillSorter,
    items: SpillSorter,
}

/// One CSV-encoded record per row of `rows`.
fn encode<I, R>(rows: I) -> Result<Vec<u8>, ReportError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `metadata.csat`, when it is a number (or a numeric string).
fn csat(r: &ConversationResult) -> Option<f64> {
    match r.metadata.as_ref()?.get("csat")? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

pub const CONVERSATION_HEADER: [&str; 14] = [
    "conversation_id",
    "agent_id",
    "channel",
    "started_at",
    "qa_score",
    "passed",
    "critical_failed",
    "resolution",
    "escalation_risk",
    "conflicts",
    "customer_sentiment_start",
    "customer_sentiment_end",
    "csat",
    "turns",
];

pub const ITEM_HEADER: [&str; 9] = [
    "conversation_id",
    "agent_id",
    "item_id",
    "item_title",
    "critical",
    "result",
    "evidence_turn",
    "evidence_quote",
    "reason",
];

impl ConversationCsv {
    pub fn add(&mut self, r: &ConversationResult) -> Result<(), ReportError> {
        let conv = vec![
            cell(&r.conversation_id),
            cell(&r.agent_id),
            r.channel
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            cell(r.started_at.as_deref().unwrap_or("")),
            num(r.qa.score),
            // No verdict when every item was N/A.
            if r.qa.score.is_some() {
                r.qa.passed.to_string()
            } else {
                String::new()
            },
            r.qa.critical_failed.to_string(),
            cell(&r.metrics.resolution.status),
            r.escalation.risk.to_string(),
            r.conflicts.len().to_string(),
            num(r.metrics.customer_sentiment.start),
            num(r.metrics.customer_sentiment.end),
            num(csat(r)),
            r.turns.len().to_string(),
        ];
        let items: Vec<Vec<String>> =
            r.qa.items
                .iter()
                .map(|i| {
                    let e = i.evidence.first();
                    vec![
                        cell(&r.conversation_id),
                        cell(&r.agent_id),
                        cell(&i.id),
                        cell(&i.title),
                        i.critical.to_string(),
                        match i.status {
                            ItemStatus::Pass => "pass",
                            ItemStatus::Fail => "fail",
                            ItemStatus::Na => "na",
                        }
                        .to_string(),
                        // 1-based, as on the pages.
                        num(e.map(|e| e.turn + 1)),
                        cell(e.map(|e| e.quote.as_str()).unwrap_or("")),
                        cell(&i.reason),
                    ]
                })
                .collect();
        let spill = |e| ReportError::Io {
            path: "conversations.csv, items.csv (temporary sort files)".into(),
            source: e,
        };
        self.conversations
            .push(r.conversation_id.clone(), encode([conv])?)
            .map_err(spill)?;
        self.items
            .push(r.conversation_id.clone(), encode(items)?)
            .map_err(spill)?;
        Ok(())
    }

    /// Write `conversations.csv` and `items.csv` into `dir` (which exists), each to a temporary
    /// file renamed into place when complete.
    pub fn write_into(self, dir: &Path) -> Result<(), ReportError> {
        const NAMES: [&str; 2] = ["conversations.csv", "items.csv"];
        remove_stale_temps(dir, &NAMES);
        let files = [
            (NAMES[0], encode([CONVERSATION_HEADER])?, self.conversations),
            (NAMES[1], encode([ITEM_HEADER])?, self.items),
        ];
        for (name, header, rows) in files {
            let path = dir.join(name);
            write_atomic_streamed(&path, &path, |w| {
                w.write_all("\u{feff}".as_bytes())?;
                w.write_all(&header)?;
                rows.write_sorted(w)
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::tests::conv;

    #[test]
    fn bom_header_rows_order_and_guards() {
        let mut a = conv(
            "b-2",
            "=cmd|' /C calc'!A0",
            Some(90.0),
            &[
                ("greeting", ItemStatus::Pass),
                ("empathy", ItemStatus::Fail),
            ],
        );
        a.qa.items[1].title = "共情安抚".into();
        a.metadata = Some(serde_json::json!({"csat": 4}));
        let b = conv("a-1\u{1b}", "bob", None, &[("greeting", ItemStatus::Na)]);
        let mut w = ConversationCsv::default();
        w.add(&a).unwrap();
        w.add(&b).unwrap();
        let dir = tempfile::tempdir().unwrap();
        w.write_into(dir.path()).unwrap();
        let conv_csv = std::fs::read_to_string(dir.path().join("conversations.csv")).unwrap();
        let items_csv = std::fs::read_to_string(dir.path().join("items.csv")).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["conversations.csv", "items.csv"],
            "no temporary file left"
        );
        for t in [&conv_csv, &items_csv] {
            assert!(t.starts_with('\u{feff}'));
            assert!(!t.contains('\u{1b}'));
        }
        let lines: Vec<&str> = conv_csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            format!("\u{feff}{}", CONVERSATION_HEADER.join(","))
        );
        // Sorted by id; the control character spelled out; formula neutralised.
        assert!(lines[1].starts_with("a-1\\u{1b},bob,chat,"));
        assert!(lines[2].starts_with("b-2,'=cmd|' /C calc'!A0,chat,"));
        assert!(lines[2].contains(",90,true,false,resolved,0,0,-0.5,0.25,4,0"));
        // No verdict where every item was N/A.
        assert!(lines[1].contains(",,,false,resolved,"));
        let rows: Vec<&str> = items_csv.lines().collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0], format!("\u{feff}{}", ITEM_HEADER.join(",")));
        assert!(rows[1].starts_with("a-1\\u{1b},bob,greeting,greeting title,false,na,2,"));
        assert!(rows[3].contains(",empathy,共情安抚,false,fail,2,b-2 empathy quote,empathy reason"));
    }
}
