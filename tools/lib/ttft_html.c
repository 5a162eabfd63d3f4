/* ttft_html.c — see ttft_html.h. Line by line: a block starts with what
 * its first line looks like (#, |, -, ```, ![, <!--), a paragraph is
 * everything else up to a blank line. */
#include "ttft_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_cli.h"
#include "ttft_str.h"

static char *read_all(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct ttft_str b = {0};
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.n <= max)
		ttft_str_add(&b, buf, n);
	int bad = ferror(f) || b.n > max;
	if (b.n > max)
		errno = EFBIG;
	fclose(f);
	if (bad) {
		ttft_str_free(&b);
		return NULL;
	}
	return ttft_str_take(&b);
}

/* Inline text: `code`, **bold**, [text](url), \| (a pipe); everything
 * else escaped. */
static void inl(struct ttft_str *b, const char *p, size_t n)
{
	const char *e = p + n;
	int bold = 0;
	while (p < e) {
		if (p + 1 < e && p[0] == '\\' && p[1] == '|') {
			ttft_str_printf(b, "|");
			p += 2;
			continue;
		}
		if (*p == '`') {
			const char *z = memchr(p + 1, '`', (size_t)(e - p - 1));
			if (z) {
				char *t = strndup(p + 1, (size_t)(z - p - 1));
				ttft_str_printf(b, "<code>");
				ttft_str_xml(b, t);
				ttft_str_printf(b, "</code>");
				free(t);
				p = z + 1;
				continue;
			}
		}
		if (p + 1 < e && p[0] == '*' && p[1] == '*') {
			ttft_str_printf(b, bold ? "</strong>" : "<strong>");
			bold = !bold;
			p += 2;
			continue;
		}
		if (*p == '[') {
			const char *m = memchr(p, ']', (size_t)(e - p));
			if (m && m + 1 < e && m[1] == '(') {
				const char *z = memchr(m + 2, ')', (size_t)(e - m - 2));
				if (z) {
					char *url = strndup(m + 2, (size_t)(z - m - 2));
					/* only plain links: no script URLs in a report */
					int safe = !strchr(url, ':') || !strncmp(url, "http://", 7) ||
						   !strncmp(url, "https://", 8);
					if (safe) {
						ttft_str_printf(b, "<a href=\"");
						ttft_str_xml(b, url);
						ttft_str_printf(b, "\">");
					}
					inl(b, p + 1, (size_t)(m - p - 1));
					if (safe)
						ttft_str_printf(b, "</a>");
					free(url);
					p = z + 1;
					continue;
				}
			}
		}
		/* plain text up to the next byte that may begin markup, whole:
		 * a character beyond ASCII escaped a byte at a time is U+FFFD
		 * a byte (markup's bytes are ASCII, so no character is cut) */
		const char *z = p + 1;
		while (z < e && !strchr("\\`*[", *z))
			z++;
		char *t = strndup(p, (size_t)(z - p));
		if (!t)
			b->oom = 1;
		ttft_str_xml(b, t);
		free(t);
		p = z;
	}
	if (bold)
		ttft_str_printf(b, "</strong>");
}

static size_t line_len(const char *p)
{
	return strcspn(p, "\n");
}

static const char *next_line(const char *p)
{
	p += line_len(p);
	return *p ? p + 1 : p;
}

static int blank(const char *p)
{
	size_t n = line_len(p);
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

static int is_item(const char *p)
{
	return (p[0] == '-' || p[0] == '*') && p[1] == ' ';
}

static int special(const char *p)
{
	return *p == '#' || *p == '|' || is_item(p) || !strncmp(p, "```", 3) ||
	       !strncmp(p, "![", 2) || !strncmp(p, "<!--", 4);
}

/* The first | in [p, e) that ends a cell, or e: GFM's \| is the cell's
 * text. p[-1] is readable (the row starts with its own |). */
static const char *cell_end(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p == '|' && p[-1] != '\\')
			return p;
	return e;
}

