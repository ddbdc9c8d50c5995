//! A child process owned by a test: started with an environment, output to a log file,
//! killed on drop.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

use super::{log_dir, HarnessError};

/// A running process started by a test.
pub struct ServiceProcess {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    log_path: PathBuf,
}

impl ServiceProcess {
    /// Starts `program` with `args` and `env` (added to the test's own environment, minus
    /// variables that would leak this machine's settings into the test: `RUST_LOG` is kept).
    pub fn spawn(
        name: &str,
        program: impl AsRef<Path>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, HarnessError> {
        let mut process = Self {
            name: name.to_owned(),
            program: program.as_ref().to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            log_path: log_dir().join(format!(
                "{name}-{}-{}.log",
                std::process::id(),
                unique_suffix()
            )),
        };
        process.start()?;
        Ok(process)
    }

    fn start(&mut self) -> Result<(), HarnessError> {
        let spawn_error = |source| HarnessError::Spawn {
            what: format!("{} ({})", self.name, self.program.display()),
            source,
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(spawn_error)?;
        let log_err = log.try_clone().map_err(spawn_error)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(spawn_error)?;
        self.child = Some(child);
        Ok(())
    }

    /// Name given at spawn, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The OS process id, if running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Where stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything the process printed so far.
    pub fn log_contents(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process at once (SIGKILL), as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine; we only need it gone.
            if child.kill().is_ok() {
                child.wait().ok();
            }
        }
    }

    /// Freezes the process (SIGSTOP), as a long GC pause, a VM migration or a debugger would:
    /// it keeps its sockets and its work in flight but does nothing until [`Self::resume`].
    pub fn pause(&self) -> std::io::Result<()> {
        self.signal(Signal::SIGSTOP)
    }

    /// Lets a paused process run again (SIGCONT).
    pub fn resume(&self) -> std::io::Result<()> {
        self.signal(Signal::SIGCONT)
    }

    fn signal(&self, signal: Signal) -> std::io::Result<()> {
        let pid = self
            .pid()
            .and_then(|pid| i32::try_from(pid).ok())
            .ok_or_else(|| std::io::Error::other(format!("{} is not running", self.name)))?;
        nix::sys::signal::kill(Pid::from_raw(pid), signal).map_err(std::io::Error::from)
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit status; kills it if it does not
    /// exit by then and returns `None`.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let pid = Pid::from_raw(i32::try_from(child.id()).ok()?);
        if nix::sys::signal::kill(pid, Signal::SIGTERM).is_err() {
            return child.wait().ok();
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().ok();
        child.wait().ok();
        None
    }

    /// Starts the process again with the same program, arguments and environment.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.kill();
        self.start()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
