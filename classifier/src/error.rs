//! Errors of loading a rule set, with the coordinates a rule author needs to fix them.

use std::path::PathBuf;

/// Why a rule set could not be loaded. Positions are 1-based, columns count chars.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A TOML or expression syntax error.
    #[error("{file}:{line}:{col}: {msg}{}", hint_suffix(hint))]
    Syntax {
        /// Rule file name, as given (relative to the rules directory).
        file: String,
        /// Line in the file.
        line: usize,
        /// Column in the line.
        col: usize,
        /// What is wrong.
        msg: String,
        /// How to fix it, when we can tell.
        hint: Option<String>,
    },
    /// A well-formed rule that cannot be accepted: unknown category, duplicate id, empty field.
    #[error("{file}:{line}:{col}: {msg}{}", hint_suffix(hint))]
    Invalid {
        /// Rule or list file name.
        file: String,
        /// Line in the file.
        line: usize,
        /// Column in the line.
        col: usize,
        /// What is wrong.
        msg: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// The taxonomy file could not be parsed.
    #[error("{file}: {source}")]
    Taxonomy {
        /// Taxonomy file name.
        file: String,
        /// The parse error.
        source: model::TaxonomyError,
    },
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory holds no rule file.
    #[error("{}: no rule files (*.toml other than taxonomy.toml)", dir.display())]
    Empty {
        /// The rules directory.
        dir: PathBuf,
    },
    /// Several errors; each is reported.
    #[error("{}", join_errors(.0))]
    Partial(Vec<LoadError>),
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default()
}

fn join_errors(errors: &[LoadError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl LoadError {
    /// Folds several errors into one: `None` for none, the error itself for one, `Partial` for
    /// more.
    pub(crate) fn collect(mut errors: Vec<LoadError>) -> Option<LoadError> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(LoadError::Partial(errors)),
        }
    }
}

/// Line starts of a source, for many [`line_col`] look-ups in one file (a rule file with
/// thousands of rules must not rescan the text for every rule).
pub(crate) struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { src, starts }
    }

    /// 1-based line and char column of byte `offset` (clamped to the text).
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, self.src[start..offset].chars().count() + 1)
    }
}

/// 1-based line and char column of byte `offset` in `src` (clamped to the text).
#[cfg(test)]
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = src[line_start..offset].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_table() {
        let src = "ab\nказ\nx";
        let cases = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (5, (2, 2)),
            (10, (3, 1)),
            (99, (3, 2)),
        ];
        for (off, want) in cases {
            assert_eq!(line_col(src, off), want, "offset {off}");
        }
    }

    #[test]
    fn display_has_coordinates_and_hint() {
        let e = LoadError::Syntax {
            file: "rules/casino.toml".into(),
            line: 12,
            col: 7,
            msg: "unexpected `)`".into(),
            hint: Some("remove it".into()),
        };
        assert_eq!(
            e.to_string(),
            "rules/casino.toml:12:7: unexpected `)` (hint: remove it)"
        );
        let p = LoadError::collect(vec![
            LoadError::Empty { dir: "a".into() },
            LoadError::Empty { dir: "b".into() },
        ])
        .unwrap();
        assert_eq!(p.to_string().lines().count(), 2);
        let src = "ab\nкд\n\nx";
        let idx = LineIndex::new(src);
        for off in 0..=src.len() + 2 {
            assert_eq!(idx.line_col(off), line_col(src, off), "offset {off}");
        }
    }
}
