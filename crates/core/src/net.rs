//! IP addresses and CIDR blocks, parsed leniently where CloudTrail is lenient: anonymized logs
//! carry IPv4 addresses with leading zeros (`075.050.255.67`), read here as decimal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an IPv4 or IPv6 address; IPv4 octets may have leading zeros. `None` for anything else
/// (CloudTrail writes a service name such as `cloudformation.amazonaws.com` there too).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        octets[n] = part.parse::<u16>().ok().filter(|v| *v <= 255)? as u8;
        n += 1;
    }
    (n == 4).then(|| IpAddr::V4(Ipv4Addr::from(octets)))
}

/// A CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::y/n`; a bare address is a /32 or /128.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let bad = |why: &str| format!("bad CIDR {s:?}: {why}");
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| bad("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(&format!("prefix length must be 0..={max}")))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside this block.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(net) & mask == u32::from(*ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(net) & mask == u128::from(*ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                // An IPv4-mapped IPv6 block can hold an IPv4 address.
                let mapped: Ipv6Addr = ip.to_ipv6_mapped();
                Cidr {
                    addr: IpAddr::V6(net),
                    prefix: self.prefix,
                }
                .contains(&IpAddr::V6(mapped))
            }
            (IpAddr::V4(_), IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => self.contains(&IpAddr::V4(v4)),
                None => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_ipv4_is_decimal() {
        assert_eq!(
            parse_ip("075.050.255.67"),
            Some("75.50.255.67".parse().unwrap())
        );
        assert_eq!(parse_ip("cloudformation.amazonaws.com"), None);
        assert_eq!(parse_ip("256.1.1.1"), None);
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("1.2.3.4.5"), None);
        assert!(parse_ip("2001:db8::1").is_some());
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(&parse_ip("10.200.3.4").unwrap()));
        assert!(!c.contains(&parse_ip("11.0.0.1").unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(&parse_ip("8.8.8.8").unwrap()));
        assert!(Cidr::parse("2001:db8::/32")
            .unwrap()
            .contains(&parse_ip("2001:db8::5").unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0/8").is_err());
        assert!(Cidr::parse("1.2.3.4")
            .unwrap()
            .contains(&parse_ip("1.2.3.4").unwrap()));
    }
}
