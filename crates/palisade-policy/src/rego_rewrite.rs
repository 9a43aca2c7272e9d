//! Rego that OPA reads one way and regorus 0.14 (or its virtual machine) another, written so
//! that both read it as OPA does. Each rewrite fires only where the readings differ, so a
//! module without these forms is compiled exactly as written. They are found on regorus' own
//! tokens (its lexer, from `regorus::unstable`). The tests show regorus reading each original
//! form otherwise: an update of regorus that changes that fails them, and the rewrite can go.
//!
//! - **A line that starts with `(`** after a line that ends in a reference: OPA ends the
//!   expression at the line's end, regorus reads a call of the reference (`input.x` then
//!   `(a - b) >= c` on the next line), which fails when evaluated. A `;` (the separator of
//!   expressions in both) is put after the reference.
//! - **A rule with several bodies** (`violation[x] { a } { b }`, v0's "or"): OPA reads it as
//!   the rule written once per body, regorus refuses it for set rules ("else cannot be used
//!   with set rules"). The head is written again before each further body.
//! - **A reference passed to a call under `not`** (`not f(x, params.ranges)`, `not
//!   is_null(spec.values)`): OPA's compiler evaluates every call's reference operands before
//!   the call, built-ins' too, so the body fails when one is undefined
//!   (open-policy-agent/opa#1877, #4743, #8387); regorus keeps it inside, where the `not`
//!   then holds. It is unified with a fresh variable first.
//! - **A reference used as an index under `not`** (`not inventory[hpa.metadata.namespace]`,
//!   alone or as a side of an equality), **and the operands of a comparison other than
//!   equality** (`not input.x > 1`, a call to OPA): evaluated before the negation in OPA too
//!   (open-policy-agent/opa#4743). Each is unified with a fresh variable first.
//! - **OPA's deprecated built-ins** (`re_match`, `net.cidr_overlap`, `any`, `all`,
//!   `set_diff`, `cast_array`, `cast_set`, `cast_string`, `cast_boolean`, `cast_null`,
//!   `cast_object`), which OPA evaluates in v0 modules and regorus does
//!   not know: renamed to their replacements, or written as the expressions they stand for.
//! - **A function written without body or value** (`accept("RunAsAny", _)`): true for
//!   those arguments in OPA and in regorus' interpreter, nothing in its virtual machine.
//!   ` { true }` is written after it.
//! - **An assignment of an undefined value** (`x := input.missing`): the body fails in OPA
//!   and in regorus' interpreter, regorus' virtual machine goes on. `; type_name(x)` is
//!   written after it, which fails there too.
//! - **`sprintf` with fewer arguments than verbs**: OPA formats with Go, which writes
//!   `%!v(MISSING)` for each verb without an argument; regorus fails. Where the format and
//!   the argument list are written out and the missing verbs are `%v` or `%s`, that text is
//!   passed as the missing arguments (the template's own bug, as in the library's
//!   `k8shorizontalpodautoscaler`, then gives Gatekeeper's message).

use regorus::unstable::{Lexer, Token, TokenKind};

/// The most tokens a module is read into for rewriting (a template is a few thousand).
const MAX_TOKENS: usize = 1_000_000;

/// The most tokens of a `sprintf` argument list that is completed (see
/// [`missing_sprintf_arguments`]).
const MAX_LIST_TOKENS: usize = 256;

/// The most tokens of one literal given an assignment guard (see [`assignment_guards`]).
const MAX_LITERAL_TOKENS: usize = 10_000;

/// Words after which a `(` on the next line starts an expression in regorus too.
const KEYWORDS: &[&str] = &[
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true", "with",
];

/// A module read into tokens, with the brackets open before each token (read once for every
/// rewrite).
struct Module<'a> {
    source: &'a str,
    tokens: Vec<Tok>,
    open: Vec<(usize, Option<char>)>,
}

impl<'a> Module<'a> {
    /// The text of token `i`; empty past the end.
    fn word(&self, i: usize) -> &'a str {
        self.tokens.get(i).map_or("", |t| text(self.source, t))
    }

    /// Whether token `i` is the first of its line.
    fn first_on_line(&self, i: usize) -> bool {
        i == 0 || self.tokens[i - 1].line < self.tokens[i].line
    }

    /// Whether token `i` starts a top-level line with a name: a rule, an import, a package.
    fn starts_top_level_line(&self, i: usize) -> bool {
        self.open[i].0 == 0 && self.first_on_line(i) && self.tokens[i].kind == TokenKind::Ident
    }

    /// Whether token `i` is a `not` in a body or a comprehension (where OPA's compiler
    /// evaluates the negated expression's references first).
    fn negation_in_body(&self, i: usize) -> bool {
        self.word(i) == "not"
            && self.tokens[i].kind == TokenKind::Ident
            && matches!(self.open[i].1, Some('{' | '['))
    }

    /// Whether token `i` is the name of a function defined here (`name(` opening a top-level
    /// line).
    fn defines_function(&self, i: usize) -> bool {
        self.starts_top_level_line(i)
            && !KEYWORDS.contains(&self.word(i))
            && self.word(i + 1) == "("
    }
}

/// One token of the module: what it is and where.
struct Tok {
    kind: TokenKind,
    start: usize,
    end: usize,
    line: u32,
}

/// A module as regorus is to be given it, from one reading of its tokens: the deepest its
/// brackets nest ([`bracket_depth`]) and its text rewritten ([`rewritten`]).
pub(crate) fn read(source: &str) -> Read {
    match tokens(source) {
        Some(tokens) => Read {
            depth: bracket_depth(source, Some(&tokens)),
            crashing_format: crashing_format(source, &tokens),
            rewritten: rewrite(source, tokens),
        },
        None => Read {
            depth: bracket_depth(source, None),
            crashing_format: None,
            rewritten: None,
        },
    }
}

/// What [`read`] finds of a module.
pub(crate) struct Read {
    /// How deep its brackets nest ([`bracket_depth`]).
    pub depth: usize,
    /// A `sprintf` format written out that regorus cannot format without crashing
    /// ([`crashing_format`]), and why.
    pub crashing_format: Option<String>,
    /// The module rewritten, when something needs it.
    pub rewritten: Option<String>,
}

/// The widest width or precision regorus' `sprintf` formats: past it, Rust's formatting
/// panics (or regorus' own padding asks for gigabytes: its number wraps past `u32::MAX`).
const MAX_FORMAT_WIDTH: u128 = u16::MAX as u128;

/// Why a `sprintf` whose format is written out would crash regorus, for the first such
/// call: regorus reads a width or precision as the characters after `%` that Unicode calls
/// numeric, and panics on one that is not an ASCII digit (`%٣d`); a width or precision past
/// [`MAX_FORMAT_WIDTH`] panics or exhausts memory. OPA (Go) formats both. Formats computed
/// at evaluation are not seen.
fn crashing_format(source: &str, tokens: &[Tok]) -> Option<String> {
    let word = |i: usize| tokens.get(i).map_or("", |t| text(source, t));
    (0..tokens.len()).find_map(|i| {
        let format = tokens.get(i + 2)?;
        if word(i) != "sprintf"
            || word(i + 1) != "("
            || !matches!(format.kind, TokenKind::String | TokenKind::RawString)
        {
            return None;
        }
        let mut chars = text(source, format).chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            match chars.next() {
                Some(first) if first == '.' || first.is_numeric() => {
                    let mut written = String::from(first);
                    while let Some(digit) = chars.next_if(|c| c.is_numeric()) {
                        written.push(digit);
                    }
                    let number = written.trim_start_matches('.');
                    if let Some(odd) = number.chars().find(|c| !c.is_ascii_digit()) {
                        return Some(format!(
                            "sprintf format `%{written}`: `{odd}` is not an ASCII digit, which regorus cannot read"
                        ));
                    }
                    let value = number.bytes().fold(0u128, |n, d| {
                        n.saturating_mul(10).saturating_add(u128::from(d - b'0'))
                    });
                    if value > MAX_FORMAT_WIDTH {
                        return Some(format!(
                            "sprintf format `%{written}`: a width or precision of {value} is more than regorus formats ({MAX_FORMAT_WIDTH})"
                        ));
                    }
                }
                _ => {}
            }
        }
        None
    })
}

