//! SimHash near-duplicate signatures of page text (Charikar 2002, as used by Google's and
//! Heritrix-era crawlers to spot mirrors and boilerplate-only changes).
//!
//! The signature is 64 bits over word 3-shingles of the lower-cased text (Unicode words, so
//! Cyrillic and Kazakh letters count): two pages whose signatures differ in few bits (Hamming
//! distance ≤ 3 is the classic threshold) are near-duplicates — the same casino landing page on
//! fifty mirror domains, or a page whose only change is a date. The crawler stores it per fetch
//! in its capture log; revisits compare it with the previous one.

/// Hamming distance at or below which two signatures are near-duplicates.
pub const NEAR_DUPLICATE_BITS: u32 = 3;

/// The 64-bit SimHash of `text` (`None` when it has no words).
///
/// Words are lower-cased into one reused buffer rather than one `String` each, and the
/// character tests take a fast path for ASCII and the Cyrillic block: on a 20 KB Russian page
/// the per-word allocations and the general Unicode table look-ups were a quarter of the
/// crawler's CPU. The signature is the same as hashing `str::to_lowercase` of every
/// `char::is_alphanumeric` word (the test below checks the fast paths against std for every
/// character), so signatures stored by earlier runs still compare.
pub fn simhash(text: &str) -> Option<u64> {
    // Lower-cased words back to back, each followed by a space (so a shingle — three words and
    // their spaces, which is what is hashed — is one contiguous slice), and where each word ends.
    let mut buf: Vec<u8> = Vec::with_capacity(text.len() + text.len() / 4);
    let mut ends: Vec<usize> = Vec::with_capacity(text.len() / 6);
    // Start of the current word in `text` and in `buf`, while in one.
    let mut word: Option<(usize, usize)> = None;
    // Whether the current word has a capital sigma (see below).
    let mut sigma = false;
    let bytes = text.as_bytes();
    let mut at = 0;
    // A byte scan: ASCII and U+0400–U+045F (Russian, a letter each) are read and lower-cased
    // from their bytes; any other character is decoded and goes through the general tests.
    while at < bytes.len() {
        // Most of a text is lower-case letters: runs of them are copied whole.
        let run = lower_run(&bytes[at..]);
        if run > 0 {
            if word.is_none() {
                word = Some((at, buf.len()));
                sigma = false;
            }
            buf.extend_from_slice(&bytes[at..at + run]);
            at += run;
            continue;
        }
        let b = bytes[at];
        let (len, fast) = match (b, bytes.get(at + 1)) {
            (..0x80, _) => (1, Some(b.is_ascii_alphanumeric())),
            (0xD0, _) | (0xD1, Some(0x80..=0x9F)) => (2, Some(true)),
            _ => (0, None),
        };
        let (len, is_word, c) = match fast {
            Some(is_word) => (len, is_word, None),
            None => {
                let c = text[at..].chars().next().unwrap_or_default();
                (c.len_utf8(), is_word_char(c), Some(c))
            }
        };
        if is_word {
            if word.is_none() {
                word = Some((at, buf.len()));
                sigma = false;
            }
            match c {
                None if len == 1 => buf.push(b.to_ascii_lowercase()),
                None => push_utf8_2(&mut buf, lower_russian(utf8_2(b, bytes[at + 1]))),
                Some(c) => {
                    sigma |= c == 'Σ';
                    push_lower(&mut buf, c);
                }
            }
        } else if let Some((from, buf_from)) = word.take() {
            end_word(
                &mut buf,
                &mut ends,
                sigma.then(|| (&text[from..at], buf_from)),
            );
        }
        at += len;
    }
    if let Some((from, buf_from)) = word {
        end_word(
            &mut buf,
            &mut ends,
            sigma.then(|| (&text[from..], buf_from)),
        );
    }
    if ends.is_empty() {
        return None;
    }
    let bytes = buf.as_slice();
    let shingle = 3.min(ends.len());
    let windows = ends.len() - shingle + 1;
    // Window `k`: words k..k+shingle with their spaces.
    let window = |k: usize| {
        let start = if k == 0 { 0 } else { ends[k - 1] + 1 };
        &bytes[start..=ends[k + shingle - 1]]
    };
    // How many shingle hashes have each bit set. Counted eight bits at a time: `SPREAD[b]` has
    // bit i of byte b in its byte lane i, so one add per hash byte updates eight counters
    // (byte lanes, flushed before they can overflow) instead of one ± per bit.
    let mut counts = [0u32; 64];
    let mut lanes = [0u64; 8];
    let mut count = |first: usize, h: u64| {
        for (k, lane) in lanes.iter_mut().enumerate() {
            *lane += SPREAD[(h >> (8 * k)) as u8 as usize];
        }
        if (first + 1).is_multiple_of(255) || first + 1 == windows {
            for (k, lane) in lanes.iter_mut().enumerate() {
                for (i, byte) in lane.to_le_bytes().into_iter().enumerate() {
                    counts[8 * k + i] += u32::from(byte);
                }
                *lane = 0;
            }
        }
    };
    // Four windows hashed side by side: FNV is one multiply per byte, each waiting for the
    // previous one, so interleaving four independent hashes keeps the multiplier busy.
    let mut first = 0;
    while first + 4 <= windows {
        let hashes = fnv4([
            window(first),
            window(first + 1),
            window(first + 2),
            window(first + 3),
        ]);
        for (i, h) in hashes.into_iter().enumerate() {
            count(first + i, h);
        }
        first += 4;
    }
    while first < windows {
        let mut h = Fnv::new();
        h.write(window(first));
        count(first, h.finish());
        first += 1;
    }
    // A bit is set in the signature when more than half of the shingles have it.
    Some(
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| 2 * **c as usize > windows)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
    )
}

