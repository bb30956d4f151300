/*
 * log.h - leveled logging to stderr (foreground) or syslog (detached).
 *
 * Nothing logs a request header or a config value without passing it
 * through log_redact() (or asking log_is_secret_name() first).
 */
#ifndef GCF_LOG_H
#define GCF_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* After this, messages go to syslog (ident "gpucloudfs") instead of stderr. */
void log_use_syslog(bool on);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* True when a header or config key name carries a secret
 * (authorization, *secret*, *key*, *token*, *password*, eop-authorization...). */
bool log_is_secret_name(const char *name);

/* The value to print for a header or config key: the value itself, or
 * "<redacted>" when log_is_secret_name(name). Never NULL. Borrowed. */
const char *log_redact(const char *name, const char *value);

#endif
