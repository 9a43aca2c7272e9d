//! A CEL expression compiled so that evaluating it is bounded in time and cannot panic.
//!
//! The `cel` crate evaluates without a cost budget (the API server stops an evaluation past
//! its runtime cost budget), so six nested `all()` over a list of twenty ran for 46 seconds
//! on one object, and it panics on a struct literal (`Foo{a: 1}`: "not yet implemented").
//! Here a struct literal (or an empty expression) is refused when the expression is
//! compiled: a ValidatingAdmissionPolicy's validation has no object type to build. Every
//! comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) checks the clock as it
//! loops: its loop condition is wrapped in a call of [`TICK`], which fails once the
//! evaluation of the policy runs past [`crate::rego::EVALUATION_TIME_LIMIT`], the limit the
//! Rego engine keeps too. The limit is set per evaluation ([`TimeLimit`]); without one the
//! call only passes its argument on.

use std::cell::Cell;
use std::time::Instant;

use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, operators};
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::objects::{Key, OptionalValue};
use kube_cel::cel::parser::Parser;
use kube_cel::cel::{Context, ExecutionError, IdedExpr, Value as Cel};

/// The function each comprehension's loop condition is wrapped in. Its name cannot be
/// written in CEL (`@` starts no identifier), so no expression calls it otherwise.
const TICK: &str = "@palisade_tick";

/// How many iterations pass between two readings of the clock.
const TICKS_PER_CHECK: u32 = 256;

thread_local! {
    /// When the evaluation on this thread must stop, if it has a limit.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Iterations since the clock was last read.
    static TICKS: Cell<u32> = const { Cell::new(0) };
    /// Whether the evaluation on this thread ran past its deadline.
    static EXPIRED: Cell<bool> = const { Cell::new(false) };
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Expression {
    tree: IdedExpr,
}

impl Expression {
    /// Parses `text`, refusing what cannot be evaluated, and wraps its comprehensions. The
    /// optional syntax (`a.?b`, `a[?0]`, `{?'k': v}`) is read, as Kubernetes' CEL
    /// environment reads it for admission policies.
    pub fn compile(text: &str) -> Result<Expression, String> {
        let size = text.chars().count();
        if size > MAX_CODE_POINTS {
            return Err(format!(
                "expression code point size exceeds limit: size: {size}, limit {MAX_CODE_POINTS}"
            ));
        }
        let depth = nesting(text);
        if depth > MAX_NESTING {
            return Err(format!(
                "the expression nests {depth} levels deep (brackets and conditionals); at most {MAX_NESTING} are read"
            ));
        }
        let runs = unary_runs(text);
        if runs > MAX_UNARY_RUNS {
            return Err(format!(
                "the expression puts two or more unary operators before a bracket (`--(`, `!!(`) {runs} times; at most {MAX_UNARY_RUNS} are read (the CEL parser takes time exponential in them)"
            ));
        }
        let chained = chains(text);
        if chained.selections > MAX_CHAIN || chained.operations > MAX_CHAIN {
            return Err(format!(
                "expression recursion limit exceeded: {MAX_CHAIN} (the expression chains {} selections, indexes or method calls and {} arithmetic operations)",
                chained.selections, chained.operations
            ));
        }
        let mut tree = Parser::new()
            .enable_optional_syntax(true)
            .parse(text)
            .map_err(|e| e.to_string())?;
        guard(&mut tree)?;
        Ok(Expression { tree })
    }

    /// Evaluates the expression in `context` (which [`register`] prepared).
    pub fn execute(&self, context: &Context) -> Result<Cel, ExecutionError> {
        Cel::resolve(&self.tree, context)
    }
}

/// The deepest nesting an expression may have. The `cel` crate's parser stops at 96 levels,
/// and past that limit its depth counter runs below zero (a panic where overflow is checked),
/// so deeper expressions are refused before it reads them.
const MAX_NESTING: usize = 90;

/// How deep `text` nests, counted as the parser nests expressions: each bracket, and each
/// conditional (`?`, but not the optional syntax `.?`, `[?`, `{?`, `,?`) within its brackets
/// and argument or element.
/// String literals (quoted, triple-quoted, raw) are skipped.
fn nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    // Conditionals open at each bracket level.
    let mut levels: Vec<usize> = vec![0];
    let mut deepest = 0;
    let mut i = 0;
    let mut previous = b' ';
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\'' | b'"' => i = string_end(bytes, i, matches!(previous, b'r' | b'R')),
            b'(' | b'[' | b'{' => levels.push(0),
            b')' | b']' | b'}' if levels.len() > 1 => {
                levels.pop();
            }
            b'?' if !matches!(previous, b'.' | b'[' | b'{' | b',') => {
                if let Some(open) = levels.last_mut() {
                    *open += 1;
                }
            }
            // The next argument or element starts afresh.
            b',' => {
                if let Some(open) = levels.last_mut() {
                    *open = 0;
                }
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            previous = byte;
        }
        deepest = deepest.max(levels.len() - 1 + levels.iter().sum::<usize>());
        i += 1;
    }
    deepest
}

