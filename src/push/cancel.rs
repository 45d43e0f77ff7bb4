//! A push's cancellation, shared by whoever may cancel it (a job) and the push itself. Writing the tag
//! is the point of no return, and it is decided under the same lock as a cancel: a cancel before it
//! stops the push with nothing tagged; a cancel after it is refused (the push is finishing).

use crate::error::{Code, Error, Result};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Running,
    Cancelled,
    /// The tag is being written: too late to cancel.
    Committed,
}

#[derive(Clone, Default)]
pub struct Cancel {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl Cancel {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the push to stop; `false` when it is past the point of no return (writing its tag).
    pub fn cancel(&self) -> bool {
        let mut state = self.state();
        match *state {
            State::Committed => false,
            State::Running | State::Cancelled => {
                *state = State::Cancelled;
                self.notify.notify_waiters();
                true
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        *self.state() == State::Cancelled
    }

    /// The push's own check at each step: `push.cancelled` once cancelled.
    pub fn check(&self, what: &str) -> Result<()> {
        if self.is_cancelled() {
            return Err(cancelled(what));
        }
        Ok(())
    }

    /// Passes the point of no return (about to write the tag of `what`), unless already cancelled.
    pub fn commit(&self, what: &str) -> Result<()> {
        let mut state = self.state();
        if *state == State::Cancelled {
            return Err(cancelled(what));
        }
        *state = State::Committed;
        Ok(())
    }

    /// Waits until the push is cancelled (forever if it never is).
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The error of a push stopped by its cancel: nothing was tagged.
pub fn cancelled(what: &str) -> Error {
    Error::new(
        Code::PushCancelled,
        format!("The push of {what} was cancelled"),
        "Nothing was tagged; push again when you want to.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_before_the_tag_stops_the_push_and_one_after_is_refused() {
        let early = Cancel::default();
        assert!(early.check("x").is_ok());
        assert!(early.cancel());
        assert_eq!(early.check("x").unwrap_err().code, Code::PushCancelled);
        assert_eq!(early.commit("x").unwrap_err().code, Code::PushCancelled);

        let late = Cancel::default();
        late.commit("x").unwrap();
        assert!(!late.cancel(), "the tag is being written: too late");
        assert!(!late.is_cancelled());
    }

    #[tokio::test]
    async fn waiting_for_a_cancel_ends_when_it_comes() {
        let cancel = Cancel::default();
        let waiting = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        cancel.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(2), waiting)
            .await
            .expect("the wait ends")
            .unwrap();
    }
}
