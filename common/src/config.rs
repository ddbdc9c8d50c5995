//! Reading typed configuration from environment variables, with errors that name the
//! variable. Each process role builds its own config struct from these pieces once, at
//! start-up; nothing reads the environment later.

use std::{str::FromStr, time::Duration};

/// A configuration variable that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    variable: String,
    problem: String,
}

impl ConfigError {
    /// An error about `variable`.
    pub fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            problem: problem.into(),
        }
    }
}

/// A source of variables: the process environment, or a closure in tests. Blank values
/// count as unset.
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

/// The process environment.
pub fn process_env() -> Env<impl Fn(&str) -> Option<String>> {
    Env::new(|name: &str| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Variables looked up through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value, if set and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value, or an error saying it is required and what it is.
    pub fn required(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(name, format!("required ({what})")))
    }

    /// The value parsed as `T`, or `default` when unset.
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|e| ConfigError::new(name, format!("invalid value {value:?}: {e}"))),
        }
    }

    /// A whole number greater than zero, or `default` when unset.
    pub fn positive(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        match self.parsed(name, default)? {
            0 => Err(ConfigError::new(name, "must be greater than 0")),
            n => Ok(n),
        }
    }

    /// A positive count that fits in memory sizes (`usize`).
    pub fn positive_usize(&self, name: &str, default: usize) -> Result<usize, ConfigError> {
        let value = self.positive(name, u64::try_from(default).unwrap_or(u64::MAX))?;
        usize::try_from(value).map_err(|_| ConfigError::new(name, "too large"))
    }

    /// Milliseconds (`NAME_MS` style variables), or `default_ms` when unset.
    pub fn millis(&self, name: &str, default_ms: u64) -> Result<Duration, ConfigError> {
        self.parsed(name, default_ms).map(Duration::from_millis)
    }

    /// Seconds greater than zero (`NAME_SECS` style variables), or `default_secs` when unset.
    pub fn secs(&self, name: &str, default_secs: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default_secs).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::new(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn errors_name_the_variable() {
        let env = env(&[("A", "x"), ("Z", "0"), ("BLANK", "  ")]);
        assert!(env
            .parsed::<u64>("A", 1)
            .unwrap_err()
            .to_string()
            .starts_with("A:"));
        assert!(env
            .positive("Z", 1)
            .unwrap_err()
            .to_string()
            .starts_with("Z:"));
        assert_eq!(env.positive("BLANK", 7).unwrap(), 7);
        assert!(env
            .required("MISSING", "the thing")
            .unwrap_err()
            .to_string()
            .contains("the thing"));
    }
}