/// Length of the longest prefix of `bytes` made of word characters that are their own lower
/// case: ASCII a–z and digits, and U+0430–U+045F (а–я, ѐ–џ).
fn lower_run(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'a'..=b'z' | b'0'..=b'9', _) => i += 1,
            (0xD0, Some(0xB0..=0xBF)) | (0xD1, Some(0x80..=0x9F)) => i += 2,
            _ => break,
        }
    }
    i
}

/// The [`Fnv`] hashes of four byte strings, computed in step over their common length.
fn fnv4(s: [&[u8]; 4]) -> [u64; 4] {
    let n = s.iter().map(|b| b.len()).min().unwrap_or(0);
    let (a, b, c, d) = (&s[0][..n], &s[1][..n], &s[2][..n], &s[3][..n]);
    let mut h = [Fnv::new(), Fnv::new(), Fnv::new(), Fnv::new()];
    for i in 0..n {
        h[0].byte(a[i]);
        h[1].byte(b[i]);
        h[2].byte(c[i]);
        h[3].byte(d[i]);
    }
    let mut out = [0u64; 4];
    for (k, (mut h, s)) in h.into_iter().zip(s).enumerate() {
        h.write(&s[n..]);
        out[k] = h.finish();
    }
    out
}

/// `SPREAD[b]`: bit i of `b` as byte i (0 or 1) of a little-endian `u64`.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            if b >> i & 1 == 1 {
                table[b] |= 1 << (8 * i);
            }
            i += 1;
        }
        b += 1;
    }
    table
};

/// `char::is_alphanumeric`, without the table look-up for ASCII and Cyrillic letters.
fn is_word_char(c: char) -> bool {
    match c {
        _ if c.is_ascii() => c.is_ascii_alphanumeric(),
        // Every code point of the Cyrillic block is a letter except U+0482–U+0489 (a sign and
        // combining marks).
        '\u{0400}'..='\u{0481}' | '\u{048A}'..='\u{04FF}' => true,
        _ => c.is_alphanumeric(),
    }
}

