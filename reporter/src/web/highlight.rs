//! Showing an analyst exactly which words fired: hit spans wrapped in `<mark>`.
//!
//! Spans are byte offsets into the evidence text, which is Cyrillic — two bytes a letter — so a
//! span from a buggy or older classifier may end inside a letter or past the end. Such spans are
//! clamped and widened to the enclosing characters instead of panicking or being dropped, and
//! overlapping spans (two rules on the same words) are merged so marks never nest. Everything
//! between the marks is HTML-escaped. Long texts are cut to windows of context around the marks.

use super::html::escape;

/// Texts up to this many bytes are shown whole.
pub const FULL_TEXT_BYTES: usize = 4000;
/// Bytes of context kept on each side of a mark in a long text.
pub const CONTEXT_BYTES: usize = 300;

/// Largest char boundary `<= i` (clamped to the text).
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Smallest char boundary `>= i` (clamped to the text).
fn ceil_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Spans clamped to `text`, widened to char boundaries, sorted, and merged where they overlap or
/// touch. Empty spans are dropped.
pub fn merge_spans(
    text: &str,
    spans: impl IntoIterator<Item = (usize, usize)>,
) -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = spans
        .into_iter()
        .map(|(s, e)| (floor_boundary(text, s), ceil_boundary(text, e)))
        .filter(|(s, e)| s < e)
        .collect();
    v.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Highlighted text, ready to put in a `<div>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlighted {
    /// Escaped HTML with `<mark>` around each merged span.
    pub html: String,
    /// True when the text was cut to windows around the marks.
    pub abridged: bool,
}

/// Renders `text` with every span marked. Texts longer than `full_limit` bytes are cut to windows
/// of `context` bytes around the marks, joined with `…`.
pub fn highlight(
    text: &str,
    spans: impl IntoIterator<Item = (usize, usize)>,
    full_limit: usize,
    context: usize,
) -> Highlighted {
    let marks = merge_spans(text, spans);
    if text.len() <= full_limit {
        return Highlighted {
            html: render(text, 0, text.len(), &marks),
            abridged: false,
        };
    }
    let mut windows: Vec<(usize, usize)> = Vec::new();
    if marks.is_empty() {
        windows.push((0, ceil_boundary(text, 2 * context)));
    }
    for &(s, e) in &marks {
        let w = (
            floor_boundary(text, s.saturating_sub(context)),
            ceil_boundary(text, e.saturating_add(context)),
        );
        match windows.last_mut() {
            Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
            _ => windows.push(w),
        }
    }
    let mut html = String::new();
    for (i, &(ws, we)) in windows.iter().enumerate() {
        if ws > 0 || i > 0 {
            html.push_str("<span class=\"gap\">…</span> ");
        }
        html.push_str(&render(text, ws, we, &marks));
    }
    if windows.last().is_some_and(|w| w.1 < text.len()) {
        html.push_str(" <span class=\"gap\">…</span>");
    }
    Highlighted {
        html,
        abridged: true,
    }
}

/// Escaped `text[from..to]` with the marks inside it. Marks lie wholly inside or outside the
/// window (windows are built around them), but a partial overlap is still clipped safely.
fn render(text: &str, from: usize, to: usize, marks: &[(usize, usize)]) -> String {
    let mut html = String::with_capacity((to - from) + marks.len() * 13);
    let mut pos = from;
    for &(s, e) in marks {
        let (s, e) = (s.max(from), e.min(to));
        if s >= e || s < pos {
            continue;
        }
        html.push_str(&escape(&text[pos..s]));
        html.push_str("<mark>");
        html.push_str(&escape(&text[s..e]));
        html.push_str("</mark>");
        pos = e;
    }
    html.push_str(&escape(&text[pos..to]));
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(text: &str, needle: &str) -> (usize, usize) {
        let s = text.find(needle).unwrap();
        (s, s + needle.len())
    }

    #[test]
    fn merge_table() {
        let t = "ақша табу оңай"; // Kazakh: 2-byte letters
        type Spans = Vec<(usize, usize)>;
        let cases: Vec<(&str, Spans, Spans)> = vec![
            ("empty", vec![], vec![]),
            ("sorted", vec![(9, 13), (0, 4)], vec![(0, 4), (9, 13)]),
            ("overlap", vec![(0, 8), (4, 13)], vec![(0, 13)]),
            ("touching", vec![(0, 4), (4, 8)], vec![(0, 8)]),
            ("contained", vec![(0, 13), (2, 4)], vec![(0, 13)]),
            ("inside a letter widens", vec![(1, 3)], vec![(0, 4)]),
            ("past the end clamps", vec![(20, 999)], vec![(20, t.len())]),
            ("beyond text dropped", vec![(500, 600)], vec![]),
            ("inverted dropped", vec![(8, 4)], vec![]),
        ];
        for (name, input, want) in cases {
            assert_eq!(merge_spans(t, input), want, "{name}");
        }
    }

    #[test]
    fn marks_cyrillic_words_and_escapes() {
        let t = "Тіркел де <b>бонус</b> ал: казино & ставки";
        let h = highlight(t, [span_of(t, "бонус"), span_of(t, "казино")], 1000, 10);
        assert!(!h.abridged);
        assert_eq!(
            h.html,
            "Тіркел де &lt;b&gt;<mark>бонус</mark>&lt;/b&gt; ал: <mark>казино</mark> &amp; ставки"
        );
    }

    #[test]
    fn overlapping_rules_give_one_mark() {
        let t = "пассивный доход гарантирован";
        let a = span_of(t, "пассивный доход");
        let b = span_of(t, "доход гарантирован");
        let h = highlight(t, [a, b], 1000, 10);
        assert_eq!(h.html, "<mark>пассивный доход гарантирован</mark>");
    }

    #[test]
    fn long_text_is_cut_to_windows_on_char_boundaries() {
        let filler = "ж".repeat(500); // 1000 bytes
        let t = format!("{filler} казино {filler} дроп картасы {filler}");
        let h = highlight(&t, [span_of(&t, "казино"), span_of(&t, "дроп")], 100, 21);
        assert!(h.abridged);
        assert!(h.html.contains("<mark>казино</mark>"));
        assert!(h.html.contains("<mark>дроп</mark>"));
        assert_eq!(h.html.matches('…').count(), 3);
        assert!(h.html.len() < 400, "{}", h.html.len());
        // An odd context lands inside a letter; it must be widened, not panic.
        let h = highlight(&t, [span_of(&t, "казино")], 100, 3);
        assert!(h.html.contains("ж <mark>казино</mark> ж"), "{}", h.html);
    }

    #[test]
    fn long_text_without_marks_shows_its_start() {
        let t = "ә".repeat(1000);
        let h = highlight(&t, [], 100, 25);
        assert!(h.abridged);
        assert!(h.html.starts_with("әә"));
        assert!(h.html.ends_with("<span class=\"gap\">…</span>"));
    }
}
