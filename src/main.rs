//! The `cmisfs` binary: parses the command line and runs one subcommand.
//! Errors end here as one line on stderr (plus a hint) and exit code 1.

mod cli;
mod config;
mod dav;
mod mount;
mod probe;
mod serve;

use tracing_subscriber::EnvFilter;

use cli::Command;
use cmisfs::cmis::CmisError;

fn main() {
    let cli = match config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(err) => {
            report(&err);
            std::process::exit(2);
        }
    };
    init_logging(cli.log.as_deref(), &cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cmisfs: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Probe(args) => probe::run(&args).await,
            Command::Repo(args) => serve::run(&args).await,
            Command::Mount(args) => mount::run(args).await,
            Command::Webdav(args) => dav::run(args).await,
        }
    });
    if let Err(err) = result {
        report(&err);
        std::process::exit(1);
    }
}

/// Prints an error chain as one line, then a hint when there is one.
fn report(err: &anyhow::Error) {
    let mut line = format!("cmisfs: error: {err}");
    for cause in err.chain().skip(1) {
        line.push_str(&format!(": {cause}"));
    }
    eprintln!("{line}");
    if let Some(hint) = err
        .chain()
        .find_map(|e| e.downcast_ref::<CmisError>())
        .and_then(CmisError::hint)
    {
        eprintln!("cmisfs: hint: {hint}");
    }
}

fn init_logging(flag: Option<&str>, command: &Command) {
    // Servers log their work; one-shot commands only warnings.
    let default = match command {
        Command::Probe(_) => "warn",
        Command::Repo(_) | Command::Mount(_) | Command::Webdav(_) => "info",
    };
    let filter = flag
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    // Colours only on a terminal: logs redirected to a file (or --daemon's
    // log) stay plain text.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
