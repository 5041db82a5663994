//! The literal index: which rule literals a token is, or starts with.
//!
//! Every rule literal is one token or a token prefix, so the presearch asks of each token of a
//! field only two things: is the token a literal (a whole-word piece), and which literals is it
//! prefixed by (prefix pieces)? An anchored Aho-Corasick DFA answered that by walking the
//! token byte by byte, but with ten thousand rules the automaton is far larger than the caches
//! and nearly every step was a cache miss — the walk was a large share of a scan. Here a literal is
//! found by hashing: a small table keyed by the token's first [`HEAD`] bytes tells which literal
//! lengths can occur after that start (most tokens: none, or only the token's own length), and
//! only those prefixes of the token are hashed and probed in an open-addressing table of all
//! literals, with a byte comparison on a hash match — so the answer is exact, and a token
//! costs a few cache lines instead of one per byte.

/// Bytes of a token's start that select its length masks (three Cyrillic letters, the
/// shortest prefix a rule may write). Literals shorter than this are probed for every token
/// (a global mask: rule sets have few of them).
const HEAD: usize = 6;

/// Lengths of literals of at least [`HEAD`] bytes, as bits `len - HEAD` of a `u32`; bit 31
/// stands for every length of `HEAD + 31` bytes or more (probed one by one: rare).
const LONG: usize = HEAD + 31;

/// Multiplier of the hashes (the 64-bit golden ratio, as in Fx-style hashing).
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// What a literal stands for: the whole-word piece and the prefix piece it is the literal of
/// (a word and a prefix with the same letters share the literal).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LitPieces {
    pub(crate) word: Option<usize>,
    pub(crate) prefix: Option<usize>,
}

/// Literal lengths that can follow one head (see [`HEAD`], [`LONG`]).
#[derive(Debug, Clone, Copy, Default)]
struct Masks {
    /// Lengths of every literal with this head (a token of that length may be one).
    any: u32,
    /// Lengths of prefix literals with this head (a longer token may start with one).
    prefix: u32,
}

/// One slot of the literal table: everything a probe reads, in one place (a probe that
/// hits reads the slot and the literal's bytes, two cache lines).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Low half of the literal's hash (the high half picks the slot).
    tag: u32,
    /// Offset of the literal in [`Literals::bytes`]: its length (two bytes, little-endian)
    /// and then its bytes; 0 for an empty slot.
    at: u32,
    /// Whole-word piece + 1, 0 none.
    word: u32,
    /// Prefix piece + 1, 0 none.
    prefix: u32,
}

/// The index of every literal (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Literals {
    /// Each literal's length and bytes (see [`Slot::at`]), after one unused byte.
    bytes: Vec<u8>,
    /// Open addressing with linear probing; a power of two.
    slots: Vec<Slot>,
    /// Length masks by head hash; a power of two.
    heads: Vec<Masks>,
    /// One bit per [`filter_bit`] of a hash, set for the hash of every literal: a probe whose
    /// bit is clear misses without reading `slots`. Most probes miss (a length the masks
    /// allow belongs to another literal with the same head), and the slot table is megabytes,
    /// a cache miss per probe, while this is a sixteenth of its size and mostly cached.
    filter: Vec<u64>,
    /// log2 of the bits of `filter`.
    filter_bits: u32,
    /// Lengths (bits) of literals shorter than [`HEAD`], by first byte (a Cyrillic token
    /// never probes a short Latin skeleton): `any` and `prefix` as in [`Masks`].
    short: Vec<Masks>,
}

impl Literals {
    /// Indexes `lits`, which are distinct, non-empty and shorter than 64 KiB.
    pub(crate) fn new(lits: &[(String, LitPieces)]) -> Literals {
        // slots about half full (probes that miss stop at the first empty slot, mostly in
        // the same cache line); heads a few times the distinct heads (a head's masks are
        // then mostly its own)
        // about 16 bits a literal: a probe that misses passes the filter 1 time in 16
        let filter_len = (lits.len() * 16).next_power_of_two().max(64);
        let mut l = Literals {
            filter: vec![0; filter_len / 64],
            filter_bits: filter_len.trailing_zeros(),
            bytes: vec![0],
            slots: vec![Slot::default(); (lits.len() * 2).next_power_of_two().max(16)],
            heads: vec![Masks::default(); lits.len().next_power_of_two().max(16)],
            short: vec![Masks::default(); 256],
        };
        let id = |p: Option<usize>| p.map_or(0, |p| p as u32 + 1);
        for (lit, pieces) in lits {
            let b = lit.as_bytes();
            debug_assert!(!b.is_empty() && b.len() <= usize::from(u16::MAX));
            let at = l.bytes.len() as u32;
            l.bytes.extend_from_slice(&(b.len() as u16).to_le_bytes());
            l.bytes.extend_from_slice(b);
            let h = hash(b, 0, b.len());
            let f = filter_bit(h, l.filter_bits);
            l.filter[f / 64] |= 1 << (f % 64);
            let mask = l.slots.len() - 1;
            let mut s = slot_of(h, mask);
            while l.slots[s].at != 0 {
                s = (s + 1) & mask;
            }
            l.slots[s] = Slot {
                tag: h as u32,
                at,
                word: id(pieces.word),
                prefix: id(pieces.prefix),
            };
            let (masks, bit) = if b.len() < HEAD {
                (&mut l.short[usize::from(b[0])], b.len())
            } else {
                let k = head_slot(b, 0, l.heads.len() - 1);
                (&mut l.heads[k], (b.len() - HEAD).min(31))
            };
            masks.any |= 1 << bit;
            if pieces.prefix.is_some() {
                masks.prefix |= 1 << bit;
            }
        }
        l
    }

