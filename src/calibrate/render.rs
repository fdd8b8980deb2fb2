//! `calibration.md` and `calibration.html`: the calibration a QA lead reads. Both render the same
//! [`Calibration`]; the HTML is self-contained (inline CSS, no scripts or URLs) and every text
//! from the inputs (ids, reasons, quotes) goes through [`esc`].

use super::compare::{BinaryAgreement, Calibration, Disagreement};
use crate::report::esc;
use std::fmt::Write;

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.2}"))
}

fn ci(v: Option<[f64; 2]>) -> String {
    v.map_or_else(|| "–".into(), |[a, b]| format!("{a:.2} – {b:.2}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{:.0} %", x * 100.0))
}

/// One line per quote, the turn index first.
fn quotes(d: &Disagreement) -> Vec<String> {
    d.evidence
        .iter()
        .map(|e| format!("turn {} ({}): {}", e.turn, e.speaker.as_str(), e.quote))
        .collect()
}

/// Markdown table cells may not hold a pipe or a line break.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The rows of the conversation-level table: name and agreement.
fn targets(c: &Calibration) -> [(&'static str, &BinaryAgreement); 3] {
    [
        ("resolved", &c.resolved),
        ("customer escalation", &c.escalation),
        ("conflict (rude or blaming agent)", &c.conflict),
    ]
}

pub fn markdown(c: &Calibration) -> String {
    let mut o = String::new();
    let s = &c.summary;
    let _ = writeln!(o, "# Calibration against reviewers\n");
    let _ = writeln!(
        o,
        "{} label(s) on {} conversation(s) matched the scored runs ({} read); reviewers: {}. \
         κ intervals: 95 % percentile bootstrap, {} resamples.\n",
        s.labels_matched,
        s.conversations,
        s.labels,
        if s.reviewers.is_empty() {
            "unnamed".to_string()
        } else {
            s.reviewers.join(", ")
        },
        c.inputs.bootstrap_resamples
    );
    let sc = &c.score;
    let _ = writeln!(o, "## QA score against the reviewer's score\n");
    let _ = writeln!(
        o,
        "n = {}; Spearman {} (95 % {}); Kendall τ-b {}; after the line reviewer ≈ {} the mean \
         error is {} points; pass/fail at the pass mark {}: agreement {}, κ {}.\n",
        sc.n,
        num(sc.spearman),
        ci(sc.spearman_ci),
        num(sc.kendall),
        sc.fit
            .map_or_else(|| "–".into(), |[a, b]| format!("{a:.1} + {b:.2} × QA")),
        num(sc.mae_after_fit),
        sc.pass_mark
            .map_or_else(|| "–".into(), |p| format!("{p:.0}")),
        pct(sc.pass_agreement),
        num(sc.pass_kappa)
    );
    let _ = writeln!(o, "## Checklist items\n");
    let _ = writeln!(
        o,
        "| item | n | agreement | κ | κ 95 % | precision (fail) | recall (fail) | tool N/A, reviewer decided |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    for i in &c.items {
        let na = i.confusion.tool_na.reviewer_pass + i.confusion.tool_na.reviewer_fail;
        let _ = writeln!(
            o,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&i.id),
            cell(&i.title),
            i.n,
            pct(i.agreement),
            num(i.kappa),
            ci(i.kappa_ci),
            pct(i.precision_fail),
            pct(i.recall_fail),
            na
        );
    }
    let _ = writeln!(o, "\n## Conversation-level judgements\n");
    let _ = writeln!(
        o,
        "| judgement | n | agreement | κ | κ 95 % | tool yes, reviewer no | tool no, reviewer yes |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|");
    for (name, b) in targets(c) {
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            b.n,
            pct(b.agreement),
            num(b.kappa),
            ci(b.kappa_ci),
            b.counts[1],
            b.counts[2]
        );
    }
    if let Some(r) = &c.reviewers {
        let _ = writeln!(
            o,
            "\n## Reviewers against each other ({} conversations labelled twice or more)\n",
            r.conversations
        );
        let _ = writeln!(o, "| target | pairs | reviewer–reviewer | tool–reviewer |");
        let _ = writeln!(o, "|---|---|---|---|");
        for t in &r.targets {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                cell(&t.id),
                t.n,
                num(t.reviewer_reviewer),
                num(t.tool_reviewer)
            );
        }
        let _ = writeln!(o, "\nκ, or Spearman for the score.");
    }
    if let Some(f) = &c.weights {
        let _ = writeln!(o, "\n## Weights fitted to the reviewers' scores\n");
        let _ = writeln!(
            o,
            "{} conversations. Spearman with the reviewers: current weights {}, fitted {} (in sample); \
             on held-out folds fitted {} against current {}. Adopt a fitted weight only where the \
             held-out figure improves (`fitted-weights.toml` has them as checklist lines).\n",
            f.n,
            num(f.spearman_current),
            num(f.spearman_fitted),
            num(f.spearman_held_out),
            num(f.spearman_current_held_out)
        );
        let _ = writeln!(o, "| item | current | fitted |\n|---|---|---|");
        for w in &f.weights {
            let _ = writeln!(o, "| {} | {} | {} |", cell(&w.id), w.current, w.fitted);
        }
    }
    if c.csat.n > 0 {
        let _ = writeln!(o, "\n## CSAT\n");
        let _ = writeln!(
            o,
            "n = {}; QA score vs CSAT Spearman {}.\n",
            c.csat.n,
            num(c.csat.spearman_qa_score)
        );
        let _ = writeln!(
            o,
            "| item | pass n | fail n | CSAT pass | CSAT fail | difference (95 %) |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|");
        for i in &c.csat.items {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} ({}) |",
                cell(&i.id),
                i.n_pass,
                i.n_fail,
                num(i.csat_pass),
                num(i.csat_fail),
                num(i.difference),
                ci(i.difference_ci)
            );
        }
    }
    let _ = writeln!(o, "\n## Disagreements to look at\n");
    for i in &c.items {
        if i.disagreements.is_empty() {
            continue;
        }
        let _ = writeln!(o, "### {}\n", i.id);
        for d in &i.disagreements {
            write_disagreement(&mut o, d);
        }
    }
    for (name, b) in targets(c) {
        if b.disagreements.is_empty() {
            continue;
        }
        let _ = writeln!(o, "### {name}\n");
        for d in &b.disagreements {
            write_disagreement(&mut o, d);
        }
    }
    if !sc.worst.is_empty() {
        let _ = writeln!(o, "### QA score furthest from the reviewer's\n");
        for g in &sc.worst {
            let _ = writeln!(
                o,
                "- {} (reviewer {}): QA {:.1}, reviewer {:.1}; failed: {}",
                g.conversation_id,
                if g.reviewer.is_empty() {
                    "–"
                } else {
                    &g.reviewer
                },
                g.qa_score,
                g.reviewer_score,
                if g.failed_items.is_empty() {
                    "nothing".into()
                } else {
                    g.failed_items.join(", ")
                }
            );
        }
    }
    let p = &c.problems;
    let _ = writeln!(o, "\n## Labels not compared as given\n");
    if !p.any() && p.unused_fields.is_empty() {
        let _ = writeln!(o, "None.");
    }
    for x in p.records.iter().chain(&p.unknown_conversations) {
        let _ = writeln!(o, "- {} ({}): {}", x.at, x.kind, x.message);
    }
    for x in &p.unknown_items {
        let _ = writeln!(
            o,
            "- unknown item {:?} in {} label(s): not in the scored results' checklist",
            x.name, x.count
        );
    }
    if !p.unused_fields.is_empty() {
        let f: Vec<String> = p
            .unused_fields
            .iter()
            .map(|x| format!("{} ({})", x.name, x.count))
            .collect();
        let _ = writeln!(o, "- fields the map does not read: {}", f.join(", "));
    }
    o
}

