//! Peers joining and leaving ([H] §6, [M] §III-G: churn is high). The schedule is
//! drawn with the cast; at run time a peer waits for its join time and winds down at
//! its leave time, or when the whole swarm stops, whichever comes first.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{plan::Rng, stopped};

/// Share of peers that leave before the end.
const LEAVING: f64 = 0.25;

/// Join within the first fifth of the run; a quarter of the peers leave between
/// 40% and 85% of it.
pub fn schedule(rng: &mut Rng, run: Duration) -> (Duration, Option<Duration>) {
    let d = run.as_secs_f64();
    let join = Duration::from_secs_f64(rng.unit() * d * 0.2);
    let leave = (rng.unit() < LEAVING).then(|| Duration::from_secs_f64(d * (0.4 + 0.45 * rng.unit())));
    (join, leave)
}

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
    use super::*;

    #[test]
    fn test_schedule_stays_inside_the_run() {
        let mut rng = Rng::new(1);
        let run = Duration::from_secs(100);
        let mut leavers = 0;
        for _ in 0..400 {
            let (join, leave) = schedule(&mut rng, run);
            assert!(join <= run / 5);
            if let Some(l) = leave {
                leavers += 1;
                assert!(l > join && l < run);
            }
        }
        assert!((60..140).contains(&leavers), "about a quarter leave: {leavers}");
    }

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
