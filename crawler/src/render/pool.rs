//! The tab pool: one browser process, N tabs, one OS thread per tab.
//!
//! Jobs arrive on one channel; whichever tab thread is free takes the next one, so a slow page
//! holds one tab and the others keep working. A job that fails with a browser error or a timeout
//! costs its tab: the tab is closed (which also kills a renderer stuck in an endless script) and
//! a fresh one is opened for the next job. If the browser itself stopped answering, the first
//! thread to notice kills it with every process of its profile and the next tab request launches
//! a new one; a job that failed because the browser died is retried once on the new browser.
//! The `generation` counter makes that recovery happen once per dead browser, not once per
//! thread.
//!
//! Between jobs a tab does only what the next job needs: the device emulation (metrics and user
//! agent) lasts across navigations, so it is set again only when the viewport changes, and the
//! tab is parked on `about:blank` only when no job is waiting (the next job's navigation leaves
//! the page anyway). Each saved DevTools call is 50–100 ms of a shot's latency (module `tab`).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use headless_chrome::protocol::cdp::Target::CreateTarget;
use headless_chrome::{Browser, LaunchOptions, Tab};
use model::Viewport;

use super::egress::{EgressCounters, EgressProxy};
use super::{Job, Output, RenderError, RendererConfig, Task, network_args, reaper, tab};
use crate::resolve::{ResolveRule, TargetGuard};

/// How long the reaper waits for killed processes to disappear.
const REAP_WAIT: Duration = Duration::from_secs(5);
/// Bound on browser-level calls (new tab, version probe).
const BROWSER_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Running pool: the job channel, the tab threads and the browser they share.
pub(super) struct Pool {
    tx: Option<std_mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    /// Dropping it stops the heartbeat thread.
    stop_heartbeat: Option<std_mpsc::Sender<()>>,
    slot: Arc<Slot>,
}

/// The browser, shared by the tab threads.
struct Slot {
    cfg: RendererConfig,
    profile: PathBuf,
    /// The profile directory was created by us and is removed on shutdown.
    owns_profile: bool,
    state: Mutex<SlotState>,
    launches: AtomicU64,
    /// Every connection of every browser generation goes through it.
    egress: EgressProxy,
}

struct SlotState {
    browser: Option<Browser>,
    /// Bumped each time a browser is killed; tabs remember the generation they were opened in.
    generation: u64,
}

/// A tab and the browser generation it belongs to.
type TabHandle = (u64, Arc<Tab>);

/// A tab thread's tab: its handle and the viewport it currently emulates.
struct Held {
    tab: Option<TabHandle>,
    emulating: Option<Viewport>,
}

