/* A box through which one thread hands snapshots to any number of others
 * without locks: a sequence lock (seqlock) over C11 atomics.
 *
 * The one writer (the thread that owns what is described) copies a whole
 * snapshot in with seqbox_write(): it never waits, whatever the readers do.
 * A reader copies it out with seqbox_read(), which retries while a write is
 * under way and gives up after a bounded number of tries (false): what it
 * returns is always one write's snapshot, whole, never a mixture of two.
 *
 * Every word of the snapshot is an atomic (stored with release, loaded
 * with acquire: plain moves on x86-64), so the protocol is data-race free
 * in the C11 model and under ThreadSanitizer; the sequence number is odd
 * while a write is under way (Boehm, "Can seqlocks get along with
 * programming language memory models?", MSPC 2012).
 */
#ifndef SYNFIN_TOOL_SEQBOX_H
#define SYNFIN_TOOL_SEQBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seqbox seqbox_t;

/* A box for snapshots of len bytes, zero until the first write; NULL when
 * out of memory. */
seqbox_t *seqbox_new(size_t len);
void seqbox_free(seqbox_t *b);

/* Writer only: replaces the snapshot with len bytes from src. */
void seqbox_write(seqbox_t *b, const void *src);

/* Any thread: copies the latest whole snapshot into dst (len bytes).
 * Returns false (dst undefined) when writes kept overlapping the copy for
 * every try, which takes a writer rewriting the box continuously. */
bool seqbox_read(const seqbox_t *b, void *dst);

#endif
