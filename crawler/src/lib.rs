//! crawler
pub mod render;
