//! Prometheus metrics of a worker: a small registry and the `/metrics` text exposition.
//!
//! Hand-rolled rather than the `prometheus`/`prometheus-client` crates: a worker exposes a few
//! dozen series (counters, gauges, one histogram), the text format is a page of rules
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>), and the stage code only
//! needs atomics it can bump — so a hundred lines here cost less build time and API surface than
//! a dependency, and the exposition is tested below against the format's rules.
//!
//! Values that live elsewhere (crawler counters, queue depths read from the broker) are sampled
//! at scrape time by [`Collector`]s, so a scrape always shows the current state.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

/// Label pairs of one series, in the order given.
pub type Labels = Vec<(&'static str, String)>;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The underlying atomic, for stage code that counts into a plain `AtomicU64`.
    pub fn atomic(&self) -> &AtomicU64 {
        &self.0
    }
}

/// A value that goes up and down (stored as `f64` bits).
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Observations counted into cumulative buckets (upper bounds in seconds).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Buckets for screenshot latency: a tab-pool shot takes a fraction of a second, a slow page
/// up to the renderer's timeout.
pub const SCREENSHOT_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

impl Histogram {
    /// An empty histogram with the given bucket upper bounds (ascending).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Records one observation of `seconds`.
    pub fn observe(&self, seconds: f64) {
        for (b, bound) in self.buckets.iter().zip(self.bounds) {
            if seconds <= *bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

enum Series {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
}

struct Family {
    help: &'static str,
    kind: Kind,
    series: Vec<(Labels, Series)>,
}

/// Values sampled when `/metrics` is scraped.
#[async_trait]
pub trait Collector: Send + Sync {
    /// Writes the collector's families into `out`.
    async fn collect(&self, out: &mut Exposition);
}

/// The metrics of one process.
#[derive(Default)]
pub struct Registry {
    families: Mutex<BTreeMap<&'static str, Family>>,
    collectors: Mutex<Vec<Arc<dyn Collector>>>,
}

impl Registry {
    /// A registry with no series.
    pub fn new() -> Arc<Registry> {
        Arc::new(Registry::default())
    }

    fn series(
        &self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: Labels,
        make: impl FnOnce() -> Series,
    ) -> Series {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        let family = families.entry(name).or_insert_with(|| Family {
            help,
            kind,
            series: Vec::new(),
        });
        debug_assert_eq!(family.kind, kind, "{name} registered with two types");
        if let Some((_, s)) = family.series.iter().find(|(l, _)| *l == labels) {
            return match s {
                Series::Counter(c) => Series::Counter(Arc::clone(c)),
                Series::Gauge(g) => Series::Gauge(Arc::clone(g)),
                Series::Histogram(h) => Series::Histogram(Arc::clone(h)),
            };
        }
        let s = make();
        let shared = match &s {
            Series::Counter(c) => Series::Counter(Arc::clone(c)),
            Series::Gauge(g) => Series::Gauge(Arc::clone(g)),
            Series::Histogram(h) => Series::Histogram(Arc::clone(h)),
        };
        family.series.push((labels, s));
        shared
    }

    /// The counter `name{labels}` (created on first use; the same handle afterwards).
    pub fn counter(&self, name: &'static str, help: &'static str, labels: Labels) -> Arc<Counter> {
        match self.series(name, help, Kind::Counter, labels, || {
            Series::Counter(Arc::default())
        }) {
            Series::Counter(c) => c,
            _ => Arc::default(),
        }
    }

    /// The gauge `name{labels}`.
    pub fn gauge(&self, name: &'static str, help: &'static str, labels: Labels) -> Arc<Gauge> {
        match self.series(name, help, Kind::Gauge, labels, || {
            Series::Gauge(Arc::default())
        }) {
            Series::Gauge(g) => g,
            _ => Arc::default(),
        }
    }

    /// The histogram `name{labels}` with `bounds` (used on first registration).
    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        labels: Labels,
        bounds: &'static [f64],
    ) -> Arc<Histogram> {
        match self.series(name, help, Kind::Histogram, labels, || {
            Series::Histogram(Arc::new(Histogram::new(bounds)))
        }) {
            Series::Histogram(h) => h,
            _ => Arc::new(Histogram::new(bounds)),
        }
    }

    /// Adds a collector sampled on every scrape.
    pub fn add_collector(&self, c: Arc<dyn Collector>) {
        self.collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(c);
    }

    /// The text exposition of every series (format version 0.0.4).
    pub async fn render(&self) -> String {
        let mut out = Exposition::default();
        {
            let families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
            for (name, f) in families.iter() {
                out.family(name, f.help, f.kind);
                for (labels, s) in &f.series {
                    match s {
                        Series::Counter(c) => out.sample(name, labels, c.get() as f64),
                        Series::Gauge(g) => out.sample(name, labels, g.get()),
                        Series::Histogram(h) => out.histogram(name, labels, h),
                    }
                }
            }
        }
        let collectors: Vec<Arc<dyn Collector>> = self
            .collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for c in collectors {
            c.collect(&mut out).await;
        }
        out.text
    }
}

/// Text being exposed; collectors write families into it.
#[derive(Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    /// Starts a gauge family (collectors).
    pub fn gauge_family(&mut self, name: &str, help: &str) {
        self.family(name, help, Kind::Gauge);
    }

    /// Starts a counter family (collectors).
    pub fn counter_family(&mut self, name: &str, help: &str) {
        self.family(name, help, Kind::Counter);
    }

    /// One sample of the family started last.
    pub fn sample(&mut self, name: &str, labels: &[(&'static str, String)], value: f64) {
        self.text.push_str(name);
        write_labels(&mut self.text, labels, None);
        let _ = writeln!(self.text, " {}", number(value));
    }

    fn histogram(&mut self, name: &str, labels: &[(&'static str, String)], h: &Histogram) {
        // Read count first: buckets bumped after it may exceed it by a few, never fall short.
        let count = h.count.load(Ordering::Relaxed);
        for (b, bound) in h.buckets.iter().zip(h.bounds) {
            let _ = write!(self.text, "{name}_bucket");
            write_labels(&mut self.text, labels, Some(number(*bound)));
            let _ = writeln!(self.text, " {}", b.load(Ordering::Relaxed).min(count));
        }
        let _ = write!(self.text, "{name}_bucket");
        write_labels(&mut self.text, labels, Some("+Inf".into()));
        let _ = writeln!(self.text, " {count}");
        let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = write!(self.text, "{name}_sum");
        write_labels(&mut self.text, labels, None);
        let _ = writeln!(self.text, " {}", number(sum));
        let _ = write!(self.text, "{name}_count");
        write_labels(&mut self.text, labels, None);
        let _ = writeln!(self.text, " {count}");
    }
}

fn write_labels(out: &mut String, labels: &[(&'static str, String)], le: Option<String>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    let le = le.map(|v| ("le", v));
    for (k, v) in labels.iter().map(|(k, v)| (*k, v.clone())).chain(le) {
        if !first {
            out.push(',');
        }
        first = false;
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = write!(out, "{k}=\"{v}\"");
    }
    out.push('}');
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
) -> std::io::Result<()> {
    use axum::http::header;
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let registry = Arc::clone(&registry);
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    registry.render().await,
                )
            }
        }),
    );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    #[async_trait]
    impl Collector for Fixed {
        async fn collect(&self, out: &mut Exposition) {
            out.gauge_family("baqylau_queue_ready_messages", "Ready messages.");
            out.sample(
                "baqylau_queue_ready_messages",
                &[("queue", "q\"1".to_string())],
                3.0,
            );
        }
    }

    #[tokio::test]
    async fn exposition_follows_the_text_format() {
        let r = Registry::new();
        let c = r.counter(
            "baqylau_messages_consumed_total",
            "Messages taken from a queue.",
            vec![("queue", "flagged".into())],
        );
        c.add(2);
        // The same series is the same handle.
        r.counter(
            "baqylau_messages_consumed_total",
            "Messages taken from a queue.",
            vec![("queue", "flagged".into())],
        )
        .inc();
        r.gauge("baqylau_up", "1 while the worker runs.", vec![])
            .set(1.0);
        let h = r.histogram(
            "baqylau_screenshot_seconds",
            "Screenshot latency.",
            vec![],
            &[0.5, 1.0],
        );
        h.observe(0.2);
        h.observe(0.7);
        h.observe(3.0);
        r.add_collector(Arc::new(Fixed));
        let text = r.render().await;
        let expected = "\
# HELP baqylau_messages_consumed_total Messages taken from a queue.
# TYPE baqylau_messages_consumed_total counter
baqylau_messages_consumed_total{queue=\"flagged\"} 3
# HELP baqylau_screenshot_seconds Screenshot latency.
# TYPE baqylau_screenshot_seconds histogram
baqylau_screenshot_seconds_bucket{le=\"0.5\"} 1
baqylau_screenshot_seconds_bucket{le=\"1\"} 2
baqylau_screenshot_seconds_bucket{le=\"+Inf\"} 3
baqylau_screenshot_seconds_sum 3.9
baqylau_screenshot_seconds_count 3
# HELP baqylau_up 1 while the worker runs.
# TYPE baqylau_up gauge
baqylau_up 1
# HELP baqylau_queue_ready_messages Ready messages.
# TYPE baqylau_queue_ready_messages gauge
baqylau_queue_ready_messages{queue=\"q\\\"1\"} 3
";
        assert_eq!(text, expected);
    }
}
