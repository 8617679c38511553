//! The real daemon as a child process, for the tests that run `lanyard serve`
//! (`crash.rs`, `disk_full.rs`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `lanyard serve` and everything it printed.
pub struct Daemon {
    child: Child,
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Start `lanyard serve --config config` on a free port with the log
    /// filter `log`, and wait until it says where it serves.
    pub fn start(config: &Path, log: &str) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lanyard"))
            .args(["serve", "--config"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("LANYARD_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the lanyard binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        // Drained for the daemon's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or_default().to_string();
                    let _ = tx.send(url);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("lanyard did not say where it serves:\n{}", log.lock().unwrap().join("\n")));
        Daemon { child, url, log }
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL: no shutdown code runs.
    #[allow(dead_code)] // not every test binary kills
    pub fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait (at most 60 s) for the exit.
    #[allow(dead_code)] // not every test binary stops it so
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "kill -TERM {}", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the daemon's status") {
                return status;
            }
            assert!(Instant::now() < deadline, "lanyard did not stop within 60 s of SIGTERM:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
