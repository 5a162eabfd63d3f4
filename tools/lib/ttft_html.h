/* ttft_html.h — a report's Markdown as one self-contained HTML page: the
 * SVG charts it links are read and put inline, no script, no style or
 * font from the network, so the page opens anywhere, also offline. The
 * Markdown is the subset the reports use: headings, paragraphs, lists,
 * tables (GFM's \| is a pipe inside a cell), fenced code, inline code,
 * bold, links, images and comments. */
#ifndef TTFT_HTML_H
#define TTFT_HTML_H

#include <stddef.h>

/* md: the text; dir: where its relative image paths start. Returns the
 * page (malloc'd), or NULL when out of memory. An image that cannot be
 * read stays visible as its alt text and the reason. */
char *ttft_html_page(const char *md, const char *dir);

/* Read md_path, write the page to html_path. 0, or -1 with err set. */
int ttft_html_write(const char *md_path, const char *html_path, char *err, size_t errlen);

#endif
