/* cli_mpi.c — `scan --mpi` across the ranks of an MPI job (Open MPI), built into the
 * headscan-mpi executable (HS_WITH_MPI); the plain headscan executable has the stubs.
 *
 * Every rank scans its shard (rank r of N: the r-th of N contiguous runs of batches) into
 * OUT/.mpi-part-r with the library's resumable streaming scan, sending its forward
 * progress to rank 0 (tag PROG: rows done, rows, rows/s) which shows the total and the
 * slowest rank. When every rank is done (a non-blocking allreduce of the ranks' status,
 * while rank 0 keeps showing progress), ranks 1..N-1 send their partial result's files to
 * rank 0 (tag FILE: name and size, then 4 MB chunks), which writes them to OUT/.mpi-recv-r
 * and merges all shards into OUT exactly as `headscan merge` does. Each rank sends its
 * rows' per-token arrays: (3·L·H·4 + 4 + 8 + 1)·(T−1) + 8·T bytes per row. */
#define _GNU_SOURCE
#include "cli.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_remove_files_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) cli_remove_files_dir(p);
        else unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

bool cli_mpi_part_done(const char *part_dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/shard.json", part_dir);
    return access(p, F_OK) == 0;
}

#ifndef HS_WITH_MPI
int cli_mpi_init(int *rank, int *size) {
    *rank = 0;
    *size = 1;
    fprintf(stderr, "headscan: error: --mpi needs the headscan-mpi executable (built beside headscan when CMake finds "
                    "Open MPI: apt-get install libopenmpi-dev openmpi-bin), run as `mpirun -np N headscan-mpi scan ... --mpi`\n");
    return 2;
}
void cli_mpi_report(int64_t done, int64_t total, double rate) { (void)done; (void)total; (void)rate; }
void cli_mpi_totals(int64_t *done, int64_t *total, double *rate, double *eta, int *slowest) {
    (void)done; (void)total; (void)rate; (void)eta; *slowest = 0;
}
int cli_mpi_gather(const char *out, const char *part_dir, hs_status s, bool interrupted, bool no_arrays, hs_scan_result **res) {
    (void)out; (void)part_dir; (void)s; (void)interrupted; (void)no_arrays; (void)res;
    return 1;
}
#else
#include <mpi.h>
#include <time.h>

enum { TAG_PROG = 11, TAG_FILES = 12, TAG_FILE = 13, TAG_DATA = 14, CHUNK = 4 << 20 };
typedef struct prog { double done, total, rate, sent; } prog;

static int g_rank, g_size;
static prog *g_all;              /* rank 0: the latest report of every rank */
static long long *g_recv;        /* rank 0: progress messages received per rank */
static prog g_mine;
static MPI_Request g_req = MPI_REQUEST_NULL;
static long long g_sent;

static void finalize(void) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
    free(g_all);
    free(g_recv);
}

int cli_mpi_init(int *rank, int *size) {
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "headscan: error: MPI_Init failed\n");
        return 1;
    }
    atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_all = calloc((size_t)g_size, sizeof *g_all);
    g_recv = calloc((size_t)g_size, sizeof *g_recv);
    *rank = g_rank;
    *size = g_size;
    return 0;
}

static void drain(void) {
    int flag = 1;
    while (flag) {
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) break;
        prog p;
        MPI_Recv(&p, 4, MPI_DOUBLE, st.MPI_SOURCE, TAG_PROG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        g_all[st.MPI_SOURCE] = p;
        g_recv[st.MPI_SOURCE]++;
    }
}

void cli_mpi_report(int64_t done, int64_t total, double rate) {
    g_mine = (prog){(double)done, (double)total, rate, 0};
    if (g_rank == 0) { g_all[0] = g_mine; drain(); return; }
    int ready = 1;
    if (g_req != MPI_REQUEST_NULL) MPI_Test(&g_req, &ready, MPI_STATUS_IGNORE);
    if (!ready) return;   /* rank 0 is behind: skip this report rather than wait */
    static prog buf;
    buf = g_mine;
    MPI_Isend(&buf, 4, MPI_DOUBLE, 0, TAG_PROG, MPI_COMM_WORLD, &g_req);
    g_sent++;
}

void cli_mpi_totals(int64_t *done, int64_t *total, double *rate, double *eta, int *slowest) {
    double d = 0, t = 0, r = 0, worst = -1;
    int k = 0;
    for (int i = 0; i < g_size; i++) {
        d += g_all[i].done;
        t += g_all[i].total;
        r += g_all[i].rate;
        double e = g_all[i].done >= g_all[i].total && g_all[i].total > 0 ? 0
                 : g_all[i].rate > 0 ? (g_all[i].total - g_all[i].done) / g_all[i].rate : 1e30;
        if (e > worst) { worst = e; k = i; }
    }
    *done = (int64_t)d;
    *total = (int64_t)t;
    *rate = r;
    *eta = worst >= 1e30 ? 0 : worst;
    *slowest = k;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ranks 1..: the partial result's files to rank 0 */
static long long send_part(const char *dir) {
    DIR *d = opendir(dir);
    char names[64][256];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.') snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    if (d) closedir(d);
    long long head[2] = {n, g_sent}, bytes = 0;
    MPI_Send(head, 2, MPI_LONG_LONG, 0, TAG_FILES, MPI_COMM_WORLD);
    char *buf = malloc(CHUNK);
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        FILE *f = asprintf(&p, "%s/%s", dir, names[i]) >= 0 ? fopen(p, "rb") : NULL;
        free(p);
        struct stat st;
        long long size = f && fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
        MPI_Send(names[i], 256, MPI_CHAR, 0, TAG_FILE, MPI_COMM_WORLD);
        MPI_Send(&size, 1, MPI_LONG_LONG, 0, TAG_FILE, MPI_COMM_WORLD);
        for (long long left = size; left > 0;) {
            int c = left < CHUNK ? (int)left : CHUNK;
            if (fread(buf, 1, (size_t)c, f) != (size_t)c) memset(buf, 0, (size_t)c);   /* rank 0's merge checks the contents' shapes */
            MPI_Send(buf, c, MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD);
            left -= c;
            bytes += c;
        }
        if (f) fclose(f);
    }
    free(buf);
    return bytes;
}

