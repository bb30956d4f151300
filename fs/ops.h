/*
 * ops.h - the low-level FUSE operations table. Glue only: resolve the inode,
 * ask the cache, fill the reply. userdata is the struct daemon.
 */
#ifndef GCF_OPS_H
#define GCF_OPS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops ops_table;

#endif