/* One table row's cells between the pipes. */
static void row(struct ttft_str *b, const char *p, size_t n, const char *tag)
{
	const char *e = p + n;
	while (e > p && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	if (p < e && *p == '|')
		p++;
	if (e > p && e[-1] == '|' && e[-2] != '\\')
		e--;
	ttft_str_printf(b, "<tr>");
	while (p <= e) {
		const char *z = cell_end(p, e);
		const char *a = p, *y = z;
		while (a < y && *a == ' ')
			a++;
		while (y > a && y[-1] == ' ')
			y--;
		/* the cell's \| is a | before anything else, in a code span
		 * too (GFM: the table is split before the inlines are read) */
		struct ttft_str c = {0};
		for (const char *q = a; q < y; q++)
			if (!(q[0] == '\\' && q + 1 < y && q[1] == '|'))
				ttft_str_add(&c, q, 1);
		ttft_str_printf(b, "<%s>", tag);
		inl(b, ttft_str_get(&c), strlen(ttft_str_get(&c)));
		ttft_str_printf(b, "</%s>", tag);
		b->oom |= c.oom;
		ttft_str_free(&c);
		p = z + 1;
	}
	ttft_str_printf(b, "</tr>\n");
}

static void image(struct ttft_str *b, const char *p, size_t n, const char *dir)
{
	const char *m = memchr(p, ']', n), *e = p + n;
	const char *z = m && m + 1 < e && m[1] == '(' ? memchr(m, ')', (size_t)(e - m)) : NULL;
	if (!z) {
		ttft_str_printf(b, "<p>");
		inl(b, p, n);
		ttft_str_printf(b, "</p>\n");
		return;
	}
	char *alt = strndup(p + 2, (size_t)(m - p - 2)), *src = strndup(m + 2, (size_t)(z - m - 2));
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, src);
	size_t sl = strlen(src);
	/* only the report's own charts: files beside it, never elsewhere */
	int ok = sl > 4 && !strcmp(src + sl - 4, ".svg") && src[0] != '/' && !strstr(src, "..");
	char *svg = ok ? read_all(path, 16u << 20) : NULL;
	ttft_str_printf(b, "<figure>\n");
	if (svg) {
		const char *s = strstr(svg, "<svg");
		ttft_str_printf(b, "%s", s ? s : "");
	} else {
		ttft_str_printf(b, "<p class=\"missing\">[chart not included: ");
		ttft_str_xml(b, src);
		ttft_str_printf(b, ok ? " could not be read]</p>\n" : " is not an SVG beside the report]</p>\n");
	}
	ttft_str_printf(b, "<figcaption>");
	ttft_str_xml(b, alt);
	ttft_str_printf(b, "</figcaption>\n</figure>\n");
	free(svg);
	free(alt);
	free(src);
}

