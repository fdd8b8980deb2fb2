//! The numbers behind a training effect: a change in a pass rate between two windows, with its
//! 95 % interval, and the difference-in-differences against a control group.
//!
//! Each conversation contributes one value in [0, 1] (the share of the module's target items it
//! passed, or one item's pass/credit). A window's value is the mean over its conversations.
//!
//! - **The trained agent's change** `after − before` has variance `s²ₐ/nₐ + s²ᵦ/nᵦ`. A window
//!   where every conversation passed has s² = 0, which would make any difference look certain; the
//!   variance is therefore computed as if two pseudo-conversations (one pass, one fail) had been
//!   added, the same shrinkage as the Agresti–Caffo interval for a difference of proportions.
//! - **The control change** is the mean of the control agents' own changes, one per agent, with
//!   the standard error of that mean: agents, not conversations, are the independent units there,
//!   so an agent whose level differs from the team's does not make the control look precise.
//! - **The effect** is the trained change minus the control change; its interval uses Student's
//!   t with the smaller window's degrees of freedom (conservative for 10–40 conversations).
//!
//! Assumptions (said again in docs/EFFECT.md): without training, the trained agent would have
//! moved as the control agents moved (parallel trends); conversations are independent given the
//! agent and window; the agent's mix of contacts does not change between the windows.

use crate::agg::t975;

/// Mean, adjusted variance of one value, and count of one window's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub n: usize,
    pub mean: f64,
    /// Variance of one conversation's value, shrunk as described in the module doc.
    pub var: f64,
}

impl Window {
    pub fn of(values: &[f64]) -> Option<Window> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let sum: f64 = values.iter().sum();
        let mean = sum / n as f64;
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        // Two pseudo-values, 0 and 1, around the shrunk mean: (ss + Σ over them) / (n + 1).
        let shrunk = (sum + 1.0) / (n as f64 + 2.0);
        let pseudo = shrunk * shrunk + (1.0 - shrunk) * (1.0 - shrunk);
        let var = (ss + pseudo) / (n as f64 + 1.0);
        Some(Window { n, mean, var })
    }
}

/// A change between two windows with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub before: Window,
    pub after: Window,
    pub change: f64,
    pub se: f64,
    pub df: u64,
}

impl Change {
    pub fn between(before: &[f64], after: &[f64]) -> Option<Change> {
        let (b, a) = (Window::of(before)?, Window::of(after)?);
        Some(Change {
            before: b,
            after: a,
            change: a.mean - b.mean,
            se: (a.var / a.n as f64 + b.var / b.n as f64).sqrt(),
            df: (a.n.min(b.n) as u64).saturating_sub(1).max(1),
        })
    }

    pub fn interval(&self) -> (f64, f64) {
        let h = t975(self.df) * self.se;
        (self.change - h, self.change + h)
    }
}

/// The control group's mean change: one change per control agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlChange {
    pub agents: usize,
    pub change: f64,
    /// Standard error of the mean over agents; 0 when there is one agent.
    pub se: f64,
}

impl ControlChange {
    /// `changes`: each control agent's after − before. At least one.
    pub fn of(changes: &[f64]) -> Option<ControlChange> {
        let k = changes.len();
        if k == 0 {
            return None;
        }
        let mean = changes.iter().sum::<f64>() / k as f64;
        let se = if k > 1 {
            let ss: f64 = changes.iter().map(|c| (c - mean) * (c - mean)).sum();
            (ss / (k - 1) as f64 / k as f64).sqrt()
        } else {
            0.0
        };
        Some(ControlChange {
            agents: k,
            change: mean,
            se,
        })
    }
}

/// Difference-in-differences: the trained change minus the control change (or the trained change
/// alone when there is no control group), with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn effect(trained: &Change, control: Option<&ControlChange>) -> Effect {
    let (c, cse) = control.map_or((0.0, 0.0), |c| (c.change, c.se));
    let estimate = trained.change - c;
    let h = t975(trained.df) * (trained.se * trained.se + cse * cse).sqrt();
    Effect {
        estimate,
        lo: estimate - h,
        hi: estimate + h,
    }
}
