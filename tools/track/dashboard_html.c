/* The dashboard's page (dashboard_data.h): one HTML file with inline CSS, inline SVG and a few lines of
 * inline JS (the filters), nothing fetched.  Per series one card: panels stacked in one <svg> (class
 * "series"), one per metric the series has; a bucket of runs is one point of the line (the median of
 * its runs' values) and its range a band; one <rect class="hover"> per bucket carries the <title>
 * that the browser shows on hover; one <g class="cp"> per change point (a line and the step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/dashboard_data.h"

#define SVG_W 760
#define PLOT_L 70
#define PLOT_R 12
#define PLOT_W (SVG_W - PLOT_L - PLOT_R)
#define TOP 16
#define GAP 12

static const char *const metric_name[DASH_METRICS] = {"median time", "speed vs oneDNN", "speed vs scalar", "GFLOP/s", "samples/s"};
static const int metric_h[DASH_METRICS] = {110, 56, 56, 56, 56};
static const char *const metric_color[DASH_METRICS] = {"#1f5fa8", "#b04a00", "#2e7d32", "#6a3d9a", "#00838f"};

static void esc(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A value of metric k for people: times with their unit, ratios with an x. */
static const char *fmt(char *b, size_t n, int k, double v) {
    if (!isfinite(v)) snprintf(b, n, "-");
    else if (k == DASH_ONEDNN || k == DASH_SCALAR) snprintf(b, n, "%.3gx", v);
    else if (k != DASH_TIME) snprintf(b, n, fabs(v) >= 1e6 ? "%.4gM" : fabs(v) >= 1e4 ? "%.4gk" : "%.4g",
                                      fabs(v) >= 1e6 ? v / 1e6 : fabs(v) >= 1e4 ? v / 1e3 : v);
    else if (v >= 1e9) snprintf(b, n, "%.4g s", v / 1e9);
    else if (v >= 1e6) snprintf(b, n, "%.4g ms", v / 1e6);
    else if (v >= 1e3) snprintf(b, n, "%.4g us", v / 1e3);
    else snprintf(b, n, "%.4g ns", v);
    return b;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of metric k over pts[lo..hi) (NAN when none is finite). */
static void bucket_stats(const dash_series *s, int k, int lo, int hi, double *tmp, double *mid, double *mn, double *mx) {
    int m = 0;
    for (int i = lo; i < hi; i++)
        if (isfinite(s->pts[i].v[k])) tmp[m++] = s->pts[i].v[k];
    if (!m) {
        *mid = *mn = *mx = NAN;
        return;
    }
    qsort(tmp, (size_t)m, sizeof *tmp, cmp_double);
    *mid = m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
    *mn = tmp[0], *mx = tmp[m - 1];
}

typedef struct {
    int nb;              /* buckets */
    double *mid, *mn, *mx;   /* per metric, nb each */
} dash_buckets;

static int bucket_lo(const dash_series *s, const dash_buckets *b, int i) {
    return (int)((long)i * s->n / b->nb);
}

static double bucket_x(const dash_buckets *b, int i) {
    return PLOT_L + (i + 0.5) * PLOT_W / b->nb;
}

/* One panel at y0: its label, the range's labels, the band and the line. */
static void panel(FILE *f, const dash_series *s, const dash_buckets *b, int k, int y0) {
    const double *mid = b->mid + (size_t)k * b->nb, *mn = b->mn + (size_t)k * b->nb, *mx = b->mx + (size_t)k * b->nb;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < b->nb; i++)
        if (isfinite(mid[i])) lo = fmin(lo, mn[i]), hi = fmax(hi, mx[i]);
    /* a span of at least 20 % of the values, so that a flat series' noise looks like noise */
    double span = 0.2 * fmax(fabs(lo), fabs(hi)) + 1e-12;
    if (hi - lo < span) {
        double c = 0.5 * (lo + hi);
        lo = c - span / 2, hi = c + span / 2;
    }
    int h = metric_h[k];
    double pad = (hi - lo) * 0.04, ylo = lo - pad, yhi = hi + pad;
    /* the top 14 px of a panel hold its label, the line stays below it */
#define Y(v) (y0 + h - 2 - ((v) - ylo) / (yhi - ylo) * (h - 16))
    char t1[32], t2[32];
    fprintf(f, "<rect class=\"pb\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", PLOT_L, y0, PLOT_W, h);
    fprintf(f, "<text class=\"ml\" x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>", PLOT_L + 4, y0 + 11, metric_color[k], metric_name[k]);
    fprintf(f, "<text class=\"ax\" x=\"%d\" y=\"%.1f\">%s</text><text class=\"ax\" x=\"%d\" y=\"%.1f\">%s</text>", PLOT_L - 4,
            Y(hi) + 4, fmt(t1, sizeof t1, k, hi), PLOT_L - 4, Y(lo) + 1, fmt(t2, sizeof t2, k, lo));
    if (b->nb < s->n) {   /* a band only where buckets hold several runs */
        fprintf(f, "<polygon class=\"band\" fill=\"%s\" points=\"", metric_color[k]);
        for (int i = 0; i < b->nb; i++)
            if (isfinite(mx[i])) fprintf(f, "%.1f,%.1f ", bucket_x(b, i), Y(mx[i]));
        for (int i = b->nb - 1; i >= 0; i--)
            if (isfinite(mn[i])) fprintf(f, "%.1f,%.1f ", bucket_x(b, i), Y(mn[i]));
        fputs("\"/>", f);
    }
    fprintf(f, "<polyline class=\"ln\" stroke=\"%s\" points=\"", metric_color[k]);
    for (int i = 0; i < b->nb; i++)
        if (isfinite(mid[i])) fprintf(f, "%.1f,%.1f ", bucket_x(b, i), Y(mid[i]));
    fputs("\"/>", f);
#undef Y
}

