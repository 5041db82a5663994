//! Crawls one site with the `spider` crate (the library behind `spider_cli`) and prints how
//! many pages it visited — the peer run of `bench/crawl.sh --peers`.
//!
//! Why not only `spider_cli`: its `crawl` subcommand spawns the crawl and, without `-o`, returns
//! from `main` before any request is sent; with `-o` it reads pages from a broadcast channel of
//! 30 slots and stops at the first `Lagged` error, which a fast loopback site causes after a few
//! hundred pages. Awaiting `Website::crawl` directly is how spider's own examples use it.
//!
//! Usage: `spider-peer URL [CONCURRENCY]` (robots.txt respected; concurrency: spider's default
//! when absent).

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: spider-peer URL [CONCURRENCY]");
    let concurrency = args.next().map(|c| c.parse::<usize>().expect("concurrency"));
    let mut website = spider::website::Website::new(&url);
    website.with_respect_robots_txt(true);
    if concurrency.is_some() {
        website.with_concurrency_limit(concurrency);
    }
    website.crawl().await;
    println!("{}", website.get_all_links_visited().await.len());
}
