//! ecardd command line. Only what works is offered: the demo walk-through and the
//! audit-chain check and the reader list; serve/issue/verify/… arrive with the rest
//! of issue #3.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ecardd", about = "ecard station daemon")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the station with no hardware: simulated readers, demo keys, sample officers.
    Demo,
    /// List the PC/SC readers pcscd offers and whether a card is in each.
    Readers {
        #[arg(long)]
        json: bool,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain of the audit log and name the first broken row.
    Verify {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Demo => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("ecardd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(ecardd::demo::run()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ecardd demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Readers { json } => {
            use ecardd::readers::ReaderBackend;
            let readers = ecardd::readers::pcsc::PcscReaders::start();
            // One monitor round: readers are listed, then their cards polled.
            std::thread::sleep(std::time::Duration::from_millis(700));
            if !readers.service_up() {
                eprintln!("智能卡服务（pcscd）不可用");
                return ExitCode::from(2);
            }
            let list = readers.list();
            if json {
                println!("{}", serde_json::to_string(&list).unwrap_or_default());
            } else if list.is_empty() {
                println!("没有读卡器");
            } else {
                for r in list {
                    println!(
                        "{}\t{}",
                        r.name,
                        if r.card_present { "有卡" } else { "无卡" }
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Audit {
            command: AuditCmd::Verify { db, json },
        } => {
            let report = ecardd::store::Store::open(&db).and_then(|s| s.verify_audit_chain());
            match report {
                Ok(r) if json => {
                    println!(
                        "{}",
                        serde_json::json!({ "rows": r.rows, "first_broken": r.first_broken })
                    );
                    if r.first_broken.is_none() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(3)
                    }
                }
                Ok(r) => match r.first_broken {
                    None => {
                        println!("审计日志完整：{} 条", r.rows);
                        ExitCode::SUCCESS
                    }
                    Some((seq, why)) => {
                        println!("审计日志在第 {seq} 条断裂：{why}");
                        ExitCode::from(3)
                    }
                },
                Err(e) => {
                    eprintln!("ecardd audit verify: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
