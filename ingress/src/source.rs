//! Which address a webhook request is charged to: the TCP peer, or, behind a proxy named by
//! `TRUSTED_PROXY_HEADER`, the left-most address of that header.
//!
//! Kept pure (no I/O, no state) so the rule has unit tests of its own; the per-address
//! limit in [`crate::signature_limit`] applies it to every request.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, HeaderName};

/// The address a request is attributed to by the per-address limits.
///
/// Without a trusted header it is the TCP peer, the only address a client cannot choose. With
/// one, it is the left-most entry of the header's first occurrence (the original client in
/// `X-Forwarded-For` order) when that entry is an IP address, optionally with a port and IPv6
/// in brackets; a missing or garbled header falls back to the peer, so such requests are
/// charged to the proxy rather than to nobody. IPv4-mapped IPv6 addresses count as their IPv4
/// address, so one client is one key whichever socket family it arrived on.
///
/// Only name a header that the proxy in front of the ingress *overwrites*: if the proxy
/// appends to a client-supplied value, the left-most entry is whatever the client wrote.
pub fn client_address(
    peer: IpAddr,
    trusted_header: Option<&HeaderName>,
    headers: &HeaderMap,
) -> IpAddr {
    trusted_header
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(left_most)
        .unwrap_or(peer)
        .to_canonical()
}

/// The first entry of a comma-separated address list, if it is an address.
fn left_most(list: &str) -> Option<IpAddr> {
    parse_entry(list.split(',').next()?.trim())
}

/// `203.0.113.7`, `203.0.113.7:443`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 2, 3));

    fn xff() -> HeaderName {
        HeaderName::from_static("x-forwarded-for")
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_a_trusted_header_the_peer_is_the_key_whatever_the_client_sends() {
        let sent = headers(&[("x-forwarded-for", b"203.0.113.7")]);
        assert_eq!(client_address(PEER, None, &sent), PEER);
    }

    #[test]
    fn the_left_most_entry_of_the_trusted_header_is_the_key() {
        let sent = headers(&[("x-forwarded-for", b" 203.0.113.7 , 10.0.0.1, 10.0.0.2")]);
        assert_eq!(client_address(PEER, Some(&xff()), &sent), ip("203.0.113.7"));
    }

    #[test]
    fn the_first_occurrence_of_a_repeated_header_counts() {
        let sent = headers(&[
            ("x-forwarded-for", b"198.51.100.1"),
            ("x-forwarded-for", b"203.0.113.7"),
        ]);
        assert_eq!(
            client_address(PEER, Some(&xff()), &sent),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn ports_and_brackets_are_understood() {
        for (value, expected) in [
            ("203.0.113.7:4711", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("[2001:db8::1]:443, 10.0.0.1", "2001:db8::1"),
        ] {
            let sent = headers(&[("x-forwarded-for", value.as_bytes())]);
            assert_eq!(
                client_address(PEER, Some(&xff()), &sent),
                ip(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn a_missing_or_unusable_header_falls_back_to_the_peer() {
        let name = xff();
        assert_eq!(client_address(PEER, Some(&name), &HeaderMap::new()), PEER);
        for value in [
            &b"unknown"[..],
            b"",
            b" , 203.0.113.7",
            b"\xff\xfe",
            b"for=1.2.3.4",
        ] {
            let sent = headers(&[("x-forwarded-for", value)]);
            assert_eq!(client_address(PEER, Some(&name), &sent), PEER, "{value:?}");
        }
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let mapped = ip("::ffff:192.0.2.9");
        assert_eq!(
            client_address(mapped, None, &HeaderMap::new()),
            ip("192.0.2.9")
        );
        let sent = headers(&[("x-forwarded-for", b"::ffff:203.0.113.7")]);
        assert_eq!(client_address(PEER, Some(&xff()), &sent), ip("203.0.113.7"));
    }
}
