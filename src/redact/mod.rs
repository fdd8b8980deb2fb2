//! Personal-data redaction: finds phone numbers, identity numbers, card numbers, e-mails, US
//! social security numbers and IP addresses in text and replaces each with a typed, numbered
//! mask (`[PHONE_1]`, `[ID_1]`, …), the same value getting the same mask throughout one
//! conversation.
//!
//! One stage, used by everything that writes text: the pipeline masks a conversation's turns,
//! warnings and metadata right after the model has labelled them (the model reads the original
//! in memory, so labels never change because of masking) and before any stage quotes them, so
//! that evidence, moments, results and everything derived from results (agents, reports,
//! exports) only ever see masked text; rejects are masked before they are written or printed;
//! `classify --redact` masks its echo of the input.
//!
//! What is found, on text with full-width digits and symbols read as half-width:
//! - `EMAIL`: name@domain.tld;
//! - `ID`: 18-digit mainland resident ID numbers whose ISO 7064 check digit is right, Taiwan IDs
//!   (letter + 9 digits, checksum verified), Hong Kong IDs written with their check digit in
//!   brackets (A123456(7));
//! - `CARD`: 13–19 digits starting with an issuer's digit (2221–2720, 3–6), whole or in the
//!   issuers' groups, that pass the Luhn check;
//! - `SSN`: 123-45-6789;
//! - `IP`: dotted IPv4 addresses (every part ≤ 255, no leading zeros, not after "version");
//! - `PHONE`: mainland mobiles (+86 optional) and landlines with an area code, Hong Kong numbers
//!   (with +852, or with a space or dash in the middle), Taiwan mobiles and landlines, North
//!   American numbers written with separators, any number written with a + country code, and
//!   7–8 digits right after a word that says phone (电话, 手機, call, WhatsApp…). Toll-free
//!   service lines (400/800 …) are a company's, not a person's, and are left.
//!
//! Digit strings must stand alone: a candidate with a digit right before or after it is part of
//! a longer number (an order number) and is not masked. Not found: names, postal addresses,
//! @handles, numbers spelled out in words, and identifiers of other countries.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    Email,
    Id,
    Card,
    Ssn,
    Ip,
    Phone,
}

impl Entity {
    /// All kinds, in the order candidates are taken (an e-mail before the digits inside it, an
    /// ID before a card number of the same digits, a card before a phone number).
    pub const ALL: [Entity; 6] = [
        Entity::Email,
        Entity::Id,
        Entity::Card,
        Entity::Ssn,
        Entity::Ip,
        Entity::Phone,
    ];

    /// The mask's tag and the name used on the command line and in run.json, lower-cased there.
    pub fn tag(self) -> &'static str {
        match self {
            Entity::Email => "EMAIL",
            Entity::Id => "ID",
            Entity::Card => "CARD",
            Entity::Ssn => "SSN",
            Entity::Ip => "IP",
            Entity::Phone => "PHONE",
        }
    }

    /// Parse a name (`phone`, `ID`, …), case-insensitively.
    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL
            .into_iter()
            .find(|e| e.tag().eq_ignore_ascii_case(s.trim()))
    }
}

/// What to redact: a validated, non-empty set of kinds, in [`Entity::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub entities: Vec<Entity>,
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            entities: Entity::ALL.to_vec(),
        }
    }
}

impl Redaction {
    /// From a comma-separated list of kinds (`phone,id,email`); an unknown name is an error.
    pub fn from_list(list: &str) -> Result<Redaction, String> {
        let mut entities = Vec::new();
        for name in list.split(',').filter(|s| !s.trim().is_empty()) {
            let e = Entity::parse(name).ok_or_else(|| {
                format!(
                    "unknown personal-data type {name:?} (known: {})",
                    Entity::ALL.map(|e| e.tag().to_lowercase()).join(", ")
                )
            })?;
            entities.push(e);
        }
        if entities.is_empty() {
            return Err("no personal-data type given".into());
        }
        entities.sort();
        entities.dedup();
        Ok(Redaction { entities })
    }