/// `source` rewritten as the module comment says; `None` when nothing needs it (or the
/// module does not lex: regorus' own error is then the one to report).
#[cfg(test)]
pub(crate) fn rewritten(source: &str) -> Option<String> {
    rewrite(source, tokens(source)?)
}

fn rewrite(source: &str, tokens: Vec<Tok>) -> Option<String> {
    let open = open_before(source, &tokens);
    let module = Module {
        source,
        tokens,
        open,
    };
    let inserted = |(at, text): (usize, String)| (at, at, text);
    let mut edits: Vec<(usize, usize, String)> = parens_on_new_lines(&module)
        .into_iter()
        .chain(further_bodies(&module))
        .chain(missing_sprintf_arguments(&module))
        .chain(bodiless_functions(&module))
        .chain(assignment_guards(&module))
        .map(inserted)
        .collect();
    edits.extend(negated_call_arguments(&module));
    edits.extend(deprecated_builtins(&module));
    edits.extend(negated_reference_indexes(&module));
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(start, end, _)| (*start, *end));
    let mut out = String::with_capacity(source.len() + 64 * edits.len());
    let mut from = 0;
    for (start, end, text) in edits {
        // Edits never overlap; one that would is left out rather than garble the module.
        if start < from {
            continue;
        }
        out.push_str(source.get(from..start)?);
        out.push_str(&text);
        from = end;
    }
    out.push_str(source.get(from..)?);
    Some(out)
}

fn tokens(source: &str) -> Option<Vec<Tok>> {
    let source_ = regorus::Source::from_contents("policy.rego".into(), source.to_string()).ok()?;
    let mut lexer = Lexer::new(&source_);
    let mut out = Vec::new();
    loop {
        let Token(kind, span) = lexer.next_token().ok()?;
        if kind == TokenKind::Eof || out.len() >= MAX_TOKENS {
            break;
        }
        out.push(Tok {
            kind,
            start: span.start as usize,
            end: span.end as usize,
            line: span.line,
        });
    }
    Some(out)
}

/// Where `token` starts in the source: at the opening quote of a string (regorus' span of a
/// string is its contents).
fn start_of(source: &str, token: &Tok) -> usize {
    let opening = match token.kind {
        TokenKind::String => b'"',
        TokenKind::RawString => b'`',
        _ => return token.start,
    };
    match token
        .start
        .checked_sub(1)
        .and_then(|at| source.as_bytes().get(at))
    {
        Some(&b) if b == opening => token.start - 1,
        _ => token.start,
    }
}

/// Where `token` ends in the source: after the closing quote of a string (regorus' span of a
/// string is its contents).
fn end_of(source: &str, token: &Tok) -> usize {
    let closing = match token.kind {
        TokenKind::String => b'"',
        TokenKind::RawString => b'`',
        _ => return token.end,
    };
    match source.as_bytes().get(token.end) {
        Some(&b) if b == closing => token.end + 1,
        _ => token.end,
    }
}

/// The most `[` and `{` open at once in `source` (of `tokens`, its tokens). regorus'
/// parser tries each such bracket two ways, so its time grows as 2 to this depth: 22 nested
/// braces took it over a minute, where OPA reads them at once. The Gatekeeper library nests
/// 4 deep at most. A module that does not lex is counted by its characters (strings and
/// comments included): regorus parses up to the token it cannot read, so the depth before
/// it counts too.
fn bracket_depth(source: &str, tokens: Option<&[Tok]>) -> usize {
    let symbols: Vec<&str> = match tokens {
        Some(tokens) => tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Symbol)
            .map(|t| text(source, t))
            .collect(),
        None => source
            .char_indices()
            .filter(|(_, c)| matches!(c, '[' | ']' | '{' | '}'))
            .filter_map(|(i, _)| source.get(i..=i))
            .collect(),
    };
    let mut depth: usize = 0;
    let mut deepest = 0;
    for symbol in symbols {
        match symbol {
            "[" | "{" => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn text<'a>(source: &'a str, token: &Tok) -> &'a str {
    source.get(token.start..token.end).unwrap_or("")
}

/// How many brackets (`(`, `[`, `{`) are open before each token, and the innermost.
fn open_before(source: &str, tokens: &[Tok]) -> Vec<(usize, Option<char>)> {
    let mut open: Vec<char> = Vec::new();
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        out.push((open.len(), open.last().copied()));
        if token.kind != TokenKind::Symbol {
            continue;
        }
        match text(source, token) {
            "(" => open.push('('),
            "[" => open.push('['),
            "{" => open.push('{'),
            ")" | "]" | "}" => {
                open.pop();
            }
            _ => {}
        }
    }
    out
}

/// `;` after a reference that ends a line when the next line starts with `(`, outside
/// parentheses and brackets (where an expression cannot end at a line's end anyway).
fn parens_on_new_lines(module: &Module<'_>) -> Vec<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let open = &module.open;
    let mut out = Vec::new();
    for (i, pair) in tokens.windows(2).enumerate() {
        let [before, paren] = pair else { continue };
        if text(source, paren) != "(" || paren.line <= before.line {
            continue;
        }
        let ends_reference = match before.kind {
            TokenKind::Ident => !KEYWORDS.contains(&text(source, before)),
            TokenKind::Symbol => text(source, before) == "]",
            _ => false,
        };
        let inside_expression = open[i + 1].1.is_some_and(|b| b != '{');
        if ends_reference && !inside_expression {
            out.push((before.end, ";".to_string()));
        }
    }
    out
}

/// The head of a rule written again before each of its bodies after the first (`} {` at the
/// top level). A head with `:=` is left alone: OPA does not allow it twice.
fn further_bodies(module: &Module<'_>) -> Vec<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let open = &module.open;
    let mut out = Vec::new();
    // Where the construct being read starts (a top-level token first on its line), the head
    // of the rule whose bodies are being read, whether the top-level `{` open now is a body
    // (not a value such as `f(x) = {"a": x} { ... }`), and whether the last one closed was.
    let mut construct = 0;
    let mut head: Option<&str> = None;
    let mut in_body = false;
    let mut closed_body = false;
    for (i, token) in tokens.iter().enumerate() {
        let word = text(source, token);
        let symbol = token.kind == TokenKind::Symbol;
        if symbol && word == "}" && open[i].0 == 1 {
            closed_body = in_body;
            continue;
        }
        if open[i].0 != 0 {
            continue;
        }
        let previous = i.checked_sub(1).map(|p| text(source, &tokens[p]));
        let after_body = closed_body && previous == Some("}");
        if module.first_on_line(i) && !(after_body && matches!(word, "{" | "else")) {
            construct = token.start;
            head = None;
        }
        if !symbol || word != "{" {
            continue;
        }
        in_body = !matches!(previous, Some("=" | ":=" | "contains"));
        if !in_body {
            continue;
        }
        if !after_body {
            head = source.get(construct..token.start).map(str::trim_end);
        } else if let Some(head) = head.filter(|h| !h.contains(":=") && !h.is_empty()) {
            out.push((token.start, format!("\n{head} ")));
        }
    }
    out
}

/// Symbols after which an expression goes on to the next line.
const CONTINUES: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "==", "!=", "<", ">", "<=", ">=", "=", ":=", ",", ".",
];

