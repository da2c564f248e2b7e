/* examples/http_server.c: an epoll HTTP/1.1 keep-alive server that hands
 * each request to a thread pool and takes the response back through a
 * completion queue, the way an event-loop server embeds weft.
 *
 *     http_server [-a addr] [-p port] [-m stealing|mutex|pthread] [-w workers]
 *                 [-c rounds] [-q]
 *
 * The loop thread owns every socket: it accepts, reads and parses requests,
 * and writes responses; it never runs a handler. A handler renders a small
 * body, then hashes it `rounds` times with SHA-256 (the cost knob: about
 * 1 us per round on a current x86 core; the server prints its own
 * calibration at start), and renders the response. Modes:
 *   stealing  a weft pool (work-stealing scheduler); each request is
 *             weft_pool_submit + weft_future_notify to a weft_cq whose fd is
 *             in the loop's epoll set;
 *   mutex     the same on weft's mutex+condvar twin scheduler;
 *   pthread   no weft at all: a plain pthread mutex+condvar job queue and a
 *             mutex-protected done list with an eventfd written on each
 *             empty-to-non-empty transition (the classic design, for
 *             comparison).
 * One request per connection is in flight at a time (HTTP/1.1 without
 * pipelining, as wrk and browsers send). Port 0 picks a free port; the
 * first line on stdout is "listening on ADDR:PORT". SIGINT/SIGTERM stop
 * it; it then prints its counters (requests, eventfd writes per completion
 * and per loop wake-up for completions) on stdout and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

/* ---- SHA-256 (FIPS 180-4), small and unoptimised on purpose ---------------- */

typedef struct sha256 {
    uint32_t h[8];
    uint8_t buf[64];
    size_t len; /* bytes in buf */
    uint64_t total;
} sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6],
             h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

static void sha256_init(sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->total = 0;
}

static void sha256_update(sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->total += n;
    while (n > 0) {
        size_t take = 64 - s->len < n ? 64 - s->len : n;
        memcpy(s->buf + s->len, p, take);
        s->len += take;
        p += take;
        n -= take;
        if (s->len == 64) {
            sha256_block(s, s->buf);
            s->len = 0;
        }
    }
}

static void sha256_final(sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->total * 8;
    uint8_t pad = 0x80;
    sha256_update(s, &pad, 1);
    pad = 0;
    while (s->len != 56)
        sha256_update(s, &pad, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* ---- requests and the handler ------------------------------------------------ */

enum { IN_MAX = 8192, PATH_MAX_LEN = 256, RESP_MAX = 2048 };

struct conn;

typedef struct job {
    struct conn *c;
    struct job *next; /* the pthread pool's queues */
    unsigned rounds;
    bool keep_alive;
    char path[PATH_MAX_LEN];
    size_t resp_len;
    char resp[RESP_MAX];
} job;

/* Renders a body naming the path, chains `rounds` SHA-256 over it (each
 * round hashes the body and the previous digest), and renders the response
 * with the final digest. */
static int handle(void *arg, void **result)
{
    job *j = arg;
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "<!doctype html><title>weft</title><p>You asked for <code>%s</code>; "
                     "%u rounds of SHA-256 say:</p>\n",
                     j->path, j->rounds);
    size_t blen = (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
    uint8_t digest[32] = {0};
    for (unsigned r = 0; r < j->rounds; r++) {
        sha256 s;
        sha256_init(&s);
        sha256_update(&s, body, blen);
        sha256_update(&s, digest, sizeof digest);
        sha256_final(&s, digest);
    }
    static const char xd[] = "0123456789abcdef";
    char hex[65];
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = xd[digest[i] >> 4];
        hex[2 * i + 1] = xd[digest[i] & 15];
    }
    hex[64] = '\0';
    n = snprintf(body + blen, sizeof body - blen, "sha256^%u: %s\n", j->rounds, hex);
    blen += (size_t)n < sizeof body - blen ? (size_t)n : sizeof body - blen - 1;
    int len = snprintf(j->resp, sizeof j->resp,
                       "HTTP/1.1 200 OK\r\nServer: weft-example\r\nContent-Type: text/html\r\n"
                       "Content-Length: %zu\r\n%s\r\n%.*s",
                       blen, j->keep_alive ? "" : "Connection: close\r\n", (int)blen, body);
    j->resp_len = (size_t)len < sizeof j->resp ? (size_t)len : sizeof j->resp - 1;
    *result = j;
    return 0;
}

/* ---- the pthread comparison pool ------------------------------------------------ */

typedef struct ppool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    bool stop;
    pthread_mutex_t done_mu;
    job *done; /* LIFO; the loop takes it whole */
    int efd;
    uint64_t signals;
    size_t nthreads;
    pthread_t *threads;
} ppool;