impl Pool {
    pub(super) fn start(cfg: RendererConfig) -> Result<Pool, RenderError> {
        let (profile, owns_profile) = match &cfg.profile_dir {
            Some(p) => (p.clone(), false),
            None => (fresh_profile_dir(), true),
        };
        std::fs::create_dir_all(&profile).map_err(|e| RenderError::Launch {
            path: cfg.chrome_path.clone(),
            message: format!("cannot create profile {}: {e}", profile.display()),
        })?;
        let tabs = cfg.tabs.max(1);
        let rules: Vec<ResolveRule> = cfg
            .host_map
            .iter()
            .map(|(host, addr)| ResolveRule {
                host: host.clone(),
                addr: *addr,
            })
            .collect();
        let egress =
            EgressProxy::start(TargetGuard::new(&rules)).map_err(|e| RenderError::Launch {
                path: cfg.chrome_path.clone(),
                message: format!("cannot start the egress proxy: {e}"),
            })?;
        let slot = Arc::new(Slot {
            cfg,
            profile,
            owns_profile,
            state: Mutex::new(SlotState {
                browser: None,
                generation: 0,
            }),
            launches: AtomicU64::new(0),
            egress,
        });
        // Fail fast: a missing or broken Chromium is reported at start, not on the first case.
        let launched = {
            let mut st = slot.lock();
            slot.ensure_browser(&mut st)
        };
        if let Err(e) = launched {
            slot.shutdown();
            return Err(e);
        }
        let (tx, rx) = std_mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut workers = Vec::with_capacity(tabs);
        for i in 0..tabs {
            let (tab_slot, rx) = (Arc::clone(&slot), Arc::clone(&rx));
            let spawned = std::thread::Builder::new()
                .name(format!("chromium-tab-{i}"))
                .spawn(move || worker(&tab_slot, &rx));
            match spawned {
                Ok(h) => workers.push(h),
                Err(e) => {
                    drop(tx);
                    for w in workers {
                        let _ = w.join();
                    }
                    slot.shutdown();
                    return Err(RenderError::Launch {
                        path: PathBuf::new(),
                        message: format!("cannot start tab thread: {e}"),
                    });
                }
            }
        }
        let (stop_tx, stop_rx) = std_mpsc::channel::<()>();
        let beat_slot = Arc::clone(&slot);
        match std::thread::Builder::new()
            .name("chromium-heartbeat".into())
            .spawn(move || heartbeat(&beat_slot, &stop_rx))
        {
            Ok(h) => workers.push(h),
            Err(e) => tracing::warn!(error = %e, "no chromium heartbeat thread"),
        }
        Ok(Pool {
            tx: Some(tx),
            workers,
            stop_heartbeat: Some(stop_tx),
            slot,
        })
    }

    pub(super) fn send(&self, job: Job) -> Result<(), RenderError> {
        self.tx
            .as_ref()
            .ok_or(RenderError::Stopped)?
            .send(job)
            .map_err(|_| RenderError::Stopped)
    }

    pub(super) fn profile_dir(&self) -> &Path {
        &self.slot.profile
    }

    pub(super) fn browser_pid(&self) -> Option<u32> {
        self.slot
            .lock()
            .browser
            .as_ref()
            .and_then(Browser::get_process_id)
    }

    pub(super) fn launches(&self) -> u64 {
        self.slot.launches.load(Ordering::Relaxed)
    }

