/*
 * ops.h - the low-level FUSE operations table. Glue only: each operation
 * hands its arguments to the tree (tree.h: the node's row of handlers) and
 * replies. userdata is the struct daemon.
 */
#ifndef GCF_OPS_H
#define GCF_OPS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops ops_table;

#endif
