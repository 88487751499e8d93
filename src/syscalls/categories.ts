// System-call categories organised by operating-system primitive, the alphabet of the KS bigram classifier:
// Bushouse ("Characterization of System Calls", Center for Cyber Defenders) bins calls "into 30 categories organized by operating
// system primitive" and builds bigram models over the categories. Bushouse names only the five classic groups
// (process control, file management, device management, information maintenance, communication); the thirty
// categories below refine those groups by primitive. Every name of both ABI tables (x86_64.ts, i386.ts) is listed
// in exactly one category; "other" holds only the table entries that never had an implementation in Linux.
// docs/syscall-categories.md is generated from this table (categoriesMarkdown.ts) and tested to stay in sync.

import { ABI_SYSCALL_ALIAS_LIST, type SyscallAlias, SYSCALL_ALIAS_LIST } from "./aliases.js";
import type { Vocabulary } from "./vocabulary.js";

export type SyscallCategory =
  | "file_open_close"
  | "file_read"
  | "file_write"
  | "file_seek_sync"
  | "file_metadata"
  | "directories_links"
  | "permissions_ownership"
  | "memory_mapping"
  | "memory_management_other"
  | "process_lifecycle"
  | "program_execution"
  | "process_attributes"
  | "identity_credentials"
  | "scheduling"
  | "signals"
  | "pipes_fds"
  | "ipc"
  | "socket_setup"
  | "socket_send_receive"
  | "polling_multiplexing"
  | "event_fds"
  | "futex_sync"
  | "io_async"
  | "time_clocks"
  | "timers_sleep"
  | "system_information"
  | "mount_admin"
  | "modules_kernel"
  | "tracing_debug"
  | "security_isolation"
  | "other";

export interface CategoryInfo {
  readonly name: SyscallCategory;
  readonly description: string;
}

/** The categories in index order (categoryIndex); "other" is last. */
export const CATEGORIES: readonly CategoryInfo[] = [
  { name: "file_open_close", description: "open and close files and file handles" },
  { name: "file_read", description: "read file data through a descriptor" },
  {
    name: "file_write",
    description: "write file data through a descriptor, or copy it between descriptors inside the kernel",
  },
  { name: "file_seek_sync", description: "reposition, resize, preallocate, advise on and flush file data" },
  {
    name: "file_metadata",
    description: "file status, access checks, timestamps, symlink targets and xattrs",
  },
  {
    name: "directories_links",
    description: "create, list, link, rename and remove directory entries; the working directory",
  },
  { name: "permissions_ownership", description: "file mode bits, owners and the file-creation mask" },
  { name: "memory_mapping", description: "map, unmap, remap and protect address-space regions" },
  {
    name: "memory_management_other",
    description: "heap, paging advice, locking, NUMA policy and page faults",
  },
  { name: "process_lifecycle", description: "create processes and threads, exit, and wait for children" },
  { name: "program_execution", description: "load and execute a program image" },
  {
    name: "process_attributes",
    description: "process and thread ids, groups, sessions, per-process state, resource limits and usage",
  },
  { name: "identity_credentials", description: "user and group ids, supplementary groups and capabilities" },
  { name: "scheduling", description: "CPU scheduling policy, priority, affinity and I/O priority" },
  { name: "signals", description: "send, handle, mask and wait for signals" },
  {
    name: "pipes_fds",
    description: "pipes, descriptor duplication and descriptor/device control (fcntl, ioctl)",
  },
  { name: "ipc", description: "System V semaphores, shared memory and message queues; POSIX message queues" },
  { name: "socket_setup", description: "create, bind, connect, accept, configure and shut down sockets" },
  { name: "socket_send_receive", description: "send and receive data on sockets" },
  {
    name: "polling_multiplexing",
    description: "wait for readiness on many descriptors (poll, select, epoll)",
  },
  {
    name: "event_fds",
    description: "descriptors that deliver events: eventfd, timerfd, signalfd, inotify, fanotify",
  },
  {
    name: "futex_sync",
    description: "futexes, robust lists and memory barriers for user-space synchronisation",
  },
  { name: "io_async", description: "asynchronous I/O: Linux AIO and io_uring" },
  { name: "time_clocks", description: "read, set and adjust clocks and the time of day" },
  { name: "timers_sleep", description: "sleep, alarms, interval timers and POSIX timers" },
  { name: "system_information", description: "system identity, information, logs and randomness" },
  {
    name: "mount_admin",
    description: "mounts and the mount API, swap, quotas, accounting and terminal hangup",
  },
  { name: "modules_kernel", description: "kernel modules, kexec, reboot and raw I/O-port access" },
  { name: "tracing_debug", description: "tracing and inspecting other processes, performance events" },
  {
    name: "security_isolation",
    description: "keyrings, seccomp, Landlock, BPF, LSM attributes, namespaces and root changes",
  },
  { name: "other", description: "table entries never implemented in Linux, and names no category knows" },
];

