/* diag/out.c: the diagnostics' output: a small buffered writer that formats
 * numbers itself (no stdio, no malloc) so that the signal handler can use it,
 * the common labels for threads and objects, and call-site symbolisation.
 *
 * Call sites are return addresses. They are printed as `function+0xoff`
 * (dladdr: exported symbols only) and, when weft was built with elfutils
 * (libdw), from the symbol table and the DWARF line table: `function+0xoff
 * (file.c:42)`, for static functions too. The module and offset always follow
 * (`[prog+0x1234]`), which `addr2line -e prog 0x1233` resolves by hand.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag_impl.h"

#ifdef WEFT_HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#endif

void weft__out_flush(weft__out *o)
{
    if (o->n == 0)
        return;
    if (o->file != NULL) {
        fwrite(o->buf, 1, o->n, (FILE *)o->file);
    } else {
        size_t off = 0;
        while (off < o->n) {
            ssize_t w = write(o->fd, o->buf + off, o->n - off);
            if (w <= 0) {
                if (w < 0 && errno == EINTR)
                    continue;
                break;
            }
            off += (size_t)w;
        }
    }
    o->n = 0;
}

void weft__out_char(weft__out *o, char c)
{
    if (o->n == sizeof o->buf)
        weft__out_flush(o);
    o->buf[o->n++] = c;
}

void weft__out_str(weft__out *o, const char *s)
{
    if (s == NULL)
        s = "(null)";
    while (*s != '\0')
        weft__out_char(o, *s++);
}

void weft__out_u64(weft__out *o, uint64_t v)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        weft__out_char(o, d[--n]);
}

void weft__out_i64(weft__out *o, int64_t v)
{
    if (v < 0) {
        weft__out_char(o, '-');
        weft__out_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        weft__out_u64(o, (uint64_t)v);
    }
}

void weft__out_hex(weft__out *o, uintptr_t v)
{
    char d[2 * sizeof v];
    int n = 0;
    do {
        d[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    weft__out_str(o, "0x");
    while (n > 0)
        weft__out_char(o, d[--n]);
}

void weft__out_secs(weft__out *o, uint64_t ns)
{
    uint64_t ms = (ns + 500000) / 1000000;
    weft__out_u64(o, ms / 1000);
    weft__out_char(o, '.');
    weft__out_char(o, (char)('0' + ms / 100 % 10));
    weft__out_char(o, (char)('0' + ms / 10 % 10));
    weft__out_char(o, (char)('0' + ms % 10));
}

void weft__out_quoted(weft__out *o, const char *s)
{
    weft__out_char(o, '"');
    weft__out_str(o, s);
    weft__out_char(o, '"');
}

/* ---- labels ------------------------------------------------------------- */

const char *weft__obj_kind_name(weft__obj_kind k)
{
    switch (k) {
    case WEFT__OBJ_LOCK:
        return "lock";
    case WEFT__OBJ_RLOCK:
        return "rlock";
    case WEFT__OBJ_COND:
        return "condition";
    case WEFT__OBJ_SEM:
        return "semaphore";
    case WEFT__OBJ_EVENT:
        return "event";
    case WEFT__OBJ_BARRIER:
        return "barrier";
    case WEFT__OBJ_THREAD:
        return "thread";
    case WEFT__OBJ_QUEUE:
        return "queue";
    case WEFT__OBJ_FUTURE:
        return "future";
    case WEFT__OBJ_POOL:
        return "pool";
    case WEFT__OBJ_GROUP:
        return "group";
    case WEFT__OBJ_NONE:
        break;
    }
    return "object";
}

void weft__out_object(weft__out *o, const void *obj, weft__obj_kind kind)
{
    weft__out_str(o, weft__obj_kind_name(kind));
    weft__out_char(o, ' ');
    weft__out_hex(o, (uintptr_t)obj);
    const char *name = weft__diag_name_of(obj);
    if (kind == WEFT__OBJ_THREAD && name == NULL) {
        /* A join: name the joined thread by its record. */
        weft__diag_rec *r = weft__diag_find_owner(obj);
        char buf[40];
        if (r != NULL && weft__diag_rec_name(r, buf, sizeof buf)) {
            weft__out_char(o, ' ');
            weft__out_quoted(o, buf);
        }
        return;
    }
    if (name != NULL) {
        weft__out_char(o, ' ');
        weft__out_quoted(o, name);
    }
}

