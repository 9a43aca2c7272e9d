//! The answers of commands other than scans (`rbac who-can`, `rbac access`, `rbac paths`,
//! `rules`, `inventory`): each is a typed model that serialises as its JSON output and
//! describes itself for people as a neutral [`Document`] of lines and tables. This module
//! renders both, so a new format is written once for every command: it reads the
//! `Document` (or the serialised model) and no command changes.

use std::io::{self, Write};

use serde::Serialize;

/// A command's answer.
pub trait Answer: Serialize {
    /// The answer for people.
    fn document(&self) -> Document;
}

/// A text for people: lines and tables, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub blocks: Vec<Block>,
}

/// One part of a [`Document`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A line of text (which may hold line breaks of its own).
    Line(String),
    /// Text written exactly as it is (a generated manifest).
    Text(String),
    /// Rows of cells in columns.
    Table(Table),
}

/// A table whose columns are at least their declared width; cells are never cut, and the
/// last column is not padded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Spaces before every row.
    pub indent: usize,
    /// The least width of each column but the last, in characters.
    pub widths: Vec<usize>,
    pub header: Option<Vec<String>>,
    pub rows: Vec<Vec<String>>,
}

impl Document {
    pub fn new() -> Self {
        Document::default()
    }

    pub fn line(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Line(text.into()));
        self
    }

    pub fn text(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Text(text.into()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Self {
        self.blocks.push(Block::Table(table));
        self
    }
}

/// An answer made without some of its inputs (`--allow-incomplete`): it says so before
/// anything else in every format, so that no reader takes it for a whole answer. JSON:
/// `inputs_not_read` first among an object answer's own fields; an answer that is a list
/// becomes `{"inputs_not_read": N, "answer": [...]}`, so that a reader expecting the whole
/// list fails rather than take the part for it. Text: an INCOMPLETE line first.
pub struct Partial<'a, A: Answer> {
    /// How many inputs could not be read (files, charts, types a cluster would not list).
    pub inputs_not_read: usize,
    pub answer: &'a A,
}

impl<A: Answer> Serialize for Partial<'_, A> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let answer = serde_json::to_value(self.answer).map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("inputs_not_read", &self.inputs_not_read)?;
        match answer {
            serde_json::Value::Object(fields) => {
                for (key, value) in &fields {
                    map.serialize_entry(key, value)?;
                }
            }
            other => map.serialize_entry("answer", &other)?,
        }
        map.end()
    }
}

impl<A: Answer> Answer for Partial<'_, A> {
    fn document(&self) -> Document {
        let mut document = Document::new();
        document.line(incomplete_note(self.inputs_not_read));
        document.blocks.extend(self.answer.document().blocks);
        document
    }
}

/// The line that heads an answer made without `inputs_not_read` of its inputs.
pub fn incomplete_note(inputs_not_read: usize) -> String {
    let inputs = if inputs_not_read == 1 {
        "input"
    } else {
        "inputs"
    };
    format!(
        "INCOMPLETE: {inputs_not_read} {inputs} could not be read; this answer covers only what was read"
    )
}

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerFormat {
    /// The document, as plain text.
    Text,
    /// The model, as indented JSON.
    Json,
}

/// Writes `answer` in `format`.
pub fn write_answer<A: Answer>(
    answer: &A,
    format: AnswerFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        AnswerFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, answer)?;
            writeln!(out)
        }
        AnswerFormat::Text => write_text(&answer.document(), out),
    }
}

/// Writes a document as plain text. What the input named is shown printable
/// ([`palisade_core::printable`]): a line keeps its own line breaks, a cell keeps none.
pub fn write_text(document: &Document, out: &mut dyn Write) -> io::Result<()> {
    for block in &document.blocks {
        match block {
            Block::Line(text) => writeln!(out, "{}", palisade_core::printable_lines(text))?,
            Block::Text(text) => write!(out, "{text}")?,
            Block::Table(table) => write_table(table, out)?,
        }
    }
    Ok(())
}

