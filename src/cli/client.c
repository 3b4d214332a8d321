/*
 * client - the admin API over the daemon's unix socket with libcurl
 * (CURLOPT_UNIX_SOCKET_PATH; the URL's host is never resolved).
 *
 * The socket path: --socket, else [admin] socket of the configuration
 * file (-c, MAILWARD_CONF, /etc/mailward/mailward.conf), else the built-in
 * default; a configuration file that cannot be read is mentioned only if
 * the connection then fails. Replies are capped at CLI_MAX_REPLY bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/cfg.h"

static void
cli_resolve_socket(struct cli *c)
{
	struct cfg	*cfg = NULL;
	char		*error = NULL, *nl;

	if (c->socket != NULL)
		return;
	if (cfg_load(c->config_path, &cfg, &error) == 0) {
		c->socket_owned = mw_strdup(cfg->admin.socket);
		c->socket = c->socket_owned;
		cfg_free(&cfg);
		return;
	}
	if (error != NULL && (nl = strchr(error, '\n')) != NULL)
		*nl = '\0';
	c->config_note = error != NULL ? error : mw_strdup(c->config_path);
	c->socket = CLI_DEFAULT_SOCKET;
}

static size_t
cli_on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct mw_buf	*b = arg;
	size_t		 n = size * nmemb;

	if (mw_buf_append(b, ptr, n) < 0)
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	return n;
}

char *
cli_escape(const char *s)
{
	CURL	*h = curl_easy_init();
	char	*e, *copy;

	if (h == NULL || (e = curl_easy_escape(h, s, 0)) == NULL)
		mw_panic("curl_easy_escape: out of memory");
	copy = mw_strdup(e);
	curl_free(e);
	curl_easy_cleanup(h);
	return copy;
}

void
cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

int64_t
jint(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static int
cli_unreachable(struct cli *c, const char *what, int err)
{
	if (err == EACCES || err == EPERM)
		cli_error("%s mailwardd at %s: %s (the socket allows its owner "
		    "and [admin] group only: run as root or join that group)",
		    what, c->socket, strerror(err));
	else
		cli_error("%s mailwardd at %s: %s (is mailwardd running? see "
		    "--socket / -c)", what, c->socket, err != 0 ?
		    strerror(err) : "no answer");
	if (c->config_note != NULL)
		cli_error("note: the configuration could not be read, so the "
		    "default socket was tried: %s", c->config_note);
	return CLI_EXIT_UNAVAILABLE;
}

int
cli_call(struct cli *c, const char *method, const char *path, json_t *body,
    json_t **reply_r)
{
	CURL			*h;
	CURLcode		 res;
	struct curl_slist	*headers = NULL;
	struct mw_buf		 reply;
	char			*url, *text = NULL;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	long			 status = 0, os_errno = 0;
	json_t			*doc;
	json_error_t		 jerr;
	int			 rc = CLI_EXIT_FAIL;

	*reply_r = NULL;
	cli_resolve_socket(c);
	if ((h = curl_easy_init()) == NULL)
		mw_panic("curl_easy_init: out of memory");
	mw_buf_init(&reply, NULL, CLI_MAX_REPLY);
	url = mw_malloc(strlen(path) + sizeof("http://localhost"));
	strcpy(url, "http://localhost");
	strcat(url, path);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)CLI_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cli_on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mailward/" MW_VERSION);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			mw_panic("json_dumps: cannot render the request");
		headers = curl_slist_append(headers,
		    "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	if (res == CURLE_COULDNT_CONNECT || (res != CURLE_OK && status == 0 &&
	    res != CURLE_WRITE_ERROR)) {
		if (res == CURLE_COULDNT_CONNECT)
			rc = cli_unreachable(c, "cannot connect to", (int)os_errno);
		else {
			cli_error("no answer from mailwardd at %s: %s", c->socket,
			    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
			rc = CLI_EXIT_UNAVAILABLE;
		}
		goto out;
	}
	if (res == CURLE_WRITE_ERROR) {
		cli_error("the reply of mailwardd is larger than %u MiB",
		    CLI_MAX_REPLY >> 20);
		goto out;
	}
	if (res != CURLE_OK) {
		cli_error("talking to mailwardd at %s: %s", c->socket,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
		rc = CLI_EXIT_UNAVAILABLE;
		goto out;
	}
	doc = json_loadb(reply.data != NULL ? reply.data : "", reply.len, 0,
	    &jerr);
	if (status < 200 || status > 299) {
		const char *error = json_string_value(json_object_get(doc,
		    "error"));

		if (error != NULL) {
			char *clean = text_clean(error);

			/* Keep line breaks of multi-line errors (reload). */
			for (char *p = clean; *p != '\0'; p++)
				if (*p == '?' && error[p - clean] == '\n')
					*p = '\n';
			cli_error("%s", clean);
			free(clean);
		} else {
			cli_error("mailwardd answered HTTP %ld to %s %s", status,
			    method, path);
		}
		json_decref(doc);
		goto out;
	}
	if (doc == NULL) {
		cli_error("mailwardd sent a reply that is not JSON (%s)",
		    jerr.text);
		goto out;
	}
	*reply_r = doc;
	rc = CLI_EXIT_OK;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	mw_buf_deinit(&reply);
	free(url);
	free(text);
	return rc;
}
