// SPDX-License-Identifier: MIT
/*
 * Child processes of PID 1: the image's stage scripts and the root's
 * checker.  Each is started with the console as its stdin, stdout and
 * stderr (ours: the kernel gave them to us), waited for, and its status
 * put into words.  The environment is built before the fork: the child
 * only execs (the module workers are threads; nothing else is safe).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

static int sys_spawn(void *data, const char *path, char *const argv[], char *const envp[])
{
	pid_t pid;

	(void)data;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execve(path, argv, envp);
		_exit(127); /* as a shell says "not found" */
	}
	return (int)pid;
}

static int sys_wait(void *data, int pid, int *status)
{
	(void)data;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

const struct ki_run_ops ki_run_sys_ops = { sys_spawn, sys_wait, NULL };

/* Copy inherit (the kernel's HOME, TERM and unused NAME=VALUE arguments). */
void ki_env_init(struct ki_env *e, char *const *inherit)
{
	e->n = 0;
	e->used = 0;
	for (; inherit && *inherit && e->n < KI_ENV_MAX; inherit++)
		e->vars[e->n++] = *inherit;
	e->vars[e->n] = NULL;
}

/* NAME=VALUE, replacing an inherited NAME; -E2BIG when full. */
int ki_env_set(struct ki_env *e, const char *name, const char *value)
{
	size_t len = strlen(name), need = len + strlen(value) + 2;
	char *var;
	unsigned i;

	if (need > sizeof(e->buf) - e->used)
		return -E2BIG;
	var = e->buf + e->used;
	snprintf(var, need, "%s=%s", name, value);
	for (i = 0; i < e->n; i++)
		if (strncmp(e->vars[i], name, len) == 0 && e->vars[i][len] == '=')
			break;
	if (i == e->n && e->n >= KI_ENV_MAX)
		return -E2BIG;
	e->used += need;
	e->vars[i] = var;
	if (i == e->n)
		e->vars[++e->n] = NULL;
	return 0;
}

/* Run path and wait for it; *status as waitpid's.  0 or -errno. */
int ki_run(const struct ki_run_ops *ops, const char *path, char *const argv[],
	   char *const envp[], int *status)
{
	int pid = ops->spawn(ops->data, path, argv, envp);

	if (pid < 0)
		return pid;
	return ops->wait(ops->data, pid, status);
}

void ki_status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(buf, size, "exit status 127 (not executable, or its interpreter or "
			 "libraries are missing)");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "wait status 0x%x", (unsigned)status);
}
