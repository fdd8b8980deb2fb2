//! `agents.json`: the whole [`TeamReport`] (every agent and the team baseline, with numbers,
//! recommendations and highlighted moments), pretty-printed. For people and scripts; the
//! versioned feed for other systems is the export ([`super::ExportWriter`]).

use super::{OutputFile, ReportError, TeamReport, Writer};

pub struct JsonWriter;

impl Writer for JsonWriter {
    fn render(&self, report: &TeamReport) -> Result<Vec<OutputFile>, ReportError> {
        Ok(vec![OutputFile::pretty_json(
            "agents.json",
            report,
            "agents.json",
        )?])
    }
}
