//! `cmisfs probe`: what a CMIS endpoint offers, in plain words.

use anyhow::Context;

use cmisfs::cmis::{
    self, AclCapability, ChangesCapability, ContentStreamUpdates, QueryCapability, RepositoryInfo,
};

use crate::cli::ProbeArgs;

pub async fn run(args: &ProbeArgs) -> anyhow::Result<()> {
    let options = args.connect.to_options()?;
    let discovery = cmis::discover(&options)
        .await
        .with_context(|| format!("probing {}", options.url))?;
    let repositories: Vec<&RepositoryInfo> = match &options.repository {
        Some(id) => vec![cmis::select_repository(&discovery.repositories, Some(id))?],
        None => discovery.repositories.iter().collect(),
    };
    let mut out = format!(
        "endpoint: {}\nbinding: {}\nrepositories: {}\n",
        options.url,
        discovery.kind,
        repositories.len()
    );
    for repo in repositories {
        out.push('\n');
        out.push_str(&describe(repo));
    }
    print_all(&out)
}

/// Writes to stdout; a closed pipe (`cmisfs probe | head`) is a normal end,
/// not an error (println! would panic there).
fn print_all(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The repository and its capabilities, one fact a line.
pub fn describe(repo: &RepositoryInfo) -> String {
    let caps = &repo.capabilities;
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("  {k}: {v}\n"));
    line("repository", &repo.id);
    line("name", &repo.name);
    if !repo.description.is_empty() {
        line("description", &repo.description);
    }
    line(
        "product",
        &format!(
            "{} {} ({})",
            repo.product_name, repo.product_version, repo.vendor_name
        ),
    );
    line("CMIS version", &repo.cmis_version_supported);
    line("root folder id", &repo.root_folder_id);
    line(
        "content updates",
        match caps.content_stream_updatability {
            ContentStreamUpdates::Anytime => "anytime",
            ContentStreamUpdates::PwcOnly => "only on a checked-out copy",
            ContentStreamUpdates::None => "never (read-only content)",
        },
    );
    line("checked-out copies updatable", yes(caps.pwc_updatable));
    line("multi-filing", yes(caps.multifiling));
    line("unfiling", yes(caps.unfiling));
    line("version-specific filing", yes(caps.version_specific_filing));
    line("folder tree", yes(caps.get_folder_tree));
    line("descendants", yes(caps.get_descendants));
    line(
        "change log",
        match caps.changes {
            ChangesCapability::None => "none",
            ChangesCapability::ObjectIdsOnly => "object ids only",
            ChangesCapability::Properties => "with properties",
            ChangesCapability::All => "all",
        },
    );
    if let Some(token) = &repo.latest_change_log_token {
        line("latest change token", token);
    }
    line(
        "query",
        match caps.query {
            QueryCapability::None => "none",
            QueryCapability::MetadataOnly => "metadata only",
            QueryCapability::FullTextOnly => "full text only",
            QueryCapability::BothSeparate => "metadata and full text, separately",
            QueryCapability::BothCombined => "metadata and full text, combined",
        },
    );
    line(
        "ACLs",
        match caps.acl {
            AclCapability::None => "none",
            AclCapability::Discover => "readable",
            AclCapability::Manage => "readable and settable",
        },
    );
    out
}
