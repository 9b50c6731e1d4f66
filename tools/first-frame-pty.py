#!/usr/bin/env python3
"""Time to the console's first frame, whole process: spawn `BIN --db DB` in a 160x48
pseudo-terminal and read until the Standards and Controls pane titles appear. Five runs of each
binary, alternating; prints each run and the median in ms (BENCHMARKS.md).

usage: tools/first-frame-pty.py OLD_BIN NEW_BIN DB"""
import fcntl, os, pty, select, signal, struct, sys, termios, time


def first_frame(binary, db):
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'xterm-256color'
        os.execv(binary, [binary, '--db', db])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 48, 160, 0, 0))
    seen = b''
    while b'Standards' not in seen or b'Controls' not in seen:
        ready, _, _ = select.select([fd], [], [], 10)
        if not ready:
            raise SystemExit(f'{binary}: no first frame within 10 s')
        try:
            seen += os.read(fd, 65536)
        except OSError:
            raise SystemExit(f'{binary}: exited before its first frame')
    elapsed = time.perf_counter() - t0
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    return elapsed * 1000


def main():
    old, new, db = sys.argv[1:4]
    runs = {'old': [], 'new': []}
    for _ in range(5):
        for name, binary in (('old', old), ('new', new)):
            runs[name].append(first_frame(binary, db))
    for name, ms in runs.items():
        print(name, ' / '.join(f'{x:.1f}' for x in ms), 'ms, median', f'{sorted(ms)[2]:.1f}', 'ms')


main()
