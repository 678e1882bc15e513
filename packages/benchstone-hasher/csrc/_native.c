/*
 * benchstone.hasher._native: the hot loop of the corpus hasher.
 *
 * Walking a tree, reading files and feeding the hash all run here with the GIL
 * released, on as many threads as the caller asks for. Everything else (which
 * algorithm, which entries a corpus may hold, every error message) is policy and
 * lives in the Python package around this module. This file only reports facts:
 * files with their sizes and raw digests, entries that are not regular files, and
 * an OSError carrying the path whenever the operating system refused something.
 *
 * Hash functions: BLAKE3 and XXH3-128 come from their official C implementations
 * (vendored, unmodified, under vendor/); SHA-256 comes from a Python hash object
 * (hashlib's OpenSSL) whose update() we call with the GIL held and which releases
 * it again while it hashes.
 *
 * Two entry points:
 *   hash_tree(root, algo, digest_size, header, threads, bufsize, progress, interval_ns,
 *             want_files) -> (tree_digest, [(relpath, size, digest)], [(relpath, kind)], bytes)
 *   hash_file(path, algo, digest_size, threads, block, parallel_min, progress, interval_ns)
 *       -> (size, digest)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Compiled into this translation unit rather than on its own: the parallel
 * single-file path needs BLAKE3's subtree internals (compress_subtree_to_parent_node,
 * hasher_push_cv), which the public API does not expose. */
#include "blake3.c"

#define XXH_STATIC_LINKING_ONLY
#include "xxhash.h"
#ifdef BENCHSTONE_XXH_DISPATCH
#include "xxh_x86dispatch.h" /* runtime choice of the SSE2/AVX2/AVX-512 XXH3 kernels */
#endif

enum { ALGO_PYOBJECT = 0, ALGO_BLAKE3 = 1, ALGO_XXH3_128 = 2 };
#define MAX_DIGEST 64

/* ------------------------------------------------------------------ */
/* Jobs: what the threads of one call share.                          */

typedef struct {
    int kind;           /* ALGO_* */
    PyObject *factory;  /* ALGO_PYOBJECT: callable returning a hashlib-style object */
    size_t size;        /* digest length in bytes */
} algo_t;

typedef struct {
    pthread_mutex_t lock;
    int set;
    int err;                      /* errno, or 0 when `what` says it */
    const char *what;
    char *path;                   /* relative path at fault (malloc'd), or NULL: the root */
    PyObject *type, *value, *tb;  /* an exception raised by a Python hash object */
} failure_t;

typedef struct {
    _Atomic uint64_t done;  /* bytes hashed so far, for progress */
    atomic_int abort;       /* stop: a failure, an exception, or nothing left worth doing */
    failure_t fail;         /* the first failure; the one the caller reports */
} shared_t;

static void shared_init(shared_t *s) {
    memset(s, 0, sizeof(*s));
    atomic_init(&s->done, 0);
    atomic_init(&s->abort, 0);
    pthread_mutex_init(&s->fail.lock, NULL);
}

static void shared_destroy(shared_t *s) {
    pthread_mutex_destroy(&s->fail.lock);
    free(s->fail.path);
    Py_XDECREF(s->fail.type);
    Py_XDECREF(s->fail.value);
    Py_XDECREF(s->fail.tb);
}

static int has_failed(shared_t *s) {
    pthread_mutex_lock(&s->fail.lock);
    int set = s->fail.set;
    pthread_mutex_unlock(&s->fail.lock);
    return set;
}

static void fail_os(shared_t *s, int err, const char *what, const char *path) {
    pthread_mutex_lock(&s->fail.lock);
    if (!s->fail.set) {
        s->fail.set = 1;
        s->fail.err = err;
        s->fail.what = what;
        s->fail.path = path ? strdup(path) : NULL;
    }
    pthread_mutex_unlock(&s->fail.lock);
    atomic_store(&s->abort, 1);
}

/* GIL held, a Python exception set. */
static void fail_py(shared_t *s) {
    pthread_mutex_lock(&s->fail.lock);
    if (!s->fail.set) {
        s->fail.set = 1;
        PyErr_Fetch(&s->fail.type, &s->fail.value, &s->fail.tb);
    } else {
        PyErr_Clear();
    }
    pthread_mutex_unlock(&s->fail.lock);
    atomic_store(&s->abort, 1);
}

/* GIL held. The job's failure as the Python exception the caller sees. */
static void raise_failure(shared_t *s, PyObject *root) {
    if (s->fail.type != NULL) {
        PyErr_Restore(s->fail.type, s->fail.value, s->fail.tb);
        s->fail.type = s->fail.value = s->fail.tb = NULL;
        return;
    }
    PyObject *filename = s->fail.path && s->fail.path[0]
        ? PyBytes_FromFormat("%s/%s", PyBytes_AS_STRING(root), s->fail.path)
        : Py_NewRef(root);
    if (filename == NULL)
        return;
    if (s->fail.err != 0) {
        errno = s->fail.err;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
    } else {
        PyObject *exc = PyObject_CallFunction(PyExc_OSError, "isO", 0, s->fail.what, filename);
        if (exc != NULL) {
            PyErr_SetObject(PyExc_OSError, exc);
            Py_DECREF(exc);
        }
    }
    Py_DECREF(filename);
}

/* ------------------------------------------------------------------ */
/* Hash state: one interface over the three kinds of hash function.   */

typedef struct {
    const algo_t *algo;
    union {
        blake3_hasher b3;
        XXH3_state_t xxh;
    } u;
    PyObject *obj;
} hasher_t;