/// A table measured by comfy-table: every column as wide as its widest cell (at least its
/// declared width), cells never cut; on a terminal, too wide a table wraps its cells to the
/// terminal's width.
fn write_table(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    use comfy_table::{ColumnConstraint, ContentArrangement, Width};
    if table.rows.is_empty() && table.header.is_none() {
        return Ok(());
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = t.width() {
        t.set_width(width.saturating_sub(table.indent as u16));
    }
    let shown = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|cell| palisade_core::printable(cell).into_owned())
            .collect()
    };
    if let Some(header) = &table.header {
        t.set_header(shown(header));
    }
    for row in &table.rows {
        t.add_row(shown(row));
    }
    let columns = t.column_count();
    for (i, column) in t.column_iter_mut().enumerate() {
        // One space between columns, none after the last.
        column.set_padding((0, u16::from(i + 1 < columns)));
        if let Some(width) = table.widths.get(i) {
            let width = u16::try_from(*width + 1).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width)));
        }
    }
    let indent = " ".repeat(table.indent);
    for line in t.lines() {
        writeln!(out, "{indent}{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Pets {
        pets: Vec<(String, u32)>,
    }

    #[test]
    fn lines_and_cells_show_what_the_input_named_escaped() {
        let mut document = Document::new();
        document.line("subject eve\u{1b}[2K\nsecond line");
        document.table(Table {
            indent: 2,
            widths: vec![4],
            header: None,
            rows: vec![vec!["a\rb".into(), "c\u{202e}d".into()]],
        });
        let mut out = Vec::new();
        write_text(&document, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "subject eve\\u{1b}[2K\nsecond line\n  a\\rb c\\u{202e}d\n"
        );
    }

    #[test]
    fn a_partial_answer_says_so_in_every_format() {
        let pets = Pets {
            pets: vec![("rex".into(), 3)],
        };
        let partial = Partial {
            inputs_not_read: 2,
            answer: &pets,
        };
        let mut json = Vec::new();
        write_answer(&partial, AnswerFormat::Json, &mut json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["inputs_not_read"], 2);
        assert_eq!(
            json["pets"][0][0], "rex",
            "the answer's own fields stay where they were"
        );
        let mut text = Vec::new();
        write_answer(&partial, AnswerFormat::Text, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with("INCOMPLETE: 2 inputs could not be read"),
            "{text}"
        );
        assert!(text.contains("rex"));
        // A list answer is wrapped: a reader expecting the whole list fails.
        struct Names(Vec<&'static str>);
        impl Serialize for Names {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
        impl Answer for Names {
            fn document(&self) -> Document {
                Document::new()
            }
        }
        let names = Names(vec!["a"]);
        let partial = Partial {
            inputs_not_read: 1,
            answer: &names,
        };
        let json = serde_json::to_value(&partial).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"inputs_not_read": 1, "answer": ["a"]})
        );
    }

    impl Answer for Pets {
        fn document(&self) -> Document {
            let mut doc = Document::new();
            doc.line("pets:").table(Table {
                indent: 2,
                widths: vec![6],
                header: Some(vec!["NAME".into(), "AGE".into()]),
                rows: self
                    .pets
                    .iter()
                    .map(|(n, a)| vec![n.clone(), a.to_string()])
                    .collect(),
            });
            doc
        }
    }

    #[test]
    fn one_model_is_text_and_json() {
        let pets = Pets {
            pets: vec![("cat".into(), 3), ("capybara".into(), 12)],
        };
        let mut text = Vec::new();
        write_answer(&pets, AnswerFormat::Text, &mut text).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "pets:\n  NAME     AGE\n  cat      3\n  capybara 12\n",
            "columns are as wide as their widest cell, never cut"
        );
        let mut json = Vec::new();
        write_answer(&pets, AnswerFormat::Json, &mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["pets"][1][0], "capybara");
    }
}
