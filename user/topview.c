// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ncursesw/curses.h>

#include "portview.h"
#include "strutil.h"
#include "topview.h"

#define ALERT_LINES 5
#define PROMPT_MAX (PW_COMM_LEN - 1) /* TASK_COMM_LEN less its NUL */
#define KEY_ESC 27
#define KEY_CTRL_U 21
#define KEYS_HELP "s sort  n netns  p process  a active  q quit"

enum { PAIR_EXPOSED = 1, PAIR_NEW, PAIR_WARN };

struct pw_topview {
	SCREEN *scr;
	bool colors;
	bool resized;   /* clear (not just erase) on the next draw */
	bool prompting; /* 'p' pressed: keys go to prompt[] */
	int prompt_len;
	char prompt[PROMPT_MAX + 1];
};

/* The open view, for the atexit handler; curses has one terminal anyway. */
static struct pw_topview *open_view;

static void restore_at_exit(void)
{
	if (open_view && !isendwin())
		endwin();
}

struct pw_topview *pw_topview_open(void)
{
	static bool atexit_done;
	struct pw_topview *tv;

	/* Keys are read from stdin: without a terminal there, plain tables serve better. */
	if (open_view || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return NULL;
	tv = calloc(1, sizeof(*tv));
	if (!tv)
		return NULL;
	/* Wide characters in process names need the user's LC_CTYPE... */
	setlocale(LC_ALL, "");
	/* ...but "%.3f" elsewhere in portwatch must keep its decimal point. */
	setlocale(LC_NUMERIC, "C");
	/* newterm(), unlike initscr(), returns NULL on a bad $TERM instead of exiting. */
	tv->scr = newterm(NULL, stdout, stdin);
	if (!tv->scr) {
		free(tv);
		return NULL;
	}
	if (!atexit_done)
		atexit_done = atexit(restore_at_exit) == 0;
	open_view = tv;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	/* Esc cancels the prompt: do not wait a whole second for a sequence. */
	set_escdelay(25);
	curs_set(0); /* ERR on terminals that cannot hide it: harmless */
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_EXPOSED, COLOR_RED, -1);
		init_pair(PAIR_NEW, COLOR_YELLOW, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		tv->colors = true;
	}
	return tv;
}

void pw_topview_close(struct pw_topview *tv)
{
	if (!tv)
		return;
	if (!isendwin())
		endwin();
	delscreen(tv->scr);
	open_view = NULL;
	free(tv);
}

/*
 * The netns after cur in the ascending list, 0 (all) after the last; a
 * namespace that went away resumes at the next one still there.
 */
static uint32_t next_netns(uint32_t cur, const uint32_t *list, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (list[i] > cur)
			return list[i];
	}
	return 0;
}

static void prompt_key(struct pw_topview *tv, struct pw_view_filter *filter, int ch)
{
	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		/* Empty clears the filter: memcpy copies the NUL either way. */
		memcpy(filter->comm, tv->prompt, (size_t)tv->prompt_len + 1);
		tv->prompting = false;
		break;
	case KEY_ESC:
		tv->prompting = false;
		break;
	case KEY_BACKSPACE:
	case 127:
	case '\b':
		/* Drop a whole UTF-8 character, not the last byte of one. */
		while (tv->prompt_len > 0 &&
		       ((unsigned char)tv->prompt[--tv->prompt_len] & 0xc0) == 0x80)
			;
		tv->prompt[tv->prompt_len] = '\0';
		break;
	case KEY_CTRL_U:
		tv->prompt_len = 0;
		tv->prompt[0] = '\0';
		break;
	default:
		/* Bytes of the user's UTF-8 come one by one; function keys are > 255. */
		if (ch >= 0x20 && ch <= 0xff && ch != 0x7f && tv->prompt_len < PROMPT_MAX) {
			tv->prompt[tv->prompt_len++] = (char)ch;
			tv->prompt[tv->prompt_len] = '\0';
		}
		break;
	}
}

int pw_topview_input(struct pw_topview *tv, struct pw_view_filter *filter, enum pw_sort *sort,
		     const uint32_t *netns_list, int n_netns)
{
	int ch, quit = 0;

	while (!quit && (ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			tv->resized = true;
			continue;
		}
		if (tv->prompting) {
			prompt_key(tv, filter, ch);
			continue;
		}
		switch (ch) {
		case 's':
			*sort = (enum pw_sort)(((unsigned)*sort + 1) % PW_SORT__MAX);
			break;
		case 'n':
			filter->netns = next_netns(filter->netns, netns_list, n_netns);
			break;
		case 'a':
			filter->active_only = !filter->active_only;
			break;
		case 'p':
			/* Start from the current filter, so a typo is one Backspace away. */
			tv->prompting = true;
			tv->prompt_len = (int)strnlen(filter->comm, PROMPT_MAX);
			memcpy(tv->prompt, filter->comm, (size_t)tv->prompt_len);
			tv->prompt[tv->prompt_len] = '\0';
			break;
		case 'q':
		case 'Q':
			quit = 1;
			break;
		}
	}
	return quit;
}