/// The most runs of unary operators before a bracket an expression may hold (see
/// [`unary_runs`]).
const MAX_UNARY_RUNS: usize = 8;

/// How many times `text` puts two or more unary operators (`-`, `!`, spaces between
/// allowed) directly before a bracket: `--(x)`, `!!(x)`, `a - -[1][0]`. The `cel` crate's
/// parser takes time exponential in their number, valid or not: 18 took it half a second, 22
/// three, and a 219-byte expression the fuzzer made, eight seconds (double negations nobody
/// writes). Strings are skipped.
fn unary_runs(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut runs = 0;
    let mut previous = b' ';
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\'' | b'"' => {
                i = string_end(bytes, i, matches!(previous, b'r' | b'R'));
                previous = byte;
                i += 1;
                continue;
            }
            // `!` is always unary; `-` after an operand is a subtraction.
            b'-' | b'!' if byte == b'!' || !operand_end(previous) => {
                // A run of unary operators: how many, and what follows it.
                let mut count = 0;
                let mut j = i;
                while j < bytes.len()
                    && matches!(bytes[j], b'-' | b'!' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    count += usize::from(matches!(bytes[j], b'-' | b'!'));
                    j += 1;
                }
                // `!=` is a comparison, not a negation.
                let comparison = bytes.get(j) == Some(&b'=');
                if count >= 2 && !comparison && matches!(bytes.get(j), Some(b'(' | b'[' | b'{')) {
                    runs += 1;
                }
                previous = bytes[j - 1];
                i = j;
                continue;
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            previous = byte;
        }
        i += 1;
    }
    runs
}

/// Whether `byte` can end an operand (a name, a number, a closing bracket or quote): an
/// operator after it is binary (`a - b`, `a[0]`), elsewhere unary or a literal (`-b`, `[0]`).
fn operand_end(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b')' | b']' | b'}' | b'\'' | b'"')
}

/// The longest expression read, in characters: the limit of Kubernetes' CEL parser
/// (cel-go's `ParserExpressionSizeLimit`), whose words its refusal uses.
const MAX_CODE_POINTS: usize = 100_000;

/// The longest chains of selections and of arithmetic operations an expression may nest, as
/// Kubernetes' CEL parser (cel-go) limits them: it refuses an expression whose parse nests
/// one grammar rule more than 250 times ("expression recursion limit exceeded"), and a
/// chain `a.b.c` or `1 + 2 + 3` nests its rule once a link. The `cel` crate counts only
/// brackets, so a chain of 8,000 selections overflowed the stack while parsing (and 3,000
/// took 0.7 s: the parse is quadratic in the chain's length).
const MAX_CHAIN: usize = 250;

/// How deeply an expression chains.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Chains {
    /// Selections (`.f`, `.?f`), indexes (`[i]`) and method calls (`.f()`) in a row, counted
    /// across the brackets they enclose (`a.f(b.g)` nests `.g` within `.f`).
    selections: usize,
    /// Arithmetic operations (`+ - * / %`) in a row, likewise.
    operations: usize,
}

/// The deepest [`Chains`] of `text`, counted from its tokens (strings skipped) at each
/// bracket level: a link continues the chain of its level; a comparison, a logical
/// operator, a conditional or a comma ends the chains of its level (an arithmetic operator
/// ends the selections only).
fn chains(text: &str) -> Chains {
    let bytes = text.as_bytes();
    let mut levels: Vec<Chains> = vec![Chains::default()];
    let mut deepest = Chains::default();
    let mut previous = b' ';
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let next = bytes[i + 1..]
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace());
        let level = levels.len() - 1;
        match byte {
            b'\'' | b'"' => i = string_end(bytes, i, matches!(previous, b'r' | b'R')),
            b'.' if next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, b'_' | b'?')) => {
                levels[level].selections += 1;
            }
            b'[' | b'(' | b'{' => {
                if byte == b'[' && operand_end(previous) {
                    levels[level].selections += 1;
                }
                levels.push(Chains::default());
            }
            b']' | b')' | b'}' if levels.len() > 1 => {
                levels.pop();
            }
            b'+' | b'-' | b'*' | b'/' | b'%' if operand_end(previous) => {
                levels[level].selections = 0;
                levels[level].operations += 1;
            }
            // `.?f` and `[?i]` are selections, not conditionals.
            b'?' if matches!(previous, b'.' | b'[' | b'{' | b',') => {}
            b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b'?' | b':' | b',' => {
                levels[level] = Chains::default();
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            previous = byte;
        }
        deepest.selections = deepest
            .selections
            .max(levels.iter().map(|l| l.selections).sum());
        deepest.operations = deepest
            .operations
            .max(levels.iter().map(|l| l.operations).sum());
        i += 1;
    }
    deepest
}

