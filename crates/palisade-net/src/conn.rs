//! Allowed connections: for each protocol Kubernetes policies name (TCP, UDP, SCTP), a set of
//! destination ports.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::intervals::Intervals;

/// The transport protocols of NetworkPolicy ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Sctp,
    Tcp,
    Udp,
}

impl Protocol {
    /// In the order connections are written (alphabetical, as np-guard and kubectl do).
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    /// `TCP`, `UDP` or `SCTP` as the API spells them; `None` for anything else.
    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The lowest and highest port a policy can name.
pub const MIN_PORT: u128 = 1;
pub const MAX_PORT: u128 = 65535;

/// A set of connections: destination ports per protocol.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Conn {
    ports: [Intervals; 3],
}

impl Conn {
    pub fn none() -> Conn {
        Conn::default()
    }

    pub fn all() -> Conn {
        let full = Intervals::range(MIN_PORT, MAX_PORT);
        Conn {
            ports: [full.clone(), full.clone(), full],
        }
    }

    /// Every port of one protocol.
    pub fn protocol(protocol: Protocol) -> Conn {
        Conn::ports(protocol, MIN_PORT as u16, MAX_PORT as u16)
    }

    /// Ports `start..=end` of one protocol (clamped to 1-65535).
    pub fn ports(protocol: Protocol, start: u16, end: u16) -> Conn {
        let mut conn = Conn::none();
        conn.ports[protocol.index()] = Intervals::range(
            u128::from(start).max(MIN_PORT),
            u128::from(end).min(MAX_PORT),
        );
        conn
    }

    pub fn port(protocol: Protocol, port: u16) -> Conn {
        Conn::ports(protocol, port, port)
    }

    pub fn is_empty(&self) -> bool {
        self.ports.iter().all(Intervals::is_empty)
    }

    pub fn is_all(&self) -> bool {
        *self == Conn::all()
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ports[protocol.index()].contains(u128::from(port))
    }

    pub fn covers(&self, other: &Conn) -> bool {
        other.subtract(self).is_empty()
    }

    /// The ports of one protocol.
    pub fn of(&self, protocol: Protocol) -> &Intervals {
        &self.ports[protocol.index()]
    }

    pub fn union(&self, other: &Conn) -> Conn {
        self.zip(other, Intervals::union)
    }

    pub fn intersect(&self, other: &Conn) -> Conn {
        self.zip(other, Intervals::intersect)
    }

    pub fn subtract(&self, other: &Conn) -> Conn {
        self.zip(other, Intervals::subtract)
    }

    fn zip(&self, other: &Conn, op: fn(&Intervals, &Intervals) -> Intervals) -> Conn {
        Conn {
            ports: std::array::from_fn(|i| op(&self.ports[i], &other.ports[i])),
        }
    }

    /// Parses what [`Display`](fmt::Display) writes: `All Connections`, `No Connections`, or
    /// `TCP 80,8000-8080,UDP 53`.
    pub fn parse(text: &str) -> Option<Conn> {
        match text.trim() {
            "All Connections" => return Some(Conn::all()),
            "No Connections" | "" => return Some(Conn::none()),
            _ => {}
        }
        let mut conn = Conn::none();
        let mut protocol = None;
        for part in text.split(',') {
            let part = part.trim();
            let ports = match part.split_once(' ') {
                Some((name, ports)) => {
                    protocol = Some(Protocol::parse(name)?);
                    ports
                }
                None => part,
            };
            let (start, end) = ports.split_once('-').unwrap_or((ports, ports));
            let p = protocol?;
            conn = conn.union(&Conn::ports(p, start.parse().ok()?, end.parse().ok()?));
        }
        Some(conn)
    }
}

impl fmt::Display for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for protocol in Protocol::ALL {
            let ports = self.of(protocol);
            if ports.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{} ", protocol.name())?;
            for (i, &(start, end)) in ports.ranges().iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if start == end {
                    write!(f, "{start}")?;
                } else {
                    write!(f, "{start}-{end}")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for Conn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_protocols_in_order_with_ranges() {
        let conn = Conn::all().subtract(&Conn::port(Protocol::Tcp, 80));
        assert_eq!(
            conn.to_string(),
            "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"
        );
        assert_eq!(Conn::parse(&conn.to_string()), Some(conn));
        let dns = Conn::port(Protocol::Udp, 53).union(&Conn::ports(Protocol::Tcp, 10053, 10054));
        assert_eq!(dns.to_string(), "TCP 10053-10054,UDP 53");
        assert_eq!(Conn::parse("TCP 10053-10054,UDP 53"), Some(dns));
        assert_eq!(Conn::parse("All Connections"), Some(Conn::all()));
        assert_eq!(Conn::none().to_string(), "No Connections");
    }
}
