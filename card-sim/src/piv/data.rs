//! GET DATA and PUT DATA (SP 800-73-4 Part 2 §3.1.2, §3.3.2): objects by tag, read
//! rules and limits from [`super::objects`].

use super::objects::{self, ReadRule, TOTAL_BUDGET};
use super::PivCard;
use card_profile::apdu::{Command, Response};
use card_profile::status::Status;
use card_profile::tlv::{self, Tag};

/// P1 P2 of both commands: "the current application".
const P1P2: (u8, u8) = (0x3F, 0xFF);
/// The tag list of GET DATA / PUT DATA.
const TAG_LIST: Tag = Tag(0x5C);

impl PivCard {
    /// `00 CB 3F FF 05 5C 03 5F C1 xx` → `53 L v` (`7E L v` for discovery).
    pub(super) fn get_data(&mut self, cmd: &Command) -> Result<Response, Status> {
        if (cmd.p1, cmd.p2) != P1P2 {
            return Err(Status::IncorrectP1P2);
        }
        let tag_list = tlv::parse_exact(&cmd.data).map_err(|_| Status::IncorrectData)?;
        if tag_list.tag != TAG_LIST {
            return Err(Status::IncorrectData);
        }
        let tag = objects::tag_from_bytes(tag_list.value).ok_or(Status::IncorrectData)?;
        let spec = objects::spec(tag).ok_or(Status::IncorrectData)?;
        // The access rule comes first: an empty PIN-protected object does not say
        // that it is empty to a reader without the PIN.
        if spec.read == ReadRule::Pin && !self.volatile.pin_verified {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let value = match (self.state.objects.get(&tag), tag) {
            (Some(value), _) => value.as_slice(),
            (None, objects::DISCOVERY) => &objects::DEFAULT_DISCOVERY,
            (None, _) => return Err(Status::FileNotFound),
        };
        Ok(Response::ok(tlv::encode(Tag(objects::wrapper(tag)), value)))
    }

    /// `00 DB 3F FF Lc 5C 03 <tag> 53 L <value>` (discovery: `7E L v`; BIT group
    /// template: `7F61 L v`). Needs 9B. `53 00` empties the object.
    pub(super) fn put_data(&mut self, cmd: &Command) -> Result<Response, Status> {
        if (cmd.p1, cmd.p2) != P1P2 {
            return Err(Status::IncorrectP1P2);
        }
        if !self.volatile.admin {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let items = tlv::parse_all(&cmd.data).map_err(|_| Status::IncorrectData)?;
        let (tag, value) = match items.as_slice() {
            [list, data] if list.tag == TAG_LIST => {
                let tag = objects::tag_from_bytes(list.value).ok_or(Status::IncorrectData)?;
                if data.tag != Tag(objects::wrapper(tag)) {
                    return Err(Status::IncorrectData);
                }
                (tag, data.value)
            }
            [only] if matches!(only.tag.0, objects::DISCOVERY | objects::BIT_GROUP) => {
                (only.tag.0, only.value)
            }
            _ => return Err(Status::IncorrectData),
        };
        let spec = objects::spec(tag).ok_or(Status::IncorrectData)?;
        if value.len() > spec.max_len {
            return Err(Status::NotEnoughMemory);
        }
        let others = self.state.used() - self.object(tag).map_or(0, <[u8]>::len);
        if others + value.len() > TOTAL_BUDGET {
            return Err(Status::NotEnoughMemory);
        }
        if value.is_empty() {
            self.state.objects.remove(&tag);
        } else {
            self.state.objects.insert(tag, value.to_vec());
        }
        Ok(Response::ok(Vec::new()))
    }
}
