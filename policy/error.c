/*
 * error.c - policy/'s errors: the generic text of each code and the
 * thread's last failure in words (policy.h, "Errors").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "policy/internal.h"
#include "store/store.h"

static __thread char lasterror[1024];

const char *
policy_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case POLICY_EINVAL:
		return "invalid input";
	case POLICY_ENOTFOUND:
		return "not found";
	case POLICY_ENOTABLE:
		return "the licence table cannot be read";
	case POLICY_EDENIED:
		return "refused by the policy";
	}
	if (code < 0)
		return store_strerror(code);
	return strerror(code);
}

const char *
policy_lasterror(void)
{
	return lasterror[0] != '\0' ? lasterror : "no error";
}

int
policy_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterror, sizeof(lasterror), fmt, ap);
	va_end(ap);
	return code;
}
