// LD_PRELOAD shim for the pjdfstest reference run in tests/mount_tools.rs:
// makes a local file system refuse (EPERM) exactly what CMIS cannot express
// (symlinks, fifos, device nodes, unix sockets, chown to another user or
// group, and a hard link under another name: multi-filing files one object,
// with its one cmis:name, in several folders), so the pjdfstest cases that still pass there are the ones a CMIS
// mount must pass too.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
static int deny(void) { errno = EPERM; return -1; }
int symlink(const char *a, const char *b) { (void)a; (void)b; return deny(); }
int symlinkat(const char *a, int d, const char *b) { (void)a; (void)d; (void)b; return deny(); }
int mkfifo(const char *p, mode_t m) { (void)p; (void)m; return deny(); }
int mkfifoat(int d, const char *p, mode_t m) { (void)d; (void)p; (void)m; return deny(); }
int mknod(const char *p, mode_t m, dev_t dev) {
    if (S_ISREG(m) || (m & S_IFMT) == 0) { int (*f)(const char*, mode_t, dev_t) = dlsym(RTLD_NEXT, "mknod"); return f(p, m, dev); }
    return deny();
}
int mknodat(int d, const char *p, mode_t m, dev_t dev) {
    if (S_ISREG(m) || (m & S_IFMT) == 0) { int (*f)(int, const char*, mode_t, dev_t) = dlsym(RTLD_NEXT, "mknodat"); return f(d, p, m, dev); }
    return deny();
}
int bind(int s, const struct sockaddr *a, socklen_t l) {
    if (a && a->sa_family == AF_UNIX) return deny();
    int (*f)(int, const struct sockaddr*, socklen_t) = dlsym(RTLD_NEXT, "bind"); return f(s, a, l);
}
static int other(uid_t u, gid_t g) {
    return (u != (uid_t)-1 && u != geteuid()) || (g != (gid_t)-1 && g != getegid());
}
int chown(const char *p, uid_t u, gid_t g) { if (other(u, g)) return deny(); int (*f)(const char*, uid_t, gid_t) = dlsym(RTLD_NEXT, "chown"); return f(p, u, g); }
int lchown(const char *p, uid_t u, gid_t g) { if (other(u, g)) return deny(); int (*f)(const char*, uid_t, gid_t) = dlsym(RTLD_NEXT, "lchown"); return f(p, u, g); }
int fchown(int fd, uid_t u, gid_t g) { if (other(u, g)) return deny(); int (*f)(int, uid_t, gid_t) = dlsym(RTLD_NEXT, "fchown"); return f(fd, u, g); }
int fchownat(int d, const char *p, uid_t u, gid_t g, int fl) { if (other(u, g)) return deny(); int (*f)(int, const char*, uid_t, gid_t, int) = dlsym(RTLD_NEXT, "fchownat"); return f(d, p, u, g, fl); }
static const char *base(const char *p) {
    if (!p) return "";
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}
// A link under another name that would otherwise succeed: the source
// exists, the target's folder exists and the target name is free and not
// too long. Other cases go through, so the file system gives its own error.
static int renaming_link(int da, const char *a, int db, const char *b) {
    // The system calls first: they answer EFAULT for bad pointers (pjdfstest
    // passes some) where reading the strings here would crash.
    struct stat st;
    if (!a || !b) return 0;
    if (fstatat(da, a, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) return 0;
    if (fstatat(db, b, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) return 0;
    if (strcmp(base(a), base(b)) == 0) return 0;
    if (strlen(base(b)) > 255 || strlen(b) >= 4096) return 0;
    char dir[4096];
    const char *slash = strrchr(b, '/');
    if (slash) {
        size_t n = (size_t)(slash - b);
        if (n == 0) n = 1;
        memcpy(dir, b, n);
        dir[n] = 0;
    } else {
        strcpy(dir, ".");
    }
    if (fstatat(db, dir, &st, 0) != 0 || !S_ISDIR(st.st_mode)) return 0;
    return 1;
}
int link(const char *a, const char *b) {
    if (renaming_link(AT_FDCWD, a, AT_FDCWD, b)) return deny();
    int (*f)(const char*, const char*) = dlsym(RTLD_NEXT, "link"); return f(a, b);
}
int linkat(int da, const char *a, int db, const char *b, int fl) {
    if (renaming_link(da, a, db, b)) return deny();
    int (*f)(int, const char*, int, const char*, int) = dlsym(RTLD_NEXT, "linkat"); return f(da, a, db, b, fl);
}
