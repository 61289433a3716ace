# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for the benchmark reports (awk -f stats.awk -f REPORT); mawk-safe.

# median of a[1..n] (a is left unchanged)
function median(a, n,   i, j, t, b) {
	if (n < 1) return 0
	for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
	return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
