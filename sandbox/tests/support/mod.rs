//! What the sandbox's contract tests share: a webhook receiver that
//! captures every delivery and answers with a status the test sets.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Captured {
    /// Its headers, in order.
    pub headers: Vec<(String, String)>,
    /// Its raw body.
    pub body: Vec<u8>,
}

impl Captured {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on a free port.
pub struct Receiver {
    /// Where to deliver: `http://127.0.0.1:PORT/hooks`.
    pub url: String,
    /// What it got so far.
    pub got: Arc<Mutex<Vec<Captured>>>,
    /// The status it answers; change it to make deliveries fail or succeed.
    pub status: Arc<AtomicU16>,
    /// Stops it.
    pub handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// A receiver answering `status`.
    pub async fn start(status: u16) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(status));
        let (g, a) = (got.clone(), answer.clone());
        let server = actix_web::HttpServer::new(move || {
            let (g, a) = (g.clone(), a.clone());
            actix_web::App::new().default_service(actix_web::web::to(
                move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                    let (g, a) = (g.clone(), a.clone());
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect();
                        g.lock().unwrap().push(Captured {
                            headers,
                            body: body.to_vec(),
                        });
                        let code = actix_web::http::StatusCode::from_u16(a.load(Ordering::SeqCst))
                            .unwrap();
                        actix_web::HttpResponse::build(code).finish()
                    }
                },
            ))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://{addr}/hooks"),
            got,
            status: answer,
            handle,
        }
    }

    /// How many requests it got.
    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Waits up to 10 s for `n` requests; all it got.
    pub async fn wait(&self, n: usize) -> Vec<Captured> {
        for _ in 0..400 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("receiver got fewer than {n} requests");
    }
}