/// `; type_name(x)` after each `x := ...` of a body or comprehension: in OPA (and regorus'
/// interpreter) the body fails when the value is undefined; regorus' virtual machine goes on,
/// so that `x := input.missing` followed by `not f(x)`, or by nothing that reads `x`, holds.
/// `type_name(x)` is a string for every value, `false` too, and undefined for an undefined one
/// there as well. (`_ = x` would do in OPA; regorus reads it as binding `x` again.)
fn assignment_guards(module: &Module<'_>) -> Vec<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let open = &module.open;
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.kind != TokenKind::Ident || module.word(i + 1) != ":=" {
            continue;
        }
        if !matches!(open[i].1, Some('{' | '[')) || KEYWORDS.contains(&module.word(i)) {
            continue;
        }
        let starts_literal =
            module.first_on_line(i) || matches!(module.word(i - 1), ";" | "{" | "|");
        if !starts_literal {
            continue;
        }
        if let Some(end) = literal_end(source, tokens, i + 2) {
            out.push((
                end_of(source, &tokens[end - 1]),
                format!("; type_name({})", module.word(i)),
            ));
        }
    }
    out
}

/// The index of the first token after the literal whose expression goes on at `from`: a new
/// line (unless the line ends in an operator), a `;`, or the bracket that closes around it.
/// `None` past `MAX_LITERAL_TOKENS`.
fn literal_end(source: &str, tokens: &[Tok], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for k in from..tokens.len().min(from + MAX_LITERAL_TOKENS) {
        let token = &tokens[k];
        let word = text(source, token);
        let symbol = token.kind == TokenKind::Symbol;
        if depth == 0 && k > from {
            let previous = &tokens[k - 1];
            let continues =
                previous.kind == TokenKind::Symbol && CONTINUES.contains(&text(source, previous));
            if (previous.line < token.line && !continues) || (symbol && word == ";") {
                return Some(k);
            }
        }
        if !symbol {
            continue;
        }
        match word {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return (k > from).then_some(k),
            },
            _ => {}
        }
    }
    (tokens.len() < from + MAX_LITERAL_TOKENS && tokens.len() > from).then_some(tokens.len())
}

/// ` { true }` after a function written without body or value (`accept("RunAsAny", _)`),
/// which OPA reads as true for those arguments: regorus' interpreter does too, its virtual
/// machine finds nothing.
fn bodiless_functions(module: &Module<'_>) -> Vec<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut out = Vec::new();
    for i in (0..tokens.len()).filter(|&i| module.defines_function(i)) {
        let Some(close) = closing(source, tokens, i + 1, MAX_LIST_TOKENS) else {
            continue;
        };
        let ends = tokens.get(close + 1).is_none_or(|next| {
            next.line > tokens[close].line
                && !matches!(text(source, next), "{" | "=" | ":=" | "if" | "else" | ".")
        });
        if ends {
            out.push((tokens[close].end, " { true }".to_string()));
        }
    }
    out
}

/// The functions a module defines (a top-level rule whose name is followed by `(`) and those
/// it imports (`import data.lib.x.f`, or its `as` name).
fn functions<'a>(module: &Module<'a>) -> Vec<&'a str> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if module.defines_function(i) {
            out.push(module.word(i));
        } else if module.starts_top_level_line(i) && module.word(i) == "import" {
            // The last name of the path, or the name after `as`, on the import's line.
            let line: Vec<&Tok> = tokens[i + 1..]
                .iter()
                .take_while(|t| t.line == token.line)
                .collect();
            let name = match line.iter().position(|t| text(source, t) == "as") {
                Some(a) => line.get(a + 1),
                None => line.last(),
            };
            out.extend(name.map(|t| text(source, t)));
        }
    }
    out
}

