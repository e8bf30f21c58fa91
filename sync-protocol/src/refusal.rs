//! The Chinese words for a request refused before any handler read it: a body that
//! is not JSON, JSON without the fields a route takes, a wrong content type, a
//! malformed path or query parameter. Both servers (ecardd and ecard-registry) answer
//! these as `{code: "bad_request", message}`; the framework only gives an English
//! sentence, so this reads it and says the same in Chinese, naming the field when
//! the sentence names one. Pure text in, text out: no HTTP types here.

/// The code of every such refusal, in both servers.
pub const BAD_REQUEST: &str = "bad_request";

/// Chinese message for axum's rejection text `reason` (at most the first 1 KiB is
/// looked at; the text is the framework's, not the client's, but it quotes the
/// client's field names, which are shown only when short and printable).
pub fn request_refusal_zh(reason: &str) -> String {
    let reason = reason.get(..reason.len().min(1024)).unwrap_or(reason);
    let what = if reason.contains("Content-Type") {
        "请求须为 JSON（Content-Type: application/json）".to_owned()
    } else if reason.starts_with("Failed to parse the request body as JSON") {
        "请求体不是有效的 JSON".to_owned()
    } else if let Some(field) = quoted_after(reason, "missing field `") {
        format!("缺少字段「{field}」")
    } else if let Some(field) = quoted_after(reason, "unknown field `") {
        format!("含有不认识的字段「{field}」")
    } else if let Some(value) = quoted_after(reason, "unknown variant `") {
        format!("取值「{value}」不在允许的范围内")
    } else if reason.starts_with("Failed to deserialize the JSON body") {
        "请求内容的字段类型或取值不符合要求".to_owned()
    } else if reason.starts_with("Failed to deserialize query string") {
        "查询参数格式不对".to_owned()
    } else if reason.starts_with("Invalid URL") || reason.contains("path") {
        "地址中的参数格式不对".to_owned()
    } else if reason.contains("length limit") || reason.contains("too large") {
        "请求体过大".to_owned()
    } else {
        "请求格式错误".to_owned()
    };
    format!("{what}，未处理")
}

/// The text between `start` and the next backtick, when it is a short plain name.
fn quoted_after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    let name = &rest[..rest.find('`')?];
    let plain = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    plain.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framework_sentence_has_chinese_words_and_names_the_field() {
        let cases = [
            ("Expected request with `Content-Type: application/json`", "Content-Type"),
            ("Failed to parse the request body as JSON: expected value at line 1 column 1", "不是有效的 JSON"),
            ("Failed to deserialize the JSON body into the target type: missing field `password` at line 1 column 22", "缺少字段「password」"),
            ("Failed to deserialize the JSON body into the target type: role: unknown variant `boss`, expected one of", "「boss」"),
            ("Failed to deserialize the JSON body into the target type: username: invalid type: integer `1`, expected a string at line 1 column 14", "字段类型"),
            ("Invalid URL: Cannot parse `abc` to a `i64`", "地址"),
            ("Failed to deserialize query string: invalid digit found in string", "查询参数"),
        ];
        for (reason, words) in cases {
            let zh = request_refusal_zh(reason);
            assert!(zh.contains(words), "{reason} → {zh}");
            for english in ["Failed", "missing", "expected", "line"] {
                assert!(!zh.contains(english), "{reason} → {zh}");
            }
        }
    }

    #[test]
    fn a_field_name_that_is_not_a_plain_name_is_not_repeated() {
        let zh = request_refusal_zh("missing field `<script>alert(1)</script>`");
        assert!(!zh.contains("script"), "{zh}");
    }
}
