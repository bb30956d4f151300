/*
 * control.h - the rows of /.gpucloudfs (tree.h) and the freshness xattrs of
 * collection directories.
 *
 *   /.gpucloudfs                          CTLDIR       config errors stats.json version refresh/
 *   /.gpucloudfs/errors                   CTLFILE      made when looked up or stat'ed, kept on
 *                                                      its node; reads serve those bytes
 *   /.gpucloudfs/refresh                  REFRESHDIR   one directory per connection
 *   /.gpucloudfs/refresh/tencent          REFRESHCONN  lists nothing (see control.c)
 *   /.gpucloudfs/refresh/tencent/tasks    REFRESHFILE  its lookup refetches, synchronously;
 *                                                      the read gets the outcome
 *
 * user.gpucloudfs.stale, .error and .fetched on a collection directory say
 * whether the snapshot served is stale, the last error, and when it was
 * fetched.
 */
#ifndef GCF_CONTROL_H
#define GCF_CONTROL_H

#include "tree.h"

#define CONTROL_DIR ".gpucloudfs"

extern const struct node_row control_dir_row, control_file_row, refresh_dir_row, refresh_conn_row,
    refresh_file_row;

/* The xattrs of a collection directory (the KIND row's getxattr). */
extern const char *const control_coll_xattrs[];
/* The lookup of control file name under p (NODE_CTLFILE): its bytes made
 * now, on a node of their own. 0 or a negative errno. */
int control_file_enter(const struct tree_ctx *t, const struct node_info *p, const char *name,
		       void *owner, struct tree_entry *e);
int control_coll_getxattr(const struct tree_ctx *t, const struct node_info *ni, const char *name,
			  struct buf *out);

#endif
