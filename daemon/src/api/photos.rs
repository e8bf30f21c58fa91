//! Photos that follow their verdicts: `POST /verify` answers the verdict and leaves
//! the photo read running on the reader thread; its answer waits here under a random
//! id until `GET /verify/{id}/photo` asks for it (which waits for it if need be).
//! The last [`KEEP`] verifications are kept; older ids answer 404.

use super::error::ApiError;
use super::views::PhotoView;
use crate::ops::PhotoFollows;
use axum::http::StatusCode;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// How many verifications' photos are kept for their screens.
pub const KEEP: usize = 32;
/// A request for a photo never waits longer than this (the read itself ends within
/// the reader's card deadline per command).
const WAIT_AT_MOST: Duration = Duration::from_secs(60);

/// The photo's answer, or the error parts of `ApiError` (which is not `Clone`).
type Answer = Result<PhotoView, (StatusCode, &'static str, String)>;

#[derive(Default)]
pub struct PhotoSlots {
    slots: Mutex<VecDeque<(String, watch::Receiver<Option<Answer>>)>>,
}

impl PhotoSlots {
    /// Keeps the photo that follows a verdict; returns the id to fetch it by.
    pub fn expect(&self, photo: PhotoFollows) -> Result<String, ApiError> {
        let mut raw = [0u8; 16];
        SystemRandom::new().fill(&mut raw).map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "random_failed",
                "随机数生成失败",
            )
        })?;
        let id = hex::encode(raw);
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let answer = match photo.wait().await {
                Ok(p) => Ok(PhotoView::from(&p)),
                Err(e) => {
                    let e = ApiError::from(e);
                    Err((e.status, e.code, e.message))
                }
            };
            // Nobody keeps the slot any more (evicted): nothing to tell.
            let _ = tx.send(Some(answer));
        });
        let mut slots = self.slots.lock().map_err(|_| poisoned())?;
        slots.push_back((id.clone(), rx));
        while slots.len() > KEEP {
            slots.pop_front();
        }
        Ok(id)
    }

    /// The photo's answer; waits while it is still being read.
    pub async fn wait(&self, id: &str) -> Result<PhotoView, ApiError> {
        let mut rx = {
            let slots = self.slots.lock().map_err(|_| poisoned())?;
            slots
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, rx)| rx.clone())
                .ok_or_else(|| ApiError::not_found("找不到这次核验的照片（已过期），请重新验证"))?
        };
        let answer = tokio::time::timeout(WAIT_AT_MOST, rx.wait_for(Option::is_some))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "card_timeout",
                    "读取卡内照片超时",
                )
            })?
            .map_err(|_| lost())?
            .clone();
        match answer {
            Some(Ok(v)) => Ok(v),
            Some(Err((status, code, message))) => Err(ApiError::new(status, code, message)),
            None => Err(lost()),
        }
    }
}

fn poisoned() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "照片缓存不可用",
    )
}

fn lost() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "photo_lost",
        "照片读取中断，请重新验证",
    )
}
