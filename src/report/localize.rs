//! The report in the reader's language (`convqa report --lang zh-CN`): the texts that come from
//! the inputs rather than the words table — checklist item titles and section names
//! (`title_zh`, `section_zh`), module titles and descriptions, catalogue phrase and threshold
//! descriptions (`description_zh`), escalation trigger and conflict kind names (the words
//! table's), and the recommendations' findings and targets rewritten from their numbers.

use super::words::{self, Lang};
use super::TeamReport;
use crate::coach::Catalogue;
use std::collections::BTreeMap;

/// The report's texts from the inputs in `lang`: on zh-CN pages, checklist item titles and
/// sections from the checklist's `title_zh` / `section_zh` (items without them keep the English),
/// coaching modules' titles and descriptions and phrase and threshold signals' descriptions from
/// the catalogue's `title_zh` / `description_zh`, trigger and conflict kinds by their Chinese
/// names. English needs nothing.
pub fn localize(
    r: &mut TeamReport,
    lang: Lang,
    checklist: &crate::checklist::Checklist,
    cat: &Catalogue,
) {
    if lang != Lang::ZhCn {
        return;
    }
    let w = words::words(lang);
    let zh = Zh {
        titles: checklist
            .items()
            .iter()
            .filter_map(|i| Some((i.id.as_str(), i.title_zh.as_deref()?)))
            .collect(),
        signals: cat
            .phrases
            .iter()
            .filter_map(|p| Some((p.id.as_str(), p.description_zh.as_deref()?)))
            .chain(
                cat.thresholds
                    .iter()
                    .filter_map(|t| Some((t.id.as_str(), t.description_zh.as_deref()?))),
            )
            .collect(),
    };
    let sections = checklist.section_zh();
    for e in std::iter::once(&mut r.team).chain(r.agents.iter_mut()) {
        for (id, i) in e.stats.items.iter_mut() {
            if let Some(t) = zh.titles.get(id.as_str()) {
                i.title = t.to_string();
            }
            if let Some(s) = sections.get(i.section.as_str()) {
                i.section = s.to_string();
            }
        }
        for rec in &mut e.plan.recommendations {
            if let Some(t) = &rec.title_zh {
                rec.title.clone_from(t);
            }
            if let Some(d) = &rec.description_zh {
                rec.description.clone_from(d);
            }
            for f in rec.why.iter_mut().chain(rec.context.iter_mut()) {
                f.label = zh_label(f.kind, &f.id, &f.label, &zh, w);
                f.text = finding_text(f, w);
            }
            rec.summary = match rec.why.first() {
                Some(f) => format!("{}：{}", rec.title, f.text),
                None => rec.summary.clone(),
            };
            let t = &mut rec.target;
            let label = zh_label(t.kind, &t.id, "", &zh, w);
            let label = if label.is_empty() {
                rec.why
                    .iter()
                    .find(|f| f.id == t.id)
                    .map_or(t.id.clone(), |f| f.label.clone())
            } else {
                label
            };
            t.text = if t.kind == crate::coach::SignalKind::Item {
                words::fill(
                    w.target_item,
                    &[&label, &w.pct(t.current), &w.pct(t.target)],
                )
            } else {
                words::fill(
                    w.target_rate,
                    &[&label, &w.pct(t.current), &w.pct(t.target)],
                )
            };
        }
    }
}

/// The Chinese texts the inputs give: item titles by item id, phrase and threshold descriptions
/// by signal id.
struct Zh<'a> {
    titles: BTreeMap<&'a str, &'a str>,
    signals: BTreeMap<&'a str, &'a str>,
}

/// A signal's label in Chinese: an item's `title_zh`, the trigger or conflict kind's name after
/// a translated prefix, a phrase or threshold's `description_zh`; `label` where the inputs give
/// no Chinese.
fn zh_label(
    kind: crate::coach::SignalKind,
    id: &str,
    label: &str,
    zh: &Zh<'_>,
    w: &words::Words,
) -> String {
    use crate::coach::SignalKind;
    match kind {
        SignalKind::Item => zh
            .titles
            .get(id)
            .map_or(label.to_string(), |t| t.to_string()),
        SignalKind::EscalationTrigger => {
            format!("{}：{}", w.signal_escalation, words::name(Lang::ZhCn, id))
        }
        SignalKind::ConflictKind => {
            format!("{}：{}", w.signal_conflict, words::name(Lang::ZhCn, id))
        }
        SignalKind::Phrase | SignalKind::Threshold => zh
            .signals
            .get(id)
            .map_or(label.to_string(), |t| t.to_string()),
    }
}

/// A finding's sentence in `w`'s language, from its numbers.
fn finding_text(f: &crate::coach::SignalFinding, w: &words::Words) -> String {
    use crate::coach::SignalKind;
    let args = [
        f.label.clone(),
        f.agent.count.to_string(),
        f.agent.of.to_string(),
        w.rate(f.agent.exact()),
        f.team.exact().map_or("n/a".into(), |x| w.pct(x)),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match f.kind {
        SignalKind::Item => {
            let mut s = words::fill(w.finding_item, &args);
            if let Some(x) = f.expected {
                s.push_str(&words::fill(w.finding_expected, &[&w.pct(x)]));
            }
            s
        }
        SignalKind::EscalationTrigger => words::fill(w.finding_context, &args),
        _ => words::fill(w.finding_other, &args),
    }
}
