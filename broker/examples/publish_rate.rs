//! Publish throughput of one [`AmqpQueue`] handle against the real broker: `count` persistent,
//! confirmed messages of about 1 KiB (a capture's size order) into a fresh quorum queue, with
//! 1, 8, 32 and 128 publishes in flight (tasks sharing the handle). Prints messages/s.
//!
//! `cargo run -p broker --example publish_rate [-- COUNT [URL]]` (default 4000 messages,
//! `amqp://guest:guest@127.0.0.1:5672/%2f`).

use std::sync::Arc;
use std::time::Instant;

use broker::{AmqpConfig, AmqpQueue};
use futures_util::StreamExt;
use model::Queue;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Msg {
    n: u32,
    text: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: u32 = args.next().map_or(4000, |a| a.parse().expect("COUNT"));
    let url = args
        .next()
        .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let text = "Сдай карту в аренду — 50 000 ₸ в неделю! ".repeat(16);
    for in_flight in [1usize, 8, 32, 128] {
        let name = format!("baqylau.bench.publish.{}.{in_flight}", std::process::id());
        let q: Arc<AmqpQueue<Msg>> = Arc::new(
            AmqpQueue::connect(AmqpConfig::new(url.clone()), name)
                .await
                .expect("RabbitMQ reachable"),
        );
        let started = Instant::now();
        let results: Vec<_> = futures_util::stream::iter(0..count)
            .map(|n| {
                let (q, text) = (Arc::clone(&q), format!("{n} {text}"));
                async move { q.publish(Msg { n, text }).await }
            })
            .buffer_unordered(in_flight)
            .collect()
            .await;
        let secs = started.elapsed().as_secs_f64();
        let failed = results.iter().filter(|r| r.is_err()).count();
        let (ready, _) = q.depth().await.expect("depth");
        println!(
            "in flight {in_flight:>3}: {count} messages in {secs:.2} s = {:.0} msg/s (failed {failed}, queue depth {ready})",
            f64::from(count) / secs
        );
        q.delete().await.expect("delete");
    }
}
