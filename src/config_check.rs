//! `ml-connector config check FILE`.

use std::path::Path;
use std::process::ExitCode;

use mlc_config::Config;

/// Prints every problem of `file`, one per line with its key path; exits 1
/// when there is any, 0 when the file is good.
pub fn run(file: &Path) -> ExitCode {
    if !file.exists() {
        eprintln!("{}: no such file", file.display());
        return ExitCode::FAILURE;
    }
    match Config::load(Some(file), std::env::vars()) {
        Ok(config) => {
            let names: Vec<&str> = config.instances.keys().map(String::as_str).collect();
            println!(
                "{}: OK ({} instance{}{}{})",
                file.display(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                if names.is_empty() { "" } else { ": " },
                names.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            let count = problems.problems.len();
            for problem in &problems.problems {
                let path = if problem.path.is_empty() {
                    "(file)"
                } else {
                    &problem.path
                };
                println!("{path}: {}", problem.message);
            }
            eprintln!(
                "{}: {count} problem{}",
                file.display(),
                if count == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}