    /// Calls `found(pieces, whole)` for every literal that token `text[start..end]` starts
    /// with, shortest first; `whole`: the literal is the whole token.
    #[inline]
    pub(crate) fn find(
        &self,
        text: &[u8],
        start: usize,
        end: usize,
        mut found: impl FnMut(LitPieces, bool),
    ) {
        let n = end - start;
        if n == 0 {
            return;
        }
        let short = self.short[usize::from(text[start])];
        if short.any | short.prefix != 0 {
            // literals shorter than a head: prefixes shorter than the token, or the token
            let upto = if n < HEAD { (1u32 << n) - 1 } else { u32::MAX };
            let mut bits = short.prefix & upto;
            while bits != 0 {
                self.probe(text, start, bits.trailing_zeros() as usize, n, &mut found);
                bits &= bits - 1;
            }
            if n < HEAD && short.any & (1 << n) != 0 {
                self.probe(text, start, n, n, &mut found);
            }
        }
        if n < HEAD {
            return;
        }
        let m = self.heads[head_slot(text, start, self.heads.len() - 1)];
        if m.any | m.prefix == 0 {
            // nearly every token whose start no literal shares
            return;
        }
        let rel = n - HEAD;
        if rel < 31 {
            let mut bits = m.prefix & ((1u32 << rel) - 1);
            while bits != 0 {
                self.probe(
                    text,
                    start,
                    HEAD + bits.trailing_zeros() as usize,
                    n,
                    &mut found,
                );
                bits &= bits - 1;
            }
            if m.any & (1 << rel) != 0 {
                self.probe(text, start, n, n, &mut found);
            }
        } else {
            self.find_long(text, start, n, m, &mut found);
        }
    }

    /// [`Literals::find`] for a token of at least [`LONG`] bytes (rare): every length from
    /// `LONG` on is probed.
    #[inline(never)]
    fn find_long(
        &self,
        text: &[u8],
        start: usize,
        n: usize,
        m: Masks,
        found: &mut impl FnMut(LitPieces, bool),
    ) {
        let mut bits = m.prefix & (u32::MAX >> 1);
        while bits != 0 {
            self.probe(text, start, HEAD + bits.trailing_zeros() as usize, n, found);
            bits &= bits - 1;
        }
        if m.prefix >> 31 != 0 {
            for len in LONG..n {
                self.probe(text, start, len, n, found);
            }
        }
        if m.any >> 31 != 0 {
            self.probe(text, start, n, n, found);
        }
    }

    /// Reports the literal `text[start..start + len]` of a token of `n` bytes, if there is
    /// one and it counts there: as a prefix, or as a word when it is the whole token (a
    /// length from the masks may be another literal's with the same head).
    #[inline]
    fn probe(
        &self,
        text: &[u8],
        start: usize,
        len: usize,
        n: usize,
        found: &mut impl FnMut(LitPieces, bool),
    ) {
        let whole = len == n;
        if let Some(p) = self.get(text, start, len)
            && (whole && p.word.is_some() || p.prefix.is_some())
        {
            found(p, whole);
        }
    }

    /// The literal equal to `text[start..start + len]`, if any.
    #[inline]
    fn get(&self, text: &[u8], start: usize, len: usize) -> Option<LitPieces> {
        let h = hash(text, start, len);
        let f = filter_bit(h, self.filter_bits);
        if self.filter[f / 64] & (1 << (f % 64)) == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut s = slot_of(h, mask);
        loop {
            let slot = self.slots[s];
            if slot.at == 0 {
                return None;
            }
            if slot.tag == h as u32 {
                let at = slot.at as usize;
                let n = usize::from(u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]]));
                if n == len && self.bytes[at + 2..at + 2 + n] == text[start..start + len] {
                    let piece = |p: u32| p.checked_sub(1).map(|p| p as usize);
                    return Some(LitPieces {
                        word: piece(slot.word),
                        prefix: piece(slot.prefix),
                    });
                }
            }
            s = (s + 1) & mask;
        }
    }
}

