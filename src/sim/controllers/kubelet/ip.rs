//! Pod IPs: one loopback address per pod, 127.1.x.y (y in 1..=254), which Linux routes to the
//! host without configuration, so every agent can listen on the port its manifest names.
//! Addresses are handed out round-robin, so a released one is reused last.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::{Mutex, OnceLock};

/// 256 × 254 addresses.
pub const CAPACITY: u32 = 256 * 254;

#[derive(Debug, Default)]
pub struct IpPool {
    inner: Mutex<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    cursor: u32,
    used: HashSet<u32>,
}

fn addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (i / 254) as u8, (i % 254 + 1) as u8)
}

fn index(ip: Ipv4Addr) -> Option<u32> {
    let [a, b, x, y] = ip.octets();
    (a == 127 && b == 1 && (1..=254).contains(&y)).then(|| u32::from(x) * 254 + u32::from(y) - 1)
}

impl IpPool {
    /// A pool handing out addresses from index `start` on, wrapping around.
    pub fn starting_at(start: u32) -> Self {
        IpPool {
            inner: Mutex::new(Pool {
                cursor: start % CAPACITY,
                used: HashSet::new(),
            }),
        }
    }

    /// The pool of this process: every sim in it shares the addresses, and the start is
    /// random, so that sims in other processes on the same host rarely pick the same ones.
    pub fn global() -> &'static IpPool {
        static POOL: OnceLock<IpPool> = OnceLock::new();
        POOL.get_or_init(|| IpPool::starting_at(fastrand::u32(0..CAPACITY)))
    }

    /// A free address, or None when all are taken.
    pub fn allocate(&self) -> Option<Ipv4Addr> {
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for k in 0..CAPACITY {
            let i = (p.cursor + k) % CAPACITY;
            if p.used.insert(i) {
                p.cursor = (i + 1) % CAPACITY;
                return Some(addr(i));
            }
        }
        None
    }

    /// True when `ip` is one of the pool's addresses and handed out now.
    pub fn is_allocated(&self, ip: std::net::IpAddr) -> bool {
        let std::net::IpAddr::V4(ip) = ip else {
            return false;
        };
        let Some(i) = index(ip) else {
            return false;
        };
        let p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        p.used.contains(&i)
    }

    pub fn release(&self, ip: Ipv4Addr) {
        if let Some(i) = index(ip) {
            let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            p.used.remove(&i);
        }
    }
}

/// True when every port can be bound on `ip` now (no one else on the host holds it).
pub fn ports_free(ip: Ipv4Addr, ports: &[u16]) -> bool {
    ports
        .iter()
        .all(|p| std::net::TcpListener::bind((ip, *p)).is_ok())
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
        // Released addresses come back once the cursor wraps.
        assert_eq!(pool.allocate().unwrap().to_string(), "127.1.0.3");
        let wrap = IpPool::starting_at(CAPACITY - 1);
        assert_eq!(wrap.allocate().unwrap().to_string(), "127.1.255.254");
        assert_eq!(wrap.allocate().unwrap().to_string(), "127.1.0.1");
        assert_eq!(addr(253).to_string(), "127.1.0.254");
        assert_eq!(addr(254).to_string(), "127.1.1.1");
        assert_eq!(index(addr(254)), Some(254));
        assert_eq!(addr(CAPACITY - 1).to_string(), "127.1.255.254");
        assert!(pool.is_allocated(b.into()));
        assert!(!pool.is_allocated(a.into()));
        assert!(!pool.is_allocated("169.254.169.254".parse().unwrap()));
        pool.release("10.0.0.1".parse().unwrap());
        let all = IpPool::default();
        for _ in 0..CAPACITY {
            assert!(all.allocate().is_some());
        }
        assert!(all.allocate().is_none());
    }
}
