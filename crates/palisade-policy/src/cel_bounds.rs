//! What one CEL evaluation may make, bounded as the API server bounds it with its runtime
//! cost budget: an expression that would build a huge value is an evaluation error
//! ("operation cancelled: actual cost limit exceeded"), which the policy's `failurePolicy`
//! decides, not an allocation that takes the process down.
//!
//! The `cel` crate and kube-cel have no such budget. A few calls made a value of any size
//! from a short expression: `lists.range(2000000000)` (tens of gigabytes), a `replace` of
//! the empty string by a long one, a `join` of a long list with a long separator,
//! `strings.quote` or `+` applied to its own result through `variables` (doubling each
//! time), and `'%.70000f'.format([1.0])` panicked. Here those calls are compiled to the
//! functions of this module ([`BOUNDED`], by the expression guard in `cel_expression`),
//! which work out the size of what they would make first and refuse past [`MAX_TEXT_BYTES`]
//! or [`MAX_ITEMS`]; iterations and ranges spend one budget of [`COST_BUDGET`] an
//! evaluation.

use std::cell::Cell;
use std::sync::Arc;

use kube_cel::cel::extractors::{Arguments, This};
use kube_cel::cel::{Context, ExecutionError, Value as Cel};

/// The longest string or bytes an expression may make (16 MiB: an admission request's
/// object is at most 3 MiB).
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// The most items a list an expression makes may hold.
pub const MAX_ITEMS: usize = 1_000_000;

/// The cost one evaluation of a policy may spend: one a comprehension's iteration, one a
/// number `lists.range` makes. The API server's runtime cost budget for a policy is the same
/// number, and charges at least as much for each.
pub const COST_BUDGET: u64 = 10_000_000;

/// The widest precision `format` reads (`%.Nf`, `%.Ne`): Rust formats no wider.
const MAX_PRECISION: usize = u16::MAX as usize;

