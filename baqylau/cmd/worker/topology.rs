//! The queues of the distributed deployment, and the connection settings every worker, `seed`
//! and `stats` share.
//!
//! ```text
//! seed ─► P.seeds ─► crawler ─┬─► P.captures.index ───► indexer
//!                             └─► P.captures.classify ─► classifier ─► P.flagged ─► reporter
//!          screenshot ◄─ P.screenshots ◄───────────────────────────────────────────┘
//! ```
//! `P` is the queue prefix (`baqylau.` by default; tests use a fresh one each). Every queue is a
//! durable quorum queue with a delivery limit and a dead-letter queue `<queue>.dead` (see the
//! `broker` crate). The crawler publishes each capture to the two capture queues itself (two
//! confirmed publishes) instead of through a fanout exchange: there is nothing else to declare
//! and bind, each consumer keeps its own dead-letter queue, and a publisher that declares its
//! targets can never publish into an unbound exchange and lose messages when it starts first.
//!
//! Every role declares every queue it consumes or publishes to, so workers may start in any
//! order; `stats` only reads (passive declarations).

use broker::{AmqpConfig, AmqpQueue};
use serde::{Deserialize, Serialize};

/// Where the deployment's broker and database are, and how its queues are named.
#[derive(Debug, Clone, clap::Args)]
pub struct Cluster {
    /// RabbitMQ URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    #[arg(long, env = "BAQYLAU_BROKER")]
    pub broker: String,
    /// PostgreSQL URL (cases, frontier), e.g. `postgres://postgres@127.0.0.1:5432/test`.
    #[arg(long, env = "BAQYLAU_DB")]
    pub db: Option<String>,
    #[command(flatten)]
    pub names: Names,
}

/// Naming shared by every process of one deployment.
#[derive(Debug, Clone, clap::Args)]
pub struct Names {
    /// PostgreSQL schema holding the tables (created when missing); default: the server's
    /// `search_path`.
    #[arg(long, env = "BAQYLAU_DB_SCHEMA")]
    pub db_schema: Option<String>,
    /// Prefix of every queue name; deployments (and tests) sharing one broker use different ones.
    #[arg(long, env = "BAQYLAU_QUEUE_PREFIX", default_value = "baqylau.")]
    pub queue_prefix: String,
    /// Deliveries of one message before it is parked in `<queue>.dead`. A queue argument: every
    /// process of a deployment must use the same value (the broker refuses a redeclaration).
    #[arg(long, env = "BAQYLAU_DELIVERY_LIMIT", default_value_t = 5)]
    pub delivery_limit: u32,
}

/// A seed URL on its way to the shared frontier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedMessage {
    /// The URL, as given (the crawler normalizes it).
    pub url: String,
}

/// One queue of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `SeedMessage`s for crawler workers.
    Seeds,
    /// `Capture`s for the indexer.
    CapturesIndex,
    /// `Capture`s for the classifier.
    CapturesClassify,
    /// `Flagged` captures for the reporter.
    Flagged,
    /// `ScreenshotRequest`s for the screenshot worker.
    Screenshots,
}

impl Stage {
    /// Every queue, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Seeds,
        Stage::CapturesIndex,
        Stage::CapturesClassify,
        Stage::Flagged,
        Stage::Screenshots,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Stage::Seeds => "seeds",
            Stage::CapturesIndex => "captures.index",
            Stage::CapturesClassify => "captures.classify",
            Stage::Flagged => "flagged",
            Stage::Screenshots => "screenshots",
        }
    }
}

impl Names {
    /// Full name of a stage's queue.
    pub fn queue(&self, stage: Stage) -> String {
        format!("{}{}", self.queue_prefix, stage.suffix())
    }

    /// Every queue name, each followed by its dead-letter queue.
    pub fn all_queues(&self) -> Vec<String> {
        Stage::ALL
            .iter()
            .flat_map(|s| {
                let q = self.queue(*s);
                [format!("{q}.dead"), q].into_iter().rev()
            })
            .collect()
    }

    /// Connects to (and declares) a stage's queue with `prefetch` unacknowledged deliveries.
    pub async fn connect<T>(
        &self,
        broker: &str,
        stage: Stage,
        prefetch: u16,
    ) -> anyhow::Result<AmqpQueue<T>> {
        let mut cfg = AmqpConfig::new(broker);
        cfg.prefetch = prefetch.max(1);
        cfg.delivery_limit = self.delivery_limit;
        let name = self.queue(stage);
        AmqpQueue::connect(cfg, name.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot declare queue {name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_carry_the_prefix_and_dead_letter_queues_follow_their_queue() {
        let n = Names {
            db_schema: None,
            queue_prefix: "t1.".into(),
            delivery_limit: 5,
        };
        assert_eq!(n.queue(Stage::Flagged), "t1.flagged");
        let all = n.all_queues();
        assert_eq!(all.len(), 10);
        assert_eq!(all[0], "t1.seeds");
        assert_eq!(all[1], "t1.seeds.dead");
        assert_eq!(all[9], "t1.screenshots.dead");
    }
}
