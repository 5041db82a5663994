//! The indexer role: captures from `P.captures.index` into the tantivy index under `--data`.
//!
//! `Indexer::run` acknowledges a batch only after the commit that made it durable; re-indexing a
//! redelivered capture replaces its document (the capture id is the key). One indexer process
//! per index directory (tantivy holds a writer lock); scale out with separate directories.

use std::sync::Arc;

use indexer::{Indexer, IndexerConfig};
use model::Capture;

use super::Ctx;
use super::topology::Stage;
use crate::data_dir::DataDir;

/// Documents per commit. The prefetch is twice that, so a batch fills while the previous one
/// commits instead of waiting for the idle timeout.
const BATCH: usize = 256;

/// Runs the indexer role until stopped.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let data = DataDir::create(&ctx.args.data)?;
    let mut cfg = IndexerConfig::new(data.index_dir());
    cfg.commit_every = BATCH;
    let indexer = Arc::new(Indexer::open(&cfg)?);
    let input = ctx
        .queue::<Capture>(Stage::CapturesIndex, (BATCH * 2) as u16)
        .await?;
    if let Some(prefetch) = ctx.args.prefetch {
        anyhow::ensure!(
            usize::from(prefetch) >= BATCH,
            "--prefetch {prefetch} is below the indexer's commit batch ({BATCH}): every batch \
             would wait for the idle timeout"
        );
    }
    ctx.ready();
    ctx.supervise(None, || {
        let (indexer, input) = (Arc::clone(&indexer), Arc::clone(&input));
        async move {
            let stats = indexer.run(input.as_ref()).await?;
            tracing::info!(indexed = stats.indexed, "indexer stage finished");
            Ok(())
        }
    })
    .await
}