thread_local! {
    /// The cost spent by the evaluation on this thread, when it has a budget.
    static SPENT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// What a call compiles to, by the name it was written with: `_+_` and the methods whose
/// result may be larger than their operands together.
pub const BOUNDED: &[(&str, &str)] = &[
    ("_+_", ADD),
    ("replace", REPLACE),
    ("join", JOIN),
    ("strings.quote", QUOTE),
    ("lists.range", RANGE),
];

const ADD: &str = "@palisade_add";
const REPLACE: &str = "@palisade_replace";
const JOIN: &str = "@palisade_join";
const QUOTE: &str = "@palisade_quote";
const RANGE: &str = "@palisade_range";
/// What the format string of a `format` call is passed through.
pub const FORMAT_STRING: &str = "@palisade_format_string";

/// Adds the bounded functions to `context`.
pub fn register(context: &mut Context) {
    context.add_function(ADD, add);
    context.add_function(REPLACE, replace);
    context.add_function(JOIN, join);
    context.add_function(QUOTE, quote);
    context.add_function(RANGE, range);
    context.add_function(FORMAT_STRING, format_string);
}

/// The budget of one evaluation on this thread, lifted when dropped.
pub struct Budget {
    previous: Option<u64>,
}

impl Budget {
    pub fn start() -> Budget {
        Budget {
            previous: SPENT.with(|s| s.replace(Some(0))),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        SPENT.with(|s| s.set(self.previous));
    }
}

/// Spends `cost`; an error once the budget is spent.
pub fn spend(cost: u64) -> Result<(), ExecutionError> {
    SPENT.with(|spent| match spent.get() {
        None => Ok(()),
        Some(before) => {
            let now = before.saturating_add(cost);
            spent.set(Some(now));
            if now > COST_BUDGET {
                Err(ExecutionError::function_error(
                    "cost",
                    format!(
                        "operation cancelled: actual cost limit exceeded (the runtime cost budget of {COST_BUDGET})"
                    ),
                ))
            } else {
                Ok(())
            }
        }
    })
}

fn too_large(function: &str, what: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(
        function,
        format!(
            "operation cancelled: actual cost limit exceeded (it would make {what}; at most {MAX_TEXT_BYTES} bytes or {MAX_ITEMS} items)"
        ),
    )
}

fn text_within(function: &str, bytes: usize) -> Result<(), ExecutionError> {
    match bytes <= MAX_TEXT_BYTES {
        true => Ok(()),
        false => Err(too_large(function, format_args!("{bytes} bytes"))),
    }
}

fn items_within(function: &str, items: usize) -> Result<(), ExecutionError> {
    match items <= MAX_ITEMS {
        true => Ok(()),
        false => Err(too_large(function, format_args!("{items} items"))),
    }
}

/// `a + b`: strings, bytes and lists joined when the result stays within bounds; numbers,
/// durations and timestamps added as the `cel` crate adds them.
fn add(Arguments(args): Arguments) -> Result<Cel, ExecutionError> {
    let [a, b] = args.as_slice() else {
        return Err(ExecutionError::function_error("_+_", "two operands"));
    };
    match (a, b) {
        (Cel::String(a), Cel::String(b)) => {
            text_within("_+_", a.len() + b.len())?;
            Ok(Cel::String(Arc::new(format!("{a}{b}"))))
        }
        (Cel::Bytes(a), Cel::Bytes(b)) => {
            text_within("_+_", a.len() + b.len())?;
            Ok(Cel::Bytes(Arc::new([a.as_slice(), b.as_slice()].concat())))
        }
        (Cel::List(a), Cel::List(b)) => {
            items_within("_+_", a.len() + b.len())?;
            Ok(Cel::List(Arc::new(
                a.iter().chain(b.iter()).cloned().collect(),
            )))
        }
        _ => a.clone() + b.clone(),
    }
}

/// `s.replace(old, new)` and `s.replace(old, new, n)`, as cel-go's strings library reads
/// them: at most `n` replacements, every one when `n` is negative (kube-cel made none).
fn replace(
    This(this): This<Arc<String>>,
    Arguments(args): Arguments,
) -> Result<Cel, ExecutionError> {
    let (Some(Cel::String(old)), Some(Cel::String(new))) = (args.first(), args.get(1)) else {
        return Err(ExecutionError::function_error(
            "replace",
            "expected string arguments",
        ));
    };
    let limit = match args.get(2) {
        None => usize::MAX,
        Some(Cel::Int(n)) => usize::try_from(*n).unwrap_or(usize::MAX),
        Some(_) => {
            return Err(ExecutionError::function_error(
                "replace",
                "expected an int count",
            ));
        }
    };
    // An empty `old` matches before each character and at the end.
    let matches = match old.is_empty() {
        true => this.chars().count() + 1,
        false => this.matches(old.as_str()).count(),
    }
    .min(limit);
    let bytes =
        (this.len() - matches * old.len()).saturating_add(matches.saturating_mul(new.len()));
    text_within("replace", bytes)?;
    Ok(Cel::String(Arc::new(this.replacen(
        old.as_str(),
        new.as_str(),
        matches,
    ))))
}

/// `list.join()` and `list.join(separator)` of a list of strings.
fn join(
    This(this): This<Arc<Vec<Cel>>>,
    Arguments(args): Arguments,
) -> Result<Cel, ExecutionError> {
    let separator = match args.first() {
        None => "",
        Some(Cel::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ExecutionError::function_error(
                "join",
                "expected a string separator",
            ));
        }
    };
    let mut parts = Vec::with_capacity(this.len());
    for item in this.iter() {
        match item {
            Cel::String(s) => parts.push(s.as_str()),
            other => {
                return Err(ExecutionError::function_error(
                    "join",
                    format!("the list holds a {}, not only strings", other.type_of()),
                ));
            }
        }
    }
    let bytes = parts.iter().map(|p| p.len()).sum::<usize>().saturating_add(
        parts
            .len()
            .saturating_sub(1)
            .saturating_mul(separator.len()),
    );
    text_within("join", bytes)?;
    Ok(Cel::String(Arc::new(parts.join(separator))))
}

/// `strings.quote(s)`: `s` in double quotes, with backslashes, quotes and control characters
/// escaped as cel-go escapes them.
fn quote(text: Arc<String>) -> Result<Cel, ExecutionError> {
    let escaped = |c: char| match c {
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        '\x07' => Some("\\a"),
        '\x08' => Some("\\b"),
        '\x0C' => Some("\\f"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        '\x0B' => Some("\\v"),
        _ => None,
    };
    let extra = text.chars().filter(|c| escaped(*c).is_some()).count();
    text_within("strings.quote", text.len() + extra + 2)?;
    let mut out = String::with_capacity(text.len() + extra + 2);
    out.push('"');
    for c in text.chars() {
        match escaped(c) {
            Some(escape) => out.push_str(escape),
            None => out.push(c),
        }
    }
    out.push('"');
    Ok(Cel::String(Arc::new(out)))
}

/// `lists.range(n)`: `[0, 1, ..., n - 1]`, each number spent from the budget.
fn range(n: i64) -> Result<Cel, ExecutionError> {
    let Ok(count) = usize::try_from(n) else {
        return Err(ExecutionError::function_error(
            "lists.range",
            "range argument must be non-negative",
        ));
    };
    items_within("lists.range", count)?;
    spend(count as u64)?;
    Ok(Cel::List(Arc::new((0..n).map(Cel::Int).collect())))
}

/// The format string of `format`, passed on when every precision it asks for (`%.Nf`) is
/// one Rust formats; wider, kube-cel's `format` panicked.
fn format_string(text: Arc<String>) -> Result<Cel, ExecutionError> {
    let mut rest = text.as_str();
    while let Some(at) = rest.find("%.") {
        let digits: &str = &rest[at + 2..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let precision = digits[..end].parse::<usize>().unwrap_or(usize::MAX);
        if end > 0 && precision > MAX_PRECISION {
            return Err(too_large(
                "format",
                format_args!("a number of {} digits", &digits[..end]),
            ));
        }
        rest = &digits[end..];
    }
    Ok(Cel::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Arc<String> {
        Arc::new(s.to_string())
    }

    fn string(value: Result<Cel, ExecutionError>) -> String {
        match value {
            Ok(Cel::String(s)) => s.to_string(),
            other => panic!("{other:?}"),
        }
    }

    /// Replacements as cel-go's strings library makes them, with the empty string matching
    /// around every character, and a size worked out before the string is made.
    #[test]
    fn replace_reads_as_cel_go_and_refuses_what_is_too_large() {
        let call =
            |s: &str, args: Vec<Cel>| string(replace(This(text(s)), Arguments(Arc::new(args))));
        let s = |t: &str| Cel::String(text(t));
        assert_eq!(call("hello hello", vec![s("he"), s("we")]), "wello wello");
        assert_eq!(
            call("hello hello", vec![s("he"), s("we"), Cel::Int(1)]),
            "wello hello"
        );
        assert_eq!(
            call("hello hello", vec![s("he"), s("we"), Cel::Int(-1)]),
            "wello wello"
        );
        assert_eq!(
            call("hello hello", vec![s("he"), s("we"), Cel::Int(0)]),
            "hello hello"
        );
        assert_eq!(call("abc", vec![s(""), s("-")]), "-a-b-c-");
        assert_eq!(call("ab", vec![s(""), s("-"), Cel::Int(2)]), "-a-b");
        let big = "x".repeat(5000);
        let error =
            replace(This(text(&big)), Arguments(Arc::new(vec![s(""), s(&big)]))).unwrap_err();
        assert!(
            error.to_string().contains("actual cost limit exceeded"),
            "{error}"
        );
    }

    #[test]
    fn join_quote_and_range_are_bounded() {
        let list = |items: Vec<Cel>| This(Arc::new(items));
        let s = |t: &str| Cel::String(text(t));
        assert_eq!(
            string(join(
                list(vec![s("a"), s("b")]),
                Arguments(Arc::new(vec![s("-")]))
            )),
            "a-b"
        );
        assert_eq!(
            string(join(
                list(vec![s("a"), s("b")]),
                Arguments(Arc::new(vec![]))
            )),
            "ab"
        );
        assert!(join(list(vec![Cel::Int(1)]), Arguments(Arc::new(vec![]))).is_err());
        let sep = "x".repeat(1 << 20);
        let many = vec![s("a"); 100];
        assert!(join(list(many), Arguments(Arc::new(vec![s(&sep)]))).is_err());

        assert_eq!(string(quote(text("a\"b\\c\n"))), "\"a\\\"b\\\\c\\n\"");
        assert!(quote(text(&"\\".repeat(MAX_TEXT_BYTES / 2))).is_err());

        assert!(matches!(range(3), Ok(Cel::List(l)) if l.len() == 3));
        assert!(range(-1).is_err());
        assert!(range(2_000_000_000).is_err());
    }

    /// Within a budget, ranges spend it until it is gone; without one, nothing is counted.
    #[test]
    fn the_budget_is_spent_within_an_evaluation() {
        assert!(spend(COST_BUDGET * 2).is_ok());
        let budget = Budget::start();
        assert!(spend(COST_BUDGET - 10).is_ok());
        assert!(range(5).is_ok());
        assert!(range(10).is_err());
        drop(budget);
        assert!(range(10).is_ok());
    }

    #[test]
    fn format_precisions_rust_cannot_format_are_refused() {
        assert!(format_string(text("%.3f and %s and 100%")).is_ok());
        assert!(format_string(text("%.65535f")).is_ok());
        assert!(format_string(text("%.70000f")).is_err());
        assert!(format_string(text("%.99999999999999999999999e")).is_err());
    }

    #[test]
    fn sums_of_text_and_lists_are_bounded_and_numbers_add_as_before() {
        let add2 = |a: Cel, b: Cel| add(Arguments(Arc::new(vec![a, b])));
        assert_eq!(add2(Cel::Int(1), Cel::Int(2)).unwrap(), Cel::Int(3));
        assert!(add2(Cel::Int(i64::MAX), Cel::Int(1)).is_err());
        assert_eq!(
            string(add2(Cel::String(text("a")), Cel::String(text("b")))),
            "ab"
        );
        let half = Cel::String(text(&"x".repeat(MAX_TEXT_BYTES / 2 + 1)));
        assert!(add2(half.clone(), half).is_err());
        let list = Cel::List(Arc::new(vec![Cel::Int(0); MAX_ITEMS / 2 + 1]));
        assert!(add2(list.clone(), list).is_err());
    }
}
