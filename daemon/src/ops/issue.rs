//! Issuance: write an approved certificate onto a blank card, verify it, record it.
//!
//! Crash and tear safety: the job records the card's serial before the first write.
//! After an interruption (card pulled, reader gone, pcscd or the process killed) the
//! job is `interrupted`; resuming it with the same card wipes a half-written card and
//! rewrites it, or, if activation had already completed, verifies and records it
//! without writing twice. Resuming with another card voids the first card's serial on
//! the revocation list, so a card whose fate is unknown can never pass a field check.

use super::invalid::Invalid;
use super::{OpError, Station};
use crate::labels;
use crate::printing::PrintError;
use crate::store::{self, CertificateState, Conflict, JobState, PrintOrder, PrinterPairing, Tx};
use card_profile::channel::Link;
use card_profile::pki::TrustList;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, Found, IssueData, IssueError, IssueJob, VerifyContext};
use card_profile::verdict::{Standing, Verdict};
use ecard_sync_protocol::events::{CardIssued, CardVoided, EventBody};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct IssueOutcome {
    pub job_id: i64,
    pub certificate_id: i64,
    pub number: String,
    pub serial: String,
    pub verdict: Verdict,
    /// True when an interrupted job found its card already complete.
    pub resumed_without_rewrite: bool,
    pub apdus: usize,
}

/// Progress of one job, broadcast to the UI (SSE) and the CLI.
#[derive(Debug, Clone, Serialize)]
pub struct JobEvent {
    pub job_id: i64,
    pub batch_id: Option<i64>,
    pub certificate_id: i64,
    pub state: JobState,
    pub reader: Option<String>,
    pub serial: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchProgress {
    pub batch_id: i64,
    pub total: usize,
    pub queued: usize,
    pub writing: usize,
    pub interrupted: usize,
    pub done: usize,
    pub failed: usize,
    /// 废卡: cards spoiled in a print-and-encode batch (their serials voided; each
    /// certificate went on to the next card, so it is counted again).
    pub spoiled: usize,
    /// The batch prints each card's face as it encodes it.
    pub print_encode: bool,
}

struct Written {
    serial: String,
    chip_key: String,
    sod: String,
    verdict: Verdict,
    resumed: bool,
    apdus: usize,
}

impl Station {
    /// Issues one certificate at `reader` (an open job is resumed, or one is created).
    pub async fn issue(
        &self,
        actor: &str,
        certificate_id: i64,
        reader: &str,
    ) -> Result<IssueOutcome, OpError> {
        let job_id = self.open_job(actor, certificate_id, None)?;
        self.write_job(actor, job_id, reader).await
    }

    /// The certificate's open job, or a new one. Refuses certificates that are not
    /// approved-and-unwritten: the same certificate never goes onto two live cards.
    pub fn open_job(
        &self,
        actor: &str,
        certificate_id: i64,
        batch_id: Option<i64>,
    ) -> Result<i64, OpError> {
        Ok(self
            .store
            .write(actor, |tx| store::open_job(tx, certificate_id, batch_id))?)
    }

    /// Writes the job's certificate at `reader` and records the outcome. Refused
    /// while the job is being written elsewhere (a batch worker, another clerk).
    pub async fn write_job(
        &self,
        actor: &str,
        job_id: i64,
        reader: &str,
    ) -> Result<IssueOutcome, OpError> {
        self.write_job_claimed(actor, job_id, reader, false, None)
            .await
    }