fn write_disagreement(o: &mut String, d: &Disagreement) {
    let _ = writeln!(
        o,
        "- **{}** ({}; reviewer {} says {}, tool {}; label {}): {}",
        d.conversation_id,
        d.kind.replace('_', " "),
        if d.reviewer.is_empty() {
            "–"
        } else {
            &d.reviewer
        },
        d.reviewer_says,
        d.tool,
        d.label_at,
        d.reason.replace('\n', " ")
    );
    for q in quotes(d) {
        let _ = writeln!(o, "  > {}", q.replace('\n', " "));
    }
}

const CSS: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;color:#111827;margin:0 auto;max-width:1100px;padding:24px;line-height:1.45}\
table{border-collapse:collapse;margin:.5rem 0 1.2rem}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f9fafb}\
.low{background:#fee2e2}.ok{background:#dcfce7}blockquote{margin:.2rem 0 .2rem 1rem;padding:.2rem .6rem;border-left:3px solid #e5e7eb}.muted{color:#6b7280}";

/// κ below 0.4 is flagged red, 0.6 and above green (Landis & Koch's moderate / substantial).
fn kappa_class(k: Option<f64>) -> &'static str {
    match k {
        Some(k) if k >= 0.6 => " class=\"ok\"",
        Some(k) if k < 0.4 => " class=\"low\"",
        _ => "",
    }
}

