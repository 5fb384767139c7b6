//! A small CMIS Query Language subset: parser and evaluator.
//!
//! Supported: `SELECT * | prop, ... FROM type [WHERE cond] [ORDER BY prop
//! [ASC|DESC], ...]` where `cond` combines with AND, OR, NOT and
//! parentheses: `IN_FOLDER('id')`, `IN_TREE('id')`, `prop = | <> | < | <=
//! | > | >= literal`, `prop [NOT] LIKE 'pattern'` (`%` and `_`), `prop IS
//! [NOT] NULL` and `prop [NOT] IN (literal, ...)`. Literals: `'strings'`
//! (`''` or `\'` for a quote), numbers, TRUE/FALSE, `TIMESTAMP '...'`.
//! Query names are the property ids (our types have no aliases).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::cmis::error::CmisError;
use crate::cmis::model::{Properties, PropertyValue};

use super::types;

type Result<T> = std::result::Result<T, CmisError>;

fn bad(msg: impl Into<String>) -> CmisError {
    CmisError::InvalidArgument(format!("query: {}", msg.into()))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(bad("unterminated string")),
                    Some('\\') if chars.get(i + 1).is_some() => {
                        v.push(chars[i + 1]);
                        i += 2;
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(v));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let t: String = chars[start..i].iter().collect();
            out.push(Tok::Num(
                t.parse().map_err(|_| bad(format!("bad number {t}")))?,
            ));
        } else if c.is_alphanumeric() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_:.".contains(chars[i])) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
                continue;
            }
            let s = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                '*' => "*",
                _ => return Err(bad(format!("unexpected character '{c}'"))),
            };
            out.push(Tok::Sym(s));
            i += 1;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    InFolder(String),
    InTree(String),
    Cmp(String, &'static str, Lit),
    Like(String, String),
    IsNull(String),
    In(String, Vec<Lit>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` = `*`.
    pub select: Option<Vec<String>>,
    pub from: String,
    pub filter: Option<Expr>,
    pub order: Vec<(String, bool)>,
}

struct P {
    toks: Vec<Tok>,
    pos: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn kw(&mut self, k: &str) -> bool {
        if let Some(Tok::Word(w)) = self.peek() {
            if w.eq_ignore_ascii_case(k) {
                self.pos += 1;
                return true;
            }
        }
        false
    }
    fn expect_kw(&mut self, k: &str) -> Result<()> {
        if self.kw(k) {
            Ok(())
        } else {
            Err(bad(format!("expected {k}")))
        }
    }
    fn sym(&mut self, s: &str) -> bool {
        if self.peek()
            == Some(&Tok::Sym(match s {
                "(" => "(",
                ")" => ")",
                "," => ",",
                "*" => "*",
                _ => "",
            }))
        {
            self.pos += 1;
            return true;
        }
        false
    }
    fn ident(&mut self) -> Result<String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err(bad("expected a property or type name")),
        }
    }
    fn string(&mut self) -> Result<String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            _ => Err(bad("expected a quoted string")),
        }
    }
    fn literal(&mut self) -> Result<Lit> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("timestamp") => {
                let s = self.string()?;
                let t = DateTime::parse_from_rfc3339(&s)
                    .map_err(|_| bad(format!("bad timestamp '{s}'")))?;
                Ok(Lit::Time(t.with_timezone(&Utc)))
            }
            _ => Err(bad("expected a literal")),
        }
    }

    fn or(&mut self) -> Result<Expr> {
        let mut e = self.and()?;
        while self.kw("OR") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr> {
        let mut e = self.not()?;
        while self.kw("AND") {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr> {
        if self.kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Expr> {
        if self.sym("(") {
            let e = self.or()?;
            if !self.sym(")") {
                return Err(bad("expected ')'"));
            }
            return Ok(e);
        }
        let id = self.ident()?;
        if id.eq_ignore_ascii_case("IN_FOLDER") || id.eq_ignore_ascii_case("IN_TREE") {
            if !self.sym("(") {
                return Err(bad(format!("expected '(' after {id}")));
            }
            let folder = self.string()?;
            if !self.sym(")") {
                return Err(bad("expected ')'"));
            }
            return Ok(if id.eq_ignore_ascii_case("IN_FOLDER") {
                Expr::InFolder(folder)
            } else {
                Expr::InTree(folder)
            });
        }
        if types::prop_def(&id).is_none() {
            return Err(bad(format!("unknown property '{id}'")));
        }
        if self.kw("IS") {
            let neg = self.kw("NOT");
            self.expect_kw("NULL")?;
            let e = Expr::IsNull(id);
            return Ok(if neg { Expr::Not(Box::new(e)) } else { e });
        }
        let neg = self.kw("NOT");
        if self.kw("LIKE") {
            let e = Expr::Like(id, self.string()?);
            return Ok(if neg { Expr::Not(Box::new(e)) } else { e });
        }
        if self.kw("IN") {
            if !self.sym("(") {
                return Err(bad("expected '(' after IN"));
            }
            let mut list = vec![self.literal()?];
            while self.sym(",") {
                list.push(self.literal()?);
            }
            if !self.sym(")") {
                return Err(bad("expected ')'"));
            }
            let e = Expr::In(id, list);
            return Ok(if neg { Expr::Not(Box::new(e)) } else { e });
        }
        if neg {
            return Err(bad("expected LIKE or IN after NOT"));
        }
        let op = match self.next() {
            Some(Tok::Sym(s)) if ["=", "<>", "<", "<=", ">", ">="].contains(&s) => s,
            _ => return Err(bad("expected a comparison operator")),
        };
        Ok(Expr::Cmp(id, op, self.literal()?))
    }
}

pub fn parse(statement: &str) -> Result<Query> {
    if statement.len() > 64 * 1024 {
        return Err(bad("statement too long"));
    }
    let mut p = P {
        toks: lex(statement)?,
        pos: 0,
    };
    p.expect_kw("SELECT")?;
    let select = if p.sym("*") {
        None
    } else {
        let mut cols = vec![p.ident()?];
        while p.sym(",") {
            cols.push(p.ident()?);
        }
        for c in &cols {
            if types::prop_def(c).is_none() {
                return Err(bad(format!("unknown property '{c}'")));
            }
        }
        Some(cols)
    };
    p.expect_kw("FROM")?;
    let from = p.ident()?;
    match types::type_def(&from) {
        Some(t) if t.queryable => {}
        _ => return Err(bad(format!("'{from}' is not a queryable type"))),
    }
    let filter = if p.kw("WHERE") { Some(p.or()?) } else { None };
    let mut order = Vec::new();
    if p.kw("ORDER") {
        p.expect_kw("BY")?;
        loop {
            let id = p.ident()?;
            if !types::prop_def(&id).is_some_and(|d| d.orderable) {
                return Err(bad(format!("cannot order by '{id}'")));
            }
            let asc = if p.kw("DESC") {
                false
            } else {
                p.kw("ASC");
                true
            };
            order.push((id, asc));
            if !p.sym(",") {
                break;
            }
        }
    }
    if p.peek().is_some() {
        return Err(bad("unexpected text after the statement"));
    }
    Ok(Query {
        select,
        from,
        filter,
        order,
    })
}

/// SQL LIKE with `%`, `_` and `\\` escapes, in O(len(s) * len(pattern))
/// (no backtracking blow-up on patterns like `%%%%a`).
fn like(s: &str, pat: &str) -> bool {
    // Pattern as tokens: Some(c) literal, None for '%', '_' as Any.
    enum T {
        Lit(char),
        Any,
        Many,
    }
    let mut toks = Vec::new();
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '%' => T::Many,
            '_' => T::Any,
            '\\' => T::Lit(it.next().unwrap_or('\\')),
            c => T::Lit(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    // dp[j]: the first i chars of s match the first j tokens.
    let mut dp = vec![false; toks.len() + 1];
    dp[0] = true;
    for j in 1..=toks.len() {
        dp[j] = dp[j - 1] && matches!(toks[j - 1], T::Many);
    }
    for ch in &s {
        let mut next = vec![false; toks.len() + 1];
        for j in 1..=toks.len() {
            next[j] = match toks[j - 1] {
                T::Many => next[j - 1] || dp[j],
                T::Any => dp[j - 1],
                T::Lit(c) => dp[j - 1] && c == *ch,
            };
        }
        dp = next;
    }
    dp[toks.len()]
}

fn cmp_lit(v: &PropertyValue, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (PropertyValue::Integer(x), Lit::Num(n)) => {
            x.first().and_then(|x| (*x as f64).partial_cmp(n))
        }
        (PropertyValue::Decimal(x), Lit::Num(n)) => x.first().and_then(|x| x.partial_cmp(n)),
        (PropertyValue::Boolean(x), Lit::Bool(b)) => x.first().map(|x| x.cmp(b)),
        (PropertyValue::DateTime(x), Lit::Time(t)) => x.first().map(|x| x.cmp(t)),
        (v, Lit::Str(s)) => v.first_str().map(|x| x.cmp(s.as_str())),
        _ => None,
    }
}

impl Query {
    /// The folder of a top-level `IN_FOLDER` (alone or AND-ed), which
    /// bounds the candidates.
    pub fn only_in_folder(&self) -> Option<&str> {
        fn find(e: &Expr) -> Option<&str> {
            match e {
                Expr::InFolder(f) => Some(f),
                Expr::And(a, b) => find(a).or_else(|| find(b)),
                _ => None,
            }
        }
        self.filter.as_ref().and_then(find)
    }

    /// Evaluates the WHERE clause. `parents` are the object's folders;
    /// `in_tree(id)` says whether folder `id` is an ancestor.
    pub fn matches(
        &self,
        props: &Properties,
        parents: &[String],
        in_tree: &dyn Fn(&str) -> Result<bool>,
    ) -> Result<bool> {
        fn eval(
            e: &Expr,
            props: &Properties,
            parents: &[String],
            in_tree: &dyn Fn(&str) -> Result<bool>,
        ) -> Result<bool> {
            Ok(match e {
                Expr::And(a, b) => {
                    eval(a, props, parents, in_tree)? && eval(b, props, parents, in_tree)?
                }
                Expr::Or(a, b) => {
                    eval(a, props, parents, in_tree)? || eval(b, props, parents, in_tree)?
                }
                Expr::Not(a) => !eval(a, props, parents, in_tree)?,
                Expr::InFolder(f) => parents.iter().any(|p| p == f),
                Expr::InTree(f) => in_tree(f)?,
                Expr::IsNull(id) => props.get(id).is_none_or(|v| v.is_empty()),
                Expr::Like(id, pat) => props
                    .get(id)
                    .and_then(|v| v.first_str())
                    .is_some_and(|s| like(s, pat)),
                Expr::In(id, list) => props
                    .get(id)
                    .is_some_and(|v| list.iter().any(|l| cmp_lit(v, l) == Some(Ordering::Equal))),
                Expr::Cmp(id, op, lit) => {
                    let Some(o) = props.get(id).and_then(|v| cmp_lit(v, lit)) else {
                        return Ok(false);
                    };
                    match *op {
                        "=" => o == Ordering::Equal,
                        "<>" => o != Ordering::Equal,
                        "<" => o == Ordering::Less,
                        "<=" => o != Ordering::Greater,
                        ">" => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }
                }
            })
        }
        match &self.filter {
            None => Ok(true),
            Some(e) => eval(e, props, parents, in_tree),
        }
    }

    pub fn sort(&self, rows: &mut [Properties]) {
        if self.order.is_empty() {
            rows.sort_by(|a, b| a.str("cmis:name").cmp(&b.str("cmis:name")));
            return;
        }
        rows.sort_by(|a, b| {
            for (id, asc) in &self.order {
                let o = cmp_values(a.get(id), b.get(id));
                let o = if *asc { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    /// Keeps only the selected properties.
    pub fn project(&self, mut props: Properties) -> Properties {
        if let Some(cols) = &self.select {
            props.0.retain(|k, _| cols.iter().any(|c| c == k));
        }
        props
    }
}

fn cmp_values(a: Option<&PropertyValue>, b: Option<&PropertyValue>) -> Ordering {
    use PropertyValue as V;
    match (a, b) {
        (Some(V::Integer(x)), Some(V::Integer(y))) => x.first().cmp(&y.first()),
        (Some(V::DateTime(x)), Some(V::DateTime(y))) => x.first().cmp(&y.first()),
        (Some(V::Boolean(x)), Some(V::Boolean(y))) => x.first().cmp(&y.first()),
        (Some(x), Some(y)) => x.first_str().cmp(&y.first_str()),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_forms() {
        let q = parse("SELECT * FROM cmis:document WHERE IN_FOLDER('f1') AND cmis:name LIKE 'a%' ORDER BY cmis:name DESC").unwrap();
        assert_eq!(q.from, "cmis:document");
        assert_eq!(q.only_in_folder(), Some("f1"));
        assert_eq!(q.order, vec![("cmis:name".to_string(), false)]);
        let q = parse("select cmis:name, cmis:objectId from cmis:folder where (cmis:name = 'it''s' or IN_TREE('x')) and not cmis:name in ('a','b')").unwrap();
        assert_eq!(q.select.as_ref().unwrap().len(), 2);
        assert!(q.only_in_folder().is_none());
        parse("SELECT * FROM cmis:document WHERE cmis:contentStreamLength >= 10 AND cmis:creationDate > TIMESTAMP '2020-01-01T00:00:00Z'").unwrap();
    }

    #[test]
    fn rejects_bad_statements() {
        for s in [
            "",
            "SELECT",
            "SELECT * FROM nope",
            "SELECT * FROM cmis:document WHERE",
            "SELECT * FROM cmis:document WHERE cmis:name = 'x",
            "SELECT * FROM cmis:document WHERE foo = 1",
            "SELECT * FROM cmis:document ORDER BY",
            "SELECT * FROM cmis:document extra",
            "SELECT * FROM cmis:document WHERE IN_FOLDER(x)",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn evaluates() {
        let q = parse("SELECT * FROM cmis:document WHERE cmis:name LIKE 'a_c%' OR IN_FOLDER('f')")
            .unwrap();
        let p = Properties::new().with_string("cmis:name", "abcdef");
        let no_tree = |_: &str| Ok(false);
        assert!(q.matches(&p, &[], &no_tree).unwrap());
        let p = Properties::new().with_string("cmis:name", "xyz");
        assert!(!q.matches(&p, &[], &no_tree).unwrap());
        assert!(q.matches(&p, &["f".to_string()], &no_tree).unwrap());
        assert!(like("100%", "100\\%"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("aXbYc", "a%b%c"));
        let long = "a".repeat(5000);
        assert!(!like(&long, "%a%a%a%a%a%a%a%a%b"));
        assert!(!like("100x", "100\\%"));
    }
}
