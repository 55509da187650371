/* cli_progress.c — renders hub download progress on stderr: a redrawn bar with size,
 * speed and ETA on a terminal, a plain line every couple of seconds otherwise. Also
 * the hub options every command that takes --model/--dataset shares, and model-name
 * resolution through them. Builds on cli_util.c (cli_fail, cli_stderr_tty), never the
 * other way round. */
#include "cli.h"
#include <string.h>
#include <time.h>

void cli_human_size(double b, char *out, size_t cap) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) { b /= 1000; i++; }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

bool cli_hub_progress(const hs_hub_progress *p, void *user) {
    (void)user;
    static double last_plain;
    bool tty = cli_stderr_tty();
    char done[32], total[32], rate[32], eta[32] = "";
    cli_human_size((double)p->done, done, sizeof done);
    cli_human_size((double)(p->total > 0 ? p->total : 0), total, sizeof total);
    cli_human_size(p->bytes_per_sec, rate, sizeof rate);
    if (p->total > 0 && p->bytes_per_sec > 0 && !p->finished) {
        double s = (double)(p->total - p->done) / p->bytes_per_sec;
        if (s < 0) s = 0;
        snprintf(eta, sizeof eta, "  ETA %d:%02d", (int)s / 60, (int)s % 60);
    }
    double pct = p->total > 0 ? 100.0 * (double)p->done / (double)p->total : 0;
    if (tty) {
        char bar[31];
        int fill = p->total > 0 ? (int)(pct * 30 / 100) : 0;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%-32.32s [%s] %3.0f%%  %s / %s  %s/s%s\033[K", p->filename, bar, pct, done,
                p->total > 0 ? total : "?", rate, eta);
        if (p->finished) fputc('\n', stderr);
    } else {
        double t = mono();
        if (p->finished || (p->elapsed >= 1.0 && t - last_plain >= 1.0)) {
            last_plain = t;
            if (p->finished)
                fprintf(stderr, "headscan: downloaded %s (%s in %.1f s, %s/s)\n", p->filename, done, p->elapsed, rate);
            else
                fprintf(stderr, "headscan: downloading %s: %s / %s (%.0f%%), %s/s%s\n", p->filename, done,
                        p->total > 0 ? total : "?", pct, rate, eta);
        }
    }
    fflush(stderr);
    return true;
}

static void log_warn(hs_log_level level, const char *msg, void *user) {
    (void)user;
    if (level >= HS_LOG_WARN) fprintf(stderr, "headscan: warning: %s\n", msg);
}

hs_hub_params cli_hub_params(const char *revision, bool offline, const char *cache_dir) {
    hs_hub_params hp = hs_hub_default_params();
    if (revision) hp.revision = revision;
    if (offline) hp.offline = true;
    if (cache_dir) hp.cache_dir = cache_dir;
    hp.progress = cli_hub_progress;
    hs_set_log_callback(log_warn, NULL);
    return hp;
}

int cli_resolve_model(const char *name, const char *revision, bool offline, char **dir) {
    hs_hub_params hp = cli_hub_params(revision, offline, NULL);
    hs_status s = hs_hub_resolve_model(name, &hp, dir);
    return s ? cli_fail(s, name) : 0;
}
