/* SPDX-License-Identifier: MIT */
/*
 * kindling's /init: private interfaces, grouped by the file that defines
 * them (what works on the whole boot's struct ki_ctx at the end).  Every
 * function returns 0 (or a count) on success and a negative errno on
 * failure unless it says otherwise.  Nothing here keeps global state:
 * each stage has a context struct that main.c owns.
 */
#ifndef KINDLING_INIT_H
#define KINDLING_INIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/plan.h"
#include "probe/probe.h"

#define KI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* log.c ------------------------------------------------------------------ */

#define KI_KMSG_PATH "/dev/kmsg"
#define KI_DEVKMSG_SYSCTL "/proc/sys/kernel/printk_devkmsg"

enum { KI_ERR = 3, KI_WARN = 4, KI_NOTICE = 5, KI_INFO = 6, KI_DEBUG = 7 };

struct ki_log {
	int fd;               /* where lines go; -1 means stderr */
	bool kmsg;            /* fd is the kernel log: lines carry "<N>" */
	bool quiet, debug;    /* from the command line */
	char devkmsg[16];     /* printk_devkmsg before ki_log_unlimit, or "" */
};

void ki_log_init(struct ki_log *l);
int ki_log_open(struct ki_log *l, const char *path, bool kmsg);
void ki_log_close(struct ki_log *l);
void ki_log_unlimit(struct ki_log *l, const char *sysctl);
void ki_log_restore(struct ki_log *l, const char *sysctl);
void ki_log(const struct ki_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
double ki_now(void);

#define KI_ERRF(l, ...) ki_log((l), KI_ERR, __VA_ARGS__)
#define KI_WARNF(l, ...) ki_log((l), KI_WARN, __VA_ARGS__)
#define KI_INFOF(l, ...) ki_log((l), KI_INFO, __VA_ARGS__)
#define KI_DBGF(l, ...) ki_log((l), KI_DEBUG, __VA_ARGS__)

/* util.c ----------------------------------------------------------------- */

ssize_t ki_read_file(const char *path, char *buf, size_t size);
ssize_t ki_read_fileat(int dirfd, const char *path, char *buf, size_t size);
int ki_parse_uint(const char *s, unsigned max, unsigned *out);
bool ki_strcpy(char *dst, const char *src, size_t size);
void ki_sleep_ms(unsigned ms);

/* cmdline.c -------------------------------------------------------------- */

#define KI_CMDLINE_MAX 4096
#define KI_MAX_PARAMS 64
#define KI_MAX_NAMES 32
#define KI_VALUE_MAX 256

enum ki_root_kind {
	KI_ROOT_NONE,
	KI_ROOT_DEVNAME,   /* /dev/NAME: value is NAME */
	KI_ROOT_DEVNUM,    /* MAJ:MIN or hexadecimal: major, minor */
	KI_ROOT_UUID,
	KI_ROOT_LABEL,
	KI_ROOT_PARTUUID,  /* GPT GUID, or MBR SSSSSSSS-PP */
	KI_ROOT_PARTLABEL,
};

struct ki_root {
	enum ki_root_kind kind;
	char value[KI_VALUE_MAX];
	unsigned major, minor;
};

/* The points where image hooks run (init/stages.c) and rd.break= stops. */
enum ki_stage { KI_STAGE_MODULES, KI_STAGE_PRE_MOUNT, KI_STAGE_PRE_SWITCH, KI_N_STAGES };

/* fsck.mode= and fsck.repair=, as systemd-fsck reads them. */
enum ki_fsck_mode { KI_FSCK_AUTO, KI_FSCK_FORCE, KI_FSCK_SKIP };
enum ki_fsck_repair { KI_REPAIR_PREEN, KI_REPAIR_YES, KI_REPAIR_NO };

struct ki_param {
	const char *module; /* normalised */
	const char *name;
	const char *value;  /* NULL for a bare "module.flag" */
};

struct ki_cmdline {
	char buf[KI_CMDLINE_MAX * 2]; /* the parsed texts; every pointer points here */
	size_t used;
	struct ki_root root;
	char root_text[KI_VALUE_MAX]; /* root= as given, for messages */
	const char *rootfstype, *rootflags, *init;
	int rw;                /* -1 unset, 0 ro, 1 rw */
	bool rootwait, debug, quiet;
	unsigned rootdelay;
	int timeout;           /* rd.timeout= seconds, -1 unset */
	struct ki_param params[KI_MAX_PARAMS];
	unsigned n_params;
	const char *blacklist[KI_MAX_NAMES];
	unsigned n_blacklist;
	const char *load[KI_MAX_NAMES];
	unsigned n_load;
	unsigned breaks;       /* rd.break=: bit (1 << enum ki_stage) per stage */
	enum ki_fsck_mode fsck_mode;
	enum ki_fsck_repair fsck_repair;
};

void ki_cmdline_init(struct ki_cmdline *c);
int ki_cmdline_parse(struct ki_cmdline *c, const char *text, const struct ki_log *log);
int ki_root_parse(struct ki_root *r, const char *text);
const char *ki_root_kind_name(enum ki_root_kind kind);
const char *ki_stage_name(enum ki_stage s);
int ki_stage_parse(const char *name);
bool ki_cmdline_blacklisted(const struct ki_cmdline *c, const char *module);
int ki_cmdline_module_params(const struct ki_cmdline *c, const char *module, char *buf,
			     size_t size);

/* plan.c ----------------------------------------------------------------- */

struct ki_plan {
	bool loaded;
	struct kp_plan p;
	void *buf;
	bool builtins_sorted;
};

int ki_plan_load(struct ki_plan *pl, const char *path, const char *release,
		 const struct ki_log *log);
int ki_plan_adopt(struct ki_plan *pl, void *buf, size_t size, const char *release,
		  const struct ki_log *log);
void ki_plan_free(struct ki_plan *pl);
uint32_t ki_plan_n_modules(const struct ki_plan *pl);
const char *ki_plan_name(const struct ki_plan *pl, uint32_t mod);
int ki_plan_find(const struct ki_plan *pl, const char *name);
bool ki_plan_builtin(const struct ki_plan *pl, const char *name);
int ki_plan_match(const struct ki_plan *pl, const char *modalias,
		  int (*each)(void *data, uint32_t mod), void *data);

/* modload.c -------------------------------------------------------------- */

/* The system calls, so the tests can load modules without a kernel. */
struct ki_modload_ops {
	int (*open)(void *data, const char *path);  /* fd or -errno */
	int (*finit)(void *data, int fd, const char *params, int flags);
	void (*close)(void *data, int fd);
	void *data;
};

extern const struct ki_modload_ops ki_modload_sys_ops;

enum ki_mod_state { KI_MOD_IDLE, KI_MOD_WAITING, KI_MOD_LOADING, KI_MOD_LIVE, KI_MOD_FAILED };

struct ki_modload_cfg {
	const struct ki_plan *plan;
	const struct ki_cmdline *cmd; /* may be NULL */
	const struct ki_log *log;
	const struct ki_modload_ops *ops;
	unsigned workers;
};

struct ki_modload;

int ki_modload_start(struct ki_modload **out, const struct ki_modload_cfg *cfg);
void ki_modload_stop(struct ki_modload *ml);
int ki_modload_request(struct ki_modload *ml, uint32_t mod);
int ki_modload_request_name(struct ki_modload *ml, const char *name);
int ki_modload_request_alias(struct ki_modload *ml, const char *modalias);
int ki_modload_load(struct ki_modload *ml, const char *name, unsigned timeout_ms);
int ki_modload_wait(struct ki_modload *ml, uint32_t mod, unsigned timeout_ms);
int ki_modload_wait_all(struct ki_modload *ml, unsigned timeout_ms);
enum ki_mod_state ki_modload_state(struct ki_modload *ml, uint32_t mod);
int ki_modload_error(struct ki_modload *ml, uint32_t mod);
void ki_modload_counts(struct ki_modload *ml, unsigned *live, unsigned *failed,
		       unsigned *busy);

/* uevent.c --------------------------------------------------------------- */

struct ki_event {
	const char *action, *devpath, *subsystem, *devname, *devtype, *modalias;
	unsigned major, minor, partn;
	bool has_devnum;
};

int ki_uevent_open(int *fd);
int ki_uevent_parse(char *buf, size_t len, struct ki_event *ev);
int ki_uevent_recv(int fd, char *buf, size_t size, struct ki_event *ev);
int ki_coldplug_modaliases(const char *sysdir,
			   int (*each)(void *data, const char *alias, bool bound), void *data);

/* rootdev.c -------------------------------------------------------------- */

#define KI_MAX_DEVS 128

struct ki_blkdev {
	char name[32];
	char parent[32];  /* the whole disk of a partition */
	unsigned major, minor, partno;
	bool probed;
	int error;        /* why probing failed, negative errno */
	struct ki_id id;
	char partuuid[48], partlabel[144];
};

struct ki_devs {
	struct ki_blkdev dev[KI_MAX_DEVS];
	unsigned n;
};

struct ki_blkdev *ki_devs_add(struct ki_devs *d, const char *name, const char *parent,
			      unsigned major, unsigned minor, unsigned partno);
struct ki_blkdev *ki_devs_find(struct ki_devs *d, const char *name);
int ki_blkdev_probe(struct ki_blkdev *b, const char *devdir, const struct ki_log *log);
int ki_blkdev_from_sysfs(struct ki_devs *d, const char *sysblock, const char *name,
			 struct ki_blkdev **out);
bool ki_root_matches(const struct ki_root *r, const struct ki_blkdev *b);
bool ki_blkdev_skip(const char *name);

/* mount.c ---------------------------------------------------------------- */

int ki_mount_opts(const char *opts, unsigned long *flags, char *data, size_t size);
bool ki_fs_registered(const char *type);
int ki_fs_list(char *out, size_t size);
int ki_mount_api(const char *src, const char *dst, const char *type, unsigned long flags,
		 const char *data);
void ki_mount_early(const struct ki_log *log);

/* switchroot.c ----------------------------------------------------------- */

int ki_free_tree(int dirfd, dev_t dev, unsigned *count);
int ki_switch_root(const char *newroot, const char *const *inits, char *const argv[],
		   struct ki_log *log, unsigned *freed);

/* run.c: child processes (stage scripts, fsck, the rescue shell) ------- */

/* fork+exec and wait, so the tests can run "programs" without forking. */
struct ki_run_ops {
	int (*spawn)(void *data, const char *path, char *const argv[], char *const envp[]);
	int (*wait)(void *data, int pid, int *status); /* status as waitpid's */
	void *data;
};

extern const struct ki_run_ops ki_run_sys_ops;

#define KI_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
#define KI_ENV_MAX 96

/* An environment: the inherited one minus what we set, then ours. */
struct ki_env {
	char *vars[KI_ENV_MAX + 1];
	unsigned n;
	char buf[2048];
	size_t used;
};

void ki_env_init(struct ki_env *e, char *const *inherit);
int ki_env_set(struct ki_env *e, const char *name, const char *value);
int ki_run(const struct ki_run_ops *ops, const char *path, char *const argv[],
	   char *const envp[], int *status);
void ki_status_text(int status, char *buf, size_t size);

/* stages.c: image hook scripts at the stages of the boot ----------------- */

#define KI_STAGES_DIR "/etc/kindling/stages"
#define KI_STAGE_NAME_MAX 64
#define KI_STAGE_MAX 32

/* What a stage's scripts are told (NULL or "" when not known yet). */
struct ki_stage_info {
	char root[48];
	const char *rootspec, *fstype, *newroot, *kver;
};

struct ki_stage_run {
	const char *dir;          /* KI_STAGES_DIR, or a test's */
	enum ki_stage stage;
	const struct ki_stage_info *info;
	char *const *environ;     /* inherited: the kernel's variables */
	const struct ki_run_ops *ops;
	const struct ki_log *log;
};

int ki_stage_list(const char *dir, enum ki_stage s, char (*names)[KI_STAGE_NAME_MAX],
		  unsigned max, unsigned *left);
int ki_stage_env(struct ki_env *e, enum ki_stage s, const struct ki_stage_info *info,
		 char *const *inherit);
int ki_stage_run(const struct ki_stage_run *r, unsigned *failed);

/* fsck.c: checking the root before it is mounted --------------------------- */

enum ki_fsck_verdict {
	KI_FSCK_CLEAN,      /* nothing to do */
	KI_FSCK_FIXED,      /* errors corrected: mount */
	KI_FSCK_REBOOT,     /* the checker asks for a reboot */
	KI_FSCK_BROKEN,     /* errors left: rescue shell, else read-only */
	KI_FSCK_FAILED,     /* the checker itself failed: warn, mount */
};

struct ki_fsck_cmd {
	const char *tool;       /* absolute path in the image */
	const char *argv[8];    /* NULL-ended */
};

int ki_fsck_cmd(struct ki_fsck_cmd *cmd, const char *fstype, const char *dev,
		enum ki_fsck_mode mode, enum ki_fsck_repair repair);
enum ki_fsck_verdict ki_fsck_verdict(const char *tool, int status, char *meaning,
				     size_t size);
int ki_fsck_run(const struct ki_fsck_cmd *cmd, char *const envp[],
		const struct ki_run_ops *ops, const struct ki_log *log);

/* The whole boot: its state, which main.c owns, and what works on it -------- */

#define KI_NEWROOT "/sysroot"
#define KI_SHELL "/bin/sh"
#define KI_MAX_UNMATCHED 48

struct ki_ctx {
	struct ki_log log;
	struct ki_cmdline cmd;
	struct ki_plan plan;
	struct ki_modload *ml;
	struct ki_devs devs;
	int uevent_fd;
	double t0;              /* when we started */
	double wait_since;      /* when the wait for the root (re)started */
	unsigned timeout;       /* seconds to wait for the root; 0: for ever */
	struct ki_blkdev *root; /* the device found */
	char fstype[32];        /* what it was mounted as */
	char **argv;
	uint64_t seen[2048];    /* hashes of modaliases already matched */
	unsigned n_seen;
	char unmatched[KI_MAX_UNMATCHED][80];
	unsigned n_unmatched, n_unmatched_more;
	bool rescan;            /* uevents were lost: walk sysfs again */
	bool coldplug_later;    /* host-only: every device's modalias not walked yet */
	char kver[65];          /* uname's release */
	unsigned stages_run;    /* bit per enum ki_stage: its hooks ran */
	unsigned breaks_done;   /* bit per enum ki_stage: rd.break's shell ran */
	bool force_ro;          /* fsck left errors and there is no shell */
};

/* devices.c: uevents and coldplug, block devices, the wait for the root */
void ki_coldplug_start(struct ki_ctx *c);
void ki_coldplug_now(struct ki_ctx *c);
int ki_wait_root(struct ki_ctx *c);

/* stages.c */
void ki_stage_info(const struct ki_ctx *c, struct ki_stage_info *info);
void ki_run_stage(struct ki_ctx *c, enum ki_stage s);

/* fsck.c */
int ki_fsck_root(struct ki_ctx *c);

/* rootmount.c: mounting the root found, the inits in it */
int ki_mount_root(struct ki_ctx *c);
unsigned ki_root_inits(const struct ki_ctx *c, const char **inits, unsigned max);

/* rescue.c */
void ki_diagnose(struct ki_ctx *c, const char *why);
bool ki_shell(struct ki_ctx *c, enum ki_stage stage, const char *why);
void ki_rescue(struct ki_ctx *c);
void ki_reboot_after(const struct ki_log *log, unsigned seconds);

#endif
