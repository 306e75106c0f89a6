// The pure parts of tscni attach: docker's detach keys (--detach-keys parsed, matched over a byte stream), and the
// client frames of attach.sock.

import test from 'ava';
import { detachKeys, parseDetachKeys } from '../../../../lib/runner/tty/detach-keys.ts';
import { exitFrame, frame, FRAME_EXIT, FRAME_INPUT, FRAME_OUTPUT, FRAME_RESIZE, outputFrames, parseFrames, resizeFrame } from '../../../../lib/runner/tty/attach-server.ts';

const feed = (chunks: string[], spec?: string) => {
  const keys = detachKeys(spec === undefined ? undefined : parseDetachKeys(spec));
  return chunks.map((c) => {
    const { pass, detach } = keys(Buffer.from(c, 'latin1'));
    return [pass.toString('latin1'), detach];
  });
};

test('detach keys: Ctrl-P Ctrl-Q detaches (also split across reads); a lone Ctrl-P is held, then passed on', (t) => {
  t.deepEqual(feed(['ls\n', 'ab\x10\x11cd']), [['ls\n', false], ['ab', true]]);
  t.deepEqual(feed(['x\x10', '\x11']), [['x', false], ['', true]]);
  t.deepEqual(feed(['\x10', 'q']), [['', false], ['\x10q', false]]);
  t.deepEqual(feed(['\x10\x10', '\x11']), [['\x10', false], ['', true]]);
  t.deepEqual(feed(['\x11\x03']), [['\x11\x03', false]]);
});

test('--detach-keys: docker\'s spelling parsed; a sequence of any length matched across reads, partial matches passed on', (t) => {
  t.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  t.deepEqual(parseDetachKeys('ctrl-A,x,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,~'), [1, 0x78, 0, 27, 28, 29, 30, 31, 0x7e]);
  t.deepEqual(parseDetachKeys('ctrl-z'), [26]);
  for (const [spec, key] of [['ctrl-1', 'ctrl-1'], ['ctrl-a,,x', ''], ['alt-x', 'alt-x'], ['ctrl-', 'ctrl-'], ['é', 'é']]) {
    const err = t.throws(() => parseDetachKeys(spec));
    t.deepEqual([err?.message, (err as { exitCode?: number }).exitCode], [`invalid --detach-keys "${spec}": unknown key "${key}" (a printable character, or ctrl- with a-z, @, [, \\, ], ^ or _)`, 2], spec);
  }
  t.is(t.throws(() => parseDetachKeys(''))?.message, 'invalid --detach-keys "": give one or more keys, e.g. ctrl-p,ctrl-q');
  // a,a,b: "aab" typed as "aaab" still detaches (the first a passed on), "aax" passes everything on
  t.deepEqual(feed(['a', 'a', 'a', 'b'], 'a,a,b'), [['', false], ['', false], ['a', false], ['', true]]);
  t.deepEqual(feed(['aax', 'zaab!'], 'a,a,b'), [['aax', false], ['z', true]]);
  t.deepEqual(feed(['\x01', 'd'], 'ctrl-a,d'), [['', false], ['', true]]);
  t.deepEqual(feed(['\x10\x11'], 'ctrl-a,d'), [['\x10\x11', false]], 'the default keys are plain input once others are chosen');
  t.deepEqual(feed(['q'], 'q'), [['', true]]);
});

test('attach frames: input and resize, split anywhere, parsed back whole', (t) => {
  const bytes = Buffer.concat([frame(FRAME_INPUT, Buffer.from('echo hi\n')), resizeFrame(40, 120)]);
  t.deepEqual([...bytes.subarray(11)], [FRAME_RESIZE, 0, 4, 0, 40, 0, 120]);
  const a = parseFrames(bytes.subarray(0, 5));
  t.deepEqual([a.frames, [...a.rest]], [[], [...bytes.subarray(0, 5)]]);
  const b = parseFrames(Buffer.concat([a.rest, bytes.subarray(5)]));
  t.deepEqual(b.frames.map((f) => [f.type, [...f.payload]]), [[FRAME_INPUT, [...Buffer.from('echo hi\n')]], [FRAME_RESIZE, [0, 40, 0, 120]]]);
  t.is(b.rest.length, 0);
});

test('attach frames from the monitor: output cut at 0xffff bytes, the exit code last (negative codes too)', (t) => {
  const big = Buffer.alloc(0x10000 + 5, 0x61);
  const { frames, rest } = parseFrames(Buffer.concat([outputFrames(big), outputFrames(Buffer.alloc(0)), exitFrame(137), exitFrame(-1)]));
  t.deepEqual(frames.map((f) => [f.type, f.payload.length]), [[FRAME_OUTPUT, 0xffff], [FRAME_OUTPUT, 6], [FRAME_EXIT, 4], [FRAME_EXIT, 4]]);
  t.true(Buffer.concat(frames.slice(0, 2).map((f) => f.payload)).equals(big));
  t.deepEqual([frames[2]!.payload.readInt32BE(0), frames[3]!.payload.readInt32BE(0), rest.length], [137, -1, 0]);
});
