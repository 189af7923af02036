/* The dashboard's page (dashboard_data.h): one HTML file with inline CSS, inline SVG and a few lines of
 * inline JS (the filters), nothing fetched.  Per series one card: panels stacked in one <svg> (class
 * "series"), one per metric the series has; a bucket of runs is one point of the line (the median of
 * its runs' values) and, for the time, its range a band; one <g class="cp"> per change point that
 * `latbench history` reports (a line and the step, its details in an SVG <title>; the newest one of a
 * series history alarms on also a <g class="alarm">), one <g class="pbreak"> per known break (a change
 * of tuning profile).  Hover: the svg's data-c holds per column its first and last run (indices into
 * the page's run table R: date, commit, profile as an index into P), its run count and its values; a
 * few lines of JS show them under the pointer.  Compact on purpose: 200 series of 10,000 runs make a page
 * of about 3 MB that Chromium loads in a fraction of what one <title> element per column cost. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/dashboard_data.h"
#include "tools/stats/stats.h"

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

/* Median, min and max of metric k over pts[lo..hi) (NAN when none is finite). */
static void bucket_stats(const dash_series *s, int k, int lo, int hi, double *tmp, double *mid, double *mn, double *mx) {
    int m = 0;
    for (int i = lo; i < hi; i++)
        if (isfinite(s->pts[i].v[k])) tmp[m++] = s->pts[i].v[k];
    if (!m) {
        *mid = *mn = *mx = NAN;
        return;
    }
    *mid = stats_median(tmp, m, tmp);   /* tmp sorted in place */
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
    if (b->nb < s->n && k == DASH_TIME) {   /* a band where buckets hold several runs */
        fprintf(f, "<polygon class=\"band\" fill=\"%s\" points=\"", metric_color[k]);
        for (int i = 0; i < b->nb; i++)
            if (isfinite(mx[i])) fprintf(f, "%.1f,%.0f ", bucket_x(b, i), Y(mx[i]));
        for (int i = b->nb - 1; i >= 0; i--)
            if (isfinite(mn[i])) fprintf(f, "%.1f,%.0f ", bucket_x(b, i), Y(mn[i]));
        fputs("\"/>", f);
    }
    fprintf(f, "<polyline class=\"ln\" stroke=\"%s\" points=\"", metric_color[k]);
    for (int i = 0; i < b->nb; i++)
        if (isfinite(mid[i])) fprintf(f, "%.1f,%.0f ", bucket_x(b, i), Y(mid[i]));
    fputs("\"/>", f);
#undef Y
}

/* The hover data of the columns, "FIRST,LAST,RUNS,V,V..;..." (FIRST, LAST: run table indices; V: the
 * column's median of each metric the series has, "" when absent). */
static void hover_data(FILE *f, const dash_series *s, const dash_buckets *b) {
    fputs(" data-k=\"", f);
    for (int k = 0, n = 0; k < DASH_METRICS; k++)
        if (s->has[k]) fprintf(f, n++ ? ",%d" : "%d", k);
    fputs("\" data-c=\"", f);
    for (int i = 0; i < b->nb; i++) {
        int lo = bucket_lo(s, b, i), hi = bucket_lo(s, b, i + 1);
        fprintf(f, "%s%d,%d,%d", i ? ";" : "", s->pts[lo].run, s->pts[hi - 1].run, hi - lo);
        for (int k = 0; k < DASH_METRICS; k++) {
            double v = b->mid[(size_t)k * b->nb + i];
            if (!s->has[k]) continue;
            if (isfinite(v)) fprintf(f, ",%.4g", v);
            else fputc(',', f);
        }
    }
    fputc('"', f);
}

/* The change points (of the judged quantity) as `latbench history` reports them: a vertical line at
 * the run, the step above it; history's alarm (the newest one, a regression beyond its threshold) also
 * labelled; the known breaks (a changed tuning profile) a grey line. */
