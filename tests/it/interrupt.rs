//! Signals for child processes of the tests (Ctrl-C's SIGINT, CI's SIGTERM) by the child's
//! id, then a bounded wait.

use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

/// Sends SIGINT to `child` and waits up to 5 s for it to exit; a child still running then is
/// killed and `None` returned.
pub fn interrupt(child: &mut Child) -> Option<ExitStatus> {
    signal(child, "INT")
}

/// Sends the signal `name` (`INT`, `TERM`, `HUP`) to `child`, then waits as [`interrupt`].
pub fn signal(child: &mut Child, name: &str) -> Option<ExitStatus> {
    let sent = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -{name} {} failed", child.id());
    for _ in 0..250 {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}
