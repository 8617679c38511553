//! Test support (feature `test-support`): a real full disk, a small tmpfs.
//!
//! Mounting needs root. CI runs as root; a developer who is not gets the test
//! re-run in a user and mount namespace of its own (`unshare --user
//! --map-root-user --mount`), where mounting a tmpfs is allowed and the mount
//! (and every process the test starts) stays private to that namespace. When
//! neither works the test fails and says why: a disk-full test that silently
//! passes tests nothing.
//!
//! Linux only, as tmpfs is. Not for production code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the re-run test's environment, so that it mounts instead of re-running again.
const IN_NAMESPACE: &str = "LANYARD_TEST_IN_MOUNT_NAMESPACE";

/// Run `body` where a tmpfs can be mounted: here when running as root (or
/// already re-run), otherwise by re-running the test `name` (its path as the
/// test harness prints it, e.g. `full_disk::the_store_recovers`) under
/// `unshare`, and failing if that run fails.
pub fn with_mount_rights(name: &str, body: impl FnOnce()) {
    if is_root() || std::env::var_os(IN_NAMESPACE).is_some() {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_NAMESPACE, "1")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test mounts a small tmpfs to fill a disk: it needs root, or `unshare` (util-linux) to re-run it in a user namespace, and `unshare` cannot run: {e}"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "the test re-run under `unshare --user --map-root-user --mount` (it needs to mount a tmpfs, and is not root) failed; if unshare itself was refused, run it as root or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1):\n{text}"
    );
    print!("{text}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// A tmpfs of a few MiB, mounted on a temporary directory, unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `mib` MiB. Call inside [`with_mount_rights`].
    pub fn mount(mib: u32) -> Tmpfs {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("`mount` runs");
        assert!(
            out.status.success(),
            "cannot mount a {mib} MiB tmpfs on {} (the test needs root or a user namespace): {}",
            dir.path().display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let filler = dir.path().join("filler");
        Tmpfs { dir, filler }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Take every free byte with a filler file: from now on any write that
    /// needs a new page fails with "No space left on device".
    pub fn fill(&self) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)
            .expect("the filler file opens");
        let chunk = vec![0xa5u8; 64 * 1024];
        let mut size = chunk.len();
        // Smaller and smaller writes, down to one byte, so the disk is full
        // to the last page.
        while size > 0 {
            match f.write(&chunk[..size]) {
                Ok(0) => size /= 2,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => size /= 2, // ENOSPC
                Err(e) => panic!("cannot fill the tmpfs: {e}"),
            }
        }
        let _ = f.sync_all();
    }

    /// Fill the disk but for `bytes` (rounded up to whole pages): a write
    /// that needs no more than that succeeds, the next fails.
    pub fn fill_leaving(&self, bytes: u64) {
        self.fill();
        let page = 4096;
        let keep = bytes.div_ceil(page) * page;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.filler)
            .expect("the filler file opens");
        let len = f.metadata().expect("the filler's size").len();
        assert!(len >= keep, "the tmpfs is too small to leave {keep} bytes");
        f.set_len(len - keep).expect("the filler file shrinks");
    }

    /// Free the space [`Tmpfs::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(&self.filler).expect("the filler file is removed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a process the test started may still hold a file in it.
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}
