//! Running the server: bind, announce, serve until SIGTERM or Ctrl-C, then
//! stop accepting, let in-flight requests and streams finish up to the grace
//! period, flush the audit log and return.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::build::Gateway;

/// A bound, not yet serving, server.
#[derive(Debug)]
pub struct BoundServer {
    listener: TcpListener,
    gateway: Arc<Gateway>,
}

impl BoundServer {
    /// Binds `addr` for `gateway`.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(addr: SocketAddr, gateway: Gateway) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            gateway: Arc::new(gateway),
        })
    }

    /// The address actually bound (port 0 becomes a real port).
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The gateway served.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Serves until `shutdown` completes, then drains for at most the grace
    /// period and flushes the audit log. Returns whether every in-flight
    /// request finished within the grace period.
    ///
    /// # Errors
    /// The listener fails.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<bool> {
        let grace = self.gateway.limits.shutdown_grace;
        let app = crate::app::app(self.gateway.clone());
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            let _ = stopped_tx.send(());
        };
        // Streams (SSE) are written in small pieces: without TCP_NODELAY,
        // Nagle's algorithm holds each piece until the client's delayed ACK
        // (40 ms on Linux), which MCP and chat streams would feel at every event.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(signal);
        let server = tokio::spawn(async move { server.await });
        tokio::pin!(server);
        let drained = tokio::select! {
            r = &mut server => { r.map_err(std::io::Error::other)??; true }
            _ = async {
                let _ = stopped_rx.await;
                tokio::time::sleep(grace).await;
            } => false,
        };
        if !drained {
            server.abort();
        }
        // Every record appended so far is on disk when this returns.
        let audit = self.gateway.audit.clone();
        let _ = tokio::task::spawn_blocking(move || audit.close()).await;
        Ok(drained)
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
