//! The mapping file's path syntax: a dotted path into a JSON record (`author.role`,
//! `participants[0].id`, `transcripts[].phrases`), parsed once and resolved per record.

use serde_json::Value;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[]`: every element of an array (only in `turns`).
    Each,
}

/// A dotted path into a JSON record: `author.role`, `participants[0].id`, `transcripts[].phrases`.
/// Field names are matched exactly; `[N]` takes the N-th element (from 0) of an array; `[]` (only
/// in `turns`) takes every element and joins what each gives. In CSV the path is a column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl FieldPath {
    pub fn parse(s: &str) -> Result<FieldPath, String> {
        let text = s.trim();
        if text.is_empty() {
            return Err("empty path".into());
        }
        let mut steps = Vec::new();
        for seg in text.split('.') {
            let (name, mut rest) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg, ""),
            };
            if name.is_empty() {
                return Err(format!("path {text:?} has an empty field name"));
            }
            steps.push(Step::Key(name.to_string()));
            while !rest.is_empty() {
                let Some(close) = rest.find(']').filter(|_| rest.starts_with('[')) else {
                    return Err(format!("path {text:?}: expected [N] or [] after {name:?}"));
                };
                let inner = &rest[1..close];
                if inner.is_empty() {
                    steps.push(Step::Each);
                } else {
                    let n = inner
                        .parse()
                        .map_err(|_| format!("path {text:?}: [{inner}] is not an index"))?;
                    steps.push(Step::Index(n));
                }
                rest = &rest[close + 1..];
            }
        }
        Ok(FieldPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(super) fn has_each(&self) -> bool {
        self.steps.contains(&Step::Each)
    }

    /// The value at this path (paths without `[]`); `None` when any step is missing.
    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for s in &self.steps {
            cur = match s {
                Step::Key(k) => cur.get(k.as_str())?,
                Step::Index(i) => cur.get(*i)?,
                Step::Each => return None,
            };
        }
        (!cur.is_null()).then_some(cur)
    }

    /// The elements of the array(s) at this path, `[]` steps joined; `None` when the path leads
    /// nowhere or not to an array.
    pub fn all<'a>(&self, v: &'a Value) -> Option<Vec<&'a Value>> {
        let mut cur = vec![v];
        for s in &self.steps {
            let mut next = Vec::new();
            for c in cur {
                match s {
                    Step::Key(k) => next.extend(c.get(k.as_str())),
                    Step::Index(i) => next.extend(c.get(*i)),
                    Step::Each => next.extend(c.as_array()?.iter()),
                }
            }
            cur = next;
        }
        let mut out = Vec::new();
        for c in cur {
            out.extend(c.as_array()?.iter());
        }
        Some(out)
    }
}
