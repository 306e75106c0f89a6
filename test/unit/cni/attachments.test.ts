// lib/cni/attachments.ts: the one strict reading of cni.dev/valid-attachments for every plugin's GC.

import test from 'ava';
import { errorOf } from '../../helpers/errors.ts';
import { validAttachments } from '../../../lib/cni/attachments.ts';

test('the list, from the spec key or libcni\'s older one; the spec key wins when both are there', (t) => {
  t.deepEqual(validAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }, { containerID: 'b', ifname: 'net1' }] }), [
    { containerId: 'a', ifname: 'eth0' }, { containerId: 'b', ifname: 'net1' },
  ]);
  t.deepEqual(validAttachments({ 'cni.dev/attachments': [{ containerID: 'c', ifname: 'eth0' }] }), [{ containerId: 'c', ifname: 'eth0' }]);
  t.deepEqual(validAttachments({ 'cni.dev/valid-attachments': [], 'cni.dev/attachments': [{ containerID: 'c', ifname: 'eth0' }] }), []);
});

test('code 7 naming the field: a missing list, a list that is not one, an entry without string containerID and ifname', (t) => {
  t.deepEqual(errorOf(() => validAttachments({})), [7, 'invalid cni.dev/attachments null: GC needs the list of valid attachments [{containerID, ifname}]']);
  t.deepEqual(errorOf(() => validAttachments({ 'cni.dev/valid-attachments': 'a' })), [7, 'invalid cni.dev/valid-attachments "a": GC needs the list of valid attachments [{containerID, ifname}]']);
  t.deepEqual(errorOf(() => validAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }, { containerID: 5, ifname: 'eth0' }] })), [
    7, 'invalid cni.dev/valid-attachments[1] {"containerID":5,"ifname":"eth0"}: must be {"containerID": string, "ifname": string}',
  ]);
  t.deepEqual(errorOf(() => validAttachments({ 'cni.dev/attachments': [null] })), [7, 'invalid cni.dev/attachments[0] null: must be {"containerID": string, "ifname": string}']);
});