/* The hover text of bucket i: its run(s), commit(s), date(s) and values. */
static void bucket_title(FILE *f, const dash_data *d, const dash_series *s, const dash_buckets *b, int i) {
    int lo = bucket_lo(s, b, i), hi = bucket_lo(s, b, i + 1);
    const dash_run *r0 = &d->runs[s->pts[lo].run], *r1 = &d->runs[s->pts[hi - 1].run];
    fputs("<title>", f);
    if (hi - lo == 1) {
        fprintf(f, "run %d of %d: ", lo + 1, s->n);
        esc(f, r0->date), fputs("  commit ", f), esc(f, r0->commit);
    } else {
        fprintf(f, "runs %d-%d of %d (medians shown): ", lo + 1, hi, s->n);
        esc(f, r0->date), fputs(" .. ", f), esc(f, r1->date);
        fputs("  commits ", f), esc(f, r0->commit), fputs(" .. ", f), esc(f, r1->commit);
    }
    char t[32];
    for (int k = 0; k < DASH_METRICS; k++)
        if (s->has[k]) fprintf(f, "\n%s: %s", metric_name[k], fmt(t, sizeof t, k, b->mid[(size_t)k * b->nb + i]));
    fputs("</title>", f);
}

/* The change points: a vertical line at the exact run, the step above it. */
static void cp_marks(FILE *f, const dash_data *d, const dash_series *s, int y1) {
    for (int c = 0; c < s->n_cps; c++) {
        const hist_cp *cp = &s->cps[c];
        const dash_run *r = &d->runs[s->pts[cp->index].run];
        double x = PLOT_L + (double)cp->index * PLOT_W / s->n;
        char a[32], b[32];
        fprintf(f, "<g class=\"cp\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, TOP - 2, x, y1);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\"%s>%+.1f%%</text>", x + (x > SVG_W - 60 ? -3 : 3), TOP - 4,
                x > SVG_W - 60 ? " text-anchor=\"end\"" : "", 100 * cp->step);
        fprintf(f, "<title>change point at run %d: ", cp->index + 1);
        esc(f, r->date), fputs("  commit ", f), esc(f, r->commit);
        fprintf(f, "\nmedian time %s -> %s (%+.1f%%), p = %.3g</title></g>", fmt(a, sizeof a, DASH_TIME, cp->before),
                fmt(b, sizeof b, DASH_TIME, cp->after), 100 * cp->step, cp->p);
    }
}

