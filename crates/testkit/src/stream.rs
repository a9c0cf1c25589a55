//! The live event stream (`/v1/stream`), opened as the console opens it: the token in the
//! `Authorization` header of the upgrade request.

use crate::server::TestServer;

/// An open stream.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestServer {
    /// Opens the stream for `token`, starting after `after`.
    pub async fn open_stream(&self, token: &str, after: u64) -> Ws {
        let req = self.stream_request(token, after);
        tokio_tungstenite::connect_async(req)
            .await
            .expect("the stream opens")
            .0
    }
}
