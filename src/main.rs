use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kanect::cli::Cli::parse();
    match kanect::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
