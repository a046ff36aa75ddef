//! `GET /metrics` for Prometheus scrapes, served by the `tiny_http` crate.
//!
//! The listener is bound with `std::net` first, so a bad or busy address is reported before
//! anything else starts; `tiny_http` then reads requests (one thread per connection, with
//! keep-alive) and one thread of ours answers them: `GET` or `HEAD /metrics` gives the latest
//! [`Snapshot`] encoded as OpenMetrics text
//! (`application/openmetrics-text; version=1.0.0; charset=utf-8`, which Prometheus asks
//! for and accepts; `prometheus-client` writes no other text format), `/` a one-line pointer
//! to `/metrics`, other paths 404 and other methods 405. Request bodies are never read.
//! Dropping the [`Server`] stops our thread and `tiny_http`'s listener.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tiny_http::{Header, Method, Request, Response};

use crate::format::Snapshot;

/// The OpenMetrics text format's content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The latest snapshot, shared between the refresh loop and the server.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<Mutex<Arc<Snapshot>>>);

impl Shared {
    /// Replaces the snapshot served.
    pub fn set(&self, snapshot: Snapshot) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }

    /// The snapshot served now.
    pub fn get(&self) -> Arc<Snapshot> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("starting the HTTP server: {0}")]
    Http(String),
    #[error("starting the HTTP thread: {0}")]
    Thread(#[source] io::Error),
}

/// A running server; dropping it stops the threads.
pub struct Server {
    addr: SocketAddr,
    http: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` (e.g. `127.0.0.1:9435`) and serves `shared` on `/metrics`.
    pub fn start(addr: &str, shared: Shared) -> Result<Server, ServerError> {
        let bind = |source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        };
        let listener = TcpListener::bind(addr).map_err(bind)?;
        let local = listener.local_addr().map_err(bind)?;
        let http = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| ServerError::Http(e.to_string()))?;
        let http = Arc::new(http);
        let requests = http.clone();
        let thread = std::thread::Builder::new()
            .name("scry-http".into())
            .spawn(move || {
                // recv() fails once the server is unblocked by Drop.
                while let Ok(request) = requests.recv() {
                    // A client that goes away only loses its own response.
                    let _ = answer(request, &shared);
                }
            })
            .map_err(ServerError::Thread)?;
        Ok(Server {
            addr: local,
            http,
            thread: Some(thread),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The last reference to the tiny_http server goes with `self`: its Drop stops the
        // accept thread, which closes the listener.
    }
}

fn header(name: &str, value: &str) -> Header {
    // Both are constant ASCII strings: they always form a valid header.
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| unreachable!("constant header {name}"))
}

/// Answers one request.
fn answer(request: Request, shared: &Shared) -> io::Result<()> {
    let path = request.url().split('?').next().unwrap_or("");
    let (status, ty, body) = match (request.method(), path) {
        (Method::Get | Method::Head, "/metrics") => (200, CONTENT_TYPE, shared.get().encode()),
        (Method::Get | Method::Head, "/") => (
            200,
            "text/plain; charset=utf-8",
            "scry exporter: metrics at /metrics\n".to_string(),
        ),
        (Method::Get | Method::Head, _) => (404, "text/plain", "not found\n".to_string()),
        _ => (405, "text/plain", "only GET\n".to_string()),
    };
    let mut response = Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", ty));
    if status == 405 {
        response.add_header(header("Allow", "GET, HEAD"));
    }
    request.respond(response)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::format::Exporter;
    use scry_output::{AggValue, MapDump, MapEntry, MapKind};

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(request.as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    fn snapshot(value: u64) -> Snapshot {
        let dump = MapDump {
            name: "@x".into(),
            kind: MapKind::Count,
            entries: vec![MapEntry {
                key: vec![],
                value: AggValue::UInt(value),
            }],
        };
        Exporter::new(Default::default(), 10)
            .update(&[dump])
            .snapshot
    }

    #[test]
    fn serves_metrics_and_refuses_the_rest() {
        let shared = Shared::default();
        shared.set(snapshot(1));
        let server = Server::start("127.0.0.1:0", shared.clone()).expect("start");
        let addr = server.local_addr();
        let r = get(
            addr,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(
            r.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")),
            "{r}"
        );
        let (_, body) = r.split_once("\r\n\r\n").expect("a head");
        assert!(
            r.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{r}"
        );
        assert!(body.contains("\nscry_x_total 1\n"), "{r}");
        assert!(body.ends_with("# EOF\n"), "{r}");
        shared.set(snapshot(2));
        assert!(get(addr, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").contains("\nscry_x_total 2\n"));
        let head = get(addr, "HEAD /metrics HTTP/1.0\r\n\r\n");
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        assert!(get(addr, "GET /nope HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 404"));
        let post = get(addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.0 405"), "{post}");
        assert!(post.contains("Allow: GET, HEAD\r\n"), "{post}");
        drop(server);
        // tiny_http's accept thread closes the listener just after the drop.
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            assert!(Instant::now() < deadline, "still listening after drop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn keep_alive_serves_several_requests_on_one_connection() {
        let shared = Shared::default();
        shared.set(snapshot(3));
        let server = Server::start("127.0.0.1:0", shared).expect("start");
        let mut s = TcpStream::connect(server.local_addr()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{out}");
        assert_eq!(out.matches("scry_x_total 3\n").count(), 2, "{out}");
    }

    #[test]
    fn bind_errors_are_reported() {
        let err = Server::start("256.0.0.1:1", Shared::default()).expect_err("bad address");
        assert!(err.to_string().contains("256.0.0.1:1"), "{err}");
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr").to_string();
        let err = Server::start(&addr, Shared::default()).expect_err("busy address");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot listen on {addr}")),
            "{err}"
        );
    }
}
