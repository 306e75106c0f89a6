// The pure parts of tscni attach: docker's detach keys over a byte stream, and the client frames of attach.sock.

import test from 'ava';
import { detachKeys } from '../../../../lib/runner/tty/attach.ts';
import { frame, FRAME_INPUT, FRAME_RESIZE, parseFrames, resizeFrame } from '../../../../lib/runner/tty/attach-server.ts';

const feed = (chunks: string[]) => {
  const keys = detachKeys();
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

test('attach frames: input and resize, split anywhere, parsed back whole', (t) => {
  const bytes = Buffer.concat([frame(FRAME_INPUT, Buffer.from('echo hi\n')), resizeFrame(40, 120)]);
  t.deepEqual([...bytes.subarray(11)], [FRAME_RESIZE, 0, 4, 0, 40, 0, 120]);
  const a = parseFrames(bytes.subarray(0, 5));
  t.deepEqual([a.frames, [...a.rest]], [[], [...bytes.subarray(0, 5)]]);
  const b = parseFrames(Buffer.concat([a.rest, bytes.subarray(5)]));
  t.deepEqual(b.frames.map((f) => [f.type, [...f.payload]]), [[FRAME_INPUT, [...Buffer.from('echo hi\n')]], [FRAME_RESIZE, [0, 40, 0, 120]]]);
  t.is(b.rest.length, 0);
});
