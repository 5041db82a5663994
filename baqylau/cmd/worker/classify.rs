//! The classifier role: captures from `P.captures.classify`, flagged ones to `P.flagged`.
//!
//! The embedded pipeline's `classify_stage`: a capture is acknowledged after its `Flagged`
//! message is confirmed by the broker. Stateless, so any number of classifiers may run.

use std::sync::Arc;

use model::{Capture, Flagged};

use super::Ctx;
use super::topology::Stage;

/// Runs the classifier role until stopped.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let rules = Arc::new(crate::embedded::load_rules(ctx.args.rules.as_deref())?);
    let input = ctx.queue::<Capture>(Stage::CapturesClassify, 64).await?;
    let output = ctx.queue::<Flagged>(Stage::Flagged, 1).await?;
    let hits = ctx.metrics.counter(
        "baqylau_rule_hits_total",
        "Rule hits found by this classifier.",
        vec![],
    );
    ctx.ready();
    ctx.supervise(None, || {
        let (rules, input, output, hits) = (
            Arc::clone(&rules),
            Arc::clone(&input),
            Arc::clone(&output),
            Arc::clone(&hits),
        );
        async move {
            crate::pipeline::classify_stage(&rules, input.as_ref(), output.as_ref(), hits.atomic())
                .await
        }
    })
    .await
}
