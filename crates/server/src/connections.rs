//! Accepting and serving connections, with the limits a plain `axum::serve` does not set: a
//! client gets [`Settings::request_head_timeout`] to send a request's line and headers (on
//! HTTP/1 counted from when the connection is ready for its next request, so silent, dribbling
//! and idle kept-alive connections are closed), and any connection with nothing read or
//! written for [`Settings::idle_connection_timeout`] is closed, whatever it speaks. Each
//! request carries the client's address for the budgets in [`crate::limits`].

use crate::state::Settings;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.request_head_timeout);
    // WebSockets over HTTP/2 need the CONNECT protocol.
    http.http2().enable_connect_protocol();
    let idle = settings.idle_connection_timeout;
    // Each connection's task holds a receiver: when all are dropped, every connection is done.
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let (done, all_done) = tokio::sync::watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: let some connections end first.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(client));
            app.clone().oneshot(req)
        });
        let conn = http
            .serve_connection_with_upgrades(TokioIo::new(IdleLimited::new(tcp, idle)), service)
            .into_owned();
        let mut stop_seen = stop_seen.clone();
        let all_done = all_done.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let stopped = stop_seen.wait_for(|stop| *stop);
            tokio::pin!(stopped);
            let mut asked_to_stop = false;
            loop {
                tokio::select! {
                    served = conn.as_mut() => {
                        if let Err(e) = served {
                            tracing::debug!(%client, error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = &mut stopped, if !asked_to_stop => {
                        asked_to_stop = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(all_done);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(all_done);
    done.closed().await;
    Ok(())
}

/// A connection that fails its next read or write once nothing has moved either way for
/// `idle`. Activity only stamps a time; the timer is re-armed when it fires, so a busy
/// connection does not touch the timer wheel on every read.
#[derive(Debug)]
struct IdleLimited {
    io: TcpStream,
    idle: Duration,
    last_moved: Instant,
    check: Pin<Box<Sleep>>,
}

impl IdleLimited {
    fn new(io: TcpStream, idle: Duration) -> Self {
        let now = Instant::now();
        Self {
            io,
            idle,
            last_moved: now,
            check: Box::pin(tokio::time::sleep_until(now + idle)),
        }
    }

    fn moved(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last_moved = Instant::now();
        }
    }

    /// Ready with an error once the connection has been quiet for `idle`; otherwise arranges
    /// to be woken when it would have been.
    fn poll_quiet(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let due = self.last_moved + self.idle;
            if Instant::now() >= due {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle too long",
                ));
            }
            if self.check.deadline() != due {
                self.check.as_mut().reset(due);
            }
            ready!(self.check.as_mut().poll(cx));
        }
    }

    /// A pending read or write gives way to the idle error when the connection is quiet.
    fn pending_or_quiet<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.poll_quiet(cx).map(Err)
    }
}

impl AsyncRead for IdleLimited {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.moved(buf.filled().len() - before);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.pending_or_quiet(cx),
            failed => failed,
        }
    }
}

impl AsyncWrite for IdleLimited {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.moved(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.pending_or_quiet(cx),
            failed => failed,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.moved(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.pending_or_quiet(cx),
            failed => failed,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
