//! Masking of credentials in anything fleetctl prints or logs.
//!
//! Every URL that reaches a message goes through [`mask_url`]: the password in its userinfo
//! becomes `***`, the user name stays so that an operator can still tell which account failed.

/// What a password is replaced with.
pub const MASK: &str = "***";

/// Returns `url` with the password of its userinfo (`scheme://user:password@host`) masked.
/// Works on anything URL-shaped, including strings no URL parser accepts, so that even an
/// invalid `--amqp-url` can be echoed safely: a password holding an unescaped `/`, `?` or `#`
/// is masked too (see [`userinfo_span`]).
pub fn mask_url(url: &str) -> String {
    match userinfo_span(url) {
        Some((user_end, at)) => format!("{}{MASK}{}", &url[..=user_end], &url[at..]),
        None => url.to_string(),
    }
}

/// The password of a URL's userinfo, if it has one: what must never appear in output.
pub fn url_password(url: &str) -> Option<&str> {
    let (colon, at) = userinfo_span(url)?;
    let password = &url[colon + 1..at];
    (!password.is_empty()).then_some(password)
}

/// Where the password of `url` sits: the byte offsets of the `:` that starts it and of the `@`
/// that ends it. The authority normally ends at the first `/`, `?` or `#`, and a password may
/// itself contain `@` or `:`, so the last `@` of the authority ends the userinfo. When that
/// finds no `@` but one follows later, the password most likely holds an unescaped `/`, `?` or
/// `#` (invalid, but typed by people): then the last `@` of the whole string ends the userinfo,
/// if a `:` comes before it. That may mask more than a password (`http://h:80/p@x`), never less.
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = match rest[..end].rfind('@') {
        Some(at) => at,
        None => rest.rfind('@')?,
    };
    let colon = rest[..at].find(':')?;
    Some((start + colon, start + at))
}

/// Replaces every occurrence of the URL's password in `text` with [`MASK`]: a last line of
/// defence for messages that come from libraries and might echo what they were given.
pub fn scrub(text: &str, url: &str) -> String {
    match url_password(url) {
        Some(p) if p.len() >= 3 => text.replace(p, MASK),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_password_only() {
        assert_eq!(
            mask_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            mask_url("https://u:p%40ss@h/x?y=1"),
            "https://u:***@h/x?y=1"
        );
        assert_eq!(mask_url("amqp://u:p@ss:w@host/vh"), "amqp://u:***@host/vh");
        assert_eq!(mask_url("user:secret@host"), "user:***@host");
    }

    #[test]
    fn masks_passwords_holding_url_delimiters() {
        for (url, secret) in [
            ("amqp://u:pa/ss@127.0.0.1/vh", "pa/ss"),
            ("amqp://u:pa?ss@127.0.0.1/", "pa?ss"),
            ("amqp://u:pa#ss@127.0.0.1/", "pa#ss"),
            ("amqp://u:s3cr/et?x#y@127.0.0.1:99999/", "s3cr/et?x#y"),
            ("u:a/b@host", "a/b"),
        ] {
            let masked = mask_url(url);
            assert!(!masked.contains(secret), "{url} -> {masked}");
            assert!(
                masked.starts_with(url.split(':').next().unwrap()),
                "{masked}"
            );
            assert!(masked.contains("u:***@"), "{url} -> {masked}");
            assert_eq!(url_password(url), Some(secret), "{url}");
            assert_eq!(scrub(&format!("bad {url}"), url), format!("bad {masked}"));
        }
    }

    #[test]
    fn leaves_urls_without_password_alone() {
        for u in [
            "amqp://127.0.0.1:5672/%2f",
            "amqp://user@host/",
            "not a url",
            "",
            "http://host/path@x",
        ] {
            assert_eq!(mask_url(u), u);
        }
    }

    #[test]
    fn finds_and_scrubs_the_password() {
        let url = "amqp://bob:hunter22@rabbit:5672/vh";
        assert_eq!(url_password(url), Some("hunter22"));
        assert_eq!(url_password("amqp://bob@rabbit"), None);
        assert_eq!(url_password("amqp://bob:@rabbit"), None);
        assert_eq!(
            scrub("failed for hunter22 at x", url),
            "failed for *** at x"
        );
    }
}
