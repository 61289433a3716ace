/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live "portwatch top" screen (ncurses): a status line, the port table
 * of portview.h sized to the terminal, and a pane of recent alerts. The
 * caller owns the model and the loop: it polls STDIN_FILENO for keys next
 * to its ring buffers, calls pw_topview_input() when stdin is readable (or
 * on every tick), takes a snapshot with the filter and sort that returns,
 * and calls pw_topview_draw().
 */
#ifndef PW_TOPVIEW_H
#define PW_TOPVIEW_H

#include <stdint.h>

#include "model.h"

struct pw_topview;

/*
 * Take over the terminal: locale from the environment, cbreak, no echo,
 * non-blocking keys, no cursor. Returns NULL, leaving the terminal as it
 * was, when stdin or stdout is not a terminal, $TERM is unusable or memory
 * is short: the caller then prints plain tables instead.
 * Only one view may be open at a time. Until pw_topview_close(), exit()
 * from anywhere still restores the terminal (an atexit handler).
 */
struct pw_topview *pw_topview_open(void);

/* Give the terminal back (endwin) and free tv. NULL is a no-op. */
void pw_topview_close(struct pw_topview *tv);

/*
 * Read every pending key without blocking and apply it: 's' next sort
 * order, 'n' next netns filter (0 = all, then netns_list, ascending, as
 * pw_model_netns_list() gives it), 'a' toggle active_only, 'p' edit the
 * process-name filter on the status line (Enter applies, empty clears it,
 * Esc cancels; at most 15 bytes), 'q' or 'Q' quit. Terminal resizes are
 * picked up here and redrawn by the next pw_topview_draw().
 * Returns 1 when the user asked to quit, else 0.
 */
int pw_topview_input(struct pw_topview *tv, struct pw_view_filter *filter, enum pw_sort *sort,
		     const uint32_t *netns_list, int n_netns);

/*
 * Redraw the whole screen: status (the caller's text, e.g. "portwatch top
 * - 12 ports, sort: activity, netns: all"; replaced by the prompt while
 * one is open), the column header, as many of the n ports in v as fit
 * (exposed and new ones highlighted), and up to 5 of the n_alerts in the
 * order given (pw_model_recent(): newest first), and above the alerts a
 * pane of ephemeral-pool rows (pool_rows[0] is their header; up to 4 rows
 * after it, none when n_pool_rows is 0). Nothing is written past
 * the screen's edge; every string is escaped for the terminal.
 */
void pw_topview_draw(struct pw_topview *tv, const struct pw_port_view *v, int n,
		     const struct pw_alert *alerts, int n_alerts, const char *status,
		     const char *const *pool_rows, int n_pool_rows);

#endif /* PW_TOPVIEW_H */