pub fn html(c: &Calibration) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Calibration against reviewers</title><style>{CSS}</style></head><body>"
    );
    let s = &c.summary;
    let _ = write!(
        o,
        "<h1>Calibration against reviewers</h1><p class=\"muted\">{} label(s) on {} conversation(s) matched ({} read); reviewers: {}; κ intervals from {} bootstrap resamples.</p>",
        s.labels_matched,
        s.conversations,
        s.labels,
        esc(&s.reviewers.join(", ")),
        c.inputs.bootstrap_resamples
    );
    let sc = &c.score;
    let _ = write!(
        o,
        "<h2>QA score</h2><table><tr><th>n</th><th>Spearman (95 %)</th><th>Kendall τ-b</th><th>mean error after fit</th><th>pass/fail agreement</th><th>pass/fail κ</th></tr><tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        sc.n,
        num(sc.spearman),
        ci(sc.spearman_ci),
        num(sc.kendall),
        num(sc.mae_after_fit),
        pct(sc.pass_agreement),
        num(sc.pass_kappa)
    );
    let _ = write!(o, "<h2>Checklist items</h2><table><tr><th>item</th><th>n</th><th>agreement</th><th>κ</th><th>κ 95 %</th><th>precision (fail)</th><th>recall (fail)</th><th>confusion tool→reviewer (pass/fail/na)</th></tr>");
    for i in &c.items {
        let row = |r: &super::compare::Row| {
            format!("{}/{}/{}", r.reviewer_pass, r.reviewer_fail, r.reviewer_na)
        };
        let _ = write!(
            o,
            "<tr><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td><td>pass: {}; fail: {}; N/A: {}</td></tr>",
            esc(&i.id),
            esc(&i.title),
            i.n,
            pct(i.agreement),
            kappa_class(i.kappa),
            num(i.kappa),
            ci(i.kappa_ci),
            pct(i.precision_fail),
            pct(i.recall_fail),
            row(&i.confusion.tool_pass),
            row(&i.confusion.tool_fail),
            row(&i.confusion.tool_na)
        );
    }
    let _ = write!(o, "</table><h2>Conversation-level judgements</h2><table><tr><th>judgement</th><th>n</th><th>agreement</th><th>κ</th><th>κ 95 %</th><th>tool yes, reviewer no</th><th>tool no, reviewer yes</th></tr>");
    for (name, b) in targets(c) {
        let _ = write!(
            o,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.n,
            pct(b.agreement),
            kappa_class(b.kappa),
            num(b.kappa),
            ci(b.kappa_ci),
            b.counts[1],
            b.counts[2]
        );
    }
    o.push_str("</table>");
    if let Some(r) = &c.reviewers {
        let _ = write!(o, "<h2>Reviewers against each other</h2><p class=\"muted\">{} conversations labelled by two or more reviewers; κ, or Spearman for the score.</p><table><tr><th>target</th><th>pairs</th><th>reviewer–reviewer</th><th>tool–reviewer</th></tr>", r.conversations);
        for t in &r.targets {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.id),
                t.n,
                num(t.reviewer_reviewer),
                num(t.tool_reviewer)
            );
        }
        o.push_str("</table>");
    }
    if let Some(f) = &c.weights {
        let _ = write!(
            o,
            "<h2>Weights fitted to the reviewers' scores</h2><p class=\"muted\">{} conversations. Spearman with the reviewers: current {}, fitted {} (in sample); held-out folds: fitted {}, current {}. Adopt a fitted weight only where the held-out figure improves.</p><table><tr><th>item</th><th>current</th><th>fitted</th></tr>",
            f.n,
            num(f.spearman_current),
            num(f.spearman_fitted),
            num(f.spearman_held_out),
            num(f.spearman_current_held_out)
        );
        for w in &f.weights {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&w.id),
                w.current,
                w.fitted
            );
        }
        o.push_str("</table>");
    }
    o.push_str("<h2>Disagreements to look at</h2>");
    let groups = c
        .items
        .iter()
        .map(|i| (i.id.as_str(), &i.disagreements))
        .chain(targets(c).into_iter().map(|(n, b)| (n, &b.disagreements)));
    for (name, ds) in groups {
        if ds.is_empty() {
            continue;
        }
        let _ = write!(o, "<h3>{}</h3><ul>", esc(name));
        for d in ds {
            let _ = write!(
                o,
                "<li><b>{}</b> <span class=\"muted\">{} · reviewer {} says {}, tool {} · {}</span><br>{}",
                esc(&d.conversation_id),
                esc(&d.kind.replace('_', " ")),
                esc(&d.reviewer),
                esc(&d.reviewer_says),
                esc(&d.tool),
                esc(&d.label_at),
                esc(&d.reason)
            );
            for q in quotes(d) {
                let _ = write!(o, "<blockquote>{}</blockquote>", esc(&q));
            }
            o.push_str("</li>");
        }
        o.push_str("</ul>");
    }
    let p = &c.problems;
    o.push_str("<h2>Labels not compared as given</h2><ul>");
    for x in p.records.iter().chain(&p.unknown_conversations) {
        let _ = write!(
            o,
            "<li>{} ({}): {}</li>",
            esc(&x.at),
            esc(&x.kind),
            esc(&x.message)
        );
    }
    for x in &p.unknown_items {
        let _ = write!(
            o,
            "<li>unknown item {} in {} label(s)</li>",
            esc(&x.name),
            x.count
        );
    }
    for x in &p.unused_fields {
        let _ = write!(
            o,
            "<li>field not read by the map: {} ({})</li>",
            esc(&x.name),
            x.count
        );
    }
    o.push_str("</ul></body></html>\n");
    o
}
