//! Configuration of the indexer stage.
//!
//! Four knobs: where the index lives, how much memory the writer may buffer, how many threads
//! it indexes with, and how many documents to batch per commit. Commits are the expensive,
//! blocking part of indexing (segment flush + fsync), so batching them is what keeps indexing
//! cheap.

use std::path::PathBuf;

use serde::Deserialize;

/// Minimum writer heap per indexing thread; tantivy refuses less.
pub const MIN_HEAP_PER_THREAD: usize = 15_000_000;

/// Settings of [`crate::Indexer::open`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexerConfig {
    /// Directory of the index (`DATA/index`); created if missing.
    pub dir: PathBuf,
    /// Memory budget of the index writer, in bytes, shared by its threads (≥ 15 MB per thread;
    /// smaller values are raised to that).
    #[serde(default = "default_writer_heap_bytes")]
    pub writer_heap_bytes: usize,
    /// Indexing threads of the writer (1–8; see [`default_writer_threads`]).
    #[serde(default = "default_writer_threads")]
    pub writer_threads: usize,
    /// Commit after this many indexed documents (and at the end of the input, and when the input
    /// goes idle).
    #[serde(default = "default_commit_every")]
    pub commit_every: usize,
}

impl IndexerConfig {
    /// Configuration with default heap and commit interval for an index in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        IndexerConfig {
            dir: dir.into(),
            writer_heap_bytes: default_writer_heap_bytes(),
            writer_threads: default_writer_threads(),
            commit_every: default_commit_every(),
        }
    }
}

/// Default writer heap: 50 MB.
pub const fn default_writer_heap_bytes() -> usize {
    50_000_000
}

/// Default number of indexing threads: one.
///
/// Every writer thread builds a segment of its own, so each commit writes one segment per
/// thread: with two threads, twice the term dictionaries to build and twice the small segments
/// to merge, and each thread's analyzer warms its own term cache on half the documents. At the
/// pipeline's 500-document commits that cost 10–20% more CPU per document (`bench/index.sh`
/// with `BENCH_COMMIT_EVERY=500`: 0.26–0.29 ms with one thread, 0.30–0.37 ms with two) and
/// 55–70 MB more resident memory. The second thread only buys wall-clock speed when the indexer
/// has a core to itself; in the pipeline, crawl, classify and index share the machine's two
/// cores, and one thread alone indexes ~2,000–3,500 pages of 20 KB per second.
pub const fn default_writer_threads() -> usize {
    1
}

/// Default commit interval: 500 documents.
pub const fn default_commit_every() -> usize {
    500
}

/// Writer threads and heap actually used for the requested ones: 1–8 threads (tantivy's
/// limit), and at least [`MIN_HEAP_PER_THREAD`] per thread.
pub(crate) fn writer_threads_and_heap(threads: usize, heap_bytes: usize) -> (usize, usize) {
    let threads = threads.clamp(1, 8);
    (threads, heap_bytes.max(threads * MIN_HEAP_PER_THREAD))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_uses_defaults() {
        let cfg = IndexerConfig::new("/tmp/x");
        assert_eq!(cfg.writer_heap_bytes, 50_000_000);
        assert_eq!(cfg.writer_threads, 1);
        assert_eq!(cfg.commit_every, 500);
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_keys() {
        let cfg: IndexerConfig = serde_json::from_str(r#"{"dir": "/data/index"}"#).unwrap();
        assert_eq!(cfg, IndexerConfig::new("/data/index"));
        let cfg: IndexerConfig = serde_json::from_str(
            r#"{"dir": "/d", "commit_every": 10, "writer_heap_bytes": 1, "writer_threads": 2}"#,
        )
        .unwrap();
        assert_eq!(
            (cfg.commit_every, cfg.writer_heap_bytes, cfg.writer_threads),
            (10, 1, 2)
        );
        let err = serde_json::from_str::<IndexerConfig>(r#"{"dir": "/d", "commit": 1}"#);
        assert!(err.unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn threads_never_get_less_than_the_minimum_heap() {
        for threads in [0, 1, 2, 8, 100] {
            for heap in [0, 1, MIN_HEAP_PER_THREAD, 50_000_000, 1_000_000_000] {
                let (t, h) = writer_threads_and_heap(threads, heap);
                assert!((1..=8).contains(&t), "threads {threads}: {t}");
                assert!(h / t >= MIN_HEAP_PER_THREAD, "heap {heap}: {h} for {t}");
                assert!(h >= heap, "heap {heap}: {h}");
            }
        }
    }
}