void weft__out_thread(weft__out *o, const weft__diag_rec *r)
{
    char buf[40];
    int kind = atomic_load_explicit(&((weft__diag_rec *)r)->kind, memory_order_relaxed);
    if (weft__diag_rec_name(r, buf, sizeof buf))
        weft__out_quoted(o, buf);
    else
        weft__out_str(o, kind == WEFT__THR_UNKNOWN ? "(not a weft thread)" : "?");
    weft__out_str(o, " (ident ");
    weft__out_u64(o, atomic_load_explicit(&((weft__diag_rec *)r)->ident, memory_order_relaxed));
    weft__out_str(o, ", tid ");
    weft__out_i64(o, atomic_load_explicit(&((weft__diag_rec *)r)->tid, memory_order_relaxed));
    weft__out_char(o, ')');
}

/* ---- call sites --------------------------------------------------------- */

#ifdef WEFT_HAVE_LIBDW
static pthread_mutex_t dwfl_mu = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *dwfl;
static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cb = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* (Re)read the process's module list; NULL on failure. Under dwfl_mu. */
static Dwfl *dwfl_fresh(void)
{
    if (dwfl != NULL)
        dwfl_end(dwfl);
    dwfl = dwfl_begin(&dwfl_cb);
    if (dwfl == NULL)
        return NULL;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dwfl_end(dwfl);
        dwfl = NULL;
    }
    return dwfl;
}

/* The line table gives the innermost inlined code at addr, which for a call
 * through an inline weft function (the lock fast path) is that function's
 * line in weft/sync.h. The user wants the line of the outermost inlined call:
 * the DW_AT_call_file/line of the outermost DW_TAG_inlined_subroutine scope
 * around addr. NULL when addr is not inside inlined code. */
static const char *call_line(Dwfl_Module *m, Dwarf_Addr addr, int *lineno)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m, addr, &bias);
    if (cu == NULL)
        return NULL;
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, addr - bias, &scopes);
    const char *file = NULL;
    for (int i = n - 1; i >= 0 && file == NULL; i--) {
        if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
            continue;
        Dwarf_Attribute a;
        Dwarf_Word fidx = 0, line = 0;
        Dwarf_Files *files = NULL;
        size_t nfiles = 0;
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &fidx) != 0 ||
            dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &line) != 0 ||
            dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || fidx >= nfiles)
            break;
        file = dwarf_filesrc(files, fidx, NULL, NULL);
        *lineno = (int)line;
    }
    free(scopes);
    return file;
}

static bool site_dwfl(weft__out *o, uintptr_t site)
{
    bool done = false;
    pthread_mutex_lock(&dwfl_mu);
    Dwfl_Module *m = NULL;
    if (dwfl != NULL)
        m = dwfl_addrmodule(dwfl, site - 1);
    if (m == NULL && dwfl_fresh() != NULL) /* a module loaded since */
        m = dwfl_addrmodule(dwfl, site - 1);
    if (m != NULL) {
        GElf_Off off = 0;
        GElf_Sym sym;
        const char *fn = dwfl_module_addrinfo(m, site - 1, &off, &sym, NULL, NULL, NULL);
        if (fn != NULL) {
            weft__out_str(o, fn);
            weft__out_str(o, "+");
            weft__out_hex(o, off + 1);
            int lineno = 0;
            const char *file = call_line(m, site - 1, &lineno);
            if (file == NULL) {
                Dwfl_Line *line = dwfl_module_getsrc(m, site - 1);
                file = line != NULL ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
            }
            if (file != NULL) {
                const char *base = strrchr(file, '/');
                weft__out_str(o, " (");
                weft__out_str(o, base != NULL ? base + 1 : file);
                weft__out_char(o, ':');
                weft__out_i64(o, lineno);
                weft__out_char(o, ')');
            }
            done = true;
        }
    }
    pthread_mutex_unlock(&dwfl_mu);
    return done;
}
#endif

void weft__out_site(weft__out *o, uintptr_t site)
{
    if (site == 0) {
        weft__out_str(o, "(unknown)");
        return;
    }
    Dl_info info;
    bool have_dl = dladdr((void *)(site - 1), &info) != 0;
    bool named = false;
#ifdef WEFT_HAVE_LIBDW
    named = site_dwfl(o, site);
#endif
    if (!named && have_dl && info.dli_sname != NULL) {
        weft__out_str(o, info.dli_sname);
        weft__out_str(o, "+");
        weft__out_hex(o, site - (uintptr_t)info.dli_saddr);
        named = true;
    }
    if (!named)
        weft__out_hex(o, site);
    if (have_dl && info.dli_fname != NULL) {
        const char *base = strrchr(info.dli_fname, '/');
        weft__out_str(o, " [");
        weft__out_str(o, base != NULL ? base + 1 : info.dli_fname);
        weft__out_str(o, "+");
        weft__out_hex(o, site - (uintptr_t)info.dli_fbase);
        weft__out_char(o, ']');
    }
}
