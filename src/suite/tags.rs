//! Tag expressions for `--tags`: `timing`, `nack and not slow`, `header|udp`, `(a or b) & !c`.
//! `,` means or. Words are tags; `and`/`&`, `or`/`|`/`,`, `not`/`!` and parentheses combine them.

/// A parsed tag expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagExpr {
    Tag(String),
    Not(Box<TagExpr>),
    And(Box<TagExpr>, Box<TagExpr>),
    Or(Box<TagExpr>, Box<TagExpr>),
}

impl TagExpr {
    pub fn parse(text: &str) -> Result<TagExpr, String> {
        let tokens = tokenize(text);
        let mut p = Parser { tokens: &tokens, at: 0 };
        let e = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(e),
            Some(t) => Err(format!("unexpected `{t}` in tag expression `{text}`")),
        }
    }

    /// Every tag the expression names, in order of appearance.
    pub fn names(&self) -> Vec<&str> {
        match self {
            TagExpr::Tag(t) => vec![t.as_str()],
            TagExpr::Not(e) => e.names(),
            TagExpr::And(a, b) | TagExpr::Or(a, b) => {
                let mut n = a.names();
                n.extend(b.names());
                n
            }
        }
    }

    pub fn matches(&self, tags: &[String]) -> bool {
        match self {
            TagExpr::Tag(t) => tags.iter().any(|x| x == t),
            TagExpr::Not(e) => !e.matches(tags),
            TagExpr::And(a, b) => a.matches(tags) && b.matches(tags),
            TagExpr::Or(a, b) => a.matches(tags) || b.matches(tags),
        }
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if matches!(c, '(' | ')' | '&' | '|' | '!' | ',') || c.is_whitespace() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn or(&mut self) -> Result<TagExpr, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("or" | "|" | ",")) {
            self.at += 1;
            left = TagExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<TagExpr, String> {
        let mut left = self.not()?;
        while matches!(self.peek(), Some("and" | "&")) {
            self.at += 1;
            left = TagExpr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<TagExpr, String> {
        if matches!(self.peek(), Some("not" | "!")) {
            self.at += 1;
            return Ok(TagExpr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<TagExpr, String> {
        match self.peek() {
            Some("(") => {
                self.at += 1;
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return Err("missing `)` in tag expression".into());
                }
                self.at += 1;
                Ok(e)
            }
            Some(t @ (")" | "&" | "|" | "," | "and" | "or")) => {
                Err(format!("expected a tag, found `{t}`"))
            }
            Some(t) => {
                let t = t.to_owned();
                self.at += 1;
                Ok(TagExpr::Tag(t))
            }
            None => Err("expected a tag at the end of the tag expression".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let e = TagExpr::parse("a or b and not c").unwrap();
        assert!(e.matches(&tags(&["a", "c"])));
        assert!(e.matches(&tags(&["b"])));
        assert!(!e.matches(&tags(&["b", "c"])));
        let e = TagExpr::parse("(a|b) & !c").unwrap();
        assert!(!e.matches(&tags(&["a", "c"])));
        assert!(TagExpr::parse("a,b").unwrap().matches(&tags(&["b"])));
    }

    #[test]
    fn malformed_expressions_are_explained() {
        assert!(TagExpr::parse("a and").unwrap_err().contains("expected a tag"));
        assert!(TagExpr::parse("(a").unwrap_err().contains("missing `)`"));
        assert!(TagExpr::parse("a b").unwrap_err().contains("unexpected `b`"));
    }
}