    pub(super) fn egress(&self) -> &EgressCounters {
        self.slot.egress.counters()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the channel ends the tab threads' loops once their current job is done.
        self.tx.take();
        self.stop_heartbeat.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        self.slot.shutdown();
    }
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ensure_browser(&self, st: &mut SlotState) -> Result<(), RenderError> {
        if st.browser.is_none() {
            st.browser = Some(launch(&self.cfg, &self.profile, self.egress.addr())?);
            self.launches.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Opens a tab, launching (or relaunching) the browser as needed.
    fn new_tab(&self) -> Result<TabHandle, RenderError> {
        let mut st = self.lock();
        for attempt in 0..2 {
            self.ensure_browser(&mut st)?;
            let opened = st.browser.as_ref().map(open_window);
            match opened {
                Some(Ok(t)) => {
                    t.set_default_timeout(self.cfg.nav_timeout);
                    return Ok((st.generation, t));
                }
                Some(Err(e)) if attempt == 0 => {
                    tracing::warn!(error = %e, "chromium cannot open a tab; relaunching it");
                    self.kill_browser(&mut st);
                }
                Some(Err(e)) => {
                    return Err(RenderError::Launch {
                        path: self.cfg.chrome_path.clone(),
                        message: format!("cannot open a tab: {e}"),
                    });
                }
                None => {}
            }
        }
        Err(RenderError::Stopped)
    }

    /// Called after a tab of `generation` failed. Kills the browser if it no longer answers, or
    /// when `doomed` (see [`is_call_timeout`]). Returns true when the browser the tab belonged to
    /// is gone (so a retry may succeed).
    fn recover(&self, generation: u64, doomed: bool) -> bool {
        let mut st = self.lock();
        if st.generation != generation {
            return true;
        }
        let alive = !doomed && st.browser.as_ref().is_some_and(|b| b.get_version().is_ok());
        if alive {
            return false;
        }
        tracing::warn!(
            pid = st.browser.as_ref().and_then(Browser::get_process_id),
            "chromium stopped answering; killing it"
        );
        self.kill_browser(&mut st);
        true
    }

    fn kill_browser(&self, st: &mut SlotState) {
        // Dropping `Browser` kills and reaps the browser process; the reaper takes the rest of
        // the tree (zygotes, renderers) that may outlive it.
        let tree = reaper::profile_tree(&self.profile);
        if let Some(b) = st.browser.take() {
            tracing::debug!(pid = b.get_process_id(), "closing chromium");
            drop(b);
        }
        reaper::kill_profile(&self.profile, &tree, REAP_WAIT);
        st.generation += 1;
    }

    fn shutdown(&self) {
        let mut st = self.lock();
        self.kill_browser(&mut st);
        if self.owns_profile
            && let Err(e) = std::fs::remove_dir_all(&self.profile)
        {
            tracing::debug!(profile = %self.profile.display(), error = %e, "cannot remove chromium profile");
        }
    }
}

/// Opens a tab in a window of its own. Headless Chromium stops producing frames for a tab that
/// is not the front tab of its window, and a screenshot of such a tab waits forever; one window
/// per tab keeps every pooled tab visible, so tabs can shoot at the same time.
fn open_window(browser: &Browser) -> Result<Arc<Tab>, String> {
    browser
        .new_tab_with_options(CreateTarget {
            url: "about:blank".to_string(),
            left: None,
            top: None,
            width: None,
            height: None,
            window_state: None,
            browser_context_id: None,
            enable_begin_frame_control: None,
            new_window: Some(true),
            background: Some(false),
            for_tab: None,
            hidden: None,
        })
        .map_err(|e| e.to_string())
}

/// A new, unique profile directory under the system temp directory.
fn fresh_profile_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "baqylau-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn launch(
    cfg: &RendererConfig,
    profile: &Path,
    egress: SocketAddr,
) -> Result<Browser, RenderError> {
    let err = |message: String| RenderError::Launch {
        path: cfg.chrome_path.clone(),
        message,
    };
    if !cfg.chrome_path.exists() {
        return Err(err(
            "binary not found (apt-get install -y chromium fonts-noto-color-emoji)".into(),
        ));
    }
    // A killed browser leaves its singleton lock behind; the profile is ours alone.
    for f in ["SingletonLock", "SingletonSocket", "SingletonCookie"] {
        let _ = std::fs::remove_file(profile.join(f));
    }
    let mut args: Vec<OsString> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--mute-audio",
        "--font-render-hinting=none",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.extend(network_args(egress).into_iter().map(OsString::from));
    let opts = LaunchOptions {
        headless: true,
        // CI runs as root, where Chromium refuses to start with its sandbox.
        sandbox: false,
        window_size: Some((cfg.width, cfg.height)),
        path: Some(cfg.chrome_path.clone()),
        user_data_dir: Some(profile.to_path_buf()),
        args: args.iter().map(|a| a.as_os_str()).collect(),
        // `headless_chrome` waits this long for the answer to any DevTools call, so it is the
        // bound on a call to a wedged page; idle tab threads ping well within it.
        idle_browser_timeout: call_timeout(cfg.nav_timeout),
        ..LaunchOptions::default()
    };
    let browser = Browser::new(opts).map_err(|e| err(e.to_string()))?;
    browser.set_default_timeout(BROWSER_CALL_TIMEOUT);
    tracing::info!(pid = browser.get_process_id(), profile = %profile.display(), "chromium started");
    Ok(browser)
}

fn worker(slot: &Slot, rx: &Mutex<std_mpsc::Receiver<Job>>) {
    // Tabs are opened up front so the first jobs do not queue behind tab creation.
    let mut held = Held {
        tab: match slot.new_tab() {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a tab yet");
                None
            }
        },
        emulating: None,
    };
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => {
                let job = rx
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv();
                let Ok(job) = job else { break };
                job
            }
        };
        if job.reply.is_closed() {
            continue; // the caller gave up waiting
        }
        let result = run(slot, &mut held, &job.task);
        let _ = job.reply.send(result);
        next = rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_recv()
            .ok();
        if next.is_none()
            && let Some((_, t)) = &held.tab
        {
            tab::park(t);
        }
    }
    if let Some((_, t)) = held.tab {
        let _ = t.close(false);
    }
}

