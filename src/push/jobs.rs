//! Push jobs, for the app: a queue that runs at most a few pushes at once (two by default: more only
//! split the same two cores and one link), each reporting its state and progress through one callback,
//! cancellable until its tag starts to be written (a cancel stops the uploads at once, and the job says
//! "cancelled" only once nothing of the push runs any more; after that point the cancel is refused and
//! the job finishes), and retried with backoff when the failure is one that passes (the registry
//! unreachable or failing with 5xx, 429). A retry of a direct push skips the layers the registry
//! already has.

use super::progress::Snapshot;
use super::{as_background_work, push_until_cancelled, Cancel, PushPlan, PushRequest, Pushed};
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::github::{package_page, Owner};
use crate::registry::session::Credentials;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const DEFAULT_CONCURRENCY: usize = 2;
/// Waits before the automatic retries of a failure that passes; then the job fails and says why.
const BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];
/// A registry that asks to slow down (429, or ghcr.io's secondary rate limit) is waited on as long as
/// it says (`Retry-After`), else this long — ghcr.io says "wait a few minutes" — up to this many times.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
const RATE_LIMIT_RETRIES: usize = 3;
/// Longer than this is not waited on by itself: the job fails and says when to try.
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);

pub type JobId = u64;

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    Running,
    /// Asked to stop: the push is winding down (uploads stopped, the worker finishing its step).
    Cancelling,
    /// Failed in a way that passes; tries again after `in_ms`.
    Retrying {
        attempt: u32,
        in_ms: u64,
        error: Error,
    },
    Done {
        pushed: Pushed,
        pull: String,
        package_url: String,
    },
    Failed {
        error: Error,
    },
    Cancelled,
}

impl JobState {
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            JobState::Done { .. } | JobState::Failed { .. } | JobState::Cancelled
        )
    }
}

/// What the UI receives about a job: everything it shows, each time something changes.
#[derive(Debug, Clone, Serialize)]
pub struct JobUpdate {
    pub id: JobId,
    pub request: PushRequest,
    #[serde(flatten)]
    pub state: JobState,
    pub progress: Option<Snapshot>,
}

type Notify = Arc<dyn Fn(&JobUpdate) + Send + Sync>;

struct Job {
    update: JobUpdate,
    plan: Arc<PushPlan>,
    cancel: Cancel,
}

/// The job registry.
#[derive(Clone)]
pub struct Jobs {
    config: Config,
    slots: Arc<Semaphore>,
    jobs: Arc<Mutex<BTreeMap<JobId, Job>>>,
    next: Arc<AtomicU64>,
    notify: Notify,
    /// Held from a change to its notification, so that updates are told in the order they were made
    /// (see `in_order`).
    telling: Arc<Mutex<()>>,
}

/// Whether a failure is worth trying again by itself.
pub fn passes(code: Code) -> bool {
    matches!(code, Code::RegistryUnreachable | Code::RegistryRateLimited)
}

/// How long to wait before trying again after `error`, the `attempt`-th retry (0 for the first);
/// `None` when the job should fail now.
pub fn wait_before_retry(error: &Error, attempt: usize) -> Option<Duration> {
    if !passes(error.code) {
        return None;
    }
    let wait = match error.code {
        Code::RegistryRateLimited if attempt < RATE_LIMIT_RETRIES => error
            .retry_after_s
            .map(Duration::from_secs)
            .unwrap_or(RATE_LIMIT_WAIT),
        _ => *BACKOFF.get(attempt)?,
    };
    (wait <= LONGEST_WAIT).then_some(wait)
}

impl Jobs {
    /// A registry running at most `concurrency` pushes at once; `notify` hears every change (at most
    /// ~10 progress updates a second per job).
    pub fn new(
        config: Config,
        concurrency: usize,
        notify: impl Fn(&JobUpdate) + Send + Sync + 'static,
    ) -> Jobs {
        Jobs {
            config,
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            jobs: Arc::new(Mutex::new(BTreeMap::new())),
            next: Arc::new(AtomicU64::new(1)),
            notify: Arc::new(notify),
            telling: Arc::new(Mutex::new(())),
        }
    }

