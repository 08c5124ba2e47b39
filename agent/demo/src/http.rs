//! The bootstrap web server PPLive clients contacted first (METHODS §8 steps 1–2):
//! `GET /update/pplive/update.inf` answers 404 (no update), `GET /web/xml/all.xml`
//! the channel list. Requests and replies are the dissector's `HttpRepr`.

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    time::Duration,
};

use peerscope_dissector::{v2005::http::StartLineRepr, HttpRepr};
use tokio::{net::TcpListener, time::timeout};

use super::{
    conn::Conn,
    ctx::Ctx,
    proto::{self, HTTP_PORT},
};

pub async fn serve(ctx: Ctx, ip: Ipv4Addr, peers: usize) -> anyhow::Result<()> {
    let listener = TcpListener::bind(SocketAddrV4::new(ip, HTTP_PORT)).await?;
    ctx.servers.listening();
    let list = proto::channel_list(ctx.channel.bitrate_bps, peers);
    let mut stop = ctx.stop.clone();
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r?,
            _ = stop.changed() => return Ok(()),
        };
        let Ok(mut conn) = Conn::new(stream, &ctx.truth) else { continue };
        let list = list.clone();
        tokio::spawn(async move {
            if let Ok(Some(req)) = timeout(Duration::from_secs(5), read_message(&mut conn)).await {
                let reply = match &req.start {
                    StartLineRepr::Request { path, .. } if path == "/web/xml/all.xml" => {
                        let mut r = HttpRepr::reply(200, "OK", list);
                        r.headers.push(("Content-Type".into(), "text/xml".into()));
                        r
                    }
                    _ => HttpRepr::reply(404, "Not Found", Vec::new()),
                };
                let mut out = Vec::new();
                reply.emit(&mut out);
                let _ = conn.write_raw(&out).await;
            }
            conn.close().await;
        });
    }
}

/// Reads one HTTP message (head, then `Content-Length` bytes of body).
async fn read_message(conn: &mut Conn) -> Option<HttpRepr> {
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return HttpRepr::parse(&buf[..end + 4 + len]).ok();
            }
        }
        if buf.len() > 1 << 20 || conn.read_some(&mut buf).await.ok()? == 0 {
            return None;
        }
    }
}

/// A client's GET: the status code and body.
pub async fn get(ctx: &Ctx, local: Ipv4Addr, host: &str, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut conn = Conn::connect(local, SocketAddrV4::new(super::plan::HTTP, HTTP_PORT), &ctx.truth).await.ok()?;
    let mut out = Vec::new();
    HttpRepr::bootstrap_request(host, path).emit(&mut out);
    conn.write_raw(&out).await.ok()?;
    let reply = timeout(Duration::from_secs(5), read_message(&mut conn)).await.ok().flatten();
    conn.close().await;
    let reply = reply?;
    match reply.start {
        StartLineRepr::Response { code, .. } => Some((code, reply.body)),
        StartLineRepr::Request { .. } => None,
    }
}
