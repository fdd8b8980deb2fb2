//! `agents.json`: the whole [`TeamReport`] (every agent and the team baseline, with numbers,
//! recommendations and highlighted moments), pretty-printed. For people and scripts; the
//! versioned feed for other systems is the export ([`super::ExportWriter`]).

use super::{OutputFile, ReportError, TeamReport, Writer};

pub struct JsonWriter;

impl Writer for JsonWriter {
    fn render(&self, report: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(report).map_err(|e| ReportError::Json {
            what: "agents.json",
            source: e,
        })?;
        bytes.push(b'\n');
        Ok(vec![OutputFile {
            path: "agents.json".into(),
            bytes,
        }])
    }
}
