//! Which network addresses a card's request may reach.
//!
//! Requests from cards must not reach the daemon's own machine, its private
//! network or a cloud provider's metadata service. The check runs on the
//! addresses a name resolves to (see [`crate::http`]'s resolver), so a public name
//! that points at 127.0.0.1 is refused as well as a literal one. This module only
//! classifies; it opens no sockets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Loopback,
    Private,
    LinkLocal,
    SharedCgnat,
    Unspecified,
    Multicast,
    Broadcast,
    /// 0/8, 192.0.0/24, documentation and benchmarking ranges, 240/4 and the like.
    Reserved,
    CloudMetadata,
}

impl Refusal {
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::Loopback => "a loopback address",
            Refusal::Private => "a private address",
            Refusal::LinkLocal => "a link-local address",
            Refusal::SharedCgnat => "a carrier-grade NAT address",
            Refusal::Unspecified => "the unspecified address",
            Refusal::Multicast => "a multicast address",
            Refusal::Broadcast => "the broadcast address",
            Refusal::Reserved => "a reserved address",
            Refusal::CloudMetadata => "a cloud metadata address",
        }
    }

    /// Whether an `allow_private` connection may reach an address refused for
    /// this reason. Metadata services never: no integration needs them, and they
    /// hand out the machine's cloud credentials.
    pub fn waivable(self) -> bool {
        matches!(
            self,
            Refusal::Loopback | Refusal::Private | Refusal::LinkLocal | Refusal::SharedCgnat
        )
    }
}

/// Host names of metadata services that must never be resolved for a card.
pub fn is_metadata_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    matches!(
        host.as_str(),
        "metadata.google.internal" | "metadata" | "metadata.goog" | "instance-data"
    ) || host.ends_with(".metadata.google.internal")
}

/// `None` if a card may reach `ip`; otherwise why not.
pub fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254)
        || ip == Ipv4Addr::new(169, 254, 170, 2)
        || ip == Ipv4Addr::new(100, 100, 100, 200)
    {
        // AWS/GCP/Azure, AWS ECS task metadata, Alibaba Cloud.
        return Some(Refusal::CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    if ip.is_private() {
        return Some(Refusal::Private);
    }
    if ip.is_link_local() {
        return Some(Refusal::LinkLocal);
    }
    if a == 100 && (b & 0xc0) == 64 {
        return Some(Refusal::SharedCgnat);
    }
    if ip.is_broadcast() {
        return Some(Refusal::Broadcast);
    }
    if ip.is_multicast() {
        return Some(Refusal::Multicast);
    }
    let reserved = a == 0
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b & 0xfe) == 18)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 240;
    if reserved {
        return Some(Refusal::Reserved);
    }
    None
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    // ::ffff:a.b.c.d reaches the IPv4 address; judge it as such.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        return Some(Refusal::CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    if ip.is_multicast() {
        return Some(Refusal::Multicast);
    }
    if (segments[0] & 0xfe00) == 0xfc00 {
        return Some(Refusal::Private);
    }
    if (segments[0] & 0xffc0) == 0xfe80 || (segments[0] & 0xffc0) == 0xfec0 {
        return Some(Refusal::LinkLocal);
    }
    // IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96), 6to4
    // (2002::/16) and Teredo (2001::/32) embed an IPv4 address a gateway may
    // forward to: judge the embedded address.
    if segments[..6] == [0, 0, 0, 0, 0, 0] {
        return classify_v4(embedded_v4(segments[6], segments[7])).or(Some(Refusal::Reserved));
    }
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6] == [0, 0, 0, 0] {
        return classify_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        return classify_v4(embedded_v4(segments[1], segments[2]));
    }
    if segments[0] == 0x2001 && segments[1] == 0 {
        // Teredo: the client's IPv4 address is stored inverted.
        return classify_v4(embedded_v4(!segments[6], !segments[7]));
    }
    if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        return Some(Refusal::Reserved);
    }
    if segments[0] == 0x0100 && segments[1..4] == [0, 0, 0] {
        // 100::/64, discard-only.
        return Some(Refusal::Reserved);
    }
    None
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> Option<Refusal> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classifies_the_ranges_cards_must_not_reach() {
        assert_eq!(refused("127.0.0.1"), Some(Refusal::Loopback));
        assert_eq!(refused("127.255.0.9"), Some(Refusal::Loopback));
        assert_eq!(refused("10.1.2.3"), Some(Refusal::Private));
        assert_eq!(refused("172.16.0.1"), Some(Refusal::Private));
        assert_eq!(refused("172.31.255.255"), Some(Refusal::Private));
        assert_eq!(refused("192.168.1.1"), Some(Refusal::Private));
        assert_eq!(refused("169.254.1.1"), Some(Refusal::LinkLocal));
        assert_eq!(refused("169.254.169.254"), Some(Refusal::CloudMetadata));
        assert_eq!(refused("100.64.0.1"), Some(Refusal::SharedCgnat));
        assert_eq!(refused("100.127.255.254"), Some(Refusal::SharedCgnat));
        assert_eq!(refused("0.0.0.0"), Some(Refusal::Unspecified));
        assert_eq!(refused("224.0.0.1"), Some(Refusal::Multicast));
        assert_eq!(refused("255.255.255.255"), Some(Refusal::Broadcast));
        assert_eq!(refused("::1"), Some(Refusal::Loopback));
        assert_eq!(refused("::"), Some(Refusal::Unspecified));
        assert_eq!(refused("fc00::1"), Some(Refusal::Private));
        assert_eq!(refused("fd12:3456::1"), Some(Refusal::Private));
        assert_eq!(refused("fe80::1"), Some(Refusal::LinkLocal));
        assert_eq!(refused("ff02::1"), Some(Refusal::Multicast));
        assert_eq!(refused("fd00:ec2::254"), Some(Refusal::CloudMetadata));
        assert_eq!(refused("::ffff:127.0.0.1"), Some(Refusal::Loopback));
        assert_eq!(refused("::ffff:10.0.0.1"), Some(Refusal::Private));
        assert_eq!(
            refused("::ffff:169.254.169.254"),
            Some(Refusal::CloudMetadata)
        );
        assert_eq!(refused("::127.0.0.1"), Some(Refusal::Loopback));
        assert_eq!(refused("64:ff9b::a9fe:a9fe"), Some(Refusal::CloudMetadata));
        assert_eq!(refused("2002:7f00:1::"), Some(Refusal::Loopback));
    }

    #[test]
    fn public_addresses_pass() {
        for ok in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
    }

    #[test]
    fn metadata_names() {
        assert!(is_metadata_name("metadata.google.internal"));
        assert!(is_metadata_name("METADATA.google.internal."));
        assert!(!is_metadata_name("example.com"));
    }
}
