//! A TCP proxy on loopback that a test can cut, to simulate a server outage without stopping
//! the server that other tests share.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct OutageProxy {
    pub address: SocketAddr,
    down: watch::Sender<bool>,
}

impl OutageProxy {
    /// Forwards connections from a new loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let (down, down_watch) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                if *down_watch.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, upstream, down_watch.clone()));
            }
        });
        Self { address, down }
    }

    /// While down, open connections are cut and new ones are closed at once.
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, mut down: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = down.wait_for(|down| *down) => {}
    }
}
