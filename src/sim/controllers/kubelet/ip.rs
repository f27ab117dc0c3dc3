//! Pod IPs: one loopback address per pod, 127.1.x.y (y in 1..=254), which Linux routes to the
//! host without configuration, so every agent can listen on the port its manifest names.
//! Released addresses are reused, lowest first.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Mutex;

/// 256 × 254 addresses.
pub const CAPACITY: u32 = 256 * 254;

#[derive(Debug, Default)]
pub struct IpPool {
    inner: Mutex<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    next: u32,
    free: BTreeSet<u32>,
}

fn addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (i / 254) as u8, (i % 254 + 1) as u8)
}

fn index(ip: Ipv4Addr) -> Option<u32> {
    let [a, b, x, y] = ip.octets();
    (a == 127 && b == 1 && (1..=254).contains(&y)).then(|| u32::from(x) * 254 + u32::from(y) - 1)
}

impl IpPool {
    /// A free address, or None when all are taken.
    pub fn allocate(&self) -> Option<Ipv4Addr> {
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = p.free.pop_first() {
            return Some(addr(i));
        }
        (p.next < CAPACITY).then(|| {
            p.next += 1;
            addr(p.next - 1)
        })
    }

    pub fn release(&self, ip: Ipv4Addr) {
        if let Some(i) = index(ip) {
            let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if i < p.next {
                p.free.insert(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_distinct_loopback_addresses_and_reuses_released_ones() {
        let pool = IpPool::default();
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        assert_eq!(a.to_string(), "127.1.0.1");
        assert_eq!(b.to_string(), "127.1.0.2");
        pool.release(a);
        assert_eq!(pool.allocate().unwrap(), a);
        assert_eq!(addr(253).to_string(), "127.1.0.254");
        assert_eq!(addr(254).to_string(), "127.1.1.1");
        assert_eq!(index(addr(254)), Some(254));
        assert_eq!(addr(CAPACITY - 1).to_string(), "127.1.255.254");
        pool.release("10.0.0.1".parse().unwrap());
        let all = IpPool::default();
        for _ in 0..CAPACITY {
            assert!(all.allocate().is_some());
        }
        assert!(all.allocate().is_none());
    }
}
