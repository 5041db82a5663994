//! What the binary carries inside itself: the default rule set and the demo fixture web, so that
//! `baqylau demo` works from any directory on a fresh machine.

use std::path::Path;

use anyhow::Context;
use classifier::RuleSet;
use include_dir::{Dir, include_dir};

/// The bundled demo web: `fixtures/demo-web/<host>/<path>`.
pub static DEMO_WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/demo-web");

/// The default rules: `rules/*.toml`, `rules/lists/*.txt`, `rules/taxonomy.toml`.
static RULES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// Loads rules from `dir`, or the bundled default rule set when `dir` is `None`.
pub fn load_rules(dir: Option<&Path>) -> anyhow::Result<RuleSet> {
    match dir {
        Some(d) => {
            RuleSet::load_dir(d).with_context(|| format!("cannot load rules from {}", d.display()))
        }
        None => bundled_rules(),
    }
}

fn bundled_rules() -> anyhow::Result<RuleSet> {
    let text = |f: &include_dir::File| -> anyhow::Result<(String, String)> {
        let name = f.path().to_string_lossy().into_owned();
        let body = f
            .contents_utf8()
            .with_context(|| format!("bundled rule file {name} is not UTF-8"))?;
        Ok((format!("rules/{name}"), body.to_string()))
    };
    let mut files = Vec::new();
    let mut taxonomy = None;
    for f in RULES.files() {
        let name = f.path().to_string_lossy();
        if name == "taxonomy.toml" {
            let src = f.contents_utf8().context("taxonomy.toml is not UTF-8")?;
            taxonomy = Some(model::Taxonomy::from_toml(src)?);
        } else if name.ends_with(".toml") {
            files.push(text(f)?);
        }
    }
    let mut lists = Vec::new();
    if let Some(dir) = RULES.get_dir("lists") {
        for f in dir.files() {
            if f.path().extension().is_some_and(|e| e == "txt") {
                let (_, body) = text(f)?;
                let stem = f
                    .path()
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                lists.push((stem, body));
            }
        }
    }
    files.sort();
    Ok(RuleSet::from_sources(&files, &lists, taxonomy.as_ref())?)
}
