//! What both applications do the same way below their commands: command chaining
//! (CLA bit 10), fitting a response to Ne and the transport style, and GET RESPONSE
//! (PROFILE.md §2.2; SP 800-73-4 Part 2 §3 says the same for PIV).

use crate::options::SimOptions;
use card_profile::apdu::{Command, Ins, Response, CLA_CHAINING, SHORT_MAX_NE};
use card_profile::status::Status;

/// Response bytes waiting for GET RESPONSE, and the status word of the last part.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    data: Vec<u8>,
    status: Status,
}

/// Links of a command chain received so far (all with the same INS P1 P2).
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    ins: Ins,
    p1: u8,
    p2: u8,
    data: Vec<u8>,
}

/// Collects chained links. `Ok(None)`: a link was buffered in `buffer`;
/// `Ok(Some(cmd))`: the command to execute, with the whole chain's data (at most
/// `max_len` bytes, else `6700`). A link with another INS P1 P2 than the chain
/// ends the chain with `6883`.
pub(crate) fn chain(
    options: &SimOptions,
    buffer: &mut Option<Chain>,
    cmd: Command,
    max_len: usize,
) -> Result<Option<Command>, Status> {
    let chained = cmd.is_chained();
    if chained && !options.command_chaining {
        return Err(Status::CommandChainingNotSupported);
    }
    let mut cmd = cmd;
    if let Some(mut chain) = buffer.take() {
        if (chain.ins, chain.p1, chain.p2) != (cmd.ins, cmd.p1, cmd.p2) {
            return Err(Status::LastCommandOfChainExpected);
        }
        if chain.data.len() + cmd.data.len() > max_len {
            return Err(Status::WrongLength);
        }
        chain.data.append(&mut cmd.data);
        cmd.data = chain.data;
    } else if cmd.data.len() > max_len {
        return Err(Status::WrongLength);
    }
    if chained {
        *buffer = Some(Chain {
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: cmd.data,
        });
        return Ok(None);
    }
    cmd.cla &= !CLA_CHAINING;
    Ok(Some(cmd))
}

/// Fits a response to Ne and to the transport style; what does not fit waits in
/// `pending` for GET RESPONSE.
pub(crate) fn shape(
    options: &SimOptions,
    pending: &mut Option<Pending>,
    resp: Response,
    cmd: &Command,
) -> Response {
    if resp.data.is_empty() {
        return resp;
    }
    // No Le field is read as Le = 00 (256): what T=0 readers send for case 2.
    let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
    let len = resp.data.len();
    if options.t0_style && ne <= SHORT_MAX_NE {
        if !cmd.data.is_empty() {
            // Case 4 under T=0: the data always comes through GET RESPONSE.
            return defer(pending, resp.data, resp.status, 0);
        }
        if len <= SHORT_MAX_NE && ne != len {
            return Response::status(wrong_le(len));
        }
    }
    if len > ne {
        return defer(pending, resp.data, resp.status, ne);
    }
    resp
}

/// Answers the first `now` bytes and keeps the rest for GET RESPONSE.
fn defer(pending: &mut Option<Pending>, mut data: Vec<u8>, status: Status, now: usize) -> Response {
    let rest = data.split_off(now.min(data.len()));
    let announce = more_available(rest.len());
    *pending = Some(Pending { data: rest, status });
    Response::new(data, announce)
}

/// GET RESPONSE: the next part of `taken` (what was pending before this command),
/// at most Ne bytes; the rest goes back to `pending`.
pub(crate) fn get_response(
    pending: &mut Option<Pending>,
    cmd: &Command,
    taken: Option<Pending>,
) -> Response {
    if (cmd.p1, cmd.p2) != (0, 0) {
        *pending = taken;
        return Response::status(Status::IncorrectP1P2);
    }
    let Some(taken) = taken else {
        return Response::status(Status::ConditionsNotSatisfied);
    };
    let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
    if taken.data.len() <= ne {
        return Response::new(taken.data, taken.status);
    }
    defer(pending, taken.data, taken.status, ne)
}

/// Under T=0, a case-2 command whose short Le differs from the `len` bytes it
/// would return is refused before it acts (a re-sent GET CHALLENGE or key
/// generation must not have run twice).
pub(crate) fn check_t0_le(options: &SimOptions, cmd: &Command, len: usize) -> Result<(), Status> {
    let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
    if options.t0_style && cmd.data.is_empty() && ne <= SHORT_MAX_NE && ne != len {
        return Err(wrong_le(len));
    }
    Ok(())
}

/// `61xx` for `rest` bytes still to come (`6100` = 256 or more).
fn more_available(rest: usize) -> Status {
    if rest == 0 {
        Status::Success
    } else {
        Status::MoreAvailable(rest.min(SHORT_MAX_NE) as u8)
    }
}

/// `6Cxx` for a response of `len` ≤ 256 bytes (`6C00` = 256).
fn wrong_le(len: usize) -> Status {
    Status::WrongLe(len.min(SHORT_MAX_NE) as u8)
}
