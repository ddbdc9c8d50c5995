//! The parser and checker on formulas of every supported construct, and on what is refused.

use super::*;

/// Fields of a test object: a datetime, a number, text, a checkbox, a date and a picklist.
fn field(name: &str) -> Option<(String, ValueKind)> {
    let fields = [
        ("Last_Event_At__c", ValueKind::DateTime),
        ("Amount__c", ValueKind::Number),
        ("Currency__c", ValueKind::Text),
        ("Active__c", ValueKind::Boolean),
        ("Start__c", ValueKind::Date),
        ("Status__c", ValueKind::Picklist),
    ];
    fields
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(field, kind)| ((*field).to_owned(), *kind))
}

fn parse(text: &str) -> Result<Expr, FormulaError> {
    Formula::parse(text, &field).map(|formula| formula.expr)
}

fn compare(op: CompareOp, left: Expr, right: Expr) -> Expr {
    Expr::Compare {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

fn f(name: &str) -> Expr {
    Expr::Field(name.to_owned())
}

#[test]
fn the_fence_rule_parses() {
    assert_eq!(
        parse("Last_Event_At__c < PRIORVALUE(Last_Event_At__c)"),
        Ok(compare(
            CompareOp::Lt,
            f("Last_Event_At__c"),
            Expr::PriorValue("Last_Event_At__c".into())
        ))
    );
}

#[test]
fn field_names_become_canonical() {
    assert_eq!(
        parse("amount__C > 10"),
        Ok(compare(
            CompareOp::Gt,
            f("Amount__c"),
            Expr::Literal(Literal::Number(10.0))
        ))
    );
}

#[test]
fn every_operator_and_function() {
    let cases = [
        ("Amount__c = 1", true),
        ("Amount__c == 1", true),
        ("Amount__c != 1", true),
        ("Amount__c <> 1", true),
        ("Amount__c <= -1.5", true),
        ("Amount__c >= .5", true),
        ("Currency__c = 'USD' && Active__c", true),
        ("Currency__c = \"USD\" || NOT(Active__c)", true),
        ("!Active__c", true),
        (
            "AND(ISNEW(), ISBLANK(Amount__c), OR(Active__c, FALSE))",
            true,
        ),
        (
            "ISCHANGED(Status__c) && ISPICKVAL(PRIORVALUE(Status__c), \"Paid\")",
            true,
        ),
        ("ISPICKVAL(Status__c, 'Open') /* a note */", true),
        ("Start__c > PRIORVALUE(Start__c)", true),
        ("Amount__c = NULL", true),
        ("ISBLANK(Status__c)", true),
        ("Active__c = TRUE", true),
        ("(Amount__c > 1)", true),
    ];
    for (text, ok) in cases {
        assert_eq!(parse(text).is_ok(), ok, "{text}: {:?}", parse(text));
    }
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        parse("Active__c || Active__c && ISNEW()"),
        Ok(Expr::Or(vec![
            f("Active__c"),
            Expr::And(vec![f("Active__c"), Expr::IsNew])
        ]))
    );
}

/// Each refused formula and a part of its message.
#[test]
fn refusals_say_why() {
    let cases = [
        ("Amount__c + 1 > 2", "operator + is not supported"),
        ("Currency__c & 'x' = 'y'", "operator & is not supported"),
        ("TODAY() > Start__c", "function TODAY is not supported"),
        (
            "Owner.Name = 'x'",
            "cross-object references are not supported",
        ),
        ("$User.Id = 'x'", "global variables are not supported"),
        ("Nope__c = 1", "unknown field Nope__c"),
        ("ISCHANGED(Nope__c)", "unknown field Nope__c"),
        ("Status__c = 'Open'", "Status__c is a picklist field"),
        (
            "ISPICKVAL(Currency__c, 'x')",
            "ISPICKVAL() takes a picklist field",
        ),
        ("ISPICKVAL(Status__c, Currency__c)", "text literal"),
        ("Amount__c = 'x'", "cannot compare a number with text"),
        ("Currency__c < 'x'", "compare numbers, dates and datetimes"),
        ("Amount__c", "must be a condition"),
        ("AND(Amount__c)", "takes conditions"),
        ("Amount__c = 1 = 2", "cannot be chained"),
        ("ISNEW(Amount__c)", "takes 0 argument"),
        ("PRIORVALUE(1) = 1", "takes a field"),
        ("(Amount__c > 1", "expected )"),
        ("Amount__c > 1 Active__c", "expected the end"),
    ];
    for (text, wanted) in cases {
        let error = parse(text).expect_err(text).to_string();
        assert!(error.contains(wanted), "{text}: {error}");
    }
}

#[test]
fn errors_carry_the_column() {
    let error = parse("Active__c && TODAY() = 1").unwrap_err();
    assert_eq!(error.column, Some(14));
    assert!(error.to_string().ends_with("(column 14)"), "{error}");
}

#[test]
fn fields_lists_each_field_once() {
    let formula = Formula::parse(
        "ISCHANGED(Amount__c) && Amount__c > PRIORVALUE(amount__c) && ISPICKVAL(Status__c, 'x')",
        &field,
    )
    .unwrap();
    assert_eq!(formula.fields(), vec!["Amount__c", "Status__c"]);
}
