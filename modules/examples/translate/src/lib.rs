//! `translate`: a small stand-in for Amazon Translate's `TranslateText`, to bind to
//! `arn:aws:states:::aws-sdk:translate:translateText` (or `...:translate:*`) so that a
//! workflow written for AWS runs unchanged on Sandstep.
//!
//! It receives a bound call, `{"resource", "service", "action", "parameters", "context"}`,
//! and answers as the service does: `translateText` with `{"Text", "SourceLanguageCode",
//! "TargetLanguageCode"}` gives `{"TranslatedText", "SourceLanguageCode",
//! "TargetLanguageCode"}`, word by word from a tiny dictionary (English, Spanish, French;
//! a word it does not know stays as it is). Its errors carry the service's names, which
//! Retry and Catch match: `Translate.UnsupportedLanguagePairException`,
//! `Translate.InvalidRequestException`, `Translate.TextSizeLimitExceededException`.
use sandstep_sdk::{json, Context, TaskError, Value};

/// The languages it knows, in the order of [`WORDS`]' columns.
const LANGUAGES: [&str; 3] = ["en", "es", "fr"];

/// The dictionary: each row is one word in each of [`LANGUAGES`].
const WORDS: &[[&str; 3]] = &[
    ["hello", "hola", "bonjour"],
    ["world", "mundo", "monde"],
    ["good", "bueno", "bon"],
    ["morning", "mañana", "matin"],
    ["thank", "gracias", "merci"],
    ["you", "tú", "vous"],
    ["order", "pedido", "commande"],
    ["shipped", "enviado", "expédié"],
    ["your", "tu", "votre"],
    ["has", "ha", "a"],
    ["been", "sido", "été"],
];

/// Amazon Translate's limit on `Text` (10,000 bytes for TranslateText).
const MAX_TEXT_BYTES: usize = 10_000;

fn error(code: &str, message: impl Into<String>) -> TaskError {
    TaskError::new(format!("Translate.{code}"), message)
}

fn column(code: &str) -> Option<usize> {
    LANGUAGES.iter().position(|l| *l == code)
}

/// Translates `text` word by word, keeping punctuation and the case of a first capital.
fn translate(text: &str, from: usize, to: usize) -> String {
    text.split(' ')
        .map(|token| {
            let word: String = token.chars().filter(|c| c.is_alphabetic()).collect();
            let lower = word.to_lowercase();
            let Some(row) = WORDS.iter().find(|row| row.get(from) == Some(&lower.as_str())) else {
                return token.to_string();
            };
            let mut out = row.get(to).copied().unwrap_or(&lower).to_string();
            if word.chars().next().is_some_and(char::is_uppercase) {
                let mut chars = out.chars();
                out = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
            }
            token.replacen(&word, &out, 1)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn translate_text(parameters: &Value) -> Result<Value, TaskError> {
    let field = |name: &str| {
        parameters
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| error("InvalidRequestException", format!("{name} is required")))
    };
    let (text, source, target) = (
        field("Text")?,
        field("SourceLanguageCode")?,
        field("TargetLanguageCode")?,
    );
    if text.len() > MAX_TEXT_BYTES {
        return Err(error(
            "TextSizeLimitExceededException",
            format!("Input text size exceeds limit. Max length of request text allowed is {MAX_TEXT_BYTES} bytes"),
        ));
    }
    let (Some(from), Some(to)) = (column(source), column(target)) else {
        return Err(error(
            "UnsupportedLanguagePairException",
            format!("Unsupported language pair: {source} to {target}."),
        ));
    };
    Ok(json!({
        "TranslatedText": translate(text, from, to),
        "SourceLanguageCode": source,
        "TargetLanguageCode": target,
    }))
}

fn run(call: Value, _ctx: &Context) -> Result<Value, TaskError> {
    if call.get("service").and_then(Value::as_str) != Some("translate") {
        return Err(error(
            "InvalidRequestException",
            "this module plays Amazon Translate: bind it to arn:aws:states:::aws-sdk:translate:*",
        ));
    }
    let parameters = call.get("parameters").cloned().unwrap_or(Value::Null);
    match call.get("action").and_then(Value::as_str) {
        Some("translateText") => translate_text(&parameters),
        other => Err(error(
            "InvalidRequestException",
            format!("action {} is not played here: only translateText", other.unwrap_or("(none)")),
        )),
    }
}

sandstep_sdk::task!(run);

#[cfg(test)]
mod tests {
    use super::*;

    fn call(parameters: Value) -> Value {
        json!({"resource": "arn:aws:states:::aws-sdk:translate:translateText",
            "service": "translate", "action": "translateText", "parameters": parameters, "context": {}})
    }

    #[test]
    fn translates_word_by_word() {
        let out = run(
            call(json!({"Text": "Hello world, your order has been shipped.", "SourceLanguageCode": "en", "TargetLanguageCode": "es"})),
            &Context::default(),
        )
        .unwrap();
        assert_eq!(out["TranslatedText"], "Hola mundo, tu pedido ha sido enviado.");
        assert_eq!(out["TargetLanguageCode"], "es");
    }

    #[test]
    fn fails_with_the_services_error_names() {
        let e = run(
            call(json!({"Text": "hi", "SourceLanguageCode": "en", "TargetLanguageCode": "xx"})),
            &Context::default(),
        )
        .unwrap_err();
        assert_eq!(e.name, "Translate.UnsupportedLanguagePairException");
        let e = run(call(json!({"Text": "hi"})), &Context::default()).unwrap_err();
        assert_eq!(e.name, "Translate.InvalidRequestException");
        let big = "a ".repeat(MAX_TEXT_BYTES);
        let e = run(
            call(json!({"Text": big, "SourceLanguageCode": "en", "TargetLanguageCode": "es"})),
            &Context::default(),
        )
        .unwrap_err();
        assert_eq!(e.name, "Translate.TextSizeLimitExceededException");
    }
}
