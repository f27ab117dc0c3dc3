//! The sim's open-file budget. Every in-process pod holds its metrics listener (one
//! descriptor) and, now and then, a connection of a probe or a scrape; the API server's
//! connections, the broker connections and the state log need a share of their own. At start
//! the soft `RLIMIT_NOFILE` is raised to the hard limit (as the Go runtime does for every Go
//! server), and the kubelet refuses to start an in-process container past the budget (the pod
//! gets a `Failed` event saying why) rather than let `accept` fail for everyone.

/// Descriptors kept for the API server's clients, broker connections, files and the like.
pub const RESERVED: u64 = 1_024;

/// What one in-process pod costs on average, in thirds of a descriptor: its listener, plus a
/// share for the probe or scrape connection it serves at times.
const PER_POD_THIRDS: u64 = 4;

/// The soft limit on open files after raising it to the hard limit (or where it stayed when
/// raising failed).
pub fn raise_nofile_limit() -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct passed, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 1_024;
        }
        if rl.rlim_cur < rl.rlim_max {
            let want = libc::rlimit {
                rlim_cur: rl.rlim_max,
                rlim_max: rl.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                rl.rlim_cur = rl.rlim_max;
            }
        }
    }
    rl.rlim_cur
}

/// How many in-process pods `limit` open files allow.
pub fn inproc_pods_allowed(limit: u64) -> usize {
    let usable = limit.saturating_sub(RESERVED);
    usize::try_from(usable * 3 / PER_POD_THIRDS).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_a_reserve_and_counts_under_two_descriptors_a_pod() {
        assert_eq!(inproc_pods_allowed(500), 0);
        assert_eq!(inproc_pods_allowed(2_048), 768);
        assert_eq!(inproc_pods_allowed(20_000), 14_232);
    }
}