static int h_init(hasher_t *h, const algo_t *a, shared_t *s) {
    h->algo = a;
    h->obj = NULL;
    if (a->kind == ALGO_BLAKE3) {
        blake3_hasher_init(&h->u.b3);
        return 0;
    }
    if (a->kind == ALGO_XXH3_128) {
        XXH3_INITSTATE(&h->u.xxh);
        XXH3_128bits_reset(&h->u.xxh);
        return 0;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    h->obj = PyObject_CallNoArgs(a->factory);
    if (h->obj == NULL)
        fail_py(s);
    PyGILState_Release(g);
    return h->obj == NULL ? -1 : 0;
}

static void h_discard(hasher_t *h) {
    if (h->obj != NULL) {
        PyGILState_STATE g = PyGILState_Ensure();
        Py_CLEAR(h->obj);
        PyGILState_Release(g);
    }
}

static int h_update(hasher_t *h, const uint8_t *p, size_t n, shared_t *s) {
    if (h->algo->kind == ALGO_BLAKE3) {
        blake3_hasher_update(&h->u.b3, p, n);
        return 0;
    }
    if (h->algo->kind == ALGO_XXH3_128) {
        XXH3_128bits_update(&h->u.xxh, p, n);
        return 0;
    }
    /* hashlib releases the GIL itself while it hashes a buffer of 2 KiB or more. */
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *view = PyMemoryView_FromMemory((char *)p, (Py_ssize_t)n, PyBUF_READ);
    PyObject *r = view ? PyObject_CallMethod(h->obj, "update", "O", view) : NULL;
    Py_XDECREF(view);
    if (r == NULL)
        fail_py(s);
    Py_XDECREF(r);
    PyGILState_Release(g);
    return r == NULL ? -1 : 0;
}

static int h_final(hasher_t *h, uint8_t *out, shared_t *s) {
    if (h->algo->kind == ALGO_BLAKE3) {
        blake3_hasher_finalize(&h->u.b3, out, BLAKE3_OUT_LEN);
        return 0;
    }
    if (h->algo->kind == ALGO_XXH3_128) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&h->u.xxh));
        memcpy(out, c.digest, sizeof(c.digest));
        return 0;
    }
    int rc = -1;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *d = PyObject_CallMethod(h->obj, "digest", NULL);
    if (d != NULL && (!PyBytes_Check(d) || (size_t)PyBytes_GET_SIZE(d) != h->algo->size)) {
        PyErr_Format(PyExc_ValueError, "hash object returned a digest of the wrong size");
        Py_CLEAR(d);
    }
    if (d == NULL) {
        fail_py(s);
    } else {
        memcpy(out, PyBytes_AS_STRING(d), h->algo->size);
        Py_DECREF(d);
        rc = 0;
    }
    Py_CLEAR(h->obj);
    PyGILState_Release(g);
    return rc;
}

/* ------------------------------------------------------------------ */
/* BLAKE3 of many small files at once.                                */
/*
 * blake3_hasher_update hashes a file's chunks (1 KiB each) side by side in the SIMD
 * lanes only when it has many of them: a 4 KB file (three whole chunks and a partial
 * one) is hashed one 64-byte block at a time, with the lanes idle. A tree of small
 * files is hashed here instead, B3_GROUP files at a time: chunk c of every file that
 * has one goes through a single blake3_hash_many call (all of them have chunk counter
 * c). Each file's chunk chaining values are then pushed
 * onto its own hasher exactly as blake3_hasher_update pushes a one-chunk subtree, and
 * its last chunk (whole or partial; the one finalize needs) goes through
 * blake3_hasher_update. The tree of each file is BLAKE3's, so is its digest; only the
 * order of the work differs.
 */

#define B3_GROUP 16                            /* files hashed together */
#define B3_SMALL_CHUNKS 16                     /* files of up to this many chunks */
#define B3_SMALL (B3_SMALL_CHUNKS * BLAKE3_CHUNK_LEN)

/* How many lanes to ask blake3_hash_many for, for `used` chunks. The kernels hash 16, 8
 * or 4 chunks at once and the rest one by one; on the AVX-512 machine of
 * docs/performance.md one chunk alone takes 1.0 us, two 1.0 us (the CPU overlaps
 * them), three 2.0 us, four at once 1.2 us, eight 1.3 us, sixteen 2.3 us. So from
 * three chunks on, pad to the next of those widths with copies of a real chunk (their
 * results are dropped), unless the CPU has no SIMD kernel. */
static size_t b3_lanes(size_t used) {
    if (used <= 2 || blake3_simd_degree() < 4)
        return used;
    size_t lanes = 4;
    while (lanes < used)
        lanes *= 2;
    return lanes;
}

static void b3_many(const uint8_t *const *in, const size_t *len, size_t n,
                    uint8_t (*out)[MAX_DIGEST]) {
    size_t whole[B3_GROUP], most = 0; /* chunks before each file's last one */
    uint8_t cvs[B3_GROUP][B3_SMALL_CHUNKS][BLAKE3_OUT_LEN];
    blake3_hasher h;
    blake3_hasher_init(&h);
    for (size_t f = 0; f < n; f++) {
        whole[f] = len[f] > BLAKE3_CHUNK_LEN ? (len[f] - 1) / BLAKE3_CHUNK_LEN : 0;
        most = whole[f] > most ? whole[f] : most;
    }
    for (size_t c = 0; c < most; c++) {
        const uint8_t *chunks[B3_GROUP];
        uint8_t lane_cvs[B3_GROUP][BLAKE3_OUT_LEN];
        size_t owner[B3_GROUP], used = 0;
        for (size_t f = 0; f < n; f++) {
            if (whole[f] > c) {
                owner[used] = f;
                chunks[used++] = in[f] + c * BLAKE3_CHUNK_LEN;
            }
        }
        size_t lanes = b3_lanes(used);
        for (size_t k = used; k < lanes; k++)
            chunks[k] = chunks[0];
        blake3_hash_many(chunks, lanes, BLAKE3_CHUNK_LEN / BLAKE3_BLOCK_LEN, h.key, c, false,
                         h.chunk.flags, CHUNK_START, CHUNK_END, lane_cvs[0]);
        for (size_t k = 0; k < used; k++)
            memcpy(cvs[owner[k]][c], lane_cvs[k], BLAKE3_OUT_LEN);
    }
    for (size_t f = 0; f < n; f++) {
        blake3_hasher_init(&h);
        for (size_t c = 0; c < whole[f]; c++)
            hasher_push_cv(&h, cvs[f][c], c);
        h.chunk.chunk_counter = whole[f];
        size_t done = whole[f] * BLAKE3_CHUNK_LEN;
        blake3_hasher_update(&h, in[f] + done, len[f] - done);
        blake3_hasher_finalize(&h, out[f], BLAKE3_OUT_LEN);
    }
}

/* ------------------------------------------------------------------ */
/* Reading.                                                           */

/* Read buffers start on a page: pread copies and the hash kernels' 64-byte loads then
 * never straddle cache lines (a malloc'd 1 MiB block sits 16 bytes past a page, which
 * measurably slows both). Free with free(). */
static uint8_t *alloc_buffer(size_t n) {
    void *p = NULL;
    return posix_memalign(&p, 4096, n) == 0 ? p : NULL;
}

