//! Which network addresses an outbound request may reach, whatever a grant or a connection
//! allows: never loopback, private, link-local, cloud metadata or other special-purpose
//! addresses, unless the server's operator allows them in the configuration
//! (`outbound_allow = ["127.0.0.1/32"]`). The check is on the *resolved* address the
//! connection is made to, so a DNS answer that changes between a check and the
//! connection (rebinding) cannot get past it.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, shared (CGNAT) and unique-local addresses.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Cloud instance metadata (`169.254.169.254`, `169.254.170.2`, `100.100.100.200`,
    /// `fd00:ec2::254`).
    Metadata,
    /// Unspecified, broadcast, multicast, documentation, benchmarking and reserved
    /// ranges: nothing an API lives on.
    Special,
}

impl Refused {
    /// The words for an error message.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Loopback => "a loopback address",
            Refused::Private => "a private address",
            Refused::LinkLocal => "a link-local address",
            Refused::Metadata => "a cloud metadata address",
            Refused::Special => "a special-purpose address",
        }
    }
}

/// What the operator allows beyond public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    allowed: Vec<IpNet>,
}

impl Guard {
    /// A guard that also allows the networks in `allowed` (CIDR text, or one address).
    ///
    /// # Errors
    /// The entry that is neither.
    pub fn new<'a>(allowed: impl IntoIterator<Item = &'a str>) -> Result<Guard, String> {
        let allowed = allowed
            .into_iter()
            .map(|text| {
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("outbound_allow: '{text}' is not an address or a CIDR network")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Guard { allowed })
    }

    /// Whether a connection to `ip` may be made.
    ///
    /// # Errors
    /// Why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        match refused(ip) {
            Some(why) if !self.allowed.iter().any(|net| net.contains(&ip)) => Err(why),
            _ => Ok(()),
        }
    }
}

/// An IPv6 address that carries an IPv4 one (mapped, or NAT64's well-known prefix) is
/// judged as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

fn refused(ip: IpAddr) -> Option<Refused> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<Refused> {
    let [a, b, c, _] = ip.octets();
    let metadata = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(169, 254, 170, 2),
        Ipv4Addr::new(100, 100, 100, 200),
    ];
    if metadata.contains(&ip) {
        return Some(Refused::Metadata);
    }
    if ip.is_loopback() {
        return Some(Refused::Loopback);
    }
    if ip.is_link_local() {
        return Some(Refused::LinkLocal);
    }
    // RFC 1918, and RFC 6598's shared address space (carrier-grade NAT).
    if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        return Some(Refused::Private);
    }
    let special = a == 0 // "this network"
        || ip.is_broadcast()
        || ip.is_multicast()
        || a >= 240 // reserved
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)); // benchmarking
    special.then_some(Refused::Special)
}

fn refused_v6(ip: Ipv6Addr) -> Option<Refused> {
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(Refused::Metadata);
    }
    if ip.is_loopback() {
        return Some(Refused::Loopback);
    }
    if s[0] & 0xffc0 == 0xfe80 {
        return Some(Refused::LinkLocal);
    }
    if s[0] & 0xfe00 == 0xfc00 {
        return Some(Refused::Private);
    }
    let special = ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        || s[0] & 0xffc0 == 0xfec0 // site-local (deprecated)
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0); // IPv4-compatible
    special.then_some(Refused::Special)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(guard: &Guard, text: &str) -> Result<(), Refused> {
        guard.check(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass_and_special_ones_do_not() {
        let g = Guard::default();
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "100.128.0.1",
        ] {
            assert_eq!(check(&g, public), Ok(()), "{public}");
        }
        for (addr, why) in [
            ("127.0.0.1", Refused::Loopback),
            ("127.9.9.9", Refused::Loopback),
            ("::1", Refused::Loopback),
            ("::ffff:127.0.0.1", Refused::Loopback),
            ("64:ff9b::7f00:1", Refused::Loopback),
            ("10.1.2.3", Refused::Private),
            ("172.16.0.1", Refused::Private),
            ("172.31.255.255", Refused::Private),
            ("192.168.1.1", Refused::Private),
            ("100.64.0.1", Refused::Private),
            ("fd12:3456::1", Refused::Private),
            ("169.254.1.1", Refused::LinkLocal),
            ("fe80::1", Refused::LinkLocal),
            ("169.254.169.254", Refused::Metadata),
            ("::ffff:169.254.169.254", Refused::Metadata),
            ("169.254.170.2", Refused::Metadata),
            ("100.100.100.200", Refused::Metadata),
            ("fd00:ec2::254", Refused::Metadata),
            ("0.0.0.0", Refused::Special),
            ("0.1.2.3", Refused::Special),
            ("255.255.255.255", Refused::Special),
            ("224.0.0.1", Refused::Special),
            ("240.0.0.1", Refused::Special),
            ("192.0.2.1", Refused::Special),
            ("198.18.0.1", Refused::Special),
            ("::", Refused::Special),
            ("ff02::1", Refused::Special),
            ("2001:db8::1", Refused::Special),
        ] {
            assert_eq!(check(&g, addr), Err(why), "{addr}");
        }
        assert_eq!(check(&g, "172.32.0.1"), Ok(()), "just past 172.16/12");
    }

    #[test]
    fn the_operator_allows_networks_and_nothing_else() {
        let g = Guard::new(["127.0.0.1/32", "10.0.0.0/8", "::1"]).unwrap();
        assert_eq!(check(&g, "127.0.0.1"), Ok(()));
        assert_eq!(check(&g, "::ffff:127.0.0.1"), Ok(()), "mapped");
        assert_eq!(check(&g, "::1"), Ok(()));
        assert_eq!(check(&g, "10.200.0.9"), Ok(()));
        assert_eq!(check(&g, "127.0.0.2"), Err(Refused::Loopback));
        assert_eq!(check(&g, "169.254.169.254"), Err(Refused::Metadata));
        assert!(Guard::new(["localhost"]).unwrap_err().contains("localhost"));
    }
}
