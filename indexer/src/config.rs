//! Configuration of the indexer stage.
//!
//! Only three knobs: where the index lives, how much memory the writer may buffer, and how many
//! documents to batch per commit. Commits are the expensive, blocking part of indexing (segment
//! flush + fsync), so batching them is what keeps indexing cheap.

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
            commit_every: default_commit_every(),
        }
    }
}

/// Default writer heap: 50 MB.
pub const fn default_writer_heap_bytes() -> usize {
    50_000_000
}

/// Default commit interval: 500 documents.
pub const fn default_commit_every() -> usize {
    500
}

/// Number of indexing threads for a heap budget: as many as the budget allows at
/// [`MIN_HEAP_PER_THREAD`] each, at most the number of cores and at most 8 (tantivy's limit).
pub(crate) fn writer_threads(heap_bytes: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    (heap_bytes / MIN_HEAP_PER_THREAD).clamp(1, cores.clamp(1, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_uses_defaults() {
        let cfg = IndexerConfig::new("/tmp/x");
        assert_eq!(cfg.writer_heap_bytes, 50_000_000);
        assert_eq!(cfg.commit_every, 500);
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_keys() {
        let cfg: IndexerConfig = serde_json::from_str(r#"{"dir": "/data/index"}"#).unwrap();
        assert_eq!(cfg, IndexerConfig::new("/data/index"));
        let cfg: IndexerConfig =
            serde_json::from_str(r#"{"dir": "/d", "commit_every": 10, "writer_heap_bytes": 1}"#)
                .unwrap();
        assert_eq!((cfg.commit_every, cfg.writer_heap_bytes), (10, 1));
        let err = serde_json::from_str::<IndexerConfig>(r#"{"dir": "/d", "commit": 1}"#);
        assert!(err.unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn threads_never_get_less_than_the_minimum_heap() {
        for heap in [0, 1, MIN_HEAP_PER_THREAD, 50_000_000, 1_000_000_000] {
            let threads = writer_threads(heap);
            assert!((1..=8).contains(&threads), "heap {heap}: {threads}");
            if heap >= MIN_HEAP_PER_THREAD {
                assert!(
                    heap / threads >= MIN_HEAP_PER_THREAD,
                    "heap {heap}: {threads}"
                );
            }
        }
    }
}