/// Appends `c` lower-cased as `char::to_lowercase` does, without the table look-up for ASCII
/// and the Russian alphabet.
fn push_lower(buf: &mut Vec<u8>, c: char) {
    match c {
        _ if c.is_ascii() => buf.push((c as u8).to_ascii_lowercase()),
        '\u{0400}'..='\u{045F}' => push_utf8_2(buf, lower_russian(c as u32)),
        _ => {
            for l in c.to_lowercase() {
                buf.extend_from_slice(l.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
    }
}

/// U+0400–U+045F lower-cased: А–Я → а–я, Ѐ–Џ → ѐ–џ; lower case letters of both ranges stay.
fn lower_russian(cp: u32) -> u32 {
    match cp {
        0x410..=0x42F => cp + 0x20,
        0x400..=0x40F => cp + 0x50,
        _ => cp,
    }
}

/// The code point of a two-byte UTF-8 sequence.
fn utf8_2(lead: u8, cont: u8) -> u32 {
    (u32::from(lead & 0x1F) << 6) | u32::from(cont & 0x3F)
}

/// Appends a code point of U+0080–U+07FF as its two UTF-8 bytes.
fn push_utf8_2(buf: &mut Vec<u8>, cp: u32) {
    buf.push(0xC0 | (cp >> 6) as u8);
    buf.push(0x80 | (cp & 0x3F) as u8);
}

/// Closes the current word and appends the space that follows it in a shingle.
/// `str::to_lowercase` lower-cases a word-final capital sigma to `ς`, which per-character
/// lower-casing does not, so a word with a `Σ` (`redo`: the original word and where it starts
/// in `buf`) is lower-cased again by std.
fn end_word(buf: &mut Vec<u8>, ends: &mut Vec<usize>, redo: Option<(&str, usize)>) {
    if let Some((original, from)) = redo {
        buf.truncate(from);
        buf.extend_from_slice(original.to_lowercase().as_bytes());
    }
    ends.push(buf.len());
    buf.push(b' ');
}

/// Number of differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// FNV-1a 64 with a final avalanche (stable across runs and platforms, unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.byte(*b);
        }
    }

    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn finish(&self) -> u64 {
        // splitmix64 finaliser: FNV's low bits are weak on short inputs.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature as first written (one lower-cased `String` per word): the fast version
    /// must give the same bits, so signatures stored by earlier runs still compare.
    fn reference(text: &str) -> Option<u64> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return None;
        }
        let mut weights = [0i32; 64];
        for window in words.windows(3.min(words.len())) {
            let mut h = Fnv::new();
            for w in window {
                h.write(w.as_bytes());
                h.write(b" ");
            }
            let h = h.finish();
            for (bit, weight) in weights.iter_mut().enumerate() {
                if h >> bit & 1 == 1 {
                    *weight += 1;
                } else {
                    *weight -= 1;
                }
            }
        }
        Some(
            weights
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > 0)
                .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
        )
    }

    #[test]
    fn fast_character_paths_agree_with_std_for_every_char() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                is_word_char(c),
                c.is_alphanumeric(),
                "{c:?} U+{:04X}",
                c as u32
            );
            let mut fast = Vec::new();
            push_lower(&mut fast, c);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                c.to_lowercase().collect::<String>(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn same_signature_as_the_per_word_version() {
        let long = PAGE.repeat(40);
        let many: String = (0..2000).map(|i| format!("слово{} ", i % 97)).collect();
        // Every one- and two-byte character, inside and between words.
        let two_byte: String = (0..0x800u32)
            .filter_map(char::from_u32)
            .flat_map(|c| [c, 'Ж', c, ' '])
            .collect();
        let texts = [
            PAGE,
            "ОДНО",
            "one two",
            "one two three four five six",
            "Ѐлка ЍЎЏ Ѡѡ Ѣѣ Ѫѫ Ѵѵ ҀҁҊ Ӏ ӏ Ӂ Ә ә ЁЖИК Ѝ ѝ Џ џ — «цитата» \u{0483}\u{0489}x",
            "один два три четыре пять шесть семь",
            "a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh",
            "",
            "…",
            "ΟΔΟΣ ΟΔΟΣ. Σ σ ΣΑΣ; İstanbul ǅemal ß ẞ ﬁ Ǆ — Қазақстан ҚАРЖЫ Ёлка ЁЛКА ЀЍ ѐ ѝ",
            "a1 Б2 ٣٤ ⅷ ½ x_y z-w 12 000 тенге\n\tновая строка",
            // More shingles than a byte counter holds (the counters are flushed every 255).
            long.as_str(),
            many.as_str(),
            two_byte.as_str(),
        ];
        for t in texts {
            let start: String = t.chars().take(80).collect();
            assert_eq!(simhash(t), reference(t), "{start:?}");
        }
    }

    const PAGE: &str = "Сдай карту в аренду и получай доход от 50 000 тенге в неделю без вложений. \
        Работа для студентов, выплаты каждый день на карту Kaspi, пиши менеджеру в Telegram. \
        Картаңды жалға бер, күн сайын табыс, тәжірибе қажет емес, бізге жаз.";

    #[test]
    fn near_duplicates_are_close_and_different_pages_far() {
        let a = simhash(PAGE).unwrap();
        assert_eq!(simhash(PAGE), Some(a), "deterministic");
        let edited = PAGE.replace("50 000", "60 000");
        let b = simhash(&edited).unwrap();
        assert!(
            distance(a, b) <= 16,
            "one edit moves few bits: {}",
            distance(a, b)
        );
        let other = simhash(
            "Агентство по финансовому мониторингу сообщает о результатах проверки \
             микрофинансовых организаций за третий квартал, список опубликован на сайте.",
        )
        .unwrap();
        assert!(
            distance(a, other) > distance(a, b),
            "{}",
            distance(a, other)
        );
        assert_eq!(
            simhash(PAGE.to_uppercase().as_str()),
            Some(a),
            "case-insensitive"
        );
        assert_eq!(simhash(" ... "), None);
    }
}