/* rank 0: rank r's files into dir; returns the bytes, −1 on a local write failure */
static long long recv_part(int r, const char *dir) {
    long long head[2];
    MPI_Recv(head, 2, MPI_LONG_LONG, r, TAG_FILES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    while (g_recv[r] < head[1]) {   /* the progress reports it sent before: received in order */
        MPI_Recv(&g_all[r], 4, MPI_DOUBLE, r, TAG_PROG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        g_recv[r]++;
    }
    cli_remove_files_dir(dir);
    bool ok = mkdir(dir, 0777) == 0;
    char *buf = malloc(CHUNK);
    long long bytes = 0;
    for (long long i = 0; i < head[0]; i++) {
        char name[256], *p = NULL;
        long long size;
        MPI_Recv(name, 256, MPI_CHAR, r, TAG_FILE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Recv(&size, 1, MPI_LONG_LONG, r, TAG_FILE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        name[255] = 0;
        FILE *f = ok && asprintf(&p, "%s/%s", dir, strchr(name, '/') ? "bad-name" : name) >= 0 ? fopen(p, "wb") : NULL;
        free(p);
        if (!f) ok = false;
        for (long long left = size; left > 0;) {
            int c = left < CHUNK ? (int)left : CHUNK;
            MPI_Recv(buf, c, MPI_BYTE, r, TAG_DATA, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (f && fwrite(buf, 1, (size_t)c, f) != (size_t)c) ok = false;
            left -= c;
            bytes += c;
        }
        if (f && fclose(f) != 0) ok = false;
    }
    free(buf);
    return ok ? bytes : -1;
}

int cli_mpi_gather(const char *out, const char *part_dir, hs_status s, bool interrupted, bool no_arrays, hs_scan_result **res) {
    if (s && s != HS_ERR_CANCELLED) cli_fail(s, "scan");
    if (g_req != MPI_REQUEST_NULL) MPI_Wait(&g_req, MPI_STATUS_IGNORE);
    int mine = s == HS_OK ? 0 : (s == HS_ERR_CANCELLED || interrupted) ? 1 : 2, worst = 0;
    MPI_Request rq;
    MPI_Iallreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &rq);
    double last = mono();
    for (int done = 0; !done;) {   /* rank 0 keeps showing the others' progress while waiting */
        MPI_Test(&rq, &done, MPI_STATUS_IGNORE);
        if (done) break;
        if (g_rank == 0) {
            drain();
            if (mono() - last >= 5.0) {
                int64_t d, t;
                double rate, eta;
                int slow;
                cli_mpi_totals(&d, &t, &rate, &eta, &slow);
                fprintf(stderr, "forward: %lld/%lld rows (all ranks), %.1f rows/s, ETA %.1fs, slowest rank %d\n", (long long)d,
                        (long long)t, rate, eta, slow);
                last = mono();
            }
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (worst) {
        if (g_rank == 0)
            fprintf(stderr, "headscan: %s: work already done is kept in %s/.mpi-part-*; the same mpirun command with "
                            "--resume continues it\n", worst == 1 ? "scan interrupted" : "a rank failed (its error is above)", out);
        return worst == 1 ? 130 : 1;
    }
    if (g_rank != 0) {
        long long bytes = send_part(part_dir);
        fprintf(stderr, "headscan: rank %d sent its partial result to rank 0: %lld bytes\n", g_rank, bytes);
        cli_remove_files_dir(part_dir);
        return 0;
    }
    /* rank 0: receive, then merge exactly as `headscan merge` */
    char **parts = calloc((size_t)g_size, sizeof *parts);
    int rc = 0;
    long long total = 0;
    double t0 = mono();
    parts[0] = strdup(part_dir);
    for (int r = 1; r < g_size; r++) {
        char d[4200];
        snprintf(d, sizeof d, "%s/.mpi-recv-%d", out, r);
        parts[r] = strdup(d);
        long long b = recv_part(r, d);
        if (b < 0) { fprintf(stderr, "headscan: error: cannot write rank %d's partial result into %s\n", r, d); rc = 1; }
        else total += b;
    }
    double t_recv = mono() - t0;
    if (!rc) {
        t0 = mono();
        hs_status ms = hs_scan_merge((const char *const *)parts, g_size, out, no_arrays, NULL, NULL, res);
        if (ms) rc = cli_fail(ms, "merging the ranks' results");
        else {
            fprintf(stderr, "headscan: %d ranks; rank 0 received %lld bytes in %.2fs and merged in %.2fs\n", g_size, total, t_recv,
                    mono() - t0);
            for (int r = 0; r < g_size; r++) cli_remove_files_dir(parts[r]);
        }
    }
    for (int r = 0; r < g_size; r++) free(parts[r]);
    free(parts);
    return rc;
}
#endif
