//! Documentation generated from the command line itself: shell completions (clap_complete)
//! and man pages (clap_mangen), so they never drift from the flags.

use std::path::Path;

use clap::CommandFactory;

use super::{Cli, EXIT_CLEAN, EXIT_ERROR};

/// `sprawl completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "sprawl", &mut std::io::stdout());
    EXIT_CLEAN
}

/// The top-level man page as roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

/// `sprawl man [--dir DIR]`: the top-level page on stdout, or every page into DIR.
pub fn man(dir: Option<&Path>) -> i32 {
    let res = match dir {
        None => man_page().and_then(|page| {
            use std::io::Write as _;
            std::io::stdout().write_all(&page)
        }),
        Some(d) => std::fs::create_dir_all(d)
            .and_then(|_| clap_mangen::generate_to(Cli::command(), d))
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", d.display()))),
    };
    match res {
        Ok(()) => EXIT_CLEAN,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            EXIT_ERROR
        }
    }
}
