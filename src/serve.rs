//! `cmisfs repo`: runs the embedded repository until SIGINT or SIGTERM, or
//! prints a users-file password hash (`--hash-password`).

use std::io::BufRead;

use anyhow::{bail, Context};

use crate::cli::RepoArgs;
use cmisfs::repo::{self, FaultConfig, RepoConfig};

pub async fn run(args: &RepoArgs) -> anyhow::Result<()> {
    if args.hash_password {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']);
        if password.is_empty() {
            bail!("empty password");
        }
        println!("{}", repo::auth::hash_password(password));
        return Ok(());
    }
    let Some(data) = args.data.clone() else {
        bail!("--data DIR is required");
    };
    let config = RepoConfig {
        data_dir: data,
        listen: args.listen,
        users_file: args.users.clone(),
    };
    let running = if args.faults {
        let faults = FaultConfig {
            latency_ms: args.fault_latency_ms,
            error_rate: args.fault_error_rate.clamp(0.0, 1.0),
            error_status: 503,
            drop_rate: args.fault_drop_rate.clamp(0.0, 1.0),
            drop_after_bytes: 1024,
        };
        repo::start_with_faults(config, faults).await?
    } else {
        repo::start(config).await?
    };
    println!("service URL: {}", running.service_url());
    println!("repository id: {}", running.repository_id);
    if args.users.is_none() {
        println!("user: admin, password: admin (no --users file)");
    }
    wait_for_signal().await?;
    tracing::info!("stopping");
    // Requests still running get a moment; a client that never finishes its
    // upload must not keep the server alive (redb is crash-safe anyway).
    if tokio::time::timeout(std::time::Duration::from_secs(10), running.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after 10 s; stopping anyway");
    }
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot watch SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}