    /// The kinds as lower-case names, for run.json.
    pub fn names(&self) -> Vec<String> {
        self.entities
            .iter()
            .map(|e| e.tag().to_lowercase())
            .collect()
    }
}

/// One found span, in byte offsets of the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub entity: Entity,
}

/// Text with full-width ASCII read as half-width, and for every byte of it the byte offset of
/// the original character it came from (plus one past the end).
fn half_width(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut at = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let h = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        let before = out.len();
        out.push(h);
        at.extend(std::iter::repeat(i).take(out.len() - before));
    }
    at.push(text.len());
    (out, at)
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("static regex")
});
static CN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{17}[\dXx]").expect("static regex"));
static TW_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z][12]\d{8}").expect("static regex"));
static HK_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z]{1,2}\d{6}\([0-9Aa]\)").expect("static regex"));
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d(?:[ \-]?\d){12,18}").expect("static regex"));
static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{3}-\d{2}-\d{4}").expect("static regex"));
static IP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{1,3}(?:\.\d{1,3}){3}").expect("static regex"));
static PHONES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // mainland mobile
        r"(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}",
        // Taiwan mobile
        r"(?:(?:\+|00)886[ \-]?9\d{2}|09\d{2})[ \-]?\d{3}[ \-]?\d{3}",
        // mainland and Taiwan landlines with an area code
        r"(?:(?:\+|00)86[ \-]?)?(?:\(0\d{1,3}\)|0\d{1,3})[ \-]?\d{3,4}[ \-]?\d{4}",
        // Hong Kong: with +852, with a separator, or a mobile's 8 digits
        r"(?:(?:\+|00)852[ \-]?)[2-9]\d{3}[ \-]?\d{4}",
        r"[2-9]\d{3}[ \-]\d{4}",
        // any country, written with its + code
        r"\+[1-9]\d{0,2}[ \-]?\d(?:[ \-]?\d){6,11}",
        // North America, written with separators
        r"(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static regex"))
    .collect()
});
/// 7 or 8 digits after a word that says "phone": a landline or a Hong Kong mobile without its
/// code. Alone, such digits are as often an account or order number, so the word is required.
static PHONE_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:电话|電話|手机|手機|手提|座机|座機|联系|聯絡|联络|致电|致電|回电|回電|whatsapp|phone|tel|call|mobile|cell|text)[^\d]{0,6}?(\d{7,8})",
    )
    .expect("static regex")
});
/// Words before a dotted number that make it a version, not an IP address.
static VERSION_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:version|ver\.?|v|版本|build|固件|系统)\s*[:：]?\s*$").expect("static regex")
});

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn luhn(d: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in d.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Card numbers are written whole or in the issuers' groups: fours (the last group may be
/// shorter, 19-digit cards end in 3) or 4-6-5 (American Express). "86 138 1234 5678" is not one.
fn card_groups(s: &str) -> bool {
    let groups: Vec<usize> = s.split([' ', '-']).map(str::len).collect();
    match groups.as_slice() {
        [_] => true,
        [4, 6, 5] => true,
        [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
        [] => false,
    }
}

fn cn_id_valid(s: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = s.as_bytes();
    let sum: u32 = (0..17).map(|i| u32::from(b[i] - b'0') * W[i]).sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

fn tw_id_valid(s: &str) -> bool {
    const CODES: &[u8; 26] = &[
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32,
        30, 31, 33,
    ];
    let b = s.as_bytes();
    let code = u32::from(CODES[usize::from(b[0].to_ascii_uppercase() - b'A')]);
    let mut sum = code / 10 + (code % 10) * 9;
    for (i, &c) in b[1..9].iter().enumerate() {
        sum += u32::from(c - b'0') * (8 - i as u32);
    }
    sum += u32::from(b[9] - b'0');
    sum % 10 == 0
}

fn ip_valid(s: &str) -> bool {
    // "5.0.0.002" is a version: addresses are not written with leading zeros.
    s.split('.')
        .all(|p| (p.len() == 1 || !p.starts_with('0')) && p.parse::<u32>().is_ok_and(|v| v <= 255))
}

/// Toll-free and shared-cost service lines (400-, 800-, 1-800-…): a company's number. Eleven
/// digits written without separators are a mainland mobile (186 6053 8576), not 1-866.
fn service_line(s: &str) -> bool {
    let d = digits(s);
    let grouped = s.contains([' ', '-', '.', '(']);
    if d.len() == 11 && d.starts_with('1') && !grouped {
        return false;
    }
    let d = d.strip_prefix('1').filter(|r| r.len() == 10).unwrap_or(&d);
    ["400", "800", "888", "877", "866", "855", "844", "833"]
        .iter()
        .any(|p| d.starts_with(p))
}

/// Card numbers start with the issuers' digits: 3 (Amex, JCB, Diners), 4 (Visa), 5 (Mastercard),
/// 6 (UnionPay, Discover) or Mastercard's 2221–2720; "2019121304…" is a timestamp.
fn card_issuer(d: &str) -> bool {
    match d.as_bytes().first() {
        Some(b'3'..=b'6') => true,
        Some(b'2') => d
            .get(..4)
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| (2221..=2720).contains(&p)),
        _ => false,
    }
}

/// Every span of personal data of the given kinds in `text`, in text order, non-overlapping.
pub fn find(text: &str, entities: &[Entity]) -> Vec<Span> {
    let (norm, at) = half_width(text);
    let nb = norm.as_bytes();
    let mut taken: Vec<(usize, usize, Entity)> = Vec::new();
    let free = |taken: &[(usize, usize, Entity)], s: usize, e: usize| {
        taken.iter().all(|&(a, b, _)| e <= a || s >= b)
    };
    // A digit string must not continue a longer number; letters and Han characters may touch
    // it. A grouped or short one ("4111 1111", "9123 4567") must not continue one across a
    // space or dash either, or it could be two groups of a card number.
    let digit_at = |i: Option<usize>| i.and_then(|i| nb.get(i)).is_some_and(u8::is_ascii_digit);
    let sep_at = |i: Option<usize>| i.and_then(|i| nb.get(i)).is_some_and(|c| b" -".contains(c));
    let alone = |s: usize, e: usize| {
        let grouped = nb[s..e].iter().any(|c| b" -".contains(c))
            || nb[s..e].iter().filter(|c| c.is_ascii_digit()).count() <= 8;
        let (b1, b2) = (s.checked_sub(1), s.checked_sub(2));
        let touches = digit_at(b1) || digit_at(Some(e));
        let continues =
            grouped && ((sep_at(b1) && digit_at(b2)) || (sep_at(Some(e)) && digit_at(Some(e + 1))));
        !touches && !continues
    };
    for &kind in Entity::ALL.iter().filter(|k| entities.contains(k)) {
        let push = |s: usize, e: usize, taken: &mut Vec<(usize, usize, Entity)>| {
            if free(taken, s, e) {
                taken.push((s, e, kind));
            }
        };
        match kind {
            Entity::Email => {
                for m in EMAIL.find_iter(&norm) {
                    push(m.start(), m.end(), &mut taken);
                }
            }
            Entity::Id => {
                for m in CN_ID.find_iter(&norm) {
                    if alone(m.start(), m.end()) && cn_id_valid(m.as_str()) {
                        push(m.start(), m.end(), &mut taken);
                    }
                }
                for re in [&*TW_ID, &*HK_ID] {
                    for m in re.find_iter(&norm) {
                        let letter_before =
                            m.start() > 0 && nb[m.start() - 1].is_ascii_alphanumeric();
                        let ok = std::ptr::eq(re, &*HK_ID) || tw_id_valid(m.as_str());
                        if ok && !letter_before && alone(m.start(), m.end()) {
                            push(m.start(), m.end(), &mut taken);
                        }
                    }
                }
            }
            Entity::Card => {
                for m in CARD.find_iter(&norm) {
                    let d = digits(m.as_str());
                    let plus = m.start() > 0 && nb[m.start() - 1] == b'+';
                    if alone(m.start(), m.end())
                        && !plus
                        && card_groups(m.as_str())
                        && card_issuer(&d)
                        && (13..=19).contains(&d.len())
                        && luhn(&d)
                    {
                        push(m.start(), m.end(), &mut taken);
                    }
                }
            }
            Entity::Ssn => {
                for m in SSN.find_iter(&norm) {
                    if alone(m.start(), m.end()) {
                        push(m.start(), m.end(), &mut taken);
                    }
                }
            }
            Entity::Ip => {
                for m in IP.find_iter(&norm) {
                    let dot_after = nb.get(m.end()) == Some(&b'.')
                        && nb.get(m.end() + 1).is_some_and(u8::is_ascii_digit);
                    let dot_before = m.start() > 0 && nb[m.start() - 1] == b'.';
                    let version = VERSION_WORD.is_match(&norm[..m.start()]);
                    if alone(m.start(), m.end())
                        && !dot_after
                        && !dot_before
                        && !version
                        && ip_valid(m.as_str())
                    {
                        push(m.start(), m.end(), &mut taken);
                    }
                }
            }
            Entity::Phone => {
                for re in PHONES.iter() {
                    for m in re.find_iter(&norm) {
                        if alone(m.start(), m.end()) && !service_line(m.as_str()) {
                            push(m.start(), m.end(), &mut taken);
                        }
                    }
                }
                for c in PHONE_AFTER_WORD.captures_iter(&norm) {
                    if let Some(m) = c.get(1) {
                        if alone(m.start(), m.end()) {
                            push(m.start(), m.end(), &mut taken);
                        }
                    }
                }
            }
        }
    }
    taken.sort();
    taken
        .into_iter()
        .map(|(s, e, entity)| Span {
            start: at[s],
            end: at[e],
            entity,
        })
        .collect()
}

/// Masks text, numbering each distinct value per kind in the order first seen. Use one per
/// conversation (or per reject), so that the same number keeps its mask across its turns.
#[derive(Debug)]
pub struct Redactor<'a> {
    config: &'a Redaction,
    seen: BTreeMap<(Entity, String), usize>,
    next: BTreeMap<Entity, usize>,
    /// How many spans were masked, per kind.
    pub counts: BTreeMap<Entity, usize>,
}

impl<'a> Redactor<'a> {
    pub fn new(config: &'a Redaction) -> Redactor<'a> {
        Redactor {
            config,
            seen: BTreeMap::new(),
            next: BTreeMap::new(),
            counts: BTreeMap::new(),
        }
    }

    /// `text` with every span of personal data replaced by its mask.
    pub fn mask(&mut self, text: &str) -> String {
        let spans = find(text, &self.config.entities);
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for s in spans {
            out.push_str(&text[last..s.start]);
            let raw = &text[s.start..s.end];
            let (norm, _) = half_width(raw);
            let key = match s.entity {
                Entity::Email => norm.to_lowercase(),
                Entity::Id => norm.to_uppercase().replace(['(', ')'], ""),
                _ => digits(&norm),
            };
            let n = match self.seen.get(&(s.entity, key.clone())) {
                Some(&n) => n,
                None => {
                    let n = self.next.entry(s.entity).or_insert(0);
                    *n += 1;
                    self.seen.insert((s.entity, key), *n);
                    *n
                }
            };
            *self.counts.entry(s.entity).or_insert(0) += 1;
            out.push_str(&format!("[{}_{}]", s.entity.tag(), n));
            last = s.end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Mask every string inside a JSON value (metadata), keys left as they are.
    pub fn mask_json(&mut self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = self.mask(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.mask_json(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.mask_json(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