    /// `claimed`: the caller (a batch worker's `claim_next`) has already moved the
    /// job to `writing` for this reader; otherwise it is claimed here, atomically,
    /// from `queued` or `interrupted` — never from another writer.
    ///
    /// `print`: the reader is this card printer's encoder (a print-and-encode
    /// batch): the face is printed before the first write (print first) or after the
    /// card verified (encode first), and a card whose write or verification fails is
    /// spoiled — serial voided, job marked 废卡, the certificate queued for the next
    /// card of the batch — instead of waiting to be resumed.
    async fn write_job_claimed(
        &self,
        actor: &str,
        job_id: i64,
        reader: &str,
        claimed: bool,
        print: Option<&PrinterPairing>,
    ) -> Result<IssueOutcome, OpError> {
        // Before any card is touched or recorded: a verify-only station would record
        // a blank card's serial, fail for want of keys and void that card next time.
        self.keys()?;
        let job = self.store.read(|c| store::job(c, job_id))?;
        let cert = self
            .store
            .read(|c| store::certificate(c, job.certificate_id))?;
        if cert.state != CertificateState::Approved {
            return Err(OpError::Conflict(Conflict::NotIssuable {
                number: cert.certificate.number,
                state: cert.state,
            }));
        }
        let data = self
            .store
            .read(|c| store::issue_data(c, job.certificate_id))?;
        let id_number = data.holder.id_number.clone();
        if !claimed && !self.claim_job(actor, job_id, reader)? {
            return Err(OpError::Conflict(Conflict::JobNotResumable { job_id }));
        }
        self.set_job(actor, &job, JobState::Writing, Some(reader), None, None)?;

        let station = self.clone();
        let actor_owned = actor.to_owned();
        let previous_serial = job.card_serial.clone();
        let face_data = print.map(|_| data.clone());
        let print_first = print
            .filter(|p| p.order == PrintOrder::PrintFirst)
            .map(|p| p.queue.clone());
        let result = self
            .readers
            .run(reader, move |chan| {
                station.write_on_card(
                    chan,
                    &actor_owned,
                    job_id,
                    previous_serial.as_deref(),
                    &data,
                    print_first.as_deref(),
                )
            })
            .await
            .map_err(OpError::from)
            .and_then(|r| r);

        match result {
            Ok(w) if w.verdict.standing == Standing::Valid => {
                let outcome = IssueOutcome {
                    job_id,
                    certificate_id: job.certificate_id,
                    number: cert.certificate.number.to_string(),
                    serial: w.serial.clone(),
                    verdict: w.verdict.clone(),
                    resumed_without_rewrite: w.resumed,
                    apdus: w.apdus,
                };
                self.store.write(actor, |tx| {
                    store::insert_card(
                        tx,
                        &w.serial,
                        job.certificate_id,
                        &w.chip_key,
                        &w.sod,
                        w.verdict.family,
                    )?;
                    if let Some(sequence) = w.verdict.trusted_status_sequence() {
                        store::note_status_sequence(tx, &w.serial, sequence)?;
                    }
                    store::set_certificate_state(tx, job.certificate_id, CertificateState::Issued)?;
                    store::update_job(
                        tx,
                        job_id,
                        JobState::Verified,
                        Some(reader),
                        Some(&w.serial),
                        None,
                    )?;
                    let detail = json!({
                        "job": job_id, "number": cert.certificate.number, "serial": w.serial,
                        "family": w.verdict.family.code(),
                        "reader": reader, "resumed": w.resumed,
                    });
                    tx.audit("card.issued", &cert.certificate.number, detail)?;
                    tx.outbox(&EventBody::CardIssued(CardIssued {
                        number: cert.number()?,
                        serial: w.serial.clone(),
                        chip_key: w.chip_key.clone(),
                        sod: w.sod.clone(),
                        issued_on: self.today(),
                        id_number: id_number.clone(),
                    }))?;
                    Ok(())
                })?;
                self.emit(
                    &job,
                    JobState::Verified,
                    Some(reader),
                    Some(&w.serial),
                    None,
                );
                if let (Some(p), Some(data)) = (print, face_data) {
                    if p.order == PrintOrder::EncodeFirst {
                        self.print_after_encoding(actor, job_id, reader, &p.queue, data, &w.serial)
                            .await;
                    }
                }
                Ok(outcome)
            }
            Ok(w) => {
                // Written but not valid (e.g. our signer is not in our own trust list):
                // the card must never pass a field check.
                // The records keep a code; the words are made at the edge.
                let standing = serde_json::to_value(w.verdict.standing)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let why = format!("verification_failed.{standing}");
                self.store.write(actor, |tx| {
                    store::update_job(
                        tx,
                        job_id,
                        JobState::Failed,
                        Some(reader),
                        Some(&w.serial),
                        Some(&why),
                    )?;
                    void_serial(
                        tx,
                        &w.serial,
                        labels::VOID_VERIFICATION_FAILED,
                        self.today(),
                    )?;
                    tx.audit(
                        "job.failed",
                        &cert.certificate.number,
                        json!({ "job": job_id, "serial": w.serial, "why": why }),
                    )?;
                    if print.is_some() {
                        spoil(tx, &job, &w.serial, &why)?;
                    }
                    Ok(())
                })?;
                self.emit(
                    &job,
                    JobState::Failed,
                    Some(reader),
                    Some(&w.serial),
                    Some(labels::reason_zh(&why).into_owned()),
                );
                Err(OpError::VerificationFailed(Box::new(w.verdict)))
            }
            Err(e) => {
                // An unsuitable card leaves the job queued for the next card; anything
                // that may have left a half-written card makes it interrupted.
                let unsuitable = e.card_untouched();
                let state = if unsuitable {
                    JobState::Queued
                } else {
                    JobState::Interrupted
                };
                let job_now = self.store.read(|c| store::job(c, job_id))?;
                self.set_job(actor, &job_now, state, Some(reader), None, Some(&e))?;
                // At a printer's encoder a card the write failed on is not put back:
                // it is spoiled (its serial, recorded before the first write, voided).
                if let (Some(_), false, Some(serial)) =
                    (print, unsuitable, job_now.card_serial.as_deref())
                {
                    let why = e.code();
                    self.store.write(actor, |tx| {
                        void_serial(tx, serial, labels::VOID_WRITE_FAILED, self.today())?;
                        spoil(tx, &job_now, serial, why)
                    })?;
                    self.emit(
                        &job_now,
                        JobState::Failed,
                        Some(reader),
                        Some(serial),
                        Some(format!("废卡：{}", e.message_zh())),
                    );
                }
                Err(e)
            }
        }
    }

