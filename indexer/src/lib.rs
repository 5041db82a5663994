//! Full-text index of captured pages and posts.
//!
//! The indexer sits beside the classifier after the crawler: it consumes [`model::Capture`]s from
//! a queue and writes them into a tantivy index (`DATA/index`), so analysts can search everything
//! the crawler has seen — not only what the rules flagged — and rule authors can backtest new
//! rules against past captures. Its primary types are [`Indexer`] (the index, its writer and the
//! stage task [`Indexer::run`]), [`IndexerConfig`], and [`SearchQuery`] / [`SearchHit`].
//!
//! Text is analysed by [`analyzers::RU_KK`], built for Russian and Kazakh: long glued words are
//! kept, `ё` is folded, Kazakh endings are stripped and Russian words are stemmed, so
//! «пирамиды» finds «пирамида» and «ақша» finds «ақшаны».
//!
//! ```
//! use indexer::{Indexer, SearchQuery};
//!
//! let index = Indexer::open_in_ram()?;
//! let mut capture = model::Capture::failed(
//!     "https://casino.example/", "casino.example", model::FailureKind::Other, "");
//! capture.error = None; // a successful fetch
//! capture.text = "Қазақстандағы ең жақсы онлайн казино, промокодтар!".into();
//! index.add(&capture)?;
//! index.commit()?;
//!
//! let hits = index.search(&SearchQuery::new("Қазақстан казино"))?;
//! assert_eq!(hits[0].url, "https://casino.example/");
//! assert!(hits[0].snippet_html.contains("<b>казино</b>"));
//! # Ok::<(), indexer::IndexError>(())
//! ```
#![warn(missing_docs)]

pub mod analyzers;
mod config;
mod error;
mod indexer;
mod schema;
mod search;
mod stored;

pub use config::{
    IndexerConfig, MIN_HEAP_PER_THREAD, default_commit_every, default_writer_heap_bytes,
    default_writer_threads,
};
pub use error::{IndexError, Result};
pub use indexer::{Indexer, IndexerStats};
pub use search::{DEFAULT_LIMIT, MAX_LIMIT, SearchHit, SearchQuery};
pub use stored::StoredDoc;
