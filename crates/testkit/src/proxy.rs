//! A TCP proxy on loopback in front of a test server, which can drop every open connection
//! and refuse new ones: the network going away, as a console sees it. (Stopping a server in
//! this process lets connections already open, a console's live stream among them, run on.)
//! It can also be pointed at another server: a load balancer moving clients off a replica.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A TCP proxy on loopback in front of the server, which can cut every open connection.
#[derive(Debug)]
pub struct CuttingProxy {
    pub addr: SocketAddr,
    cut: Arc<Notify>,
    down: Arc<AtomicBool>,
    upstream: Arc<Mutex<SocketAddr>>,
}

impl CuttingProxy {
    pub async fn start(upstream: SocketAddr) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let cut = Arc::new(Notify::new());
        let down = Arc::new(AtomicBool::new(false));
        let upstream = Arc::new(Mutex::new(upstream));
        let (c, d, u) = (cut.clone(), down.clone(), upstream.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let cut = c.clone();
                let upstream = *u.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut cr, &mut sw) => {}
                        _ = tokio::io::copy(&mut sr, &mut cw) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        CuttingProxy {
            addr,
            cut,
            down,
            upstream,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now.
    pub fn cut(&self) {
        self.cut.notify_waiters();
    }

    /// New connections go to `upstream` from now on (those open stay where they are).
    pub fn switch_to(&self, upstream: SocketAddr) {
        *self
            .upstream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = upstream;
    }

    /// While down, new connections are refused at once.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut();
        }
    }
}
