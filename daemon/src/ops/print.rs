//! Printing card faces (issue #16, docs/CARD-FACE.md): the admin's printing
//! settings in 设置 (the queue single faces go to; which reader is which card
//! printer's encoder, and that printer's order), and printing one certificate's
//! face. Print-and-encode batches are in `issue.rs`, over the same pieces.

use super::{Invalid, OpError, Station};
use crate::printing::{self, PrintError, PrintTarget};
use crate::store::{self, PrintOrder, PrinterPairing};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// 设置's printing section.
#[derive(Debug, Serialize)]
pub struct PrintingView {
    /// The queue single faces are printed on.
    pub queue: Option<String>,
    pub pairings: Vec<PairingView>,
    /// The queues the CUPS server offers now (empty when it cannot be asked).
    pub queues: Vec<String>,
    /// Why the queues could not be listed: `{code, message}`.
    pub queues_error: Option<serde_json::Value>,
    /// The orders a printer can work in, with their words.
    pub orders: Vec<OrderLabel>,
}

#[derive(Debug, Serialize)]
pub struct PairingView {
    #[serde(flatten)]
    pub pairing: PrinterPairing,
    pub order_label: &'static str,
}

#[derive(Debug, Serialize)]
pub struct OrderLabel {
    pub order: PrintOrder,
    pub label: &'static str,
}

/// The admin's change: the whole printing section at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintingChange {
    pub queue: Option<String>,
    #[serde(default)]
    pub pairings: Vec<PrinterPairing>,
}

/// A face handed to CUPS.
#[derive(Debug, Serialize)]
pub struct PrintedFace {
    pub certificate_id: i64,
    pub queue: String,
    /// CUPS's job id (`queue-N`).
    pub print_job: String,
}

/// The words for an order: the one vocabulary's (`labels::print_order_zh`).
pub fn order_zh(order: PrintOrder) -> &'static str {
    crate::labels::print_order_zh(order)
}

impl Station {
    fn print_target(&self, queue: &str) -> PrintTarget {
        PrintTarget {
            server: self.config.cups_server.clone(),
            queue: queue.to_owned(),
        }
    }

    /// Hands a PDF to `queue`; blocking (call off the async workers).
    pub(super) fn print_to(&self, queue: &str, title: &str, pdf: &[u8]) -> Result<String, OpError> {
        Ok(printing::print_pdf(
            &self.print_target(queue),
            title,
            pdf,
            self.config.print_deadline,
        )?)
    }

    /// The printing section of 设置, with the queues CUPS offers now. Blocking.
    pub fn printing_settings(&self) -> Result<PrintingView, OpError> {
        let (queue, pairings) = self
            .store
            .read(|c| Ok((store::print_queue(c)?, store::printer_pairings(c)?)))?;
        let (queues, queues_error) = match printing::list_queues(
            self.config.cups_server.as_deref(),
            self.config.print_deadline,
        ) {
            Ok(q) => (q, None),
            Err(e) => (
                Vec::new(),
                Some(json!({ "code": e.code(), "message": e.message_zh() })),
            ),
        };
        Ok(PrintingView {
            queue,
            pairings: pairings
                .into_iter()
                .map(|p| PairingView {
                    order_label: order_zh(p.order),
                    pairing: p,
                })
                .collect(),
            queues,
            queues_error,
            orders: PrintOrder::ALL
                .into_iter()
                .map(|o| OrderLabel {
                    order: o,
                    label: order_zh(o),
                })
                .collect(),
        })
    }

    /// Replaces the printing settings (admin). Queue names are checked as CUPS
    /// names, not against the server: a printer may be set up after the station.
    pub fn set_printing(&self, actor: &str, change: &PrintingChange) -> Result<(), OpError> {
        let queue = change
            .queue
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty());
        if let Some(q) = queue {
            if !printing::valid_queue_name(q) {
                return Err(PrintError::BadQueueName(q.to_owned()).into());
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut pairings = Vec::with_capacity(change.pairings.len());
        for p in &change.pairings {
            let reader = p.reader.trim();
            if reader.is_empty() || reader.len() > 200 {
                return Err(Invalid::PairingReaderMissing.into());
            }
            if !seen.insert(reader.to_owned()) {
                return Err(Invalid::PairingRepeated(reader.to_owned()).into());
            }
            let q = p.queue.trim();
            if !printing::valid_queue_name(q) {
                return Err(PrintError::BadQueueName(q.to_owned()).into());
            }
            pairings.push(PrinterPairing {
                reader: reader.to_owned(),
                queue: q.to_owned(),
                order: p.order,
            });
        }
        self.store
            .write(actor, |tx| store::set_printing(tx, queue, &pairings))?;
        Ok(())
    }

    /// Prints a certificate's face (its live card's, seal signed now) on the queue
    /// chosen in 设置. Blocking.
    pub fn print_face(&self, actor: &str, certificate_id: i64) -> Result<PrintedFace, OpError> {
        let queue = self
            .store
            .read(store::print_queue)?
            .ok_or(PrintError::NoQueueChosen)?;
        let pdf = self.card_face(certificate_id)?;
        let number = self
            .store
            .read(|c| store::certificate(c, certificate_id))?
            .certificate
            .number;
        let print_job = self.print_to(&queue, &format!("卡面 {number}"), &pdf)?;
        self.store.write(actor, |tx| {
            tx.audit(
                "face.printed",
                &number,
                json!({ "certificate": certificate_id, "queue": queue, "print_job": print_job }),
            )?;
            Ok(())
        })?;
        Ok(PrintedFace {
            certificate_id,
            queue,
            print_job,
        })
    }
}
