//! `--topics DIR` and `--topic-modules FILE` of agents, report and export: reads a `convqa
//! topics` output directory (topics.json, assignments.jsonl, topic_modules.toml), finds each
//! conversation's topic (the result's own `topic`, written by `score --topics`, else its line in
//! assignments.jsonl) and puts the contact drivers on the team report
//! ([`crate::report::TopicTally`]). Glue: the numbers are computed in `report::agent_topics`.

use super::agents::InputArgs;
use crate::agg::visit_runs;
use crate::coach::Catalogue;
use crate::report::{TeamReport, TopicTable, TopicTally};
use crate::topics::coverage::{self, TopicModules, TOPIC_MODULES_FILE};
use crate::topics::summary::{ConvFacts, TopicsReport};
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A `convqa topics` directory as read.
#[derive(Debug, Clone)]
pub(crate) struct LoadedTopics {
    pub report: TopicsReport,
    /// topics.json's path (as shown in the pages).
    pub source: String,
    /// Conversation id → topic (None: fits no topic), from assignments.jsonl.
    pub assignments: BTreeMap<String, Option<u32>>,
    /// The mapping and the file it came from.
    pub modules: Option<(String, TopicModules)>,
}

#[derive(serde::Deserialize)]
struct AssignmentLine {
    conversation_id: String,
    topic: Option<u32>,
}

/// Reads DIR (and the mapping: `modules`, else DIR/topic_modules.toml when it exists), checking
/// the mapping's topic ids against topics.json and its module ids against `cat`.
pub(crate) fn load(
    dir: &Path,
    modules: Option<&Path>,
    cat: &Catalogue,
) -> anyhow::Result<LoadedTopics> {
    let json = dir.join("topics.json");
    let text = std::fs::read_to_string(&json).with_context(|| {
        format!(
            "{}: cannot read (--topics takes a directory written by `convqa topics`)",
            json.display()
        )
    })?;
    let report: TopicsReport = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a convqa topics report", json.display()))?;
    let mut assignments = BTreeMap::new();
    let path = dir.join("assignments.jsonl");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let a: AssignmentLine = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not an assignment line", path.display(), i + 1))?;
            assignments.insert(a.conversation_id, a.topic);
        }
    }
    let file: Option<PathBuf> = match modules {
        Some(p) => Some(p.to_path_buf()),
        None => Some(dir.join(TOPIC_MODULES_FILE)).filter(|p| p.exists()),
    };
    let modules = match file {
        Some(f) => {
            let ids: BTreeSet<u32> = report.topics.iter().map(|t| t.id).collect();
            let mods: BTreeSet<&str> = cat.modules.iter().map(|m| m.id.as_str()).collect();
            let m = coverage::load(&f, &ids, &mods)?;
            Some((f.display().to_string(), m))
        }
        None => None,
    };
    Ok(LoadedTopics {
        report,
        source: json.display().to_string(),
        assignments,
        modules,
    })
}

/// Loads `--topics` (when given) and puts the topic table and each agent's topics on `report`.
pub(crate) fn add_topics(
    report: &mut TeamReport,
    input: &InputArgs,
    cat: &Catalogue,
) -> anyhow::Result<Option<LoadedTopics>> {
    let Some(dir) = &input.topics else {
        return Ok(None);
    };
    let t = load(dir, input.topic_modules.as_deref(), cat)?;
    let mut tally = TopicTally::default();
    visit_runs(&input.from, |rec, _, _| {
        if input.keeps(&rec) {
            let topic = match &rec.topic {
                Some(r) => Some(r.id),
                None => t.assignments.get(&rec.conversation_id).copied(),
            };
            tally.add(&ConvFacts::of(&rec, None), topic);
        }
        Ok(())
    })?;
    if tally.without_topic > 0 {
        crate::say!(
            "convqa: warning: {} conversation(s) have no topic (no `topic` in the result and no line in {}), so they are in no topic's numbers",
            tally.without_topic,
            dir.join("assignments.jsonl").display()
        );
    }
    let table = TopicTable::new(
        &t.source,
        &t.report,
        t.modules.as_ref().map(|(f, m)| (f.as_str(), m)),
    );
    tally.apply(report, table);
    Ok(Some(t))
}
