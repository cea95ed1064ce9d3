//! The `sprawl` binary: parses the command line and exits with 0 (clean), 1 (findings) or
//! 2 (error, including "nothing was scanned").

use clap::Parser;

fn main() {
    let cli = sprawl::cli::Cli::parse();
    // Temporary clones are removed when SIGINT, SIGTERM or SIGHUP ends the run.
    sprawl::source::spill::install_signal_cleanup();
    let code = sprawl::cli::run(cli);
    std::process::exit(code);
}