static void *ppool_main(void *arg)
{
    ppool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        job *j = p->head;
        if (j == NULL) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        void *r;
        handle(j, &r);
        pthread_mutex_lock(&p->done_mu);
        bool was_empty = p->done == NULL;
        j->next = p->done;
        p->done = j;
        if (was_empty)
            p->signals++;
        pthread_mutex_unlock(&p->done_mu);
        if (was_empty) {
            uint64_t one = 1;
            (void)!write(p->efd, &one, sizeof one);
        }
    }
}

static int ppool_create(ppool *p, size_t n)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->threads = calloc(n, sizeof *p->threads);
    if (p->efd < 0 || p->threads == NULL)
        return ENOMEM;
    for (; p->nthreads < n; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, ppool_main, p) != 0)
            return EAGAIN;
    return 0;
}

static void ppool_submit(ppool *p, job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_mutex_unlock(&p->mu);
    pthread_cond_signal(&p->cv);
}

/* The loop's side: reset the fd first, then take the list (the same
 * no-stranding order as weft_cq_pop). */
static job *ppool_take_done(ppool *p)
{
    uint64_t v;
    (void)!read(p->efd, &v, sizeof v);
    pthread_mutex_lock(&p->done_mu);
    job *d = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->done_mu);
    return d;
}

static void ppool_destroy(ppool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    close(p->efd);
}

/* ---- connections and the loop --------------------------------------------------- */

typedef enum mode { MODE_STEALING, MODE_MUTEX, MODE_PTHREAD } mode;

typedef struct conn {
    int fd;
    bool busy;      /* a job is in flight */
    bool dead;      /* closed while busy: freed when the job comes back */
    bool close_after;
    bool read_blocked; /* stopped reading with the buffer full */
    size_t in_len;
    size_t out_off; /* bytes of job->resp written */
    job *out;       /* the response being written, or NULL */
    job *spare;     /* the connection's job record, reused */
    struct conn *prev, *next; /* every live connection */
    struct conn *gnext;       /* the graveyard */
    char in[IN_MAX];
} conn;

typedef struct server {
    mode m;
    unsigned rounds;
    int ep, lfd, sfd;
    weft_pool *pool;
    weft_cq *cq;
    ppool pp;
    conn *conns;
    /* Connections closed during the current epoll batch, freed after it, so
     * that every pointer in the batch stays valid. */
    conn *graveyard;
    uint64_t requests, bad, completions;
    uint64_t wakeups; /* epoll_wait returns that found the completion fd readable */
} server;

static void conn_free(server *sv, conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        sv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c->spare);
    free(c);
}

static void conn_close(server *sv, conn *c)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    if (c->busy) {
        c->dead = true; /* freed when its job comes back */
        return;
    }
    c->gnext = sv->graveyard;
    sv->graveyard = c;
}

static void bury(server *sv)
{
    while (sv->graveyard != NULL) {
        conn *c = sv->graveyard;
        sv->graveyard = c->gnext;
        conn_free(sv, c);
    }
}

static bool header_has(const char *hdrs, size_t len, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    for (const char *p = hdrs, *end = hdrs + len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            if ((size_t)(eol - v) >= vl && strncasecmp(v, value, vl) == 0)
                return true;
        }
        p = eol + 1;
    }
    return false;
}

static long header_long(const char *hdrs, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = hdrs, *end = hdrs + len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            return strtol(p + nl + 1, NULL, 10);
        p = eol + 1;
    }
    return 0;
}

static void dispatch(server *sv, job *j)
{
    if (sv->m == MODE_PTHREAD) {
        ppool_submit(&sv->pp, j);
        return;
    }
    weft_future *f;
    int rc = weft_pool_submit(sv->pool, handle, j, &f);
    if (rc == 0)
        rc = weft_future_notify(f, sv->cq, j);
    if (rc != 0) {
        fprintf(stderr, "http_server: submit/notify: %s\n", strerror(rc));
        exit(1);
    }
    weft_future_release(f);
}

static void try_write(server *sv, conn *c);

/* Parses one complete request from c->in, if there is one, and dispatches
 * it. Returns false if the connection was closed (bad request). */
