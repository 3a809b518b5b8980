/* tracejail-escape
 * id: abi-elf32
 * class: ABI confusion
 * title: exec a hand-made 32-bit static ELF that reads the secret with i386 syscalls
 * covered: standard
 * needs: secret
 *
 * Technique: instead of switching ABI inside a 64-bit program, run a whole 32-bit program: every
 * call it makes uses the i386 numbers (open is 5, read 3, write 4), so a filter or tracer that
 * decodes x86_64 numbers only sees nonsense. The program is built here as a 170-byte ELF (no
 * compiler needed), written to TJ_SCRATCH and run with the secret's path as argv[1].
 * Defence: the seccomp filter checks the architecture of every call; all i386 calls stop for the
 * tracer, which denies them (foreign_abi, ENOSYS), so the program's open fails and it exits with
 * 38. Kernels without IA-32 emulation refuse the exec itself (ENOEXEC).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOAD_ADDR 0x08048000u

/* i386 code (assembled with `as --32`):
 *   mov 8(%esp),%ebx; test %ebx,%ebx; jz nopath      ebx = argv[1]
 *   xor %ecx,%ecx; mov $5,%eax; int $0x80            open(argv[1], O_RDONLY)
 *   test %eax,%eax; js fail; mov %eax,%ebx
 *   sub $256,%esp; mov %esp,%ecx; mov $256,%edx
 *   mov $3,%eax; int $0x80                           read(fd, esp, 256)
 *   test %eax,%eax; js fail; mov %eax,%edx
 *   mov $1,%ebx; mov $4,%eax; int $0x80              write(1, esp, n)
 *   xor %ebx,%ebx; mov $1,%eax; int $0x80            exit(0)
 * nopath: mov $-22,%eax
 * fail:   mov %eax,%ebx; neg %ebx; mov $1,%eax; int $0x80   exit(errno) */
static const unsigned char code[] = {
    0x8b, 0x5c, 0x24, 0x08, 0x85, 0xdb, 0x74, 0x3e, 0x31, 0xc9, 0xb8, 0x05, 0x00, 0x00, 0x00,
    0xcd, 0x80, 0x85, 0xc0, 0x78, 0x36, 0x89, 0xc3, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00, 0x89,
    0xe1, 0xba, 0x00, 0x01, 0x00, 0x00, 0xb8, 0x03, 0x00, 0x00, 0x00, 0xcd, 0x80, 0x85, 0xc0,
    0x78, 0x1c, 0x89, 0xc2, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x04, 0x00, 0x00, 0x00, 0xcd,
    0x80, 0x31, 0xdb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xcd, 0x80, 0xb8, 0xea, 0xff, 0xff, 0xff,
    0x89, 0xc3, 0xf7, 0xdb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xcd, 0x80};

/* ELF header, one PT_LOAD program header mapping the whole file at LOAD_ADDR, then the code. */
static size_t build_elf(unsigned char *out) {
  Elf32_Ehdr eh = {0};
  Elf32_Phdr ph = {0};
  size_t total = sizeof eh + sizeof ph + sizeof code;
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_386;
  eh.e_version = EV_CURRENT;
  eh.e_entry = LOAD_ADDR + sizeof eh + sizeof ph;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof ph;
  eh.e_phnum = 1;
  ph.p_type = PT_LOAD;
  ph.p_offset = 0;
  ph.p_vaddr = ph.p_paddr = LOAD_ADDR;
  ph.p_filesz = ph.p_memsz = total;
  ph.p_flags = PF_R | PF_X;
  ph.p_align = 0x1000;
  memcpy(out, &eh, sizeof eh);
  memcpy(out + sizeof eh, &ph, sizeof ph);
  memcpy(out + sizeof eh + sizeof ph, code, sizeof code);
  return total;
}

int main(void) {
  const char *secret = getenv("TJ_SECRET"), *scratch = getenv("TJ_SCRATCH");
  if (!secret || !scratch) { printf("BLOCKED: TJ_SECRET or TJ_SCRATCH not set\n"); return 0; }
  char path[4096];
  snprintf(path, sizeof path, "%s/abi_elf32.bin", scratch);
  unsigned char elf[512];
  size_t len = build_elf(elf);

  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) {
    printf("write %s: open -> %s\nBLOCKED: could not write the 32-bit ELF (open -> %s)\n", path,
           strerrorname_np(errno), strerrorname_np(errno));
    return 0;
  }
  ssize_t w = write(fd, elf, len);
  close(fd);
  int cr = chmod(path, 0755);
  printf("wrote %zd-byte i386 ELF to %s; chmod 755: %s\n", w, path,
         cr == 0 ? "ok" : strerrorname_np(errno));

  int out[2], err[2];
  if (pipe(out) != 0 || pipe2(err, O_CLOEXEC) != 0) { printf("BLOCKED: pipe failed\n"); return 0; }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(out[0]);
    close(err[0]);
    dup2(out[1], 1);
    char *argv[] = {path, (char *)secret, NULL};
    execv(path, argv);
    int e = errno;
    if (write(err[1], &e, sizeof e) < 0) _exit(126);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) { printf("BLOCKED: fork -> %s\n", strerrorname_np(errno)); return 0; }
  char buf[4096];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(out[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  buf[n] = 0;
  int exec_errno = 0;
  ssize_t er = read(err[0], &exec_errno, sizeof exec_errno);
  int st = 0;
  waitpid(pid, &st, 0);
  unlink(path);

  if (er == (ssize_t)sizeof exec_errno) {
    printf("execve(i386 ELF): %s\n", strerrorname_np(exec_errno));
    if (exec_errno == ENOEXEC)
      printf("BLOCKED: exec failed with ENOEXEC (the kernel runs no 32-bit programs: no IA-32 "
             "emulation)\n");
    else
      printf("BLOCKED: exec failed (execve -> %s)\n", strerrorname_np(exec_errno));
    return 0;
  }
  printf("execve(i386 ELF): ok; output %zu bytes\n", n);
  if (WIFSIGNALED(st)) {
    printf("i386 program: killed by SIG%s\n", sigabbrev_np(WTERMSIG(st)));
    if (n > 0) { buf[strcspn(buf, "\n")] = 0; printf("ESCAPED: 32-bit program printed: %s\n", buf); }
    else printf("BLOCKED: the 32-bit program was killed by SIG%s before reading anything\n",
                sigabbrev_np(WTERMSIG(st)));
    return 0;
  }
  int code_ = WEXITSTATUS(st);
  if (code_ == 0 && n > 0) {
    buf[strcspn(buf, "\n")] = 0;
    printf("i386 program: exit 0\nESCAPED: 32-bit program read the secret: %s\n", buf);
    return 0;
  }
  /* The program exits with the errno of the call that failed. */
  printf("i386 program: exit %d (%s)\n", code_, code_ ? strerrorname_np(code_) : "no output");
  printf("BLOCKED: the 32-bit program ran but its i386 open -> %s\n",
         code_ ? strerrorname_np(code_) : "no output");
  return 0;
}