/// Bound on one DevTools call (and the connection's idle limit): a navigation's bound, but never
/// so short that a busy machine's slow frame drops the connection.
fn call_timeout(nav_timeout: Duration) -> Duration {
    nav_timeout.max(Duration::from_secs(10))
}

/// How often the browser is pinged: well inside the DevTools idle timeout.
fn heartbeat_interval(nav_timeout: Duration) -> Duration {
    call_timeout(nav_timeout) / 5
}

/// `headless_chrome` drops the DevTools connection after `idle_browser_timeout` without any
/// message from the browser — an idle pool, or one whose tabs all wait on wedged pages. A
/// browser-level call (answered by the browser process, not by any page) keeps it open.
fn heartbeat(slot: &Slot, stop: &std_mpsc::Receiver<()>) {
    let every = heartbeat_interval(slot.cfg.nav_timeout);
    while let Err(std_mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        let st = slot.lock();
        if let Some(b) = &st.browser
            && let Err(e) = b.get_version()
        {
            tracing::debug!(error = %e, "chromium heartbeat failed");
        }
    }
}

/// Runs one task on the thread's tab, replacing the tab (and the browser) on failure.
fn run(slot: &Slot, held: &mut Held, task: &Task) -> Result<Output, RenderError> {
    let cfg = &slot.cfg;
    let mut retried = false;
    loop {
        let (generation, t) = match &held.tab {
            Some(h) => h.clone(),
            None => {
                let h = slot.new_tab()?;
                held.tab = Some(h.clone());
                held.emulating = None;
                h
            }
        };
        let viewport = match task {
            Task::Shot(req) => req.viewport,
            Task::Dom(_) => Viewport::Desktop,
        };
        let emulated = if held.emulating == Some(viewport) {
            Ok(())
        } else {
            held.emulating = None;
            tab::emulate(&t, cfg, viewport, task.url())
                .inspect(|()| held.emulating = Some(viewport))
        };
        let result = emulated.and_then(|()| match task {
            Task::Shot(req) => tab::shoot(&t, cfg, req).map(Output::Shot),
            Task::Dom(url) => tab::dom(&t, cfg, url).map(Output::Dom),
        });
        match result {
            Ok(out) => return Ok(out),
            Err(e @ (RenderError::Browser { .. } | RenderError::Timeout { .. })) => {
                tracing::warn!(url = task.url(), error = %e, "tab failed; replacing it");
                held.tab = None;
                held.emulating = None;
                let doomed = is_call_timeout(&e);
                if !doomed {
                    let _ = t.close(false);
                }
                drop(t);
                let browser_gone = slot.recover(generation, doomed);
                if browser_gone && !retried && !doomed && matches!(e, RenderError::Browser { .. }) {
                    retried = true;
                    continue;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
}

/// True when a DevTools call went unanswered (a renderer stuck in a script). `headless_chrome`
/// drops its whole connection when such a call is answered late — which closing the stuck tab
/// provokes — so the browser is replaced at once instead of failing every other tab's job later.
fn is_call_timeout(e: &RenderError) -> bool {
    match e {
        RenderError::Browser { message, .. } => message.contains("event waited for never came"),
        _ => false,
    }
}
