// LD_PRELOAD shim for the pjdfstest reference run in tests/mount_tools.rs:
// makes a local file system refuse (EPERM) exactly what CMIS cannot express
// (symlinks, fifos, device nodes, unix sockets, chown to another user or
// group), so the pjdfstest cases that still pass there are the ones a CMIS
// mount must pass too.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
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
