//! A minimal HTTP/1.1 responder for Prometheus scrapes, on a `std::net` listener.
//!
//! Prometheus needs exactly one thing: `GET /metrics` answered with the exposition text.
//! One thread accepts connections and answers each request in turn (`Connection: close`),
//! with a 5-second read/write timeout and an 8 KiB limit on the request head, so a slow or
//! hostile client delays scrapes by at most the timeout and cannot grow memory. `GET /` gives
//! a one-line pointer to `/metrics`; other paths are 404, other methods 405. A full HTTP
//! stack (and an async runtime) would add dependencies and threads for nothing here.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The latest exposition text, shared between the renderer and the server.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<Mutex<Arc<String>>>);

impl Shared {
    /// Replaces the text served.
    pub fn set(&self, text: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(text);
    }

    /// The text served now.
    pub fn get(&self) -> Arc<String> {
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
    #[error("starting the HTTP thread: {0}")]
    Thread(#[source] io::Error),
}

/// A running server; dropping it stops the thread.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_HEAD: usize = 8192;

impl Server {
    /// Listens on `addr` (e.g. `127.0.0.1:9435`) and serves `shared` on `/metrics`.
    pub fn start(addr: &str, shared: Shared) -> Result<Server, ServerError> {
        let listener = TcpListener::bind(addr).map_err(|source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let local = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("scry-http".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if flag.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A client that misbehaves only loses its own response.
                        let _ = answer(stream, &shared);
                    }
                }
            })
            .map_err(ServerError::Thread)?;
        Ok(Server {
            addr: local,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop up.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head and writes one response.
fn answer(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"request head too large\n",
                true,
            )?;
            // Closing with unread input would reset the connection before the client reads
            // the answer: end our side, then drain a bounded amount of what it still sends.
            stream.shutdown(std::net::Shutdown::Write)?;
            stream.set_read_timeout(Some(Duration::from_secs(1)))?;
            let mut drained = 0;
            while drained < 1 << 16 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
            return Ok(());
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let body_wanted = method == "GET";
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let text = shared.get();
            respond(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                text.as_bytes(),
                body_wanted,
            )
        }
        ("GET" | "HEAD", "/") => respond(
            &mut stream,
            "200 OK",
            "text/plain; charset=utf-8",
            b"scry exporter: metrics at /metrics\n",
            body_wanted,
        ),
        ("GET" | "HEAD", _) => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            body_wanted,
        ),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET\n",
            true,
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    ty: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(request.as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn serves_metrics_and_refuses_the_rest() {
        let shared = Shared::default();
        shared.set("scry_x 1\n".into());
        let server = Server::start("127.0.0.1:0", shared.clone()).expect("start");
        let addr = server.local_addr();
        let r = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Length: 9\r\n"), "{r}");
        assert!(r.ends_with("\r\n\r\nscry_x 1\n"), "{r}");
        shared.set("scry_x 2\n".into());
        assert!(get(addr, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").ends_with("scry_x 2\n"));
        assert!(get(addr, "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(10_000));
        assert!(get(addr, &huge).starts_with("HTTP/1.1 431"));
        drop(server);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    }

    #[test]
    fn bind_errors_are_reported() {
        let err = Server::start("256.0.0.1:1", Shared::default()).expect_err("bad address");
        assert!(err.to_string().contains("256.0.0.1:1"), "{err}");
    }
}
