//! Rego that OPA reads one way and regorus 0.14 another, written so that both read it as OPA
//! does. Each rewrite fires only where the two disagree, so a module without these forms is
//! compiled exactly as written. They are found on regorus' own tokens:
//!
//! - **A line that starts with `(`** after a line that ends in a reference: OPA ends the
//!   expression at the line's end, regorus reads a call of the reference (`input.x` then
//!   `(a - b) >= c` on the next line), which fails when evaluated. A `;` (the separator of
//!   expressions in both) is put after the reference.
//! - **A rule with several bodies** (`violation[x] { a } { b }`, v0's "or"): OPA reads it as
//!   the rule written once per body, regorus refuses it for set rules ("else cannot be used
//!   with set rules"). The head is written again before each further body.
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

/// Words after which a `(` on the next line starts an expression in regorus too.
const KEYWORDS: &[&str] = &[
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true", "with",
];

/// One token of the module: what it is and where.
struct Tok {
    kind: TokenKind,
    start: usize,
    end: usize,
    line: u32,
}

/// `source` rewritten as the module comment says; `None` when nothing needs it (or the
/// module does not lex: regorus' own error is then the one to report).
pub(crate) fn rewritten(source: &str) -> Option<String> {
    let tokens = tokens(source)?;
    let mut insertions = parens_on_new_lines(source, &tokens);
    insertions.extend(further_bodies(source, &tokens));
    insertions.extend(missing_sprintf_arguments(source, &tokens));
    if insertions.is_empty() {
        return None;
    }
    insertions.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(source.len() + 64 * insertions.len());
    let mut from = 0;
    for (at, text) in insertions {
        out.push_str(source.get(from..at)?);
        out.push_str(&text);
        from = at;
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
fn parens_on_new_lines(source: &str, tokens: &[Tok]) -> Vec<(usize, String)> {
    let open = open_before(source, tokens);
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
fn further_bodies(source: &str, tokens: &[Tok]) -> Vec<(usize, String)> {
    let open = open_before(source, tokens);
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
        let first_on_line = i == 0 || tokens[i - 1].line < token.line;
        if first_on_line && !(after_body && matches!(word, "{" | "else")) {
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

/// Go's text for verbs without an argument, passed as the arguments a written-out
/// `sprintf("...", [...])` lacks, when every missing verb is `%v` or `%s`.
fn missing_sprintf_arguments(source: &str, tokens: &[Tok]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let word = |i: usize| tokens.get(i).map_or("", |t| text(source, t));
    for i in 0..tokens.len() {
        let format = match tokens.get(i + 2) {
            Some(t) if matches!(t.kind, TokenKind::String | TokenKind::RawString) => t,
            _ => continue,
        };
        if word(i) != "sprintf" || word(i + 1) != "(" || word(i + 3) != "," || word(i + 4) != "[" {
            continue;
        }
        // The list's closing bracket, and how many elements it holds (a list written out is
        // short: one longer than `MAX_LIST_TOKENS` is left alone, which bounds the work).
        let (mut depth, mut commas, mut close) = (0usize, 0usize, None);
        for (j, token) in tokens.iter().enumerate().skip(i + 4).take(MAX_LIST_TOKENS) {
            if token.kind != TokenKind::Symbol {
                continue;
            }
            match text(source, token) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                "," if depth == 1 => commas += 1,
                _ => {}
            }
        }
        let Some(close) = close.filter(|&c| word(c + 1) == ")") else {
            continue;
        };
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

    fn violations(module: &str, input: serde_json::Value) -> serde_json::Value {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine
            .add_policy("t.rego".into(), module.to_string())
            .unwrap_or_else(|e| panic!("{e}\n{module}"));
        engine.set_input(regorus::Value::from(input));
        let value = engine.eval_rule("data.t.violation".to_string()).unwrap();
        serde_json::to_value(&value).unwrap()
    }

    const SPREAD: &str = "package t\n\nviolation[{\"msg\": \"narrow\"}] {\n  not wide(input)\n}\n\nwide(x) {\n  input.min\n  (x.max - x.low) >= input.min\n}\n";

    #[test]
    fn a_paren_on_its_own_line_starts_an_expression() {
        // As written, regorus calls `input.min` and fails.
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("t.rego".into(), SPREAD.into()).unwrap();
        engine.set_input(regorus::Value::from(serde_json::json!({"min": 3})));
        assert!(engine.eval_rule("data.t.violation".to_string()).is_err());
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
        for module in [
            "package t\nviolation[m] { m := concat(\"\", [\"a\"]) }\n",
            "package t\nviolation[m] {\n  m := concat(\"\",\n    (input.x))\n}\n",
            "package t\nviolation[m] {\n  m := 1 +\n    (2)\n}\n",
            "package t\nviolation[m] {\n  not\n  (input.x)\n  m := 1\n}\n",
        ] {
            assert_eq!(rewritten(module), None, "{module}");
        }
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
        for module in [
            "package t\nf(x) = 1 { x > 1 } else = 2 { true }\nviolation[m] { m := f(input.x) }\n",
            "package t\nviolation[m] {\n  m := {\"a\": 1}\n}\n",
            "package t\np := 1 { input.a } { input.b }\n",
            "package t\nf(x) = {\"a\": x} {\n  x > 1\n}\nviolation[m] { m := f(input.x) }\n",
        ] {
            assert_eq!(rewritten(module), None, "{module}");
        }
    }

    #[test]
    fn missing_sprintf_arguments_are_written_as_go_writes_them() {
        let module = "package t\nviolation[{\"msg\": m}] {\n  m := sprintf(\"%v <%v> 100%% of %v: %v\", [input.a, [1, 2]])\n}\n";
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("t.rego".into(), module.into()).unwrap();
        engine.set_input(regorus::Value::from(serde_json::json!({"a": "x"})));
        assert!(engine.eval_rule("data.t.violation".to_string()).is_err());
        let module = rewritten(module).unwrap();
        assert_eq!(
            violations(&module, serde_json::json!({"a": "x"})),
            serde_json::json!([{"msg": "x <[1, 2]> 100% of %!v(MISSING): %!v(MISSING)"}])
        );
        // Enough arguments, a format that is not written out, or a missing `%d`: as written.
        for module in [
            "package t\np := sprintf(\"%v %v\", [1, 2])\n",
            "package t\np := sprintf(input.f, [1])\n",
            "package t\np := sprintf(\"%v %d\", [1])\n",
        ] {
            assert_eq!(rewritten(module), None, "{module}");
        }
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

    #[test]
    fn what_does_not_lex_is_not_rewritten() {
        assert_eq!(
            rewritten("package t\nviolation[m] { m := \"unterminated }\n"),
            None
        );
    }
}
