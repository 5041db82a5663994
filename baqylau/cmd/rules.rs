//! `baqylau rules check|test`: tools for rule authors.

use std::path::PathBuf;
use std::process::ExitCode;

/// Rule-author subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Parse and compile every rule file; report errors with file:line:column.
    Check {
        /// Rules directory.
        dir: PathBuf,
    },
    /// Run every rule's embedded examples (examples.match / examples.no_match).
    Test {
        /// Rules directory.
        dir: PathBuf,
    },
}

/// Runs a `rules` subcommand: exit 0 fine, 1 failing examples, 2 broken rules.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { dir } => {
            let rules = crate::embedded::load_rules(Some(&dir))?;
            println!("{} rules OK in {}", rules.rules().len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { dir } => {
            let rules = crate::embedded::load_rules(Some(&dir))?;
            let failures = rules.test_examples();
            for f in &failures {
                println!("FAIL {f}");
            }
            println!(
                "{} rules, {} failing example(s)",
                rules.rules().len(),
                failures.len()
            );
            Ok(if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
