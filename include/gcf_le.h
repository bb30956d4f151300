/*
 * gcf_le.h - little-endian integers in byte strings: the one copy the
 * formats share (the snapshot bytes, snapfile.c; the incremental refresh's
 * watermark blob, incremental.c; the fleet's metadata, fleet.c). Fixed
 * width, no alignment needed, the same bytes on every host.
 *
 *   gcf_put_le32(p, n);  uint32_t n = gcf_get_le32(p);
 */
#ifndef GCF_LE_H
#define GCF_LE_H

#include <stdint.h>

static inline void gcf_put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void gcf_put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void gcf_put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t gcf_get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t gcf_get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t gcf_get_le64(const unsigned char *p)
{
	return (uint64_t)gcf_get_le32(p) | (uint64_t)gcf_get_le32(p + 4) << 32;
}

#endif
