//! A small HTTP server for `/metrics` (hyper), loopback unless told otherwise, that no
//! client can hold up: a request's headers must arrive within [`HEADER_TIMEOUT`], a
//! connection lives at most [`CONNECTION_LIFETIME`], at most [`MAX_CONNECTIONS`] are
//! served at once, and only GET and HEAD are answered (405 otherwise).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use http_body_util::Full;
use hyper::{body::Bytes, header, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Semaphore};

use super::{exposition::Format, Metrics};

/// A request's headers must be complete this soon after the connection opens (or the
/// previous response was sent).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection is closed this long after it opened, idle or not (a scraper reconnects).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Connections served at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 16;

/// Parses `--metrics`: a bare port (`9464` or `:9464`) binds 127.0.0.1; a full
/// address binds where it says.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let port_only = s.strip_prefix(':').unwrap_or(s);
    if !port_only.is_empty() && port_only.bytes().all(|b| b.is_ascii_digit()) {
        return match port_only.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("port {port_only} is out of range (1 to 65535)")),
            Ok(port) => Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        };
    }
    match s.parse::<SocketAddr>() {
        Ok(a) if a.port() == 0 => Err(format!("{s}: port 0 is no fixed port for Prometheus to scrape")),
        Ok(a) => Ok(a),
        Err(_) => Err(format!("{s:?} is neither a port nor an address like 127.0.0.1:9464 or [::1]:9464")),
    }
}

/// Binds the listening socket, before anything is attached: a port in use is an error
/// that leaves nothing behind.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves `/metrics` on a bound listener until the task is dropped (call within a tokio
/// runtime).
pub fn serve(
    listener: std::net::TcpListener,
    metrics: Arc<Mutex<Metrics>>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::from_std(listener)?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, std::convert::Infallible>(respond(&req, &metrics)) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), svc);
                let mut conn = std::pin::pin!(conn);
                if tokio::time::timeout(CONNECTION_LIFETIME, conn.as_mut()).await.is_err() {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(HEADER_TIMEOUT, conn).await;
                }
                drop(permit);
            });
        }
    }))
}

fn respond<B>(req: &Request<B>, metrics: &Mutex<Metrics>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    if req.uri().path() != "/metrics" {
        return reply(StatusCode::NOT_FOUND, "see /metrics\n");
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let body = metrics.lock().map(|m| m.encode(format)).unwrap_or_default();
    let len = body.len();
    let body = if req.method() == Method::HEAD { Bytes::new() } else { Bytes::from(body) };
    let mut r = Response::new(Full::new(body));
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(format.content_type()));
    r.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bare_port_binds_loopback() {
        assert_eq!(parse_addr("9464").unwrap(), "127.0.0.1:9464".parse().unwrap());
        assert_eq!(parse_addr(":9464").unwrap(), "127.0.0.1:9464".parse().unwrap());
        assert_eq!(parse_addr("0.0.0.0:1").unwrap(), "0.0.0.0:1".parse().unwrap());
        assert_eq!(parse_addr("[::1]:9464").unwrap(), "[::1]:9464".parse().unwrap());
        assert!(parse_addr("nonsense").is_err());
        assert!(parse_addr(":99999").unwrap_err().contains("out of range"));
        assert!(parse_addr("0").is_err());
        assert!(parse_addr("127.0.0.1:0").is_err());
    }

    #[test]
    fn test_only_get_and_head_are_answered() {
        let m = Mutex::new(Metrics::new("eth0", 1));
        let req = |method: Method, path: &str| Request::builder().method(method).uri(path).body(()).unwrap();
        assert_eq!(respond(&req(Method::POST, "/metrics"), &m).status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(respond(&req(Method::PUT, "/metrics"), &m).headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(respond(&req(Method::GET, "/other"), &m).status(), StatusCode::NOT_FOUND);
        let get = respond(&req(Method::GET, "/metrics"), &m);
        assert_eq!(get.status(), StatusCode::OK);
        assert_eq!(get.headers()[header::CONTENT_TYPE], Format::PROMETHEUS_TYPE);
        let head = respond(&req(Method::HEAD, "/metrics"), &m);
        assert_eq!(head.headers()[header::CONTENT_LENGTH], get.headers()[header::CONTENT_LENGTH]);
    }
}
