//! One table of `palisade.toml` read by the crate that owns it (`[audit]`, `[admission]`):
//! strict (unknown keys and wrong types are errors), with the line of the key at fault.

use serde::de::DeserializeOwned;

/// Why a table could not be read: the line (1-based) in the file and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionError {
    pub line: usize,
    pub message: String,
}

/// Reads the table `name` of the TOML `text` into `T` (`None` when the file has no such
/// table). Errors point at the key at fault when it can be found, else at the table.
pub fn read<T: DeserializeOwned>(text: &str, name: &str) -> Result<Option<T>, SectionError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let file: toml::Table = toml::from_str(text).map_err(|e| SectionError {
        line: line_of(e.span().map_or(0, |s| s.start)),
        message: e.message().to_string(),
    })?;
    let Some(table) = file.get(name) else {
        return Ok(None);
    };
    // The table's own position, found in the text (toml's Table keeps no spans).
    let header = format!("[{name}]");
    let start = text
        .lines()
        .scan(0usize, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| line.trim() == header)
        .map_or(0, |(at, _)| at);
    let rendered = toml::to_string(table).unwrap_or_default();
    toml::from_str::<T>(&rendered).map(Some).map_err(|e| {
        let key = e
            .span()
            .map(|s| rendered[s.start..s.end.min(rendered.len())].to_string())
            .unwrap_or_default();
        let key = key.trim().trim_matches('"');
        let at = text[start..]
            .find(key)
            .filter(|_| !key.is_empty())
            .map_or(start, |i| start + i);
        SectionError {
            line: line_of(at),
            message: e.message().trim().to_string(),
        }
    })
}

/// A table of a configuration file that could not be used.
#[derive(Debug)]
pub enum SettingsError {
    /// The file could not be read.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The table has a syntax error, an unknown key, a wrong type or a value out of range.
    Invalid {
        path: String,
        line: usize,
        table: &'static str,
        message: String,
    },
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingsError::Io { path, .. } => write!(f, "{path}"),
            SettingsError::Invalid {
                path,
                line,
                table,
                message,
            } => write!(f, "{path}:{line}: [{table}]: {message}"),
        }
    }
}

impl std::error::Error for SettingsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SettingsError::Io { source, .. } => Some(source),
            SettingsError::Invalid { .. } => None,
        }
    }
}

/// Reads the file at `path` and hands its text to `parse` (with the path as shown).
pub fn load<T>(
    path: &std::path::Path,
    parse: impl FnOnce(&str, &str) -> Result<T, SettingsError>,
) -> Result<T, SettingsError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
        path: display.clone(),
        source,
    })?;
    parse(&display, &text)
}

/// The 1-based line of the first line of `text` containing `needle` (1 when none does).
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        #[serde(default)]
        n: u32,
    }

    #[test]
    fn reads_the_table_and_points_at_the_key_at_fault() {
        assert!(read::<T>("[rules]\n", "audit").unwrap().is_none());
        assert_eq!(
            read::<T>("[audit]\nn = 3\n", "audit").unwrap().unwrap().n,
            3
        );
        let e = read::<T>("[rules]\n\n[audit]\nnn = 3\n", "audit").unwrap_err();
        assert_eq!(e.line, 4, "{e:?}");
        let e = read::<T>("[audit]\nn = \"x\"\n", "audit").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
        let e = read::<T>("[audit\n", "audit").unwrap_err();
        assert_eq!(e.line, 1, "{e:?}");
    }
}
