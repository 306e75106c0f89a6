# Runs a command on a fresh pty (its controlling terminal, ROWSxCOLS), like a user at a terminal: waits for
# text in the output, types text, and reports everything the terminal showed and the command's exit code.
# Usage: python3 pty-drive.py ROWS COLS STEPS_JSON -- CMD ARGS...
#   STEPS_JSON: [["wait", "text"], ["send", "text"], ["resize", "ROWS COLS"], ["sleep", "SECONDS"], ...], done in
#   order (30 s for everything); a resize is what a terminal window does: TIOCSWINSZ, and the kernel's SIGWINCH
# Prints one JSON object: {"output": "...", "exit": N, "timedOut": bool}

import fcntl, json, os, pty, select, struct, sys, termios, time

rows, cols, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
argv = sys.argv[sys.argv.index('--') + 1:]

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)

out = b''
seen = 0  # output already matched by earlier waits
deadline = time.time() + 30
timed_out = False
step = 0
while True:
    while step < len(steps):
        kind, text = steps[step]
        if kind == 'send':
            os.write(fd, text.encode())
            step += 1
        elif kind == 'resize':
            r, c = map(int, text.split())
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
            step += 1
        elif kind == 'sleep':
            time.sleep(float(text))
            step += 1
        elif kind == 'wait':
            i = out.find(text.encode(), seen)
            if i < 0:
                break
            seen = i + len(text.encode())
            step += 1
    if time.time() > deadline:
        timed_out = True
        os.kill(pid, 9)
        break
    r, _, _ = select.select([fd], [], [], 0.1)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({'output': out.decode('utf-8', 'replace'), 'exit': code, 'timedOut': timed_out}))
