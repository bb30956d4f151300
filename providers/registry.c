/*
 * registry.c - the list of provider tables and the helpers they share.
 *
 * provider_registry[] is the one place that names every cloud; fs/ finds a
 * provider by its name and a kind by its directory, and never includes a
 * provider's file. The helpers look up config keys, copy config strings,
 * take defaults from the environment and wipe secrets.
 */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "crypto.h"
#include "provider.h"

extern const struct provider provider_tencent;
extern const struct provider provider_ctyun;
extern const struct provider provider_baidu;
extern const struct provider provider_alaya;

const struct provider *const provider_registry[] = {
    &provider_tencent, &provider_ctyun, &provider_baidu, &provider_alaya, NULL,
};

const struct provider *provider_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; provider_registry[i]; i++)
		if (strcmp(provider_registry[i]->name, name) == 0)
			return provider_registry[i];
	return NULL;
}

const struct kind *provider_kind(const struct provider *p, const char *dir)
{
	if (!p || !dir || !p->kinds)
		return NULL;
	for (const struct kind *k = p->kinds; k->dir; k++)
		if (strcmp(k->dir, dir) == 0)
			return k;
	return NULL;
}

/* The entry for key in a table ending with { NULL }, or NULL. */
static const struct provider_key *key_lookup(const struct provider_key *keys, const char *key)
{
	for (const struct provider_key *k = keys; k && k->key; k++)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

const struct provider_key *provider_key_find(const struct provider *p, const char *key)
{
	if (!p || !key)
		return NULL;
	return key_lookup(p->key_table, key);
}

int provider_set_string(char **slot, const char *val)
{
	char *copy = NULL;

	if (val) {
		copy = strdup(val);
		if (!copy)
			return -ENOMEM;
	}
	/* the old value may have been a secret */
	provider_free_secret(*slot);
	*slot = copy;
	return 0;
}

int provider_env_default(char **slot, const char *var)
{
	const char *v;

	if (*slot && **slot)
		return 0;
	v = getenv(var);
	if (!v || !*v)
		return 0;
	return provider_set_string(slot, v);
}

void provider_free_secret(char *s)
{
	if (!s)
		return;
	crypto_wipe(s, strlen(s));
	free(s);
}

static char **key_slot(const struct provider_key *k, void *priv)
{
	return (char **)((char *)priv + k->offset);
}

int provider_keys_configure(const struct provider_key *keys, const char *prov, void *priv,
			    const char *key, const char *val, struct gcf_error *err)
{
	const struct provider_key *k = key_lookup(keys, key);

	if (!k)
		return gcf_error_set(err, GCF_CONFIG, "unknown key '%s' for provider %s", key,
				     prov);
	if (provider_set_string(key_slot(k, priv), val))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	return 0;
}

int provider_keys_finish(const struct provider_key *keys, void *priv, struct gcf_error *err)
{
	for (const struct provider_key *k = keys; k->key; k++) {
		char **slot = key_slot(k, priv);

		if (k->env && provider_env_default(slot, k->env))
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		if (!k->required || (*slot && **slot))
			continue;
		if (k->missing)
			return gcf_error_set(err, GCF_CONFIG, "missing %s%s", k->key, k->missing);
		return gcf_error_set(err, GCF_CONFIG, "missing %s (set it in the section or in %s)",
				     k->key, k->env ? k->env : "the configuration");
	}
	return 0;
}

void provider_keys_release(const struct provider_key *keys, void *priv, size_t sizeof_priv)
{
	if (!priv)
		return;
	for (const struct provider_key *k = keys; k->key; k++)
		provider_free_secret(*key_slot(k, priv));
	crypto_wipe(priv, sizeof_priv);
	free(priv);
}

bool provider_in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}
