//! Lines as a container runtime logs them (the CRI format: `<RFC 3339 time> <stdout|stderr>
//! <tags> <text>`). An API server that writes its audit log to its standard output
//! (`--audit-log-path=-`) leaves it so in `/var/log/pods`: the prefix is dropped, and the
//! parts of a line the runtime split (tag `P`, ended by a part tagged `F`; containerd splits
//! lines longer than 16 KiB) are joined back, so large events with bodies are not lost.

use std::borrow::Cow;

/// Parts of a line joined back, at most.
const MAX_JOINED: usize = super::input::MAX_LINE;

/// What one line of a runtime's log is.
#[derive(Debug, PartialEq)]
pub(crate) enum Cri<'t> {
    /// Not a runtime's line: read as it is.
    No,
    /// A whole line's text, and the number of the line it started on.
    Whole(Cow<'t, str>, u64),
    /// A part, kept until the part that ends it.
    Part,
}

/// The parts of the line being joined.
#[derive(Default)]
pub(crate) struct CriJoin {
    part: Option<Part>,
}

struct Part {
    text: String,
    /// The number of the line it started on.
    first: u64,
    /// Too long: the rest of the line is dropped up to its end.
    skipping: bool,
}

impl CriJoin {
    /// Reads line `number`; a part left without its end is told to `problem` with its line.
    pub(crate) fn feed<'t>(
        &mut self,
        line: &'t str,
        number: u64,
        problem: &mut dyn FnMut(&str, u64),
    ) -> Cri<'t> {
        let Some((text, ends)) = runtime_line(line) else {
            self.finish(problem);
            return Cri::No;
        };
        let Some(mut part) = self.part.take() else {
            if ends {
                return Cri::Whole(Cow::Borrowed(text), number);
            }
            self.part = Some(Part {
                text: text.to_string(),
                first: number,
                skipping: false,
            });
            return Cri::Part;
        };
        if !part.skipping && part.text.len() + text.len() > MAX_JOINED {
            let message = format!("line longer than {} MiB, skipped", MAX_JOINED >> 20);
            problem(&message, part.first);
            part = Part {
                text: String::new(),
                first: part.first,
                skipping: true,
            };
        }
        if !part.skipping {
            part.text.push_str(text);
        }
        match (ends, part.skipping) {
            (true, false) => Cri::Whole(Cow::Owned(part.text), part.first),
            (true, true) => Cri::Part,
            (false, _) => {
                self.part = Some(part);
                Cri::Part
            }
        }
    }

    /// The end of the stream (or a line of another kind): a part left without its end is a
    /// problem.
    pub(crate) fn finish(&mut self, problem: &mut dyn FnMut(&str, u64)) {
        if let Some(part) = self.part.take()
            && !part.skipping
        {
            problem(
                "a line the container runtime split, without its end",
                part.first,
            );
        }
    }
}

/// The text of a runtime's line and whether it ends the line (`F`) or goes on in the next
/// (`P`); `None` for any other line. Tags are separated by `:` (the format leaves room for
/// more).
fn runtime_line(line: &str) -> Option<(&str, bool)> {
    let bytes = line.as_bytes();
    if !(bytes.len() > 20 && bytes[0].is_ascii_digit() && bytes[4] == b'-' && bytes[10] == b'T') {
        return None;
    }
    let (time, rest) = line.split_once(' ')?;
    let zone = time.as_bytes().get(19..)?;
    if !(time.ends_with('Z') || zone.iter().any(|b| matches!(b, b'+' | b'-'))) {
        return None;
    }
    let (stream, rest) = rest.split_once(' ')?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    let (tags, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let mut partial = false;
    for tag in tags.split(':') {
        match tag {
            "P" => partial = true,
            "F" => {}
            _ => return None,
        }
    }
    Some((text, !partial))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts or problems, each with its line.
    type Numbered = Vec<(String, u64)>;

    fn feed_all(lines: &[&str]) -> (Numbered, Numbered) {
        let mut join = CriJoin::default();
        let (mut whole, mut problems) = (Vec::new(), Vec::new());
        for (i, line) in lines.iter().enumerate() {
            let mut problem = |m: &str, n: u64| problems.push((m.to_string(), n));
            match join.feed(line, i as u64 + 1, &mut problem) {
                Cri::Whole(text, first) => whole.push((text.into_owned(), first)),
                Cri::No => whole.push((format!("as is: {line}"), i as u64 + 1)),
                Cri::Part => {}
            }
        }
        join.finish(&mut |m: &str, n: u64| problems.push((m.to_string(), n)));
        (whole, problems)
    }

    #[test]
    fn prefixes_are_dropped_and_parts_joined() {
        let (whole, problems) = feed_all(&[
            r#"2026-12-01T10:00:00.123456789Z stdout F {"kind":"Event"}"#,
            r#"2026-12-01T10:00:01.000000000+01:00 stdout P {"kind":"#,
            r#"2026-12-01T10:00:01.000000000+01:00 stdout P "Ev"#,
            r#"2026-12-01T10:00:01.000000000+01:00 stdout F ent"}"#,
            r#"{"kind":"Event"}"#,
        ]);
        assert_eq!(
            whole,
            [
                (r#"{"kind":"Event"}"#.to_string(), 1),
                (r#"{"kind":"Event"}"#.to_string(), 2),
                (r#"as is: {"kind":"Event"}"#.to_string(), 5),
            ]
        );
        assert!(problems.is_empty());
    }

    #[test]
    fn a_part_without_its_end_is_a_problem_at_its_first_line() {
        let (whole, problems) = feed_all(&[
            r#"2026-12-01T10:00:00Z stderr P {"kind":"#,
            r#"{"kind":"Event"}"#,
            r#"2026-12-01T10:00:00Z stdout P {"ki"#,
        ]);
        assert_eq!(whole, [(r#"as is: {"kind":"Event"}"#.to_string(), 2)]);
        assert_eq!(problems.len(), 2);
        assert_eq!((problems[0].1, problems[1].1), (1, 3));
    }

    /// A joined line longer than the longest line read is one problem, and the rest of its
    /// parts are dropped up to its end; the next line is read.
    #[test]
    fn an_overlong_joined_line_is_skipped_to_its_end() {
        let chunk = "x".repeat(MAX_JOINED / 2 + 1);
        let part = format!("2026-12-01T10:00:00Z stdout P {chunk}");
        let end = format!("2026-12-01T10:00:00Z stdout F {chunk}");
        let next = r#"2026-12-01T10:00:01Z stdout F {"kind":"Event"}"#;
        let (whole, problems) = feed_all(&[&part, &part, &part, &end, next]);
        assert_eq!(whole, [(r#"{"kind":"Event"}"#.to_string(), 5)]);
        assert_eq!(
            problems.len(),
            1,
            "{:?}",
            problems.iter().map(|p| p.1).collect::<Vec<_>>()
        );
        assert_eq!(problems[0].1, 1);
    }

    #[test]
    fn other_lines_are_not_taken_for_a_runtimes() {
        for line in [
            r#"{"kind":"Event"}"#,
            "2026-12-01T10:00:00Z something F x",
            "2026-12-01T10:00:00Z stdout X text",
            "2026-12-01 10:00:00 stdout F text",
            "20261201T100000Z stdout F text",
            "2026-12-01T1 stdout F text and more",
            "2026-12-01T10:00:0\u{e9}\u{e9} stdout F text",
        ] {
            assert_eq!(runtime_line(line), None, "{line}");
        }
    }
}