/// The index of the last quote of the string literal opening at `start`: a triple-quoted
/// one ends at the next three quotes, a single-quoted one at the next quote not escaped
/// (`raw`: `r'...'`, whose backslashes escape nothing). Unterminated, the text's end.
fn string_end(bytes: &[u8], start: usize, raw: bool) -> usize {
    let quote = bytes[start];
    let triple = bytes.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        if bytes[i] == b'\\' && !raw {
            i += 2;
        } else if triple {
            if bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                return i + 2;
            }
            i += 1;
        } else if bytes[i] == quote {
            return i;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Adds the clock check and the optional selections the compiled expressions call to
/// `context`.
pub fn register(context: &mut Context) {
    crate::cel_bounds::register(context);
    context.add_function(TICK, tick);
    context.add_function("type", type_of);
    context.add_function(TYPE_NAMED, type_named);
    context.add_function(OPTIONAL_SELECT, optional_select);
    context.add_function(OPTIONAL_INDEX, optional_index);
    context.add_function("format.named", named_format);
}

/// What a type's name in an expression (`int`, `google.protobuf.Duration`) is compiled to: a
/// call of this function with the name. The `cel` crate has no type values: `type(x)` was an
/// unknown function and `int` an undeclared reference, so `type(x) == int`, which CEL and
/// Kubernetes evaluate, failed, and under `failurePolicy: Fail` such a policy denied every
/// request.
const TYPE_NAMED: &str = "@palisade_type";

/// The names of CEL's types that an expression may write as identifiers.
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "google.protobuf.Duration",
    "google.protobuf.Timestamp",
];

/// A type as a value: what `type(x)` gives and a type's name denotes. Two are equal when
/// they name the same type; the type of a type is `type`.
#[derive(Debug, PartialEq, Eq)]
struct TypeValue(String);

impl kube_cel::cel::objects::Opaque for TypeValue {
    fn runtime_type_name(&self) -> &str {
        "type"
    }
}

fn type_value(name: &str) -> Cel {
    Cel::Opaque(std::sync::Arc::new(TypeValue(name.to_string())))
}

/// The name of the type of `value`, as CEL names it. Values of the Kubernetes libraries
/// (quantities, addresses, optionals) are named by their runtime type (`kubernetes.Quantity`,
/// `optional_type`).
fn type_name(value: &Cel) -> &str {
    match value {
        Cel::Int(_) => "int",
        Cel::UInt(_) => "uint",
        Cel::Float(_) => "double",
        Cel::String(_) => "string",
        Cel::Bytes(_) => "bytes",
        Cel::Bool(_) => "bool",
        Cel::List(_) => "list",
        Cel::Map(_) => "map",
        Cel::Null => "null_type",
        Cel::Duration(_) => "google.protobuf.Duration",
        Cel::Timestamp(_) => "google.protobuf.Timestamp",
        Cel::Function(..) => "function",
        Cel::Opaque(opaque) => opaque.runtime_type_name(),
    }
}

/// `type(value)`.
fn type_of(Arguments(args): Arguments) -> Result<Cel, ExecutionError> {
    match args.as_slice() {
        [value] => Ok(type_value(type_name(value))),
        _ => Err(ExecutionError::function_error(
            "type",
            "one argument is needed",
        )),
    }
}

/// A type's name written in the expression.
fn type_named(name: std::sync::Arc<String>) -> Result<Cel, ExecutionError> {
    Ok(type_value(&name))
}

/// The dotted name a selection spells (`google.protobuf.Duration`), if it is one.
fn dotted_name(node: &IdedExpr) -> Option<String> {
    match &node.expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(select) if !select.test => Some(format!(
            "{}.{}",
            dotted_name(&select.operand)?,
            select.field
        )),
        _ => None,
    }
}

