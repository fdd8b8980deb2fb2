//! The training-effect page, `effects.html`: the module-effectiveness table (transfer rate per
//! module) and, per completion, the agent's target behaviour before and after against the control
//! group, with each item (its title from the report, in the page's language) and the example
//! conversations `convqa effect` picked, linked to their conversation pages where the report has
//! them. Rendered from `effects.json` ([`crate::effect::EffectsReport`]) in English or Simplified
//! Chinese; same rules as the other pages (inline CSS and SVG, no scripts, input text escaped).

use super::conv_pages::conversation_href;
use super::html::{esc, page_in};
use crate::effect::{CompletionEffect, EffectsReport, Measured, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What effects.html takes from the rest of the report.
#[derive(Debug, Clone, Default)]
pub struct EffectsLinks {
    /// Agent id → page stem (`agents/<stem>.html`), for the agents the report has pages for.
    pub agent_pages: BTreeMap<String, String>,
    /// Checklist item id → title in the page's language.
    pub item_titles: BTreeMap<String, String>,
    /// Conversations that have a page (`conversations/<stem>.html`).
    pub conversations: BTreeSet<String>,
}

use super::words::{EffectWords as Words, Lang};

fn words(lang: Lang) -> &'static Words {
    &super::words::words(lang).fx
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.0}%", v * 100.0))
}

fn pts(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:+.1}", v * 100.0))
}

fn interval(x: Option<[f64; 2]>) -> String {
    x.map_or(String::new(), |[lo, hi]| {
        format!(" [{:+.1}, {:+.1}]", lo * 100.0, hi * 100.0)
    })
}

/// A module's title in `lang` (from effects.json's module table), else its id.
fn module_title<'a>(r: &'a EffectsReport, id: &'a str, lang: Lang) -> &'a str {
    r.modules
        .iter()
        .find(|m| m.module_id == id)
        .map_or(id, |m| match (lang, &m.title_zh) {
            (Lang::ZhCn, Some(z)) => z.as_str(),
            _ => m.title.as_str(),
        })
}

fn verdict(w: &Words, v: Verdict) -> String {
    let (class, text) = match v {
        Verdict::Improved => ("improved", w.improved),
        Verdict::NoEvidence => ("no-evidence", w.no_evidence),
        Verdict::Worse => ("worse", w.worse),
    };
    format!(
        r#"<span class="verdict {class}" data-verdict="{}">{text}</span>"#,
        v.as_str()
    )
}

/// Before and after bars for the agent, and where the control group's change would have taken
/// the "before" value (a dashed mark): the gap between that mark and "after" is the effect.
fn chart(w: &Words, m: &Measured) -> String {
    let (width, height) = (360u32, 92u32);
    let (l, r) = (86.0, 44.0);
    let pw = f64::from(width) - l - r;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="effect" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(w.chart)
    );
    for (i, (label, v, color)) in [
        (w.before, m.before, "#b8bec9"),
        (w.after, m.after, "#2563eb"),
    ]
    .into_iter()
    .enumerate()
    {
        let y = 12.0 + i as f64 * 30.0;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{l}" y="{y:.1}" width="{pw:.1}" height="18" fill="#f3f4f6"/>"##,
            l - 6.0,
            y + 13.0,
            esc(label)
        );
        if let Some(v) = v {
            let _ = write!(
                s,
                r#"<rect x="{l}" y="{y:.1}" width="{:.1}" height="18" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                pw * v.clamp(0.0, 1.0),
                l + pw + 4.0,
                y + 13.0,
                pct(Some(v))
            );
        }
    }
    if let (Some(b), Some(c)) = (m.before, m.control_change) {
        let x = l + pw * (b + c).clamp(0.0, 1.0);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="38" x2="{x:.1}" y2="64" stroke="#111827" stroke-dasharray="3 2"><title>{}</title></line>"##,
            esc(&format!("{} {}", w.control, pts(Some(c))))
        );
    }
    let _ = write!(
        s,
        r#"<text x="{l}" y="86" class="small">{}: {} {}</text></svg>"#,
        esc(w.control),
        pts(m.control_change),
        esc(&format!("({} {})", m.control_agents, w.agent))
    );
    s
}

/// The note under a completion, from its numbers (so in the page's language, not the English
/// `note` effects.json carries).
fn note(w: &Words, e: &CompletionEffect, min: usize) -> Option<String> {
    e.note.as_ref()?;
    let m = &e.measured;
    Some(
        if m.conversations_before < min || m.conversations_after < min || m.effect.is_none() {
            super::words::fill(
                w.note_few,
                &[
                    &m.conversations_before.to_string(),
                    &m.conversations_after.to_string(),
                    &min.to_string(),
                ],
            )
        } else {
            w.note_no_control.to_string()
        },
    )
}

