/*
 * diff.c - the invalidations between two snapshots (see diff.h).
 */
#include "diff.h"

#include <stdbool.h>

/* The files of entry eo (node eino) that changed or went in en (of fresh),
 * and those that came. */
static void diff_files(const struct entry *eo, const struct entry *en, uint64_t eino,
		       struct inodes *t, const struct snapshot *fresh, const struct diff_sink *sink)
{
	for (size_t f = 0; f < eo->nfiles; f++) {
		const struct file *fo = &eo->files[f];
		const struct file *fn = entry_file(en, fo->name);
		uint64_t fino;

		if (fn && fn->hash == fo->hash && fn->size == fo->size) {
			/* its node now holds fresh's bytes: old can go */
			inodes_file_carry(t, eino, fo->name, (struct snapshot *)fresh, fn,
					  en->mtime);
			continue;
		}
		/* A FILE node's bytes never change (inode.h): the node keeps its
		 * own, and the kernel drops the name, whose next lookup finds the
		 * node of the new bytes. */
		fino = inodes_find(t, eino, fo->name);
		if (fino)
			inodes_file_detach(t, fino);
		if (fino || !fn)
			sink->entry(sink->arg, eino, fo->name);
	}
	for (size_t f = 0; f < en->nfiles; f++)
		if (!entry_file(eo, en->files[f].name))
			sink->entry(sink->arg, eino, en->files[f].name);
}

void diff_notify(struct inodes *t, uint64_t dir, const struct snapshot *old,
		 const struct snapshot *fresh, const struct diff_sink *sink)
{
	bool listing_changed = !old || old->nentries != fresh->nentries;

	for (size_t i = 0; old && i < old->nentries; i++) {
		const struct entry *eo = &old->entries[i];
		const struct entry *en = snapshot_find(fresh, eo->name);
		uint64_t eino = inodes_find(t, dir, eo->name);

		if (!en) {
			listing_changed = true;
			if (eino)
				sink->entry(sink->arg, dir, eo->name);
			continue;
		}
		if (!eino)
			continue;
		if (eo->mtime != en->mtime || eo->nfiles != en->nfiles)
			sink->inode(sink->arg, eino);
		diff_files(eo, en, eino, t, fresh, sink);
	}
	for (size_t i = 0; i < fresh->nentries; i++)
		if (!old || !snapshot_find(old, fresh->entries[i].name)) {
			listing_changed = true;
			sink->entry(sink->arg, dir, fresh->entries[i].name);
		}
	if (listing_changed)
		sink->inode(sink->arg, dir);
}