/// The call [`TYPE_NAMED`] a type's name is compiled to, when `node` names a type that no
/// comprehension variable in scope (`bound`) shadows.
fn type_reference(node: &IdedExpr, bound: &[String]) -> Option<Expr> {
    let name = dotted_name(node)?;
    let first = name.split('.').next().unwrap_or_default();
    if !TYPE_NAMES.contains(&name.as_str()) || bound.iter().any(|b| b == first) {
        return None;
    }
    Some(Expr::Call(CallExpr {
        func_name: TYPE_NAMED.into(),
        target: None,
        args: vec![IdedExpr {
            id: node.id,
            expr: Expr::Literal(LiteralValue::String(name.as_str().into())),
        }],
    }))
}

/// The formats Kubernetes' `format.named` knows.
const NAMED_FORMATS: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "dns1035LabelPrefix",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "qualifiedName",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

/// `format.named(name)`: the format as an optional, `optional.none()` for a name it does not
/// know, as Kubernetes gives it (kube-cel gives the format itself, or null, so the
/// `.value()` and `.hasValue()` the Kubernetes documentation writes after it failed, and a
/// policy under `failurePolicy: Fail` denied every request). The format is kube-cel's own,
/// from its `format.<name>()`.
/// Each thread makes the formats once (a context with kube-cel's functions, and a program per
/// format), not at each call: a policy may ask on every request.
fn named_format(name: std::sync::Arc<String>) -> Result<Cel, ExecutionError> {
    thread_local! {
        static FORMATS: std::cell::OnceCell<Vec<(&'static str, Cel)>> = const { std::cell::OnceCell::new() };
    }
    FORMATS.with(|formats| {
        let formats = match formats.get() {
            Some(made) => made,
            None => {
                let context = kube_cel::KubeCelExt::with_all(Context::default());
                let mut made = Vec::with_capacity(NAMED_FORMATS.len());
                for format in NAMED_FORMATS {
                    let program = kube_cel::cel::Program::compile(&format!("format.{format}()"))
                        .map_err(|e| {
                            ExecutionError::function_error("format.named", e.to_string())
                        })?;
                    made.push((*format, program.execute(&context)?));
                }
                formats.get_or_init(|| made)
            }
        };
        Ok(optional(
            formats
                .iter()
                .find(|(known, _)| *known == name.as_str())
                .map(|(_, format)| format.clone()),
        ))
    })
}

/// What `a.?b` and `a[?i]` are compiled to: the `cel` crate's own forms fail on a missing
/// field instead of giving `optional.none()`, and nest an optional in an optional when
/// chained (`a.?b.?c`).
const OPTIONAL_SELECT: &str = "@palisade_optional_select";
const OPTIONAL_INDEX: &str = "@palisade_optional_index";

fn optional(value: Option<Cel>) -> Cel {
    Cel::Opaque(std::sync::Arc::new(match value {
        Some(value) => OptionalValue::of(value),
        None => OptionalValue::none(),
    }))
}

/// The operand of an optional selection: an optional's value (`None` for `optional.none()`),
/// or the operand itself.
fn unwrap_optional(operand: &Cel) -> Option<&Cel> {
    match <&OptionalValue>::try_from(operand) {
        Ok(inner) => inner.value(),
        Err(_) => Some(operand),
    }
}

/// `operand.?field`: `optional.of(operand.field)` when the map has the field, else
/// `optional.none()`; an optional operand's absence carries through.
fn optional_select(Arguments(args): Arguments) -> Result<Cel, ExecutionError> {
    let [operand, Cel::String(field)] = args.as_slice() else {
        return Err(ExecutionError::function_error(
            "_?._",
            "a field name is needed",
        ));
    };
    match unwrap_optional(operand) {
        None => Ok(optional(None)),
        Some(Cel::Map(map)) => Ok(optional(map.get(&Key::String(field.clone())).cloned())),
        Some(other) => Err(ExecutionError::function_error(
            "_?._",
            format!("no field `{field}` on a {}", other.type_of()),
        )),
    }
}

/// `operand[?index]`: the list's element or the map's value as an optional, `optional.none()`
/// when out of range or absent.
fn optional_index(Arguments(args): Arguments) -> Result<Cel, ExecutionError> {
    let [operand, index] = args.as_slice() else {
        return Err(ExecutionError::function_error(
            "_[?_]",
            "an index is needed",
        ));
    };
    let Some(operand) = unwrap_optional(operand) else {
        return Ok(optional(None));
    };
    let found = match (operand, index) {
        (Cel::List(list), Cel::Int(i)) => usize::try_from(*i).ok().and_then(|i| list.get(i)),
        (Cel::List(list), Cel::UInt(i)) => usize::try_from(*i).ok().and_then(|i| list.get(i)),
        (Cel::Map(map), Cel::String(key)) => map.get(&Key::String(key.clone())),
        (Cel::Map(map), Cel::Int(key)) => map.get(&Key::Int(*key)),
        (Cel::Map(map), Cel::UInt(key)) => map.get(&Key::Uint(*key)),
        (Cel::Map(map), Cel::Bool(key)) => map.get(&Key::Bool(*key)),
        (operand, index) => {
            return Err(ExecutionError::function_error(
                "_[?_]",
                format!(
                    "no index of a {} by a {}",
                    operand.type_of(),
                    index.type_of()
                ),
            ));
        }
    };
    Ok(optional(found.cloned()))
}

/// The clock check: passes the loop condition on, or fails past the deadline.
fn tick(Arguments(args): Arguments) -> Result<Cel, ExecutionError> {
    let due = TICKS.with(|ticks| {
        let n = ticks.get() + 1;
        ticks.set(n % TICKS_PER_CHECK);
        n == TICKS_PER_CHECK
    });
    if due
        && DEADLINE
            .with(Cell::get)
            .is_some_and(|deadline| Instant::now() > deadline)
    {
        EXPIRED.with(|e| e.set(true));
        return Err(ExecutionError::function_error(TICK, "time limit exceeded"));
    }
    crate::cel_bounds::spend(1)?;
    Ok(args.first().cloned().unwrap_or(Cel::Bool(true)))
}

/// The time limit of one evaluation on this thread, lifted when dropped.
pub struct TimeLimit {
    previous: Option<Instant>,
    /// The evaluation's cost budget, spent by its iterations and ranges.
    _budget: crate::cel_bounds::Budget,
}

impl TimeLimit {
    /// Starts the limit ([`crate::rego::EVALUATION_TIME_LIMIT`] from now).
    pub fn start() -> TimeLimit {
        let deadline = Instant::now() + crate::rego::EVALUATION_TIME_LIMIT;
        TICKS.with(|t| t.set(0));
        EXPIRED.with(|e| e.set(false));
        TimeLimit {
            previous: DEADLINE.with(|d| d.replace(Some(deadline))),
            _budget: crate::cel_bounds::Budget::start(),
        }
    }

    /// Whether the evaluation ran past the limit (and was stopped).
    pub fn expired(&self) -> bool {
        EXPIRED.with(Cell::get)
    }
}

impl Drop for TimeLimit {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// Refuses what the `cel` crate cannot evaluate without panicking, wraps each
/// comprehension's loop condition in [`TICK`], and compiles a type's name to its value
/// ([`TYPE_NAMED`]).
fn guard(node: &mut IdedExpr) -> Result<(), String> {
    guard_in(node, &mut Vec::new())
}

/// [`guard`] with the comprehension variables in scope (`bound`).
fn guard_in(node: &mut IdedExpr, bound: &mut Vec<String>) -> Result<(), String> {
    if let Some(reference) = type_reference(node, bound) {
        node.expr = reference;
        return Ok(());
    }
    match &mut node.expr {
        Expr::Unspecified => Err("an empty expression".into()),
        Expr::Struct(s) => Err(format!(
            "`{}{{...}}`: object construction is not supported (a validation builds no typed object)",
            s.type_name
        )),
        Expr::Ident(_) | Expr::Literal(_) => Ok(()),
        Expr::Select(select) => guard_in(&mut select.operand, bound),
        Expr::Call(call) => {
            if let Some(target) = &mut call.target {
                guard_in(target, bound)?;
            }
            if call.target.is_none() {
                match call.func_name.as_str() {
                    operators::OPT_SELECT => call.func_name = OPTIONAL_SELECT.into(),
                    operators::OPT_INDEX => call.func_name = OPTIONAL_INDEX.into(),
                    _ => {}
                }
            }
            call.args.iter_mut().try_for_each(|a| guard_in(a, bound))?;
            bound_call(call);
            Ok(())
        }
        Expr::List(list) => list
            .elements
            .iter_mut()
            .try_for_each(|e| guard_in(e, bound)),
        Expr::Map(map) => map
            .entries
            .iter_mut()
            .try_for_each(|entry| match &mut entry.expr {
                EntryExpr::MapEntry(e) => {
                    guard_in(&mut e.key, bound).and_then(|()| guard_in(&mut e.value, bound))
                }
                EntryExpr::StructField(_) => Err("a struct field in a map literal".into()),
            }),
        Expr::Comprehension(c) => {
            // The range and the accumulator's start are read outside the loop's variables.
            guard_in(&mut c.iter_range, bound)?;
            guard_in(&mut c.accu_init, bound)?;
            let outer = bound.len();
            bound.extend(
                [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            for part in [&mut c.loop_cond, &mut c.loop_step, &mut c.result] {
                guard_in(part, bound)?;
            }
            bound.truncate(outer);
            let condition = std::mem::take(&mut c.loop_cond);
            c.loop_cond = IdedExpr {
                id: condition.id,
                expr: Expr::Call(CallExpr {
                    func_name: TICK.into(),
                    target: None,
                    args: vec![condition],
                }),
            };
            Ok(())
        }
    }
}

/// Compiles a call that may make a value of any size to its bounded form
/// ([`crate::cel_bounds`]): `_+_` (but not a comprehension's own accumulation, bounded by
/// its iterations), `replace`, `join`, `strings.quote` and `lists.range`; a `format` string
/// is checked before it is read.
fn bound_call(call: &mut CallExpr) {
    // `strings.quote(x)` is parsed as the method `quote` of the identifier `strings`.
    let qualified = match call.target.as_deref().map(|t| &t.expr) {
        Some(Expr::Ident(prefix)) => Some(format!("{prefix}.{}", call.func_name)),
        _ => None,
    };
    let accumulation = call.func_name == operators::ADD
        && matches!(call.args.first().map(|a| &a.expr), Some(Expr::Ident(name)) if name == ACCUMULATOR);
    for (name, bounded) in crate::cel_bounds::BOUNDED {
        if qualified.as_deref() == Some(*name) {
            call.target = None;
            call.func_name = (*bounded).into();
            return;
        }
        if call.func_name == *name && !name.contains('.') && !accumulation {
            call.func_name = (*bounded).into();
            return;
        }
    }
    if call.func_name == "format"
        && let Some(target) = call.target.take()
    {
        call.target = Some(Box::new(IdedExpr {
            id: target.id,
            expr: Expr::Call(CallExpr {
                func_name: crate::cel_bounds::FORMAT_STRING.into(),
                target: None,
                args: vec![*target],
            }),
        }));
    }
}

/// The variable the `cel` crate's macros accumulate their result in.
const ACCUMULATOR: &str = "@result";

#[cfg(test)]
mod tests {
    use super::*;
    use kube_cel::KubeCelExt as _;

    fn evaluate(text: &str) -> Result<Cel, ExecutionError> {
        let mut context = Context::default().with_all();
        register(&mut context);
        Expression::compile(text).unwrap().execute(&context)
    }

    /// Wrapped comprehensions give what they gave: early exits, errors absorbed by `all` and
    /// `exists` as CEL absorbs them, and the macros' results.
    #[test]
    fn comprehensions_keep_their_meaning() {
        for (text, expected) in [
            ("[1, 2, 3].all(x, x > 0)", Cel::Bool(true)),
            ("[1, 2, 3].all(x, x > 1)", Cel::Bool(false)),
            ("[1, 2, 3].exists(x, x == 2)", Cel::Bool(true)),
            ("[1, 2, 3].exists_one(x, x > 1)", Cel::Bool(false)),
            ("[1, 'a'].exists(x, x == 1)", Cel::Bool(true)),
            ("[[1], [2, 3]].all(l, l.all(x, x > 0))", Cel::Bool(true)),
            ("size([1, 2, 3].filter(x, x > 1))", Cel::Int(2)),
            ("[1, 2].map(x, x * 2)[1]", Cel::Int(4)),
            ("{'a': 1}.all(k, k == 'a')", Cel::Bool(true)),
        ] {
            assert_eq!(evaluate(text).unwrap(), expected, "{text}");
        }
    }

    /// The optional syntax Kubernetes' admission CEL reads: `.?` and `[?]` give optionals that
    /// `orValue`, `hasValue` and `value` read, and optional entries of list and map literals
    /// are left out when empty.
    #[test]
    fn optional_syntax_reads_as_in_kubernetes() {
        for (text, expected) in [
            ("{'a': {'b': 1}}.?a.?b.orValue(0)", Cel::Int(1)),
            ("{'a': {'b': 1}}.?a.?c.orValue(0)", Cel::Int(0)),
            ("{'a': {'b': 1}}.?x.?b.hasValue()", Cel::Bool(false)),
            ("{'a': 2}.?a.value()", Cel::Int(2)),
            ("[1, 2][?1].orValue(0)", Cel::Int(2)),
            ("[1, 2][?5].orValue(0)", Cel::Int(0)),
            (
                "{'k': 'v'}[?'k'].orValue('')",
                Cel::String("v".to_string().into()),
            ),
            ("optional.of(3).orValue(0)", Cel::Int(3)),
            ("optional.none().or(optional.of(4)).value()", Cel::Int(4)),
            ("size([?optional.none(), ?optional.of(1), 2])", Cel::Int(2)),
            ("size({?'a': optional.none(), 'b': 1})", Cel::Int(1)),
            ("{'a': 1}.?x.hasValue()", Cel::Bool(false)),
            ("optional.none().?a.?b.orValue(7)", Cel::Int(7)),
            ("[[1, 2]][?0][?1].orValue(0)", Cel::Int(2)),
            ("{'a': [1]}.?a[?3].orValue(9)", Cel::Int(9)),
            ("optional.ofNonZeroValue('').hasValue()", Cel::Bool(false)),
        ] {
            assert_eq!(evaluate(text).unwrap(), expected, "{text}");
        }
        // Selecting a field of what is not a map is an error, as in Kubernetes.
        assert!(evaluate("1.?a.hasValue()").is_err());
        assert!(evaluate("'s'[?0].hasValue()").is_err());
    }

    /// `type(x)` and the names of types are values, as in CEL: equal when they name the same
    /// type. A comprehension variable of a type's name is the variable, and the functions of
    /// those names (`int(x)`, `string(x)`) are the functions.
    #[test]
    fn types_are_values() {
        for (text, expected) in [
            ("type(1) == int", true),
            ("type(1) == uint", false),
            ("type('1') == type('2')", true),
            ("type(type(1)) == type", true),
            ("type(optional.of(1)) == type(optional.none())", true),
            ("type(quantity('1')) == type(quantity('2Gi'))", true),
            ("type(quantity('1')) == string", false),
            ("[1, 2].all(int, int > 0)", true),
            ("[1].map(string, string + 1) == [2]", true),
            ("[1].all(x, type(x) == int)", true),
            ("int('2') == 2 && string(1) == '1'", true),
            ("[int, string].exists(t, t == type(''))", true),
            ("{'a': 1}.all(k, type(k) == string)", true),
        ] {
            assert_eq!(evaluate(text).unwrap(), Cel::Bool(expected), "{text}");
        }
        assert!(evaluate("int == 1").unwrap() == Cel::Bool(false));
        assert!(evaluate("type(1, 2)").is_err());
    }

    /// Nesting the parser cannot read (past its recursion limit, where its depth counter runs
    /// below zero) is refused before it reads it; what it can read is read.
    #[test]
    fn expressions_nested_too_deep_are_refused_before_parsing() {
        let parens = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        let conditionals = |n: usize| format!("{}1", "true ? 1 : ".repeat(n));
        // Near the limit, read on a thread with room: an unoptimised parser takes about 100 KiB
        // of stack a level (an optimised one, under 20 KiB).
        let near = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                Expression::compile(&parens(MAX_NESTING)).is_ok()
                    && Expression::compile(&conditionals(MAX_NESTING - 1)).is_ok()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(near);
        let error = Expression::compile(&parens(200)).unwrap_err();
        assert!(error.contains("nests 200 levels deep"), "{error}");
        assert!(Expression::compile(&conditionals(200)).is_err());
        // Brackets in strings and the optional syntax are not nesting.
        assert_eq!(nesting("'((((' + \"[[\\\"[\" + 'a\\'('"), 0);
        assert_eq!(nesting("'''it's ((('''"), 0);
        assert_eq!(nesting("r'\\' + [1]"), 1);
        assert_eq!(nesting("\"\"\"a \" [[ \"\"\" + (1)"), 1);
        assert_eq!(nesting("a.?b[?0] + [?x, ?y]"), 1);
        assert_eq!(nesting("a ? (b ? 1 : 2) : 3"), 3);
        assert_eq!(nesting(&format!("[{}]", "x ? 1 : 2, ".repeat(100))), 2);
        // Side by side is not deeper.
        assert_eq!(nesting(&"f(1) + ".repeat(200)), 1);
    }

    /// Chains of selections, indexes, method calls and arithmetic are read up to the depth
    /// Kubernetes reads (250 links), counted as its parser nests them; longer ones are refused
    /// before parsing (8,000 selections overflowed the stack). At the limit, an expression
    /// compiles and evaluates on a thread of the default 2 MiB stack that evaluations run on.
    #[test]
    fn chains_past_kubernetes_recursion_limit_are_refused_before_parsing() {
        let selections = |n: usize| format!("object{}", ".b".repeat(n));
        let sum = |n: usize| format!("1{}", " + 1".repeat(n));
        assert_eq!(chains(&selections(3)).selections, 3);
        assert_eq!(chains("a.f(b.g.h)").selections, 3);
        assert_eq!(chains("a.f(b.g, c.h)").selections, 2);
        assert_eq!(chains("a[0].b[?1].?c").selections, 4);
        assert_eq!(chains("a.b + c.d == e.f.g.h").selections, 3);
        assert_eq!(chains("1.5 + 2.5 * 3").operations, 2);
        assert_eq!(chains("-1 + -2").operations, 1);
        assert_eq!(chains("(1 + (2 + 3)) - 4").operations, 2);
        assert_eq!(chains("1 + 2 == 3 + 4 && 5 + 6 > 7").operations, 1);
        assert_eq!(chains("'a.b.c + d' + \"e[0]\"").selections, 0);
        assert_eq!(chains("'a.b.c + d' + \"e[0]\"").operations, 1);
        for text in [selections(251), sum(251), selections(40_000), sum(20_000)] {
            let error = Expression::compile(&text).unwrap_err();
            assert!(error.contains("recursion limit exceeded: 250"), "{error}");
        }
        // Longer than Kubernetes reads at all.
        let error = Expression::compile(&format!("'{}' == ''", "x".repeat(100_000))).unwrap_err();
        assert!(
            error.contains("code point size exceeds limit: size: 100008, limit 100000"),
            "{error}"
        );
        // Unoptimised, the parser's and evaluator's frames are several times larger.
        let stack = if cfg!(debug_assertions) {
            16 << 20
        } else {
            2 << 20
        };
        let at_limit = std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                let mut context = Context::default().with_all();
                register(&mut context);
                let deep = format!("{}1{}", "(".repeat(80), ")".repeat(80));
                let texts = [
                    format!("{} == 250", sum(249)),
                    format!("[{}][0] == 1", "1, ".repeat(200)),
                    format!("[{}] == [1]", deep),
                    format!("has(object{}) || true", ".b".repeat(240)),
                    (0..85).fold("true".to_string(), |inner, i| {
                        format!("[{i}].all(x{i}, {inner})")
                    }),
                ];
                texts.iter().all(|text| {
                    let compiled = Expression::compile(text).unwrap();
                    compiled.execute(&context) == Ok(Cel::Bool(true))
                })
            })
            .unwrap()
            .join();
        assert_eq!(at_limit.ok(), Some(true));
    }

    /// Runs of unary operators before a bracket, whose number makes the parser's time grow
    /// exponentially, are counted as the parser meets them and refused past eight; a fuzzed
    /// expression that took two seconds to parse is refused at once.
    #[test]
    fn unary_runs_before_brackets_are_counted_and_bounded() {
        assert_eq!(unary_runs("--(1) + !!(true ? 1 : 2) + - -[1][0]"), 3);
        assert_eq!(unary_runs("E---(1)"), 1);
        assert_eq!(
            unary_runs("-(1) - (2) + !(a) + --x + a != b + '--(' + 1-(2)"),
            0
        );
        assert_eq!(unary_runs("!!{'a': 1}.size()"), 1);
        let runs = |n: usize| format!("{}1{}", "(--(E---".repeat(n), ")".repeat(2 * n));
        assert!(Expression::compile(&runs(4)).is_ok());
        let error = Expression::compile(&runs(5)).unwrap_err();
        assert!(
            error.contains("unary operators before a bracket"),
            "{error}"
        );
        let fuzzed = "--(---(--(E---(--(E--(E---(--(E---(--(E--(E---(--(E--(E---(--(E---(--(E---(--(E----(--(E---(--(E-(---*.-*mat*.$";
        let started = Instant::now();
        assert!(Expression::compile(fuzzed).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    /// What would panic the `cel` crate is refused when compiled, with the reason.
    #[test]
    fn what_cannot_be_evaluated_is_refused_when_compiled() {
        let error = Expression::compile("Foo{a: 1} == null").unwrap_err();
        assert!(error.contains("`Foo{...}`: object construction"), "{error}");
        assert!(Expression::compile("[1].all(x, Bar{} == x)").is_err());
    }

    /// Six nested iterations over twenty (64 million steps, about a minute) stop at the limit,
    /// and the limit says so; without a limit the check only passes values on.
    #[test]
    fn a_long_evaluation_stops_at_the_time_limit() {
        let list = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]";
        let text = format!(
            "{list}.all(a, {list}.all(b, {list}.all(c, {list}.all(d, {list}.all(e, {list}.all(f, a + b + c + d + e + f > 0))))))"
        );
        let limit = TimeLimit::start();
        let error = evaluate(&text).unwrap_err();
        assert!(limit.expired());
        assert!(error.to_string().contains("time limit exceeded"), "{error}");
        drop(limit);
        assert_eq!(evaluate("[1, 2].all(x, x > 0)").unwrap(), Cel::Bool(true));
    }
}
