//! Index throughput: captures per second written into an on-disk index with the Russian/Kazakh
//! analyzer, commit included. Run by `bench/index.sh` (`cargo bench -p indexer --bench index`).
//!
//! Documents are ~20 KB pages (DESIGN §9) made of real Russian chat (the tg-spam ham sample of
//! the classifier's tests) with a Kazakh sentence every few lines; `BENCH_DOCS` sets the count
//! (default 10,000 ≈ 200 MB); `BENCH_COMMIT_EVERY=500` commits (and so merges) at the pipeline's
//! cadence instead of once at the end; `BENCH_THREADS` sets the writer's indexing threads;
//! `BENCH_TEXT=zipf` replaces the chat with text of a realistic vocabulary ([`ZipfText`]). Besides throughput it prints the CPU time per document, which is
//! what limits the pipeline on a shared 2-core machine.

use std::time::Instant;

use indexer::{Indexer, IndexerConfig, SearchQuery};

fn main() {
    let n: usize = std::env::var("BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let chat = include_str!("../../classifier/tests/data/ham-samples.txt");
    let lines: Vec<&str> = chat.lines().filter(|l| !l.trim().is_empty()).collect();
    let kk = "Қазақстанда ақшаны тез табыңыз: кепілдендірілген табыс, салымдар күн сайын өседі.";
    // 0: one commit at the end (the figure in the README); the pipeline commits every 500.
    let commit_every: usize = std::env::var("BENCH_COMMIT_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = IndexerConfig::new(dir.path().join("index"));
    if let Some(threads) = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.writer_threads = threads;
    }
    let index = Indexer::open(&cfg).expect("open");
    let mut captures = Vec::with_capacity(n);
    let mut li = 0;
    let mut bytes = 0usize;
    let mut zipf = (std::env::var("BENCH_TEXT").as_deref() == Ok("zipf")).then(ZipfText::new);
    for i in 0..n {
        let mut text = String::with_capacity(21_000);
        while text.len() < 20_000 {
            if let Some(zipf) = zipf.as_mut() {
                zipf.push_line(&mut text);
                continue;
            }
            text.push_str(lines[li % lines.len()]);
            text.push('\n');
            if li % 7 == 0 {
                text.push_str(kk);
                text.push('\n');
            }
            li += 1;
        }
        let url = format!("https://bench{}.kz/page/{i}", i % 50);
        let mut c = model::Capture::failed(
            &url,
            &format!("bench{}.kz", i % 50),
            model::FailureKind::Other,
            "",
        );
        c.error = None;
        c.id = model::capture_id(&url, c.fetched_at);
        c.title = format!("Страница {i}");
        c.lang = Some("ru".into());
        bytes += text.len();
        c.text = text;
        captures.push(c);
    }
    let t = Instant::now();
    let cpu_before = process_cpu_secs();
    for (i, c) in captures.iter().enumerate() {
        index.add(c).expect("add");
        if commit_every > 0 && (i + 1) % commit_every == 0 {
            index.commit().expect("commit");
        }
    }
    index.commit().expect("commit");
    let secs = t.elapsed().as_secs_f64();
    let cpu_ms_per_doc = (process_cpu_secs() - cpu_before) * 1e3 / n as f64;
    let hits = index
        .search(&SearchQuery::new("кепілдендірілген табыс"))
        .expect("search")
        .len();
    println!("| documents | MB | seconds | docs/s | MB/s | CPU ms/doc |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {n} | {:.1} | {secs:.2} | **{:.0}** | {:.1} | {cpu_ms_per_doc:.3} |",
        bytes as f64 / 1e6,
        n as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!(
        "\n(on-disk index, default writer heap; CPU is user + system time of all the process's \
         threads while indexing, the figure that matters on a shared 2-core machine; a check \
         query found {hits} hits)"
    );
}

/// Text with a realistic vocabulary (`BENCH_TEXT=zipf`): the chat sample has only 2,751 distinct
/// words, so every cache in the analyzer hits far more often than on real pages. Here words are
/// drawn from a million pseudo-Russian word forms (random syllables plus a Russian inflection,
/// so the stemmer has real work) with Zipf's law (frequency ∝ 1/rank), the shape of natural
/// text: a 20 KB page has ~1,000 words, 500 pages ~150,000 distinct forms.
struct ZipfText {
    words: Vec<String>,
    /// Cumulative weights of the ranks, for sampling by binary search.
    cumulative: Vec<f64>,
    rng: u64,
}

impl ZipfText {
    const WORDS: usize = 1_000_000;

    fn new() -> Self {
        const SYLLABLES: [&str; 24] = [
            "ба", "ве", "го", "да", "ке", "ли", "ма", "но", "пе", "ра", "со", "ти", "ку", "мы",
            "ну", "ро", "ста", "при", "про", "тор", "лен", "вод", "ков", "шин",
        ];
        const ENDINGS: [&str; 16] = [
            "",
            "а",
            "ы",
            "у",
            "ой",
            "ами",
            "ов",
            "ом",
            "ение",
            "ения",
            "ать",
            "ает",
            "али",
            "ный",
            "ная",
            "ского",
        ];
        let mut text = ZipfText {
            words: Vec::with_capacity(Self::WORDS),
            cumulative: Vec::with_capacity(Self::WORDS),
            rng: 42,
        };
        let mut total = 0.0;
        for rank in 1..=Self::WORDS {
            let mut word = String::new();
            for _ in 0..2 + text.next() % 3 {
                word.push_str(SYLLABLES[(text.next() % 24) as usize]);
            }
            word.push_str(ENDINGS[(text.next() % 16) as usize]);
            text.words.push(word);
            total += 1.0 / rank as f64;
            text.cumulative.push(total);
        }
        text
    }

    /// xorshift64: a seeded, dependency-free generator is all a benchmark's text needs.
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Appends a sentence of 5–19 words and a newline.
    fn push_line(&mut self, text: &mut String) {
        for w in 0..5 + self.next() % 15 {
            let total = self.cumulative[Self::WORDS - 1];
            let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let rank = self
                .cumulative
                .partition_point(|&c| c < x)
                .min(Self::WORDS - 1);
            if w > 0 {
                text.push(' ');
            }
            text.push_str(&self.words[rank]);
        }
        text.push_str(".\n");
    }
}

/// User + system CPU seconds of the whole process (all threads) so far, from `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s, the fixed `USER_HZ` of Linux's `/proc`). Wall
/// clock alone hides how much CPU the writer's threads burn on a loaded machine.
fn process_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) may contain spaces; fields are counted after its ')'.
    let after_name = &stat[stat.rfind(')').expect("stat format") + 1..];
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse::<u64>().expect("tick count"))
        .sum();
    ticks as f64 / 100.0
}
