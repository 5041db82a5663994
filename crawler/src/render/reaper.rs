//! Finding and killing the processes of one browser profile.
//!
//! Chromium is a tree of processes (browser, zygotes, renderers, GPU and network services).
//! Killing the browser process normally takes the rest down, but a crash or a kill at the wrong
//! moment can leave orphans that keep memory and CPU. Every process of a browser started by the
//! [`super::Renderer`] carries the renderer's private `--user-data-dir` on its command line, so
//! `/proc` tells exactly which processes are ours — never another user's or another run's browser.
//! Linux only (`/proc`); elsewhere the lists are empty and only the browser process is killed.

use std::path::Path;
use std::time::{Duration, Instant};

/// Ids of live (not zombie) processes whose command line holds `--user-data-dir=<profile>`.
pub fn profile_processes(profile: &Path) -> Vec<u32> {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmd| {
                cmd.split(|&b| b == 0)
                    .any(|arg| arg == needle.as_bytes() || arg.starts_with(needle.as_bytes()))
            }) && !is_zombie(*pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// True for a process that exited but was not reaped yet (it holds no resources but its pid).
pub fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // `pid (comm) S …`: the state follows the last `)` (comm may contain spaces).
            let rest = &s[s.rfind(')')? + 1..];
            rest.split_whitespace()
                .next()
                .map(|st| st == "Z" || st == "X")
        })
        .unwrap_or(false)
}

/// The processes of `profile` and all their descendants (a zygote or utility process need not
/// repeat the profile argument). Read it *before* killing the browser: orphans are re-parented
/// and the tree is lost.
pub fn profile_tree(profile: &Path) -> Vec<u32> {
    let mut tree = profile_processes(profile);
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return tree;
    };
    let parents: Vec<(u32, u32)> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        for (pid, ppid) in &parents {
            if *ppid == p && !tree.contains(pid) {
                tree.push(*pid);
            }
        }
        i += 1;
    }
    tree.sort_unstable();
    tree
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

/// Kills every process of `profile`, plus `also` (a tree read before the browser was killed),
/// and waits (up to `wait`) until none is left. Returns how many were still alive when the wait
/// ended.
pub fn kill_profile(profile: &Path, also: &[u32], wait: Duration) -> usize {
    let started = Instant::now();
    loop {
        let mut pids = profile_processes(profile);
        pids.extend(also.iter().copied().filter(|p| alive(*p)));
        pids.sort_unstable();
        pids.dedup();
        if pids.is_empty() {
            return 0;
        }
        for pid in &pids {
            kill(*pid);
        }
        if started.elapsed() >= wait {
            tracing::warn!(left = pids.len(), profile = %profile.display(), "chromium processes survived SIGKILL");
            return pids.len();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGKILL to one process; a process that already exited is not an error.
fn kill(pid: u32) {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::KILL)
        && e != rustix::io::Errno::SRCH
    {
        tracing::debug!(pid = pid.as_raw_nonzero().get(), error = %e, "kill failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_kills_processes_by_profile_argument() {
        let profile = std::env::temp_dir().join(format!("baqylau-reaper-{}", std::process::id()));
        // `read` is a shell builtin: the marked shell is the only process, blocked on its stdin.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "read line"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("spawn a marked process");
        let deadline = Instant::now() + Duration::from_secs(5);
        while profile_processes(&profile).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(profile_processes(&profile), vec![child.id()]);
        assert_eq!(profile_tree(&profile), vec![child.id()]);
        assert_eq!(kill_profile(&profile, &[], Duration::from_secs(5)), 0);
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed, not exited: {status:?}");
        assert!(profile_processes(&profile).is_empty());
        let other = profile.with_extension("other");
        assert!(profile_processes(&other).is_empty());
    }
}
