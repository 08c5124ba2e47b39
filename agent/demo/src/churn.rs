//! Peers joining and leaving at run time ([H] §6, [M] §III-G: churn is high): a peer
//! waits for the join time the cast gave it ([`super::plan::schedule`]) and winds
//! down at its leave time, or when the whole swarm stops, whichever comes first.

use std::time::Instant;

use tokio::sync::watch;

use super::ctx::stopped;

/// Sleeps until `join`; false if the swarm stopped first.
pub async fn wait_to_join(join: Instant, global: &watch::Receiver<bool>) -> bool {
    let mut g = global.clone();
    tokio::select! {
        _ = tokio::time::sleep_until(join.into()) => true,
        _ = stopped(&mut g) => false,
    }
}

/// A stop signal for one peer: the swarm's, or its own leave time.
pub fn peer_stop(global: &watch::Receiver<bool>, leave_at: Option<Instant>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    let mut g = global.clone();
    tokio::spawn(async move {
        let leave = async {
            match leave_at {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stopped(&mut g) => {}
            _ = leave => {}
        }
        let _ = tx.send(true);
    });
    rx
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn test_peer_stop_at_leave_time_or_swarm_stop() {
        let (tx, global) = watch::channel(false);
        let mut early = peer_stop(&global, Some(Instant::now() + Duration::from_millis(20)));
        let mut stays = peer_stop(&global, None);
        stopped(&mut early).await;
        assert!(!*stays.borrow());
        tx.send(true).unwrap();
        stopped(&mut stays).await;
    }
}