/*
 * Write s (terminal-safe UTF-8) at row y, clipped to the screen; fill pads
 * the rest of the row in attr (for the reverse-video bars).
 */
static void put_row(int y, const char *s, attr_t attr, bool fill)
{
	int rows, cols, used;
	size_t nb;

	getmaxyx(stdscr, rows, cols);
	if (y < 0 || y >= rows)
		return;
	/* The bottom-right cell would scroll the screen. */
	if (y == rows - 1)
		cols--;
	nb = pw_text_fit(s, cols, &used);
	attron(attr);
	mvaddnstr(y, 0, s, (int)nb);
	if (fill)
		for (; used < cols; used++)
			addch(' ');
	attroff(attr);
}

static attr_t port_attr(const struct pw_topview *tv, unsigned flags)
{
	if (flags & PW_PF_EXPOSED)
		return A_BOLD | (tv->colors ? COLOR_PAIR(PAIR_EXPOSED) : 0);
	if (flags & PW_PF_NEW)
		return A_BOLD | (tv->colors ? COLOR_PAIR(PAIR_NEW) : 0);
	return A_NORMAL;
}

static attr_t alert_attr(const struct pw_topview *tv, const struct pw_alert *a)
{
	if (!tv->colors || !a->severity)
		return A_NORMAL;
	if (!strcmp(a->severity, "critical"))
		return A_BOLD | COLOR_PAIR(PAIR_EXPOSED);
	if (!strcmp(a->severity, "warning"))
		return COLOR_PAIR(PAIR_WARN);
	return A_NORMAL;
}

void pw_topview_draw(struct pw_topview *tv, const struct pw_port_view *v, int n,
		     const struct pw_alert *alerts, int n_alerts, const char *status,
		     const char *const *pool_rows, int n_pool_rows)
{
	char line[PW_ROW_MAX], esc[PROMPT_MAX * 4 + 1], title[128], more[48];
	int rows, cols, body, n_alert_lines, pane, shown, i, pools;

	if (tv->resized) {
		/* A resize leaves garbage erase() would not repaint. */
		clear();
		tv->resized = false;
	} else {
		erase();
	}
	getmaxyx(stdscr, rows, cols);
	/* Status, header, then the pane (title + lines), shrunk on tiny screens. */
	n_alert_lines = rows - 4 < ALERT_LINES ? rows - 4 : ALERT_LINES;
	if (n_alert_lines < 1)
		n_alert_lines = 0;
	pane = n_alert_lines ? n_alert_lines + 1 : 0;
	/* The pools pane: its header and at most 4 pools, if the screen has room. */
	pools = n_pool_rows > 5 ? 5 : n_pool_rows;
	if (rows - 2 - pane - pools < 3)
		pools = 0;
	body = rows - 2 - pane - pools;
	if (body < 0)
		body = 0;

	if (tv->prompting) {
		pw_term_escape(tv->prompt, sizeof(tv->prompt), esc, sizeof(esc));
		snprintf(line, sizeof(line),
			 "process name: %s_   (Enter apply, empty clears, Esc cancel)", esc);
	} else {
		pw_term_escape(status ? status : "", PW_ROW_MAX, line, sizeof(line));
	}
	put_row(0, line, A_REVERSE, true);
	pw_format_port_header(line, sizeof(line), cols);
	put_row(1, line, A_BOLD, false);

	shown = n < body ? n : body;
	for (i = 0; i < shown; i++) {
		pw_format_port_row(line, sizeof(line), &v[i], cols);
		put_row(2 + i, line, port_attr(tv, v[i].flags), false);
	}
	if (n == 0 && body > 0)
		put_row(2, "no ports", A_DIM, false);

	for (i = 0; i < pools; i++)
		put_row(rows - pane - pools + i, pool_rows[i], i ? A_NORMAL : A_BOLD, false);

	if (pane) {
		more[0] = '\0';
		if (n > shown)
			snprintf(more, sizeof(more), "  -  %d more ports below", n - shown);
		snprintf(title, sizeof(title), "alerts (%d)%s  -  %s", n_alerts, more, KEYS_HELP);
		put_row(rows - pane, title, A_REVERSE, true);
		for (i = 0; i < n_alert_lines && i < n_alerts; i++) {
			pw_format_alert_line(line, sizeof(line), &alerts[i]);
			put_row(rows - n_alert_lines + i, line, alert_attr(tv, &alerts[i]), false);
		}
		if (n_alerts <= 0)
			put_row(rows - n_alert_lines, "no alerts", A_DIM, false);
	}
	refresh();
}