    /// The card side of issuance, on the reader's blocking thread: the sequence
    /// (`card_profile::sequences::issue`) does the card steps; this records which
    /// card the job writes before the first write.
    fn write_on_card(
        &self,
        chan: &mut dyn card_profile::transport::CardChannel,
        actor: &str,
        job_id: i64,
        previous_serial: Option<&str>,
        data: &IssueData,
        print_first: Option<&str>,
    ) -> Result<Written, OpError> {
        let mut link = Link::new(chan);
        let keys = self.keys()?;
        let today = self.today();
        // The freshly written card is checked against this station's own trust list.
        let trust: TrustList = self.trust_list();
        let none = RevocationSet::new();
        let ctx = VerifyContext {
            trust: &trust,
            today,
            revocations: &none,
            revocation_list_date: Some(today),
            max_revocation_age_days: self.config.max_revocation_age_days,
            review_policy: self.config.review_policy,
        };
        let job = IssueJob {
            data,
            master: &keys.master,
            signer: &keys.signer,
            today,
            previous_serial: previous_serial.and_then(parse_serial),
            verify: &ctx,
        };
        let issued = sequences::issue(&mut link, &job, |found| {
            self.claim_card(
                actor,
                job_id,
                previous_serial,
                found,
                print_first.map(|q| (q, data)),
            )
        })
        .map_err(|e| match e {
            IssueError::Card(e) => OpError::Card(e),
            IssueError::NotBlank => OpError::CardNotBlank,
            IssueError::WrongCard => OpError::WrongCard,
            IssueError::Claim(e) => e,
        })?;
        Ok(Written {
            serial: hex::encode_upper(issued.serial),
            chip_key: hex::encode(issued.chip_key),
            sod: hex::encode(issued.sod),
            verdict: issued.verdict,
            resumed: issued.resumed,
            apdus: link.traffic().apdus,
        })
    }

    /// Records which card this job is writing, before the first write (voiding the
    /// card an interrupted job had started, when this is another one). A voided card
    /// (a job moved on to another card) never becomes a live card again: it is on the
    /// revocation list and would fail every field check.
    fn claim_card(
        &self,
        actor: &str,
        job_id: i64,
        previous_serial: Option<&str>,
        found: &Found,
        print_first: Option<(&str, &IssueData)>,
    ) -> Result<(), OpError> {
        let serial = hex::encode_upper(found.info.serial);
        if self.store.read(|c| store::serial_revoked(c, &serial))? {
            return Err(OpError::CardVoided(serial));
        }
        // A new card has a serial this station has never seen; the job's own card
        // (resumed) is the one serial it may meet again. Anything else is a copy or
        // a card another job holds, and is never recorded for this one.
        let own = previous_serial == Some(serial.as_str());
        if !own
            && self
                .store
                .read(|c| store::serial_known_elsewhere(c, &serial, job_id))?
        {
            return Err(OpError::SerialKnown(serial));
        }
        // Print first: the face (its seal names this serial) is printed now, before
        // the first write; a failed print leaves the card untouched. The job's own
        // card, resumed, is not printed twice.
        let mut printed = None;
        if let Some((queue, data)) = print_first {
            let already = own
                && self
                    .store
                    .read(|c| store::face_print_of(c, job_id))?
                    .is_some();
            if !already {
                let pdf = self.render_face(data, found.info.serial)?;
                let title = format!("卡面 {}", data.certificate.number);
                printed = Some(self.print_to(queue, &title, &pdf)?);
            }
        }
        self.store.write(actor, |tx| {
            if let Some(print_job) = &printed {
                store::note_face_print(tx, job_id, print_job)?;
            }
            if let Some(prev) = previous_serial.filter(|p| *p != serial) {
                void_serial(
                    tx,
                    prev,
                    labels::VOID_REPLACED_BY_ANOTHER_CARD,
                    self.today(),
                )?;
            }
            store::update_job(tx, job_id, JobState::Writing, None, Some(&serial), None)?;
            tx.audit(
                "job.card",
                &serial,
                json!({ "job": job_id, "life_cycle": format!("{:?}", found.info.life_cycle) }),
            )?;
            Ok(())
        })?;
        Ok(())
    }

