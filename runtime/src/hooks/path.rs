//! Path templates of HTTP routes, as API Gateway writes them: `/orders/{id}` takes one
//! segment as the path parameter `id`, and a last `{rest+}` takes the rest of the path.
//! When several templates match a request, the most specific wins (a literal segment
//! before a parameter before a greedy one, from the left), as API Gateway chooses.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The longest template, in bytes.
const MAX_TEMPLATE_BYTES: usize = 1024;

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Matches exactly this text.
    Literal(String),
    /// Matches one non-empty segment, bound to the name.
    Param(String),
    /// Matches one or more segments (the rest of the path), bound to the name.
    Greedy(String),
}

/// A checked path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// Why a template is not valid, in words for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path '{path}': {reason}")]
pub struct Invalid {
    /// The template as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Template {
    /// Checks `path` as a template: it starts with `/`, has no empty segment (a trailing
    /// `/` aside), names each parameter once with letters, digits, `_` or `-`, and only
    /// its last segment may be greedy.
    ///
    /// # Errors
    /// [`Invalid`] naming the problem.
    pub fn parse(path: &str) -> Result<Template, Invalid> {
        let invalid = |reason: &str| Invalid {
            path: path.to_string(),
            reason: reason.to_string(),
        };
        if path.len() > MAX_TEMPLATE_BYTES {
            return Err(invalid("longer than 1024 bytes"));
        }
        let Some(rest) = path.strip_prefix('/') else {
            return Err(invalid("it must start with '/'"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = Vec::new();
        let mut names = std::collections::HashSet::new();
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            let last = parts.len() - 1;
            for (i, part) in parts.iter().enumerate() {
                let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(inner) => {
                        let (name, greedy) = match inner.strip_suffix('+') {
                            Some(name) => (name, true),
                            None => (inner, false),
                        };
                        if name.is_empty()
                            || !name
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        {
                            return Err(invalid(&format!(
                                "the parameter '{{{inner}}}' must be named with letters, digits, '_' or '-'"
                            )));
                        }
                        if !names.insert(name.to_string()) {
                            return Err(invalid(&format!("the parameter '{name}' appears twice")));
                        }
                        match greedy {
                            true if i != last => {
                                return Err(invalid(
                                    "only the last segment may be greedy ({name+})",
                                ))
                            }
                            true => Segment::Greedy(name.to_string()),
                            false => Segment::Param(name.to_string()),
                        }
                    }
                    None if part.is_empty() => return Err(invalid("it has an empty segment")),
                    None if part.contains(['{', '}']) => {
                        return Err(invalid(
                            "a parameter must be a whole segment, as in /orders/{id}",
                        ))
                    }
                    None => Segment::Literal((*part).to_string()),
                };
                segments.push(segment);
            }
        }
        Ok(Template { segments })
    }

    /// The path parameters when `path` (percent-decoded segments joined by `/`, without the
    /// query) matches; `None` when it does not.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let parts: Vec<&str> = match rest.is_empty() {
            true => Vec::new(),
            false => rest.split('/').collect(),
        };
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(text) => {
                    if parts.get(i) != Some(&text.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), decode(part));
                }
                Segment::Greedy(name) => {
                    let tail = parts.get(i..).filter(|t| !t.is_empty())?;
                    let joined: Vec<String> = tail.iter().map(|p| decode(p)).collect();
                    params.insert(name.clone(), joined.join("/"));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Orders templates by how specific they are, most specific first: the first segment
    /// where they differ decides (literal, then parameter, then greedy), then the longer one.
    pub fn specificity(&self, other: &Template) -> Ordering {
        let rank = |s: &Segment| match s {
            Segment::Literal(_) => 0,
            Segment::Param(_) => 1,
            Segment::Greedy(_) => 2,
        };
        for (a, b) in self.segments.iter().zip(&other.segments) {
            match rank(a).cmp(&rank(b)) {
                Ordering::Equal => continue,
                unequal => return unequal,
            }
        }
        other.segments.len().cmp(&self.segments.len())
    }
}

/// A path segment percent-decoded (invalid escapes are kept as written; `+` stays `+`).
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(template: &str, path: &str) -> Option<Vec<(String, String)>> {
        Template::parse(template)
            .unwrap()
            .matches(path)
            .map(|m| m.into_iter().collect())
    }

    #[test]
    fn templates_bind_segments_and_the_rest() {
        assert_eq!(params("/orders", "/orders"), Some(vec![]));
        assert_eq!(params("/orders", "/orders/"), Some(vec![]));
        assert_eq!(params("/orders", "/order"), None);
        assert_eq!(
            params("/orders/{id}", "/orders/a%20b"),
            Some(vec![("id".into(), "a b".into())])
        );
        assert_eq!(params("/orders/{id}", "/orders"), None);
        assert_eq!(params("/orders/{id}", "/orders/1/items"), None);
        assert_eq!(
            params("/files/{path+}", "/files/a/b/c.txt"),
            Some(vec![("path".into(), "a/b/c.txt".into())])
        );
        assert_eq!(params("/files/{path+}", "/files"), None);
        assert_eq!(params("/", "/"), Some(vec![]));
        assert_eq!(params("/", "/x"), None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (path, reason) in [
            ("orders", "start with '/'"),
            ("/a//b", "empty segment"),
            ("/a/{}", "must be named"),
            ("/a/{x y}", "must be named"),
            ("/{id}/{id}", "appears twice"),
            ("/{rest+}/x", "only the last segment"),
            ("/a{id}", "whole segment"),
        ] {
            let e = Template::parse(path).unwrap_err();
            assert!(e.reason.contains(reason), "{path}: {e}");
        }
    }

    #[test]
    fn the_most_specific_template_comes_first() {
        let mut templates: Vec<Template> = [
            "/{any+}",
            "/orders/{id}",
            "/orders/new",
            "/orders/{id}/items",
        ]
        .iter()
        .map(|t| Template::parse(t).unwrap())
        .collect();
        templates.sort_by(Template::specificity);
        let first_match = |path: &str| {
            templates
                .iter()
                .position(|t| t.matches(path).is_some())
                .unwrap()
        };
        assert_eq!(first_match("/orders/new"), 0);
        assert_eq!(first_match("/orders/7"), 2);
        assert_eq!(first_match("/orders/7/items"), 1);
        assert_eq!(first_match("/elsewhere"), 3);
    }
}
