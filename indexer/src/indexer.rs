//! The indexer stage: one tantivy index, its single writer, and the task feeding it from a queue.
//!
//! Captures arrive at least once, so [`Indexer::add`] first deletes any document with the same
//! capture id: a redelivered capture replaces itself instead of showing up twice. Failed captures
//! carry no text and are not indexed. Commits flush segments and fsync, which takes milliseconds to
//! seconds, so the stage task batches them (every `commit_every` documents, when the input goes
//! idle, and at the end) and runs them on tokio's blocking pool. Deliveries are acknowledged only
//! after the commit that made them durable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use model::{Capture, Delivery, Queue};
use serde::Serialize;
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};
use tracing::{debug, info, warn};

use crate::analyzers;

use crate::config::{IndexerConfig, writer_threads_and_heap};
use crate::error::{IndexError, Result};
use crate::schema::{self, Fields};
use crate::search::{self, SearchHit, SearchQuery};
use crate::stored::{self, StoredDoc};

/// Segments with this many documents are not merged any further.
///
/// A merge maps every input segment (tantivy's `MmapDirectory`), and the pages it reads count in
/// the process's resident set until the inputs are dropped. Unbounded, the last merges of a long
/// crawl map the whole index at once (~20 KB per page: 20,000 pages put a 300 MB spike on top of
/// ~135 MB of heap). Capping merge inputs at 2,000 documents bounds that spike to tens of MB: the
/// 500-document segments of the 500-document commits (one writer thread) merge once, eight at a
/// time, into segments of ~4,000 that are not merged again; a 100,000-page index then has ~25
/// segments, which queries still search in milliseconds. (With two writer threads, segments
/// were half as big and the merged ones ~2,000 documents, yet the peak resident set of 20,000
/// pages at 500-document commits was 75 MB higher: two arenas and twice the segments.)
const MAX_DOCS_BEFORE_MERGE: usize = 2_000;

/// When the input has been quiet this long, pending documents are committed so they become
/// searchable without waiting for a full batch (monitoring mode trickles captures in).
const IDLE_COMMIT_AFTER: Duration = Duration::from_secs(1);

/// Counters of one [`Indexer::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndexerStats {
    /// Captures added to the index (re-deliveries included).
    pub indexed: u64,
    /// Failed captures skipped.
    pub skipped_failed: u64,
}

/// A tantivy index of captures with its writer. `Send + Sync`: share it behind an `Arc`.
pub struct Indexer {
    index: Index,
    fields: Fields,
    /// `None` for an index opened with [`Indexer::open_read_only`].
    writer: Option<Mutex<IndexWriter<TantivyDocument>>>,
    reader: IndexReader,
    commit_every: usize,
    dir: PathBuf,
}

/// What a writable [`Indexer`] needs beyond the index itself.
struct WriterSettings {
    heap_bytes: usize,
    threads: usize,
    commit_every: usize,
}

