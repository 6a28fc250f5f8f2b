//! Process limits. Every long poll holds a socket, so thousands of open tabs need more
//! file descriptors than the usual soft limit of 1024; the hard limit is ours to take.

/// Raises the soft limit on open files to the hard limit; returns the limit now in force.
#[cfg(unix)]
pub fn raise_open_files() -> std::io::Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    Ok(open_files())
}

#[cfg(not(unix))]
pub fn raise_open_files() -> std::io::Result<u64> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The limit on open files in force now (`u64::MAX`: none).
#[cfg(unix)]
pub fn open_files() -> u64 {
    use rustix::process::{getrlimit, Resource};
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Without rlimits, the figure a Unix server usually gets.
#[cfg(not(unix))]
pub fn open_files() -> u64 {
    1024
}
