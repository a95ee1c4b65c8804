/*
 * LocalMigrate test guest: the program /init execs as PID 1.
 *
 * Output contract (parsed by the C# tests; see tests/guest/README.md):
 *   LMREADY <boot-id> pattern_mib=<N>        once, after the pattern region is filled
 *   LMTICK <counter> <uptime> <boot-id>       every 10 ms; counter 1, 2, 3, ... with no gaps
 *   LMPATTERN OK <pass>                       after every clean full verification pass (1, 2, ...)
 *   LMPATTERN CORRUPT offset=0x<hex>          a word differs (byte offset in the region)
 *   LMDISK <counter> <boot-id>                with lm.disk=DEV: every write up to <counter> is on DEV
 *
 * Lines go to /dev/console with output post-processing off, so each ends in a bare "\n".
 * Built with: gcc -static -O2 -o ticker ticker.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 10000000LL          /* 10 ms between ticks */
#define VERIFY_BUDGET_NS 4000000LL  /* at most 4 ms of each tick slot spent verifying */
#define VERIFY_CHUNK_WORDS 8192     /* 64 KiB between clock reads */
#define MAX_CORRUPT_PER_PASS 8      /* bounded report per pass; corruption is reported every pass */
#define PATTERN_XOR 0x5a17c3e9d2b4f681ULL
#define DEFAULT_PATTERN_MIB 32

static int out_fd = 1;
static int uptime_fd = -1;

static void emit(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(out_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void emitf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emitf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    emit(line, (size_t)n);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
    return ts;
}

/* First field of /proc/uptime, exactly as the kernel wrote it. */
static void read_uptime(char *dst, size_t cap)
{
    char buf[64];
    ssize_t n = -1;
    if (uptime_fd >= 0)
        n = pread(uptime_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        snprintf(dst, cap, "0.00");
        return;
    }
    buf[n] = '\0';
    size_t i = 0;
    while (i < (size_t)n && buf[i] != ' ' && buf[i] != '\n' && i + 1 < cap) {
        dst[i] = buf[i];
        i++;
    }
    dst[i] = '\0';
}

/* lm.disk=DEV (e.g. /dev/vda): the disk the writer child writes to; "" without one. */
static void cmdline_disk(char *dst, size_t cap)
{
    char buf[4096];
    dst[0] = '\0';
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (strncmp(tok, "lm.disk=", 8) == 0)
            snprintf(dst, cap, "%s", tok + 8);
    }
}

#define DISK_SLOTS 16384            /* 512-byte slots: the first 8 MiB of the disk */
#define DISK_REPORT_EVERY 10        /* one LMDISK line per 10 writes */

/*
 * The disk writer (a child, so a slow disk never delays a tick): write <counter> goes to slot counter % DISK_SLOTS as
 * "LMDISK <counter> <boot-id>\n" padded with zeros, O_DIRECT (no guest cache; no flush), every 10 ms. After a write returned it is on
 * the virtual disk; "LMDISK <counter>" on the console says so for every write up to <counter>.
 */