    fn set_job(
        &self,
        actor: &str,
        job: &store::JobRow,
        state: JobState,
        reader: Option<&str>,
        serial: Option<&str>,
        error: Option<&OpError>,
    ) -> Result<(), OpError> {
        // The record keeps the error's code; the event carries its words for the
        // screens that are open now.
        let code = error.map(OpError::code);
        self.store.write(actor, |tx| {
            store::update_job(tx, job.id, state, reader, serial, code)?;
            tx.audit(
                &format!("job.{}", state.as_str()),
                &job.id.to_string(),
                json!({ "certificate": job.certificate_id, "reader": reader, "message": code }),
            )?;
            Ok(())
        })?;
        self.emit(job, state, reader, serial, error.map(OpError::message_zh));
        Ok(())
    }

    fn emit(
        &self,
        job: &store::JobRow,
        state: JobState,
        reader: Option<&str>,
        serial: Option<&str>,
        message: Option<String>,
    ) {
        let _ = self.jobs.send(JobEvent {
            job_id: job.id,
            batch_id: job.batch_id,
            certificate_id: job.certificate_id,
            state,
            reader: reader.map(str::to_owned),
            serial: serial.map(str::to_owned),
            message,
        });
    }

    /// Queues a batch and starts one writer per reader: each blank card inserted gets
    /// the next certificate. Returns the batch id at once; progress comes as
    /// [`JobEvent`]s and from [`Station::batch_progress`].
    pub fn start_batch(
        &self,
        actor: &str,
        name: &str,
        certificate_ids: &[i64],
        readers: &[String],
    ) -> Result<i64, OpError> {
        self.start_batch_with(actor, name, certificate_ids, readers, false)
    }

    /// A batch at card printers' encoders: each reader must be paired with its
    /// printer in 设置; each card is encoded and its face printed in that printer's
    /// order, and a card whose chip write fails is spoiled (see `write_job_claimed`).
    pub fn start_print_encode_batch(
        &self,
        actor: &str,
        name: &str,
        certificate_ids: &[i64],
        readers: &[String],
    ) -> Result<i64, OpError> {
        self.start_batch_with(actor, name, certificate_ids, readers, true)
    }

    fn start_batch_with(
        &self,
        actor: &str,
        name: &str,
        certificate_ids: &[i64],
        readers: &[String],
        print_encode: bool,
    ) -> Result<i64, OpError> {
        if certificate_ids.is_empty() {
            return Err(OpError::Invalid(Invalid::EmptyBatch));
        }
        self.check_batch_readers(readers)?;
        if print_encode {
            self.check_paired(readers)?;
        }
        self.keys()?;
        let batch_id = self.store.write(actor, |tx| {
            let batch = store::insert_batch(tx, name)?;
            if print_encode {
                store::set_batch_print_encode(tx, batch)?;
            }
            for id in certificate_ids {
                store::open_job(tx, *id, Some(batch))?;
            }
            tx.audit(
                "batch.created",
                &batch.to_string(),
                json!({ "name": name, "certificates": certificate_ids, "print_encode": print_encode }),
            )?;
            Ok(batch)
        })?;
        for reader in readers {
            self.spawn_batch_worker(actor.to_owned(), batch_id, reader.clone());
        }
        Ok(batch_id)
    }

