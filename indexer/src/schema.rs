//! The tantivy schema of a capture, and the mapping from [`model::Capture`] to a document.
//!
//! Identifiers and facets (`id`, `url`, `host`, `source`, `lang`) are untokenized `STRING` fields
//! so they can be matched exactly — `id` for idempotent re-adds (delete by term), the others for
//! search filters. `title` and `text` go through the [`RU_KK`] analyzer and are stored, because
//! snippets are cut from the stored text. `fetched_at` is a fast date field for sorting and ranges.

use model::Capture;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument};

use crate::analyzers::RU_KK;

/// Handles to the fields of the capture schema.
#[derive(Clone, Debug)]
pub(crate) struct Fields {
    pub(crate) id: Field,
    pub(crate) url: Field,
    pub(crate) host: Field,
    pub(crate) source: Field,
    pub(crate) lang: Field,
    pub(crate) fetched_at: Field,
    pub(crate) title: Field,
    pub(crate) text: Field,
    pub(crate) body_sha256: Field,
}

/// Builds the schema and its field handles.
pub(crate) fn build() -> (Schema, Fields) {
    let analyzed = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(RU_KK)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let date = DateOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);

    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        url: b.add_text_field("url", STRING | STORED),
        host: b.add_text_field("host", STRING | STORED),
        source: b.add_text_field("source", STRING | STORED),
        lang: b.add_text_field("lang", STRING | STORED),
        fetched_at: b.add_date_field("fetched_at", date),
        title: b.add_text_field("title", analyzed.clone()),
        text: b.add_text_field("text", analyzed),
        body_sha256: b.add_text_field("body_sha256", STORED),
    };
    (b.build(), fields)
}

impl Fields {
    /// The document indexed for a (successful) capture.
    pub(crate) fn document(&self, c: &Capture) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        doc.add_text(self.id, &c.id);
        doc.add_text(self.url, &c.url);
        doc.add_text(self.host, &c.host);
        doc.add_text(self.source, c.source.kind());
        if let Some(lang) = &c.lang {
            doc.add_text(self.lang, lang);
        }
        doc.add_date(
            self.fetched_at,
            DateTime::from_timestamp_secs(c.fetched_at.timestamp()),
        );
        doc.add_text(self.title, &c.title);
        doc.add_text(self.text, &c.text);
        if let Some(sha) = &c.body_sha256 {
            doc.add_text(self.body_sha256, sha);
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{FieldType, Value};

    use super::*;

    #[test]
    fn analyzed_fields_use_the_custom_analyzer() {
        let (schema, fields) = build();
        for field in [fields.title, fields.text] {
            let FieldType::Str(opts) = schema.get_field_entry(field).field_type() else {
                panic!("title/text must be text fields");
            };
            let indexing = opts.get_indexing_options().expect("indexed");
            assert_eq!(indexing.tokenizer(), RU_KK);
            assert!(opts.is_stored());
        }
    }

    #[test]
    fn document_carries_capture_fields() {
        let (_, fields) = build();
        let mut c = Capture::failed("https://x.kz/a", "x.kz", model::FailureKind::Other, "");
        c.error = None;
        c.title = "Заголовок".into();
        c.text = "Текст".into();
        c.lang = Some("ru".into());
        let doc = fields.document(&c);
        let get = |f| doc.get_first(f).and_then(|v| v.as_str().map(str::to_owned));
        assert_eq!(get(fields.id).as_deref(), Some(c.id.as_str()));
        assert_eq!(get(fields.host).as_deref(), Some("x.kz"));
        assert_eq!(get(fields.source).as_deref(), Some("web"));
        assert_eq!(get(fields.lang).as_deref(), Some("ru"));
        assert_eq!(get(fields.body_sha256), None);
        let at = doc
            .get_first(fields.fetched_at)
            .and_then(|v| v.as_datetime());
        assert_eq!(
            at.map(|d| d.into_timestamp_secs()),
            Some(c.fetched_at.timestamp())
        );
    }
}
