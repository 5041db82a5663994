//! Headless Chromium rendering and evidence screenshots (owned by the integration work; see lib.rs).