static bool card(FILE *f, const dash_data *d, const dash_series *s, const hist_dash_opts *o) {
    dash_buckets b = {.nb = s->n < o->points ? s->n : o->points};
    size_t nv = (size_t)DASH_METRICS * b.nb;
    b.mid = malloc(3 * nv * sizeof *b.mid);
    double *tmp = malloc(((size_t)s->n / b.nb + 2) * sizeof *tmp);
    if (!b.mid || !tmp || !s->n) return free(b.mid), free(tmp), s->n == 0;
    b.mn = b.mid + nv, b.mx = b.mn + nv;
    int height = TOP + 4;   /* and the dates below */
    for (int k = 0; k < DASH_METRICS; k++) {
        if (!s->has[k]) continue;
        height += metric_h[k] + GAP;
        for (int i = 0; i < b.nb; i++)
            bucket_stats(s, k, bucket_lo(s, &b, i), bucket_lo(s, &b, i + 1), tmp, &b.mid[(size_t)k * b.nb + i],
                         &b.mn[(size_t)k * b.nb + i], &b.mx[(size_t)k * b.nb + i]);
    }
    fputs("<div class=\"card\" data-m=\"", f), esc(f, d->machines[s->machine]);
    fputs("\" data-o=\"", f), esc(f, s->op), fputs("\" data-p=\"", f), esc(f, s->pass);
    fputs("\"><h3>", f), esc(f, s->name), fputs(" <span>", f), esc(f, d->machines[s->machine]);
    fprintf(f, " &middot; %d runs &middot; %d change point%s</span></h3>\n", s->n, s->n_cps, s->n_cps == 1 ? "" : "s");
    fprintf(f, "<svg class=\"series\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">", SVG_W, height, SVG_W, height);
    int y = TOP;
    for (int k = 0; k < DASH_METRICS; k++)
        if (s->has[k]) panel(f, s, &b, k, y), y += metric_h[k] + GAP;
    for (int i = 0; i < b.nb; i++) {
        fprintf(f, "<rect class=\"hover\" x=\"%.1f\" y=\"%d\" width=\"%.2f\" height=\"%d\">", PLOT_L + (double)i * PLOT_W / b.nb,
                TOP, (double)PLOT_W / b.nb, y - GAP - TOP);
        bucket_title(f, d, s, &b, i);
        fputs("</rect>", f);
    }
    const dash_run *r0 = &d->runs[s->pts[0].run], *r1 = &d->runs[s->pts[s->n - 1].run];
    fprintf(f, "<text class=\"dt\" x=\"%d\" y=\"%d\">", PLOT_L, y + 1), esc(f, r0->date);
    fprintf(f, "</text><text class=\"dt\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", PLOT_L + PLOT_W, y + 1), esc(f, r1->date);
    fputs("</text>", f);
    cp_marks(f, d, s, y - GAP);
    fputs("</svg></div>\n", f);
    free(b.mid), free(tmp);
    return true;
}

/* One <select> of the distinct values of a field (op, pass or machine) over the series. */
static void filter_select(FILE *f, const dash_data *d, const char *id, const char *label, int field) {
    const char **seen = malloc((size_t)d->n_series * sizeof *seen);
    int n = 0;
    fprintf(f, "<label>%s <select id=\"%s\" onchange=\"flt()\"><option value=\"\">all</option>", label, id);
    for (int i = 0; seen && i < d->n_series; i++) {
        const dash_series *s = &d->series[i];
        const char *v = field == 0 ? s->op : field == 1 ? s->pass : d->machines[s->machine];
        int j = 0;
        while (j < n && strcmp(seen[j], v)) j++;
        if (j < n) continue;
        seen[n++] = v;
        fputs("<option>", f), esc(f, v), fputs("</option>", f);
    }
    fputs("</select></label>\n", f);
    free(seen);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>latbench dashboard</title>\n<style>\n"
    "body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}\n"
    "h1{font-size:18px;margin:0 0 4px}h3{font-size:13px;margin:0 0 4px;font-family:monospace;word-break:break-all}\n"
    "h3 span{font-family:system-ui,sans-serif;font-weight:normal;color:#666}\n"
    ".bar{position:sticky;top:0;background:#fafafa;padding:6px 0;border-bottom:1px solid #ddd;z-index:1}\n"
    ".bar label{margin-right:14px}\n"
    ".card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px;margin:10px 0;width:fit-content;"
    "content-visibility:auto;contain-intrinsic-size:auto 300px}\n"
    ".hid{display:none}\n"
    ".pb{fill:#fcfcfc;stroke:#e4e4e4}.ml{font-size:11px;font-weight:600}"
    ".dt{font-size:10px;fill:#555}.ax{font-size:10px;fill:#555;text-anchor:end}\n"
    ".band{opacity:.16;stroke:none}.ln{fill:none;stroke-width:1.5}\n"
    ".hover{fill:transparent}.hover:hover{fill:rgba(0,0,0,.08)}\n"
    ".cp line{stroke:#d00;stroke-width:1.5;stroke-dasharray:4 2}.cp text{font-size:11px;fill:#d00;font-weight:600}\n"
    "</style>\n<script>\n"
    "function flt(){var o=document.getElementById('fo').value,p=document.getElementById('fp').value,"
    "m=document.getElementById('fm').value,c=document.querySelectorAll('.card'),n=0;\n"
    "for(var i=0;i<c.length;i++){var d=c[i].dataset,h=(o&&d.o!=o)||(p&&d.p!=p)||(m&&d.m!=m);"
    "c[i].classList.toggle('hid',!!h);if(!h)n++}\n"
    "document.getElementById('shown').textContent=n;\n"
    "history.replaceState(null,'','#op='+encodeURIComponent(o)+'&pass='+encodeURIComponent(p)+'&machine='+encodeURIComponent(m))}\n"
    "/* the filters from the address (#op=conv2d&pass=fwd&machine=M), so that a filtered view can be linked */\n"
    "window.addEventListener('DOMContentLoaded',function(){var q=new URLSearchParams(location.hash.slice(1)),"
    "f={op:'fo',pass:'fp',machine:'fm'};for(var k in f){var v=q.get(k);if(v)document.getElementById(f[k]).value=v}"
    "if(location.hash)flt()});\n"
    "</script></head><body>\n";

bool dash_write_html(FILE *f, const dash_data *d, const hist_dash_opts *o) {
    fputs(page_head, f);
    int cps = 0;
    for (int i = 0; i < d->n_series; i++) cps += d->series[i].n_cps;
    fputs("<h1>latbench dashboard</h1>\n<p>", f);
    fprintf(f, "%d series, %ld runs", d->n_series, d->n_runs);
    if (d->n_runs) fputs(" from ", f), esc(f, d->runs[0].date), fputs(" to ", f), esc(f, d->runs[d->n_runs - 1].date);
    fprintf(f, ", %d change points of the median time (red: the step, after / before - 1). Hover a column for its"
               " commit, date and values; a series of more than %d runs is drawn in %d columns (line: the median of"
               " a column's runs, band: their range), its change points at their exact runs.</p>\n",
            cps, o->points, o->points);
    fputs("<div class=\"bar\">", f);
    filter_select(f, d, "fo", "op", 0);
    filter_select(f, d, "fp", "pass", 1);
    filter_select(f, d, "fm", "machine", 2);
    fprintf(f, "<span><b id=\"shown\">%d</b> of %d series shown</span></div>\n", d->n_series, d->n_series);
    for (int i = 0; i < d->n_series; i++)
        if (!card(f, d, &d->series[i], o)) return false;
    fputs("</body></html>\n", f);
    return !ferror(f);
}