/// The end of the bracket opened at `open` (the index of its closing token), when it closes
/// within `limit` tokens.
fn closing(source: &str, tokens: &[Tok], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(open).take(limit) {
        if token.kind != TokenKind::Symbol {
            continue;
        }
        match text(source, token) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the tokens `range` are one reference with at least one step: a name, then
/// `.name` or `[...]`, one after another.
fn is_reference(source: &str, tokens: &[Tok], range: std::ops::Range<usize>) -> bool {
    let Some(first) = tokens.get(range.start) else {
        return false;
    };
    let word = text(source, first);
    if first.kind != TokenKind::Ident || KEYWORDS.contains(&word) || range.len() < 2 {
        return false;
    }
    let mut i = range.start + 1;
    while i < range.end {
        match text(source, &tokens[i]) {
            "." if tokens
                .get(i + 1)
                .is_some_and(|t| t.kind == TokenKind::Ident) =>
            {
                i += 2
            }
            "[" => match closing(source, tokens, i, range.end - i) {
                Some(close) => i = close + 1,
                None => return false,
            },
            _ => return false,
        }
    }
    i == range.end
}

/// A reference passed to a call under `not` (`not f(x, params.ranges)`, `not
/// is_null(spec.valuesFiles)`) is evaluated before the negation, as OPA's compiler rewrites
/// every call's reference operands (`rewriteDynamicTerms`: `__local1__ = params.ranges; not
/// f(x, __local1__)`): when the reference is undefined, the expression fails rather than
/// holding. OPA documents this (open-policy-agent/opa#1877, #4743, #8387) and Gatekeeper's
/// verdicts follow it; regorus keeps the reference inside the negation. It holds for the
/// module's functions, imported ones and built-ins alike. Only a `not` in a body or
/// comprehension, whose call ends the expression, is rewritten.
fn negated_call_arguments(module: &Module<'_>) -> Vec<(usize, usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut out = Vec::new();
    let mut hoisted = 0;
    for i in (0..tokens.len()).filter(|&i| module.negation_in_body(i)) {
        let Some(paren) = called_name_end(module, i + 1) else {
            continue;
        };
        let Some(close) = closing(source, tokens, paren, MAX_LIST_TOKENS) else {
            continue;
        };
        if !expression_ends(module, close + 1) {
            continue;
        }
        let arguments = call_arguments(module, paren, close);
        hoist(module, i, arguments, "negated", &mut hoisted, &mut out);
    }
    out
}

/// Whether the expression ends before token `at`: at a line's end, or at `;`, `}` or `]`.
fn expression_ends(module: &Module<'_>, at: usize) -> bool {
    let tokens = &module.tokens;
    tokens.get(at).is_none_or(|next| {
        next.line > tokens[at - 1].line || matches!(module.word(at), ";" | "}" | "]")
    })
}

/// Unifies each of `ranges` that is a reference with a fresh variable (`__palisade_{what}_N`)
/// put before the `not` at token `not`, and puts the variable in the reference's place.
/// Unification, as OPA writes it: regorus' virtual machine lets `:=` of an undefined value
/// through.
fn hoist(
    module: &Module<'_>,
    not: usize,
    ranges: Vec<std::ops::Range<usize>>,
    what: &str,
    hoisted: &mut usize,
    out: &mut Vec<(usize, usize, String)>,
) {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut before = String::new();
    for range in ranges {
        if !is_reference(source, tokens, range.clone()) {
            continue;
        }
        let from = start_of(source, &tokens[range.start]);
        let to = end_of(source, &tokens[range.end - 1]);
        let name = format!("__palisade_{what}_{hoisted}");
        *hoisted += 1;
        before.push_str(&format!(
            "{name} = {}; ",
            source.get(from..to).unwrap_or("")
        ));
        out.push((from, to, name));
    }
    if !before.is_empty() {
        let at = tokens[not].start;
        out.push((at, at, before));
    }
}

/// A reference used as an index under `not` (`not data.inventory.namespace[hpa.metadata.namespace][...]`,
/// in the library's `horizontalpodautoscaler`; `not allowed[c.image] == true`): OPA's
/// compiler evaluates it before the negation (`rewriteDynamicTerms`, for a reference alone
/// and for each side of an equality; open-policy-agent/opa#4743), so the body fails when it
/// is undefined; regorus keeps it inside, where the `not` then holds (an HPA whose
/// `scaleTargetRef` leaves out the optional `apiVersion` was told its target does not
/// exist). Each such index is unified with a fresh variable before the `not`. A comparison
/// other than equality (`not input.x > 1`, `!=`, `<`, `<=`, `>=`) is a call to OPA, so its
/// reference operands are unified whole, as a call's are. Only a `not` in a body or
/// comprehension, whose reference (or comparison of a reference and a reference or literal)
/// ends the expression.
fn negated_reference_indexes(module: &Module<'_>) -> Vec<(usize, usize, String)> {
    let tokens = &module.tokens[..];
    let mut out = Vec::new();
    let mut hoisted = 0;
    for i in (0..tokens.len()).filter(|&i| module.negation_in_body(i)) {
        let Some((mut end, mut indexes)) = reference_steps(module, i + 1) else {
            continue;
        };
        // `==` is unification to OPA (its `RewriteEquals` stage): only the indexes of its
        // sides are evaluated first. The other comparisons are calls, whose reference
        // operands are evaluated first whole.
        let operator = module.word(end);
        let comparison = matches!(operator, "!=" | "<" | "<=" | ">" | ">=");
        let mut operands = Vec::with_capacity(2);
        operands.push(i + 1..end);
        if (comparison || matches!(operator, "==" | "="))
            && tokens[end].line == tokens[end - 1].line
        {
            match reference_steps(module, end + 1) {
                Some((right_end, right)) => {
                    indexes.extend(right);
                    operands.push(end + 1..right_end);
                    end = right_end;
                }
                // A literal on the right: a single token.
                None if tokens
                    .get(end + 1)
                    .is_some_and(|t| t.kind != TokenKind::Symbol) =>
                {
                    end += 2;
                }
                None => continue,
            }
        }
        if !expression_ends(module, end) {
            continue;
        }
        if comparison {
            hoist(module, i, operands, "operand", &mut hoisted, &mut out);
        } else {
            hoist(module, i, indexes, "index", &mut hoisted, &mut out);
        }
    }
    out
}

/// The reference starting at token `at` (a name, then `.name` and `[...]` steps, and not a
/// call): the index of the token after it, and the tokens inside each of its brackets.
fn reference_steps(module: &Module<'_>, at: usize) -> Option<(usize, Vec<std::ops::Range<usize>>)> {
    let tokens = &module.tokens;
    if tokens.get(at)?.kind != TokenKind::Ident || KEYWORDS.contains(&module.word(at)) {
        return None;
    }
    let mut j = at + 1;
    let mut indexes = Vec::new();
    loop {
        match module.word(j) {
            "." if tokens
                .get(j + 1)
                .is_some_and(|t| t.kind == TokenKind::Ident) =>
            {
                j += 2
            }
            "[" if tokens[j].line == tokens[j - 1].line => {
                let close = closing(module.source, tokens, j, MAX_LIST_TOKENS)?;
                indexes.push(j + 1..close);
                j = close + 1;
            }
            "(" => return None,
            _ => return Some((j, indexes)),
        }
    }
}

/// OPA's deprecated built-ins, which OPA still evaluates in v0 modules (Gatekeeper's `rego`
/// field) and regorus does not know: a template calling one works in Gatekeeper and could
/// not be evaluated here. `re_match` and `net.cidr_overlap` are renamed to the built-ins that
/// replaced them; `any`, `all`, `set_diff` and the `cast_` functions are written as the
/// expressions they stand for. A module that defines a function of the name keeps its own.
fn deprecated_builtins(module: &Module<'_>) -> Vec<(usize, usize, String)> {
    let defined = functions(module);
    let mut made = 0;
    let mut out = Vec::new();
    let mut i = 0;
    while i < module.tokens.len() {
        match deprecated_call(module, i, &defined, &mut made) {
            Some((close, text)) => {
                out.push((module.tokens[i].start, module.tokens[close].end, text));
                i = close + 1;
            }
            None => i += 1,
        }
    }
    out
}

/// The call of a deprecated built-in at token `i`: the index of its `)` and the text that
/// replaces it (its arguments rewritten too).
fn deprecated_call(
    module: &Module<'_>,
    i: usize,
    defined: &[&str],
    made: &mut usize,
) -> Option<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    if tokens[i].kind != TokenKind::Ident || (i > 0 && module.word(i - 1) == ".") {
        return None;
    }
    let paren = called_name_end(module, i)?;
    let name = source.get(tokens[i].start..tokens[paren - 1].end)?;
    if defined.contains(&name)
        || !matches!(
            name,
            "re_match"
                | "net.cidr_overlap"
                | "any"
                | "all"
                | "set_diff"
                | "cast_array"
                | "cast_set"
                | "cast_string"
                | "cast_boolean"
                | "cast_null"
                | "cast_object"
        )
    {
        return None;
    }
    let close = closing(source, tokens, paren, MAX_LIST_TOKENS)?;
    let arguments: Vec<String> = call_arguments(module, paren, close)
        .into_iter()
        .map(|range| rendered(module, range, defined, made))
        .collect();
    // `c` holds the collection (a parenthesised expression cannot be indexed in Rego), `v`
    // each of its values.
    let (c, v) = (
        format!("__palisade_{name}_{made}"),
        format!("__palisade_{name}_{made}_v"),
    );
    let each = |x: &str| format!("{c} := ({x}); {v} := {c}[_]");
    let expression = match (name, &arguments[..]) {
        ("re_match", _) => format!("regex.match({})", arguments.join(", ")),
        ("net.cidr_overlap", _) => format!("net.cidr_contains({})", arguments.join(", ")),
        ("any", [x]) => format!("(count([{v} | {}; {v} == true]) > 0)", each(x)),
        ("all", [x]) => format!("(count([{v} | {}; {v} != true]) == 0)", each(x)),
        ("set_diff", [a, b]) => format!("(({a}) - ({b}))"),
        ("cast_array", [x]) => format!("[{v} | {}]", each(x)),
        ("cast_set", [x]) => format!("{{{v} | {}}}", each(x)),
        // The value when it has the type, else undefined (OPA's error, outside strict mode):
        // looked up under `true` in a one-key object.
        ("cast_string" | "cast_boolean" | "cast_null" | "cast_object", [x]) => {
            let check = name.replace("cast_", "is_");
            format!("{{true: ({x})}}[{check}(({x}))]")
        }
        _ => return None,
    };
    *made += 1;
    Some((close, expression))
}

/// The source of tokens `range`, with the deprecated built-ins called in it rewritten.
fn rendered(
    module: &Module<'_>,
    range: std::ops::Range<usize>,
    defined: &[&str],
    made: &mut usize,
) -> String {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut out = String::new();
    let mut at = start_of(source, &tokens[range.start]);
    let mut k = range.start;
    while k < range.end {
        match deprecated_call(module, k, defined, made) {
            Some((close, text)) if close < range.end => {
                out.push_str(source.get(at..start_of(source, &tokens[k])).unwrap_or(""));
                out.push_str(&text);
                at = tokens[close].end;
                k = close + 1;
            }
            _ => k += 1,
        }
    }
    out.push_str(
        source
            .get(at..end_of(source, &tokens[range.end - 1]))
            .unwrap_or(""),
    );
    out.trim().to_string()
}

/// The tokens of each argument of the call whose `(` is token `paren` and `)` token `close`
/// (split at the commas of the call's own level).
fn call_arguments(module: &Module<'_>, paren: usize, close: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = paren + 1;
    for j in paren + 1..=close {
        let at_call_level = module.open[j].0 == module.open[paren].0 + 1;
        if j == close
            || (at_call_level
                && module.word(j) == ","
                && module.tokens[j].kind == TokenKind::Symbol)
        {
            if start < j {
                out.push(start..j);
            }
            start = j + 1;
        }
    }
    out
}

/// The index of the `(` that opens a call whose name starts at token `at` (`f`, `regex.match`,
/// `data.lib.f`), when the tokens there are a name and a `(` on the same line; `None`
/// otherwise (a reference, a keyword, a parenthesis on the next line: a new expression).
fn called_name_end(module: &Module<'_>, at: usize) -> Option<usize> {
    let tokens = &module.tokens;
    let first = tokens.get(at)?;
    if first.kind != TokenKind::Ident || KEYWORDS.contains(&module.word(at)) {
        return None;
    }
    let mut j = at + 1;
    while module.word(j) == "."
        && tokens
            .get(j + 1)
            .is_some_and(|t| t.kind == TokenKind::Ident)
    {
        j += 2;
    }
    (module.word(j) == "(" && tokens[j].line == tokens[j - 1].line).then_some(j)
}

/// Go's text for verbs without an argument, passed as the arguments a written-out
/// `sprintf("...", [...])` lacks, when every missing verb is `%v` or `%s`.
fn missing_sprintf_arguments(module: &Module<'_>) -> Vec<(usize, String)> {
    let (source, tokens) = (module.source, &module.tokens[..]);
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let format = match tokens.get(i + 2) {
            Some(t) if matches!(t.kind, TokenKind::String | TokenKind::RawString) => t,
            _ => continue,
        };
        if module.word(i) != "sprintf"
            || module.word(i + 1) != "("
            || module.word(i + 3) != ","
            || module.word(i + 4) != "["
        {
            continue;
        }
        // The list's closing bracket, and how many elements it holds (a list written out is
        // short: one longer than `MAX_LIST_TOKENS` is left alone, which bounds the work).
        let Some(close) =
            closing(source, tokens, i + 4, MAX_LIST_TOKENS).filter(|&c| module.word(c + 1) == ")")
        else {
            continue;
        };
        let in_list = module.open[i + 4].0 + 1;
        let commas = (i + 5..close)
            .filter(|&j| module.word(j) == "," && module.open[j].0 == in_list)
            .count();
        let given = if close == i + 5 { 0 } else { commas + 1 };
        let verbs = verbs(text(source, format));
        let Some(missing) = verbs.get(given..).filter(|m| !m.is_empty()) else {
            continue;
        };
        if missing.iter().any(|v| !matches!(v, 'v' | 's')) {
            continue;
        }
        let mut text = String::new();
        for (k, verb) in missing.iter().enumerate() {
            if given > 0 || k > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("\"%!{verb}(MISSING)\""));
        }
        out.push((tokens[close].start, text));
    }
    out
}

