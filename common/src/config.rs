//! What every role's configuration shares. Each binary's configuration is one clap struct
//! (derive, `env = "..."` on every setting, the default written once in its attribute),
//! parsed once at start-up with [`parse`]; nothing reads the environment later. This module
//! holds the pieces those structs share: value parsers for the units the variables use,
//! [`ConfigError`] for checks across settings, and [`parse_vars`] for unit tests.
//!
//! Every error names the variable: clap's messages show each setting as
//! `--flag <VARIABLE>` because [`command`] makes the variable the value's name, and
//! [`ConfigError`] starts with it.

use std::{ffi::OsStr, marker::PhantomData, time::Duration};

use clap::{builder::TypedValueParser, error::ErrorKind, Arg, Command, CommandFactory, Parser};

/// A setting, or a combination of settings, that clap's per-value checks cannot refuse.
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

/// `T`'s command as the binaries use it: every setting read from a variable shows that
/// variable as its value name (so clap's errors name it), and a variable that is set but
/// blank counts as unset (its default applies), in every subcommand.
pub fn command<T: CommandFactory>() -> Command {
    prepare(T::command())
}

fn prepare(command: Command) -> Command {
    command
        .mut_args(|arg| {
            let Some(name) = arg.get_env().and_then(OsStr::to_str).map(str::to_owned) else {
                return arg;
            };
            let arg = if arg.get_action().takes_values() {
                arg.value_name(name.clone())
            } else {
                arg
            };
            match std::env::var_os(&name) {
                Some(value) if value.to_string_lossy().trim().is_empty() => arg.env(None),
                _ => arg,
            }
        })
        .mut_subcommands(prepare)
}

/// Parses `T` from the command line and the environment, once, at start-up. On an error
/// (or `--help`) prints clap's message and exits.
pub fn parse<T: Parser>() -> T {
    let mut command = command::<T>();
    let mut matches = command.get_matches_mut();
    T::from_arg_matches_mut(&mut matches)
        .map_err(|error| error.format(&mut command))
        .unwrap_or_else(|error| error.exit())
}

/// Parses `T` (a command without subcommands) from `vars` alone, as if they were the
/// environment: the process environment is ignored. For unit tests.
pub fn parse_vars<T: Parser>(vars: &[(&str, &str)]) -> Result<T, clap::Error> {
    let mut command = prepare(T::command()).mut_args(|arg| arg.env(None));
    let mut argv = vec![command.get_name().to_owned()];
    for (name, value) in vars {
        if value.trim().is_empty() {
            continue;
        }
        let flag = T::command()
            .get_arguments()
            .find(|arg| arg.get_env() == Some(OsStr::new(name)))
            .and_then(Arg::get_long)
            .map(str::to_owned)
            .ok_or_else(|| {
                clap::Error::raw(
                    ErrorKind::UnknownArgument,
                    format!("{name} is not a setting of {}\n", command.get_name()),
                )
            })?;
        argv.push(format!("--{flag}={value}"));
    }
    let mut matches = command.try_get_matches_from_mut(argv)?;
    T::from_arg_matches_mut(&mut matches).map_err(|error| error.format(&mut command))
}

fn whole_number(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("not a whole number: {e}"))
}

/// A whole number greater than zero.
pub fn positive(text: &str) -> Result<u64, String> {
    match whole_number(text)? {
        0 => Err("must be greater than 0".into()),
        n => Ok(n),
    }
}

/// A count greater than zero (`usize`).
pub fn positive_count(text: &str) -> Result<usize, String> {
    usize::try_from(positive(text)?).map_err(|_| "too large".into())
}

/// A count, zero allowed (`usize`).
pub fn count(text: &str) -> Result<usize, String> {
    usize::try_from(whole_number(text)?).map_err(|_| "too large".into())
}

/// Milliseconds (`*_MS` variables), zero allowed.
pub fn millis(text: &str) -> Result<Duration, String> {
    whole_number(text).map(Duration::from_millis)
}

/// Milliseconds greater than zero.
pub fn positive_millis(text: &str) -> Result<Duration, String> {
    positive(text).map(Duration::from_millis)
}

/// Seconds greater than zero (`*_SECS` variables).
pub fn positive_secs(text: &str) -> Result<Duration, String> {
    positive(text).map(Duration::from_secs)
}

/// A value parser for secrets: like a function passed as `value_parser`, but its errors
/// never repeat the value (clap's own messages quote what was given).
pub fn secret<T, F>(parse: F) -> SecretParser<T, F>
where
    F: Fn(&str) -> Result<T, String>,
{
    SecretParser {
        parse,
        value: PhantomData,
    }
}

/// See [`secret`].
#[derive(Clone)]
pub struct SecretParser<T, F> {
    parse: F,
    value: PhantomData<fn() -> T>,
}

impl<T, F> TypedValueParser for SecretParser<T, F>
where
    T: Clone + Send + Sync + 'static,
    F: Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        command: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg
            .and_then(|arg| {
                arg.get_env()
                    .or(arg.get_value_names()?.first().map(|n| n.as_ref()))
            })
            .map_or_else(|| "value".into(), OsStr::to_string_lossy);
        let problem = match value.to_str() {
            Some(text) => match (self.parse)(text) {
                Ok(parsed) => return Ok(parsed),
                Err(problem) => problem,
            },
            None => "not UTF-8".to_owned(),
        };
        Err(clap::Error::raw(
            ErrorKind::ValueValidation,
            format!("invalid value for {name}: {problem}\n"),
        )
        .with_cmd(command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings of a test command.
    #[derive(Debug, Parser)]
    struct Settings {
        /// A count.
        #[arg(long, env = "COMMON_TEST_COUNT", default_value = "3", value_parser = positive)]
        count: u64,
        /// A secret.
        #[arg(long, env = "COMMON_TEST_SECRET", value_parser = secret(|s: &str| {
            if s.len() < 4 { Err("too short".to_owned()) } else { Ok(s.to_owned()) }
        }))]
        token: Option<String>,
    }

    #[test]
    fn errors_name_the_variable_and_hide_secrets() {
        let error = parse_vars::<Settings>(&[("COMMON_TEST_COUNT", "0")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("COMMON_TEST_COUNT"), "{error}");
        assert!(error.contains("greater than 0"), "{error}");
        let error = parse_vars::<Settings>(&[("COMMON_TEST_SECRET", "abc")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("COMMON_TEST_SECRET"), "{error}");
        assert!(error.contains("too short"), "{error}");
        assert!(!error.contains("abc"), "{error}");
    }

    #[test]
    fn blank_variables_count_as_unset() {
        let settings = parse_vars::<Settings>(&[("COMMON_TEST_COUNT", "  ")]).unwrap();
        assert_eq!(settings.count, 3);
        assert_eq!(settings.token, None);
        let settings = parse_vars::<Settings>(&[("COMMON_TEST_COUNT", "7")]).unwrap();
        assert_eq!(settings.count, 7);
    }

    #[test]
    fn config_errors_start_with_the_variable() {
        let error = ConfigError::new("A_VARIABLE", "must be below B").to_string();
        assert_eq!(error, "A_VARIABLE: must be below B");
    }
}