static bool maybe_start(server *sv, conn *c)
{
    if (c->busy || c->out != NULL || c->in_len == 0)
        return true;
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (end == NULL) {
        if (c->in_len == IN_MAX) {
            sv->bad++;
            conn_close(sv, c);
            return false;
        }
        return true;
    }
    size_t hlen = (size_t)(end - c->in) + 4;
    char *sp1 = memchr(c->in, ' ', hlen), *sp2 = sp1 ? memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 - c->in)) : NULL;
    char *eol = memchr(c->in, '\r', hlen);
    long clen = header_long(c->in, hlen, "Content-Length");
    if (sp1 == NULL || sp2 == NULL || sp2 > eol || clen < 0 || (size_t)clen > IN_MAX - hlen) {
        sv->bad++;
        conn_close(sv, c);
        return false;
    }
    if (c->in_len < hlen + (size_t)clen)
        return true; /* the body is still coming */
    job *j = c->spare;
    j->c = c;
    j->rounds = sv->rounds;
    size_t plen = (size_t)(sp2 - sp1 - 1);
    if (plen >= sizeof j->path)
        plen = sizeof j->path - 1;
    memcpy(j->path, sp1 + 1, plen);
    j->path[plen] = '\0';
    bool http10 = (size_t)(eol - sp2 - 1) >= 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    j->keep_alive = http10 ? header_has(c->in, hlen, "Connection", "keep-alive")
                           : !header_has(c->in, hlen, "Connection", "close");
    c->close_after = !j->keep_alive;
    size_t used = hlen + (size_t)clen;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    c->busy = true;
    dispatch(sv, j);
    return true;
}

static void on_readable(server *sv, conn *c)
{
    c->read_blocked = false;
    for (;;) {
        if (c->in_len == IN_MAX) {
            c->read_blocked = true; /* resumed once a request is consumed */
            break;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, IN_MAX - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            conn_close(sv, c);
            return;
        }
        if (errno == EAGAIN)
            break;
    }
    (void)maybe_start(sv, c);
}

