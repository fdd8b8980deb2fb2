//! What may reach a terminal or a document: control characters in ids and texts made visible.
//!
//! Ids, agent ids and texts come from input files. Written raw, an ESC starts a terminal escape
//! sequence (a message on stderr could rewrite the screen or the window title), a CR hides what
//! came before it on the line, and a NUL or a bidirectional override makes an HTML, Markdown or
//! CSV cell show something other than what it holds. Every writer of text for people goes through
//! here: [`visible`] for one-line values (ids, messages), [`visible_text`] for texts that may keep
//! their line breaks and tabs. JSON needs nothing (serde escapes control characters). The model
//! gets [`strip_controls`] instead: the characters are removed, not spelled out, so they cannot
//! change a label.

use std::borrow::Cow;

/// Characters that act instead of showing: C0 and C1 controls, DEL, and the bidirectional
/// embedding, override and isolate marks.
pub fn is_hidden_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hidden_control(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden_control(c) && !keep(c) {
            // Spelled as Rust and JSON readers know it: \u{1b}.
            o.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

/// A one-line value with every control character spelled out (`\u{1b}`), line breaks included.
pub fn visible(s: &str) -> Cow<'_, str> {
    escape_with(s, |_| false)
}

/// A text with control characters spelled out, except line breaks and tabs.
pub fn visible_text(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c == '\n' || c == '\t')
}

/// The text the model reads: control characters removed (whitespace ones are kept, the
/// tokenizer treats them as spaces).
pub fn strip_controls(s: &str) -> Cow<'_, str> {
    let drop = |c: char| is_hidden_control(c) && !c.is_whitespace();
    if !s.chars().any(drop) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|&c| !drop(c)).collect())
}

/// `eprintln!` for messages that may quote input: control characters spelled out.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::display::visible(&format!($($arg)*)))
    };
}

/// `println!` for summary lines that name paths or ids: control characters spelled out.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        println!("{}", $crate::display::visible(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_spelled_out_and_plain_text_is_borrowed() {
        assert!(matches!(visible("a-li-na 李娜"), Cow::Borrowed(_)));
        assert_eq!(visible("x\u{1b}[2Jy\r\0"), "x\\u{1b}[2Jy\\u{d}\\u{0}");
        assert_eq!(visible("a\nb"), "a\\u{a}b");
        assert_eq!(visible_text("a\nb\tc\u{7f}"), "a\nb\tc\\u{7f}");
        assert_eq!(visible("evil\u{202e}gnp.exe"), "evil\\u{202e}gnp.exe");
    }

    #[test]
    fn the_model_reads_the_text_without_controls() {
        assert_eq!(strip_controls("你好\0\u{1b}吗"), "你好吗");
        assert_eq!(strip_controls("a\r\nb\tc"), "a\r\nb\tc");
        assert!(matches!(strip_controls("plain"), Cow::Borrowed(_)));
    }
}
