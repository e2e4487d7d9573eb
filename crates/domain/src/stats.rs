//! Small statistics for the figures the jobcenter follows (time from opening a task to placing someone).

/// The nearest-rank percentile (`p` in 1..=100) of `values`; `None` when empty or `p` is out of range.
/// Nearest rank always returns an observed value, so a median of hours is an hour count someone waited.
pub fn nearest_rank(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() || p == 0 || p > 100 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    // rank = ceil(p/100 × n), 1-based.
    let n = sorted.len();
    let rank = (usize::try_from(p).ok()? * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        assert_eq!(nearest_rank(&[5, 1, 3], 50), Some(3));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle_value() {
        assert_eq!(nearest_rank(&[4, 1, 3, 2], 50), Some(2));
    }

    #[test]
    fn the_90th_percentile_of_ten_values_is_the_ninth() {
        assert_eq!(nearest_rank(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 90), Some(9));
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), Some(10));
    }

    #[test]
    fn no_values_or_a_bad_percentile_give_nothing() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[1], 0), None);
        assert_eq!(nearest_rank(&[1], 101), None);
        assert_eq!(nearest_rank(&[7], 100), Some(7));
        assert_eq!(nearest_rank(&[7], 1), Some(7));
    }
}