static void try_write(server *sv, conn *c)
{
    job *j = c->out;
    while (c->out_off < j->resp_len) {
        ssize_t n = write(c->fd, j->resp + c->out_off, j->resp_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* EPOLLOUT (edge-triggered) resumes */
        conn_close(sv, c);
        return;
    }
    c->out = NULL;
    c->out_off = 0;
    sv->requests++;
    if (c->close_after) {
        conn_close(sv, c);
        return;
    }
    /* A request may already wait in the buffer (or more bytes in the
     * socket, if the buffer filled up). */
    if (c->read_blocked)
        on_readable(sv, c);
    else
        (void)maybe_start(sv, c);
}

static void on_done(server *sv, job *j)
{
    conn *c = j->c;
    c->busy = false;
    sv->completions++;
    if (c->dead) {
        c->gnext = sv->graveyard;
        sv->graveyard = c;
        return;
    }
    c->out = j;
    c->out_off = 0;
    try_write(sv, c);
}

static void drain_completions(server *sv)
{
    if (sv->m == MODE_PTHREAD) {
        job *d = ppool_take_done(&sv->pp), *rev = NULL;
        while (d != NULL) { /* oldest first */
            job *next = d->next;
            d->next = rev;
            rev = d;
            d = next;
        }
        while (rev != NULL) {
            job *next = rev->next;
            on_done(sv, rev);
            rev = next;
        }
        return;
    }
    weft_future *f;
    void *tag;
    while (weft_cq_pop(sv->cq, &f, &tag) == 0) {
        int rc = weft_future_result(f, 0, NULL);
        weft_future_release(f);
        if (rc != 0) {
            fprintf(stderr, "http_server: handler: %s\n", strerror(rc));
            exit(1);
        }
        on_done(sv, tag);
    }
}

static void on_accept(server *sv)
{
    for (;;) {
        int fd = accept4(sv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of fds: try again on the next event */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        job *j = c != NULL ? malloc(sizeof *j) : NULL;
        if (j == NULL) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->spare = j;
        c->next = sv->conns;
        if (c->next != NULL)
            c->next->prev = c;
        sv->conns = c;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(sv->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            conn_close(sv, c);
            continue;
        }
    }
}

/* The tags that tell the loop's own fds from connections in epoll data. */
static char tag_listen, tag_cq, tag_signal;

static void run(server *sv)
{
    struct epoll_event evs[128];
    for (;;) {
        int n = epoll_wait(sv->ep, evs, 128, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            void *d = evs[i].data.ptr;
            if (d == &tag_signal)
                return;
            if (d == &tag_listen) {
                on_accept(sv);
                continue;
            }
            if (d == &tag_cq) {
                sv->wakeups++;
                drain_completions(sv);
                continue;
            }
            conn *c = d;
            if (c->fd >= 0 && (evs[i].events & EPOLLOUT) && c->out != NULL)
                try_write(sv, c); /* resume a partial write */
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                on_readable(sv, c);
        }
        bury(sv);
    }
}

static double calibrate_us(unsigned rounds)
{
    job *j = calloc(1, sizeof *j);
    snprintf(j->path, sizeof j->path, "/calibrate");
    j->rounds = rounds;
    j->keep_alive = true;
    void *r;
    struct timespec a, b;
    int reps = 2000;
    for (int i = 0; i < 100; i++) /* warm up */
        handle(j, &r);
    /* CPU time, not wall time: on a loaded machine the latter counts other
     * processes' slices too. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (int i = 0; i < reps; i++)
        handle(j, &r);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    free(j);
    return ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / reps;
}

static void usage(void)
{
    fprintf(stderr, "usage: http_server [-a addr] [-p port] [-m stealing|mutex|pthread] [-w workers] "
                    "[-c rounds] [-q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    server sv;
    memset(&sv, 0, sizeof sv);
    sv.m = MODE_STEALING;
    sv.rounds = 2;
    const char *addr = "127.0.0.1";
    long port = 8080, workers = 0;
    bool quiet = false;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:m:w:c:q")) != -1) {
        switch (opt) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = strtol(optarg, NULL, 10);
            break;
        case 'm':
            if (strcmp(optarg, "stealing") == 0)
                sv.m = MODE_STEALING;
            else if (strcmp(optarg, "mutex") == 0)
                sv.m = MODE_MUTEX;
            else if (strcmp(optarg, "pthread") == 0)
                sv.m = MODE_PTHREAD;
            else
                usage();
            break;
        case 'w':
            workers = strtol(optarg, NULL, 10);
            break;
        case 'c':
            sv.rounds = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'q':
            quiet = true;
            break;
        default:
            usage();
        }
    }
    if (port < 0 || port > 65535 || workers < 0 || workers > 1024 || optind != argc)
        usage();
    if (workers == 0)
        workers = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread starts: all inherit it */
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        usage();
    sv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(sv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sv.lfd < 0 || bind(sv.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(sv.lfd, 1024) != 0) {
        perror("http_server: listen");
        return 1;
    }
    socklen_t slen = sizeof sa;
    getsockname(sv.lfd, (struct sockaddr *)&sa, &slen);

    int rc;
    if (sv.m == MODE_PTHREAD) {
        rc = ppool_create(&sv.pp, (size_t)workers);
    } else {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = (size_t)workers;
        o.scheduler = sv.m == MODE_MUTEX ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
        o.thread_name_prefix = "http";
        rc = weft_pool_create(&sv.pool, &o);
        if (rc == 0)
            rc = weft_cq_create(&sv.cq);
    }
    if (rc != 0) {
        fprintf(stderr, "http_server: pool: %s\n", strerror(rc));
        return 1;
    }
    sv.ep = epoll_create1(EPOLL_CLOEXEC);
    sv.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    epoll_ctl(sv.ep, EPOLL_CTL_ADD, sv.lfd, &ev);
    ev.data.ptr = &tag_cq;
    epoll_ctl(sv.ep, EPOLL_CTL_ADD, sv.m == MODE_PTHREAD ? sv.pp.efd : weft_cq_fd(sv.cq), &ev);
    ev.data.ptr = &tag_signal;
    epoll_ctl(sv.ep, EPOLL_CTL_ADD, sv.sfd, &ev);

    printf("listening on %s:%u\n", addr, (unsigned)ntohs(sa.sin_port));
    if (!quiet)
        printf("mode %s, %ld workers, %u SHA-256 rounds per request (%.1f us of handler CPU time here)\n",
               sv.m == MODE_STEALING ? "stealing" : sv.m == MODE_MUTEX ? "mutex" : "pthread", workers, sv.rounds,
               calibrate_us(sv.rounds));
    fflush(stdout);

    run(&sv);

    /* Stop: let the pool finish what it has, collect it, free everything. */
    uint64_t completions, signals;
    if (sv.m == MODE_PTHREAD) {
        ppool_destroy(&sv.pp);
        completions = sv.completions;
        signals = sv.pp.signals;
        for (job *d = ppool_take_done(&sv.pp); d != NULL; d = d->next)
            d->c->busy = false;
    } else {
        weft_pool_destroy(sv.pool);
        weft_future *f;
        void *tag;
        while (weft_cq_pop(sv.cq, &f, &tag) == 0) {
            weft_future_release(f);
            ((job *)tag)->c->busy = false;
        }
        weft_cq_counters c;
        weft_cq_stats(sv.cq, &c);
        completions = c.popped;
        signals = c.signals;
        weft_cq_destroy(sv.cq);
    }
    bury(&sv);
    while (sv.conns != NULL) {
        conn *c = sv.conns;
        if (c->fd >= 0)
            close(c->fd);
        conn_free(&sv, c);
    }
    close(sv.ep);
    close(sv.sfd);
    close(sv.lfd);
    printf("requests %llu, bad %llu, completions %llu, eventfd writes %llu (%.3f per completion), "
           "completion wake-ups %llu (%.3f writes per wake-up)\n",
           (unsigned long long)sv.requests, (unsigned long long)sv.bad, (unsigned long long)completions,
           (unsigned long long)signals, completions ? (double)signals / (double)completions : 0.0,
           (unsigned long long)sv.wakeups, sv.wakeups ? (double)signals / (double)sv.wakeups : 0.0);
    return 0;
}
