//! Ctrl-C for child processes of the tests: SIGINT by the child's id, then a bounded wait.

use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

/// Sends SIGINT to `child` and waits up to 5 s for it to exit; a child still running then is
/// killed and `None` returned.
pub fn interrupt(child: &mut Child) -> Option<ExitStatus> {
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -INT {} failed", child.id());
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
