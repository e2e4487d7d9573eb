//! Group commit for the audit entries of reads. A read of a citizen's data runs in a read
//! transaction — concurrently with other reads — and its response waits until its audit entry is
//! committed, so no read goes unlogged. One writer thread commits the entries of all reads that
//! arrived meanwhile in a single transaction, so reads do not queue on the database's write lock
//! one by one (on SQLite there is one writer at a time). The batch is hashed into the audit
//! chains in the same transaction, each chain's head read and moved once per batch.

use std::sync::mpsc;

use smaajob_persistence::repo::audit::{self, NewAuditEntry};
use smaajob_persistence::{DbPool, PooledConn, write_transaction};
use tokio::sync::oneshot;

use crate::error::ApiError;

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 512;

type Job = (Vec<NewAuditEntry>, oneshot::Sender<Result<(), String>>);

/// A handle to the writer thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    jobs: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer thread on `pool`. It stops when the last handle is dropped.
    pub fn start(pool: DbPool) -> std::io::Result<AuditWriter> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("audit-writer".into()).spawn(move || run(&pool, &inbox))?;
        Ok(AuditWriter { jobs })
    }

    /// Commits `entries` (with whatever else is waiting) and returns once they are durable.
    pub async fn record(&self, entries: Vec<NewAuditEntry>) -> Result<(), ApiError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.jobs.send((entries, done)).map_err(|_| ApiError::Internal("the audit writer has stopped".into()))?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::Unavailable(format!("audit log write failed: {e}"))),
            Err(_) => Err(ApiError::Internal("the audit writer dropped a request".into())),
        }
    }
}

fn run(pool: &DbPool, inbox: &mpsc::Receiver<Job>) {
    // While batches follow each other the writer keeps its connection, rather than checking one
    // out (and the pool testing it with a query) for every batch; it gives it back whenever the
    // inbox is empty, so a small pool is not held up by an idle writer, and after a failed batch,
    // in case the connection itself was what failed.
    let mut held: Option<PooledConn> = None;
    loop {
        let first = match inbox.try_recv() {
            Ok(job) => job,
            Err(mpsc::TryRecvError::Empty) => {
                held = None;
                match inbox.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conn = match held.take() {
            Some(conn) => Ok(conn),
            None => pool.get().map_err(|e| e.to_string()),
        };
        let result = conn.and_then(|mut conn| {
            // One append for the whole batch: each chain's head is locked and moved once.
            write_transaction(&mut conn, |conn| audit::append_all(conn, batch.iter().flat_map(|(entries, _)| entries)))
                .map_err(|e| e.to_string())?;
            held = Some(conn);
            Ok(())
        });
        if let Err(e) = &result {
            tracing::error!(error = %e, entries = batch.len(), "audit batch failed");
        }
        for (_, done) in batch {
            // The request may have gone (client closed); its entry is committed all the same.
            let _ = done.send(result.clone());
        }
    }
}