    /// Restarts the writers of a batch (after a restart of the daemon, or when a
    /// reader's writer stopped on interrupted jobs).
    pub fn resume_batch(
        &self,
        actor: &str,
        batch_id: i64,
        readers: &[String],
    ) -> Result<(), OpError> {
        if self.batch_progress(batch_id)?.total == 0 {
            return Err(OpError::Store(store::StoreError::NotFound {
                what: "batch",
                id: batch_id.to_string(),
            }));
        }
        self.check_batch_readers(readers)?;
        if self
            .store
            .read(|c| store::batch_print_encode(c, batch_id))?
        {
            self.check_paired(readers)?;
        }
        self.keys()?;
        for reader in readers {
            self.spawn_batch_worker(actor.to_owned(), batch_id, reader.clone());
        }
        Ok(())
    }

    /// Every reader of a print-and-encode batch is a paired printer's encoder.
    fn check_paired(&self, readers: &[String]) -> Result<(), OpError> {
        for reader in readers {
            if self
                .store
                .read(|c| store::printer_pairing(c, reader))?
                .is_none()
            {
                return Err(PrintError::ReaderNotPaired(reader.clone()).into());
            }
        }
        Ok(())
    }

    /// Encode first: the card verified and is recorded; now its face is printed.
    /// A failed print leaves a good card without a face: the job keeps the print
    /// error's code (the batch page shows it) and the face can be printed again
    /// from the certificate (`POST /certificates/{id}/print`).
    async fn print_after_encoding(
        &self,
        actor: &str,
        job_id: i64,
        reader: &str,
        queue: &str,
        data: IssueData,
        serial: &str,
    ) {
        let station = self.clone();
        let queue = queue.to_owned();
        let serial_bytes = parse_serial(serial);
        let printed = tokio::task::spawn_blocking(move || {
            let serial = serial_bytes.ok_or(OpError::Invalid(Invalid::StoredSerial))?;
            let pdf = station.render_face(&data, serial)?;
            station.print_to(&queue, &format!("卡面 {}", data.certificate.number), &pdf)
        })
        .await
        .unwrap_or_else(|_| {
            Err(OpError::Print(PrintError::Refused(
                "print task failed".into(),
            )))
        });
        let recorded = match &printed {
            Ok(print_job) => self
                .store
                .write(actor, |tx| store::note_face_print(tx, job_id, print_job)),
            Err(e) => self.store.write(actor, |tx| {
                store::update_job(
                    tx,
                    job_id,
                    JobState::Verified,
                    Some(reader),
                    None,
                    Some(e.code()),
                )?;
                tx.audit(
                    "face.print_failed",
                    &job_id.to_string(),
                    json!({ "job": job_id, "error": e.code() }),
                )?;
                Ok(())
            }),
        };
        if let Err(e) = &printed {
            tracing::warn!(job_id, error = %e, "face not printed after encoding");
        }
        if let Err(e) = recorded {
            tracing::error!(job_id, error = %e, "face print not recorded");
        }
    }

    /// A batch needs at least one reader, and only readers this station has.
    fn check_batch_readers(&self, readers: &[String]) -> Result<(), OpError> {
        if readers.is_empty() {
            return Err(OpError::Invalid(Invalid::NoReader));
        }
        let known: Vec<String> = self.readers.list().into_iter().map(|r| r.name).collect();
        match readers.iter().find(|r| !known.contains(r)) {
            Some(r) => Err(OpError::Reader(crate::readers::ReaderError::UnknownReader(
                r.clone(),
            ))),
            None => Ok(()),
        }
    }

    fn spawn_batch_worker(&self, actor: String, batch_id: i64, reader: String) {
        let station = self.clone();
        tokio::spawn(async move { station.batch_worker(&actor, batch_id, &reader).await });
    }

    async fn batch_worker(&self, actor: &str, batch_id: i64, reader: &str) {
        let mut events = self.readers.subscribe();
        let print_encode = self
            .store
            .read(|c| store::batch_print_encode(c, batch_id))
            .unwrap_or(false);
        loop {
            if self
                .batch_progress(batch_id)
                .map(|p| p.queued + p.interrupted)
                .unwrap_or(0)
                == 0
            {
                return;
            }
            if !self.card_present(reader) {
                wait_for(&mut events, reader, true).await;
                continue;
            }
            let Ok(Some(job_id)) = self.claim_next(actor, batch_id, reader) else {
                return;
            };
            // Read per card: 设置 may have changed the printer's order meanwhile.
            let pairing = if print_encode {
                match self.store.read(|c| store::printer_pairing(c, reader)) {
                    Ok(Some(p)) => Some(p),
                    _ => {
                        // Unpaired since the batch started: hand the job back and stop.
                        let _ = self.store.write(actor, |tx| {
                            store::update_job(
                                tx,
                                job_id,
                                JobState::Queued,
                                None,
                                None,
                                Some(PrintError::ReaderNotPaired(reader.to_owned()).code()),
                            )
                        });
                        return;
                    }
                }
            } else {
                None
            };
            let result = self
                .write_job_claimed(actor, job_id, reader, true, pairing.as_ref())
                .await;
            tracing::info!(batch_id, job_id, reader, ok = result.is_ok(), "batch card");
            if result.as_ref().is_err_and(OpError::is_card_removed) {
                continue;
            }
            // The operator takes the card out before the next one goes in.
            if self.card_present(reader) {
                wait_for(&mut events, reader, false).await;
            }
        }
    }

