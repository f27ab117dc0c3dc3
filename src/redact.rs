//! Masking of credentials in anything fleetctl prints or logs.
//!
//! Every URL that reaches a message goes through [`mask_url`]: the password in its userinfo
//! becomes `***`, the user name stays so that an operator can still tell which account failed.

/// What a password is replaced with.
pub const MASK: &str = "***";

/// Returns `url` with the password of its userinfo (`scheme://user:password@host`) masked.
/// Works on anything URL-shaped, including strings no URL parser accepts, so that even an
/// invalid `--amqp-url` can be echoed safely.
pub fn mask_url(url: &str) -> String {
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The authority ends at the first '/', '?' or '#'; a password may itself contain '@' or ':',
    // so the last '@' of the authority ends the userinfo.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let (userinfo, host) = authority.split_at(at);
    match userinfo.find(':') {
        Some(colon) => format!("{prefix}{}:{MASK}{host}{tail}", &userinfo[..colon]),
        None => url.to_string(),
    }
}

/// The password of a URL's userinfo, if it has one: what must never appear in output.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let at = authority.rfind('@')?;
    let (_, password) = authority[..at].split_once(':')?;
    (!password.is_empty()).then_some(password)
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