static void cp_marks(FILE *f, const dash_data *d, const dash_series *s, int y1) {
    for (int c = 0; c < s->n_breaks; c++) {
        const int i = s->breaks[c];
        const double x = PLOT_L + (double)i * PLOT_W / s->n;
        const dash_run *r = &d->runs[s->pts[i].run];
        fprintf(f, "<g class=\"pbreak\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, TOP - 2, x, y1);
        fprintf(f, "<title>known break at run %d: tuning profile now ", i + 1);
        esc(f, d->profiles[r->profile]), fputs(" (", f), esc(f, r->date), fputs("  commit ", f), esc(f, r->commit);
        fputs("); latbench history looks for change points only since the newest one</title></g>", f);
    }
    for (int c = 0; c < s->n_cps; c++) {
        const hist_cp *cp = &s->cps[c];
        const dash_run *r = &d->runs[s->pts[cp->index].run];
        const bool alarm = s->regression && c == s->n_cps - 1;
        double x = PLOT_L + (double)cp->index * PLOT_W / s->n;
        char a[32], b[32];
        fprintf(f, "<g class=\"cp\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, TOP - 2, x, y1);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\"%s>%+.1f%%%s</text>", x + (x > SVG_W - 60 ? -3 : 3), TOP - 4,
                x > SVG_W - 60 ? " text-anchor=\"end\"" : "", 100 * cp->step, alarm ? " REGRESSION" : "");
        fprintf(f, "<title>change point at run %d: ", cp->index + 1);
        esc(f, r->date), fputs("  commit ", f), esc(f, r->commit);
        fprintf(f, "\n%s %s -> %s (%+.1f%%), p = %.3g%s</title></g>", metric_name[s->quantity],
                fmt(a, sizeof a, s->quantity, cp->before), fmt(b, sizeof b, s->quantity, cp->after), 100 * cp->step, cp->p,
                alarm ? "\nlatbench history's alarm: a regression beyond its threshold" : "");
        if (alarm) fputs("<g class=\"alarm\"></g>", f);
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
    fprintf(f, " &middot; %d runs &middot; %d change point%s%s%s%s</span></h3>\n", s->n, s->n_cps, s->n_cps == 1 ? "" : "s",
            s->n_cps ? " of the " : "", s->n_cps ? metric_name[s->quantity] : "", s->regression ? " &middot; <b>REGRESSION</b>" : "");
    fprintf(f, "<svg class=\"series\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"", SVG_W, height, SVG_W, height);
    hover_data(f, s, &b);
    fputc('>', f);
    int y = TOP;
    for (int k = 0; k < DASH_METRICS; k++)
        if (s->has[k]) panel(f, s, &b, k, y), y += metric_h[k] + GAP;
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
    "#tip{position:fixed;display:none;background:#fff;border:1px solid #999;padding:4px 6px;font-size:12px;"
    "white-space:pre;pointer-events:none;box-shadow:1px 1px 4px rgba(0,0,0,.2);z-index:2}\n"
    ".cp line{stroke:#d00;stroke-width:1.5;stroke-dasharray:4 2}.cp text{font-size:11px;fill:#d00;font-weight:600}\n"
    ".pbreak line{stroke:#777;stroke-width:2;stroke-dasharray:1 3}h3 b{color:#d00}\n"
    "</style>\n<script>\n"
    "function flt(){var o=document.getElementById('fo').value,p=document.getElementById('fp').value,"
    "m=document.getElementById('fm').value,c=document.querySelectorAll('.card'),n=0;\n"
    "for(var i=0;i<c.length;i++){var d=c[i].dataset,h=(o&&d.o!=o)||(p&&d.p!=p)||(m&&d.m!=m);"
    "c[i].classList.toggle('hid',!!h);if(!h)n++}\n"
    "document.getElementById('shown').textContent=n;\n"
    "history.replaceState(null,'','#op='+encodeURIComponent(o)+'&pass='+encodeURIComponent(p)+'&machine='+encodeURIComponent(m))}\n"
    "/* hover: the column under the pointer, from the svg's data-c and the run table R */\n"
    "var MN=['median time','speed vs oneDNN','speed vs scalar','GFLOP/s','samples/s'];\n"
    "function fv(k,v){if(v==='')return '-';v=+v;if(k==1||k==2)return v.toPrecision(3)+'x';if(k)return v.toPrecision(4);"
    "var u=[[1e9,' s'],[1e6,' ms'],[1e3,' us'],[1,' ns']];for(var i=0;i<3&&v<u[i][0];i++);return (v/u[i][0]).toPrecision(4)+u[i][1]}\n"
    "document.addEventListener('mousemove',function(e){var t=document.getElementById('tip'),g=e.target.closest&&e.target.closest('svg.series');"
    "if(!g){t.style.display='none';return}var r=g.getBoundingClientRect(),c=g.dataset.c.split(';'),"
    "i=Math.floor(((e.clientX-r.left)*SVGW/r.width-PL)/PW*c.length);if(i<0||i>=c.length){t.style.display='none';return}\n"
    "var a=c[i].split(','),k=g.dataset.k.split(','),x=R[a[0]],y=R[a[1]],s=a[2]==1?x[0]+'  commit '+x[1]+'\\nprofile '+P[x[2]]:"
    "a[2]+' runs (medians): '+x[0]+' .. '+y[0]+'\\ncommits '+x[1]+' .. '+y[1]+'\\nprofile '+P[x[2]]+(x[2]==y[2]?'':' .. '+P[y[2]]);\n"
    "for(var j=0;j<k.length;j++)s+='\\n'+MN[k[j]]+': '+fv(+k[j],a[3+j]);t.textContent=s;t.style.display='block';"
    "t.style.left=Math.min(e.clientX+14,innerWidth-t.offsetWidth-4)+'px';t.style.top=(e.clientY+14)+'px'})\n"
    "/* the filters from the address (#op=conv2d&pass=fwd&machine=M), so that a filtered view can be linked */\n"
    "window.addEventListener('DOMContentLoaded',function(){var q=new URLSearchParams(location.hash.slice(1)),"
    "f={op:'fo',pass:'fp',machine:'fm'};for(var k in f){var v=q.get(k);if(v)document.getElementById(f[k]).value=v}"
    "if(location.hash)flt()});\n"
    "</script></head><body>\n";

/* s as a JS string literal's content inside a <script> (no quote, backslash or '<' left raw). */
static void js_str(FILE *f, const char *s) {
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || *s == '<' || (unsigned char)*s < 0x20) fprintf(f, "\\u%04x", (unsigned char)*s);
        else fputc(*s, f);
}

/* The run table R (date, commit, profile index per run, in date order), the profiles P (an unknown
 * one shown as "unknown") and the geometry the hover script needs. */
static void run_table(FILE *f, const dash_data *d) {
    fprintf(f, "<script>var SVGW=%d,PL=%d,PW=%d,P=[", SVG_W, PLOT_L, PLOT_W);
    for (int i = 0; i < d->n_profiles; i++)
        fputs(i ? ",\"" : "\"", f), js_str(f, d->profiles[i][0] ? d->profiles[i] : "unknown"), fputc('"', f);
    fputs("],R=[", f);
    for (long i = 0; i < d->n_runs; i++) {
        fputs(i ? ",[\"" : "[\"", f), js_str(f, d->runs[i].date);
        fputs("\",\"", f), js_str(f, d->runs[i].commit), fprintf(f, "\",%d]", d->runs[i].profile);
    }
    fputs("];</script>\n", f);
}

bool dash_write_html(FILE *f, const dash_data *d, const hist_dash_opts *o) {
    fputs(page_head, f);
    int cps = 0;
    for (int i = 0; i < d->n_series; i++) cps += d->series[i].n_cps;
    fputs("<h1>latbench dashboard</h1>\n<p>", f);
    fprintf(f, "%d series, %ld runs", d->n_series, d->n_runs);
    if (d->n_runs) fputs(" from ", f), esc(f, d->runs[0].date), fputs(" to ", f), esc(f, d->runs[d->n_runs - 1].date);
    int alarms = 0;
    const hist_changes_opts ho = {HIST_CHANGES_DEFAULTS};
    for (int i = 0; i < d->n_series; i++) alarms += d->series[i].regression;
    fprintf(f, ", %d change points and %d regression alarms as <code>latbench history</code> reports them (its method"
               " on its runs: the newest %d of a series since its newest change of tuning profile; red: the step, after /"
               " before - 1; grey dotted: a known break, the tuning profile changed). Hover a chart for its"
               " commit, date, profile and values; a series of more than %d runs is drawn in %d columns (line: the median of"
               " a column's runs, band: their range), its change points at their exact runs.</p>\n",
            cps, alarms, ho.window, o->points, o->points);
    fputs("<div class=\"bar\">", f);
    filter_select(f, d, "fo", "op", 0);
    filter_select(f, d, "fp", "pass", 1);
    filter_select(f, d, "fm", "machine", 2);
    fprintf(f, "<span><b id=\"shown\">%d</b> of %d series shown</span></div>\n", d->n_series, d->n_series);
    for (int i = 0; i < d->n_series; i++)
        if (!card(f, d, &d->series[i], o)) return false;
    run_table(f, d);
    fputs("<div id=\"tip\"></div></body></html>\n", f);
    return !ferror(f);
}