    fn card_present(&self, reader: &str) -> bool {
        self.readers
            .list()
            .iter()
            .any(|r| r.name == reader && r.card_present && !r.busy)
    }

    /// Claims the next queued or interrupted job of the batch for `reader`; two
    /// readers never claim the same job (one UPDATE … RETURNING in SQLite).
    /// Moves one job from `queued` or `interrupted` to `writing` at `reader`; false
    /// when it is in any other state (being written, done, failed).
    fn claim_job(&self, actor: &str, job_id: i64, reader: &str) -> Result<bool, OpError> {
        Ok(self
            .store
            .write(actor, |tx| store::claim_job(tx, job_id, reader))?)
    }

    fn claim_next(&self, actor: &str, batch_id: i64, reader: &str) -> Result<Option<i64>, OpError> {
        Ok(self
            .store
            .write(actor, |tx| store::claim_next_in_batch(tx, batch_id, reader))?)
    }

    pub fn batch_progress(&self, batch_id: i64) -> Result<BatchProgress, OpError> {
        let jobs = self.store.read(|c| store::jobs(c, Some(batch_id), &[]))?;
        let print_encode = match self.store.read(|c| store::batch_print_encode(c, batch_id)) {
            Ok(v) => v,
            Err(store::StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        let mut p = BatchProgress {
            batch_id,
            total: jobs.len(),
            print_encode,
            ..BatchProgress::default()
        };
        for j in jobs {
            if j.spoiled {
                p.spoiled += 1;
                continue;
            }
            match j.state {
                JobState::Queued => p.queued += 1,
                JobState::Writing => p.writing += 1,
                JobState::Interrupted => p.interrupted += 1,
                JobState::Written | JobState::Verified | JobState::Synced => p.done += 1,
                JobState::Failed | JobState::Cancelled => p.failed += 1,
            }
        }
        Ok(p)
    }
}

/// A spoiled card's job (its serial already voided by the caller, in the same
/// transaction): failed, 废卡, and its certificate queued again in the same batch
/// for the next blank card.
fn spoil(tx: &mut Tx<'_>, job: &store::JobRow, serial: &str, why: &str) -> store::Result<()> {
    store::spoil_job(tx, job.id, why)?;
    let next = store::open_job(tx, job.certificate_id, job.batch_id)?;
    tx.audit(
        "card.spoiled",
        serial,
        json!({ "job": job.id, "why": why, "requeued_as": next }),
    )?;
    Ok(())
}

fn void_serial(
    tx: &mut Tx<'_>,
    serial: &str,
    reason: &str,
    today: chrono::NaiveDate,
) -> store::Result<()> {
    store::insert_revocation(tx, Some(serial), None, reason, today, "local")?;
    tx.audit("card.voided", serial, json!({ "reason": reason }))?;
    tx.outbox(&EventBody::CardVoided(CardVoided {
        serial: serial.to_owned(),
        reason: reason.to_owned(),
        since: today,
    }))?;
    Ok(())
}

/// A serial as recorded (upper hex) back to its bytes; a record that does not parse
/// matches no card.
pub(super) fn parse_serial(text: &str) -> Option<card_profile::keys::Serial> {
    hex::decode(text).ok().and_then(|b| b.try_into().ok())
}

/// Waits until `reader` reports a card inserted (`present`) or removed.
async fn wait_for(
    events: &mut tokio::sync::broadcast::Receiver<crate::readers::ReaderEvent>,
    reader: &str,
    present: bool,
) {
    use crate::readers::ReaderEvent;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
            // Re-check state periodically: an event may have come before we subscribed.
            Err(_) => return,
            Ok(Ok(ReaderEvent::CardInserted { reader: r })) if present && r == reader => return,
            Ok(Ok(ReaderEvent::CardRemoved { reader: r })) if !present && r == reader => return,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return,
            Ok(_) => {}
        }
    }
}