/**
 * The syscall names of each category. Names are kernel table names; a few calls newer than the tables (the
 * strace 7.x names of 467-471) are listed too, so that a trace naming them is still categorised.
 */
export const CATEGORY_MEMBERS: Readonly<Record<SyscallCategory, readonly string[]>> = {
  file_open_close: [
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "name_to_handle_at",
    "open_by_handle_at",
  ],
  file_read: ["read", "pread64", "readv", "preadv", "preadv2", "readahead"],
  file_write: [
    "write",
    "pwrite64",
    "writev",
    "pwritev",
    "pwritev2",
    "sendfile",
    "sendfile64",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
  ],
  file_seek_sync: [
    "lseek",
    "_llseek",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "fadvise64",
    "fadvise64_64",
    "truncate",
    "ftruncate",
    "truncate64",
    "ftruncate64",
    "fallocate",
    "bdflush",
  ],
  file_metadata: [
    "stat",
    "fstat",
    "lstat",
    "oldstat",
    "oldfstat",
    "oldlstat",
    "stat64",
    "lstat64",
    "fstat64",
    "newfstatat",
    "fstatat64",
    "statx",
    "statfs",
    "fstatfs",
    "statfs64",
    "fstatfs64",
    "ustat",
    "access",
    "faccessat",
    "faccessat2",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
    "utimensat_time64",
    "readlink",
    "readlinkat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "file_getattr",
    "file_setattr",
  ],
  directories_links: [
    "mkdir",
    "mkdirat",
    "rmdir",
    "chdir",
    "fchdir",
    "getcwd",
    "getdents",
    "getdents64",
    "readdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mknod",
    "mknodat",
  ],
  permissions_ownership: [
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "chown32",
    "fchown32",
    "lchown32",
    "umask",
  ],
  memory_mapping: [
    "mmap",
    "mmap2",
    "munmap",
    "mremap",
    "mprotect",
    "pkey_mprotect",
    "pkey_alloc",
    "pkey_free",
    "remap_file_pages",
    "msync",
    "mseal",
    "map_shadow_stack",
    "memfd_create",
    "memfd_secret",
  ],
  memory_management_other: [
    "brk",
    "madvise",
    "process_madvise",
    "mincore",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mbind",
    "set_mempolicy",
    "get_mempolicy",
    "set_mempolicy_home_node",
    "migrate_pages",
    "move_pages",
    "userfaultfd",
    "process_mrelease",
    "cachestat",
  ],
  process_lifecycle: [
    "fork",
    "vfork",
    "clone",
    "clone3",
    "exit",
    "exit_group",
    "wait4",
    "waitpid",
    "waitid",
    "pidfd_open",
  ],
  program_execution: ["execve", "execveat", "uselib"],
  process_attributes: [
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "setpgid",
    "getpgrp",
    "setsid",
    "getsid",
    "prctl",
    "arch_prctl",
    "personality",
    "set_thread_area",
    "get_thread_area",
    "set_tid_address",
    "modify_ldt",
    "vm86",
    "vm86old",
    "rseq",
    "getrlimit",
    "setrlimit",
    "ugetrlimit",
    "prlimit64",
    "getrusage",
    "times",
  ],
  identity_credentials: [
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "getresuid",
    "setresgid",
    "getresgid",
    "getgroups",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "getuid32",
    "geteuid32",
    "getgid32",
    "getegid32",
    "setuid32",
    "setgid32",
    "setreuid32",
    "setregid32",
    "setresuid32",
    "getresuid32",
    "setresgid32",
    "getresgid32",
    "getgroups32",
    "setgroups32",
    "setfsuid32",
    "setfsgid32",
    "capget",
    "capset",
  ],
  scheduling: [
    "sched_setparam",
    "sched_getparam",
    "sched_setscheduler",
    "sched_getscheduler",
    "sched_yield",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_getaffinity",
    "sched_setattr",
    "sched_getattr",
    "nice",
    "getpriority",
    "setpriority",
    "ioprio_set",
    "ioprio_get",
    "getcpu",
    "rseq_slice_yield",
  ],
  signals: [
    "kill",
    "tkill",
    "tgkill",
    "signal",
    "sigaction",
    "rt_sigaction",
    "sigprocmask",
    "rt_sigprocmask",
    "sigpending",
    "rt_sigpending",
    "sigsuspend",
    "rt_sigsuspend",
    "sigreturn",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "sgetmask",
    "ssetmask",
    "pause",
    "pidfd_send_signal",
    "restart_syscall",
  ],
  pipes_fds: ["pipe", "pipe2", "dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "flock", "pidfd_getfd"],
  ipc: [
    "ipc",
    "semget",
    "semop",
    "semctl",
    "semtimedop",
    "semtimedop_time64",
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_notify",
    "mq_getsetattr",
  ],
  // socketcall (i386) multiplexes every socket operation through its first argument, so the call alone does not
  // say which; it is filed with the set-up calls by choice, as `ipc` is filed with the IPC calls it multiplexes.
  socket_setup: [
    "socketcall",
    "socket",
    "socketpair",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "shutdown",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
  ],
  socket_send_receive: ["sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64"],
  polling_multiplexing: [
    "poll",
    "ppoll",
    "ppoll_time64",
    "select",
    "_newselect",
    "pselect6",
    "pselect6_time64",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl_old",
    "epoll_wait_old",
  ],
  event_fds: [
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_settime64",
    "timerfd_gettime",
    "timerfd_gettime64",
    "signalfd",
    "signalfd4",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "fanotify_init",
    "fanotify_mark",
  ],
  futex_sync: [
    "futex",
    "futex_time64",
    "futex_waitv",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "set_robust_list",
    "get_robust_list",
    "membarrier",
  ],
  io_async: [
    "io_setup",
    "io_destroy",
    "io_getevents",
    "io_submit",
    "io_cancel",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
  ],
  time_clocks: [
    "time",
    "stime",
    "gettimeofday",
    "settimeofday",
    "clock_gettime",
    "clock_gettime64",
    "clock_settime",
    "clock_settime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_adjtime",
    "clock_adjtime64",
    "adjtimex",
  ],
  timers_sleep: [
    "nanosleep",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "alarm",
    "getitimer",
    "setitimer",
    "timer_create",
    "timer_settime",
    "timer_settime64",
    "timer_gettime",
    "timer_gettime64",
    "timer_getoverrun",
    "timer_delete",
  ],
  system_information: [
    "uname",
    "olduname",
    "oldolduname",
    "sysinfo",
    "sysfs",
    "syslog",
    "getrandom",
    "_sysctl",
    "sethostname",
    "setdomainname",
  ],
  mount_admin: [
    "mount",
    "umount",
    "umount2",
    "open_tree",
    "open_tree_attr",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "statmount",
    "listmount",
    "swapon",
    "swapoff",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "acct",
    "vhangup",
  ],
  modules_kernel: [
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "query_module",
    "get_kernel_syms",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "iopl",
    "ioperm",
  ],
  tracing_debug: [
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "perf_event_open",
    "lookup_dcookie",
    "uretprobe",
  ],
  security_isolation: [
    "add_key",
    "request_key",
    "keyctl",
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "bpf",
    "lsm_get_self_attr",
    "lsm_set_self_attr",
    "lsm_list_modules",
    "unshare",
    "setns",
    "chroot",
    "pivot_root",
    "listns",
  ],
  // Reserved numbers whose call Linux never implemented (historic Unix calls, out-of-tree projects, STREAMS).
  other: [
    "break",
    "stty",
    "gtty",
    "ftime",
    "prof",
    "lock",
    "mpx",
    "ulimit",
    "profil",
    "idle",
    "afs_syscall",
    "getpmsg",
    "putpmsg",
    "tuxcall",
    "security",
    "vserver",
  ],
};

/** The number of categories: category indices are 0 .. CATEGORY_COUNT - 1. */
export const CATEGORY_COUNT = CATEGORIES.length;

const OTHER_INDEX = CATEGORY_COUNT - 1;

/** Every tracer alias, with the ABI it is restricted to (undefined: all ABIs). */
export const ALL_ALIASES: readonly (SyscallAlias & { readonly abi?: string })[] = [
  ...SYSCALL_ALIAS_LIST,
  ...Object.entries(ABI_SYSCALL_ALIAS_LIST).flatMap(([abi, list]) => list.map((a) => ({ ...a, abi }))),
];

// Kernel names and tracer aliases -> category index. An alias that is a kernel name elsewhere (x86_64 "umount")
// keeps the category of that kernel name; both mean mount_admin anyway.
const INDEX_BY_NAME: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  CATEGORIES.forEach((c, i) => {
    for (const name of CATEGORY_MEMBERS[c.name]) map.set(name, i);
  });
  for (const a of ALL_ALIASES) {
    const target = map.get(a.name);
    if (!map.has(a.alias) && target !== undefined) map.set(a.alias, target);
  }
  return map;
})();

/**
 * The dense index (0 .. CATEGORY_COUNT - 1) of a syscall's category. Tracer aliases (aliases.ts) count as their
 * kernel name; a name no category lists (unknown `syscall_<n>`, opaque `#<n>` tokens) gets the index of "other".
 */
export function categoryIndex(name: string): number {
  return INDEX_BY_NAME.get(name) ?? OTHER_INDEX;
}

/** The category of a syscall name (see categoryIndex). */
export function categoryOf(name: string): SyscallCategory {
  return CATEGORIES[categoryIndex(name)]!.name;
}

/**
 * A lookup from the ids of a vocabulary to category indices, for typed-array hot loops. It covers the ids the
 * vocabulary holds now: rebuild it when the vocabulary has grown.
 */
export function categoryLookup(vocab: Vocabulary): Uint8Array {
  const lookup = new Uint8Array(vocab.size);
  for (let id = 0; id < vocab.size; id++) lookup[id] = categoryIndex(vocab.token(id));
  return lookup;
}