fn completion(
    b: &mut String,
    w: &Words,
    e: &CompletionEffect,
    title: &str,
    min: usize,
    links: &EffectsLinks,
) {
    let agent = match links.agent_pages.get(&e.agent_id) {
        Some(p) => format!(
            r#"<a href="agents/{}.html">{}</a>"#,
            esc(p),
            esc(&e.agent_id)
        ),
        None => esc(&e.agent_id),
    };
    let m = &e.measured;
    let _ = write!(
        b,
        r#"<article class="completion" data-agent="{}" data-module="{}"><h3>{agent} · {} {}</h3><p class="meta">{} {} · {} {} / {} {} {} · {} {}{}</p>"#,
        esc(&e.agent_id),
        esc(&e.module_id),
        esc(title),
        verdict(w, e.verdict),
        esc(w.completed),
        esc(&e.completed_at),
        m.conversations_before,
        esc(w.before),
        m.conversations_after,
        esc(w.after),
        esc(w.conversations),
        esc(w.effect),
        pts(m.effect),
        interval(m.effect_ci)
    );
    if let Some(n) = note(w, e, min) {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(&n));
    }
    b.push_str(&chart(w, m));
    if !e.examples.is_empty() {
        let _ = write!(b, r#"<p class="examples">{}"#, esc(w.examples));
        for x in &e.examples {
            let label = if x.window == "after" {
                w.after
            } else {
                w.before
            };
            let id = if links.conversations.contains(&x.conversation_id) {
                format!(
                    r#"<a class="conversation" href="{}">{}</a>"#,
                    conversation_href("", &x.conversation_id, None),
                    esc(&x.conversation_id)
                )
            } else {
                esc(&x.conversation_id)
            };
            let _ = write!(b, " {} {id} ({})", esc(label), pct(Some(x.value)));
        }
        b.push_str("</p>");
    }
    let _ = write!(
        b,
        r#"<table><thead><tr><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        esc(w.item),
        esc(w.before),
        esc(w.after),
        esc(w.control),
        esc(w.effect)
    );
    for it in &e.items {
        let x = &it.measured;
        let _ = write!(
            b,
            r#"<tr><td>{}<br><span class="small">{}</span></td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}{}</td></tr>"#,
            esc(links.item_titles.get(&it.id).unwrap_or(&it.id)),
            esc(&it.id),
            pct(x.before),
            pct(x.after),
            pts(x.control_change),
            pts(x.effect),
            interval(x.effect_ci)
        );
    }
    b.push_str("</tbody></table></article>\n");
}

/// `effects.html`, linking agents and example conversations to their pages where `links` has
/// them.
pub fn effects_page(r: &EffectsReport, lang: Lang, links: &EffectsLinks) -> String {
    let w = words(lang);
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<header><p><a href="index.html">{}</a></p><h1 id="effects-title">{}</h1><p class="meta">{}</p></header>"#,
        esc(w.back),
        esc(w.title),
        esc(w.intro)
    );
    let _ = write!(
        b,
        r#"<section id="modules"><h2>{}</h2><table><thead><tr><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        esc(w.modules),
        esc(w.module),
        esc(w.trained),
        esc(w.evaluated),
        esc(w.improved),
        esc(w.no_evidence),
        esc(w.worse),
        esc(w.transfer),
        esc(w.mean_effect)
    );
    for m in &r.modules {
        let title = match (lang, &m.title_zh) {
            (Lang::ZhCn, Some(z)) => z.as_str(),
            _ => m.title.as_str(),
        };
        let _ = write!(
            b,
            r#"<tr data-module="{}"><td>{}<br><span class="small">{}</span></td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            esc(&m.module_id),
            esc(title),
            esc(&m.module_id),
            m.trained_agents,
            m.evaluated_agents,
            m.improved,
            m.no_evidence,
            m.worse,
            pct(m.transfer_rate),
            pts(m.mean_effect)
        );
    }
    b.push_str("</tbody></table></section>\n");
    let _ = write!(
        b,
        r#"<section id="completions"><h2>{}</h2>"#,
        esc(w.completions)
    );
    if r.effects.is_empty() {
        let _ = write!(b, r#"<p class="none">{}</p>"#, esc(w.none));
    }
    for e in &r.effects {
        completion(
            &mut b,
            w,
            e,
            module_title(r, &e.module_id, lang),
            r.min_conversations,
            links,
        );
    }
    let _ = write!(b, "</section>\n<footer>{}</footer>\n", esc(w.method));
    page_in(lang.code(), &format!("{} — convqa", w.title), &b)
}

/// The agent page's section: this agent's completions, each with its verdict and effect.
pub fn agent_section(r: &EffectsReport, agent_id: &str, lang: Lang) -> Option<String> {
    let w = words(lang);
    let mine: Vec<&CompletionEffect> = r
        .effects
        .iter()
        .filter(|e| e.agent_id == agent_id)
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut b = format!(
        r#"<section id="training-effect"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th></th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        esc(w.title),
        esc(w.module),
        esc(w.completed),
        esc(w.before),
        esc(w.after),
        esc(w.effect)
    );
    for e in mine {
        let m = &e.measured;
        let _ = write!(
            b,
            r#"<tr><td><a href="../effects.html">{}</a></td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}{}</td></tr>"#,
            esc(module_title(r, &e.module_id, lang)),
            esc(&e.completed_at),
            verdict(w, e.verdict),
            pct(m.before),
            pct(m.after),
            pts(m.effect),
            interval(m.effect_ci)
        );
    }
    b.push_str("</tbody></table></section>\n");
    Some(b)
}