static void disk_writer(const char *device, uint32_t boot_id)
{
    int fd = -1;
    for (int attempt = 0; attempt < 500 && fd < 0; attempt++) {
        fd = open(device, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
            usleep(10000);
    }
    if (fd < 0) {
        emitf("LMERROR disk %s errno=%d\n", device, errno);
        _exit(1);
    }
    void *sector;
    if (posix_memalign(&sector, 4096, 512) != 0)
        _exit(1);
    uint64_t counter = 0;
    int64_t next = now_ns();
    for (;;) {
        counter++;
        memset(sector, 0, 512);
        snprintf(sector, 512, "LMDISK %llu %08x\n", (unsigned long long)counter, boot_id);
        if (pwrite(fd, sector, 512, (off_t)(counter % DISK_SLOTS) * 512) != 512) {
            emitf("LMERROR disk write %llu errno=%d\n", (unsigned long long)counter, errno);
            _exit(1);
        }
        if (counter % DISK_REPORT_EVERY == 0)
            emitf("LMDISK %llu %08x\n", (unsigned long long)counter, boot_id);
        next += TICK_NS;
        int64_t now = now_ns();
        if (next <= now)
            next += ((now - next) / TICK_NS + 1) * TICK_NS;
        struct timespec ts = to_ts(next);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}

static unsigned long cmdline_pattern_mib(void)
{
    char buf[4096];
    unsigned long mib = DEFAULT_PATTERN_MIB;
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mib;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return mib;
    buf[n] = '\0';
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (strncmp(tok, "lm.pattern_mib=", 15) == 0) {
            char *end;
            unsigned long v = strtoul(tok + 15, &end, 10);
            if (end != tok + 15 && *end == '\0')
                mib = v;
        }
    }
    return mib;
}

static uint32_t make_boot_id(void)
{
    uint32_t id = 0;
    /* GRND_INSECURE (kernel >= 5.6) never blocks on an early-boot entropy pool. */
    if (getrandom(&id, sizeof id, 0x0004 /* GRND_INSECURE */) != sizeof id &&
        getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (read(fd, &id, sizeof id) != sizeof id)
                id = 0;
            close(fd);
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    id ^= (uint32_t)ts.tv_nsec * 2654435761u;
    return id;
}

static inline uint64_t pattern_word(size_t index)
{
    return (uint64_t)index ^ PATTERN_XOR;
}

static void setup_console(void)
{
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0)
        out_fd = fd;
    struct termios t;
    if (tcgetattr(out_fd, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST; /* "\n" stays "\n" */
        tcsetattr(out_fd, TCSANOW, &t);
    }
}

int main(void)
{
    setup_console();
    uptime_fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);

    uint32_t boot_id = make_boot_id();
    unsigned long mib = cmdline_pattern_mib();
    size_t words = (size_t)mib * (1024 * 1024 / sizeof(uint64_t));
    uint64_t *region = NULL;

    if (words > 0) {
        size_t bytes = words * sizeof(uint64_t);
        region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (region == MAP_FAILED) {
            emitf("LMERROR mmap pattern_mib=%lu errno=%d\n", mib, errno);
            region = NULL;
            words = 0;
            mib = 0;
        } else {
            if (mlock(region, bytes) != 0)
                emitf("LMWARN mlock errno=%d\n", errno);
            /* Unique word everywhere: no page is zero or a duplicate of another. */
            for (size_t i = 0; i < words; i++)
                region[i] = pattern_word(i);
        }
    }
    emitf("LMREADY %08x pattern_mib=%lu\n", boot_id, mib);

    char disk[256];
    cmdline_disk(disk, sizeof disk);
    if (disk[0] != '\0' && fork() == 0)
        disk_writer(disk, boot_id);

    uint64_t counter = 0;
    uint64_t pass = 1;
    size_t verify_pos = 0;
    unsigned corrupt_this_pass = 0;
    int64_t next = now_ns();

    for (;;) {
        char up[32];
        read_uptime(up, sizeof up);
        counter++;
        emitf("LMTICK %llu %s %08x\n", (unsigned long long)counter, up, boot_id);

        /* Verify a slice, bounded in time so the next tick is on schedule. */
        int64_t budget_end = next + VERIFY_BUDGET_NS;
        while (words > 0 && now_ns() < budget_end) {
            size_t end = verify_pos + VERIFY_CHUNK_WORDS;
            if (end > words)
                end = words;
            for (size_t i = verify_pos; i < end; i++) {
                if (__builtin_expect(region[i] != pattern_word(i), 0)) {
                    if (corrupt_this_pass < MAX_CORRUPT_PER_PASS)
                        emitf("LMPATTERN CORRUPT offset=0x%zx\n", i * sizeof(uint64_t));
                    corrupt_this_pass++;
                }
            }
            verify_pos = end;
            if (verify_pos == words) {
                if (corrupt_this_pass == 0)
                    emitf("LMPATTERN OK %llu\n", (unsigned long long)pass);
                pass++;
                verify_pos = 0;
                corrupt_this_pass = 0;
            }
        }

        /* Fixed schedule; when behind, skip to the next future slot (no burst). */
        next += TICK_NS;
        int64_t now = now_ns();
        if (next <= now)
            next += ((now - next) / TICK_NS + 1) * TICK_NS;
        struct timespec ts = to_ts(next);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}
