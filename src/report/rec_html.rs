//! One coaching recommendation on a page (the agent pages and the team's own on the index): the
//! module, the target and, with `--period`, the follow-up (the target's value in the latest and
//! previous period and whether it was reached), the findings, the quotes linked to their
//! conversation pages and a good example.

use super::html::{cite, esc, quote};
use super::words::Words;
use crate::coach::{Confidence, FollowUp, Recommendation};
use std::fmt::Write;

/// The follow-up line: the sentence, with the reached / not reached word marked for the eye and
/// `data-target-reached` for tools.
fn follow_up(out: &mut String, f: &FollowUp, w: &Words) {
    let text = super::follow_up_text(f, w);
    let state = if f.target_reached {
        w.reached
    } else {
        w.not_reached
    };
    // The state word is in the sentence once; wrap that occurrence (the last one: the values
    // before it are numbers and period keys).
    let html = match text.rfind(state) {
        Some(i) => format!(
            r#"{}<span class="state">{}</span>{}"#,
            esc(&text[..i]),
            esc(state),
            esc(&text[i + state.len()..])
        ),
        None => esc(&text),
    };
    let _ = write!(
        out,
        r#"<p class="follow-up {}" data-target-reached="{}">{html}</p>"#,
        if f.target_reached {
            "reached"
        } else {
            "not-reached"
        },
        f.target_reached
    );
}

/// One recommendation; `calls` names whose calls the quotes come from.
pub(crate) fn recommendation(
    out: &mut String,
    r: &Recommendation,
    calls: &str,
    up: &str,
    w: &Words,
) {
    let low = r.confidence == Confidence::Low;
    let _ = write!(
        out,
        r#"<li class="recommendation{}" data-module="{}"><h3>{}<span class="priority">{} {:.1}</span>{}</h3><p class="muted">{}</p><p class="target">{} {}</p>"#,
        if low { " low" } else { "" },
        esc(&r.module_id),
        esc(&r.title),
        esc(w.priority),
        r.priority,
        if low {
            format!(
                r#"<span class="badge">{}</span>"#,
                esc(w.low_confidence_few)
            )
        } else {
            String::new()
        },
        esc(&r.description),
        esc(w.target),
        esc(&r.target.text)
    );
    if let Some(f) = &r.follow_up {
        follow_up(out, f, w);
    }
    out.push_str(r#"<ul class="why">"#);
    for f in &r.why {
        let _ = write!(out, "<li>{}</li>", esc(&f.text));
    }
    for f in &r.context {
        let _ = write!(out, r#"<li class="muted">{}</li>"#, esc(&f.text));
    }
    out.push_str("</ul>");
    if !r.evidence.is_empty() {
        let _ = write!(out, "<h4>{calls}</h4>");
        for e in &r.evidence {
            let _ = write!(
                out,
                "<blockquote>{}<cite>{}</cite></blockquote>",
                quote(&e.evidence, up),
                cite(&e.evidence, up, w)
            );
        }
    }
    if let Some(g) = &r.good_example {
        let who = if g.from == "agent" {
            w.good_example_agent
        } else {
            w.good_example_team
        };
        let _ = write!(
            out,
            r#"<h4>{}</h4><blockquote class="good">{}<cite>{} · {}</cite></blockquote>"#,
            esc(who),
            quote(&g.evidence, up),
            esc(&g.item_id),
            cite(&g.evidence, up, w)
        );
    }
    if !r.see_also.is_empty() {
        let _ = write!(
            out,
            r#"<p class="muted">{} {}</p>"#,
            esc(w.see_also),
            esc(&r.see_also.join(", "))
        );
    }
    out.push_str("</li>\n");
}