impl Indexer {
    /// Opens the index in `cfg.dir`, creating the directory and an empty index if needed, and
    /// registers the analyzers.
    pub fn open(cfg: &IndexerConfig) -> Result<Indexer> {
        let dir = cfg.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| IndexError::Dir {
            dir: dir.clone(),
            source,
        })?;
        let directory = MmapDirectory::open(&dir).map_err(|e| IndexError::Dir {
            dir: dir.clone(),
            source: std::io::Error::other(e),
        })?;
        let (schema, fields) = schema::build();
        let index =
            Index::open_or_create(directory, schema).map_err(|source| IndexError::Open {
                dir: dir.clone(),
                source,
            })?;
        let settings = WriterSettings {
            heap_bytes: cfg.writer_heap_bytes,
            threads: cfg.writer_threads,
            commit_every: cfg.commit_every,
        };
        let indexer = Self::with_index(index, fields, dir, Some(settings))?;
        info!(dir = %indexer.dir.display(), docs = indexer.reader.searcher().num_docs(), "index opened");
        Ok(indexer)
    }

    /// Opens an existing index for searching only, without taking the writer lock, so `search` and
    /// `stats` work while a crawl is writing the same index. It follows the writer's commits.
    /// [`Indexer::add`] and [`Indexer::commit`] then fail with [`IndexError::ReadOnly`].
    pub fn open_read_only(dir: &Path) -> Result<Indexer> {
        let index = Index::open_in_dir(dir).map_err(|source| IndexError::Open {
            dir: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = schema::build();
        if index.schema() != schema {
            return Err(IndexError::Open {
                dir: dir.to_path_buf(),
                source: TantivyError::SchemaError(
                    "the index was written with a different schema".to_owned(),
                ),
            });
        }
        Self::with_index(index, fields, dir.to_path_buf(), None)
    }

    /// A fresh index held in memory, with default settings (tests, `demo --once`).
    pub fn open_in_ram() -> Result<Indexer> {
        let (schema, fields) = schema::build();
        let index = Index::create_in_ram(schema);
        let defaults = IndexerConfig::new("<ram>");
        let settings = WriterSettings {
            heap_bytes: defaults.writer_heap_bytes,
            threads: defaults.writer_threads,
            commit_every: defaults.commit_every,
        };
        Self::with_index(index, fields, defaults.dir, Some(settings))
    }

    fn with_index(
        index: Index,
        fields: Fields,
        dir: PathBuf,
        settings: Option<WriterSettings>,
    ) -> Result<Indexer> {
        // Not persisted by tantivy: must be done on every open, before any write or query.
        analyzers::register(&index);
        let open_error = |source| IndexError::Open {
            dir: dir.clone(),
            source,
        };
        let (writer, commit_every, reload) = match settings {
            Some(settings) => {
                let writer = Self::writer_for(&index, &dir, settings.threads, settings.heap_bytes)?;
                // This process is the only writer: reload exactly when it commits.
                (
                    Some(Mutex::new(writer)),
                    settings.commit_every,
                    ReloadPolicy::Manual,
                )
            }
            None => (None, 1, ReloadPolicy::OnCommitWithDelay),
        };
        let reader = index
            .reader_builder()
            .reload_policy(reload)
            .try_into()
            .map_err(open_error)?;
        Ok(Indexer {
            index,
            fields,
            writer,
            reader,
            commit_every: commit_every.max(1),
            dir,
        })
    }

    /// The index writer, with `threads` threads (see [`writer_threads_and_heap`]).
    fn writer_for(
        index: &Index,
        dir: &Path,
        threads: usize,
        heap_bytes: usize,
    ) -> Result<IndexWriter<TantivyDocument>> {
        let (threads, heap) = writer_threads_and_heap(threads, heap_bytes);
        if heap != heap_bytes {
            warn!(
                requested = heap_bytes,
                used = heap,
                "index writer heap raised to the minimum"
            );
        }
        let writer = index
            .writer_with_num_threads(threads, heap)
            .map_err(|e| match e {
                TantivyError::LockFailure(LockError::LockBusy, _) => IndexError::Locked {
                    dir: dir.to_path_buf(),
                },
                source => IndexError::Open {
                    dir: dir.to_path_buf(),
                    source,
                },
            })?;
        let mut policy = LogMergePolicy::default();
        policy.set_max_docs_before_merge(MAX_DOCS_BEFORE_MERGE);
        writer.set_merge_policy(Box::new(policy));
        Ok(writer)
    }

    /// Adds a capture, replacing any earlier version with the same id. Failed captures are
    /// ignored. The document becomes searchable after the next [`Indexer::commit`].
    pub fn add(&self, c: &Capture) -> Result<()> {
        if c.is_failed() {
            return Ok(());
        }
        let doc = self.fields.document(c);
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.id, &c.id));
        writer
            .add_document(doc)
            .map_err(|source| IndexError::Write {
                capture_id: c.id.clone(),
                source,
            })?;
        Ok(())
    }

    /// Makes every added document durable and visible to searches. Blocking: from async code, call
    /// it through `spawn_blocking` (as [`Indexer::run`] does).
    pub fn commit(&self) -> Result<()> {
        let opstamp = self.writer()?.commit().map_err(IndexError::Commit)?;
        self.reader.reload().map_err(IndexError::Commit)?;
        debug!(opstamp, "index committed");
        Ok(())
    }

    /// Searches committed documents, best first.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let query = search::build_query(&self.index, &self.fields, q)?;
        search::execute(
            &self.reader.searcher(),
            &self.fields,
            query.as_ref(),
            q.limit,
        )
    }

    /// Calls `f` with every committed capture (title and text included), in index order, and
    /// returns how many there were — the input of `baqylau rules backtest`.
    pub fn for_each_stored(&self, f: impl FnMut(StoredDoc)) -> Result<u64> {
        stored::for_each(&self.reader.searcher(), &self.fields, f)
    }

    /// Number of committed documents.
    pub fn doc_count(&self) -> Result<u64> {
        Ok(self.reader.searcher().num_docs())
    }

    /// The stage task: indexes captures from `input` until it is closed and drained, committing
    /// every `commit_every` documents, when the input has been idle for a second, and at the end.
    pub async fn run(self: Arc<Self>, input: &dyn Queue<Capture>) -> Result<IndexerStats> {
        let mut stats = IndexerStats::default();
        let mut uncommitted: Vec<Delivery<Capture>> = Vec::new();
        loop {
            let next = if uncommitted.is_empty() {
                input.consume().await?
            } else {
                match tokio::time::timeout(IDLE_COMMIT_AFTER, input.consume()).await {
                    Ok(next) => next?,
                    Err(_idle) => {
                        self.commit_and_ack(&mut uncommitted).await?;
                        continue;
                    }
                }
            };
            let Some(delivery) = next else { break };
            let capture = &delivery.message;
            if capture.is_failed() {
                stats.skipped_failed += 1;
                debug!(url = %capture.url, "failed capture not indexed");
                delivery.ack().await?;
                continue;
            }
            self.add(capture)?;
            stats.indexed += 1;
            uncommitted.push(delivery);
            if uncommitted.len() >= self.commit_every {
                self.commit_and_ack(&mut uncommitted).await?;
            }
        }
        self.commit_and_ack(&mut uncommitted).await?;
        info!(
            indexed = stats.indexed,
            skipped_failed = stats.skipped_failed,
            "indexer finished"
        );
        Ok(stats)
    }

    /// Commits on the blocking pool, then acknowledges the deliveries the commit made durable.
    async fn commit_and_ack(
        self: &Arc<Self>,
        uncommitted: &mut Vec<Delivery<Capture>>,
    ) -> Result<()> {
        let indexer = Arc::clone(self);
        tokio::task::spawn_blocking(move || indexer.commit())
            .await
            .map_err(|e| IndexError::Task(e.to_string()))??;
        for delivery in uncommitted.drain(..) {
            delivery.ack().await?;
        }
        Ok(())
    }

    /// The writer; a panic while it was held does not leave it unusable (tantivy keeps its own
    /// state consistent), so poisoning is ignored.
    fn writer(&self) -> Result<MutexGuard<'_, IndexWriter<TantivyDocument>>> {
        let writer = self.writer.as_ref().ok_or_else(|| IndexError::ReadOnly {
            dir: self.dir.clone(),
        })?;
        Ok(writer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use model::{FailureKind, MemoryQueue, Source};

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + secs, 0).unwrap()
    }

    fn capture(url: &str, title: &str, text: &str) -> Capture {
        let host = url.split('/').nth(2).unwrap_or_default().to_owned();
        let mut c = Capture::failed(url, &host, FailureKind::Other, "");
        c.error = None;
        c.fetched_at = at(0);
        c.id = model::capture_id(url, c.fetched_at);
        c.title = title.to_owned();
        c.text = text.to_owned();
        c.lang = Some("ru".to_owned());
        c
    }

    fn indexed(captures: &[Capture]) -> Indexer {
        let idx = Indexer::open_in_ram().unwrap();
        for c in captures {
            idx.add(c).unwrap();
        }
        idx.commit().unwrap();
        idx
    }

    fn urls(idx: &Indexer, q: &SearchQuery) -> Vec<String> {
        let mut urls: Vec<_> = idx.search(q).unwrap().into_iter().map(|h| h.url).collect();
        urls.sort();
        urls
    }

    fn find(idx: &Indexer, text: &str) -> Vec<String> {
        urls(idx, &SearchQuery::new(text))
    }

    #[test]
    fn indexer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Indexer>();
    }

    #[test]
    fn long_cyrillic_words_are_searchable() {
        let idx = indexed(&[capture(
            "https://a.kz/1",
            "Новости",
            "Слово человеконенавистничество и высокодоходныеинвестиционныепроекты рядом.",
        )]);
        assert_eq!(find(&idx, "человеконенавистничество"), ["https://a.kz/1"]);
        assert_eq!(
            find(&idx, "высокодоходныеинвестиционныепроекты"),
            ["https://a.kz/1"]
        );
    }

    #[test]
    fn russian_inflections_match() {
        let idx = indexed(&[
            capture(
                "https://a.kz/1",
                "Осторожно",
                "Это классическая финансовая пирамида.",
            ),
            capture("https://a.kz/2", "Погода", "Солнечно и тепло."),
        ]);
        for query in ["пирамиды", "пирамиду", "ПИРАМИДА", "финансовые пирамиды"]
        {
            assert_eq!(find(&idx, query), ["https://a.kz/1"], "query {query:?}");
        }
        assert!(find(&idx, "казино").is_empty());
    }

    #[test]
    fn kazakh_text_is_searchable_across_endings() {
        let mut c = capture(
            "https://b.kz/1",
            "Хабарландыру",
            "Қазақстанда ақшаны тез табыңыз: ұйымдарға кепілдендірілген табыс!",
        );
        c.lang = Some("kk".to_owned());
        let idx = indexed(&[c, capture("https://b.kz/2", "Другое", "Про погоду.")]);
        for query in ["Қазақстан", "ақша", "ұйымдар", "кепілдендірілген табыс"]
        {
            assert_eq!(find(&idx, query), ["https://b.kz/1"], "query {query:?}");
        }
    }

    #[test]
    fn re_adding_a_capture_replaces_it() {
        let mut c = capture("https://a.kz/1", "Т", "старый текст");
        let idx = indexed(&[c.clone(), c.clone()]);
        assert_eq!(idx.doc_count().unwrap(), 1);
        c.text = "новый текст".to_owned();
        idx.add(&c).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.doc_count().unwrap(), 1);
        assert!(find(&idx, "старый").is_empty());
        assert_eq!(find(&idx, "новый"), ["https://a.kz/1"]);
    }

    #[test]
    fn failed_captures_are_not_indexed() {
        let failed = Capture::failed("https://x.kz/", "x.kz", FailureKind::Timeout, "deadline");
        let idx = indexed(&[failed]);
        assert_eq!(idx.doc_count().unwrap(), 0);
    }

    #[test]
    fn filters_narrow_results() {
        let web = capture(
            "https://casino.kz/1",
            "Казино",
            "Лучшее казино, промокод внутри",
        );
        let mut tg = capture("https://t.me/kaz_casino/7", "", "Казино бонус, промокод");
        tg.host = "t.me".to_owned();
        tg.source = Source::Telegram {
            channel: "kaz_casino".to_owned(),
            post_id: 7,
            views: None,
        };
        tg.lang = Some("kk".to_owned());
        let idx = indexed(&[web, tg]);
        let with = |f: &dyn Fn(&mut SearchQuery)| {
            let mut q = SearchQuery::new("казино");
            f(&mut q);
            urls(&idx, &q)
        };
        let both = ["https://casino.kz/1", "https://t.me/kaz_casino/7"];
        assert_eq!(with(&|_| {}), both);
        assert_eq!(
            with(&|q| q.host = Some("CASINO.kz".into())),
            ["https://casino.kz/1"]
        );
        assert_eq!(
            with(&|q| q.source = Some("telegram".into())),
            ["https://t.me/kaz_casino/7"]
        );
        assert_eq!(
            with(&|q| q.lang = Some("ru".into())),
            ["https://casino.kz/1"]
        );
        assert!(with(&|q| q.host = Some("other.kz".into())).is_empty());
        assert_eq!(with(&|q| q.host = Some(String::new())), both);
        // Empty text with a filter lists everything of that host.
        let mut all_tg = SearchQuery::new("  ");
        all_tg.host = Some("t.me".into());
        assert_eq!(urls(&idx, &all_tg), ["https://t.me/kaz_casino/7"]);
    }

    #[test]
    fn date_range_and_capture_ids_filter() {
        let mut old = capture("https://a.kz/old", "Казино", "казино старое");
        old.fetched_at = at(-86_400);
        old.id = model::capture_id(&old.url, old.fetched_at);
        let new = capture("https://a.kz/new", "Казино", "казино новое");
        let idx = indexed(&[old.clone(), new.clone()]);
        let with = |f: &dyn Fn(&mut SearchQuery)| {
            let mut q = SearchQuery::new("казино");
            f(&mut q);
            urls(&idx, &q)
        };
        assert_eq!(with(&|q| q.since = Some(at(-10))), ["https://a.kz/new"]);
        assert_eq!(with(&|q| q.until = Some(at(-10))), ["https://a.kz/old"]);
        assert_eq!(
            with(&|q| {
                q.since = Some(at(-86_400));
                q.until = Some(at(1));
            }),
            ["https://a.kz/new", "https://a.kz/old"]
        );
        assert_eq!(
            with(&|q| q.capture_ids = Some(vec![old.id.clone()])),
            ["https://a.kz/old"]
        );
        assert!(with(&|q| q.capture_ids = Some(Vec::new())).is_empty());
        let far = DateTime::parse_from_rfc3339("2999-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(with(&|q| q.since = Some(far)).is_empty());
        assert_eq!(with(&|q| q.until = Some(far)).len(), 2);
        let hit = &idx.search(&SearchQuery::new("новое")).unwrap()[0];
        assert_eq!(hit.lang.as_deref(), Some("ru"));
    }

    #[test]
    fn every_stored_capture_is_read_back_once() {
        let mut a = capture("https://a.kz/1", "Заголовок", "Текст первой страницы");
        let b = capture("https://a.kz/2", "", "Вторая");
        let idx = indexed(&[a.clone(), b.clone()]);
        a.text = "Текст заменён".to_owned();
        idx.add(&a).unwrap();
        idx.commit().unwrap();
        let mut docs = Vec::new();
        let n = idx.for_each_stored(|d| docs.push(d)).unwrap();
        assert_eq!(n, 2);
        docs.sort_by(|x, y| x.url.cmp(&y.url));
        assert_eq!(docs[0].capture_id, a.id);
        assert_eq!(docs[0].title, "Заголовок");
        assert_eq!(docs[0].text, "Текст заменён");
        assert_eq!(docs[0].lang.as_deref(), Some("ru"));
        assert_eq!(docs[0].fetched_at, at(0));
        assert_eq!(
            (docs[1].url.as_str(), docs[1].host.as_str()),
            ("https://a.kz/2", "a.kz")
        );
    }

    #[test]
    fn hits_carry_stored_fields_and_escaped_snippets() {
        let c = capture(
            "https://a.kz/p",
            "Пирамида <script>",
            "Вступайте в <b>проект</b>: пирамида платит 30% в месяц & больше.",
        );
        let idx = indexed(std::slice::from_ref(&c));
        let hits = idx.search(&SearchQuery::new("пирамиды")).unwrap();
        assert_eq!(hits.len(), 1);
        let hit = &hits[0];
        assert_eq!(hit.capture_id, c.id);
        assert_eq!(hit.title, "Пирамида <script>");
        assert_eq!(hit.host, "a.kz");
        assert_eq!(hit.source, "web");
        assert_eq!(hit.fetched_at, c.fetched_at);
        assert!(hit.score > 0.0);
        assert!(
            hit.snippet_html.contains("<b>пирамида</b>"),
            "{}",
            hit.snippet_html
        );
        assert!(
            hit.snippet_html.contains("&lt;b&gt;проект&lt;/b&gt;"),
            "{}",
            hit.snippet_html
        );
        assert!(hit.snippet_html.contains("&amp;"), "{}", hit.snippet_html);
        let json = serde_json::to_value(hit).unwrap();
        assert_eq!(json["url"], "https://a.kz/p");
    }

    #[test]
    fn title_only_match_gets_an_escaped_opening_as_snippet() {
        let idx = indexed(&[capture(
            "https://a.kz/t",
            "Казино",
            "Текст <без> совпадений",
        )]);
        let hits = idx.search(&SearchQuery::new("казино")).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].snippet_html, "Текст &lt;без&gt; совпадений");
    }

    #[test]
    fn limit_caps_the_number_of_hits() {
        let captures: Vec<_> = (0..5)
            .map(|i| capture(&format!("https://a.kz/{i}"), "", "казино"))
            .collect();
        let idx = indexed(&captures);
        for (limit, want) in [(0, 0), (2, 2), (10, 5)] {
            let mut q = SearchQuery::new("казино");
            q.limit = limit;
            assert_eq!(idx.search(&q).unwrap().len(), want, "limit {limit}");
        }
    }

    #[test]
    fn malformed_query_is_a_query_error() {
        let idx = indexed(&[]);
        let err = idx.search(&SearchQuery::new("nosuchfield:x")).unwrap_err();
        assert!(matches!(err, IndexError::Query { .. }), "{err}");
    }

    #[test]
    fn on_disk_index_reopens_with_analyzers_registered() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = IndexerConfig::new(dir.path().join("index"));
        {
            let idx = Indexer::open(&cfg).unwrap();
            idx.add(&capture(
                "https://a.kz/1",
                "Т",
                "Финансовые пирамиды и человеконенавистничество",
            ))
            .unwrap();
            idx.commit().unwrap();
        }
        let idx = Indexer::open(&cfg).unwrap();
        assert_eq!(idx.doc_count().unwrap(), 1);
        assert_eq!(find(&idx, "пирамида"), ["https://a.kz/1"]);
        assert_eq!(find(&idx, "человеконенавистничество"), ["https://a.kz/1"]);
        // New writes after reopening go through the re-registered analyzer too.
        idx.add(&capture("https://a.kz/2", "Т", "Онлайн-казино"))
            .unwrap();
        idx.commit().unwrap();
        assert_eq!(find(&idx, "казино"), ["https://a.kz/2"]);
    }

    #[test]
    fn second_writer_on_the_same_dir_is_reported_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = IndexerConfig::new(dir.path());
        let _first = Indexer::open(&cfg).unwrap();
        let err = Indexer::open(&cfg).err().expect("second open must fail");
        assert!(matches!(err, IndexError::Locked { .. }), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn read_only_index_searches_while_a_writer_is_open_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Indexer::open(&IndexerConfig::new(dir.path())).unwrap();
        writer
            .add(&capture("https://a.kz/1", "", "казино"))
            .unwrap();
        writer.commit().unwrap();

        let reader = Indexer::open_read_only(dir.path()).unwrap();
        assert_eq!(find(&reader, "казино"), ["https://a.kz/1"]);
        let err = reader.add(&capture("https://a.kz/2", "", "x")).unwrap_err();
        assert!(matches!(err, IndexError::ReadOnly { .. }), "{err}");
        assert!(matches!(reader.commit(), Err(IndexError::ReadOnly { .. })));

        // The reader follows the writer's later commits.
        writer
            .add(&capture("https://a.kz/3", "", "казино"))
            .unwrap();
        writer.commit().unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while reader.doc_count().unwrap() < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "reader never reloaded"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[test]
    fn read_only_open_of_a_missing_index_fails() {
        let dir = tempfile::tempdir().unwrap();
        let err = Indexer::open_read_only(&dir.path().join("nothing"))
            .err()
            .expect("no index there");
        assert!(matches!(err, IndexError::Open { .. }), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn run_indexes_until_the_queue_closes() {
        let queue = MemoryQueue::new("captures", 16);
        for i in 0..5 {
            queue
                .publish(capture(&format!("https://a.kz/{i}"), "", "пирамида"))
                .await
                .unwrap();
        }
        queue
            .publish(Capture::failed(
                "https://x.kz/",
                "x.kz",
                FailureKind::Dns,
                "nx",
            ))
            .await
            .unwrap();
        queue.close().await;

        let idx = Arc::new(Indexer::open_in_ram().unwrap());
        let stats = Arc::clone(&idx).run(&queue).await.unwrap();
        assert_eq!(
            stats,
            IndexerStats {
                indexed: 5,
                skipped_failed: 1
            }
        );
        assert_eq!(idx.doc_count().unwrap(), 5);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn run_commits_in_batches_and_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = IndexerConfig::new(dir.path());
        cfg.commit_every = 2;
        let idx = Arc::new(Indexer::open(&cfg).unwrap());
        let queue = Arc::new(MemoryQueue::new("captures", 16));
        let task = tokio::spawn({
            let (idx, queue) = (Arc::clone(&idx), Arc::clone(&queue));
            async move { idx.run(queue.as_ref()).await }
        });

        for i in 0..3 {
            queue
                .publish(capture(&format!("https://a.kz/{i}"), "", "казино"))
                .await
                .unwrap();
        }
        // Two documents make a batch; the third is committed once the input goes quiet.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while idx.doc_count().unwrap() < 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "idle commit never happened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        queue.close().await;
        let stats = task.await.unwrap().unwrap();
        assert_eq!(stats.indexed, 3);
    }
}