static ssize_t read_some(int fd, uint8_t *buf, size_t n) {
    ssize_t r;
    do {
        r = read(fd, buf, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* Fill buf from offset off; fewer than n bytes only at end of file. */
static ssize_t pread_full(int fd, uint8_t *buf, size_t n, off_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* O_NONBLOCK so that a FIFO swapped in for a file cannot block the open; it has no
 * effect on the regular file we then insist on. `path` names it in a failure. */
static int open_regular(int dirfd, const char *path, int nofollow, shared_t *s,
                        const char *blame, struct stat *st) {
    int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0);
    int fd;
    do {
        fd = openat(dirfd, path, flags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        fail_os(s, errno, NULL, blame);
        return -1;
    }
    if (fstat(fd, st) != 0) {
        fail_os(s, errno, NULL, blame);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        fail_os(s, 0, "not a regular file", blame);
        close(fd);
        return -1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (st->st_size > (1 << 20))
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return fd;
}

/* Read fd to its end through one buffer, feeding the hash. Once `expect` (the size
 * fstat reported, if not 0) bytes are in, stop without the extra read() that would
 * see end-of-file: on a tree of small files that read is a fifth of all syscalls. */
static int hash_stream(int fd, const algo_t *a, uint8_t *buf, size_t cap, shared_t *s,
                       const char *blame, int64_t expect, int64_t *size, uint8_t *out) {
    hasher_t h;
    if (h_init(&h, a, s) != 0)
        return -1;
    int64_t total = 0;
    for (;;) {
        if (atomic_load(&s->abort)) {
            h_discard(&h);
            return -1;
        }
        ssize_t r = read_some(fd, buf, cap);
        if (r == 0)
            break;
        if (r < 0) {
            fail_os(s, errno, NULL, blame);
            h_discard(&h);
            return -1;
        }
        if (h_update(&h, buf, (size_t)r, s) != 0) {
            h_discard(&h);
            return -1;
        }
        total += r;
        atomic_fetch_add(&s->done, (uint64_t)r);
        if (total == expect)
            break;
    }
    *size = total;
    return h_final(&h, out, s);
}

/* ------------------------------------------------------------------ */
/* The calling thread while workers run: signals and progress.        */

typedef struct {
    PyThreadState *ts;     /* the caller's thread state while the GIL is released */
    PyObject *progress;    /* callable(bytes_done) or NULL */
    uint64_t interval_ns;
    uint64_t next_ns;
} ticker_t;

static uint64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static struct timespec deadline_after(uint64_t ns) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t); /* the clock pthread_cond_timedwait uses by default */
    uint64_t total = (uint64_t)t.tv_nsec + ns;
    t.tv_sec += (time_t)(total / 1000000000u);
    t.tv_nsec = (long)(total % 1000000000u);
    return t;
}

/* At most once per interval: take the GIL, run signal handlers (so Ctrl-C stops a
 * long hash), report progress. -1 leaves the exception set in the caller's state. */
static int tick(ticker_t *t, uint64_t done) {
    uint64_t now = monotonic_ns();
    if (now < t->next_ns)
        return 0;
    t->next_ns = now + t->interval_ns;
    PyEval_RestoreThread(t->ts);
    int rc = PyErr_CheckSignals();
    if (rc == 0 && t->progress != NULL) {
        PyObject *r = PyObject_CallFunction(t->progress, "K", (unsigned long long)done);
        if (r == NULL)
            rc = -1;
        Py_XDECREF(r);
    }
    t->ts = PyEval_SaveThread();
    return rc;
}

static int parse_algo(PyObject *obj, Py_ssize_t digest_size, algo_t *a) {
    a->factory = NULL;
    if (PyLong_Check(obj)) {
        long kind = PyLong_AsLong(obj);
        if (kind == ALGO_BLAKE3 && digest_size == BLAKE3_OUT_LEN) {
            a->kind = ALGO_BLAKE3;
        } else if (kind == ALGO_XXH3_128 && digest_size == 16) {
            a->kind = ALGO_XXH3_128;
        } else {
            PyErr_Format(PyExc_ValueError, "unknown native algorithm %ld with digest size %zd",
                         kind, digest_size);
            return -1;
        }
    } else if (PyCallable_Check(obj)) {
        if (digest_size < 1 || digest_size > MAX_DIGEST) {
            PyErr_Format(PyExc_ValueError, "digest size %zd out of range", digest_size);
            return -1;
        }
        a->kind = ALGO_PYOBJECT;
        a->factory = obj;
    } else {
        PyErr_SetString(PyExc_TypeError, "algo must be a native algorithm number or a callable");
        return -1;
    }
    a->size = (size_t)digest_size;
    return 0;
}

static int check_threads(int threads) {
    if (threads < 1 || threads > 256) {
        PyErr_Format(PyExc_ValueError, "threads must be in 1..256, not %d", threads);
        return -1;
    }
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t item) {
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * item);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

/* ------------------------------------------------------------------ */
/* hash_tree: the calling thread walks, the workers hash what it found */
/*
 * The walk runs in the calling thread and hands each directory's regular files to
 * the workers in one batch, so hashing starts with the first directory. Entries
 * that are not regular files are collected (all of them, so the report does not
 * depend on timing) and stop the hashing: the caller refuses such a corpus. Workers
 * claim files in batches; with BLAKE3 a batch's small files are hashed together
 * (b3_many). Once the walk ends the files are sorted bytewise by relative path while
 * the workers finish, and the tree digest is H(header || path NUL size(u64 BE)
 * digest ...), header being given by the caller.
 */

typedef struct {
    char *path;      /* relative, '/'-separated, malloc'd */
    int64_t size;
    char kind;       /* 'f' for files; l p s c b ? for entries a corpus may not hold */
} entry_t;

typedef struct {
    shared_t s;
    const algo_t *algo;
    int rootfd;
    size_t bufsize;
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t cond;
    entry_t *files;
    uint8_t *digests;       /* files[i]'s digest at i * algo->size */
    size_t nfiles, cap_files, cap_digests;
    size_t next;            /* the next file to hash */
    int walk_done;
    int threads;            /* workers asked for */
    int running;            /* worker threads still alive */
    entry_t *odd;           /* walker only */
    size_t nodd, cap_odd;
} tree_job;

/* Files a worker claims at once, when that many are waiting: one lock round trip per
 * batch instead of two per file, and with BLAKE3 a group for b3_many. Fewer when few
 * are left, so that the workers finish together. */
#define TREE_BATCH B3_GROUP
#define B3_SLOT (B3_SMALL + 64) /* room for one byte more than a small file */

/* A small file into `slot` (room for size + 1 bytes) with one read. 1: exactly the
 * `size` bytes fstat reported came, where the stream path would stop too; 0: the file
 * grew or the read came short, so it has been rewound to be streamed instead; -1: an
 * error, in errno. */
static int read_small(int fd, uint8_t *slot, int64_t size) {
    ssize_t r = read_some(fd, slot, (size_t)size + 1);
    if (r == (ssize_t)size)
        return 1;
    if (r < 0)
        return -1;
    return lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

static void tree_work(tree_job *j) {
    uint8_t *buf = alloc_buffer(j->bufsize);
    /* BLAKE3 reads each small file of a batch into its own slot, then hashes them all. */
    uint8_t *arena = j->algo->kind == ALGO_BLAKE3 ? alloc_buffer(TREE_BATCH * B3_SLOT) : NULL;
    if (buf == NULL || (j->algo->kind == ALGO_BLAKE3 && arena == NULL)) {
        fail_os(&j->s, ENOMEM, NULL, NULL);
        free(buf);
        free(arena);
        return;
    }
    entry_t batch[TREE_BATCH];
    int64_t sizes[TREE_BATCH];
    uint8_t outs[TREE_BATCH][MAX_DIGEST];
    const uint8_t *small[TREE_BATCH];
    size_t small_len[TREE_BATCH], small_of[TREE_BATCH];
    int rc = 0;
    pthread_mutex_lock(&j->lock);
    while (rc == 0) {
        while (j->next >= j->nfiles && !j->walk_done && !atomic_load(&j->s.abort))
            pthread_cond_wait(&j->cond, &j->lock);
        if (atomic_load(&j->s.abort) || j->next >= j->nfiles)
            break;
        size_t first = j->next, take = (j->nfiles - first) / (2 * (size_t)j->threads);
        take = take < 1 ? 1 : take > TREE_BATCH ? TREE_BATCH : take;
        j->next += take;
        memcpy(batch, j->files + first, take * sizeof(entry_t)); /* the array may move */
        pthread_mutex_unlock(&j->lock);

        size_t nsmall = 0;
        uint64_t small_bytes = 0;
        for (size_t k = 0; rc == 0 && k < take; k++) {
            const char *path = batch[k].path;
            struct stat st;
            int fd = open_regular(j->rootfd, path, 1, &j->s, path, &st), whole = 0;
            if (fd < 0) {
                rc = -1;
                break;
            }
            if (arena != NULL && st.st_size <= B3_SMALL) {
                whole = read_small(fd, arena + nsmall * B3_SLOT, (int64_t)st.st_size);
                if (whole < 0) {
                    fail_os(&j->s, errno, NULL, path);
                    rc = -1;
                } else if (whole) {
                    small[nsmall] = arena + nsmall * B3_SLOT;
                    small_len[nsmall] = (size_t)st.st_size;
                    small_of[nsmall++] = k;
                    small_bytes += (uint64_t)st.st_size;
                }
            }
            if (rc == 0 && !whole)
                rc = hash_stream(fd, j->algo, buf, j->bufsize, &j->s, path,
                                 (int64_t)st.st_size, &sizes[k], outs[k]);
            close(fd);
        }
        if (rc == 0 && nsmall > 0) {
            uint8_t small_out[TREE_BATCH][MAX_DIGEST];
            b3_many(small, small_len, nsmall, small_out);
            for (size_t m = 0; m < nsmall; m++) {
                sizes[small_of[m]] = (int64_t)small_len[m];
                memcpy(outs[small_of[m]], small_out[m], BLAKE3_OUT_LEN);
            }
            atomic_fetch_add(&j->s.done, small_bytes);
        }
        pthread_mutex_lock(&j->lock);
        for (size_t k = 0; rc == 0 && k < take; k++) {
            j->files[first + k].size = sizes[k];
            memcpy(j->digests + (first + k) * j->algo->size, outs[k], j->algo->size);
        }
    }
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    free(buf);
    free(arena);
}

static void *tree_worker(void *arg) {
    tree_job *j = arg;
    /* A Python hash object needs a thread state; keep one for the worker's life
     * instead of creating one per call. */
    PyGILState_STATE g = PyGILState_UNLOCKED;
    PyThreadState *ts = NULL;
    if (j->algo->kind == ALGO_PYOBJECT) {
        g = PyGILState_Ensure();
        ts = PyEval_SaveThread();
    }
    tree_work(j);
    if (ts != NULL) {
        PyEval_RestoreThread(ts);
        PyGILState_Release(g);
    }
    pthread_mutex_lock(&j->lock);
    j->running--;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static char *join_path(const char *dir, const char *name) {
    size_t dlen = strlen(dir), nlen = strlen(name);
    char *p = malloc(dlen + nlen + 2);
    if (p == NULL)
        return NULL;
    if (dlen) {
        memcpy(p, dir, dlen);
        p[dlen++] = '/';
    }
    memcpy(p + dlen, name, nlen + 1);
    return p;
}

static char kind_of_mode(mode_t m) {
    if (S_ISREG(m)) return 'f';
    if (S_ISDIR(m)) return 'd';
    if (S_ISLNK(m)) return 'l';
    if (S_ISFIFO(m)) return 'p';
    if (S_ISSOCK(m)) return 's';
    if (S_ISCHR(m)) return 'c';
    if (S_ISBLK(m)) return 'b';
    return '?';
}

static char kind_of_entry(DIR *dp, const struct dirent *de) {
#ifdef DT_UNKNOWN
    switch (de->d_type) {
    case DT_REG: return 'f';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_FIFO: return 'p';
    case DT_SOCK: return 's';
    case DT_CHR: return 'c';
    case DT_BLK: return 'b';
    default: break; /* the filesystem did not say: ask */
    }
#endif
    struct stat st;
    if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return kind_of_mode(st.st_mode);
}

/* List one directory: subdirectories onto the walk's queue, files to the workers in
 * one batch, anything else to the odd list. */
static int walk_dir(tree_job *j, const char *rel, char ***dirs, size_t *ndirs, size_t *cap) {
    int dfd = openat(j->rootfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dp = dfd < 0 ? NULL : fdopendir(dfd);
    if (dp == NULL) {
        fail_os(&j->s, errno, NULL, rel);
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    entry_t *batch = NULL;
    size_t nbatch = 0, cap_batch = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dp);
        if (de == NULL) {
            if (errno != 0) {
                fail_os(&j->s, errno, NULL, rel);
                rc = -1;
            }
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
            continue;
        char *path = join_path(rel, name);
        char kind = path ? kind_of_entry(dp, de) : 0;
        if (path == NULL || kind == 0) {
            fail_os(&j->s, path ? errno : ENOMEM, NULL, path ? path : rel);
            free(path);
            rc = -1;
            break;
        }
        int full = 0;
        if (kind == 'd') {
            full = grow((void **)dirs, cap, *ndirs + 1, sizeof(char *));
            if (!full)
                (*dirs)[(*ndirs)++] = path;
        } else if (kind == 'f') {
            full = grow((void **)&batch, &cap_batch, nbatch + 1, sizeof(entry_t));
            if (!full)
                batch[nbatch++] = (entry_t){path, 0, 'f'};
        } else {
            full = grow((void **)&j->odd, &j->cap_odd, j->nodd + 1, sizeof(entry_t));
            if (!full)
                j->odd[j->nodd++] = (entry_t){path, -1, kind};
            atomic_store(&j->s.abort, 1); /* the corpus is refused: stop hashing */
        }
        if (full) {
            free(path);
            fail_os(&j->s, ENOMEM, NULL, rel);
            rc = -1;
            break;
        }
    }
    closedir(dp);
    if (nbatch) {
        pthread_mutex_lock(&j->lock);
        size_t need = j->nfiles + nbatch;
        if (grow((void **)&j->files, &j->cap_files, need, sizeof(entry_t)) != 0 ||
            grow((void **)&j->digests, &j->cap_digests, need, j->algo->size) != 0) {
            pthread_mutex_unlock(&j->lock);
            for (size_t k = 0; k < nbatch; k++)
                free(batch[k].path);
            free(batch);
            fail_os(&j->s, ENOMEM, NULL, rel);
            return -1;
        }
        memcpy(j->files + j->nfiles, batch, nbatch * sizeof(entry_t));
        j->nfiles = need;
        pthread_cond_broadcast(&j->cond);
        pthread_mutex_unlock(&j->lock);
    }
    free(batch);
    return rc;
}

/* The calling thread, GIL released: walk the whole tree (even after an odd entry, so
 * that all of them are reported), ticking between directories. */
static void walk_tree(tree_job *j, ticker_t *t, int *stopped) {
    char **dirs = NULL;
    size_t ndirs = 0, cap = 0;
    char *top = strdup("");
    if (top == NULL || grow((void **)&dirs, &cap, 1, sizeof(char *)) != 0) {
        free(top);
        fail_os(&j->s, ENOMEM, NULL, NULL);
    } else {
        dirs[ndirs++] = top;
        for (size_t d = 0; d < ndirs; d++) {
            if (has_failed(&j->s) || *stopped || walk_dir(j, dirs[d], &dirs, &ndirs, &cap) != 0)
                break;
            if (tick(t, atomic_load(&j->s.done)) != 0) {
                *stopped = 1;
                atomic_store(&j->s.abort, 1);
            }
        }
    }
    for (size_t d = 0; d < ndirs; d++)
        free(dirs[d]);
    free(dirs);
    pthread_mutex_lock(&j->lock);
    j->walk_done = 1;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

static int by_path(const void *a, const void *b) {
    /* strcmp compares as unsigned char: the bytewise order of the format */
    return strcmp(((const entry_t *)a)->path, ((const entry_t *)b)->path);
}

typedef struct {
    size_t index;
    const char *path;
} order_t;

static int by_order_path(const void *a, const void *b) {
    return strcmp(((const order_t *)a)->path, ((const order_t *)b)->path);
}

/* The files in bytewise path order. Called once the walk is done, while the workers
 * still hash: the list no longer grows and the paths never change, so the sort is off
 * the critical path. NULL (and a failure) when out of memory. */
static order_t *sort_files(tree_job *j) {
    order_t *order = malloc((j->nfiles + 1) * sizeof(order_t));
    if (order == NULL) {
        fail_os(&j->s, ENOMEM, NULL, NULL);
        return NULL;
    }
    for (size_t i = 0; i < j->nfiles; i++)
        order[i] = (order_t){i, j->files[i].path};
    qsort(order, j->nfiles, sizeof(order_t), by_order_path);
    return order;
}

/* Hash header || entries, in `order`, into `out`. */
static int tree_digest(tree_job *j, const order_t *order, const uint8_t *header,
                       size_t header_len, uint8_t *out) {
    uint8_t *buf = malloc(1 << 16);
    hasher_t h;
    int rc = -1;
    if (buf == NULL) {
        fail_os(&j->s, ENOMEM, NULL, NULL);
    } else if (h_init(&h, j->algo, &j->s) == 0) {
        rc = h_update(&h, header, header_len, &j->s);
        size_t used = 0, dsize = j->algo->size;
        for (size_t k = 0; rc == 0 && k < j->nfiles; k++) {
            const entry_t *e = &j->files[order[k].index];
            size_t plen = strlen(e->path), need = plen + 1 + 8 + dsize;
            if (used + need > (1 << 16)) {
                rc = h_update(&h, buf, used, &j->s);
                used = 0;
            }
            if (rc == 0 && need > (1 << 16)) { /* a path longer than the buffer */
                rc = h_update(&h, (const uint8_t *)e->path, plen, &j->s);
                plen = 0;
                need = 1 + 8 + dsize;
            }
            memcpy(buf + used, e->path, plen);
            used += plen;
            buf[used++] = 0;
            for (int b = 7; b >= 0; b--)
                buf[used++] = (uint8_t)((uint64_t)e->size >> (8 * b));
            memcpy(buf + used, j->digests + order[k].index * dsize, dsize);
            used += dsize;
        }
        if (rc == 0)
            rc = h_update(&h, buf, used, &j->s);
        if (rc == 0)
            rc = h_final(&h, out, &j->s);
        else
            h_discard(&h);
    }
    free(buf);
    return rc;
}

static PyObject *native_hash_tree(PyObject *self, PyObject *args) {
    PyObject *root = NULL, *algo_obj, *progress;
    const char *header;
    Py_ssize_t digest_size, header_len, bufsize;
    int threads, want_files;
    unsigned long long interval_ns;
    if (!PyArg_ParseTuple(args, "O&Ony#inOKp:hash_tree", PyUnicode_FSConverter, &root,
                          &algo_obj, &digest_size, &header, &header_len, &threads, &bufsize,
                          &progress, &interval_ns, &want_files))
        return NULL;
    algo_t algo;
    if (parse_algo(algo_obj, digest_size, &algo) != 0 || check_threads(threads) != 0) {
        Py_DECREF(root);
        return NULL;
    }
    if (bufsize < 4096) {
        Py_DECREF(root);
        PyErr_SetString(PyExc_ValueError, "bufsize must be at least 4096");
        return NULL;
    }
    tree_job j;
    memset(&j, 0, sizeof(j));
    shared_init(&j.s);
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.cond, NULL);
    j.algo = &algo;
    j.bufsize = (size_t)bufsize;
    j.threads = threads;
    int stopped = 0, digest_rc = -1;
    uint8_t top[MAX_DIGEST];
    order_t *order = NULL;
    ticker_t t = {NULL, progress == Py_None ? NULL : progress, interval_ns, 0};
    t.next_ns = monotonic_ns() + interval_ns;

    t.ts = PyEval_SaveThread();
    j.rootfd = open(PyBytes_AS_STRING(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j.rootfd < 0) {
        fail_os(&j.s, errno, NULL, NULL);
    } else {
        pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
        int started = 0;
        for (; tids != NULL && started < threads; started++) {
            pthread_mutex_lock(&j.lock);
            j.running++;
            pthread_mutex_unlock(&j.lock);
            if (pthread_create(&tids[started], NULL, tree_worker, &j) != 0) {
                pthread_mutex_lock(&j.lock);
                j.running--;
                pthread_mutex_unlock(&j.lock);
                break;
            }
        }
        walk_tree(&j, &t, &stopped);
        if (!stopped && !has_failed(&j.s) && j.nodd == 0)
            order = sort_files(&j);
        if (started == 0) {
            tree_work(&j); /* no thread could be started: hash here */
        } else {
            pthread_mutex_lock(&j.lock);
            while (j.running > 0) {
                struct timespec until = deadline_after(interval_ns);
                pthread_cond_timedwait(&j.cond, &j.lock, &until);
                if (j.running == 0 || stopped)
                    continue;
                pthread_mutex_unlock(&j.lock);
                if (tick(&t, atomic_load(&j.s.done)) != 0) {
                    stopped = 1;
                    atomic_store(&j.s.abort, 1);
                }
                pthread_mutex_lock(&j.lock);
            }
            pthread_mutex_unlock(&j.lock);
        }
        for (int k = 0; k < started; k++)
            pthread_join(tids[k], NULL);
        free(tids);
        close(j.rootfd);
        if (!stopped && !j.s.fail.set && j.nodd == 0 && order != NULL) {
            digest_rc = tree_digest(&j, order, (const uint8_t *)header, (size_t)header_len, top);
        } else if (j.nodd > 1) {
            qsort(j.odd, j.nodd, sizeof(entry_t), by_path);
        }
    }
    PyEval_RestoreThread(t.ts);

    PyObject *result = NULL, *files = NULL, *odd = NULL;
    if (stopped) {
        /* the exception from a signal handler or the progress callback is set */
    } else if (j.s.fail.set && j.nodd == 0) {
        raise_failure(&j.s, root);
    } else if ((files = PyList_New(0)) != NULL && (odd = PyList_New(0)) != NULL) {
        int ok = 1;
        for (size_t k = 0; ok && k < j.nodd; k++) {
            PyObject *item = Py_BuildValue("(yC)", j.odd[k].path, (int)j.odd[k].kind);
            ok = item != NULL && PyList_Append(odd, item) == 0;
            Py_XDECREF(item);
        }
        for (size_t k = 0; ok && want_files && digest_rc == 0 && k < j.nfiles; k++) {
            size_t i = order[k].index;
            PyObject *item = Py_BuildValue("(yLy#)", j.files[i].path, (long long)j.files[i].size,
                                           j.digests + i * algo.size, (Py_ssize_t)algo.size);
            ok = item != NULL && PyList_Append(files, item) == 0;
            Py_XDECREF(item);
        }
        unsigned long long done = atomic_load(&j.s.done);
        if (ok && digest_rc == 0)
            result = Py_BuildValue("(y#OOK)", top, (Py_ssize_t)algo.size, files, odd, done);
        else if (ok)
            result = Py_BuildValue("(OOOK)", Py_None, files, odd, done);
    }
    Py_XDECREF(files);
    Py_XDECREF(odd);
    for (size_t i = 0; i < j.nfiles; i++)
        free(j.files[i].path);
    for (size_t i = 0; i < j.nodd; i++)
        free(j.odd[i].path);
    free(j.files);
    free(j.digests);
    free(j.odd);
    free(order);
    shared_destroy(&j.s);
    pthread_mutex_destroy(&j.lock);
    pthread_cond_destroy(&j.cond);
    Py_DECREF(root);
    return result;
}

/* ------------------------------------------------------------------ */
/* hash_file: one large file on several threads.                      */
/*
 * BLAKE3 is a Merkle tree: a block of 2^n chunks at a multiple of its own size is a
 * whole subtree. Workers claim such blocks, pread each into their own buffer and
 * reduce it to the two chaining values of its subtree; the calling thread pushes
 * those onto the hasher in order, exactly as blake3_hasher_update does when it is
 * given a whole subtree, then feeds the tail (the last partial block, and anything
 * appended since fstat) through blake3_hasher_update. Blocks go in rounds of
 * B3_ROUND so that the chaining values kept are bounded (64 bytes per block) and
 * threads meet once a round, not once a block.
 *
 * XXH3 and SHA-256 are sequential: workers pread blocks into a ring of slots (two
 * per worker) and the calling thread hashes them in order. Memory: the ring.
 */

#define B3_ROUND 4096

typedef struct {
    shared_t *s;
    int fd;
    size_t block;
    int64_t full;            /* whole blocks in the file as fstat saw it */
    const uint32_t *key;
    uint8_t flags;
    uint8_t (*cvs)[2 * BLAKE3_OUT_LEN];  /* the current round's chaining-value pairs */
    pthread_mutex_t lock;    /* guards everything below */
    pthread_cond_t cond;
    int64_t round_start, round_end, next, finished;
    int closed;              /* no more rounds: workers leave */
} b3_job;

static void *b3_worker(void *arg) {
    b3_job *j = arg;
    uint8_t *buf = alloc_buffer(j->block);
    if (buf == NULL)
        fail_os(j->s, ENOMEM, NULL, NULL);
    pthread_mutex_lock(&j->lock);
    while (buf != NULL) {
        while (j->next >= j->round_end && !j->closed && !atomic_load(&j->s->abort))
            pthread_cond_wait(&j->cond, &j->lock);
        if (j->closed || atomic_load(&j->s->abort))
            break;
        int64_t k = j->next++;
        uint8_t *cv = j->cvs[k - j->round_start];
        pthread_mutex_unlock(&j->lock);

        ssize_t got = pread_full(j->fd, buf, j->block, (off_t)(k * (int64_t)j->block));
        if (got < 0) {
            fail_os(j->s, errno, NULL, NULL);
        } else if ((size_t)got != j->block) {
            fail_os(j->s, 0, "the file shrank while it was being read", NULL);
        } else {
            compress_subtree_to_parent_node(buf, j->block, j->key,
                                            (uint64_t)k * (j->block / BLAKE3_CHUNK_LEN),
                                            j->flags, cv);
            atomic_fetch_add(&j->s->done, (uint64_t)j->block);
        }
        pthread_mutex_lock(&j->lock);
        if (++j->finished == j->round_end - j->round_start || atomic_load(&j->s->abort))
            pthread_cond_broadcast(&j->cond);
    }
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    free(buf);
    return NULL;
}

/* Calling thread, GIL released: open each round, wait for it, stack its results. */
static int b3_consume(b3_job *j, blake3_hasher *b3, ticker_t *t, int *stopped) {
    uint64_t chunks = j->block / BLAKE3_CHUNK_LEN;
    for (int64_t start = 0; start < j->full; start += B3_ROUND) {
        int64_t end = start + B3_ROUND < j->full ? start + B3_ROUND : j->full;
        pthread_mutex_lock(&j->lock);
        j->round_start = j->next = start;
        j->round_end = end;
        j->finished = 0;
        pthread_cond_broadcast(&j->cond);
        while (j->finished < end - start && !atomic_load(&j->s->abort)) {
            struct timespec until = deadline_after(t->interval_ns);
            pthread_cond_timedwait(&j->cond, &j->lock, &until);
            pthread_mutex_unlock(&j->lock);
            if (tick(t, atomic_load(&j->s->done)) != 0) {
                *stopped = 1;
                atomic_store(&j->s->abort, 1);
            }
            pthread_mutex_lock(&j->lock);
        }
        pthread_mutex_unlock(&j->lock);
        if (atomic_load(&j->s->abort))
            return -1;
        for (int64_t k = start; k < end; k++) {
            /* What blake3_hasher_update does with a whole, aligned subtree. */
            uint8_t *cv = j->cvs[k - start];
            hasher_push_cv(b3, cv, b3->chunk.chunk_counter);
            hasher_push_cv(b3, cv + BLAKE3_OUT_LEN, b3->chunk.chunk_counter + chunks / 2);
            b3->chunk.chunk_counter += chunks;
        }
    }
    return 0;
}

/* BLAKE3 of the whole blocks of fd on `threads` workers; 0, or -1 (failure or stopped). */
static int b3_blocks(int fd, int64_t size, size_t block, int threads, hasher_t *h,
                     shared_t *s, ticker_t *t, int *stopped) {
    b3_job j;
    memset(&j, 0, sizeof(j));
    j.fd = fd;
    j.block = block;
    j.full = size / (int64_t)block;
    j.key = h->u.b3.key;
    j.flags = h->u.b3.chunk.flags;
    j.cvs = malloc(B3_ROUND * sizeof(*j.cvs));
    pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.cond, NULL);
    j.s = s;
    int started = 0, rc = -1;
    if (j.cvs != NULL && tids != NULL) {
        while (started < threads && pthread_create(&tids[started], NULL, b3_worker, &j) == 0)
            started++;
    }
    if (started == 0)
        fail_os(s, j.cvs && tids ? EAGAIN : ENOMEM, NULL, NULL);
    else
        rc = b3_consume(&j, &h->u.b3, t, stopped);
    pthread_mutex_lock(&j.lock);
    j.closed = 1;
    pthread_cond_broadcast(&j.cond);
    pthread_mutex_unlock(&j.lock);
    for (int k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    pthread_mutex_destroy(&j.lock);
    pthread_cond_destroy(&j.cond);
    free(j.cvs);
    free(tids);
    return rc;
}

typedef struct {
    uint8_t *data;
    size_t len;
    int ready;
} slot_t;

typedef struct {
    shared_t *s;
    int fd;
    int64_t size;        /* from fstat at open */
    size_t block;
    int64_t nblocks;
    slot_t *slots;
    int nslots;
    pthread_mutex_t lock; /* guards everything below and the slots' len/ready */
    pthread_cond_t cond;
    int64_t next;        /* the next block to claim */
    int64_t consumed;    /* blocks the calling thread has finished with */
} ring_job;

static void *ring_worker(void *arg) {
    ring_job *j = arg;
    pthread_mutex_lock(&j->lock);
    while (!atomic_load(&j->s->abort) && j->next < j->nblocks) {
        int64_t k = j->next++;
        slot_t *sl = &j->slots[k % j->nslots];
        /* The slot is ours once the block it held before (k - nslots) is consumed. */
        while (k >= j->consumed + j->nslots && !atomic_load(&j->s->abort))
            pthread_cond_wait(&j->cond, &j->lock);
        if (atomic_load(&j->s->abort))
            break;
        pthread_mutex_unlock(&j->lock);

        off_t off = (off_t)(k * (int64_t)j->block);
        size_t want = j->size - (int64_t)off < (int64_t)j->block ? (size_t)(j->size - (int64_t)off)
                                                                   : j->block;
        ssize_t got = pread_full(j->fd, sl->data, want, off);
        if (got < 0)
            fail_os(j->s, errno, NULL, NULL);
        else if ((size_t)got != want)
            fail_os(j->s, 0, "the file shrank while it was being read", NULL);
        else
            atomic_fetch_add(&j->s->done, (uint64_t)want);

        pthread_mutex_lock(&j->lock);
        sl->len = got > 0 ? (size_t)got : 0;
        sl->ready = 1;
        pthread_cond_broadcast(&j->cond);
    }
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Calling thread, GIL released: hash the ring's blocks in order. */
static int ring_consume(ring_job *j, hasher_t *h, ticker_t *t, int *stopped) {
    for (int64_t k = 0; k < j->nblocks; k++) {
        slot_t *sl = &j->slots[k % j->nslots];
        pthread_mutex_lock(&j->lock);
        while (!sl->ready && !atomic_load(&j->s->abort)) {
            struct timespec until = deadline_after(t->interval_ns);
            pthread_cond_timedwait(&j->cond, &j->lock, &until);
            pthread_mutex_unlock(&j->lock);
            if (tick(t, atomic_load(&j->s->done)) != 0) {
                *stopped = 1;
                atomic_store(&j->s->abort, 1);
            }
            pthread_mutex_lock(&j->lock);
        }
        pthread_mutex_unlock(&j->lock);
        if (atomic_load(&j->s->abort) || h_update(h, sl->data, sl->len, j->s) != 0)
            return -1;
        pthread_mutex_lock(&j->lock);
        sl->ready = 0;
        j->consumed = k + 1;
        pthread_cond_broadcast(&j->cond);
        pthread_mutex_unlock(&j->lock);
        if (tick(t, atomic_load(&j->s->done)) != 0) {
            *stopped = 1;
            return -1;
        }
    }
    return 0;
}

/* A sequential hash of fd's first `size` bytes, read ahead by `threads` workers. */
static int ring_blocks(int fd, int64_t size, size_t block, int threads, hasher_t *h,
                       shared_t *s, ticker_t *t, int *stopped) {
    ring_job j;
    memset(&j, 0, sizeof(j));
    j.s = s;
    j.fd = fd;
    j.size = size;
    j.block = block;
    j.nblocks = (size + (int64_t)block - 1) / (int64_t)block;
    j.nslots = 2 * threads;
    j.slots = calloc((size_t)j.nslots, sizeof(slot_t));
    pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.cond, NULL);
    int ok = j.slots != NULL && tids != NULL, started = 0, rc = -1;
    for (int k = 0; ok && k < j.nslots; k++)
        ok = (j.slots[k].data = alloc_buffer(block)) != NULL;
    while (ok && started < threads && pthread_create(&tids[started], NULL, ring_worker, &j) == 0)
        started++;
    if (started == 0)
        fail_os(s, ok ? EAGAIN : ENOMEM, NULL, NULL);
    else
        rc = ring_consume(&j, h, t, stopped);
    if (rc != 0) {
        pthread_mutex_lock(&j.lock);
        atomic_store(&s->abort, 1);
        pthread_cond_broadcast(&j.cond);
        pthread_mutex_unlock(&j.lock);
    }
    for (int k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    for (int k = 0; j.slots != NULL && k < j.nslots; k++)
        free(j.slots[k].data);
    free(j.slots);
    free(tids);
    pthread_mutex_destroy(&j.lock);
    pthread_cond_destroy(&j.cond);
    return rc;
}

/* Bytes from `off` to the end of file, through `h`: the tail a sequential reader sees. */
static int hash_rest(int fd, off_t off, hasher_t *h, size_t block, shared_t *s) {
    uint8_t *buf = alloc_buffer(block);
    if (buf == NULL) {
        fail_os(s, ENOMEM, NULL, NULL);
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t r = pread_full(fd, buf, block, off);
        if (r < 0) {
            fail_os(s, errno, NULL, NULL);
            rc = -1;
        } else if (r > 0 && (rc = h_update(h, buf, (size_t)r, s)) == 0) {
            off += r;
            atomic_fetch_add(&s->done, (uint64_t)r);
            continue;
        }
        break;
    }
    free(buf);
    return rc;
}

static PyObject *native_hash_file(PyObject *self, PyObject *args) {
    PyObject *path = NULL, *algo_obj, *progress;
    Py_ssize_t digest_size, block, parallel_min;
    int threads;
    unsigned long long interval_ns;
    if (!PyArg_ParseTuple(args, "O&OninnOK:hash_file", PyUnicode_FSConverter, &path, &algo_obj,
                          &digest_size, &threads, &block, &parallel_min, &progress,
                          &interval_ns))
        return NULL;
    algo_t algo;
    if (parse_algo(algo_obj, digest_size, &algo) != 0 || check_threads(threads) != 0) {
        Py_DECREF(path);
        return NULL;
    }
    if (block < 2 * BLAKE3_CHUNK_LEN || (block & (block - 1)) != 0) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_ValueError, "block must be a power of two of at least 2048");
        return NULL;
    }
    shared_t s;
    shared_init(&s);
    int64_t size = 0;
    uint8_t out[MAX_DIGEST];
    int rc = -1, stopped = 0;
    ticker_t t = {NULL, progress == Py_None ? NULL : progress, interval_ns, 0};
    t.next_ns = monotonic_ns() + interval_ns;

    t.ts = PyEval_SaveThread();
    struct stat st;
    int fd = open_regular(AT_FDCWD, PyBytes_AS_STRING(path), 0, &s, NULL, &st);
    if (fd >= 0 && (threads == 1 || st.st_size < (off_t)parallel_min)) {
        uint8_t *buf = alloc_buffer((size_t)block);
        if (buf == NULL)
            fail_os(&s, ENOMEM, NULL, NULL);
        else
            rc = hash_stream(fd, &algo, buf, (size_t)block, &s, NULL, (int64_t)st.st_size, &size,
                             out);
        free(buf);
    } else if (fd >= 0) {
        hasher_t h;
        if (h_init(&h, &algo, &s) == 0) {
            int64_t whole = (int64_t)st.st_size;
            if (algo.kind == ALGO_BLAKE3) {
                rc = b3_blocks(fd, whole, (size_t)block, threads, &h, &s, &t, &stopped);
                whole -= whole % block; /* the partial last block is part of the tail */
            } else {
                rc = ring_blocks(fd, whole, (size_t)block, threads, &h, &s, &t, &stopped);
            }
            if (rc == 0)
                rc = hash_rest(fd, (off_t)whole, &h, (size_t)block, &s);
            if (rc == 0) {
                size = (int64_t)atomic_load(&s.done);
                rc = h_final(&h, out, &s);
            } else {
                h_discard(&h);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    PyEval_RestoreThread(t.ts);

    PyObject *result = NULL;
    if (rc == 0)
        result = Py_BuildValue("(Ly#)", (long long)size, out, (Py_ssize_t)algo.size);
    else if (!stopped)
        raise_failure(&s, path);
    shared_destroy(&s);
    Py_DECREF(path);
    return result;
}

/* ------------------------------------------------------------------ */

static PyObject *native_build_info(PyObject *self, PyObject *unused) {
#ifdef BENCHSTONE_XXH_DISPATCH
    int xxh_dispatch = 1;
#else
    int xxh_dispatch = 0;
#endif
    return Py_BuildValue("{s:s,s:n,s:N,s:O}", "blake3", blake3_version(), "blake3_simd_degree",
                         (Py_ssize_t)blake3_simd_degree(), "xxhash",
                         PyUnicode_FromFormat("%d.%d.%d", XXH_VERSION_MAJOR, XXH_VERSION_MINOR,
                                              XXH_VERSION_RELEASE),
                         "xxh3_runtime_dispatch", xxh_dispatch ? Py_True : Py_False);
}

static PyMethodDef native_methods[] = {
    {"hash_tree", native_hash_tree, METH_VARARGS,
     "hash_tree(root, algo, digest_size, header, threads, bufsize, progress, interval_ns,"
     " want_files) -> (tree_digest | None, [(relpath, size, digest)], [(relpath, kind)],"
     " bytes_hashed)"},
    {"hash_file", native_hash_file, METH_VARARGS,
     "hash_file(path, algo, digest_size, threads, block, parallel_min, progress, interval_ns)"
     " -> (size, digest)"},
    {"build_info", native_build_info, METH_NOARGS, "Versions and SIMD support compiled in."},
    {NULL, NULL, 0, NULL},
};

static int native_exec(PyObject *m) {
    if (PyModule_AddIntConstant(m, "BLAKE3", ALGO_BLAKE3) < 0)
        return -1;
    if (PyModule_AddIntConstant(m, "XXH3_128", ALGO_XXH3_128) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot native_slots[] = {
    {Py_mod_exec, native_exec},
    {0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "benchstone.hasher._native",
    "The hot loop of benchstone.hasher: walk, read and hash with the GIL released.",
    0, native_methods, native_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&native_module); }
