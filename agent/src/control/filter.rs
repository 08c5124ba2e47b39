//! Display filters for `peerscope dissect -Y`, a small subset of Wireshark's:
//! `FIELD` (present), `FIELD == VALUE`, `FIELD != VALUE`, and terms joined by `&&`
//! or `||` (evaluated left to right). A protocol name (`pplive`, `pptv`) is a field
//! present in every message of that generation.

use peerscope_dissector::Tree;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad filter {filter:?}: {reason}")]
pub struct FilterError {
    pub filter: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Present(String),
    Eq(String, String),
    Ne(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    first: Term,
    rest: Vec<(Join, Term)>,
}

fn term(s: &str, whole: &str) -> Result<Term, FilterError> {
    let bad = |reason| FilterError { filter: whole.to_string(), reason };
    let unquote = |v: &str| v.trim().trim_matches('"').to_string();
    let t = if let Some((f, v)) = s.split_once("==") {
        Term::Eq(f.trim().to_string(), unquote(v))
    } else if let Some((f, v)) = s.split_once("!=") {
        Term::Ne(f.trim().to_string(), unquote(v))
    } else {
        Term::Present(s.trim().to_string())
    };
    let name = match &t {
        Term::Eq(_, v) | Term::Ne(_, v) if v.is_empty() => return Err(bad("expected a value after the comparison")),
        Term::Present(n) | Term::Eq(n, _) | Term::Ne(n, _) => n,
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
        return Err(bad("expected a field name such as pplive.host.ip"));
    }
    Ok(t)
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let mut parts = Vec::new();
        let mut rest = s;
        let mut join = None;
        loop {
            let cut = [("&&", Join::And), ("||", Join::Or)]
                .into_iter()
                .filter_map(|(tok, j)| rest.find(tok).map(|i| (i, j)))
                .min_by_key(|(i, _)| *i);
            let (piece, next) = match &cut {
                Some((i, _)) => (&rest[..*i], Some(&rest[i + 2..])),
                None => (rest, None),
            };
            parts.push((join.take(), term(piece, s)?));
            match (cut, next) {
                (Some((_, j)), Some(n)) => {
                    join = Some(j);
                    rest = n;
                }
                _ => break,
            }
        }
        let mut it = parts.into_iter();
        let first = it.next().map(|(_, t)| t).ok_or(FilterError { filter: s.into(), reason: "empty filter" })?;
        Ok(Filter { first, rest: it.map(|(j, t)| (j.unwrap_or(Join::And), t)).collect() })
    }

    pub fn matches(&self, tree: &Tree) -> bool {
        let mut acc = eval(&self.first, tree);
        for (j, t) in &self.rest {
            acc = match j {
                Join::And => acc && eval(t, tree),
                Join::Or => acc || eval(t, tree),
            };
        }
        acc
    }
}

fn protocol(tree: &Tree) -> &'static str {
    match tree.generation {
        Some(peerscope_dissector::Generation::Pptv2010) => "pptv",
        _ => "pplive",
    }
}

fn eval(t: &Term, tree: &Tree) -> bool {
    let values = |name: &str| tree.find_all(name).map(|f| f.value.to_string()).collect::<Vec<_>>();
    match t {
        Term::Present(n) => n == protocol(tree) || tree.find(n).is_some(),
        Term::Eq(n, v) => values(n).iter().any(|x| x.eq_ignore_ascii_case(v)),
        Term::Ne(n, v) => {
            let vs = values(n);
            !vs.is_empty() && vs.iter().all(|x| !x.eq_ignore_ascii_case(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_dissector::{dissect, Hint};

    fn study_reply() -> Vec<u8> {
        let mut r = vec![0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02, 0, 0, 0, 1];
        r.extend_from_slice(&[0x3b, 0x40, 0xc6, 0xfa, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x18, 0, 7, 0, 0x35, 0]);
        r
    }

    #[test]
    fn test_presence_equality_and_joins() {
        let tree = dissect(&study_reply(), Hint::Auto).unwrap();
        let yes = |f: &str| Filter::parse(f).unwrap().matches(&tree);
        assert!(yes("pplive"));
        assert!(!yes("pptv"));
        assert!(yes("pplive.host.ip == 59.64.198.250"));
        assert!(!yes("pplive.host.ip == 59.64.198.251"));
        assert!(yes("pplive.host.udp_port == 4004 && pplive.host.tcp_port == 8008"));
        assert!(yes("pplive.gossip || pplive.tracker.count == 1"));
        assert!(yes("pplive.host.ip != 10.0.0.1"));
        assert!(!yes("pplive.gossip.channel != x"));
    }

    #[test]
    fn test_bad_filters_are_errors() {
        assert!(Filter::parse("").is_err());
        assert!(Filter::parse("pplive.host.ip == 1 &&").is_err());
        assert!(Filter::parse("a b").is_err());
        assert!(Filter::parse("pplive.host.ip ==").is_err());
    }
}