/// Up to 8 bytes of `b` from `at` (`n` of them, `n <= 8`) as a little-endian word, zero-padded.
#[inline]
fn load(b: &[u8], at: usize, n: usize) -> u64 {
    if let Some(w) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        if n >= 8 {
            w
        } else {
            w & ((1u64 << (8 * n)) - 1)
        }
    } else {
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(&b[at..at + n]);
        u64::from_le_bytes(buf)
    }
}

/// Hash of `b[start..start + len]`, eight bytes a step.
#[inline]
fn hash(b: &[u8], start: usize, len: usize) -> u64 {
    let mut h = (len as u64).wrapping_mul(K);
    let mut i = 0;
    while i < len {
        let n = (len - i).min(8);
        h = (h.rotate_left(26) ^ load(b, start + i, n)).wrapping_mul(K);
        i += 8;
    }
    h
}

/// Table slot of hash `h` (`mask`: table size - 1): the high bits, which the multiply mixes.
#[inline]
fn slot_of(h: u64, mask: usize) -> usize {
    (h >> 32) as usize & mask
}

/// Bit of [`Literals::filter`] (of `2^bits`) for hash `h`: remixed, as the slot takes the
/// high half and the tag the low half of `h`.
#[inline]
fn filter_bit(h: u64, bits: u32) -> usize {
    ((h ^ (h >> 29)).wrapping_mul(K) >> (64 - bits)) as usize
}

/// Head-table slot of the [`HEAD`] bytes of `b` from `start` (which must be there).
#[inline]
fn head_slot(b: &[u8], start: usize, mask: usize) -> usize {
    let w = load(b, start, HEAD).wrapping_mul(K);
    (w >> 40) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index against the definition, over literals of every length class and tokens that
    /// are, start with, or nearly match them.
    #[test]
    fn finds_exactly_the_literals_a_token_starts_with() {
        let words = [
            "а",
            "ка",
            "каз",
            "казино",
            "казинош",
            "казиношка",
            "x",
            "xb",
            "xbet",
            "1",
            "очень-длинное-слово-которое-длиннее-тридцати-семи-байт",
            "очень-длинное-слово-которое-длиннее-тридцати-семи-байтов-и-ещё",
            "қаржы",
            "karjy",
            "пирамида",
            "пирамидасы",
        ];
        let mut lits = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let pieces = match i % 3 {
                0 => LitPieces {
                    word: Some(i),
                    prefix: None,
                },
                1 => LitPieces {
                    word: None,
                    prefix: Some(i),
                },
                _ => LitPieces {
                    word: Some(i),
                    prefix: Some(100 + i),
                },
            };
            lits.push((w.to_string(), pieces));
        }
        let index = Literals::new(&lits);
        let mut tokens: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        for w in words {
            let chars: Vec<char> = w.chars().collect();
            for k in 1..chars.len() {
                tokens.push(chars[..k].iter().collect());
            }
            tokens.push(format!("{w}а"));
            tokens.push(format!("{w}ыыыыыыыыыыыыыыыыыыыыыыыыыыыыыыыыыы"));
            tokens.push(format!("ы{w}"));
        }
        for t in &tokens {
            // a token inside a longer text, so loads near its end read neighbouring bytes
            let text = format!("зз {t} зз");
            let s = "зз ".len();
            let mut got = Vec::new();
            index.find(text.as_bytes(), s, s + t.len(), |p, whole| {
                got.push((p.word, p.prefix, whole))
            });
            let mut want = Vec::new();
            for (lit, p) in &lits {
                if t.starts_with(lit.as_str()) {
                    let whole = lit.len() == t.len();
                    if whole && p.word.is_some() || p.prefix.is_some() {
                        want.push((lit.len(), p.word, p.prefix, whole));
                    }
                }
            }
            want.sort_by_key(|w| w.0);
            let want: Vec<_> = want.into_iter().map(|(_, a, b, c)| (a, b, c)).collect();
            assert_eq!(got, want, "token {t:?}");
            // at the very end of the text too
            let mut got_end = Vec::new();
            index.find(t.as_bytes(), 0, t.len(), |p, whole| {
                got_end.push((p.word, p.prefix, whole))
            });
            assert_eq!(got_end, want, "token {t:?} at the end");
        }
    }
}
