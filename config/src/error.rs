//! Problems found while loading a configuration.

use std::fmt;

/// One thing wrong with a configuration, located by its key path.
///
/// `path` is the dotted TOML key path of the offending value, for example
/// `instances.shop-eu.schedules.stock_poll`; keys that are not bare TOML keys
/// are quoted (`instances.shop-eu.mapping.skus."blue shirt"`). It is empty for
/// problems with the document as a whole (an unreadable file, a TOML syntax
/// error). `message` says what is wrong and, where useful, what was expected.
///
/// A message never contains the value of a secret: it may name an environment
/// variable or a file that a secret comes from, never what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    /// Dotted key path of the offending value; empty for whole-document problems.
    pub path: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl Problem {
    /// Creates a problem at `path` (see [`Problem::path`]).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// Formats as `path: message`, or just `message` when the path is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a configuration; returned instead of a [`crate::Config`].
///
/// Loading does not stop at the first problem: the whole document is checked
/// and all problems are collected, in document order. `Display` prints one
/// problem per line (`path: message`), with no trailing newline, which is what
/// `ml-connector config check` shows. The list is never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems, in the order they were found (never empty).
    pub problems: Vec<Problem>,
}

impl ConfigErrors {
    /// Number of problems.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Whether there are no problems (never true for a returned error).
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.problems.iter()
    }

    /// The problems whose path is `path` exactly.
    pub fn at<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Problem> + 'a {
        let path = path.to_owned();
        self.problems.iter().filter(move |p| p.path == path)
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line, `path: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.problems.iter()
    }
}

impl IntoIterator for ConfigErrors {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.problems.into_iter()
    }
}
