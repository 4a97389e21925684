//! CPU time from getrusage, split into user and kernel: the figure a loaded machine changes
//! least. Included by the benches and examples that print it
//! (`#[path = "support/cpu_time.rs"] mod cpu_time;`).

/// Whose CPU time: this process, or the children it has waited for.
#[allow(dead_code)]
pub enum Who {
    Me,
    WaitedChildren,
}

/// User and kernel CPU seconds of `who` so far.
pub fn user_and_kernel(who: Who) -> (f64, f64) {
    let who = match who {
        Who::Me => libc::RUSAGE_SELF,
        Who::WaitedChildren => libc::RUSAGE_CHILDREN,
    };
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given, and `who` is one it knows.
    let usage = unsafe {
        libc::getrusage(who, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}