char *ttft_html_page(const char *md, const char *dir)
{
	struct ttft_str b = {0};
	const char *h1 = strstr(md, "# ");
	while (h1 && h1 != md && h1[-1] != '\n')
		h1 = strstr(h1 + 2, "# ");
	ttft_str_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			    "<title>");
	if (h1) {
		char *t = strndup(h1 + 2, line_len(h1 + 2));
		ttft_str_xml(&b, t);
		free(t);
	} else {
		ttft_str_printf(&b, "ttftshim report");
	}
	ttft_str_printf(&b, "</title>\n<style>\nbody{font-family:'DejaVu Sans',Arial,sans-serif;"
			    "max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
			    "\ntable{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n"
			    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;"
			    "vertical-align:top}\nth{background:#f3f3f3}\ncode{background:#f4f4f4;"
			    "padding:0 3px}\npre{background:#f4f4f4;padding:8px;overflow-x:auto}\n"
			    "figure{margin:1.5em 0}\nfigure svg{max-width:100%%;height:auto}\n"
			    "figcaption{color:#555;font-size:0.9em}\n.missing{color:#a00}\n"
			    "</style>\n</head>\n<body>\n<main>\n");
	for (const char *p = md; *p;) {
		size_t n = line_len(p);
		if (blank(p)) {
			p = next_line(p);
		} else if (!strncmp(p, "<!--", 4)) {
			const char *e = strstr(p, "-->");
			p = e ? next_line(e) : p + strlen(p);
		} else if (!strncmp(p, "```", 3)) {
			p = next_line(p);
			ttft_str_printf(&b, "<pre><code>");
			while (*p && strncmp(p, "```", 3)) {
				char *t = strndup(p, line_len(p));
				ttft_str_xml(&b, t);
				ttft_str_printf(&b, "\n");
				free(t);
				p = next_line(p);
			}
			ttft_str_printf(&b, "</code></pre>\n");
			if (*p)
				p = next_line(p);
		} else if (*p == '#') {
			int lv = 0;
			while (p[lv] == '#' && lv < 6)
				lv++;
			const char *t = p + lv;
			while (*t == ' ')
				t++;
			ttft_str_printf(&b, "<h%d>", lv);
			inl(&b, t, n - (size_t)(t - p));
			ttft_str_printf(&b, "</h%d>\n", lv);
			p = next_line(p);
		} else if (*p == '|') {
			ttft_str_printf(&b, "<table>\n");
			const char *second = next_line(p);
			int head = *second == '|' && strspn(second, "|-: \r") == line_len(second);
			row(&b, p, n, head ? "th" : "td");
			p = head ? next_line(second) : second;
			while (*p == '|') {
				row(&b, p, line_len(p), "td");
				p = next_line(p);
			}
			ttft_str_printf(&b, "</table>\n");
		} else if (is_item(p)) {
			ttft_str_printf(&b, "<ul>\n");
			while (is_item(p)) {
				/* an item runs on over its indented lines */
				const char *e = next_line(p);
				while (*e == ' ' && !blank(e))
					e = next_line(e);
				char *t = strndup(p + 2, (size_t)(e - p - 2));
				size_t tl = strlen(t);
				while (tl && (t[tl - 1] == '\n' || t[tl - 1] == ' ' || t[tl - 1] == '\r'))
					t[--tl] = 0;
				for (char *c = t; *c; c++)
					if (*c == '\n')
						*c = ' ';
				ttft_str_printf(&b, "<li>");
				inl(&b, t, strlen(t));
				ttft_str_printf(&b, "</li>\n");
				free(t);
				p = e;
			}
			ttft_str_printf(&b, "</ul>\n");
		} else if (!strncmp(p, "![", 2)) {
			image(&b, p, n, dir);
			p = next_line(p);
		} else {
			ttft_str_printf(&b, "<p>");
			int first = 1;
			while (*p && !blank(p) && (first || !special(p))) {
				if (!first)
					ttft_str_printf(&b, " ");
				inl(&b, p, line_len(p));
				first = 0;
				p = next_line(p);
			}
			ttft_str_printf(&b, "</p>\n");
		}
	}
	ttft_str_printf(&b, "</main>\n</body>\n</html>\n");
	return ttft_str_take(&b);
}

int ttft_html_write(const char *md_path, const char *html_path, char *err, size_t errlen)
{
	char *md = read_all(md_path, 64u << 20);
	if (!md) {
		snprintf(err, errlen, "cannot read %s: %s", md_path, strerror(errno));
		return -1;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", md_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	char *page = ttft_html_page(md, dir);
	free(md);
	int rc = 0;
	if (!page) {
		snprintf(err, errlen, "out of memory writing %s", html_path);
		rc = -1;
	} else {
		/* replaced whole: a full disk leaves the old page, not half */
		rc = ttft_write_atomic(html_path, page, strlen(page), err, errlen);
	}
	free(page);
	return rc;
}