    /// Held while a job changes and until that change is told: a push that ends the instant it is
    /// cancelled (an engine push does) must not have its "cancelled" overtaken by the "cancelling"
    /// before it, which would leave the window saying "Cancelling…" for good. The jobs' own lock is
    /// not held while telling, so reading them never waits on a notification.
    fn in_order(&self) -> std::sync::MutexGuard<'_, ()> {
        self.telling.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<JobId, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The job `id` as last reported.
    pub fn get(&self, id: JobId) -> Option<JobUpdate> {
        self.lock().get(&id).map(|job| job.update.clone())
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Vec<JobUpdate> {
        self.lock().values().map(|job| job.update.clone()).collect()
    }

    /// Queues a push of a checked request (`PushRequest::checked`: a bad target never becomes a job).
    pub fn submit(&self, plan: PushPlan, credentials: Credentials) -> JobId {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.start(id, Arc::new(plan), credentials);
        id
    }

    /// Runs a failed or cancelled job again, under the same id.
    pub fn retry(&self, id: JobId, credentials: Credentials) -> Result<()> {
        let plan = {
            let jobs = self.lock();
            let job = jobs.get(&id).ok_or_else(|| unknown_job(id))?;
            if !job.update.state.is_finished() {
                return Err(Error::new(
                    Code::PushFailed,
                    format!("Push {id} is still running"),
                    "Cancel it first, or wait for it to finish.",
                ));
            }
            job.plan.clone()
        };
        self.start(id, plan, credentials);
        Ok(())
    }

    /// Stops a job: it turns `Cancelling`, then `Cancelled` once its push has wound down. `false` if
    /// it had already finished, or is writing its tag (then it finishes as pushed).
    pub fn cancel(&self, id: JobId) -> Result<bool> {
        let _in_order = self.in_order();
        let update = {
            let mut jobs = self.lock();
            let job = jobs.get_mut(&id).ok_or_else(|| unknown_job(id))?;
            if job.update.state.is_finished() || !job.cancel.cancel() {
                return Ok(false);
            }
            job.update.state = JobState::Cancelling;
            job.update.clone()
        };
        (self.notify)(&update);
        Ok(true)
    }

    /// Removes finished jobs from the list.
    pub fn clear_finished(&self) {
        self.lock().retain(|_, job| !job.update.state.is_finished());
    }

    fn start(&self, id: JobId, plan: Arc<PushPlan>, credentials: Credentials) {
        let _in_order = self.in_order();
        let cancel = Cancel::default();
        let update = JobUpdate {
            id,
            request: plan.request(),
            state: JobState::Queued,
            progress: None,
        };
        self.lock().insert(
            id,
            Job {
                update: update.clone(),
                plan: plan.clone(),
                cancel: cancel.clone(),
            },
        );
        (self.notify)(&update);
        let jobs = self.clone();
        background().spawn(async move { jobs.run(id, &plan, credentials, &cancel).await });
    }

    /// Changes a job and tells the UI (a finished job stays as it ended; a cancelling one keeps saying
    /// so until it ends).
    fn set(&self, id: JobId, change: impl FnOnce(&mut JobUpdate)) {
        let _in_order = self.in_order();
        let update = {
            let mut jobs = self.lock();
            let Some(job) = jobs.get_mut(&id) else { return };
            if job.update.state.is_finished() {
                return;
            }
            let cancelling = job.update.state == JobState::Cancelling;
            change(&mut job.update);
            if cancelling && !job.update.state.is_finished() {
                job.update.state = JobState::Cancelling;
            }
            job.update.clone()
        };
        (self.notify)(&update);
    }

    async fn run(&self, id: JobId, plan: &PushPlan, credentials: Credentials, cancel: &Cancel) {
        let slot = tokio::select! {
            slot = self.slots.clone().acquire_owned() => slot,
            _ = cancel.cancelled() => return self.set(id, |u| u.state = JobState::Cancelled),
        };
        let Ok(_slot) = slot else { return };
        let mut attempt = 0;
        loop {
            self.set(id, |u| {
                u.state = JobState::Running;
                u.progress = None;
            });
            let result = push_until_cancelled(
                &self.config,
                plan,
                credentials.clone(),
                cancel,
                |snapshot| self.set(id, |u| u.progress = Some(snapshot.clone())),
            )
            .await;
            match result {
                Ok(pushed) => {
                    let pull = pushed.pull_command();
                    let target = &plan.target;
                    let package_url = package_page(
                        &self.config,
                        &Owner::of(target, &credentials.login),
                        target.owner(),
                        target.package(),
                    );
                    self.set(id, |u| {
                        u.state = JobState::Done {
                            pushed,
                            pull,
                            package_url,
                        }
                    });
                    return;
                }
                Err(_) if cancel.is_cancelled() => {
                    return self.set(id, |u| u.state = JobState::Cancelled);
                }
                Err(error) if wait_before_retry(&error, attempt).is_some() => {
                    let wait = wait_before_retry(&error, attempt).unwrap_or_default();
                    attempt += 1;
                    self.set(id, |u| {
                        u.state = JobState::Retrying {
                            attempt: attempt as u32,
                            in_ms: wait.as_millis() as u64,
                            error,
                        }
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => {
                            return self.set(id, |u| u.state = JobState::Cancelled);
                        }
                    }
                }
                Err(error) => {
                    self.set(id, |u| u.state = JobState::Failed { error });
                    return;
                }
            }
        }
    }
}

fn unknown_job(id: JobId) -> Error {
    Error::new(
        Code::PushFailed,
        format!("There is no push {id}"),
        "It may have been cleared from the list; start it again.",
    )
}

/// The runtime pushes run on. A push reads, hashes, gzips and uploads every byte of an image — seconds
/// of CPU on every core — so its threads (and the blocking and compression threads they start, which
/// inherit it) run as background work at nice 10: the window's threads, at the normal priority, get a
/// core first whenever they need one. Measured by tests/webdriver/tests/load.rs. Should the runtime
/// fail to start (no threads left), pushes run on the caller's runtime instead.
fn background() -> tokio::runtime::Handle {
    static BACKGROUND: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    let runtime = BACKGROUND.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ghcr-push")
            .on_thread_start(as_background_work)
            .enable_all()
            .build()
            .ok()
    });
    match runtime {
        Some(runtime) => runtime.handle().clone(),
        None => tokio::runtime::Handle::current(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: Code, retry_after_s: Option<u64>) -> Error {
        Error::new(code, "m", "h").with_retry_after(retry_after_s)
    }

    #[test]
    fn a_rate_limit_is_waited_on_as_long_as_the_registry_says_or_a_minute() {
        let limited = error(Code::RegistryRateLimited, Some(7));
        assert_eq!(wait_before_retry(&limited, 0), Some(Duration::from_secs(7)));
        let unsaid = error(Code::RegistryRateLimited, None);
        assert_eq!(wait_before_retry(&unsaid, 0), Some(RATE_LIMIT_WAIT));
        assert_eq!(wait_before_retry(&unsaid, 2), Some(RATE_LIMIT_WAIT));
        assert_eq!(
            wait_before_retry(&unsaid, 3),
            None,
            "then it fails and says why"
        );
        let too_long = error(Code::RegistryRateLimited, Some(3600));
        assert_eq!(wait_before_retry(&too_long, 0), None);
    }

    #[test]
    fn outages_are_retried_after_one_and_three_seconds_and_refusals_never() {
        let down = error(Code::RegistryUnreachable, None);
        assert_eq!(wait_before_retry(&down, 0), Some(Duration::from_secs(1)));
        assert_eq!(wait_before_retry(&down, 1), Some(Duration::from_secs(3)));
        assert_eq!(wait_before_retry(&down, 2), None);
        assert_eq!(
            wait_before_retry(&error(Code::RegistryDenied, Some(1)), 0),
            None
        );
        assert_eq!(wait_before_retry(&error(Code::TokenInvalid, None), 0), None);
    }
}
