/* file.h - local files for the thumbs service: opened beneath a root, read without blocking the loop for long. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_FILE_H
#define KL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A thin layer over port.h so that imgsrv/ never includes it. Regular
 * files do not block in poll()'s sense, so reads are bounded by the
 * caller's chunk size instead: one chunk per idle slice.
 */

/*
 * Opens root/rel read-only with no escape from root: ".." components,
 * symbolic links and empty components are refused (-EACCES). rel is a
 * NUL-terminated, already percent-decoded path. Returns an fd or -errno.
 */
int     kl_file_open_beneath(const char *root, const char *rel);
/* Size and modification time (unix seconds) of a regular file; -EISDIR otherwise. */
int     kl_file_stat(int fd, uint64_t *size, int64_t *mtime);
/* >0 bytes, 0 at the end, or -errno. */
ssize_t kl_file_read(int fd, void *b, size_t n);
void    kl_file_close(int fd);

#endif
