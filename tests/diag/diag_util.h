/* tests/diag/diag_util.h: stderr capture and polling for the diag suites.
 *
 * Reports go to stderr: a test points fd 2 at a temporary file (capture_begin),
 * provokes the report, and reads the file back (capture_text). Waiting for a
 * report that another thread prints (the deadlock watchdog) polls the file
 * for up to POLL_LIMIT seconds, never a fixed sleep.
 */
#ifndef WEFT_TESTS_DIAG_UTIL_H
#define WEFT_TESTS_DIAG_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define POLL_LIMIT 30.0

static int capture_fd = -1;
static int saved_stderr = -1;

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void capture_begin(void)
{
    char path[] = "/tmp/weft-diag-XXXXXX";
    capture_fd = mkstemp(path);
    cr_assert(capture_fd >= 0);
    unlink(path);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    cr_assert(dup2(capture_fd, STDERR_FILENO) >= 0);
    setvbuf(stderr, NULL, _IONBF, 0);
}

/* Everything written to stderr since capture_begin (malloc'd). */
static inline char *capture_text(void)
{
    fflush(stderr);
    off_t end = lseek(capture_fd, 0, SEEK_END);
    char *buf = malloc((size_t)end + 1);
    cr_assert(buf != NULL);
    ssize_t n = pread(capture_fd, buf, (size_t)end, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Restore stderr and echo what was captured (so the test log shows it). */
static inline void capture_end(void)
{
    char *s = capture_text();
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    fputs(s, stderr);
    free(s);
}

/* Poll the capture until it contains needle; the text, or NULL on timeout. */
static inline char *capture_wait_for(const char *needle)
{
    double until = now_s() + POLL_LIMIT;
    do {
        char *s = capture_text();
        if (strstr(s, needle) != NULL)
            return s;
        free(s);
        nap_ms(20);
    } while (now_s() < until);
    return NULL;
}

/* Count the occurrences of needle in s. */
static inline int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The line of s that contains needle (static buffer), or "". */
static inline const char *line_with(const char *s, const char *needle)
{
    static char line[1024];
    const char *p = strstr(s, needle);
    line[0] = '\0';
    if (p == NULL)
        return line;
    while (p > s && p[-1] != '\n')
        p--;
    size_t n = strcspn(p, "\n");
    if (n >= sizeof line)
        n = sizeof line - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    return line;
}

static inline weft_thread *start_thread(int (*fn)(void *), void *arg, const char *name, bool daemon)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.name = name;
    a.daemon = daemon;
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, fn, arg, &a), 0);
    cr_assert_eq(weft_thread_start(t), 0);
    return t;
}

#endif /* WEFT_TESTS_DIAG_UTIL_H */
