//! `GET /live`: Server-Sent Events telling open pages that new events were
//! stored, so that they refresh their content without a reload.
//!
//! The stream sends `event: change` with the store's head position when the
//! store signals new events (at most twice a second, and also on a 5 s poll,
//! since the store's wake-ups are a hint), a comment every 15 s to keep
//! proxies from closing it, and ends after 10 minutes (the browser's
//! `EventSource` reconnects by itself) or when the gateway stops.
//!
//! The pages are read from the read models, which follow the store a little
//! behind; so each `change` is echoed once [`ECHO`] later (the page then
//! reads what the read models caught up on), and one `change` is sent
//! [`ECHO`] after connecting (for events stored between rendering the page
//! and opening the stream).

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use futures::stream;
use tokio::time::{sleep, Instant};

use super::session::SignedIn;
use super::Dashboard;

const MIN_GAP: Duration = Duration::from_millis(500);
const POLL: Duration = Duration::from_secs(5);
const KEEPALIVE: Duration = Duration::from_secs(15);
const LIFETIME: Duration = Duration::from_secs(600);
/// How long after a change it is announced again.
pub(crate) const ECHO: Duration = Duration::from_millis(2000);

struct State {
    dashboard: web::Data<Dashboard>,
    changes: tokio::sync::watch::Receiver<u64>,
    head: i64,
    ends_at: Instant,
    quiet_since: Instant,
    started: bool,
    echo_at: Option<Instant>,
}

pub(crate) async fn stream(dashboard: web::Data<Dashboard>, _user: SignedIn) -> HttpResponse {
    let head = dashboard.store.head().await.map(|p| p.global).unwrap_or(0);
    let state = State {
        changes: dashboard.store.changes(),
        dashboard,
        head,
        ends_at: Instant::now() + LIFETIME,
        quiet_since: Instant::now(),
        started: false,
        echo_at: Some(Instant::now() + ECHO),
    };
    let body = stream::unfold(state, |mut s| async move {
        if !s.started {
            s.started = true;
            let first = format!("retry: 3000\nevent: hello\ndata: {}\n\n", s.head);
            return Some((Ok::<_, actix_web::Error>(Bytes::from(first)), s));
        }
        loop {
            let closing = s.dashboard.closing.clone();
            tokio::select! {
                _ = closing.cancelled() => return None,
                _ = tokio::time::sleep_until(s.ends_at) => return None,
                _ = tokio::time::sleep_until(s.echo_at.unwrap_or(s.ends_at)), if s.echo_at.is_some() => {
                    s.echo_at = None;
                    s.quiet_since = Instant::now();
                    let message = format!("event: change\ndata: {}\n\n", s.head);
                    return Some((Ok(Bytes::from(message)), s));
                }
                _ = tokio::time::sleep_until(s.quiet_since + KEEPALIVE) => {
                    s.quiet_since = Instant::now();
                    return Some((Ok(Bytes::from_static(b": keepalive\n\n")), s));
                }
                changed = s.changes.changed() => {
                    if changed.is_err() {
                        // The store is gone: poll only.
                        sleep(POLL).await;
                    }
                }
                _ = sleep(POLL) => {}
            }
            let head = match s.dashboard.store.head().await {
                Ok(p) => p.global,
                Err(_) => continue,
            };
            if head != s.head {
                s.head = head;
                s.quiet_since = Instant::now();
                s.echo_at = Some(Instant::now() + ECHO);
                // Let bursts settle and the read models catch up.
                sleep(MIN_GAP).await;
                let message = format!("event: change\ndata: {head}\n\n");
                return Some((Ok(Bytes::from(message)), s));
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}
