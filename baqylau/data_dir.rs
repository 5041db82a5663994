//! Layout of a data directory (`--data`, default `./baqylau-data`).
//!
//! ```text
//! DATA/crawler.sqlite   frontier, host state, capture log   (crawler)
//! DATA/index/           tantivy index                      (indexer)
//! DATA/cases.sqlite     cases, hits, evidence              (reporter)
//! DATA/blobs/warc/      WARC files                         (crawler)
//! DATA/blobs/screenshots/  evidence PNGs                   (screenshot worker)
//! ```
//! Each stage owns its own files; the binary only decides where they live.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Paths of one data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating if needed) the data directory at `root`.
    pub fn create(root: &Path) -> anyhow::Result<DataDir> {
        let d = DataDir {
            root: root.to_path_buf(),
        };
        for p in [d.root.clone(), d.index_dir(), d.screenshots_dir()] {
            std::fs::create_dir_all(&p)
                .with_context(|| format!("cannot create directory {}", p.display()))?;
        }
        Ok(d)
    }

    /// Opens an existing data directory; fails with a clear message if it is missing.
    pub fn existing(root: &Path) -> anyhow::Result<DataDir> {
        anyhow::ensure!(
            root.is_dir(),
            "data directory {} does not exist (run `baqylau crawl --data {}` or `baqylau demo` first)",
            root.display(),
            root.display()
        );
        DataDir::create(root)
    }

    /// The directory itself (the crawler keeps its SQLite file and WARC blobs under it).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// tantivy index directory.
    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    /// Blobs (WARC, screenshots); paths stored in cases are relative to it.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// Evidence screenshots.
    pub fn screenshots_dir(&self) -> PathBuf {
        self.blobs_dir().join("screenshots")
    }

    /// Case database of the reporter.
    pub fn cases_db(&self) -> PathBuf {
        self.root.join("cases.sqlite")
    }
}
