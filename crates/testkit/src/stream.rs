//! The live event stream (`/v1/stream`), opened as the console opens it: the token in the
//! `Authorization` header of the upgrade request.

use crate::server::TestServer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// An open stream.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestServer {
    /// Opens the stream for `token`, starting after `after`.
    pub async fn open_stream(&self, token: &str, after: u64) -> Ws {
        let base = self.server().url().replace("http://", "ws://");
        let mut req = format!("{base}/v1/stream?after={after}")
            .into_client_request()
            .expect("a stream request");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header value"),
        );
        tokio_tungstenite::connect_async(req)
            .await
            .expect("the stream opens")
            .0
    }
}
