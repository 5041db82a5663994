//! Index throughput: captures per second written into an on-disk index with the Russian/Kazakh
//! analyzer, commit included. Run by `bench/index.sh` (`cargo bench -p indexer --bench index`).
//!
//! Documents are ~20 KB pages (DESIGN §9) made of real Russian chat (the tg-spam ham sample of
//! the classifier's tests) with a Kazakh sentence every few lines; `BENCH_DOCS` sets the count
//! (default 10,000 ≈ 200 MB).

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
    let dir = tempfile::tempdir().expect("temp dir");
    let index = Indexer::open(&IndexerConfig::new(dir.path().join("index"))).expect("open");
    let mut captures = Vec::with_capacity(n);
    let mut li = 0;
    let mut bytes = 0usize;
    for i in 0..n {
        let mut text = String::with_capacity(21_000);
        while text.len() < 20_000 {
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
    for c in &captures {
        index.add(c).expect("add");
    }
    index.commit().expect("commit");
    let secs = t.elapsed().as_secs_f64();
    let hits = index
        .search(&SearchQuery::new("кепілдендірілген табыс"))
        .expect("search")
        .len();
    println!("| documents | MB | seconds | docs/s | MB/s |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {n} | {:.1} | {secs:.2} | **{:.0}** | {:.1} |",
        bytes as f64 / 1e6,
        n as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!("\n(on-disk index, default writer heap; a check query found {hits} hits)");
}