/// The verbs of a Go format string, in order (`%%` is none): flags, width and precision are
/// passed over.
fn verbs(format: &str) -> Vec<char> {
    let mut out = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.next_if_eq(&'%').is_some() {
            continue;
        }
        while chars
            .next_if(|c| matches!(c, '+' | '-' | '#' | ' ' | '0'..='9' | '.'))
            .is_some()
        {}
        out.extend(chars.next());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one evaluator answers: the violations, or that it failed.
    type Answer = Result<serde_json::Value, ()>;

    /// `data.t.violation` of `module` with `input`, from regorus' interpreter and from its
    /// virtual machine (with builtin errors as errors, as `crate::rego` runs it); an error, or
    /// a module the machine cannot compile, is `Err(())`.
    fn both(module: &str, input: serde_json::Value) -> (Answer, Answer) {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.set_strict_builtin_errors(false);
        engine
            .add_policy("t.rego".into(), module.to_string())
            .unwrap_or_else(|e| panic!("{e}\n{module}"));
        engine.set_input(regorus::Value::from(input.clone()));
        let value = engine.eval_rule("data.t.violation".to_string());
        let query = "data.t.violation";
        let machine = || -> Result<regorus::Value, ()> {
            let policy = engine
                .clone()
                .compile_with_entrypoint(&query.into())
                .map_err(drop)?;
            let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
                &policy,
                &[query],
            )
            .map_err(drop)?;
            let mut vm = regorus::rvm::RegoVM::new_with_policy(policy);
            vm.load_program(program);
            vm.set_strict_builtin_errors(false);
            vm.set_input(regorus::Value::from(input));
            vm.execute_entry_point_by_index(0).map_err(drop)
        };
        let json = |v: regorus::Value| serde_json::to_value(&v).unwrap();
        (value.map(json).map_err(drop), machine().map(json))
    }

    /// [`both`], which must agree and not fail.
    fn violations(module: &str, input: serde_json::Value) -> serde_json::Value {
        let (interpreted, machine) = both(module, input);
        assert_eq!(machine, interpreted, "{module}");
        interpreted.unwrap()
    }

    const SPREAD: &str = "package t\n\nviolation[{\"msg\": \"narrow\"}] {\n  not wide(input)\n}\n\nwide(x) {\n  input.min\n  (x.max - x.low) >= input.min\n}\n";

    #[test]
    fn a_paren_on_its_own_line_starts_an_expression() {
        // As written, regorus calls `input.min` and fails.
        assert_eq!(both(SPREAD, serde_json::json!({"min": 3})).0, Err(()));
        let module = rewritten(SPREAD).unwrap();
        assert!(module.contains("input.min;\n  (x.max"), "{module}");
        let wide = serde_json::json!({"min": 3, "max": 10, "low": 2});
        let narrow = serde_json::json!({"min": 3, "max": 4, "low": 2});
        assert_eq!(violations(&module, wide), serde_json::json!([]));
        assert_eq!(
            violations(&module, narrow),
            serde_json::json!([{"msg": "narrow"}])
        );
    }

    #[test]
    fn calls_and_continued_expressions_are_left_alone() {
        // A call on one line, arguments over several, a `(` after an operator or a keyword.
        left_alone(&[
            "package t\nviolation[m] { m = concat(\"\", [\"a\"]) }\n",
            "package t\nviolation[m] {\n  m = concat(\"\",\n    (input.x))\n}\n",
            "package t\nviolation[m] {\n  m = 1 +\n    (2)\n}\n",
            "package t\nviolation[m] {\n  not\n  (input.x)\n  m = 1\n}\n",
        ]);
    }

    const BODIES: &str = "package t\n\nviolation[{\"msg\": msg}] {\n  input.a\n  msg := \"a\"\n} {\n  input.b\n  msg := \"b\"\n}\n\nkind(o) = k {\n  o.x\n  k := \"x\"\n}\n{\n  o.y\n  k := \"y\"\n}\n";

    #[test]
    fn several_bodies_are_the_rule_written_once_per_body() {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        assert!(engine.add_policy("t.rego".into(), BODIES.into()).is_err());
        let module = rewritten(BODIES).unwrap();
        assert!(
            module.contains("} \nviolation[{\"msg\": msg}] {\n  input.b"),
            "{module}"
        );
        assert!(module.contains("}\n\nkind(o) = k {\n  o.y"), "{module}");
        let both = serde_json::json!({"a": true, "b": true});
        assert_eq!(
            violations(&module, both),
            serde_json::json!([{"msg": "a"}, {"msg": "b"}])
        );
        let one = serde_json::json!({"b": true});
        assert_eq!(violations(&module, one), serde_json::json!([{"msg": "b"}]));
    }

    #[test]
    fn else_chains_and_single_bodies_are_left_alone() {
        left_alone(&[
            "package t\nf(x) = 1 { x > 1 } else = 2 { true }\nviolation[m] { m = f(input.x) }\n",
            "package t\nviolation[m] {\n  m = {\"a\": 1}\n}\n",
            "package t\np := 1 { input.a } { input.b }\n",
            "package t\nf(x) = {\"a\": x} {\n  x > 1\n}\nviolation[m] { m = f(input.x) }\n",
        ]);
    }

    /// A `sprintf` format regorus would crash on is found when the module is read: a width
    /// or precision past what it formats, or a numeral that is not an ASCII digit. Evaluated
    /// as written, each panicked (or asked for gigabytes) in the process.
    #[test]
    fn formats_that_crash_regorus_are_found_when_read() {
        let found = |format: &str| {
            read(&format!("package t\np := sprintf(\"{format}\", [1])\n")).crashing_format
        };
        for fine in [
            "%v",
            "%d %s",
            "%05d",
            "%.2f",
            "%65535d",
            "100%% sure",
            "%-5d",
        ] {
            assert_eq!(found(fine), None, "{fine}");
        }
        for crashing in [
            "%65536d",
            "%.70000f",
            "%0999999999d",
            "%99999999999999999999999d",
            "%\u{0663}d",
        ] {
            assert!(found(crashing).is_some(), "{crashing}");
        }
        assert!(found("%٣d").unwrap().contains("not an ASCII digit"));
        // A format computed at evaluation is not read (`rego::builtins` shows a panic of
        // regorus on one contained).
        assert_eq!(
            read("package t\np := sprintf(input.f, [1])\n").crashing_format,
            None
        );
    }

    #[test]
    fn missing_sprintf_arguments_are_written_as_go_writes_them() {
        let module = "package t\nviolation[{\"msg\": m}] {\n  m := sprintf(\"%v <%v> 100%% of %v: %v\", [input.a, [1, 2]])\n}\n";
        // regorus refuses the call, so without the rewrite the violation is lost.
        assert_eq!(
            both(module, serde_json::json!({"a": "x"})).0,
            Ok(serde_json::json!([]))
        );
        let module = rewritten(module).unwrap();
        assert_eq!(
            violations(&module, serde_json::json!({"a": "x"})),
            serde_json::json!([{"msg": "x <[1, 2]> 100% of %!v(MISSING): %!v(MISSING)"}])
        );
        // Enough arguments, a format that is not written out, or a missing `%d`: as written.
        left_alone(&[
            "package t\np := sprintf(\"%v %v\", [1, 2])\n",
            "package t\np := sprintf(input.f, [1])\n",
            "package t\np := sprintf(\"%v %d\", [1])\n",
        ]);
        assert_eq!(verbs("%-5.2f %% %+d %v"), vec!['f', 'd', 'v']);
    }

    fn fragment() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "package t\n",
            "violation[x] ",
            "f(x) = ",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            "\n",
            " ",
            "sprintf(",
            "\"%v %s %% %d\"",
            "`%v`",
            ",",
            "input.a",
            "=",
            ":=",
            "else",
            "not ",
            "x",
            "é",
            "#c\n",
            "\"unterminated",
        ])
    }

    proptest::proptest! {
        /// Whatever the text, rewriting ends without a panic, and only ever adds text.
        #[test]
        fn any_text_is_rewritten_or_left(parts in proptest::collection::vec(fragment(), 0..80)) {
            let source = parts.concat();
            if let Some(out) = rewritten(&source) {
                proptest::prop_assert!(out.len() > source.len());
            }
        }
    }

    const NEGATED: &str = "package t\n\nviolation[{\"msg\": \"rejected\"}] {\n  params := input.parameters\n  not accept(params.rule, params.ranges)\n}\n\naccept(\"RunAsAny\", _)\naccept(\"MustRunAs\", ranges) {\n  count(ranges) > 0\n}\n";

    #[test]
    fn a_reference_passed_under_not_is_evaluated_first_as_opa_does() {
        let module = rewritten(NEGATED).unwrap();
        assert!(
            module.contains("__palisade_negated_0 = params.rule; __palisade_negated_1 = params.ranges; not accept(__palisade_negated_0, __palisade_negated_1)"),
            "{module}"
        );
        // Without ranges, OPA's rewritten body fails before the negation: nothing is rejected.
        let any = serde_json::json!({"parameters": {"rule": "MustRunAs"}});
        assert_eq!(violations(&module, any), serde_json::json!([]));
        // regorus reading the module as written rejects it.
        let any = serde_json::json!({"parameters": {"rule": "MustRunAs"}});
        assert_eq!(
            violations(NEGATED, any),
            serde_json::json!([{"msg": "rejected"}])
        );
        // With ranges, both read it alike.
        let empty = serde_json::json!({"parameters": {"rule": "MustRunAs", "ranges": []}});
        assert_eq!(
            violations(&module, empty),
            serde_json::json!([{"msg": "rejected"}])
        );
        let allowed = serde_json::json!({"parameters": {"rule": "RunAsAny", "ranges": []}});
        assert_eq!(violations(&module, allowed), serde_json::json!([]));
    }

    /// The kubewarden rego-policies-library's form (`has_valuesFiles`): a built-in called
    /// under `not` on a reference to a rule that is undefined. OPA hoists the reference, so
    /// `has` is undefined and its negation holds; regorus as written finds `has` true.
    const NEGATED_BUILTIN: &str = "package t\n\nspec = input.object.spec {\n  input.object.kind == \"HelmChart\"\n}\n\nhas {\n  not is_null(spec.valuesFiles)\n}\n\nviolation[{\"msg\": \"no valuesFiles\"}] {\n  not has\n}\n\nviolation[{\"msg\": \"bad name\"}] {\n  not regex.match(\"^ok\", input.object.metadata.name)\n}\n";

    #[test]
    fn a_reference_passed_to_a_builtin_under_not_is_evaluated_first_as_opa_does() {
        let module = rewritten(NEGATED_BUILTIN).unwrap();
        assert!(
            module.contains(
                "__palisade_negated_0 = spec.valuesFiles; not is_null(__palisade_negated_0)"
            ),
            "{module}"
        );
        assert!(
            module.contains("not regex.match(\"^ok\", __palisade_negated_1)"),
            "{module}"
        );
        let chart = |spec: serde_json::Value| serde_json::json!({"object": {"kind": "HelmChart", "metadata": {"name": "ok-chart"}, "spec": spec}});
        // No spec: OPA finds no valuesFiles; regorus as written does not.
        let bare =
            serde_json::json!({"object": {"kind": "HelmChart", "metadata": {"name": "ok-chart"}}});
        assert_eq!(
            violations(&module, bare.clone()),
            serde_json::json!([{"msg": "no valuesFiles"}])
        );
        assert_eq!(violations(NEGATED_BUILTIN, bare), serde_json::json!([]));
        // With valuesFiles both agree; a name that does not match is reported, and an
        // object without a name is not (the reference fails before the negation).
        assert_eq!(
            violations(
                &module,
                chart(serde_json::json!({"valuesFiles": ["values.yaml"]}))
            ),
            serde_json::json!([])
        );
        let unnamed = serde_json::json!({"object": {"kind": "HelmChart", "metadata": {}, "spec": {"valuesFiles": []}}});
        assert_eq!(violations(&module, unnamed.clone()), serde_json::json!([]));
        assert_eq!(
            violations(NEGATED_BUILTIN, unnamed),
            serde_json::json!([{"msg": "bad name"}])
        );
    }

    /// The library's `horizontalpodautoscaler` form: references as indexes under `not`.
    const NEGATED_INDEX: &str = "package t\n\nviolation[{\"msg\": \"missing target\"}] {\n  hpa := input.object\n  not data.inventory.namespace[hpa.metadata.namespace][hpa.spec.target.apiVersion][hpa.spec.target.kind]\n}\n\nviolation[{\"msg\": \"not allowed\"}] {\n  not input.allowed[input.object.spec.image] == true\n}\n";

    #[test]
    fn a_reference_used_as_an_index_under_not_is_evaluated_first_as_opa_does() {
        let module = rewritten(NEGATED_INDEX).unwrap();
        assert!(
            module.contains("__palisade_index_0 = hpa.metadata.namespace; __palisade_index_1 = hpa.spec.target.apiVersion; __palisade_index_2 = hpa.spec.target.kind; not data.inventory.namespace[__palisade_index_0][__palisade_index_1][__palisade_index_2]"),
            "{module}"
        );
        assert!(
            module.contains("__palisade_index_3 = input.object.spec.image; not input.allowed[__palisade_index_3] == true"),
            "{module}"
        );
        let hpa = |target: serde_json::Value| {
            serde_json::json!({"allowed": {"nginx": true},
                "object": {"metadata": {"namespace": "shop"}, "spec": {"target": target, "image": "nginx"}}})
        };
        // Without the optional apiVersion, OPA's body fails before the negation: nothing is
        // reported; regorus as written reports a missing target.
        let no_version = hpa(serde_json::json!({"kind": "Deployment"}));
        assert_eq!(
            violations(&module, no_version.clone()),
            serde_json::json!([])
        );
        assert_eq!(
            violations(NEGATED_INDEX, no_version),
            serde_json::json!([{"msg": "missing target"}])
        );
        // A target that is not there is reported by both; an image not allowed too.
        let mut denied = hpa(serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment"}));
        denied["object"]["spec"]["image"] = serde_json::json!("redis");
        assert_eq!(
            violations(&module, denied),
            serde_json::json!([{"msg": "missing target"}, {"msg": "not allowed"}])
        );
        // Without an image, OPA reports nothing for it; regorus as written does.
        let mut imageless = hpa(serde_json::json!({"kind": "Deployment"}));
        imageless["object"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("image");
        assert_eq!(
            violations(&module, imageless.clone()),
            serde_json::json!([])
        );
        assert_eq!(
            violations(NEGATED_INDEX, imageless),
            serde_json::json!([{"msg": "missing target"}, {"msg": "not allowed"}])
        );
    }

    /// A comparison other than equality under `not` is a call to OPA: its reference operands
    /// are evaluated first, so an undefined one fails the body; `==` is unification, where
    /// `not` covers an undefined side (the Rego style guide's `not input.foo == true`).
    const NEGATED_COMPARISON: &str = "package t\n\nviolation[{\"msg\": \"few\"}] {\n  not input.spec.replicas > 1\n}\n\nviolation[{\"msg\": \"other\"}] {\n  not input.spec.owner != input.user\n}\n\nviolation[{\"msg\": \"not true\"}] {\n  not input.spec.enabled == true\n}\n";

    #[test]
    fn a_comparison_under_not_evaluates_its_references_first_as_opa_does() {
        let module = rewritten(NEGATED_COMPARISON).unwrap();
        assert!(
            module.contains(
                "__palisade_operand_0 = input.spec.replicas; not __palisade_operand_0 > 1"
            ),
            "{module}"
        );
        assert!(
            module.contains("__palisade_operand_1 = input.spec.owner; __palisade_operand_2 = input.user; not __palisade_operand_1 != __palisade_operand_2"),
            "{module}"
        );
        assert!(
            module.contains("  not input.spec.enabled == true\n"),
            "{module}"
        );
        // Nothing in the spec: OPA fails the two comparisons' bodies; `==` still holds.
        let empty = serde_json::json!({"spec": {}, "user": "alice"});
        assert_eq!(
            violations(&module, empty.clone()),
            serde_json::json!([{"msg": "not true"}])
        );
        assert_eq!(
            violations(NEGATED_COMPARISON, empty),
            serde_json::json!([{"msg": "few"}, {"msg": "not true"}, {"msg": "other"}])
        );
        // Defined, both read them alike.
        let set = serde_json::json!({"spec": {"replicas": 1, "owner": "alice", "enabled": true},
            "user": "alice"});
        assert_eq!(
            violations(&module, set.clone()),
            serde_json::json!([{"msg": "few"}, {"msg": "other"}])
        );
        assert_eq!(
            violations(NEGATED_COMPARISON, set.clone()),
            violations(&module, set)
        );
    }

    const DEPRECATED: &str = "package t\n\nviolation[{\"msg\": msg}] {\n  exempt := [e | e := input.exempt[_] == input.ns]\n  not any(exempt)\n  all([true, input.on])\n  re_match(\"^web-\", input.name)\n  net.cidr_overlap(\"10.0.0.0/8\", input.ip)\n  left := set_diff({\"a\", \"b\", \"c\"}, cast_set(input.drop))\n  msg := sprintf(\"%v %v\", [cast_array(left), count(left)])\n}\n";

    /// OPA's deprecated built-ins, which Gatekeeper's v0 templates may call: regorus knows
    /// none of them; rewritten, they give OPA's values. A module's own `any` is kept.
    #[test]
    fn deprecated_builtins_give_opas_values() {
        let module = rewritten(DEPRECATED).unwrap();
        let input = |ns: &str, on: bool, name: &str, ip: &str| {
            serde_json::json!({"exempt": ["kube-system"], "ns": ns, "on": on, "name": name,
                "ip": ip, "drop": ["b"]})
        };
        assert_eq!(
            violations(&module, input("shop", true, "web-1", "10.1.2.3")),
            serde_json::json!([{"msg": "[\"a\", \"c\"] 2"}])
        );
        for (ns, on, name, ip) in [
            ("kube-system", true, "web-1", "10.1.2.3"),
            ("shop", false, "web-1", "10.1.2.3"),
            ("shop", true, "db-1", "10.1.2.3"),
            ("shop", true, "web-1", "192.168.0.1"),
        ] {
            assert_eq!(
                violations(&module, input(ns, on, name, ip)),
                serde_json::json!([]),
                "{ns} {on} {name} {ip}"
            );
        }
        // As written, regorus cannot evaluate it.
        let (interpreted, _) = both(DEPRECATED, input("shop", true, "web-1", "10.1.2.3"));
        assert!(interpreted.is_err());
        // A module that defines `any` keeps it.
        let own = "package t\nany(x) { x == \"yes\" }\nviolation[m] { any(input.a); m = 1 }\n";
        assert!(rewritten(own).is_none_or(|m| !m.contains("__palisade_any")));
    }

    /// `cast_string`, `cast_boolean`, `cast_null` and `cast_object` give their operand when it
    /// has the type, and nothing (OPA's error, undefined outside strict mode) when it has not.
    #[test]
    fn the_deprecated_casts_give_opas_values() {
        let module = rewritten(
            "package t\nviolation[{\"msg\": m}] {\n  s := cast_string(input.s)\n  b := cast_boolean(input.b)\n  cast_null(input.n) == null\n  o := cast_object(input.o)\n  m := sprintf(\"%v %v %v\", [s, b, o.k])\n}\n",
        )
        .unwrap();
        let input =
            |s: serde_json::Value| serde_json::json!({"s": s, "b": true, "n": null, "o": {"k": 1}});
        assert_eq!(
            violations(&module, input(serde_json::json!("x"))),
            serde_json::json!([{"msg": "x true 1"}])
        );
        assert_eq!(
            violations(&module, input(serde_json::json!(1))),
            serde_json::json!([])
        );
        let wrong_object = serde_json::json!({"s": "x", "b": true, "n": null, "o": [1]});
        assert_eq!(violations(&module, wrong_object), serde_json::json!([]));
    }

    #[test]
    fn a_function_without_body_is_true_on_the_machine_too() {
        let module = rewritten(NEGATED).unwrap();
        assert!(
            module.contains("accept(\"RunAsAny\", _) { true }\n"),
            "{module}"
        );
        // As written, the machine rejects what OPA and the interpreter accept.
        let allowed = serde_json::json!({"parameters": {"rule": "RunAsAny", "ranges": []}});
        let (interpreted, machine) = both(NEGATED, allowed.clone());
        assert_eq!(interpreted, Ok(serde_json::json!([])));
        assert_eq!(machine, Ok(serde_json::json!([{"msg": "rejected"}])));
        assert_eq!(violations(&module, allowed), serde_json::json!([]));
        // A head whose body starts on the next line, a value, an `else`: left alone.
        left_alone(&[
            "package t\nf(x)\n{\n  x > 1\n}\n",
            "package t\nf(x) = 2\n",
            "package t\nf(x) = 1 {\n  x\n}\nelse = 2\n",
        ]);
    }

    #[test]
    fn an_undefined_assignment_fails_on_the_machine_too() {
        let module = "package t\nf(v) { v == 1 }\nviolation[{\"msg\": m}] {\n  x := input.missing\n  not f(x)\n  y := [z | z := input.list[_]\n    z > 1]\n  m := sprintf(\"%v\", [count(y)])\n}\n";
        let rewritten = rewritten(module).unwrap();
        assert!(
            rewritten.contains("x := input.missing; type_name(x)\n"),
            "{rewritten}"
        );
        assert!(
            rewritten.contains("z := input.list[_]; type_name(z)\n"),
            "{rewritten}"
        );
        assert!(rewritten.contains("z > 1]; type_name(y)\n"), "{rewritten}");
        // As written, the machine reports what OPA and the interpreter do not.
        let (interpreted, machine) = both(module, serde_json::json!({"list": [1, 2]}));
        assert_eq!(interpreted, Ok(serde_json::json!([])));
        assert_eq!(machine, Ok(serde_json::json!([{"msg": "1"}])));
        assert_eq!(
            violations(&rewritten, serde_json::json!({"list": [1, 2]})),
            serde_json::json!([])
        );
        assert_eq!(
            violations(
                &rewritten,
                serde_json::json!({"missing": 2, "list": [1, 2, 3]})
            ),
            serde_json::json!([{"msg": "2"}])
        );
        // `false` is a value: the guard holds.
        let falsy = "package t\nviolation[{\"msg\": \"f\"}] {\n  x := input.f\n  x == false\n}\n";
        assert_eq!(
            violations(&rewritten_or_same(falsy), serde_json::json!({"f": false})),
            serde_json::json!([{"msg": "f"}])
        );
    }

    /// A literal of a violation body, in the forms templates use most, with `{i}` for a
    /// variable of its own.
    const LITERALS: &[&str] = &[
        "a{i} := input.{k}",
        "not f(input.{k})",
        "not g(input.{k}, input.{k})",
        "input.{k} == 1",
        "b{i} := [z{i} | z{i} := input.list[_]; z{i} > 1]",
        "count(input.list) > 0",
        "not input.{k}",
        "c{i} := object.get(input, \"{k}\", 0)",
        "d{i} := h(input)",
        "input.list[_] == input.{k}",
        "e{i} := input.{k}\n  not f(e{i})",
        "not count([w{i} | w{i} := input.list[_]; w{i} == input.{k}]) == 0",
        "input.{k} != 1",
        "s[input.{k}]",
        "not s[input.{k}]",
        "d == 1",
        "not d == 1",
        "k(input.{k}) == 2",
        "o{i} := {v{i}: 1 | v{i} := input.list[_]}\n  count(o{i}) > 1",
        "startswith(input.{k}, \"a\")",
        "not startswith(input.{k}, \"a\")",
        "input.list[j{i}] == 1\n  j{i} > 0",
        "[p{i}, q{i}] := [input.{k}, 1]",
        "t{i} := input.{k}\n  t{i} == false",
        "not t(input.{k})",
        "u{i} := {x{i} | x{i} := input.list[_]}\n  count(u{i} - {1}) > 0",
        "input.{k} in input.list",
        "not input.{k} in input.list",
        "some n{i} in input.list\n  n{i} == 2",
        "every e{i} in input.list { e{i} > 0 }",
        "r{i} := object.get(input, [\"x\", \"y\"], \"none\")\n  r{i} == \"none\"",
        "not object.get(input, \"{k}\", false)",
        "v{i} := concat(\",\", [sprintf(\"%v\", [x{i}]) | x{i} := input.list[_]])",
        "is_number(input.{k})",
        "not is_string(input.{k})",
        "w{i} := input.{k} with input.list as [9]",
        "not s[2] with input.list as [2]",
        "count({y{i} | some y{i}; input.list[y{i}]}) > 1",
        "[p2{i}, q2{i}] := input.{k}",
        "x3{i} = input.{k}\n  not f(x3{i})",
        "some x4{i}\n  x4{i} := input.{k}",
        "x5{i} := [input.{k}]",
        "x6{i} := {\"k\": input.{k}}",
        "x7{i} := input.{k}[_]",
    ];
    const KEYS: &[&str] = &["a", "b", "missing", "list"];

    fn module_of(literals: &[(usize, usize)]) -> String {
        let body: Vec<String> = literals
            .iter()
            .enumerate()
            .map(|(i, &(l, k))| {
                LITERALS[l % LITERALS.len()]
                    .replace("{i}", &i.to_string())
                    .replace("{k}", KEYS[k % KEYS.len()])
            })
            .collect();
        format!(
            "package t\n\nimport future.keywords.in\nimport future.keywords.every\n\nf(v) {{\n  v == 1\n}}\n\ng(\"a\", _)\n\nh(x) = y {{\n  y := x.a\n}}\n\ns[v] {{\n  v := input.list[_]\n}}\n\ndefault d = 0\n\nd = 1 {{\n  input.a == 1\n}}\n\nk(x) = 1 {{\n  x == 1\n}} else = 2 {{\n  true\n}}\n\nt(x) {{\n  not x\n}}\n\nviolation[{{\"msg\": m}}] {{\n  {}\n  m := \"v\"\n}}\n",
            body.join("\n  ")
        )
    }

    fn input_strategy() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just(serde_json::json!(1)),
            Just(serde_json::json!(2)),
            Just(serde_json::json!(false)),
            Just(serde_json::json!("a")),
        ];
        (
            proptest::option::of(value.clone()),
            proptest::option::of(value),
            proptest::option::of(proptest::collection::vec(0..3i64, 0..3)),
        )
            .prop_map(|(a, b, list)| {
                let mut input = serde_json::Map::new();
                if let Some(a) = a {
                    input.insert("a".into(), a);
                }
                if let Some(b) = b {
                    input.insert("b".into(), b);
                }
                if let Some(list) = list {
                    input.insert("list".into(), serde_json::json!(list));
                }
                serde_json::Value::Object(input)
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        /// Rewritten, the forms templates use most give the same violations on regorus'
        /// virtual machine as on its interpreter, whatever the input holds or lacks (where
        /// both answer).
        #[test]
        fn the_machine_agrees_with_the_interpreter_once_rewritten(
            literals in proptest::collection::vec((0..LITERALS.len(), 0..KEYS.len()), 1..5),
            input in input_strategy(),
        ) {
            let module = rewritten_or_same(&module_of(&literals));
            // Where one fails (a builtin given the wrong type: an error in the interpreter,
            // undefined on the machine, as in OPA), `crate::rego` answers with the other.
            if let (Ok(interpreted), Ok(machine)) = both(&module, input.clone()) {
                proptest::prop_assert_eq!(machine, interpreted, "{}\ninput: {}", module, input);
            }
        }
    }

    /// Every Rego module of the Gatekeeper library (../shared/corpora, required: templates'
    /// sources and their tests) that regorus compiles still compiles once rewritten.
    #[test]
    fn every_library_module_still_compiles_once_rewritten() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpora/gatekeeper-library");
        let compiles = |text: &str| {
            [true, false].iter().any(|&v0| {
                let mut engine = regorus::Engine::new();
                engine.set_rego_v0(v0);
                engine.add_policy("t.rego".into(), text.to_string()).is_ok()
            })
        };
        let (mut modules, mut rewrites, mut broken) = (0, 0, Vec::new());
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{} is required: {e}", dir.display()));
            for path in entries.map(|e| e.unwrap().path()) {
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|x| x != "rego") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                modules += 1;
                if let Some(module) = rewritten(&source) {
                    rewrites += 1;
                    if compiles(&source) && !compiles(&module) {
                        broken.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(modules >= 300, "{modules}");
        assert!(rewrites > 0);
        assert!(broken.is_empty(), "{broken:#?}");
    }

    /// Each of `modules` is compiled as written.
    fn left_alone(modules: &[&str]) {
        for module in modules {
            assert_eq!(rewritten(module), None, "{module}");
        }
    }

    fn rewritten_or_same(module: &str) -> String {
        rewritten(module).unwrap_or_else(|| module.to_string())
    }

    #[test]
    fn negated_builtins_variables_and_longer_expressions_are_left_alone() {
        left_alone(&[
            // A plain variable, a call that is not the whole expression, a `with`.
            "package t\nf(x) { x }\nviolation[m] { y = input.a\n not f(y)\n m = 1 }\n",
            "package t\nf(x) = x\nviolation[m] { not f(input.a) == 1\n m = 1 }\n",
            "package t\nf(x) { x }\nviolation[m] { not f(input.a) with input as {}\n m = 1 }\n",
        ]);
    }

    #[test]
    fn what_does_not_lex_is_not_rewritten() {
        assert_eq!(
            rewritten("package t\nviolation[m] { m := \"unterminated }\n"),
            None
        );
    }
}
