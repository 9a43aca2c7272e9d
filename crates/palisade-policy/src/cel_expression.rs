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

use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr};
use kube_cel::cel::extractors::Arguments;
use kube_cel::cel::{Context, ExecutionError, IdedExpr, Program, Value as Cel};

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
    /// Parses `text`, refusing what cannot be evaluated, and wraps its comprehensions.
    pub fn compile(text: &str) -> Result<Expression, String> {
        let program = Program::compile(text).map_err(|e| e.to_string())?;
        let mut tree = program.expression().clone();
        guard(&mut tree)?;
        Ok(Expression { tree })
    }

    /// Evaluates the expression in `context` (which [`register`] prepared).
    pub fn execute(&self, context: &Context) -> Result<Cel, ExecutionError> {
        Cel::resolve(&self.tree, context)
    }
}

/// Adds the clock check the compiled expressions call to `context`.
pub fn register(context: &mut Context) {
    context.add_function(TICK, tick);
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
    Ok(args.first().cloned().unwrap_or(Cel::Bool(true)))
}

/// The time limit of one evaluation on this thread, lifted when dropped.
pub struct TimeLimit {
    previous: Option<Instant>,
}

impl TimeLimit {
    /// Starts the limit ([`crate::rego::EVALUATION_TIME_LIMIT`] from now).
    pub fn start() -> TimeLimit {
        let deadline = Instant::now() + crate::rego::EVALUATION_TIME_LIMIT;
        TICKS.with(|t| t.set(0));
        EXPIRED.with(|e| e.set(false));
        TimeLimit {
            previous: DEADLINE.with(|d| d.replace(Some(deadline))),
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

/// Refuses what the `cel` crate cannot evaluate without panicking, and wraps each
/// comprehension's loop condition in [`TICK`].
fn guard(node: &mut IdedExpr) -> Result<(), String> {
    match &mut node.expr {
        Expr::Unspecified => Err("an empty expression".into()),
        Expr::Struct(s) => Err(format!(
            "`{}{{...}}`: object construction is not supported (a validation builds no typed object)",
            s.type_name
        )),
        Expr::Ident(_) | Expr::Literal(_) => Ok(()),
        Expr::Select(select) => guard(&mut select.operand),
        Expr::Call(call) => {
            if let Some(target) = &mut call.target {
                guard(target)?;
            }
            call.args.iter_mut().try_for_each(guard)
        }
        Expr::List(list) => list.elements.iter_mut().try_for_each(guard),
        Expr::Map(map) => map
            .entries
            .iter_mut()
            .try_for_each(|entry| match &mut entry.expr {
                EntryExpr::MapEntry(e) => guard(&mut e.key).and_then(|()| guard(&mut e.value)),
                EntryExpr::StructField(_) => Err("a struct field in a map literal".into()),
            }),
        Expr::Comprehension(c) => {
            for part in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                guard(part)?;
            }
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
